"""Topics and their terms: the data model, term syntax and validation of topics.toml.

Term syntax (no regular expressions):

* ``frontex``: a whole word, compared after folding (case, accents, ligatures).
* ``migrant smuggling``: a phrase; its words must follow each other in the text,
  with any spaces or punctuation between them (``eu-LISA`` = ``eu LISA``).
* ``smuggl*``: a prefix; matches any word starting with ``smuggl`` (at least
  4 letters before the ``*``). A ``*`` may end any word of a phrase.
* ``SIS``: an acronym (a word written in capitals, at most 5 characters, with
  an optional lower-case plural ``s`` as in ``JITs``) only matches when the text
  writes those letters in capitals too (``SIS`` but not ``sis``). Write it in
  lower case to match any case.
* ``per person + crossing*``: words together in one field. Each part (a word,
  phrase or prefix) must occur somewhere in the same field, in any order.
  Allowed in terms only, not in exclusions.

A topic's ``yield_to`` table lists, under another topic's id, terms that count
only when that other topic is not raised by its own ordinary terms or subjects
(``smuggling = ["migrant*"]`` in migration: a smuggling story that mentions
migrants does not also raise migration).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import chain, compress
from operator import ne
from typing import NamedTuple

from watcher.i18n import TRANSLATED
from watcher.matcher.context import ContextRule, contexts_from_toml
from watcher.matcher.folding import WORD_RE, fold, fold_keep_case
from watcher.matcher.stopwords import STOPWORDS, common_language, too_common
from watcher.matcher.terms import Pattern, TermParts, Word, key_text

FIELDS = ("title", "summary", "body")
KEYS = (
    "id", "label", "name", "terms", "exclude", "fields", "subjects", "doc_types", "relevance", "irrelevant_below",
    "never_dropped", "yield_to", "context",
)  # fmt: skip
MIN_PREFIX = 4
MAX_CAPS = 5
MAX_PARTS = 4
_SLUG_RE = re.compile(r"[a-z0-9_-]+")
_CODE_RE = re.compile(r"[A-Za-z]+")
_REGEX_HINTS = ("|", "\\", "^", "$", "?", "+", "{", "}", "[", "]", ".*", "(", ")")

# A list of terms every one of which is certainly valid, checked in one pass over the folded list (one term a line).
# It accepts only a subset of what ``parse_term`` and ``too_common`` accept: ASCII words after folding, a few
# separators, a '*' right after a word of at least MIN_PREFIX letters, at most MAX_PARTS parts joined by '+', and (in
# terms and exclusions) no part made only of stopwords and short words. Anything else is checked term by term.
_ALNUM = "[A-Za-z0-9]"
_SEP = "[ \t'/.,:;&\"-]"
# A word, with a '*' after it only if at least MIN_PREFIX letters come before: the '*' is matched first, so the
# look-behind runs only at stars, not at the end of every word.
_TOKEN = f"{_ALNUM}++(?:\\*(?<={_ALNUM}{{{MIN_PREFIX}}}\\*))?"
_PART = f"{_SEP}*+{_TOKEN}(?:{_SEP}++{_TOKEN})*+{_SEP}*+"
_PARTS_OVER = re.compile("[^\\n+]*".join(["\\+"] * MAX_PARTS))  # MAX_PARTS '+' in one line: too many parts
# A word no longer than the longest stopword, without a star; a part made only of them may be too common.
_SHORT = f"{_ALNUM}{{1,{max(len(w) for words in STOPWORDS.values() for w in words)}}}+(?![A-Za-z0-9*])"


# The words of a simple term (see _simple_term), each with the '*' that may end it.
_WORD_STAR = re.compile(r"([A-Za-z0-9]+)(\*?)")


@cache
def _simple_term() -> re.Pattern[str]:
    """The commonest terms, valid for certain and parsed in two regex calls: ASCII words (letters and digits, so
    exactly the words WORD_RE finds in them), separated by the separators of the one-pass check (none of which is a
    regex hint), a '*' only right after a word of at least MIN_PREFIX letters. Anything else takes every check."""
    return re.compile(f"{_TOKEN}(?:{_SEP}++{_TOKEN})*+", re.ASCII)


@cache
def _plain(what: str) -> re.Pattern[str]:
    """The one-pass patterns, compiled when first needed (they are part of checking topics, not of loading code):
    "lines", every part (ended by '+' or a newline) in the grammar; "short", the parts made only of short words."""
    if what == "lines":
        return re.compile(f"(?:{_PART}[+\\n])+", re.ASCII)
    return re.compile(f"[+\\n]({_SEP}*+{_SHORT}(?:{_SEP}++{_SHORT})*+{_SEP}*+)(?=[+\\n])", re.ASCII)


def plain_terms(values: object, kind: str) -> bool:
    """True when every string of the list ``values`` is certainly a valid term of that ``kind`` ("term",
    "exclusion" or "context"), found in one pass; False means "check them one by one", not that one is wrong."""
    if not isinstance(values, list) or not values:
        return False
    try:
        joined = "\n".join(values)
    except TypeError:
        return False
    if joined.count("\n") != len(values) - 1:
        return False  # a term spans lines
    folded = "\n" + fold_keep_case(joined) + "\n"
    if folded.count("+") != joined.count("+"):
        return False  # folding made a '+' (a full-width plus) that parse_term would call a regex hint
    if "+" in joined and (kind != "term" or _PARTS_OVER.search(folded) is not None):
        return False  # '+' outside terms, or a term of too many parts
    if _plain("lines").fullmatch(folded, 1) is None:
        return False
    if kind == "context":
        return True  # context lists are not checked for stopwords
    return not any(
        all(common_language(word.lower()) for word in WORD_RE.findall(part)) for part in _plain("short").findall(folded)
    )


# The keys of terms as strings (``key_text``), for the checks that compare a topic's terms (repeated, excluded, also
# in yield_to or context): made for a whole list at once with string methods, without parsing its terms one by one.
# Folded, a list that uses only these characters is ASCII words, separators, '*' and '+' (checked before folding
# made a '+', as in plain_terms).
_KEY_CHARS = re.compile(r"[A-Za-z0-9 \t'/.,:;&\"*+\n-]*")
_SEPARATORS = str.maketrans(" \t'/.,:;&\"-", " " * 11)  # each separator of a term becomes a space
# A word written as an acronym (``acronym_length``): a capital, maybe digits before it, in at most MAX_CAPS capitals
# and digits, maybe a lower-case plural 's' after them; the whole word.
_ACRONYM = re.compile(f"(?<![A-Za-z0-9])(?=[0-9]*[A-Z])([A-Z0-9]{{1,{MAX_CAPS}}})s?(?![A-Za-z0-9])")


def _caps_mark(found: re.Match[str]) -> str:
    """An acronym as ``key_text`` writes it, lower case then its capitals' count (``JITs``: ``jits^3``)."""
    return f"{found.group().lower()}^{len(found.group(1))}"


def term_keys(raws: list[str]) -> list[str]:
    """``key_text`` of each term of ``raws``, every one of which is valid (``parse_term`` gives a pattern).

    Made for the whole list at once when it folds to ASCII words, separators, '*' and '+': acronyms marked, then
    lower case, separators as single spaces and no space around '+', each line one key. Otherwise from each term's
    pattern. (tests/test_term_parsing.py checks both ways give the same keys.)"""
    joined = "\n".join(raws)
    folded = fold_keep_case(joined)
    if (
        joined.count("\n") != len(raws) - 1
        or folded.count("+") != joined.count("+")
        or _KEY_CHARS.fullmatch(folded) is None
    ):
        return [key_text(compile_term(raw)) for raw in raws]
    text = folded.lower()
    if text != folded:  # some capitals: mark the acronyms in the few lines that have some
        lines, lowered = folded.split("\n"), text.split("\n")
        for at in compress(range(len(lines)), map(ne, lines, lowered)):
            lowered[at] = _ACRONYM.sub(_caps_mark, lines[at]).lower()
        text = "\n".join(lowered)
    text = text.translate(_SEPARATORS)
    if "  " in text:
        text = " ".join(filter(None, text.split(" ")))
    text = text.replace(" +", "+").replace("+ ", "+").replace(" \n", "\n").replace("\n ", "\n").strip(" ")
    keys = text.split("\n")
    if len(keys) != len(raws):
        return [key_text(compile_term(raw)) for raw in raws]
    return keys


_CAPS_MARK = re.compile(r"\^[0-9]")


def loose_parts(keys: list[str]) -> list[str]:
    """The parts of the terms of these keys, as loose keys (``key_text`` with ``caps=False``)."""
    text = "\n".join(keys)
    if "^" in text:
        text = _CAPS_MARK.sub("", text)
    return text.replace("+", "\n").split("\n") if text else []


@dataclass(frozen=True)
class Topic:
    """One topic the maintainers watch, as written in topics.toml."""

    id: str
    label: str
    terms: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    fields: tuple[str, ...] = FIELDS
    subjects: tuple[str, ...] = ()
    doc_types: tuple[str, ...] = ()
    #: (other topic id, terms): these terms count only when that topic is not raised
    #: by its own ordinary terms or subjects.
    yield_to: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: terms that count only with their context (see ``watcher.matcher.context``)
    context: tuple[ContextRule, ...] = ()
    #: (language code, label in that language) for the bot's other languages (``name.fr = "…"``)
    names: tuple[tuple[str, str], ...] = ()
    #: the probability the relevance model (``watcher.matcher.model``) must reach to raise the topic when its terms
    #: did not; None: the model never raises it
    relevance: float | None = None
    #: a hit of the topic's terms found only in the title and summary is dropped when the relevance model gives the
    #: topic a probability below this; None: the model never drops one
    irrelevant_below: float | None = None
    #: terms of the topic (plain, yield_to or context terms, as written) whose hits ``irrelevant_below`` never drops:
    #: names that mean the topic wherever they occur (a regulation, a system), which the model may not know
    never_dropped: tuple[str, ...] = ()

    def label_in(self, language: str) -> str:
        """The label in that language, or the English ``label`` when the file gives none."""
        return dict(self.names).get(language, self.label)


def compile_term(raw: str) -> Pattern:
    """Compile one term; raise ValueError with the fix when it is not valid."""
    pattern, problem = parse_term(raw)
    if pattern is None:
        raise ValueError(problem)
    return pattern


@lru_cache(maxsize=16384)  # a term checked on its own in topics.toml is parsed again when it is compiled
def parse_term(raw: str) -> tuple[Pattern | None, str]:
    """Compile one term: (pattern, "") or (None, what is wrong and how to fix it). Patterns are immutable, so the
    result is cached."""
    if "+" in raw:
        return _parse_together(raw)
    text = raw.strip()
    if not text.isascii() or "_" in text:
        text = fold_keep_case(text)  # (an ASCII text without '_' folds to itself)
    if _simple_term().fullmatch(text):
        # _words_made[w] makes a word it does not hold yet (its __missing__), so a word made before costs no call
        return _new_pattern(Pattern, (raw, tuple(map(_words_made.__getitem__, _WORD_STAR.findall(text))), ())), ""
    return _parse_words(raw, text)


def _parse_words(raw: str, text: str) -> tuple[Pattern | None, str]:
    """``parse_term`` for any term without '+', ``text`` being the term stripped and folded except for its case:
    every check, in order, with the first problem found."""
    if not text:
        return None, "is empty; remove it"
    for hint in _REGEX_HINTS:
        if hint in text:
            return None, (
                f"contains {hint!r}; terms are plain words, phrases or word* prefixes, "
                "not regular expressions: write one term per alternative"
            )
    words: list[Word] = []
    pos = 0
    for found in WORD_RE.finditer(text):
        start, end = found.span()
        prefix = text[end : end + 1] == "*"
        written = found.group()
        problem = _star_problem(text[pos:start]) or _word_problem(written, prefix)
        pos = end + 1 if prefix else end
        if prefix and text[pos : pos + 1].isalnum():
            problem = "has a '*' inside a word; a star may only end a word, e.g. smuggl*"
        if problem:
            return None, problem
        key = (written, "*" if prefix else "")
        words.append(_words_made.get(key) or _new_word(key))
    problem = _star_problem(text[pos:])
    if problem:
        return None, problem
    if not words:
        return None, "has no letters or digits after folding; remove it"
    return Pattern(source=raw, words=tuple(words)), ""


_WORD_LIMIT = 50_000
_new_pattern = tuple.__new__  # Pattern(...) or Word(...) without the Python frame of a named tuple's __new__


class _Words(dict[tuple[str, str], Word]):
    """The Word of each word of the terms parsed, by (word as written, folded except for its case; "*" or ""): the
    same word in many terms is one object (Words are immutable), since folding it and counting its capitals is most
    of the cost of parsing a term. Looking up a word it does not hold makes it as a simple term's word (ASCII
    letters and digits); other words are made with ``_new_word``."""

    def keep(self, key: tuple[str, str], word: Word) -> Word:
        """``word`` kept under ``key``; the table starts again when it has grown past ``_WORD_LIMIT``."""
        if len(self) > _WORD_LIMIT:
            self.clear()
        self[key] = word
        return word

    def __missing__(self, key: tuple[str, str]) -> Word:
        """``_new_word`` for a word of ASCII letters and digits (a simple term's), which ``fold`` only lower-cases."""
        written, star = key
        return self.keep(key, _new_pattern(Word, (written.lower(), star == "*", acronym_length(written))))


_words_made = _Words()
_new_ascii_word = _words_made.__missing__


def _new_word(key: tuple[str, str]) -> Word:
    written, star = key
    return _words_made.keep(key, Word(fold(written), star == "*", acronym_length(written)))


@lru_cache(maxsize=16384)
def _checked_term(raw: str) -> tuple[Pattern | None, str]:
    """``parse_term``, then ``too_common`` for a term that parses: (pattern, "") for a valid term, else the
    pattern (None when it does not parse) and what is wrong. Cached like parse_term, for a topics file read again."""
    pattern, problem = parse_term(raw)
    if pattern is None:
        return None, problem
    return pattern, too_common(pattern)


def _parse_together(raw: str) -> tuple[Pattern | None, str]:
    """A ``part + part`` term: every part must occur in the same field."""
    pieces = raw.split("+")
    if len(pieces) > MAX_PARTS:
        return None, f"has more than {MAX_PARTS} parts joined by '+'; split it into several terms"
    parts = []
    for piece in pieces:
        if not piece.strip():
            return None, "has an empty part around '+'; write e.g. \"per person + crossing*\""
        pattern, problem = parse_term(piece)
        if pattern is None:
            return None, f"(part {piece.strip()!r}) {problem}"
        parts.append(pattern.words)
    return Pattern(source=raw, words=parts[0], parts=tuple(parts)), ""


def _star_problem(gap: str) -> str:
    if "*" in gap:
        return "has a '*' that does not end a word; write it straight after at least 4 letters, e.g. smuggl*"
    return ""


def _word_problem(word: str, prefix: bool) -> str:
    """``word`` is one word of the term, already folded except for its case."""
    if prefix and len(word) < MIN_PREFIX:
        return f"is a prefix shorter than {MIN_PREFIX} letters; write at least {MIN_PREFIX} letters before *"
    return ""


def acronym_length(word: str) -> int:
    """Capital letters an acronym-style word requires (``SIS``: 3, ``JITs``: 3), else 0."""
    stem = word[:-1] if len(word) > 1 and word.endswith("s") else word
    if stem.isupper() and len(stem) <= MAX_CAPS:
        return len(stem)
    return 0


def topics_from_toml(
    data: dict, filename: str = "topics.toml", *, warnings: bool = True
) -> tuple[list[Topic], list[str], list[str]]:
    """Build topics from parsed TOML; return (topics, errors, warnings), one line each.

    With ``warnings=False`` the checks that only warn (repeated terms, terms also excluded, exclusions that veto
    nothing, context terms also plain terms) are skipped: they never change which topics a text raises, and
    ``watcher match`` needs only the errors. Every error is still found, with the same message.
    """
    errors: list[str] = []
    notes: list[str] = []
    entries = _entries(data, filename, errors)
    built: list[tuple[_EntryChecker, Topic]] = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        checker = _EntryChecker(filename, number, entry, warnings)
        topic = checker.build(seen)
        errors.extend(checker.errors)
        notes.extend(checker.warnings)
        if topic is not None:
            seen.add(topic.id)
            built.append((checker, topic))
    topics = []
    for checker, topic in built:
        unknown = checker.unknown_targets(seen, topic.id, topic.context)
        errors.extend(unknown)
        if not unknown and not checker.errors:
            topics.append(topic)
    return topics, errors, notes


def _entries(data: dict, filename: str, errors: list[str]) -> list:
    for key in data:
        if key != "topic":
            errors.append(
                f"{filename}: unknown top-level key {key!r}; write each topic as a "
                "[[topic]] table (double brackets) and put its settings inside it"
            )
    entries = data.get("topic")
    if entries is None:
        errors.append(f"{filename}: no [[topic]] tables found; add at least one topic")
        return []
    if not isinstance(entries, list):
        errors.append(f"{filename}: 'topic' must be written [[topic]] (double brackets), once per topic")
        return []
    return entries


class _EntryChecker:
    """Validates one [[topic]] table and collects its errors and warnings."""

    def __init__(self, filename: str, number: int, entry: object, warnings: bool = True):
        self.filename = filename
        self.full = warnings  # False: errors only
        self.entry = entry if isinstance(entry, dict) else {}
        self.name = f"topic #{number}"
        self.errors: list[str] = []
        self.warnings: list[str] = []
        if not isinstance(entry, dict):
            self.error("is not a table; write it as [[topic]] followed by key = value lines")

    def error(self, text: str) -> None:
        self.errors.append(f"{self.filename}: {self.name}: {text}")

    def unknown_targets(self, ids: set[str], own: str, contexts: tuple[ContextRule, ...]) -> list[str]:
        """Errors for yield_to entries (of [topic.yield_to] or of a context table) naming a topic the file does not
        define, or the topic itself."""
        known = ", ".join(sorted(ids)) or "none"
        value = self.entry.get("yield_to")
        found = [
            f"{self.filename}: {self.name}: yield_to names unknown topic {target!r} (topics: {known}); "
            "write [topic.yield_to] after the topic's other keys, since keys below it belong to it"
            for target in (value if isinstance(value, dict) else ())
            if target not in ids
        ]
        for number, rule in enumerate(contexts, start=1):
            for target in rule.yield_to:
                if target == own:
                    found.append(
                        f"{self.filename}: {self.name}: context #{number}: yield_to names the topic itself "
                        f"({target!r}); name another topic"
                    )
                elif target not in ids:
                    found.append(
                        f"{self.filename}: {self.name}: context #{number}: yield_to names unknown topic "
                        f"{target!r} (topics: {known})"
                    )
        return found

    def warn(self, text: str) -> None:
        self.warnings.append(f"{self.filename}: {self.name}: {text}")

    def build(self, seen: set[str]) -> Topic | None:
        """Return the Topic when id, label and terms are usable, else None."""
        if self.errors:
            return None
        topic_id = self._id(seen)
        self._unknown_keys()
        label = self._label()
        names = self._names()
        terms = self._terms("terms", required=True)
        exclude = self._terms("exclude", required=False)
        fields = self._fields()
        subjects = self._subjects()
        doc_types = self._strings("doc_types", example='["NOTE", "I/A ITEM NOTE"]')
        relevance = self._relevance()
        irrelevant_below = self._irrelevant_below(relevance)
        yields = self._yield_to(topic_id)
        # The keys of the terms (term_keys): two terms with the same key match the same texts.
        keys = term_keys(terms) if self.full and terms else []
        # Each key of the topic's terms with the last term written with it (the checks name that one).
        ordinary = dict(zip(keys, terms or ()))
        contexts, in_context = self._contexts(ordinary)
        never_dropped = self._never_dropped(terms or [], yields, contexts, irrelevant_below)
        if self.full:
            yielding = [raw for _, group in yields for raw in group]
            self._cross_check(_Keyed(terms or [], keys), ordinary, _keyed(exclude or []), _keyed(yielding), in_context)
        if topic_id is None or label is None or terms is None:
            return None
        return Topic(
            id=topic_id,
            label=label,
            terms=tuple(terms),
            exclude=tuple(exclude or ()),
            fields=fields,
            subjects=subjects,
            doc_types=doc_types,
            yield_to=tuple((other, tuple(group)) for other, group in yields),
            context=tuple(contexts),
            names=names,
            relevance=relevance,
            irrelevant_below=irrelevant_below,
            never_dropped=never_dropped,
        )

    def _never_dropped(
        self,
        terms: list[str],
        yields: list[tuple[str, list[str]]],
        contexts: list[ContextRule],
        irrelevant_below: float | None,
    ) -> tuple[str, ...]:
        """``never_dropped = ["eurosur"]``: terms of the topic, written as in its terms, yield_to or context terms,
        whose hits the relevance model's ``irrelevant_below`` never drops."""
        listed = self._strings("never_dropped", example='["eurosur", "entry/exit system"]')
        if not listed:
            return ()
        written = {raw.strip() for raw in terms}
        written.update(raw.strip() for _, group in yields for raw in group)
        written.update(raw.strip() for rule in contexts for raw in rule.terms)
        by_case = {term.lower(): term for term in written}
        seen: set[str] = set()
        for raw in listed:
            if raw in seen:
                self.warn(f"never_dropped {raw!r} is listed twice; remove one")
            seen.add(raw)
            if raw in written:
                continue
            if " (near " in raw:
                hint = "list the context term alone, without its '(near …)' part as watcher match shows it"
            elif raw.lower() in by_case:
                hint = f"the term is written {by_case[raw.lower()]!r}; write it the same way"
            else:
                hint = "write it exactly as the term is written there, or remove it"
            self.error(f"never_dropped {raw!r} is none of the topic's terms (terms, yield_to or context terms); {hint}")
        if irrelevant_below is None:
            self.warn("never_dropped does nothing without irrelevant_below (the model drops no hit); remove it")
        return listed

    def _relevance(self) -> float | None:
        """``relevance = 0.6``: the probability, strictly between 0 and 1, the relevance model needs for the topic."""
        value = self.entry.get("relevance")
        if value is None:
            return None
        if type(value) not in (int, float) or not 0 < value < 1:
            self.error(
                f"relevance {value!r} is not a probability between 0 and 1; write e.g. relevance = 0.6 (the "
                "relevance model raises the topic from that probability on), or remove it so the model never does"
            )
            return None
        return float(value)

    def _irrelevant_below(self, relevance: float | None) -> float | None:
        """``irrelevant_below = 0.02``: a probability, strictly between 0 and 1 and below the topic's ``relevance``,
        under which the relevance model drops a hit the terms found in the title and summary alone."""
        value = self.entry.get("irrelevant_below")
        if value is None:
            return None
        if type(value) not in (int, float) or not 0 < value < 1:
            self.error(
                f"irrelevant_below {value!r} is not a probability between 0 and 1; write e.g. irrelevant_below = 0.02 "
                "(a hit of the terms in the title or summary alone is dropped when the relevance model gives the "
                "topic less), or remove it so the model never drops one"
            )
            return None
        if relevance is not None and value >= relevance:
            self.error(
                f"irrelevant_below {value!r} is not below relevance {relevance!r}; the model cannot both raise and "
                "drop the topic at one probability: lower irrelevant_below (e.g. 0.02) or raise relevance"
            )
            return None
        return float(value)

    def _contexts(self, plain: dict[str, str]) -> tuple[list[ContextRule], _Keyed]:
        """The context rules and, in full checks, their terms each with its key (else no terms); in full checks, a
        warning for each context term also among the topic's terms (the keys of ``plain``)."""
        # A list found valid in one pass needs no term parsed: the checks below compare the rules' terms by their
        # keys, and nothing compares near or unless terms. The lists of all tables are checked in that one pass
        # first, each distinct term once; only if that pass is unsure is each list checked on its own.
        tables = self.entry.get("context")
        known = _plain_context_terms(tables)
        rules, errors = contexts_from_toml(
            tables,
            parse_term,
            f"{self.filename}: {self.name}",
            lambda values: (
                (
                    type(values) is list
                    and bool(values)
                    and all(type(v) is str for v in values)
                    and known.issuperset(values)
                )
                or plain_terms(values, "context")
            ),
        )
        self.errors.extend(errors)
        if not self.full:
            return rules, _Keyed([], [])
        in_context = _keyed([raw for rule in rules for raw in rule.terms])
        if not plain.keys().isdisjoint(in_context.keys):
            for raw, key in zip(*in_context):
                if key in plain:
                    self.warn(
                        f"context term {raw!r} is also listed in terms as {plain[key]!r}, so it "
                        "counts without its context; remove it from terms"
                    )
        return rules, in_context

    def _id(self, seen: set[str]) -> str | None:
        value = self.entry.get("id")
        if not isinstance(value, str) or not value.strip():
            self.error('has no id; add id = "short-name" (lower-case letters, digits, - or _)')
            return None
        self.name = f"topic {value!r}"
        if not _SLUG_RE.fullmatch(value):
            self.error('id must use only lower-case letters, digits, - and _, e.g. id = "borders"')
        if value in seen:
            self.error("id is already used by an earlier topic; give each topic its own id")
        return value

    def _unknown_keys(self) -> None:
        for key in self.entry:
            if key not in KEYS:
                close = difflib.get_close_matches(key, KEYS, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                self.error(f"unknown key {key!r}; {hint}allowed keys are {', '.join(KEYS)}")

    def _label(self) -> str | None:
        value = self.entry.get("label")
        if not isinstance(value, str) or not value.strip():
            self.error('has no label; add label = "Readable name" (shown in alerts)')
            return None
        return value.strip()

    def _names(self) -> tuple[tuple[str, str], ...]:
        """The label in the bot's other languages: ``name.fr = "…"``, ``name.de = "…"``."""
        value = self.entry.get("name")
        if value is None:
            return ()
        codes = ", ".join(TRANSLATED)
        if not isinstance(value, dict):
            self.error(
                f'name must give the label in other languages, one line each: name.fr = "…", name.de = "…" '
                f"(languages: {codes}; the English one is label)"
            )
            return ()
        names = []
        for code, text in value.items():
            if code not in TRANSLATED:
                self.error(
                    f"name.{code}: the bot does not speak {code!r}; use one of {codes} (the English name is label), "
                    f"or remove the line"
                )
            elif not isinstance(text, str) or not text.strip():
                self.error(f'name.{code} must be a non-empty text, e.g. name.{code} = "…"')
            else:
                names.append((code, text.strip()))
        return tuple(names)

    def _yield_to(self, topic_id: str | None) -> list[tuple[str, list[str]]]:
        value = self.entry.get("yield_to")
        if value is None:
            return []
        if not isinstance(value, dict):
            self.error(
                "'yield_to' must be a table of topic ids and term lists, written as "
                '[topic.yield_to] followed by lines such as smuggling = ["migrant*"]'
            )
            return []
        groups = []
        for other, raws in value.items():
            if other == topic_id:
                self.error(f"yield_to names the topic itself ({other!r}); name another topic")
                continue
            patterns = self._term_list(raws, f"yield_to.{other}", "yield_to term")
            if patterns:
                groups.append((other, patterns))
        return groups

    def _terms(self, key: str, required: bool) -> list[str] | None:
        value = self.entry.get(key)
        if value is None and not required:
            return []
        if plain_terms(value, "term" if key == "terms" else "exclusion"):
            return list(value or ())  # plain_terms checked it is a list of strings, every one valid
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.error(f'{key!r} must be a list of strings, e.g. {key} = ["frontex", "border control"]')
            return None
        if required and not value:
            self.error(f"{key!r} is empty; list at least one word or phrase")
            return None
        return self._term_list(value, key, "term" if key == "terms" else "exclusion")

    def _term_list(self, value: object, key: str, kind: str) -> list[str] | None:
        """The valid terms of the list (as written); an error for each of the others."""
        # A list found valid in one pass needs no term checked here, in full checks too: their warnings compare
        # the patterns compile_term makes, and the one pass finds exactly the lists that give no error.
        if plain_terms(value, "exclusion" if kind == "exclusion" else "term"):
            return list(value)  # type: ignore[call-overload]  # plain_terms checked it is a list of strings
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.error(f'{key!r} must be a list of strings, e.g. {key.rsplit(".", 1)[-1]} = ["frontex"]')
            return None
        patterns = []
        for raw in value:
            if not self.full and plain_terms([raw], "exclusion" if kind == "exclusion" else "term"):
                patterns.append(raw)
                continue
            pattern, problem = _checked_term(raw)
            if pattern is None or problem:
                self.error(f"{kind} {raw!r} {problem}")
            elif pattern.parts and kind == "exclusion":
                self.error(
                    f"{kind} {raw!r} joins parts with '+', which only terms may do; "
                    "write the phrase to exclude without '+'"
                )
            else:
                patterns.append(raw)
        return patterns

    def _fields(self) -> tuple[str, ...]:
        value = self.entry.get("fields")
        if value is None:
            return FIELDS
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            self.error(
                '\'fields\' must be a non-empty list, e.g. fields = ["title", "summary"]; '
                "remove it to search all fields"
            )
            return FIELDS
        for name in value:
            if name not in FIELDS:
                self.error(f"unknown field {name!r} in 'fields'; use title, summary or body")
        return tuple(dict.fromkeys(value))

    def _subjects(self) -> tuple[str, ...]:
        codes = self._strings("subjects", example='["MIGR", "FRONT"]')
        for code in codes:
            if not _CODE_RE.fullmatch(code):
                self.error(f'subject code {code!r} must be letters only, e.g. "MIGR" (no running number)')
        return tuple(code.upper() for code in codes)

    def _strings(self, key: str, example: str) -> tuple[str, ...]:
        value = self.entry.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.error(f"{key!r} must be a list of non-empty strings, e.g. {key} = {example}")
            return ()
        return tuple(v.strip() for v in value)

    def _cross_check(
        self, terms: _Keyed, ordinary: dict[str, str], exclude: _Keyed, yielding: _Keyed, in_context: _Keyed
    ) -> None:
        """Warn about repeated terms, terms also excluded, and exclusions that can veto none of the topic's terms
        (plain, yield_to or context terms: an exclusion vetoes all three). ``ordinary``: each key of ``terms`` with
        the last term written with it."""
        self._duplicates(terms, "term")
        self._duplicates(exclude, "exclusion")
        for raw, key in zip(*yielding):
            if key in ordinary:
                self.warn(
                    f"yield_to term {raw!r} is also listed in terms as "
                    f"{ordinary[key]!r}, so it always counts; remove it from one list"
                )
        every = _Keyed(terms.raws + yielding.raws + in_context.raws, terms.keys + yielding.keys + in_context.keys)
        excluded = dict(zip(exclude.keys, exclude.raws))
        keys = set(every.keys)
        if not keys.isdisjoint(excluded):
            for raw, key in zip(*every):
                if key in excluded:
                    self.warn(
                        f"term {raw!r} is also listed in exclude as "
                        f"{excluded[key]!r}, so it can never match; remove it from one list"
                    )
        if self.entry.get("relevance") is not None:
            return  # its exclusions also stop the relevance model's hits, which need none of its terms
        parts = TermParts(loose_parts(every.keys))
        for raw, key in zip(*exclude):
            if key not in keys and not parts.any_inside(_CAPS_MARK.sub("", key)):
                self.warn(
                    f"exclusion {raw!r} contains none of the topic's terms, so it never "
                    "removes a hit; add the term it should veto to it, or remove it"
                )

    def _duplicates(self, terms: _Keyed, kind: str) -> None:
        if len(set(terms.keys)) == len(terms.keys):
            return  # no key twice (the common case, found in one set)
        first: dict[str, str] = {}
        for raw, key in zip(*terms):
            if key in first:
                self.warn(f"{kind} {raw!r} repeats {first[key]!r}; remove one")
            else:
                first[key] = raw


class _Keyed(NamedTuple):
    """Valid terms as written and their keys (``term_keys``), in the same order."""

    raws: list[str]
    keys: list[str]


def _plain_context_terms(tables: object) -> frozenset[str]:
    """The terms of the context tables' lists (terms, near and unless) when ``plain_terms`` finds them all valid
    context terms in one pass (each list then is: context lists are checked term by term, not as a whole); else
    none."""
    if not isinstance(tables, list):
        return frozenset()
    lists = [
        value
        for table in tables
        if isinstance(table, dict)
        for key in ("terms", "near", "unless")
        if type(value := table.get(key)) is list
    ]
    try:
        distinct = list(dict.fromkeys(chain.from_iterable(lists)))
    except TypeError:
        return frozenset()  # a term that is not a string (a table, a list)
    return frozenset(distinct) if plain_terms(distinct, "context") else frozenset()


def _keyed(raws: list[str]) -> _Keyed:
    """Valid terms with their keys."""
    return _Keyed(raws, term_keys(raws))
