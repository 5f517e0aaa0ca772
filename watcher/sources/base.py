"""What every source is: a small frozen dataclass built from one ``[[source]]`` entry of ``sources.toml``.

Its fields are its options, so an unknown key fails loudly. It fetches through the shared HTTP client and turns
bytes into items with a pure ``parse``. Adding a kind means one module and one line in ``KINDS``.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime
from typing import Any, ClassVar, Protocol

from watcher.durations import parse_duration
from watcher.models import Item

COMMON_KEYS = ("name", "kind", "url", "every", "enabled", "label")
MAX_LABEL = 60  # characters of a source's human name (``label``), as alerts, /status and the about text show it
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
    label: str = ""  # the human name alerts and /status show ("Statewatch"); "" shows the name
    # Health options every kind has (see watcher/health.py): a poll that parses to no items after the source has
    # had items is an "empty" failure while expect_items is on; failure_threshold 0 and quiet -1 mean "the
    # [health] default"; quiet 0 turns the staleness warning off for this source.
    expect_items: bool = True
    failure_threshold: int = 0
    quiet: float = -1.0
    # At most this many new or changed items are recorded per poll; the rest, newest last, by the next polls (see
    # watcher/pipeline.py). A source's first poll, which records without alerting, takes everything at once.
    max_items: int = 2000

    def __post_init__(self) -> None:
        threshold = self.failure_threshold
        if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 0:
            raise ValueError(f"'failure_threshold' must be a whole number of at least 1, got {threshold!r}")
        if self.quiet < 0 and self.quiet != -1.0:
            raise ValueError('\'quiet\' must be a duration such as "3d" (or "0s" for no staleness warning)')
        if not isinstance(self.max_items, int) or isinstance(self.max_items, bool) or self.max_items < 1:
            raise ValueError(f"'max_items' must be a whole number of at least 1, got {self.max_items!r}")

    @property
    def display_name(self) -> str:
        """The source's label, or its name when it has none."""
        return self.label or self.name

    async def poll(self, http, state: SourceState) -> list[Item]:  # pragma: no cover - abstract
        raise NotImplementedError

    def parse(self, data: bytes, url: str = "") -> list[Item]:  # pragma: no cover - abstract
        raise NotImplementedError


def label_problem(value: Any) -> str | None:
    """Why ``value`` cannot be a source's ``label``, or None when it can."""
    if not isinstance(value, str):
        return f"'label' must be a string in quotes, e.g. label = \"Statewatch\", got {value!r}"
    if not value.strip():
        return "'label' is empty; give the source's name as people know it, e.g. label = \"Statewatch\", or remove it"
    if len(value) > MAX_LABEL:
        return f"'label' has {len(value)} characters; keep it to at most {MAX_LABEL}"
    if any(ord(c) < 32 or c == "\x7f" for c in value):
        return "'label' has a line break or a control character; write it on one line"
    return None


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
        want = 'a list such as ["a", "b"]'
        value = tuple(value) if ok else value
    elif isinstance(default, dict) or default is None:
        ok = True
        want = ""
    else:
        ok, want = True, ""
    if not ok:
        return None, f"{where}: expected {want}, got {value!r}"
    return value, None
