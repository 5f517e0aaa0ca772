"""Compiled terms (words and patterns), and which terms could lie inside an exclusion, found without comparing every
term with every exclusion.

``check-config`` warns about an exclusion that contains none of its topic's terms (it can never remove a hit). With
hundreds of terms and exclusions per topic the pairwise test was quadratic and cost most of the time to load the
topics; here the terms' first words are indexed, so each exclusion looks only at terms whose first word could match
one of its own words, and only those are tested in full.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple


class Word(NamedTuple):
    """One word of a compiled term.

    ``text`` is folded; ``prefix`` makes it match words starting with it;
    ``caps`` is how many leading letters must be capitals in the text (0: any case).

    A named tuple, not a dataclass: thousands are made when topics.toml is first loaded, and the checks of the file
    hash thousands of tuples of them (``Pattern.key``), which a tuple does in C.
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
    """Every part of every term (an ``a + b`` term has several), indexed by its first word."""

    def __init__(self, terms: Iterable[Pattern]):
        self.exact: dict[str, list[tuple[Word, ...]]] = {}
        self.prefix: dict[str, list[tuple[Word, ...]]] = {}
        for term in terms:
            for part in term.parts or (term.words,):
                if part:
                    first = part[0]
                    (self.prefix if first.prefix else self.exact).setdefault(first.text, []).append(part)
        self._exact_sorted = sorted(self.exact)
        self._prefix_sorted = sorted(self.prefix)
        self._prefix_lengths = sorted({len(text) for text in self.prefix})

    def _starting_with(self, keys: Sequence[str], table: dict, text: str) -> Iterator[tuple[Word, ...]]:
        """Parts whose first word's text starts with ``text`` but is not ``text`` (a sorted range of the keys)."""
        for i in range(bisect_left(keys, text), len(keys)):
            if not keys[i].startswith(text):
                break
            if keys[i] != text:
                yield from table[keys[i]]

    def candidates(self, word: Word) -> Iterator[tuple[Word, ...]]:
        """Parts whose first word is compatible with ``word`` of an exclusion (same rule as ``_compatible``), found
        as needed: the parts with that very word first, then those whose first word is a prefix ``word`` starts
        with (shortest first) and, when ``word`` is a prefix itself, those that start with it."""
        text = word.text
        yield from self.exact.get(text, ())
        for n in self._prefix_lengths:
            if n > len(text):
                break
            yield from self.prefix.get(text[:n], ())
        if word.prefix:
            yield from self._starting_with(self._exact_sorted, self.exact, text)
            yield from self._starting_with(self._prefix_sorted, self.prefix, text)

    def any_inside(self, exclusion: Pattern) -> bool:
        """True when some term could lie inside a match of ``exclusion``; stops at the first that could."""
        seen: set[int] = set()
        for word in exclusion.words:
            for part in self.candidates(word):
                if id(part) not in seen:
                    seen.add(id(part))
                    if words_fit_inside(part, exclusion.words):
                        return True
        return False
