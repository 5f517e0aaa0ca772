"""A chat's own terms (``/watch``): how one is written, checked with the topics' own validator, and every chat's
terms compiled into one matcher, so one scan of an item finds the terms of all chats at once.

A ``/watch`` argument is a term written as in ``topics.toml`` (a word, a phrase, a ``word*`` prefix, an acronym in
capitals, ``a + b`` for words in one field), optionally followed by clauses after semicolons::

    pushbacks
    smuggl*
    border; not carbon border, border tax          exclusions
    return*; near migrant*, readmission; within 12 a context: counts only close to a near term
    return*; unless fish*, species                 counts only without these close by

A watch is checked by building the ``[[topic]]`` table it stands for and handing it to ``topics_from_toml``, so a
chat's term obeys exactly the rules, the stopwords and the error texts of the maintainers' topics.

Many chats watch the same thing: a watch has a ``key`` (its folded form, clauses sorted) shared by every chat that
writes it the same way; :class:`PersonalIndex` compiles each distinct key once, as one pseudo-topic of one
:class:`~watcher.matcher.engine.Matcher`, and says which keys an item raises.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from watcher.i18n import N_
from watcher.matcher.context import MAX_WITHIN, ContextRule
from watcher.matcher.engine import Matcher
from watcher.matcher.rules import Topic, parse_term, topics_from_toml
from watcher.matcher.terms import Word
from watcher.models import Item

MAX_TEXT = 200  # characters of one /watch argument
MAX_LIST = 8  # terms in one clause (not, near, unless)
CLAUSES = ("not", "near", "unless", "within")
SYNTAX = N_(  # translated by the bot where it is shown
    "Write a word, a phrase or a prefix, e.g. <code>/watch pushbacks</code>, <code>/watch safe third country</code> "
    "or <code>/watch smuggl*</code> (at least 4 letters before *). After a semicolon you may add words that cancel "
    "it (<code>/watch border; not carbon border</code>) or a context it needs "
    "(<code>/watch return*; near migrant*, readmission; within 12</code>)."
)
_FILE, _ID = "/watch", "watch"
_PREFIX = f"{_FILE}: topic {_ID!r}: "


@dataclass(frozen=True)
class Refusal:
    """Why a /watch argument is refused, as plain text: an English template marked for the bot's catalogues
    (``N_``), and the values that fill it, some of them refusals themselves (the subject and the problem of a
    validator's line). ``str()`` is the English sentence; ``say(translate)`` the same in another language, with the
    bot's ``_`` as ``translate`` (the matcher knows no bot code)."""

    template: str
    values: tuple[tuple[str, object], ...] = ()

    def say(self, translate: Callable[[str], str] | None = None) -> str:
        said = {k: v.say(translate) if isinstance(v, Refusal) else v for k, v in self.values}
        return (translate or _same)(self.template).format(**said)

    def __str__(self) -> str:
        return self.say()


def _same(text: str) -> str:
    return text


def _refusal(template: str, **values: object) -> Refusal:
    return Refusal(template, tuple(values.items()))


@dataclass(frozen=True)
class Watch:
    """One chat's term with its clauses, as written (whitespace tidied)."""

    term: str
    exclude: tuple[str, ...] = ()
    near: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    within: int = 0

    @property
    def text(self) -> str:
        """The watch as a /watch argument, the way the chat sees it listed."""
        parts = [self.term]
        parts += [f"not {', '.join(self.exclude)}"] if self.exclude else []
        parts += [f"near {', '.join(self.near)}"] if self.near else []
        parts += [f"unless {', '.join(self.unless)}"] if self.unless else []
        parts += [f"within {self.within}"] if self.within else []
        return "; ".join(parts)

    @property
    def term_key(self) -> str:
        """The folded form of the term alone: a chat has one watch per term."""
        return fold_term(self.term)

    @property
    def key(self) -> str:
        """The folded form of the whole watch, the same for every chat that writes it alike."""
        parts = [self.term_key]
        for name, terms in (("not", self.exclude), ("near", self.near), ("unless", self.unless)):
            if terms:
                parts.append(f"{name} {', '.join(sorted({fold_term(t) for t in terms}))}")
        if self.within and (self.near or self.unless):
            parts.append(f"within {self.within}")
        return "; ".join(parts)

    def to_json(self) -> str:
        fields = {"term": self.term, "exclude": self.exclude, "near": self.near, "unless": self.unless}
        return json.dumps(fields | {"within": self.within})

    @classmethod
    def from_json(cls, text: str) -> Watch:
        data = json.loads(text)
        return cls(
            term=str(data["term"]),
            exclude=tuple(data.get("exclude") or ()),
            near=tuple(data.get("near") or ()),
            unless=tuple(data.get("unless") or ()),
            within=int(data.get("within") or 0),
        )

    def topic(self, topic_id: str) -> Topic:
        """The pseudo-topic this watch compiles to: its term, or (with a context) only the context's term."""
        context = (
            (ContextRule(terms=(self.term,), near=self.near, unless=self.unless, within=self.within),)
            if self.near or self.unless
            else ()
        )
        return Topic(
            id=topic_id, label=self.term, terms=() if context else (self.term,), exclude=self.exclude, context=context
        )


def _word_key(word: Word) -> str:
    text = word.text[: word.caps].upper() + word.text[word.caps :] if word.caps else word.text
    return text + ("*" if word.prefix else "")


def fold_term(raw: str) -> str:
    """The folded form of one term (``Pushbacks`` -> ``pushbacks``; an acronym keeps its capitals)."""
    pattern, _ = parse_term(raw)
    if pattern is None:
        return " ".join(raw.split())
    return " + ".join(" ".join(_word_key(w) for w in words) for words in pattern.parts or (pattern.words,))


def _tidy(text: str) -> str:
    return " ".join(text.split())


def parse_watch(text: str) -> tuple[Watch | None, Refusal | None]:
    """A /watch argument as a Watch, or (None, what is wrong and how to fix it; None when the argument is
    empty)."""
    text = text.strip()
    if not text:
        return None, None
    if len(text) > MAX_TEXT:
        return None, _refusal(
            N_("That is {n} characters; a term with its clauses may have at most {most}."), n=len(text), most=MAX_TEXT
        )
    pieces = [_tidy(p) for p in text.split(";")]
    term, clauses = pieces[0], pieces[1:]
    if not term:
        return None, _refusal(N_("The term comes first, before any semicolon, e.g. “border; not carbon border”."))
    found: dict[str, list[str]] = {}
    within = 0
    for clause in clauses:
        if not clause:
            continue
        name, _, rest = clause.partition(" ")
        name = name.lower()
        if name not in CLAUSES or not rest.strip():
            return None, _refusal(
                N_(
                    "After a semicolon write not, near, unless or within followed by words, e.g. “{term}; not …”; "
                    "I cannot read “{clause}”."
                ),
                term=term,
                clause=_cut(clause),
            )
        if name == "within":
            if not rest.strip().isdigit() or not 1 <= int(rest) <= MAX_WITHIN:
                return None, _refusal(
                    N_("within takes a number of words from 1 to {most}, e.g. “within 12”."), most=MAX_WITHIN
                )
            within = int(rest)
            continue
        terms = [_tidy(t) for t in rest.split(",") if t.strip()]
        if len(terms) + len(found.get(name, [])) > MAX_LIST:
            return None, _refusal(
                N_("At most {most} terms after {clause}; keep the ones that matter most."), most=MAX_LIST, clause=name
            )
        found.setdefault(name, []).extend(terms)
    watch = Watch(
        term=term,
        exclude=tuple(dict.fromkeys(found.get("not", []))),
        near=tuple(dict.fromkeys(found.get("near", []))),
        unless=tuple(dict.fromkeys(found.get("unless", []))),
        within=within,
    )
    if within and not (watch.near or watch.unless):
        return None, _refusal(
            N_("within says how close the near or unless words must be; add them, e.g. “; near migrant*”.")
        )
    problem = check(watch)
    return (None, problem) if problem else (watch, None)


def check(watch: Watch) -> Refusal | None:
    """Why the watch is not valid, or None: the checks of a topics.toml topic made of it (its warnings count too,
    since a chat cannot be told to edit a file)."""
    entry: dict = {"id": _ID, "label": watch.term, "terms": [watch.term]}
    if watch.exclude:
        entry["exclude"] = list(watch.exclude)
    if watch.near or watch.unless:
        table: dict = {"terms": [watch.term], "within": watch.within}
        if watch.near:
            table["near"] = list(watch.near)
        if watch.unless:
            table["unless"] = list(watch.unless)
        entry["context"] = [table]
    _, errors, warnings = topics_from_toml({"topic": [entry]}, _FILE)
    # The term stands in the topic's terms only because a topic needs one; with a context it is a context term.
    warnings = [w for w in warnings if "counts without its context" not in w]
    for line in errors + warnings:
        return explain(line)
    return None


# The validator's lines (watcher.matcher.rules, .context, .stopwords) stay English for check-config; a /watch
# refusal is read back from them into the templates below, which the bot translates. A line none of them reads is
# shown as the validator wrote it.
_QUOTED = r"""(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
_LINE = re.compile(rf"(?P<kind>term|exclusion|terms|near|unless) (?P<term>{_QUOTED}) (?P<rest>.+)", re.S)
_PART = re.compile(rf"\(part (?P<part>{_QUOTED})\) (?P<rest>.+)", re.S)
SUBJECTS = {
    "term": N_("The term {term}"),
    "terms": N_("The term {term}"),
    "exclusion": N_("The word after not {term}"),
    "near": N_("The word after near {term}"),
    "unless": N_("The word after unless {term}"),
}
STOPWORD_LANGUAGES = {  # the languages watcher.matcher.stopwords names
    "English": N_("English"),
    "French": N_("French"),
    "German": N_("German"),
    "Spanish": N_("Spanish"),
    "Italian": N_("Italian"),
    "Dutch": N_("Dutch"),
    "Portuguese": N_("Portuguese"),
    "Polish": N_("Polish"),
}
PROBLEMS = [  # (the validator's words, the words of /watch)
    (
        r"is a prefix shorter than (?P<n>\d+) letters; write at least \d+ letters before \*",
        N_("is a prefix shorter than {n} letters; write at least {n} letters before *"),
    ),
    (
        rf"contains (?P<hint>{_QUOTED}); terms are plain words, phrases or word\* prefixes, not regular expressions: "
        r"write one term per alternative",
        N_(
            "contains {hint}; terms are plain words, phrases or word* prefixes, not regular expressions: write one "
            "term per alternative"
        ),
    ),
    (
        r"has a '\*' inside a word; a star may only end a word, e\.g\. smuggl\*",
        N_("has a '*' inside a word; a star may only end a word, e.g. smuggl*"),
    ),
    (
        r"has a '\*' that does not end a word; write it straight after at least (?P<n>\d+) letters, e\.g\. smuggl\*",
        N_("has a '*' that does not end a word; write it straight after at least {n} letters, e.g. smuggl*"),
    ),
    (
        r"has more than (?P<n>\d+) parts joined by '\+'; split it into several terms",
        N_("has more than {n} parts joined by '+'; split it into several terms"),
    ),
    (
        r"has an empty part around '\+'; write e\.g\. \"per person \+ crossing\*\"",
        N_("has an empty part around '+'; write e.g. “per person + crossing*”"),
    ),
    (r"has no letters or digits after folding; remove it", N_("has no letters or digits; remove it")),
    (r"is empty; remove it", N_("is empty; remove it")),
    (
        rf"has fewer than (?P<n>\d+) letters \((?P<word>{_QUOTED})\): on its own it matches far too much; write a "
        r"longer word or a phrase that contains it",
        N_(
            "has fewer than {n} letters ({word}): on its own it matches far too much; write a longer word or a "
            "phrase that contains it"
        ),
    ),
    (
        rf"is a stopword \((?P<word>{_QUOTED}), (?P<language>[A-Za-z]+)\): it occurs in almost every text; remove "
        r"it, or write a phrase that contains it",
        N_(
            "is a common word in {language} ({word}): it occurs in almost every text; remove it, or write a phrase "
            "that contains it"
        ),
    ),
    (
        r"is made only of stopwords and short words, which occur in almost every text; add a word that says what "
        r"the item is about",
        N_(
            "is made only of common and short words, which occur in almost every text; add a word that says what "
            "the item is about"
        ),
    ),
    (
        r"joins parts with '\+', which only terms may do; write the phrase to exclude without '\+'",
        N_("joins parts with '+', which only your term may do; write the phrase to exclude without '+'"),
    ),
    (
        r"joins parts with '\+'; a context rule's words are already tied together by 'near' and 'within'",
        N_("joins parts with '+'; the words after near and unless are tied to your term by near and within already"),
    ),
    (
        rf"is also listed in exclude as (?P<other>{_QUOTED}), so it can never match; remove it from one list",
        N_("is also listed after not as {other}, so it can never match; remove one"),
    ),
    (
        r"contains none of the topic's terms, so it never removes a hit; add the term it should veto to it, or "
        r"remove it",
        N_("does not contain your term, so it never removes a hit; add the term it should veto to it, or remove it"),
    ),
    (rf"repeats (?P<other>{_QUOTED}); remove one", N_("repeats {other}; remove one")),
]
_PROBLEMS = [(re.compile(pattern, re.S), template) for pattern, template in PROBLEMS]


def _problem(rest: str) -> Refusal | None:
    """The words of /watch for what the validator says is wrong with one term, or None when it says something
    else."""
    part = _PART.fullmatch(rest)
    if part:
        inner = _problem(part["rest"])
        return inner and _refusal(N_("(part {part}) {problem}"), part=part["part"], problem=inner)
    for pattern, template in _PROBLEMS:
        found = pattern.fullmatch(rest)
        if found:
            values: dict[str, object] = dict(found.groupdict())
            if "language" in values:
                values["language"] = Refusal(STOPWORD_LANGUAGES.get(str(values["language"]), str(values["language"])))
            return _refusal(template, **values)
    return None


def explain(line: str) -> Refusal:
    """A validator line in the words of /watch, without the file and topic it would name in topics.toml."""
    text = line.removeprefix(_PREFIX)
    text = re.sub(r"^context #\d+: ", "", text)
    found = _LINE.fullmatch(text)
    problem = _problem(found["rest"]) if found else None
    if found is None or problem is None:
        words = {"term": "the term", "terms": "the term", "exclusion": "the word after not"}
        kind, _, rest = text.partition(" ")
        text = f"{words[kind]} {rest}" if kind in words else text
        return _refusal("{text}", text=text[:1].upper() + text[1:] + ("" if text.endswith(".") else "."))
    subject = _refusal(SUBJECTS[found["kind"]], term=found["term"])
    return _refusal("{subject} {problem}.", subject=subject, problem=problem)


def _cut(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Hit:
    """A watch that an item raised: the words as the text has them, and a snippet around them."""

    words: str
    snippet: str = ""


def _compiles(watch: Watch) -> bool:
    """Whether each term of a stored watch still compiles (cheap: ``check`` ran when the chat added it)."""
    return all(parse_term(t)[0] is not None for t in (watch.term, *watch.exclude, *watch.near, *watch.unless))


class PersonalIndex:
    """Every distinct watch compiled once into one matcher; ``hits(item)`` gives the keys it raises.

    Built from ``{key: Watch}``. A watch whose terms no longer compile (stored by another version) is left out and
    listed in ``skipped``, so one bad row never stops the others."""

    def __init__(self, watches: Mapping[str, Watch]):
        self.skipped: list[str] = []
        kept: dict[str, Watch] = {}
        for key, watch in watches.items():
            if not _compiles(watch):
                self.skipped.append(key)
            else:
                kept[key] = watch
        self.keys = frozenset(kept)
        self._terms = {key: watch.term for key, watch in kept.items()}
        self._matcher = Matcher([watch.topic(key) for key, watch in kept.items()])

    def __len__(self) -> int:
        return len(self.keys)

    def hits(self, item: Item) -> dict[str, Hit]:
        """The watches the item raises, by key."""
        if not self.keys:
            return {}
        # The title is shown whole, so the snippet of a hit in the title is left out, as for the topics' hits.
        return {
            m.topic: Hit(m.words[0] if m.words else self._terms[m.topic], m.snippet if m.field != "title" else "")
            for m in self._matcher.match(item)
        }


def index_of(watches: Iterable[tuple[str, str]]) -> PersonalIndex:
    """The index of stored watches given as (key, JSON) rows."""
    return PersonalIndex({key: Watch.from_json(spec) for key, spec in watches})


class LiveIndex:
    """The index of the watches stored now, kept up to date at the cost of what changed.

    A large ``base`` index, and a small one of the watches added since it was built: an added term costs the
    compile of the few added since, not of every chat's terms. A removed watch needs no compile at all: its hits
    are left out. When the added ones pass ``ADDED_MAX`` or the removed ones a fifth of the base (or ``ADDED_MAX``),
    the base is built again from everything."""

    ADDED_MAX = 2000

    def __init__(self) -> None:
        self.base = PersonalIndex({})
        self.added = PersonalIndex({})
        self.keys: frozenset[str] = frozenset()
        self.rebuilds = 0  # times the base was built

    def __len__(self) -> int:
        return len(self.keys)

    def _rebuild(self, keys: frozenset[str]) -> bool:
        added = len(keys - self.base.keys)
        removed = len(self.base.keys - keys)
        return added > self.ADDED_MAX or removed > max(self.ADDED_MAX, len(self.base.keys) // 5)

    def wanted(self, keys: frozenset[str]) -> frozenset[str]:
        """Of the watches stored now (``keys``), those whose JSON ``update`` needs: the ones added since the base
        was built, or all of them when the base is to be built again."""
        return keys if self._rebuild(keys) else keys - self.base.keys

    def update(self, keys: frozenset[str], rows: Iterable[tuple[str, str]]) -> None:
        """Follow the stored watches: ``keys`` are all of them, ``rows`` the (key, JSON) of at least those that
        ``wanted(keys)`` names."""
        wanted = self.wanted(keys)
        specs = {key: spec for key, spec in rows if key in wanted}
        base, added = self.base, self.added
        if self._rebuild(keys):
            base, added = index_of(specs.items()), PersonalIndex({})
            self.rebuilds += 1
        elif wanted != added.keys | frozenset(added.skipped):
            added = index_of(specs.items())
        # Polls that are matching meanwhile see the old state or the new one, never half of each.
        self.base, self.added, self.keys = base, added, keys

    @property
    def skipped(self) -> list[str]:
        return [key for key in self.base.skipped + self.added.skipped if key in self.keys]

    def hits(self, item: Item) -> dict[str, Hit]:
        """The stored watches the item raises, by key."""
        if not self.keys:
            return {}
        found = self.base.hits(item) | self.added.hits(item)
        return {key: hit for key, hit in found.items() if key in self.keys}
