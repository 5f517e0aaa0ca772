"""The rule vocabulary: every term and exclusion filed under its rarest word."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from ..errors import ConfigError
from .rules import MIN_PREFIX, Pattern, Topic, Word, parse_term
from .scan import words_of

_CACHE_LIMIT = 100_000
#: (raw token, word index in it, folded word, rules filed under that word)
Anchor = tuple[bytes, int, str, "Entry"]


# Short words that open many phrases; a phrase is never filed under one of them.
_COMMON = frozenset(
    "a an and as at by de del della des di do du e en et for from het i in l la le les "
    "o of on or s se the to und van von w y z zu".split()
)
# Words found in most EU documents; a phrase is filed under another of its words if it can.
_FREQUENT = frozenset("""
    access action agency agreement approach commission conclusions cooperation council country
    countries data decision development digital directive economic european financial framework
    general implementation information international law management market mechanism member
    national new operation partnership plan policy procedure programme proposal protection public
    regulation report requirements rights rules security services state states strategy support
    system third union
    directiva direttiva diretiva reglement reglamento regolamento regulamento richtlinie verordnung
    europeenne europea europeo europaischen europaeische conseil consejo consiglio rat raad
    politique politica politik nationale nacional nazionale donnees datos dati daten
""".split())


@dataclass(frozen=True, eq=False)
class Rule:
    """One compiled term or exclusion of one topic, filed under its word ``anchor``.

    Compared by identity: each rule is one object in the index.
    """

    topic: int
    source: str
    words: tuple[Word, ...]
    anchor: int              # index of the word the rule is filed under
    caps: tuple[int, ...]    # capitals required per word; () when none
    needs: tuple[tuple[str, bytes], ...] = ()     # its other whole words (the text must have them)
    prefixes: tuple[tuple[str, bytes], ...] = ()  # its other prefixes (some word must start so)

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
    """The rules filed under one word."""

    free: tuple[Rule, ...] = ()    # single-word terms
    needy: tuple[Rule, ...] = ()   # terms that need other words in the text
    vetoes: dict[int, tuple[Rule, ...]] = field(default_factory=dict)   # exclusions by topic

    def __bool__(self) -> bool:
        return bool(self.free or self.needy or self.vetoes)


_EMPTY = Entry()


def _rarity(word: Word) -> float:
    """How unusual a word probably is in text; the rarest word of a phrase anchors it."""
    text = word.text
    if text in _COMMON:
        return 0.0
    if text in _FREQUENT:
        return 1.5
    if text.isdigit() and len(text) == 4 and text[:2] in ("19", "20"):
        return 1.0   # a year
    return len(text) - (0.5 if word.prefix else 0.0)


def make_rule(topic: int, pattern: Pattern) -> Rule:
    """Compile a pattern into a rule filed under its rarest word."""
    caps = tuple(w.caps for w in pattern.words)
    words = pattern.words
    anchor = max(range(len(words)), key=lambda i: (_rarity(words[i]), -i))
    needs = {w.text: w.text.encode() for i, w in enumerate(words) if i != anchor and not w.prefix}
    starts = {w.text: w.text.encode() for i, w in enumerate(words) if i != anchor and w.prefix}
    return Rule(topic, pattern.source, words, anchor, caps if any(caps) else (),
                tuple(needs.items()), tuple(starts.items()))


class RuleIndex:
    """Files every term and exclusion under its anchor word and finds them again from text.

    Lookups are cached per word and per raw token; tokens known to carry no rule
    are remembered so most of a text's vocabulary is skipped with one set difference.
    """

    def __init__(self, topics: Sequence[Topic]):
        exact: dict[str, tuple[list[Rule], list[Rule]]] = {}
        prefixes: dict[str, tuple[list[Rule], list[Rule]]] = {}
        self.longest_exclusion = [0] * len(topics)
        problems: list[str] = []
        for index, topic in enumerate(topics):
            for kind, raws in ((0, topic.terms), (1, topic.exclude)):
                for raw in raws:
                    pattern, problem = parse_term(raw)
                    if pattern is None:
                        problems.append(f"topic {topic.id!r}: term {raw!r} {problem}")
                        continue
                    rule = make_rule(index, pattern)
                    head = pattern.words[rule.anchor]
                    table = prefixes if head.prefix else exact
                    table.setdefault(head.text, ([], []))[kind].append(rule)
                    if kind:
                        longest = max(self.longest_exclusion[index], len(pattern.words))
                        self.longest_exclusion[index] = longest
        if problems:
            raise ConfigError(problems)
        self.exact = exact
        self.prefixes: dict[str, list[tuple[str, tuple[list[Rule], list[Rule]]]]] = {}
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
        self._misses: set[bytes] = set()   # ASCII raw tokens known to carry no rule

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
        groups = list(self.exact.values()) + [r for g in self.prefixes.values() for _, r in g]
        return sum(len(terms) + len(excludes) for terms, excludes in groups)

    def ascii_candidate(self, token: bytes) -> bool:
        """Quick test for an ASCII raw token: could a rule start with it?"""
        if token in self.exact_bytes:
            return True
        group = self.prefix_bytes.get(token[:MIN_PREFIX])
        return bool(group) and any(token.startswith(p) for p in group)

    def rules_for(self, word: str) -> Entry:
        """The rules whose anchor word accepts ``word``: equal to it, or a prefix of it."""
        found = self._cache.get(word)
        if found is None:
            if len(self._cache) > _CACHE_LIMIT:
                self._cache.clear()
            found = self._cache[word] = self._lookup(word)
        return found

    def _lookup(self, word: str) -> Entry:
        terms, excludes = self.exact.get(word, ([], []))
        terms, excludes = list(terms), list(excludes)
        for prefix, (more_terms, more_excludes) in self.prefixes.get(word[:MIN_PREFIX], ()):
            if word.startswith(prefix):
                terms += more_terms
                excludes += more_excludes
        if not terms and not excludes:
            return _EMPTY
        vetoes: dict[int, list[Rule]] = {}
        for rule in excludes:
            vetoes.setdefault(rule.topic, []).append(rule)
        return Entry(free=tuple(r for r in terms if not (r.needs or r.prefixes)),
                     needy=tuple(r for r in terms if r.needs or r.prefixes),
                     vetoes={topic: tuple(rules) for topic, rules in vetoes.items()})
