"""The compiled matcher: finds which topics an item raises, with evidence.

How it stays fast (linear in the text, independent of the number of terms):

1. Each field is folded once and split into words.
2. The distinct words are intersected with the rule vocabulary: the first word
   of every term and exclusion, and prefixes indexed by their first 4 letters.
   Most texts stop here.
3. Only around those anchor words are phrases checked word by word; term hits
   that lie inside a hit of one of the same topic's exclusions are dropped.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Iterable, Sequence

from ..errors import ConfigError
from ..models import Item, Match
from .folding import WORD_RE, fold, fold_keep_case, nfc, word_spans
from .rules import FIELDS, MIN_PREFIX, Pattern, Topic, compile_term
from .snippet import make_snippet

TEXT_FIELD = "text"
SUBJECT_FIELD = "subjects"
_CODE_RE = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class _Rule:
    topic: int
    exclusion: bool
    pattern: Pattern


@dataclass(frozen=True)
class _Hit:
    topic: int
    exclusion: bool
    term: str
    first: int
    last: int


class Matcher:
    """Compiled topics. ``match(item)`` returns one Match per topic that fired."""

    def __init__(self, topics: Sequence[Topic]):
        started = time.perf_counter()
        self.topics: dict[str, Topic] = {}
        for topic in topics:
            if topic.id in self.topics:
                raise ConfigError([f"topic {topic.id!r}: id is used twice; give each topic its own id"])
            self.topics[topic.id] = topic
        self._list = list(self.topics.values())
        self._exact: dict[str, list[_Rule]] = {}
        self._prefix: dict[str, list[tuple[str, list[_Rule]]]] = {}
        self._compile_all()
        self._exact_keys = frozenset(self._exact)
        self._by_field = {name: frozenset(i for i, t in enumerate(self._list) if name in t.fields)
                          for name in FIELDS}
        self._by_field[TEXT_FIELD] = self._by_field["title"] | self._by_field["summary"]
        self._doc_types = [frozenset(fold(d) for d in t.doc_types) for t in self._list]
        self.compile_ms = (time.perf_counter() - started) * 1000.0

    # ----------------------------------------------------------------- compiling

    def _compile_all(self) -> None:
        problems: list[str] = []
        prefixes: dict[str, list[_Rule]] = {}
        for index, topic in enumerate(self._list):
            for exclusion, raws in ((False, topic.terms), (True, topic.exclude)):
                for raw in raws:
                    try:
                        pattern = compile_term(raw)
                    except ValueError as exc:
                        problems.append(f"topic {topic.id!r}: term {raw!r} {exc}")
                        continue
                    self._index(_Rule(index, exclusion, pattern), prefixes)
        if problems:
            raise ConfigError(problems)
        for prefix, rules in prefixes.items():
            self._prefix.setdefault(prefix[:MIN_PREFIX], []).append((prefix, rules))

    def _index(self, rule: _Rule, prefixes: dict[str, list[_Rule]]) -> None:
        head = rule.pattern.words[0]
        table = prefixes if head.prefix else self._exact
        table.setdefault(head.text, []).append(rule)

    # ----------------------------------------------------------------- matching

    def match(self, item: Item) -> list[Match]:
        """Topics raised by the item's title, summary, body and register metadata."""
        extra = item.extra or {}
        allowed = self._allowed_topics(extra.get("doc_type"))
        fields = [("title", item.title), ("summary", item.summary), ("body", item.body)]
        return self._run(fields, allowed, _subject_codes(extra.get("subjects")))

    def match_text(self, text: str) -> list[Match]:
        """Topics raised by a bare text, treated as title plus summary."""
        allowed = self._allowed_topics(None)
        return self._run([(TEXT_FIELD, text)], allowed, frozenset())

    def _allowed_topics(self, doc_type: object) -> set[int]:
        folded = fold(doc_type) if isinstance(doc_type, str) else None
        return {i for i, kinds in enumerate(self._doc_types) if not kinds or folded in kinds}

    def _run(self, fields: Iterable[tuple[str, str | None]], allowed: set[int],
             codes: frozenset[str]) -> list[Match]:
        found: dict[int, list[tuple[int, _Hit, str, str]]] = {}
        for order, (name, text) in enumerate(fields):
            scope = self._by_field[name] & allowed
            if not text or not scope:
                continue
            for hit in self._scan(text, scope):
                found.setdefault(hit.topic, []).append((order, hit, name, text))
        subject_hits = self._subject_hits(codes, allowed)
        matches = []
        for index in range(len(self._list)):
            if index in found or index in subject_hits:
                matches.append(self._build(index, found.get(index, []), subject_hits.get(index, [])))
        return matches

    def _scan(self, text: str, scope: frozenset[int]) -> list[_Hit]:
        """Term hits of ``scope`` topics in one field, after exclusions."""
        tokens = WORD_RE.findall(fold(text))
        anchors = self._anchors(set(tokens), scope)
        if not anchors:
            return []
        hits = self._verify(text, tokens, anchors)
        return _apply_exclusions(hits)

    def _anchors(self, distinct: set[str], scope: frozenset[int]) -> dict[str, list[_Rule]]:
        """Rules whose first word occurs among ``distinct``, keyed by that word."""
        found: dict[str, list[_Rule]] = {}
        for word in distinct & self._exact_keys:
            found[word] = list(self._exact[word])
        lookup = self._prefix.get
        for word in distinct:
            group = lookup(word[:MIN_PREFIX])
            if group:
                for prefix, rules in group:
                    if word.startswith(prefix):
                        found.setdefault(word, []).extend(rules)
        live = {}
        for word, rules in found.items():
            rules = [r for r in rules if r.topic in scope]
            if rules:
                live[word] = rules
        if not any(not r.exclusion for rules in live.values() for r in rules):
            return {}
        return live

    def _verify(self, text: str, tokens: list[str], anchors: dict[str, list[_Rule]]) -> list[_Hit]:
        hits: list[_Hit] = []
        cased: list[str] | None = None
        size = len(tokens)
        for start in [i for i, tok in enumerate(tokens) if tok in anchors]:
            for rule in anchors[tokens[start]]:
                words = rule.pattern.words
                end = start + len(words)
                if end > size or not all(w.accepts(t) for w, t in zip(words[1:], tokens[start + 1:end])):
                    continue
                if any(w.caps for w in words):
                    if cased is None:
                        cased = WORD_RE.findall(fold_keep_case(text))
                    if not _capitals_ok(words, cased, start, size):
                        continue
                hits.append(_Hit(rule.topic, rule.exclusion, rule.pattern.source, start, end - 1))
        return hits

    def _subject_hits(self, codes: frozenset[str], allowed: set[int]) -> dict[int, list[str]]:
        if not codes:
            return {}
        hits: dict[int, list[str]] = {}
        for index, topic in enumerate(self._list):
            if index in allowed:
                fired = [f"subject:{code}" for code in topic.subjects if code in codes]
                if fired:
                    hits[index] = fired
        return hits

    def _build(self, index: int, hits: list[tuple[int, _Hit, str, str]], subjects: list[str]) -> Match:
        topic = self._list[index]
        if not hits:
            return Match(topic=topic.id, terms=tuple(subjects), snippet="", field=SUBJECT_FIELD)
        hits.sort(key=lambda entry: (entry[0], entry[1].first))
        terms = list(dict.fromkeys(entry[1].term for entry in hits))
        _, first, name, text = hits[0]
        composed = nfc(text)
        start, end = word_spans(composed, first.first, first.last)
        snippet = make_snippet(composed, start, end)
        return Match(topic=topic.id, terms=tuple(terms + subjects), snippet=snippet, field=name)


def _capitals_ok(words: tuple, cased: list[str], start: int, size: int) -> bool:
    if len(cased) != size:
        return False
    for offset, word in enumerate(words):
        if word.caps and not cased[start + offset][:len(word.text)].isupper():
            return False
    return True


def _apply_exclusions(hits: list[_Hit]) -> list[_Hit]:
    """Drop term hits lying wholly inside an exclusion hit of the same topic."""
    vetoes = [h for h in hits if h.exclusion]
    terms = [h for h in hits if not h.exclusion]
    if not vetoes:
        return terms
    return [h for h in terms
            if not any(v.topic == h.topic and v.first <= h.first and h.last <= v.last for v in vetoes)]


def _subject_codes(value: object) -> frozenset[str]:
    """Codes from item.extra["subjects"]: a list like ["MIGR 43", "FRONT"] or a string."""
    if isinstance(value, str):
        parts: list = [value]
    elif isinstance(value, (list, tuple, set, frozenset)):
        parts = [v for v in value if isinstance(v, str)]
    else:
        return frozenset()
    return frozenset(code.upper() for part in parts for code in _CODE_RE.findall(part))
