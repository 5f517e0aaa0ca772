"""The kinds table (``kind = "…"`` in ``sources.toml`` → class) and building sources from their TOML entries.

Adding a kind means one module under ``watcher/sources/`` and one line in ``KINDS``.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from typing import Any

from watcher.durations import MIN_EVERY_SECONDS, parse_duration
from watcher.http.options import HttpOptions, http_options_from_toml
from watcher.sources.base import _NAME, COMMON_KEYS, Source, _coerce, label_problem
from watcher.sources.council_documents import CouncilDocumentsSource
from watcher.sources.council_register import CouncilRegisterSource
from watcher.sources.html_list import HtmlListSource
from watcher.sources.rss import RssSource

KINDS: dict[str, type[Source]] = {
    "rss": RssSource,
    "html-list": HtmlListSource,
    "council-register": CouncilRegisterSource,
    "council-documents": CouncilDocumentsSource,
}


# Download caps of the kinds: each has its kind's default unless the entry sets it or [http] max_bytes is set.
CAP_KEYS = ("max_bytes", "pdf_max_bytes")


def kinds() -> dict[str, type[Source]]:
    return KINDS


def build_source(
    entry: Any, filename: str, index: int, max_bytes: int | None = None
) -> tuple[Source | None, list[str]]:
    """Build one source from its TOML table, or return the problems that stop it; ``max_bytes`` (from
    ``[http]``) replaces the kind's default caps that the entry does not set."""
    label = f"{filename}: source #{index + 1}"
    if not isinstance(entry, dict):
        return None, [f"{label}: expected a [[source]] table"]
    name = entry.get("name")
    if isinstance(name, str) and name:
        label = f"{filename}: source {name!r}"
    problems: list[str] = []
    if not isinstance(name, str) or not _NAME.match(name):
        problems.append(
            f"{label}: 'name' must be a short unique name of letters, digits, '-', '_' or '.', got {name!r}"
        )
    kind = entry.get("kind")
    cls = kinds().get(kind) if isinstance(kind, str) else None
    if cls is None:
        known = ", ".join(sorted(kinds()))
        hint = did_you_mean(kind, sorted(kinds())) if isinstance(kind, str) else ""
        problems.append(f"{label}: unknown kind {kind!r}; {hint}use one of: {known}")
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
        problems.append(
            f"{label}: 'every': {exc}" if "every" in entry else f"{label}: 'every' is missing; add e.g. every = \"15m\""
        )
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.append(f"{label}: 'enabled' must be true or false, got {enabled!r}")
    human = entry.get("label", "")
    if "label" in entry and (problem := label_problem(human)):
        problems.append(f"{label}: {problem}")
    options: dict[str, Any] = {}
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in COMMON_KEYS}
    for key, value in entry.items():
        if key in COMMON_KEYS:
            continue
        if key not in fields:
            allowed = list(COMMON_KEYS) + sorted(fields)
            problems.append(
                f"{label}: unknown key {key!r} for kind {kind!r}; {did_you_mean(key, allowed)}"
                f"allowed keys: {', '.join(allowed)}"
            )
            continue
        value, err = _coerce(value, fields[key].default, f"{label}: {key!r}")
        if err:
            problems.append(err)
        else:
            options[key] = value
    if problems:
        return None, problems
    if max_bytes is not None:
        options.update({key: max_bytes for key in CAP_KEYS if key in fields and key not in entry})
    try:
        return cls(name=str(name), url=str(url), every=every, enabled=enabled, label=str(human).strip(), **options), []
    except (TypeError, ValueError) as exc:
        return None, [f"{label}: {exc}"]


def did_you_mean(key: str, allowed: list[str]) -> str:
    """``"did you mean 'every'? "`` for the allowed key closest to a misspelt one, or ""."""
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}? " if close else ""


def sources_from_toml(data: dict, filename: str) -> tuple[list[Source], HttpOptions, list[str]]:
    """Build all sources (and the optional ``[http]`` table) from a parsed ``sources.toml``."""
    problems: list[str] = []
    for key in data:
        if key not in ("source", "http", "health", "archive"):
            problems.append(
                f"{filename}: unknown top-level key {key!r}; "
                f"{did_you_mean(key, ['source', 'http', 'health', 'archive'])}use [[source]] entries "
                "and optional [http], [health] and [archive] tables"
            )
    http, errs = http_options_from_toml(data.get("http"), filename)
    problems += errs
    entries = data.get("source", [])
    if not isinstance(entries, list):
        hint = (
            "[source] is one table: write [[source]] (double brackets) at the top of every source entry"
            if isinstance(entries, dict)
            else "'source' must be written as [[source]] tables"
        )
        problems.append(f"{filename}: {hint}")
        entries = None
    if entries == []:
        problems.append(f"{filename}: no sources; add at least one [[source]] entry")
    sources: list[Source] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries or []):
        src, errs = build_source(entry, filename, i, http.max_bytes)
        problems += errs
        if src is None:
            continue
        if src.name in seen:
            problems.append(f"{filename}: source {src.name!r}: duplicate name; every source needs its own name")
        seen.add(src.name)
        sources.append(src)
    return sources, http, problems
