"""What the archive's templates are given: the Jinja environment (autoescaping on), and helpers that turn stored
values into what a reader sees: times in UTC inside ``<time>``, marked passages, procedure links, page links."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import jinja2

from watcher.store.archive import MARK_OFF, MARK_ON, item_path

OEIL = "https://oeil.secure.europarl.europa.eu/oeil/popups/ficheprocedure.do?reference={ref}"
EURLEX = "https://eur-lex.europa.eu/procedure/EN/{year}_{number}"
_PROCEDURE = re.compile(r"\b((?:19|20)\d\d)/(\d{1,4})\s*\(\s*([A-Z]{3})\s*\)")
_MARKS = re.compile(f"([{MARK_ON}{MARK_OFF}])")
BODY_SHOWN = 60_000  # characters of a document's text shown on its page


def environment() -> jinja2.Environment:
    """Templates from the package, every value escaped unless a template says otherwise."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("watcher.web", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        utc=utc, segments=segments, item_path=item_path, procedures=procedures, shown=shown, BODY_SHOWN=BODY_SHOWN
    )
    return env


def utc(value: str | None) -> str:
    """A stored time as "2024-03-01 10:00 UTC" ("" when unknown)."""
    if not value:
        return ""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return value
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def segments(text: str) -> list[tuple[str, bool]]:
    """A marked passage as (text, marked) pieces; the template escapes each piece, so a stray marker in scraped
    text can only switch marking on or off, never add markup."""
    out: list[tuple[str, bool]] = []
    marked = False
    for piece in _MARKS.split(text or ""):
        if piece == MARK_ON:
            marked = True
        elif piece == MARK_OFF:
            marked = False
        elif piece:
            out.append((piece, marked))
    return out


def procedures(item: Mapping[str, Any]) -> list[dict[str, str]]:
    """The legislative procedures an item names (``2023/0439(COD)``), each with its Legislative Observatory and
    EUR-Lex pages."""
    extra = item.get("extra") or {}
    texts: list[str] = [str(p) for p in extra.get("procedures") or [] if p]
    texts += [str(extra.get("interinstitutional_file") or ""), item.get("title") or "", item.get("summary") or ""]
    found: dict[str, dict[str, str]] = {}
    for text in texts:
        for m in _PROCEDURE.finditer(text):
            year, number, kind = m.group(1), m.group(2), m.group(3)
            ref = f"{year}/{int(number):04d}({kind})"
            found.setdefault(
                ref, {"ref": ref, "oeil": OEIL.format(ref=ref), "eurlex": EURLEX.format(year=year, number=int(number))}
            )
    return list(found.values())


def shown(value: Any) -> str:
    """An ``extra`` value as one line of text."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(shown(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {shown(v)}" for k, v in value.items())
    return "" if value is None else str(value)


def query_string(params: Mapping[str, Any], **changes: Any) -> str:
    """The search's own parameters with some changed (None drops one), as ``?a=b`` or ""."""
    merged: dict[str, Any] = {**params, **changes}
    pairs: list[tuple[str, str]] = []
    for key, value in merged.items():
        values: Iterable[Any] = value if isinstance(value, (list, tuple)) else [value]
        pairs += [(key, str(v)) for v in values if v not in (None, "")]
    return f"?{urlencode(pairs)}" if pairs else ""
