"""The compiled matcher: finds which topics an item raises, with evidence.

How it stays fast (linear in the text, independent of the number of terms):

1. Each field is encoded and flattened once (see ``scan``); its distinct raw
   tokens come from one ``split`` in C.
2. The distinct tokens are checked against the rule vocabulary (see ``index``):
   every term is filed under its rarest word, exact words in a set and
   prefixes under their first 4 letters. Only non-ASCII tokens are folded.
   Phrases whose other whole words are absent from the field are dropped.
   Most texts stop here.
3. Each anchor token is located with ``bytes.find``; the rest of a phrase is
   checked word by word around it. A hit is dropped when one of the
   exclusions that could contain that term (listed per term at compile time)
   matches around it. Only the first surviving hit of each term is needed, so
   repeated words cost little.
4. Hits of ``yield_to`` terms are dropped when the topic they give way to is
   raised by its own ordinary terms or subject codes.
5. With a relevance model (``relevance``), a topic the terms did not raise is raised when the model's probability
   for the title and summary (those of them the topic's ``fields`` allow) reaches the topic's own threshold
   (``relevance`` in topics.toml; a topic without one is never raised by the model) and none of the topic's
   exclusions matches in that same text (never the body); its one term says so (``relevance model borders 0.83 on:
   ...``). The weights are read when the command loads its configuration (check-config, run, parse) or when a text
   first needs them (once, match), and the exclusions are compiled only when the model first proposes a topic; an
   item's title and summary are flattened once for the exclusions of every topic the model proposes.
6. A topic with ``irrelevant_below`` that its terms raised in the title and summary alone (no hit in the body, no
   subject code) is dropped when the model gives it, on the text it reads, a probability below that value, unless a
   hit is one of the topic's ``never_dropped`` terms (names such as a regulation's, which mean the topic wherever
   they occur). Hits in the body are never dropped: the model does not read it.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from watcher.errors import ConfigError
from watcher.matcher.context import MAX_SEEN, Places, decide
from watcher.matcher.folding import fold
from watcher.matcher.index import Group, Reach, Rule, RuleIndex
from watcher.matcher.rules import FIELDS, MIN_PREFIX, Topic
from watcher.matcher.scan import (
    Key,
    capitals,
    char_span,
    flatten,
    following,
    occurrences,
    preceding,
    token_at,
    words_of,
)
from watcher.matcher.snippet import make_snippet
from watcher.models import Item, Match, model_term

if TYPE_CHECKING:  # the relevance model's module is loaded only when a topic gives a relevance threshold
    from watcher.matcher.model import Relevance

TEXT_FIELD = "text"
SUBJECT_FIELD = "subjects"
_CODE_RE = re.compile(r"[A-Za-z]+")

#: The start of a note of ``explain_text`` on a hit kept, not removed (a term of the topic's never_dropped kept it).
KEPT = "kept: "


class _Hit(NamedTuple):
    """One place where a term matched: its topic, first and last word, the term as written,
    and the topics it gives way to (see ``yield_to``)."""

    topic: int
    first: Key
    last: Key
    term: str
    yields: frozenset[int] = frozenset()


class _Presence:
    """Tells whether a field has every word a rule needs besides its anchor.

    A cheap necessary condition, checked before any phrase is verified in place.
    """

    def __init__(self, distinct: set[bytes], folded: set[str], flat: bytes):
        self.distinct = distinct
        self.folded = folded  # words of the non-ASCII tokens
        self.flat = flat
        self.starts: dict[str, bool] = {}
        self.heads: dict[str, list[str]] | None = None  # folded words by their first letters

    def __call__(self, rule: Rule) -> bool:
        for text, data in rule.needs:
            if data not in self.distinct and text not in self.folded:
                return False
        return all(self.starting(text, data) for text, data in rule.prefixes)

    def starting(self, text: str, data: bytes) -> bool:
        """True when some word of the field starts with ``text`` (cached)."""
        found = self.starts.get(text)
        if found is None:
            found = self.starts[text] = self._starts(text, data)
        return found

    def _starts(self, text: str, data: bytes) -> bool:
        if self.flat.startswith(data) or b" " + data in self.flat:
            return True
        if self.heads is None:
            self.heads = {}
            for word in self.folded:
                self.heads.setdefault(word[:MIN_PREFIX], []).append(word)
        return any(word.startswith(text) for word in self.heads.get(text[:MIN_PREFIX], ()))


class _Vetoes:
    """Which exclusions can match in one field: those whose other words it has (cached)."""

    def __init__(self, present: _Presence):
        self.present = present
        self.cache: dict[Rule, bool] = {}

    def usable(self, rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
        """The ``rules`` whose other words all occur in the field."""
        return tuple(rule for rule in rules if self._usable(rule))

    def _usable(self, rule: Rule) -> bool:
        found = self.cache.get(rule)
        if found is None:
            found = self.cache[rule] = self.present(rule)
        return found


@dataclass(frozen=True)
class _Field:
    """One field of an item, with its UTF-8 and flat forms (see ``scan``)."""

    order: int
    name: str
    text: str
    raw: bytes
    flat: bytes


class Matcher:
    """Compiled topics. ``match(item)`` returns one Match per topic that fired.

    ``Matcher(topics, for_text=text)`` compiles only the terms that text can reach (see ``index.Reach``): much less
    work for one text, the same matches for it, and for any other text made of its words; a text with other words
    raises ValueError. A text with very many distinct words gets the whole index.

    With ``relevance`` (see ``watcher.matcher.model``), the model may raise a topic the terms did not, at the
    topic's ``relevance`` threshold.
    """

    def __init__(self, topics: Sequence[Topic], for_text: str | None = None, relevance: Relevance | None = None):
        started = time.perf_counter()
        self.relevance = relevance
        self._exclusions: RuleIndex | None = None  # each topic's exclusions as the terms of a pseudo-topic
        self._reach = Reach.of(for_text)
        self.topics: dict[str, Topic] = {}
        for topic in topics:
            if topic.id in self.topics:
                raise ConfigError([f"topic {topic.id!r}: id is used twice; give each topic its own id"])
            self.topics[topic.id] = topic
        self._list = list(self.topics.values())
        self._all = frozenset(range(len(self._list)))
        # the topics the relevance model may raise: those with a threshold whose fields hold the title or the summary
        # (the only fields it reads), when there is a model
        readable = [i for i, t in enumerate(self._list) if {"title", "summary"} & set(t.fields)]
        self._by_model = [] if relevance is None else [i for i in readable if self._list[i].relevance is not None]
        # the topics whose hits in the title and summary alone the model may drop
        self._droppable = (
            frozenset()
            if relevance is None
            else frozenset(i for i in readable if self._list[i].irrelevant_below is not None)
        )
        self._uses_model = bool(self._by_model or self._droppable)
        self._index = RuleIndex(self._list, self._reach)
        # The near and unless terms of context rule g are pseudo-topics 2g and 2g + 1 of their own index.
        self._markers = RuleIndex(
            [
                Topic(id=f"context-{g}-{kind}", label="", terms=getattr(rule, kind))
                for g, rule in enumerate(self._index.contexts)
                for kind in ("near", "unless")
            ],
            self._reach,
        )
        # Per item, nothing may cost as much as the number of topics (one per term of every chat, see
        # ``personal``): a field's scope is the set of all topics itself when it is all of them, the doc types and
        # subject codes are looked at only for the topics that have some, and results are built from the hits.
        by_field = {name: frozenset(i for i, t in enumerate(self._list) if name in t.fields) for name in FIELDS}
        by_field[TEXT_FIELD] = by_field["title"] | by_field["summary"]
        self._by_field = {name: self._all if scope == self._all else scope for name, scope in by_field.items()}
        self._doc_types = [frozenset(fold(d) for d in t.doc_types) for t in self._list]
        self._typed = any(self._doc_types)
        self._with_subjects = [i for i, t in enumerate(self._list) if t.subjects]
        self.compile_ms = (time.perf_counter() - started) * 1000.0

    # ----------------------------------------------------------------- entry points

    def match(self, item: Item) -> list[Match]:
        """Topics raised by the item's title, summary, body and register metadata."""
        extra = item.extra or {}
        allowed = self._allowed_topics(extra.get("doc_type"))
        fields = [("title", item.title), ("summary", item.summary), ("body", item.body)]
        if not self._uses_model:
            return self._run(fields, allowed, _subject_codes(extra.get("subjects")))
        in_text: set[int] = set()
        found = self._run(fields, allowed, _subject_codes(extra.get("subjects")), in_text=in_text)
        return self._with_model(found, fields[:2], allowed, in_text)  # the model never reads the body

    def match_text(self, text: str) -> list[Match]:
        """Topics raised by a bare text, treated as title plus summary."""
        fields, allowed = [(TEXT_FIELD, text)], self._allowed_topics(None)
        if not self._uses_model:
            return self._run(fields, allowed, frozenset())
        in_text: set[int] = set()
        found = self._run(fields, allowed, frozenset(), in_text=in_text)
        return self._with_model(found, fields, allowed, in_text)

    def explain_text(self, text: str) -> tuple[list[Match], list[str]]:
        """As ``match_text``, plus one line for each hit that an exclusion or a missing context removed (and, with a
        relevance model, for each topic it would have raised but an exclusion stopped, each it dropped, and each hit it
        would have dropped but a never_dropped term kept: those lines start with ``KEPT``)."""
        notes: list[str] = []
        fields = [(TEXT_FIELD, text)]
        allowed = self._allowed_topics(None)
        in_text: set[int] = set()
        found = self._run(fields, allowed, frozenset(), notes, in_text)
        if self._uses_model:
            found = self._with_model(found, fields, allowed, in_text, notes)
        return found, notes

    def _never_dropped(self, match: Match) -> bool:
        """Whether a term of ``match`` is one of its topic's ``never_dropped`` terms (a context term's hit is shown
        with its context: "sis (near interoperab*)")."""
        names = self.topics[match.topic].never_dropped
        return bool(names) and any(term.split(" (near ", 1)[0].strip() in names for term in match.terms)

    def _allowed_topics(self, doc_type: object) -> frozenset[int]:
        if not self._typed:
            return self._all
        folded = fold(doc_type) if isinstance(doc_type, str) else None
        return frozenset(i for i, kinds in enumerate(self._doc_types) if not kinds or folded in kinds)

    def _run(
        self,
        fields: Iterable[tuple[str, str | None]],
        allowed: frozenset[int],
        codes: frozenset[str],
        notes: list[str] | None = None,
        in_text: set[int] | None = None,
    ) -> list[Match]:
        """The matches of the terms and subject codes; ``in_text`` receives the topics among those the model may drop
        whose hits are all in the title, summary or bare text (none in the body, no subject code)."""
        found: dict[int, list[tuple[_Field, _Hit]]] = {}
        for order, (name, text) in enumerate(fields):
            if text and self._reach is not None and not self._reach.covers(text):
                raise ValueError("this matcher was compiled for another text (for_text); build one for this text")
            scope = self._by_field[name] if allowed is self._all else self._by_field[name] & allowed
            if not text or not scope:
                continue
            raw, flat = flatten(text)
            field = _Field(order, name, text, raw, flat)
            for hit in self._scan(field, scope, notes):
                found.setdefault(hit.topic, []).append((field, hit))
        subject_hits = self._subject_hits(codes, allowed)
        _give_way(found, subject_hits)
        if in_text is not None and self._droppable:
            in_text.update(
                index
                for index, hits in found.items()
                if index in self._droppable
                and hits
                and index not in subject_hits
                and all(field.name != "body" for field, _ in hits)
            )
        return [
            self._build(index, found.get(index, []), subject_hits.get(index, []))
            for index in sorted(found.keys() | subject_hits.keys())
        ]

    # ----------------------------------------------------------------- the relevance model

    def _with_model(
        self,
        found: list[Match],
        fields: Sequence[tuple[str, str | None]],
        allowed: frozenset[int],
        in_text: set[int],
        notes: list[str] | None = None,
    ) -> list[Match]:
        """``found`` plus a Match for each allowed topic with a threshold that the model raises and the terms did not,
        less the matches of ``in_text`` (topics with ``irrelevant_below`` raised in the title and summary alone) that
        the model finds irrelevant. The model reads, per topic, only the title and summary that the topic's
        ``fields`` allow (of ``fields``: the item's title and summary, or a bare text), and the topic's exclusions
        veto only in that same text."""
        assert self.relevance is not None
        raised = {m.topic for m in found}
        wanted = [i for i in self._by_model if i in allowed and self._list[i].id not in raised]
        wanted += sorted(in_text)
        if not wanted:
            return found
        given = [(name, text) for name, text in fields if text and text.strip()]
        # the topics that read the same fields are scored together: one set of features for all of them
        groups: dict[tuple[tuple[str, str], ...], list[int]] = {}
        for index in wanted:
            fields_of = self._list[index].fields
            read = tuple((name, text) for name, text in given if name == TEXT_FIELD or name in fields_of)
            if read:
                groups.setdefault(read, []).append(index)
        if not groups:  # no text the model may read: its weights are not needed
            return found
        model = self.relevance.model
        proposed: list[tuple[int, float, tuple[str, ...], tuple[tuple[str, str], ...]]] = []
        dropped: dict[str, float] = {}
        for read, indexes in groups.items():
            text = read[0][1] if len(read) == 1 else self.relevance.text_of(read[0][1], read[1][1])
            scores = model.score(text, [self._list[i].id for i in indexes])
            for index in indexes:
                this = self._list[index]
                score = scores.get(this.id)
                if score is None:
                    continue
                if index in in_text:
                    if this.irrelevant_below is not None and score.probability < this.irrelevant_below:
                        dropped[this.id] = score.probability
                elif this.relevance is not None and score.probability >= this.relevance:
                    proposed.append((index, score.probability, score.top, read))
        if dropped:
            kept = []
            for match in found:
                if match.topic not in dropped:
                    kept.append(match)
                elif self._never_dropped(match):
                    kept.append(match)
                    if notes is not None:
                        below = self.topics[match.topic].irrelevant_below
                        notes.append(
                            f"{KEPT}{match.topic}: {', '.join(repr(term) for term in match.terms)} kept although the "
                            f"relevance model gives {dropped[match.topic]:.3f}, below irrelevant_below = {below}: a "
                            "term of never_dropped"
                        )
                elif notes is not None:
                    below = self.topics[match.topic].irrelevant_below
                    notes.append(
                        f"{match.topic}: {', '.join(repr(term) for term in match.terms)} removed by the relevance "
                        f"model: {dropped[match.topic]:.3f} is below irrelevant_below = {below}"
                    )
            found = kept
        if not proposed:
            return found
        vetoes = self._excluded({index for index, *_ in proposed if self._list[index].exclude}, given)
        added = []
        for index, probability, top, read in sorted(proposed):
            topic = self._list[index].id
            veto = next((source for name, source in vetoes.get(index, ()) if name in dict(read)), "")
            if veto:
                if notes is not None:
                    notes.append(f"{topic}: relevance model {probability:.2f} removed by the exclusion {veto!r}")
                continue
            added.append(Match(topic=topic, terms=(model_term(topic, probability, top),), field="model"))
        if not added:
            return found
        order = {topic.id: number for number, topic in enumerate(self._list)}
        return sorted(found + added, key=lambda m: order[m.topic])

    def _excluded(self, indexes: set[int], fields: Sequence[tuple[str, str]]) -> dict[int, list[tuple[str, str]]]:
        """Per topic of ``indexes``, the (field, exclusion) pairs of its exclusions that match in ``fields``, in the
        order of the fields. Each field is flattened and its exclusions found once, for all those topics."""
        if not indexes:
            return {}
        if self._exclusions is None:
            self._exclusions = RuleIndex(
                [Topic(id=f"exclude-{t.id}", label="", terms=t.exclude) for t in self._list], self._reach
            )
        found: dict[int, list[tuple[str, str]]] = {}
        for order, (name, text) in enumerate(fields):
            raw, flat = flatten(text)
            places = self._places(self._exclusions, _Field(order, name, text, raw, flat), lambda r: r.topic in indexes)
            for rule, hits in places.items():
                if hits:
                    found.setdefault(rule.topic, []).append((name, rule.source))
        return found

    # ----------------------------------------------------------------- one field

    def _scan(self, field: _Field, scope: frozenset[int], notes: list[str] | None = None) -> list[_Hit]:
        """First surviving hit of each term of the ``scope`` topics in one field."""
        distinct = set(field.flat.split())
        anchors, folded = self._index.anchors(distinct)
        if not anchors:
            return []
        present = _Presence(distinct, folded, field.flat)
        vetoes = _Vetoes(present)
        padded = b""
        first: dict[Rule, _Hit] = {}
        for token, index, _, entry in anchors:
            pending = entry.free + tuple(rule for rule in entry.needy if present(rule))
            if scope is not self._all:
                pending = tuple(rule for rule in pending if rule.topic in scope)
            if not pending:
                continue
            padded = padded or b" " + field.flat + b" "
            for start in occurrences(padded, token):
                for hit, rule in self._hits_at(field, pending, start, index):
                    veto = self._veto(field, hit, rule, vetoes)
                    if veto is None:
                        if rule not in first or hit.first < first[rule].first:
                            first[rule] = hit
                        pending = tuple(r for r in pending if r is not rule)
                    elif notes is not None:
                        notes.append(
                            f"{self._list[rule.topic].id}: {rule.source!r} removed by the exclusion {veto.source!r}"
                        )
                if not pending:
                    break
        in_context = [r for r in first if r.ctx >= 0]
        if in_context:
            self._keep_in_context(field, in_context, first, vetoes, notes)
        return _joined_hits(first)

    def _keep_in_context(
        self, field: _Field, rules: list[Rule], first: dict[Rule, _Hit], vetoes: _Vetoes, notes: list[str] | None
    ) -> None:
        """Keep the hits of context terms that have their context; the places of these terms and of their markers
        are read once for the field, whatever the number of context terms found."""
        wanted, groups = set(rules), {r.ctx for r in rules}
        terms = self._places(self._index, field, lambda r: r in wanted)
        marks = self._places(self._markers, field, lambda r: r.topic // 2 in groups)
        places = Places(field.flat)
        for rule in rules:
            counted = self._in_context(field, rule, vetoes, terms.get(rule, []), marks, places)
            if counted is None:
                del first[rule]
                if notes is not None:
                    notes.append(self._missing_context(rule, marks))
            else:
                first[rule] = counted

    def _in_context(
        self,
        field: _Field,
        rule: Rule,
        vetoes: _Vetoes,
        seen: list[_Hit],
        marks: dict[Rule, list[_Hit]],
        places: Places,
    ) -> _Hit | None:
        """The first place of a context term (``seen``) that has its context among the field's marker places
        (``marks``), its evidence naming the near term."""
        term_at = [hit.first for hit in seen if not self._vetoed(field, hit, rule, vetoes)]
        g = rule.ctx
        near = [(hit.first, r.source) for r, hits in marks.items() if r.topic == 2 * g for hit in hits]
        unless = [(hit.first, r.source) for r, hits in marks.items() if r.topic == 2 * g + 1 for hit in hits]
        found = decide(self._index.contexts[g], term_at, near, unless, places)
        if found is None:
            return None
        key, source = found
        hit = next(h for h in seen if h.first == key)
        return hit._replace(term=f"{rule.source} (near {source})" if source else rule.source)

    def _missing_context(self, rule: Rule, marks: dict[Rule, list[_Hit]]) -> str:
        """Why a context term did not count: what it needs (long lists cut short), and the sense markers of its
        rule that the field does contain, since those are what a maintainer looks for."""
        context = self._index.contexts[rule.ctx]
        where = f"within {context.within} words" if context.within else "in the same field"
        wanted = [f"one of {_few(context.near)} {where}"] if context.near else []
        if context.unless:
            present = sorted({r.source for r, hits in marks.items() if r.topic == 2 * rule.ctx + 1 and hits})
            has = f" (the text has {', '.join(repr(s) for s in present)})" if present else ""
            wanted.append(f"none of {_few(context.unless)} {where}{has}")
        return f"{self._list[rule.topic].id}: {rule.source!r} found but not counted: it needs {' and '.join(wanted)}"

    def _places(self, index: RuleIndex, field: _Field, keep) -> dict[Rule, list[_Hit]]:
        """Every place (up to MAX_SEEN each) where the kept rules of ``index`` match in the field."""
        distinct = set(field.flat.split())
        anchors, folded = index.anchors(distinct)
        present = _Presence(distinct, folded, field.flat)
        padded = b" " + field.flat + b" "
        found: dict[Rule, list[_Hit]] = {}
        for token, position, _, entry in anchors:
            rules = tuple(r for r in entry.free if keep(r)) + tuple(r for r in entry.needy if keep(r) and present(r))
            if not rules:
                continue
            for start in occurrences(padded, token):
                for hit, rule in self._hits_at(field, rules, start, position):
                    places = found.setdefault(rule, [])
                    if len(places) < MAX_SEEN:
                        places.append(hit)
        return found

    def _hits_at(self, field: _Field, terms: tuple[Rule, ...], start: int, index: int) -> list[tuple[_Hit, Rule]]:
        return [
            (_Hit(rule.topic, first, last, rule.source, rule.yields), rule)
            for rule, first, last in _fitting(terms, field, start, index)
        ]

    def _vetoed(self, field: _Field, hit: _Hit, rule: Rule, vetoes: _Vetoes) -> bool:
        """True when an exclusion of the hit's topic matches text covering the hit."""
        return self._veto(field, hit, rule, vetoes) is not None

    def _veto(self, field: _Field, hit: _Hit, rule: Rule, vetoes: _Vetoes) -> Rule | None:
        """The exclusion of the hit's topic that matches text covering the hit, if any."""
        found = self._index.vetoers.get(rule)
        if found is None:
            return None
        start, index = hit.first
        window = preceding(field.flat, start, index, found.longest - len(rule.words))
        window.append((words_of(token_at(field.flat, start))[index], hit.first))
        window += following(field.flat, start, index, found.longest - 1)
        for word, (begin, position) in window:
            anchored = vetoes.usable(found.anchored_at(word))
            if anchored:
                for veto, first, last in _fitting(anchored, field, begin, position):
                    if first <= hit.first and last >= hit.last:
                        return veto
        return None

    # ----------------------------------------------------------------- results

    def _subject_hits(self, codes: frozenset[str], allowed: frozenset[int]) -> dict[int, list[str]]:
        if not codes:
            return {}
        hits: dict[int, list[str]] = {}
        for index in self._with_subjects:
            topic = self._list[index]
            if index in allowed:
                fired = [f"subject:{code}" for code in topic.subjects if code in codes]
                if fired:
                    hits[index] = fired
        return hits

    def _build(self, index: int, hits: list[tuple[_Field, _Hit]], subjects: list[str]) -> Match:
        topic = self._list[index]
        if not hits:
            return Match(topic=topic.id, terms=tuple(subjects), snippet="", field=SUBJECT_FIELD)
        hits.sort(key=lambda pair: (pair[0].order, pair[1].first))
        terms = list(dict.fromkeys(hit.term for _, hit in hits))
        field, first = hits[0]
        start, end = char_span(field.text, field.raw, field.flat, first.first, first.last)
        snippet = make_snippet(field.text, start, end)
        return Match(
            topic=topic.id, terms=tuple(terms + subjects), snippet=snippet, field=field.name, words=_words(hits)
        )


MAX_WORDS = 12  # matched words kept per topic, first hits first
MAX_WORD = 80  # characters of one matched word or phrase


def _words(hits: list[tuple[_Field, _Hit]]) -> tuple[str, ...]:
    """The text of the hits as the item writes it, once each whatever its case, in the order of the hits; a hit
    inside another one ("smugglers" in "migrant smugglers") is not named apart."""
    spans = [(field.order, hit.first, hit.last, field, hit) for field, hit in hits[: 4 * MAX_WORDS]]
    seen: dict[str, str] = {}
    for order, first, last, field, hit in spans:
        if any(o == order and a <= first and last <= b and (a, b) != (first, last) for o, a, b, _, _ in spans):
            continue
        start, end = char_span(field.text, field.raw, field.flat, hit.first, hit.last)
        word = " ".join(field.text[start:end].split())[:MAX_WORD]
        if word:
            seen.setdefault(word.casefold(), word)
        if len(seen) >= MAX_WORDS:
            break
    return tuple(seen.values())


def _joined_hits(first: dict[Rule, _Hit]) -> list[_Hit]:
    """Plain hits as they are; a ``+`` term's hit (at its earliest part) once all its parts hit."""
    hits: list[_Hit] = []
    groups: dict[Group, list[_Hit]] = {}
    for rule, hit in first.items():
        if rule.group is None:
            hits.append(hit)
        else:
            groups.setdefault(rule.group, []).append(hit)
    for group, parts in groups.items():
        if len(parts) == group.size:
            lead = min(parts, key=lambda hit: hit.first)
            hits.append(_Hit(group.topic, lead.first, lead.last, group.source, group.yields))
    return hits


def _give_way(found: dict[int, list[tuple[_Field, _Hit]]], subjects: dict[int, list[str]]) -> None:
    """Drop the hits of yield_to terms whose other topic is raised by its own terms or subjects."""
    raised = set(subjects) | {topic for topic, hits in found.items() if any(not hit.yields for _, hit in hits)}
    for topic in list(found):
        kept = [(field, hit) for field, hit in found[topic] if not hit.yields & raised]
        if kept:
            found[topic] = kept
        else:
            del found[topic]


def _fitting(rules: tuple[Rule, ...], field: _Field, start: int, index: int):
    """Yield (rule, first key, last key) for each rule whose anchor word is word ``index``
    of the token at ``start`` and whose other words fit around it."""
    here = (start, index)
    before = max(rule.before for rule in rules)
    after = max(rule.after for rule in rules)
    prev = preceding(field.flat, start, index, before) if before else []
    nxt = following(field.flat, start, index, after) if after else []
    for rule in rules:
        if rule.simple:
            yield rule, here, here
            continue
        if len(prev) < rule.before or len(nxt) < rule.after:
            continue
        if not (
            _words_fit(rule.words[rule.anchor + 1 :], nxt)
            and _words_fit(rule.words[rule.anchor - 1 :: -1] if rule.before else (), prev)
        ):
            continue
        if rule.caps and not _capitals_fit(rule, field, here, prev, nxt):
            continue
        first = prev[rule.before - 1][1] if rule.before else here
        last = nxt[rule.after - 1][1] if rule.after else here
        yield rule, first, last


def _words_fit(words, found) -> bool:
    return all(
        text.startswith(word.text) if word.prefix else text == word.text for word, (text, _) in zip(words, found)
    )


def _capitals_fit(rule: Rule, field: _Field, here: Key, prev: list, nxt: list) -> bool:
    keys = [key for _, key in prev[: rule.before]][::-1] + [here] + [key for _, key in nxt[: rule.after]]
    return all(not letters or capitals(field.raw, field.flat, key, letters) for letters, key in zip(rule.caps, keys))


def _subject_codes(value: object) -> frozenset[str]:
    """Codes from item.extra["subjects"]: a list like ["MIGR 43", "FRONT"] or a string."""
    if isinstance(value, str):
        parts: list = [value]
    elif isinstance(value, (list, tuple, set, frozenset)):
        parts = [v for v in value if isinstance(v, str)]
    else:
        return frozenset()
    return frozenset(code.upper() for part in parts for code in _CODE_RE.findall(part))


def _few(terms: Sequence[str], shown: int = 8) -> str:
    """The first ``shown`` terms of a list, and how many more there are."""
    more = f" (and {len(terms) - shown} more)" if len(terms) > shown else ""
    return ", ".join(terms[:shown]) + more


class LazyMatcher:
    """A Matcher compiled the first time an item is to be matched. ``watcher once`` polls sources that usually bring
    nothing new, and then never pays for compiling every topic (the largest part of its CPU after the imports).
    Safe to share between threads: the pipeline matches in a worker thread, and only one of them compiles."""

    def __init__(self, topics: Sequence[Topic], relevance: Relevance | None = None):
        self._topics = tuple(topics)
        self._relevance = relevance
        self._compiled: Matcher | None = None
        self._lock = threading.Lock()

    @property
    def compiled(self) -> bool:
        """Whether the topics have been compiled yet."""
        return self._compiled is not None

    def matcher(self) -> Matcher:
        """The compiled Matcher, built on the first call."""
        if self._compiled is None:
            with self._lock:
                if self._compiled is None:
                    self._compiled = Matcher(self._topics, relevance=self._relevance)
        return self._compiled

    def match(self, item: Item) -> list[Match]:
        """As ``Matcher.match``."""
        return self.matcher().match(item)
