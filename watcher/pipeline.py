"""One poll of one source, from fetch to outbox. The only place that knows the whole chain."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass, field

from watcher import health as health_rules
from watcher import healthdb
from watcher.errors import FetchError, NotModified, ParseError
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
    unchanged: bool = False  # the server answered 304 Not Modified: a success with nothing new
    retry_after: float | None = None  # the server asked for this many seconds of quiet (Retry-After)

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
        raise FetchError(exc.failure, str(exc), source=source.name, url=source.url) from exc


def check_expected(source, items: list[Item], store) -> None:
    """No items from a source that has had items is a failure ("empty"), never "everything was removed"."""
    if items or not getattr(source, "expect_items", False):
        return
    if healthdb.has_items(store, source.name):
        raise FetchError("empty", "the answer parsed to no items although this source has had items before; its "
                         "markup may have changed (set expect_items = false if it can really be empty)",
                         source=source.name, url=source.url)
    log.info("source %s: no items yet (the first successful poll that finds items starts the count)", source.name)


def _validators(http, source: str, keep: bool) -> None:
    """Store the validators of a recorded poll, or forget those of a failed one."""
    action = getattr(http, "commit_validators" if keep else "discard_validators", None)
    if action is not None:
        action(source)


def match_items(items: list[Item], matcher) -> dict[tuple[str, str], list[Match]]:
    return {item.key: found for item in items if (found := matcher.match(item))}


class _NoMetrics:
    @contextmanager
    def timed(self, stage: str):
        yield


async def poll(source, http, store, matcher, *, dry_run: bool = False, metrics=None,
               health: health_rules.HealthRules | None = None) -> PollResult:
    """Poll one source once. A failed poll records nothing as seen. With ``dry_run`` nothing is written.
    Unless dry, the poll is then put to the health rules, which may queue a message for the operator."""
    metrics = metrics or _NoMetrics()
    health = health or health_rules.HealthRules()
    result = PollResult(source=source.name)
    try:
        with metrics.timed("fetch"):
            result.items = await fetch_items(source, http, store.state_for(source.name))
        check_expected(source, result.items, store)
    except NotModified:
        result.unchanged = True
        log.info("source %s: not modified since the last poll", source.name)
        if not dry_run:
            store.record_poll(source.name, [], {})
            health_rules.observe(store, source, result, health)
        return result
    except FetchError as exc:
        _validators(http, source.name, keep=False)
        result.failure, result.detail, result.retry_after = exc.failure, exc.detail, exc.retry_after
        log.warning("source %s: poll failed: %s: %s", source.name, exc.failure, exc.detail)
        if not dry_run:
            store.record_failure(source.name, exc.failure, exc.detail)
            health_rules.observe(store, source, result, health)
        return result
    known = store.known_ids(source.name, [i.id for i in result.items])
    fresh = _dedupe([i for i in result.items if i.id not in known])
    with metrics.timed("match"):
        found = match_items(fresh, matcher)
    if dry_run:
        _validators(http, source.name, keep=False)
        result.new = fresh
        result.flagged = [(i, found[i.key]) for i in fresh if i.key in found]
        return result
    with metrics.timed("record"):
        rec = store.record_poll(source.name, fresh, found)
    _validators(http, source.name, keep=True)
    result.new, result.flagged, result.alerts, result.first_poll = rec.new, rec.flagged, rec.alerts, rec.first_poll
    log.info("source %s: %d items, %d new, %d flagged, %d alerts queued%s", source.name, len(result.items),
             len(rec.new), len(rec.flagged), rec.alerts, " (first poll: recorded without alerting)" if rec.first_poll
             else "")
    health_rules.observe(store, source, result, health)
    return result


def _dedupe(items: list[Item]) -> list[Item]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item.id not in seen:
            seen.add(item.id)
            out.append(item)
    return out
