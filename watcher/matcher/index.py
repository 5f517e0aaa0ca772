"""The rule vocabulary: every term filed under its rarest word, and for each term the
exclusions that could contain it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from watcher.errors import ConfigError
from watcher.matcher.context import ContextRule
from watcher.matcher.folding import WORD_RE, fold, fold_keep_case
from watcher.matcher.rules import MIN_PREFIX, Topic, parse_term
from watcher.matcher.scan import words_of
from watcher.matcher.terms import Pattern, Word, words_fit_inside

_CACHE_LIMIT = 100_000
#: (raw token, word index in it, folded word, rules filed under that word)
Anchor = tuple[bytes, int, str, "Entry"]


# Short words that open many phrases; a phrase is never filed under one of them.
_COMMON = frozenset(
    [
        "a",
        "an",
        "and",
        "as",
        "at",
        "by",
        "de",
        "del",
        "della",
        "des",
        "di",
        "do",
        "du",
        "e",
        "en",
        "et",
        "for",
        "from",
        "het",
        "i",
        "in",
        "l",
        "la",
        "le",
        "les",
        "o",
        "of",
        "on",
        "or",
        "s",
        "se",
        "the",
        "to",
        "und",
        "van",
        "von",
        "w",
        "y",
        "z",
        "zu",
    ]
)
# Words found in most EU documents; a phrase is filed under another of its words if it can.
_FREQUENT = frozenset(
    [
        "access",
        "action",
        "agency",
        "agreement",
        "approach",
        "commission",
        "conclusions",
        "cooperation",
        "council",
        "country",
        "countries",
        "data",
        "decision",
        "development",
        "digital",
        "directive",
        "economic",
        "european",
        "financial",
        "framework",
        "general",
        "implementation",
        "information",
        "international",
        "law",
        "management",
        "market",
        "mechanism",
        "member",
        "national",
        "new",
        "operation",
        "partnership",
        "plan",
        "policy",
        "procedure",
        "programme",
        "proposal",
        "protection",
        "public",
        "regulation",
        "report",
        "requirements",
        "rights",
        "rules",
        "security",
        "services",
        "state",
        "states",
        "strategy",
        "support",
        "system",
        "third",
        "union",
        "directiva",
        "direttiva",
        "diretiva",
        "reglement",
        "reglamento",
        "regolamento",
        "regulamento",
        "richtlinie",
        "verordnung",
        "europeenne",
        "europea",
        "europeo",
        "europaischen",
        "europaeische",
        "conseil",
        "consejo",
        "consiglio",
        "rat",
        "raad",
        "politique",
        "politica",
        "politik",
        "nationale",
        "nacional",
        "nazionale",
        "donnees",
        "datos",
        "dati",
        "daten",
        "ukraine",
        "exploitation",
        "illegal",
        "entry",
        "purpose",
        "matiere",
        "materia",
    ]
)


@dataclass(frozen=True, eq=False)
class Group:
    """A ``part + part`` term: it hits when each of its ``size`` part rules hits in one field."""

    topic: int
    source: str
    size: int
    yields: frozenset[int] = frozenset()


@dataclass(frozen=True, eq=False)
class Rule:
    """One compiled term or exclusion of one topic, filed under its word ``anchor``.

    Compared by identity: each rule is one object in the index.
    """

    topic: int
    source: str
    words: tuple[Word, ...]
    anchor: int  # index of the word the rule is filed under
    caps: tuple[int, ...]  # capitals required per word; () when none
    needs: tuple[tuple[str, bytes], ...] = ()  # its other whole words (the text must have them)
    prefixes: tuple[tuple[str, bytes], ...] = ()  # its other prefixes (some word must start so)
    yields: frozenset[int] = frozenset()  # topics whose own hits cancel this term's hits
    group: Group | None = None  # the ``+`` term this rule is part ``part`` of
    part: int = 0
    ctx: int = -1  # the context rule it needs (index in RuleIndex.contexts)

    @property
    def head(self) -> Word:
        """The word the rule is filed under."""
        return self.words[self.anchor]

    @property
    def simple(self) -> bool:
        """A single word without the capitals rule: its anchor alone is a hit."""
        return len(self.words) == 1 and not self.caps

    @property
    def before(self) -> int:
        return self.anchor

    @property
    def after(self) -> int:
        return len(self.words) - self.anchor - 1


@dataclass(frozen=True, eq=False)
class Entry:
    """The terms filed under one word."""

    free: tuple[Rule, ...] = ()  # single-word terms
    needy: tuple[Rule, ...] = ()  # terms that need other words in the text

    def __bool__(self) -> bool:
        return bool(self.free or self.needy)


_EMPTY = Entry()


def _rarity(word: Word) -> float:
    """How unusual a word probably is in text; the rarest word of a phrase anchors it."""
    text = word.text
    if text in _COMMON:
        return 0.0
    if text in _FREQUENT:
        return 1.5
    if text.isdigit() and len(text) == 4 and text[:2] in ("19", "20"):
        return 1.0  # a year
    return len(text) - (0.5 if word.prefix else 0.0)


def anchor_of(words: tuple[Word, ...]) -> int:
    """The index of the word a term is filed under: its rarest, the first of equals."""
    if len(words) == 1:
        return 0
    return max(range(len(words)), key=lambda i: (_rarity(words[i]), -i))


def make_rules(topic: int, pattern: Pattern, yields: frozenset[int] = frozenset()) -> list[Rule]:
    """One rule for a plain term; one rule per part, sharing a Group, for a ``+`` term."""
    if not pattern.parts:
        return [make_rule(topic, pattern, yields)]
    group = Group(topic, pattern.source, len(pattern.parts), yields)
    rules = []
    for number, words in enumerate(pattern.parts):
        # A part is worth locating only when the field has every word of the other parts.
        others = [w for other, ws in enumerate(pattern.parts) if other != number for w in ws]
        rules.append(make_rule(topic, Pattern(pattern.source, words), group=group, part=number, others=others))
    return rules


def make_rule(
    topic: int,
    pattern: Pattern,
    yields: frozenset[int] = frozenset(),
    group: Group | None = None,
    part: int = 0,
    others: Sequence[Word] = (),
    ctx: int = -1,
) -> Rule:
    """Compile a pattern into a rule filed under its rarest word; ``others`` are the words of the other parts of
    its ``+`` term, which the field must have too."""
    words = pattern.words
    caps = tuple(w.caps for w in words)
    anchor = anchor_of(words)
    needs = {w.text: w.text.encode() for i, w in enumerate(words) if i != anchor and not w.prefix}
    starts = {w.text: w.text.encode() for i, w in enumerate(words) if i != anchor and w.prefix}
    for w in others:
        (starts if w.prefix else needs).setdefault(w.text, w.text.encode())
    return Rule(
        topic,
        pattern.source,
        words,
        anchor,
        caps if any(caps) else (),
        tuple(needs.items()),
        tuple(starts.items()),
        yields,
        group,
        part,
        ctx,
    )


def _yielding_terms(
    topics: Sequence[Topic], ids: dict[str, int], index: int, problems: list[str]
) -> dict[str, frozenset[int]]:
    """The topic's yield_to terms, each with the indices of the topics it gives way to (``ids``: topic id ->
    index, built once for all topics)."""
    topic = topics[index]
    found: dict[str, set[int]] = {}
    for other, raws in topic.yield_to:
        if ids.get(other, index) == index:
            problems.append(f"topic {topic.id!r}: yield_to names {other!r}, which is not another topic")
            continue
        for raw in raws:
            found.setdefault(raw, set()).add(ids[other])
    return {raw: frozenset(targets) for raw, targets in found.items()}


def _context_yields(
    topics: Sequence[Topic], ids: dict[str, int], index: int, context: ContextRule, problems: list[str]
) -> frozenset[int]:
    """The indices of the topics a context table's terms give way to (``ids``: topic id -> index, built once)."""
    found = set()
    for other in context.yield_to:
        if ids.get(other, index) == index:
            problems.append(
                f"topic {topics[index].id!r}: a context table's yield_to names {other!r}, which is not another topic"
            )
        else:
            found.add(ids[other])
    return frozenset(found)


MAX_REACH_KEYS = 400  # distinct word starts of a text beyond which a whole index is built instead


class Reach:
    """The terms a known text can reach, to build an index for that text alone (``watcher match 'text'``).

    A word of a term can match a word ``x`` of the text only if it is ``x`` or starts with ``x[:MIN_PREFIX]`` (a
    whole word equals ``x``; a prefix has at least MIN_PREFIX letters and starts ``x``). A term none of whose words
    passes that test can never hit that text, nor can an exclusion or a context marker; the others are compiled as
    usual, in the file's order, so every rule whose anchor word the text can look up is there, with the same
    neighbours, and the text's matches are those of the whole index.
    """

    def __init__(self, text: str):
        words = set(WORD_RE.findall(fold(text)))
        self.words = frozenset(words)
        self.by_start: dict[str, list[str]] = {}
        for word in words:
            self.by_start.setdefault(word[:MIN_PREFIX], []).append(word)
        self.short = frozenset(w for w in words if len(w) < MIN_PREFIX)
        self.starts = frozenset(w[:MIN_PREFIX] for w in words if len(w) >= MIN_PREFIX)
        # A short word whole, a word start at a word's start; the word edge is tested after the letters, so the
        # search skips ahead on the letters instead of stopping at every edge.
        keys = [rf"{re.escape(w)}(?<!\w.{{{len(w)}}})(?!\w)" for w in sorted(self.short)] + [
            rf"{re.escape(k)}(?<!\w.{{{len(k)}}})" for k in sorted(self.starts)
        ]
        self._find = re.compile("|".join(keys)) if keys else None

    @classmethod
    def of(cls, text: str | None) -> Reach | None:
        """The reach of ``text``, or None (build everything) when there is no text or it has too many words."""
        if text is None:
            return None
        reach = cls(text)
        return reach if len(reach.short) + len(reach.starts) <= MAX_REACH_KEYS else None

    def covers(self, text: str) -> bool:
        """True when every word of ``text`` is one the reach was made for (so its index answers ``text``)."""
        return all(
            (w in self.short) if len(w) < MIN_PREFIX else (w[:MIN_PREFIX] in self.starts)
            for w in WORD_RE.findall(fold(text))
        )

    def looks_up(self, word: Word) -> bool:
        """True when some word of the text finds a rule filed under ``word`` (see ``RuleIndex.rules_for``)."""
        if not word.prefix:
            return word.text in self.words
        return any(w.startswith(word.text) for w in self.by_start.get(word.text[:MIN_PREFIX], ()))

    def keep(self, raws: tuple[str, ...]) -> tuple[str, ...]:
        """The terms of ``raws`` that have a word the text could match, in their order."""
        if not raws or self._find is None:
            return ()
        # Terms are folded as parse_term folds them (fold_keep_case, then each word with fold): per character, so
        # each folded term is one line of the folded list.
        joined = fold(fold_keep_case("\n".join(raws)))
        if joined.count("\n") != len(raws) - 1:
            return raws  # a term spans lines; keep them all
        kept: list[str] = []
        line, at, last = 0, 0, -1
        for found in self._find.finditer(joined):
            line += joined.count("\n", at, found.start())  # the line of this match, counted from the last one
            at = found.start()
            if line != last:
                kept.append(raws[line])
                last = line
        return tuple(kept)


class RuleIndex:
    """Files every term under its anchor word and finds them again from text; lists for
    each term the exclusions of its topic that could contain it.

    Lookups are cached per word and per raw token; tokens known to carry no rule
    are remembered so most of a text's vocabulary is skipped with one set difference.
    """

    def __init__(self, topics: Sequence[Topic], reach: Reach | None = None):
        keep = reach.keep if reach is not None else (lambda raws: raws)

        def reached(pattern: Pattern) -> bool:
            """With a reach, a term none of whose parts is filed under a word the text looks up is left out: it could
            never be found (see ``Reach``)."""
            parts = pattern.parts or (pattern.words,)
            return reach is None or any(reach.looks_up(part[anchor_of(part)]) for part in parts)

        exact: dict[str, list[Rule]] = {}
        prefixes: dict[str, list[Rule]] = {}
        self.vetoers: dict[Rule, Vetoers] = {}
        self.contexts: list[ContextRule] = []
        self._count = 0
        problems: list[str] = []
        ids = {topic.id: number for number, topic in enumerate(topics)}
        for index, topic in enumerate(topics):
            yielding = _yielding_terms(topics, ids, index, problems)
            terms = [
                rule
                for raw, p in _patterns(topic, keep(topic.terms + tuple(yielding)), problems)
                if reached(p)
                for rule in make_rules(index, p, yielding.get(raw, frozenset()))
                if reach is None or reach.looks_up(rule.head)
            ]
            for context in topic.context:
                self.contexts.append(context)
                gives_way = _context_yields(topics, ids, index, context, problems)
                terms += [
                    make_rule(index, p, gives_way, ctx=len(self.contexts) - 1)
                    for _, p in _patterns(topic, keep(context.terms), problems)
                    if reached(p)
                ]
            exclusions = [
                make_rule(index, p)
                for _, p in _patterns(topic, keep(topic.exclude), problems)
                if not _joined(topic, p, problems) and reached(p)
            ]
            self._count += len(terms) + len(exclusions)
            for rule in terms:
                (prefixes if rule.head.prefix else exact).setdefault(rule.head.text, []).append(rule)
            self.vetoers.update(_vetoers(terms, exclusions))
        if problems:
            raise ConfigError(problems)
        self.exact = exact
        self.prefixes: dict[str, list[tuple[str, list[Rule]]]] = {}
        for prefix, rules in prefixes.items():
            self.prefixes.setdefault(prefix[:MIN_PREFIX], []).append((prefix, rules))
        # Byte forms for the ASCII fast path.
        self.exact_bytes = frozenset(w.encode() for w in self.exact if w.isascii())
        self.prefix_bytes: dict[bytes, tuple[bytes, ...]] = {}
        for key, group in self.prefixes.items():
            if key.isascii():
                self.prefix_bytes[key.encode()] = tuple(p.encode() for p, _ in group if p.isascii())
        self._cache: dict[str, Entry] = {}
        self._token_cache: dict[bytes, list[Anchor]] = {}
        self._misses: set[bytes] = set()  # ASCII raw tokens known to carry no rule

    def anchors(self, distinct: set[bytes]) -> tuple[list[Anchor], set[str]]:
        """Every anchor among a field's distinct raw tokens, and the words of its
        non-ASCII tokens (ASCII tokens are words already)."""
        found: list[Anchor] = []
        folded: set[str] = set()
        cache = self._token_cache
        for token in distinct - self._misses:
            anchors = cache.get(token)
            if anchors is None:
                anchors = self._token_anchors(token)
                if not anchors and token.isascii():
                    if len(self._misses) > _CACHE_LIMIT:
                        self._misses.clear()
                    self._misses.add(token)
                    continue
                if len(cache) > _CACHE_LIMIT:
                    cache.clear()
                cache[token] = anchors
            if not token.isascii():
                folded.update(words_of(token))
            found.extend(anchors)
        return found, folded

    def _token_anchors(self, token: bytes) -> list[Anchor]:
        if token.isascii():
            if token in self.exact_bytes or self.ascii_candidate(token):
                word = token.decode("ascii")
                entry = self.rules_for(word)
                return [(token, 0, word, entry)] if entry else []
            return []
        found = []
        for position, word in enumerate(words_of(token)):
            entry = self.rules_for(word)
            if entry:
                found.append((token, position, word, entry))
        return found

    def __len__(self) -> int:
        return self._count

    def ascii_candidate(self, token: bytes) -> bool:
        """Quick test for an ASCII raw token: could a rule start with it?"""
        if token in self.exact_bytes:
            return True
        return any(token.startswith(p) for p in self.prefix_bytes.get(token[:MIN_PREFIX], ()))

    def rules_for(self, word: str) -> Entry:
        """The rules whose anchor word accepts ``word``: equal to it, or a prefix of it."""
        found = self._cache.get(word)
        if found is None:
            if len(self._cache) > _CACHE_LIMIT:
                self._cache.clear()
            found = self._cache[word] = self._lookup(word)
        return found

    def _lookup(self, word: str) -> Entry:
        terms = list(self.exact.get(word, ()))
        for prefix, more in self.prefixes.get(word[:MIN_PREFIX], ()):
            if word.startswith(prefix):
                terms += more
        if not terms:
            return _EMPTY
        return Entry(
            free=tuple(r for r in terms if not (r.needs or r.prefixes)),
            needy=tuple(r for r in terms if r.needs or r.prefixes),
        )


def _patterns(topic: Topic, raws: tuple[str, ...], problems: list[str]) -> list[tuple[str, Pattern]]:
    """Compiled terms of one list, each with its source; problems are collected, not raised."""
    found = []
    for raw in raws:
        pattern, problem = parse_term(raw)
        if pattern is None:
            problems.append(f"topic {topic.id!r}: term {raw!r} {problem}")
        else:
            found.append((raw, pattern))
    return found


def _joined(topic: Topic, pattern: Pattern, problems: list[str]) -> bool:
    """True (and a problem noted) for an exclusion written with '+'."""
    if pattern.parts:
        problems.append(
            f"topic {topic.id!r}: exclusion {pattern.source!r} joins parts with '+', which only terms may do"
        )
    return bool(pattern.parts)


@dataclass(frozen=True)
class Vetoers:
    """The exclusions that could contain hits of one term, by their anchor word."""

    longest: int  # words in the longest of them
    exact: dict[str, tuple[Rule, ...]]  # filed under a whole word
    prefixed: tuple[Rule, ...]  # filed under a prefix

    def anchored_at(self, word: str) -> tuple[Rule, ...]:
        """Those whose anchor word accepts ``word``."""
        found = self.exact.get(word, ())
        if self.prefixed:
            found += tuple(rule for rule in self.prefixed if word.startswith(rule.head.text))
        return found


def _vetoers(terms: list[Rule], exclusions: list[Rule]) -> dict[Rule, Vetoers]:
    """For each term, the exclusions that could contain a hit of it (see ``words_fit_inside``)."""
    # Compatible words share their first letters (a prefix has at least MIN_PREFIX of them).
    by_word: dict[str, list[tuple[frozenset[str], Rule]]] = {}
    for rule in exclusions:
        keys = frozenset(w.text[:MIN_PREFIX] for w in rule.words)
        for key in keys:
            by_word.setdefault(key, []).append((keys, rule))
    found = {}
    for term in terms:
        needed = {w.text[:MIN_PREFIX] for w in term.words}
        fitting = [
            rule
            for keys, rule in by_word.get(term.words[0].text[:MIN_PREFIX], ())
            if needed <= keys and words_fit_inside(term.words, rule.words)
        ]
        if fitting:
            exact: dict[str, list[Rule]] = {}
            for rule in fitting:
                if not rule.head.prefix:
                    exact.setdefault(rule.head.text, []).append(rule)
            found[term] = Vetoers(
                max(len(rule.words) for rule in fitting),
                {word: tuple(rules) for word, rules in exact.items()},
                tuple(rule for rule in fitting if rule.head.prefix),
            )
    return found
