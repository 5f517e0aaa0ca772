"""Compiled terms (words and patterns), and which terms could lie inside an exclusion, found without comparing every
term with every exclusion.

``check-config`` warns about an exclusion that contains none of its topic's terms (it can never remove a hit). With
hundreds of terms and exclusions per topic the pairwise test was quadratic and cost most of the time to load the
topics; here the terms' first words are indexed, so each exclusion looks only at terms whose first word could match
one of its own words, and only those are tested in full.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Word:
    """One word of a compiled term.

    ``text`` is folded; ``prefix`` makes it match words starting with it;
    ``caps`` is how many leading letters must be capitals in the text (0: any case).
    """

    text: str
    prefix: bool = False
    caps: int = 0


@dataclass(frozen=True)
class Pattern:
    """A compiled term: the text as written and its words."""

    source: str
    words: tuple[Word, ...]
    #: for ``a + b`` terms, the words of each part (``words`` is then the first part)
    parts: tuple[tuple[Word, ...], ...] = ()

    @property
    def key(self) -> tuple:
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
        if all(_compatible(t, e) for t, e in zip(term, exclusion[offset : offset + size])):
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
                    table = self.prefix if part[0].prefix else self.exact
                    table.setdefault(part[0].text, []).append(part)
        self._exact_sorted = sorted(self.exact)
        self._prefix_sorted = sorted(self.prefix)

    def _starting_with(self, keys: Sequence[str], table: dict, text: str) -> list[tuple[Word, ...]]:
        """Parts whose first word's text starts with ``text`` (a sorted range of the keys)."""
        found = []
        for i in range(bisect_left(keys, text), len(keys)):
            if not keys[i].startswith(text):
                break
            found += table[keys[i]]
        return found

    def candidates(self, word: Word) -> list[tuple[Word, ...]]:
        """Parts whose first word is compatible with ``word`` of an exclusion (same rule as ``_compatible``)."""
        found = list(self.exact.get(word.text, ()))
        found += [p for n in range(1, len(word.text) + 1) for p in self.prefix.get(word.text[:n], ())]
        if word.prefix:
            found += [
                p for p in self._starting_with(self._exact_sorted, self.exact, word.text) if p[0].text != word.text
            ]
            found += [
                p for p in self._starting_with(self._prefix_sorted, self.prefix, word.text) if p[0].text != word.text
            ]
        return found

    def any_inside(self, exclusion: Pattern) -> bool:
        """True when some term could lie inside a match of ``exclusion``."""
        seen: set[int] = set()
        for word in exclusion.words:
            for part in self.candidates(word):
                if id(part) not in seen:
                    seen.add(id(part))
                    if words_fit_inside(part, exclusion.words):
                        return True
        return False
