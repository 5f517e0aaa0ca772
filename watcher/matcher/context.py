"""Context rules: terms that count only next to words that give them their sense.

A topic's ``[[topic.context]]`` tables each list ``terms`` that count only when one of the ``near`` terms occurs
within ``within`` words of them (or anywhere in the same field when ``within`` is 0 or left out), and never when one
of the ``unless`` terms (sense markers) occurs that close. A table may have ``near``, ``unless`` or both::

    [[topic.context]]
    terms = ["return*", "removal*"]
    near = ["migrant*", "third-country", "readmission", "Frontex"]
    unless = ["species", "fish*", "cultural goods"]
    within = 12

A table may also say ``yield_to = ["policing"]``: its terms then give way to those topics like the terms of a
``[topic.yield_to]`` table (their hits are dropped when one of those topics is raised by its own ordinary terms).

Words are counted as the text's tokens, so punctuation does not count as a word. The check is linear: it runs only
for fields where a context term was found, over at most ``MAX_SEEN`` places of each term.
"""

from __future__ import annotations

import difflib
import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

from watcher.matcher.terms import Pattern

KEYS = ("terms", "near", "unless", "within", "yield_to")
MAX_WITHIN = 200
MAX_SEEN = 64  # places of one term or marker looked at in one field
_TOKEN = re.compile(rb"[^ ]+")

Key = tuple[int, int]
ParseTerm = Callable[[str], tuple["Pattern | None", str]]


@dataclass(frozen=True)
class ContextRule:
    """Terms that count only with context: a ``near`` term close by, and no ``unless`` term close by."""

    terms: tuple[str, ...]
    near: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    within: int = 0  # words either side; 0 means anywhere in the same field
    yield_to: tuple[str, ...] = ()  # ids of topics whose own hits cancel the hits of these terms


def contexts_from_toml(
    value: object, parse: ParseTerm, where: str, plain: Callable[[object], bool] | None = None
) -> tuple[list[ContextRule], list[str]]:
    """The topic's ``context`` tables, checked; returns (rules, errors). ``plain``, when given, tells in one pass
    that a whole list is valid (it may say False for a valid list; those are checked term by term)."""
    if value is None:
        return [], []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        return [], [
            f"{where}: 'context' must be written as [[topic.context]] tables, each with terms = [...] "
            "and near = [...] and/or unless = [...]"
        ]
    rules: list[ContextRule] = []
    errors: list[str] = []
    for number, table in enumerate(value, start=1):
        rule = _one(table, parse, f"{where}: context #{number}", errors, plain)
        if rule is not None:
            rules.append(rule)
    return rules, errors


def _one(
    table: dict, parse: ParseTerm, where: str, errors: list[str], plain: Callable[[object], bool] | None
) -> ContextRule | None:
    before = len(errors)
    for key in table:
        if key not in KEYS:
            close = difflib.get_close_matches(key, KEYS, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            errors.append(f"{where}: unknown key {key!r}; {hint}allowed keys are {', '.join(KEYS)}")
    terms = _terms(table, "terms", parse, where, errors, plain)
    near = _terms(table, "near", parse, where, errors, plain)
    unless = _terms(table, "unless", parse, where, errors, plain)
    if "terms" not in table or not terms and len(errors) == before:
        errors.append(f'{where}: needs terms = ["..."], the terms that count only with this context')
    if not near and not unless and len(errors) == before:
        errors.append(
            f'{where}: needs near = ["..."] (words that must be close) or unless = ["..."] (words that '
            "cancel the terms), or both"
        )
    within = table.get("within", 0)
    if not isinstance(within, int) or isinstance(within, bool) or not 0 <= within <= MAX_WITHIN:
        errors.append(
            f"{where}: 'within' must be a whole number of words from 1 to {MAX_WITHIN} (or 0 for the "
            f"same field), got {within!r}"
        )
        within = 0
    yield_to = table.get("yield_to", [])
    if not isinstance(yield_to, list) or not all(isinstance(v, str) and v.strip() for v in yield_to):
        errors.append(f"{where}: 'yield_to' must be a list of topic ids, e.g. yield_to = [\"policing\"]")
        yield_to = []
    if len(errors) != before:
        return None
    return ContextRule(
        terms=tuple(terms), near=tuple(near), unless=tuple(unless), within=within, yield_to=tuple(yield_to)
    )


def _terms(
    table: dict, key: str, parse: ParseTerm, where: str, errors: list[str], plain: Callable[[object], bool] | None
) -> list[str]:
    value = table.get(key, [])
    if plain is not None and plain(value):
        return list(value)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.append(f'{where}: {key!r} must be a list of terms in quotes, e.g. {key} = ["migrant*"]')
        return []
    found = []
    for raw in value:
        pattern, problem = parse(raw)
        if pattern is None:
            errors.append(f"{where}: {key} {raw!r} {problem}")
        elif pattern.parts:
            errors.append(
                f"{where}: {key} {raw!r} joins parts with '+'; a context rule's words are already "
                "tied together by 'near' and 'within'"
            )
        else:
            found.append(raw)
    return found


class Places:
    """Word positions in one flat field, for distances between hits (computed once per field, when needed)."""

    def __init__(self, flat: bytes):
        self.starts = [m.start() for m in _TOKEN.finditer(flat)]

    def position(self, key: Key) -> int:
        """The token number of a hit's first word (plus its index inside a token of several words)."""
        return bisect_right(self.starts, key[0]) - 1 + key[1]


def decide(
    rule: ContextRule,
    term_at: list[Key],
    near_at: list[tuple[Key, str]],
    unless_at: list[tuple[Key, str]],
    places: Places,
) -> tuple[Key, str] | None:
    """The first place of the term that has its context, with the nearest near term that gave it ("" when the
    rule has only ``unless``), or None when no place qualifies."""
    close = (lambda a, b: abs(a - b) <= rule.within) if rule.within else (lambda a, b: True)
    near = [(places.position(k), source) for k, source in near_at]
    unless = [places.position(k) for k, _ in unless_at]
    for key in sorted(term_at):
        here = places.position(key)
        if any(close(here, there) for there in unless):
            continue
        if not rule.near:
            return key, ""
        fitting = [(abs(here - there), there, source) for there, source in near if close(here, there)]
        if fitting:
            return key, min(fitting)[2]  # the nearest, then the earliest, so the evidence never depends on order
    return None
