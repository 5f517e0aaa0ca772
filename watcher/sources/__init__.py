"""Source kinds. A source is a small frozen dataclass built from one ``[[source]]`` entry of ``sources.toml``.

Its fields are its options, so an unknown key fails loudly. It fetches through the shared HTTP client and turns
bytes into items with a pure ``parse``. Adding a kind means one module and one line in ``KINDS``.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime
from typing import Any, ClassVar, Protocol

from watcher.config import MIN_EVERY_SECONDS, parse_duration
from watcher.models import Item

COMMON_KEYS = ("name", "kind", "url", "every", "enabled")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


class SourceState(Protocol):
    """What a source may ask the store about its own past (implemented by the store)."""

    def known_ids(self, ids: list[str]) -> set[str]: ...
    def get_cursor(self) -> dict: ...
    def set_cursor(self, cursor: dict) -> None: ...  # saved with the poll's items; a failed poll keeps the old one
    def now(self) -> datetime: ...


@dataclasses.dataclass(frozen=True)
class Source:
    """Fields every kind has. Kind-specific options are fields of the subclass, each with a default."""

    kind: ClassVar[str] = ""
    name: str
    url: str
    every: float
    enabled: bool = True
    # Health options every kind has (see watcher/health.py): a poll that parses to no items after the source has
    # had items is an "empty" failure while expect_items is on; failure_threshold 0 and quiet -1 mean "the
    # [health] default"; quiet 0 turns the staleness warning off for this source.
    expect_items: bool = True
    failure_threshold: int = 0
    quiet: float = -1.0

    def __post_init__(self) -> None:
        threshold = self.failure_threshold
        if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 0:
            raise ValueError(f"'failure_threshold' must be a whole number of at least 1, got {threshold!r}")
        if self.quiet < 0 and self.quiet != -1.0:
            raise ValueError("'quiet' must be a duration such as \"3d\" (or \"0s\" for no staleness warning)")

    async def poll(self, http, state: SourceState) -> list[Item]:  # pragma: no cover - abstract
        raise NotImplementedError

    def parse(self, data: bytes, url: str = "") -> list[Item]:  # pragma: no cover - abstract
        raise NotImplementedError


def _kinds() -> dict[str, type[Source]]:
    from watcher.sources.council_documents import CouncilDocumentsSource
    from watcher.sources.council_register import CouncilRegisterSource
    from watcher.sources.html_list import HtmlListSource
    from watcher.sources.rss import RssSource

    return {"rss": RssSource, "html-list": HtmlListSource, "council-register": CouncilRegisterSource,
            "council-documents": CouncilDocumentsSource}


KINDS: dict[str, type[Source]] = {}


def kinds() -> dict[str, type[Source]]:
    if not KINDS:
        KINDS.update(_kinds())
    return KINDS


def _coerce(value: Any, default: Any, where: str) -> tuple[Any, str | None]:
    """Check an option against the type of its default; durations may be given as strings."""
    if isinstance(default, bool):
        ok = isinstance(value, bool)
        want = "true or false"
    elif isinstance(default, float) and isinstance(value, str):
        try:
            return parse_duration(value), None
        except ValueError as exc:
            return None, f"{where}: {exc}"
    elif isinstance(default, (int, float)):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        want = "a number"
    elif isinstance(default, str):
        ok = isinstance(value, str)
        want = "a string in quotes"
    elif isinstance(default, tuple):
        ok = isinstance(value, list) and all(isinstance(v, (str, int)) for v in value)
        want = "a list such as [\"a\", \"b\"]"
        value = tuple(value) if ok else value
    elif isinstance(default, dict) or default is None:
        ok = True
        want = ""
    else:
        ok, want = True, ""
    if not ok:
        return None, f"{where}: expected {want}, got {value!r}"
    return value, None


def build_source(entry: Any, filename: str, index: int) -> tuple[Source | None, list[str]]:
    """Build one source from its TOML table, or return the problems that stop it."""
    label = f"{filename}: source #{index + 1}"
    if not isinstance(entry, dict):
        return None, [f"{label}: expected a [[source]] table"]
    name = entry.get("name")
    if isinstance(name, str) and name:
        label = f"{filename}: source {name!r}"
    problems: list[str] = []
    if not isinstance(name, str) or not _NAME.match(name):
        problems.append(f"{label}: 'name' must be a short unique name of letters, digits, '-', '_' or '.', "
                        f"got {name!r}")
    kind = entry.get("kind")
    cls = kinds().get(kind) if isinstance(kind, str) else None
    if cls is None:
        known = ", ".join(sorted(kinds()))
        problems.append(f"{label}: unknown kind {kind!r}; use one of: {known}")
        return None, problems
    url = entry.get("url")
    if not isinstance(url, str) or not re.match(r"^https?://[^\s/]+", url):
        problems.append(f"{label}: 'url' is missing or not an http(s) URL; add url = \"https://...\"")
    every = MIN_EVERY_SECONDS
    try:
        every = parse_duration(entry.get("every", ""))
        if every < MIN_EVERY_SECONDS:
            problems.append(f"{label}: 'every' must be at least 1s, got {entry['every']!r}")
    except ValueError as exc:
        problems.append(f"{label}: 'every': {exc}" if "every" in entry
                        else f"{label}: 'every' is missing; add e.g. every = \"15m\"")
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.append(f"{label}: 'enabled' must be true or false, got {enabled!r}")
    options: dict[str, Any] = {}
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in COMMON_KEYS}
    for key, value in entry.items():
        if key in COMMON_KEYS:
            continue
        if key not in fields:
            allowed = ", ".join(list(COMMON_KEYS) + sorted(fields)) 
            problems.append(f"{label}: unknown key {key!r} for kind {kind!r}; allowed keys: {allowed}")
            continue
        value, err = _coerce(value, fields[key].default, f"{label}: {key!r}")
        if err:
            problems.append(err)
        else:
            options[key] = value
    if problems:
        return None, problems
    try:
        return cls(name=name, url=url, every=every, enabled=enabled, **options), []
    except (TypeError, ValueError) as exc:
        return None, [f"{label}: {exc}"]


HTTP_KEYS = {"user_agent": str, "timeout": float, "connect_timeout": float, "max_bytes": int, "max_redirects": int,
             "attempts": int, "retry_budget": float, "per_host_concurrency": int, "per_host_interval": float,
             "respect_robots": bool}


def sources_from_toml(data: dict, filename: str) -> tuple[list[Source], dict, list[str]]:
    """Build all sources (and the optional ``[http]`` table) from a parsed ``sources.toml``."""
    problems: list[str] = []
    for key in data:
        if key not in ("source", "http", "health"):
            problems.append(f"{filename}: unknown top-level key {key!r}; use [[source]] entries and optional [http] "
                            "and [health] tables")
    http = _http_options(data.get("http", {}), filename, problems)
    entries = data.get("source", [])
    if not isinstance(entries, list):
        problems.append(f"{filename}: 'source' must be written as [[source]] tables")
        entries = []
    if not entries:
        problems.append(f"{filename}: no sources; add at least one [[source]] entry")
    sources: list[Source] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        src, errs = build_source(entry, filename, i)
        problems += errs
        if src is None:
            continue
        if src.name in seen:
            problems.append(f"{filename}: source {src.name!r}: duplicate name; every source needs its own name")
        seen.add(src.name)
        sources.append(src)
    return sources, http, problems


def _http_options(table: Any, filename: str, problems: list[str]) -> dict:
    if not isinstance(table, dict):
        problems.append(f"{filename}: [http] must be a table")
        return {}
    out: dict[str, Any] = {}
    for key, value in table.items():
        want = HTTP_KEYS.get(key)
        if want is None:
            problems.append(f"{filename}: [http]: unknown key {key!r}; allowed: {', '.join(HTTP_KEYS)}")
        elif want is bool:
            if isinstance(value, bool):
                out[key] = value
            else:
                problems.append(f"{filename}: [http]: {key!r} must be true or false, got {value!r}")
        elif want is float:
            try:
                out[key] = parse_duration(value) if isinstance(value, str) else float(value)
            except (TypeError, ValueError) as exc:
                problems.append(f"{filename}: [http]: {key!r}: {exc}")
        elif not isinstance(value, want) or isinstance(value, bool):
            problems.append(f"{filename}: [http]: {key!r} must be {want.__name__}, got {value!r}")
        else:
            out[key] = value
    return out
