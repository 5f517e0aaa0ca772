"""One poll of one source, from fetch to outbox. The only place that knows the whole chain."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass, field

from watcher.errors import FetchError, ParseError
from watcher.models import Item, Match

log = logging.getLogger(__name__)


@dataclass
class PollResult:
    source: str
    items: list[Item] = field(default_factory=list)
    new: list[Item] = field(default_factory=list)
    flagged: list[tuple[Item, list[Match]]] = field(default_factory=list)
    alerts: int = 0
    first_poll: bool = False
    failure: str | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.failure is None


async def fetch_items(source, http, state) -> list[Item]:
    """Fetch and parse; every failure comes out as a classified FetchError."""
    try:
        return await source.poll(http, state)
    except FetchError as exc:
        exc.source = exc.source or source.name
        raise
    except ParseError as exc:
        raise FetchError("unparseable", str(exc), source=source.name, url=source.url) from exc


def match_items(items: list[Item], matcher) -> dict[tuple[str, str], list[Match]]:
    return {item.key: found for item in items if (found := matcher.match(item))}


class _NoMetrics:
    @contextmanager
    def timed(self, stage: str):
        yield


async def poll(source, http, store, matcher, *, dry_run: bool = False, metrics=None) -> PollResult:
    """Poll one source once. A failed poll records nothing as seen. With ``dry_run`` nothing is written."""
    metrics = metrics or _NoMetrics()
    result = PollResult(source=source.name)
    try:
        with metrics.timed("fetch"):
            result.items = await fetch_items(source, http, store.state_for(source.name))
    except FetchError as exc:
        result.failure, result.detail = exc.failure, exc.detail
        log.warning("source %s: poll failed: %s: %s", source.name, exc.failure, exc.detail)
        if not dry_run:
            store.record_failure(source.name, exc.failure, exc.detail)
        return result
    known = store.known_ids(source.name, [i.id for i in result.items])
    fresh = _dedupe([i for i in result.items if i.id not in known])
    with metrics.timed("match"):
        found = match_items(fresh, matcher)
    if dry_run:
        result.new = fresh
        result.flagged = [(i, found[i.key]) for i in fresh if i.key in found]
        return result
    with metrics.timed("record"):
        rec = store.record_poll(source.name, fresh, found)
    result.new, result.flagged, result.alerts, result.first_poll = rec.new, rec.flagged, rec.alerts, rec.first_poll
    log.info("source %s: %d items, %d new, %d flagged, %d alerts queued%s", source.name, len(result.items),
             len(rec.new), len(rec.flagged), rec.alerts, " (first poll: recorded without alerting)" if rec.first_poll
             else "")
    return result


def _dedupe(items: list[Item]) -> list[Item]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item.id not in seen:
            seen.add(item.id)
            out.append(item)
    return out
