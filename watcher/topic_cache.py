"""The topics of a topics.toml as the commands need them, checked once per version of the file.

Parsing and checking the shipped topics.toml costs more than the rest of ``watcher match``, and a good part of
``watcher once``. So the topics that checked clean are kept as JSON in the cache directory (``Settings.cache_dir``:
``WATCHER_CACHE_DIR``, else ``$XDG_CACHE_HOME/watcher``, else ``~/.cache/watcher``; ``WATCHER_NO_CACHE=1`` turns it
off), one entry per topics.toml path and kind of check, and read back while the entry's key still matches: a SHA-256
of the file's bytes, the cache format, the kind of check, the watcher and Python versions, and the size and
modification time of each file of the code that checks topics (the version stays the same between releases, the
checks do not). ``watcher match`` keeps the topics alone (``checked_topics``: every error, no warning, which it would
pay a cross-check of every term for); the commands that load the whole configuration keep the warnings with them
(``checked_topics_and_warnings``), so that ``watcher once`` and ``watcher run`` still print each warning, from the
entry as from the file.

An entry is a header line (format, key and the SHA-256 of the rest) and the topics with their warnings (null when
they were not looked for). It is used only when all of that reads back exactly, in the shape written; anything else
(damaged, cut short, another format, an edit that leaves the checksum wrong) is ignored and written again, never an
error. The checksum guards against damage, not against someone who may write the cache directory: such a person can
change what the commands answer. A directory that cannot be written is skipped without a word (``-v`` logs why).
Only a file without errors is kept, so every error is still reported; ``watcher check-config`` never reads the cache
and checks everything from scratch. JSON only: nothing read from the cache is ever executed.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import logging
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

from watcher import __version__
from watcher.matcher import Topic, topics_from_toml
from watcher.matcher.context import MAX_WITHIN, ContextRule
from watcher.settings import parse_toml, read_bytes

FORMAT = 5  # raise it when the entry's layout changes
_HERE = Path(__file__).parent
#: The code whose answer the cache keeps: the matcher's term syntax and checks, the languages a topic may name, the
#: TOML reading, and this module.
CODE = (_HERE / "matcher", _HERE / "i18n.py", _HERE / "settings.py", Path(__file__))
TOPIC_KEYS = (
    "id", "label", "terms", "exclude", "fields", "subjects", "doc_types", "yield_to", "context", "names", "relevance",
    "irrelevant_below", "never_dropped",
)  # fmt: skip
RULE_KEYS = ("terms", "near", "unless", "within", "yield_to")
_TEXT = frozenset({str})

log = logging.getLogger(__name__)


def checked_topics(path: Path, cache_dir: Path | None) -> tuple[list[Topic], list[str]]:
    """The topics of ``path`` and its errors: every error check-config finds in it, none of its warnings. From the
    cache entry when ``cache_dir`` holds one for these bytes; else parsed and checked, and kept when there was no
    error."""
    topics, errors, _ = _cached(path, cache_dir, warnings=False)
    return topics, errors


def checked_topics_and_warnings(path: Path, cache_dir: Path | None) -> tuple[list[Topic], list[str], list[str]]:
    """As ``checked_topics``, with the warnings check-config gives for the file (kept in the entry with the
    topics)."""
    topics, errors, warnings = _cached(path, cache_dir, warnings=True)
    return topics, errors, warnings or []


def _cached(path: Path, cache_dir: Path | None, warnings: bool) -> tuple[list[Topic], list[str], list[str] | None]:
    raw, problems = read_bytes(path)
    if raw is None:
        return [], problems, None
    if cache_dir is None:
        return _checked(path, raw, warnings)
    entry, key = (
        entry_path(cache_dir, path, warnings),
        cache_key(raw, warnings=warnings, named=str(path) if warnings else ""),
    )
    cached = load(entry, key)  # the key says whether the entry kept warnings
    if cached is not None:
        return cached[0], [], cached[1]
    topics, errors, found = _checked(path, raw, warnings)
    if not errors:
        store(entry, key, topics, found)
    return topics, errors, found


def _checked(path: Path, raw: bytes, warnings: bool) -> tuple[list[Topic], list[str], list[str] | None]:
    data, problems = parse_toml(path, raw)
    if data is None:
        return [], problems, None
    topics, errors, found = topics_from_toml(data, str(path), warnings=warnings)
    return topics, errors, (found if warnings else None)


def entry_path(cache_dir: Path, topics_path: Path, warnings: bool = False) -> Path:
    """The cache entry of one topics.toml, named after its absolute path (and ``-warnings`` for the entry that keeps
    them)."""
    name = hashlib.sha256(os.fsencode(os.path.abspath(topics_path))).hexdigest()[:32]
    return cache_dir / f"topics-{name}{'-warnings' if warnings else ''}.json"


def cache_key(raw: bytes, code: Iterable[Path] = CODE, warnings: bool = False, named: str = "") -> str:
    """What an entry must have been made from to be used: these bytes, read by this code, checked with or without
    warnings; with warnings, also the path as they name it (``named``), so a run given the file by another path
    prints that path in its warnings as a check of the file would."""
    check = f"warnings {named}" if warnings else "errors"
    digest = hashlib.sha256(f"{FORMAT}\n{check}\n{__version__}\n{sys.version}\n{code_stamp(code)}\n\0".encode())
    digest.update(raw)
    return digest.hexdigest()


def code_stamp(places: Iterable[Path]) -> str:
    """Size and modification time (nanoseconds) of each ``.py`` file named or inside a folder named: what Python
    itself compares to know whether a compiled module is out of date."""
    lines = []
    for place in places:
        try:
            if place.is_dir():
                with os.scandir(place) as found:
                    files = sorted(e.path for e in found if e.name.endswith(".py"))
            else:
                files = [str(place)]
            for name in files:
                stat = os.stat(name)
                lines.append(f"{name} {stat.st_size} {stat.st_mtime_ns}")
        except OSError:
            lines.append(f"{place} unreadable")
    return "\n".join(lines)


def load(entry: Path, key: str) -> tuple[list[Topic], list[str] | None] | None:
    """The topics and warnings (None: not looked for) kept in ``entry`` when it was made under ``key`` and reads
    back whole; None otherwise."""
    try:
        raw = entry.read_bytes()
    except OSError:
        return None
    head, _, body = raw.partition(b"\n")
    try:
        header = json.loads(head)
        if header != {"format": FORMAT, "key": key, "sha256": hashlib.sha256(body).hexdigest()}:
            return None
        with _collector_paused():
            found = _table(json.loads(body), ("topics", "warnings"))
            warnings = None if found["warnings"] is None else list(_texts(found["warnings"]))
            return [_topic(value) for value in _list(found["topics"])], warnings
    except (ValueError, TypeError, KeyError, RecursionError):  # damaged, or not the shape this code writes
        return None


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while an entry is decoded: it makes thousands of lists and tuples, none of them
    in a cycle, and the collections their number sets off would cost more than the decoding."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def store(entry: Path, key: str, topics: list[Topic], warnings: list[str] | None = None) -> None:
    """Keep ``topics`` (and ``warnings``, None when they were not looked for) in ``entry`` under ``key``: written
    beside it, then renamed over it, so a reader sees the old entry or the new one, never half of one. Skipped
    (logged at debug level) when the directory cannot be written."""
    kept = {"topics": [_plain(topic) for topic in topics], "warnings": warnings}
    body = json.dumps(kept, separators=(",", ":")).encode("ascii")
    head = json.dumps({"format": FORMAT, "key": key, "sha256": hashlib.sha256(body).hexdigest()}).encode("ascii")
    import tempfile  # loaded late: only when an entry is written, a warm run never needs it

    part: str | None = None
    try:
        entry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # a new file of a name nobody can guess, opened exclusively: never a link someone planted in a shared directory
        handle, part = tempfile.mkstemp(prefix=f".{entry.name}.", suffix=".part", dir=entry.parent)
        with os.fdopen(handle, "wb") as out:
            out.write(head + b"\n" + body)
        os.replace(part, entry)
    except OSError as exc:
        log.debug("topics cache not written to %s: %s", entry.parent, exc)
        if part is not None:
            with contextlib.suppress(OSError):
                os.unlink(part)


def _plain(topic: Topic) -> dict[str, Any]:
    """A topic as JSON values (tuples become lists); its context rules as objects."""
    value = {f.name: getattr(topic, f.name) for f in fields(topic)}
    value["context"] = [{f.name: getattr(rule, f.name) for f in fields(rule)} for rule in topic.context]
    return value


def _topic(value: object) -> Topic:
    found = _table(value, TOPIC_KEYS)
    return Topic(
        id=_text(found["id"]),
        label=_text(found["label"]),
        terms=_texts(found["terms"]),
        exclude=_texts(found["exclude"]),
        fields=_texts(found["fields"]),
        subjects=_texts(found["subjects"]),
        doc_types=_texts(found["doc_types"]),
        yield_to=tuple((_text(other), _texts(terms)) for other, terms in _pairs(found["yield_to"])),
        context=tuple(_rule(rule) for rule in _list(found["context"])),
        names=tuple((_text(code), _text(name)) for code, name in _pairs(found["names"])),
        relevance=_probability(found["relevance"]),
        irrelevant_below=_probability(found["irrelevant_below"]),
        never_dropped=_texts(found["never_dropped"]),
    )


def _probability(value: object) -> float | None:
    if value is None:
        return None
    if type(value) is not float or not 0 < value < 1:
        raise ValueError("not a probability")
    return value


def _rule(value: object) -> ContextRule:
    found = _table(value, RULE_KEYS)
    within = found["within"]
    if type(within) is not int or not 0 <= within <= MAX_WITHIN:
        raise ValueError("within")
    return ContextRule(
        terms=_texts(found["terms"]),
        near=_texts(found["near"]),
        unless=_texts(found["unless"]),
        within=within,
        yield_to=_texts(found["yield_to"]),
    )


def _table(value: object, keys: tuple[str, ...]) -> dict:
    if type(value) is not dict or tuple(value) != keys:
        raise ValueError("not an entry of this format")
    return value


def _list(value: object) -> list:
    if type(value) is not list:
        raise ValueError("not a list")
    return value


def _pairs(value: object) -> list[list]:
    pairs = _list(value)
    if not all(type(pair) is list and len(pair) == 2 for pair in pairs):
        raise ValueError("not a list of pairs")
    return pairs


def _text(value: object) -> str:
    if type(value) is not str:
        raise ValueError("not a text")
    return value


def _texts(value: object) -> tuple[str, ...]:
    if not _TEXT.issuperset(map(type, _list(value))):  # the types of the items, compared in C: thousands of terms
        raise ValueError("not a list of texts")
    return tuple(value)  # type: ignore[arg-type]  # _list checked it is a list
