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
from dataclasses import dataclass
from typing import overload


@dataclass(frozen=True)
class Word:
    """One word of a compiled term.

    ``text`` is folded; ``prefix`` makes it match words starting with it;
    ``caps`` is how many leading letters must be capitals in the text (0: any case).
    """

    text: str
    prefix: bool = False
    caps: int = 0


class _Key:
    """``Pattern.key``: computed once, then stored in the pattern's ``__dict__`` where later reads find it first
    (functools.cached_property does the same, but takes a lock on every first read on Python 3.11)."""

    @overload
    def __get__(self, pattern: None, owner: type) -> _Key: ...

    @overload
    def __get__(self, pattern: Pattern, owner: type | None = None) -> tuple: ...

    def __get__(self, pattern: Pattern | None, owner: type | None = None) -> tuple | _Key:
        if pattern is None:
            return self
        if pattern.parts:
            key: tuple = tuple([tuple([(w.text, w.prefix, w.caps) for w in part]) for part in pattern.parts])
        else:
            key = tuple([(w.text, w.prefix, w.caps) for w in pattern.words])
        pattern.__dict__["key"] = key
        return key


@dataclass(frozen=True)
class Pattern:
    """A compiled term: the text as written and its words."""

    source: str
    words: tuple[Word, ...]
    #: for ``a + b`` terms, the words of each part (``words`` is then the first part)
    parts: tuple[tuple[Word, ...], ...] = ()

    #: What two terms that match the same texts share: their words (of each part, for ``a + b`` terms) as
    #: (text, prefix, caps) tuples. Made on first use and kept, so that the checks of topics.toml, which compare
    #: thousands of terms, hash plain tuples and no Word.
    key = _Key()  # not annotated, so not a field


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
