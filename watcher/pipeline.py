"""One poll of one source, from fetch to outbox. The only place that knows the whole chain.

Nothing slow runs on the caller's event loop: the source's own fetch and parse (and its ``enrich``) run in a worker
thread on an event loop of their own, whose HTTP requests go back to the shared client on the caller's loop (see
``watcher.sources.hosted``); matching runs in a worker thread; every store call goes through an ``AsyncStore``,
which while the service runs is the database thread; and the garbage collector's full collections, which stop every
thread, wait until the poll is done.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import contextmanager
from dataclasses import dataclass, field

from watcher import health as health_rules
from watcher.errors import FetchError, NotModified, ParseError
from watcher.matcher.personal import LiveIndex
from watcher.models import Item, Match
from watcher.sources.council.pages import with_pages
from watcher.sources.hosted import FULL_COLLECTIONS, LoopHttp, ThreadState, in_thread, in_worker_thread
from watcher.store import health as healthdb
from watcher.store import watches
from watcher.store.aio import AsyncStore, StoreErrors, as_async
from watcher.store.provenance import KeptDocuments, Recorder

log = logging.getLogger(__name__)

STORE_FAILURE = "store"  # the failure class of a poll the database would not record


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
    events: dict[str, str] = field(default_factory=dict)  # item id -> "new", "version" or "public"
    unchanged: bool = False  # the server answered 304 Not Modified: a success with nothing new
    retry_after: float | None = None  # the server asked for this many seconds of quiet (Retry-After)
    left: int = 0  # items over the source's max_items, left for the next polls

    @property
    def ok(self) -> bool:
        return self.failure is None


async def fetch_items(source, http, state: ThreadState) -> list[Item]:
    """Fetch and parse in a worker thread; every failure comes out as a classified FetchError, except a store
    error, which stays itself."""
    loop_http = LoopHttp(http, asyncio.get_running_loop())
    try:
        return await in_worker_thread(lambda: source.poll(loop_http, state), f"poll {source.name}")
    except FetchError as exc:
        exc.source = exc.source or source.name
        raise
    except ParseError as exc:
        raise FetchError(exc.failure, str(exc), source=source.name, url=source.url) from exc
    except (NotModified, *StoreErrors):
        raise
    except Exception as exc:
        # A bug or an unforeseen library error while fetching or parsing: a failed poll that health and /status
        # see, never a crash that leaves the source looking healthy.
        log.exception("source %s: unexpected error while fetching or parsing", source.name)
        raise FetchError(
            "unparseable", f"unexpected {type(exc).__name__}: {exc}", source=source.name, url=source.url
        ) from exc


async def check_expected(source, items: list[Item], db: AsyncStore) -> None:
    """No items from a source that has had items is a failure ("empty"), never "everything was removed"."""
    if items or not getattr(source, "expect_items", False):
        return
    if await db.run(healthdb.has_items, source.name):
        raise FetchError(
            "empty",
            "the answer parsed to no items although this source has had items before; its "
            "markup may have changed (set expect_items = false if it can really be empty)",
            source=source.name,
            url=source.url,
        )
    log.info("source %s: no items yet (the first successful poll that finds items starts the count)", source.name)


def _validators(http, source: str, keep: bool) -> None:
    """Store the validators of a recorded poll, or forget those of a failed or capped one."""
    action = getattr(http, "commit_validators" if keep else "discard_validators", None)
    if action is not None:
        action(source)


def match_items(items: list[Item], matcher) -> dict[tuple[str, str], list[Match]]:
    """Matches per item; a match in the body of a paged document says on which page."""
    return {item.key: with_pages(item, found) for item in items if (found := matcher.match(item))}


Personal = dict[tuple[str, str], dict[str, watches.Found]]


class PersonalTerms:
    """Every chat's own terms (``/watch``) as one index for all polls, brought up to date when the stored terms
    change: a poll reads one number (``watches.generation``), and only when it moved the stored terms, in a worker
    thread that compiles only what was added (see ``LiveIndex``)."""

    def __init__(self) -> None:
        self.index = LiveIndex()
        self.generation = -1
        self._lock: asyncio.Lock | None = None

    async def current(self, db: AsyncStore) -> LiveIndex:
        """The index of the terms stored now."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # polls run side by side; one rebuild serves them all
            number = await db.run(watches.generation)
            if number != self.generation:
                keys = await db.run(watches.keys)  # read after the number: a change in between updates again
                rows = await db.run(watches.specs, self.index.wanted(keys))
                await in_thread(self.index.update, keys, rows, name="personal terms")
                self.generation = number
                skipped = f", {len(self.index.skipped)} left out (they no longer compile)" if self.index.skipped else ""
                log.info(
                    "personal terms: %d distinct terms of the chats, %d compiled since the last full build%s",
                    len(self.index),
                    len(self.index.added),
                    skipped,
                )
        return self.index


def personal_hits(items: list[Item], index: LiveIndex) -> Personal:
    """The chats' own terms each item raises, in one scan of the item for all of them."""
    found: Personal = {}
    for item in items:
        hits = index.hits(item)
        if hits:
            found[item.key] = {key: watches.Found(hit.words, hit.snippet) for key, hit in hits.items()}
    return found


def match_all(
    items: list[Item], matcher, index: LiveIndex | None
) -> tuple[dict[tuple[str, str], list[Match]], Personal]:
    """Topic matches and personal-term hits of the items (one worker thread runs both)."""
    return match_items(items, matcher), personal_hits(items, index) if index is not None and len(index) else {}


def oldest_first(items: list[Item], limit: int) -> tuple[list[Item], list[Item]]:
    """The items to record now (at most ``limit``: the oldest) and those left for the next polls, each in the
    source's order. Oldest by date when every item has one, else by place: sources list the newest first.

    The oldest go first because they are the first to drop off a feed or a listing; the newer ones are still there
    at the next poll, where they are new again, so nothing is missed."""
    if len(items) <= limit:
        return items, []
    if all(item.published for item in items):
        ranked = sorted(range(len(items)), key=lambda n: (items[n].published, -n))
        chosen = set(ranked[:limit])
    else:
        chosen = set(range(len(items) - limit, len(items)))
    return (
        [item for n, item in enumerate(items) if n in chosen],
        [item for n, item in enumerate(items) if n not in chosen],
    )


async def enrich_items(source, http, items: list[Item], matcher) -> list[Item]:
    """Let a source that can (``source.enrich``) add what a second download gives, such as a document's text, to
    the items worth recording. The source decides which ones, and may ask whether the matcher flags an item."""
    hook = getattr(source, "enrich", None)
    if hook is None or not items:
        return items
    loop_http = LoopHttp(http, asyncio.get_running_loop())
    try:
        return await in_worker_thread(
            lambda: hook(loop_http, items, lambda item: bool(matcher.match(item))), f"enrich {source.name}"
        )
    except Exception:
        log.exception("source %s: reading the documents' text failed; the items are recorded without it", source.name)
        return items


class _NoMetrics:
    @contextmanager
    def timed(self, stage: str):
        yield


async def poll(
    source,
    http,
    store,
    matcher,
    *,
    dry_run: bool = False,
    metrics=None,
    health: health_rules.HealthRules | None = None,
    keep: KeptDocuments | None = None,
    personal: PersonalTerms | None = None,
) -> PollResult:
    """Poll one source once. A failed poll records nothing as seen. With ``dry_run`` nothing is written.

    Items that are new, or known but public now, are enriched by the source (except on its first successful poll,
    which only records), matched, and recorded with the cursor the source set, in one transaction; past the
    source's ``max_items`` (never on its first poll) the oldest are taken and the rest left for the next polls.
    Unless dry, the poll is then put to the health rules, which may queue a message for the operator. A database
    that refuses the poll makes it a failure of class ``store``. ``store`` is a Store or an AsyncStore. Every answer
    the poll got is recorded as the provenance of what it found, and with ``keep`` the PDFs' bytes are kept. With
    ``personal`` the chats' own terms are matched too (not in a dry run)."""
    db = as_async(store)
    rules = health or health_rules.HealthRules()
    result = PollResult(source=source.name)
    try:
        with FULL_COLLECTIONS.deferred():  # one over a big parse's heap would stop the loop for a second
            return await _poll(
                source,
                Recorder(http, None if dry_run else keep),
                db,
                matcher,
                result,
                dry_run,
                metrics or _NoMetrics(),
                rules,
                None if dry_run else personal,
            )
    except StoreErrors as exc:
        _validators(http, source.name, keep=False)
        result.new, result.flagged, result.alerts, result.events, result.left = [], [], 0, {}, 0
        result.failure, result.detail = STORE_FAILURE, f"the database refused the poll: {exc}"
        log.error("source %s: poll failed: %s: %s", source.name, result.failure, result.detail)
        if not dry_run:
            await _record_failure(db, source, result, rules)
        return result


async def _poll(
    source,
    http: Recorder,
    db: AsyncStore,
    matcher,
    result: PollResult,
    dry_run: bool,
    metrics,
    health: health_rules.HealthRules,
    personal: PersonalTerms | None = None,
) -> PollResult:
    state = ThreadState(db, source.name, await db.get_cursor(source.name), asyncio.get_running_loop())
    try:
        with metrics.timed("fetch"):
            result.items = await fetch_items(source, http, state)
        await check_expected(source, result.items, db)
    except NotModified:
        result.unchanged = True
        log.info("source %s: not modified since the last poll", source.name)
        if not dry_run:
            await db.record_poll(source.name, [], {})
            await _observe(db, source, result, health)
        return result
    except FetchError as exc:
        _validators(http, source.name, keep=False)
        result.failure, result.detail, result.retry_after = exc.failure, exc.detail, exc.retry_after
        log.warning("source %s: poll failed: %s: %s", source.name, exc.failure, exc.detail)
        if not dry_run:
            await _record_failure(db, source, result, health)
        return result
    fresh = await db.changed_items(source.name, result.items)
    first = not await db.has_items(source.name)
    if not first:
        fresh, left = oldest_first(fresh, source.max_items)
        result.left = len(left)
    if result.left:
        result.detail = f"{result.left} items over max_items ({source.max_items}) left for the next polls"
        log.warning(
            "source %s: %d new or changed items, more than max_items (%d): the %d oldest are taken now, "
            "the other %d at the next polls",
            source.name,
            len(fresh) + result.left,
            source.max_items,
            len(fresh),
            result.left,
        )
    if dry_run or not first:
        with metrics.timed("enrich"):
            fresh = await enrich_items(source, http, fresh, matcher)
    with metrics.timed("match"):
        index = await personal.current(db) if personal is not None and fresh and not first else None
        found, hits = (
            await in_thread(match_all, fresh, matcher, index, name=f"match {source.name}") if fresh else ({}, {})
        )
    if dry_run:
        _validators(http, source.name, keep=False)
        result.new = fresh
        result.flagged = [(i, found[i.key]) for i in fresh if i.key in found]
        return result
    with metrics.timed("record"):  # a capped poll keeps the old cursor and validators: the rest is fetched again
        rec = await db.record_poll(
            source.name,
            fresh,
            found,
            cursor=None if result.left else state.pending,
            fetched=http.fetched,
            personal=hits,
        )
    _validators(http, source.name, keep=not result.left)
    result.new, result.flagged, result.alerts, result.first_poll = rec.new, rec.flagged, rec.alerts, rec.first_poll
    result.events = {item.id: event for item, event in rec.events}
    changed = sum(1 for event in result.events.values() if event == "public")
    log.info(
        "source %s: %d items, %d new, %d now public, %d flagged, %d alerts queued%s",
        source.name,
        len(result.items),
        len(rec.new),
        changed,
        len(rec.flagged),
        rec.alerts,
        " (first poll: recorded without alerting)" if rec.first_poll else "",
    )
    await _observe(db, source, result, health)
    return result


async def _record_failure(db: AsyncStore, source, result: PollResult, health: health_rules.HealthRules) -> None:
    """Write a failed poll to the source's health; a database that refuses that too is logged, not raised."""
    try:
        await db.record_failure(source.name, result.failure, result.detail)
    except StoreErrors as exc:
        log.error(
            "source %s: the failed poll (%s) could not be written to its health either: %s",
            source.name,
            result.failure,
            exc,
        )
        return
    await _observe(db, source, result, health)


async def _observe(db: AsyncStore, source, result: PollResult, health: health_rules.HealthRules) -> None:
    """Put the recorded poll to the health rules (poll log, operator messages); a refusal is logged."""
    try:
        await db.run(health_rules.observe, source, result, health)
    except StoreErrors as exc:
        log.error("source %s: the poll was recorded but its health bookkeeping was refused: %s", source.name, exc)
