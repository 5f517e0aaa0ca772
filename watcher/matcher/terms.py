"""Compiled terms (words and patterns), their keys written as strings, and which terms could lie inside an exclusion,
found without comparing every term with every exclusion.

``check-config`` warns about an exclusion that contains none of its topic's terms (it can never remove a hit). With
hundreds of terms and exclusions per topic the pairwise test was quadratic and cost most of the time to load the
topics; here the terms' parts are kept as strings in a set, so most exclusions are settled by looking up runs of
their own words, and the others look only at the parts whose first word could match one of theirs (ranges of the
sorted parts), which alone are tested in full.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator
from typing import NamedTuple


class Word(NamedTuple):
    """One word of a compiled term.

    ``text`` is folded; ``prefix`` makes it match words starting with it;
    ``caps`` is how many leading letters must be capitals in the text (0: any case).

    A named tuple, not a dataclass: thousands are made when the topics are compiled, and a tuple is made, hashed and
    compared in C. (Checking topics.toml compares terms by their keys written as strings, ``key_text``, made for a
    whole list at once without making its words.)
    """

    text: str
    prefix: bool = False
    caps: int = 0


class Pattern(NamedTuple):
    """A compiled term: the text as written and its words (a named tuple, made as cheaply as ``Word``)."""

    source: str
    words: tuple[Word, ...]
    #: for ``a + b`` terms, the words of each part (``words`` is then the first part)
    parts: tuple[tuple[Word, ...], ...] = ()

    @property
    def key(self) -> tuple:
        """What two terms that match the same texts share: their words (of each part, for ``a + b`` terms)."""
        return self.parts or self.words


def key_text(pattern: Pattern, caps: bool = True) -> str:
    """``pattern.key`` written as one string, which two patterns share exactly when their keys are equal: the words
    separated by spaces, each its folded text, then ``^n`` when it needs ``n`` capitals and ``*`` when it is a
    prefix; the parts of an ``a + b`` term joined by ``+`` (``"per person+crossing*"``, ``"sis^3"``). A word's
    text never holds a space, ``+``, ``^`` or ``*`` (it is letters and digits, folded). With ``caps=False``, the
    loose key: capitals left out, as ``could_hit_inside`` compares words."""
    word = _word_text if caps else _loose_word_text
    return "+".join(" ".join(map(word, part)) for part in pattern.parts or (pattern.words,))


def _word_text(word: Word) -> str:
    return f"{word.text}{f'^{word.caps}' if word.caps else ''}{'*' if word.prefix else ''}"


def _loose_word_text(word: Word) -> str:
    return f"{word.text}*" if word.prefix else word.text


def could_hit_inside(term: Pattern, exclusion: Pattern) -> bool:
    """True when some text matching ``term`` could lie inside a match of ``exclusion``."""
    return any(words_fit_inside(part, exclusion.words) for part in term.parts or (term.words,))


def words_fit_inside(term: tuple[Word, ...], exclusion: tuple[Word, ...]) -> bool:
    """True when some words matching ``term`` could be a run of words matching ``exclusion``."""
    size = len(term)
    if size == 1:
        return any(_compatible(term[0], word) for word in exclusion)
    for offset in range(len(exclusion) - size + 1):
        for t, e in zip(term, exclusion[offset : offset + size]):
            if not _compatible(t, e):
                break
        else:
            return True
    return False


def _compatible(term: Word, excl: Word) -> bool:
    if term.prefix and excl.prefix:
        return excl.text.startswith(term.text) or term.text.startswith(excl.text)
    if term.prefix:
        return excl.text.startswith(term.text)
    if excl.prefix:
        return term.text.startswith(excl.text)
    return term.text == excl.text


class TermParts:
    """Every part of every term (an ``a + b`` term has several), each written as its loose key text (``key_text``
    with ``caps=False``: its words separated by spaces, a prefix ending in '*'), ready to tell whether some part
    could lie inside an exclusion.

    Most exclusions hold a part written exactly as a run of their own words, and most others a one-word prefix part
    that one of their words starts with (``smuggl*`` in "smuggling of cigarettes"): both are found with lookups in
    the set of parts. The few left, and exclusions with a prefix, look up the parts whose first word could match
    one of their words as ranges of the parts in sorted order (sorted the first time one needs it); only those are
    tested in full.
    """

    def __init__(self, parts: Iterable[str]):
        self.whole = set(parts)
        self._sorted: list[str] | None = None

    def any_inside(self, exclusion: str) -> bool:
        """True when some part could lie inside a match of ``exclusion`` (a loose key text, as the parts are)."""
        words = exclusion.split(" ")
        if not self.whole.isdisjoint(words):
            return True  # a one-word part that is one of its words
        size = len(words)
        for length in range(2, size + 1):
            for start in range(size - length + 1):
                if " ".join(words[start : start + length]) in self.whole:
                    return True  # a run of its words is a part as written
        for word in words:
            text = word.removesuffix("*")
            for n in range(1, len(text) + 1):
                if f"{text[:n]}*" in self.whole:
                    return True  # a one-word prefix part that this word starts with
        if self._sorted is None:
            self._sorted = sorted(self.whole)
        found = words_of(exclusion)
        return any(words_fit_inside(words_of(part), found) for word in found for part in self._first_word_fits(word))

    def _first_word_fits(self, word: Word) -> Iterator[str]:
        """The parts whose first word is compatible with ``word`` (as ``_compatible`` says), found as ranges of the
        sorted parts: those that start with ``word`` as a whole first word, those whose first word is a prefix that
        ``word`` starts with and, when ``word`` is a prefix itself, every part that starts with its text."""
        text = word.text
        starts = [f"{text} ", *(f"{text[:n]}* " for n in range(1, len(text) + 1))]
        if word.prefix:
            starts.append(text)
        ordered = self._sorted or []
        for start in starts:
            for at in range(bisect_left(ordered, start), len(ordered)):
                if not ordered[at].startswith(start):
                    break
                yield ordered[at]


def words_of(loose: str) -> tuple[Word, ...]:
    """The words of a loose key text (see ``TermParts``); they do not say how many capitals they need."""
    return tuple(Word(word[:-1], True) if word.endswith("*") else Word(word) for word in loose.split(" "))
