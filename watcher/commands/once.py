"""``watcher once``: poll each source once, now, and report what was flagged."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import sys
from pathlib import Path
from urllib.parse import quote

from watcher import pipeline
from watcher.commands.checks import shared_failure, shared_failure_hint
from watcher.config import Config, Settings
from watcher.delivery.operators import messenger_for
from watcher.delivery.pacing import SharedPacer
from watcher.delivery.worker import DeliveryWorker, Pacer
from watcher.errors import StoreError
from watcher.matcher import LazyMatcher
from watcher.notifiers.console import ConsoleNotifier
from watcher.notifiers.format import EVENT_HEADINGS
from watcher.notifiers.setup import close_notifiers, configured_notifiers
from watcher.store.db import PostgresError, is_postgres, read_rows
from watcher.store.pace import PaceBook, bot_key
from watcher.store.provenance import kept_documents
from watcher.store.sqlite import Store
from watcher.wiring import console_mode_setup, labels_of, make_http, source_labels_of

log = logging.getLogger(__name__)


def item_json(source: str, item, matches, event: str = "new") -> dict:
    return {
        "source": source,
        "event": event,
        "id": item.id,
        "title": item.title,
        "url": item.url,
        "published": item.published.isoformat() if item.published else None,
        "topics": [m.topic for m in matches],
        "terms": list(dict.fromkeys(t for m in matches for t in m.terms)),
        "snippet": next((m.snippet for m in matches if m.snippet), ""),
        "extra": item.extra,
    }


def failure_json(result: pipeline.PollResult) -> dict:
    return {"source": result.source, "failure": result.failure, "detail": result.detail}


async def run_once(config: Config, settings: Settings, sources, *, dry_run: bool, as_json: bool) -> int:
    matcher = LazyMatcher(config.topics, config.relevance)  # compiled only if some source brings a new item
    recorded = recorded_sources(settings.store_target) if dry_run else None
    store = Store(":memory:" if dry_run else settings.store_target)
    # beside replicas on PostgreSQL, the sites and the bot are paced together with them
    book = await PaceBook(settings.database_url).open() if settings.database_url and not dry_run else None
    http = make_http(config, store, host_reserve=book.reserve_wait if book else None)
    rules = config.health_rules
    extra: dict = {}
    try:
        if not dry_run:
            extra = subscribe_notifiers(store, config, settings)
        keep = kept_documents(settings.data_dir, config.archive)
        personal = pipeline.PersonalTerms()
        results = await asyncio.gather(
            *(
                pipeline.poll(s, http, store, matcher, dry_run=dry_run, health=rules, keep=keep, personal=personal)
                for s in sources
            )
        )
        if not dry_run:
            await deliver_pending(store, config, settings, extra, book)
    finally:
        await close_notifiers(extra)
        await http.aclose()
        if book is not None:
            await book.aclose()
        store.close()
    report(results, as_json=as_json, dry_run=dry_run, recorded=recorded)
    failure = shared_failure([r.failure for r in results])
    if failure:
        print(shared_failure_hint(failure), file=sys.stderr)
    return 1 if any(not r.ok for r in results) else 0


def subscribe_notifiers(store: Store, config: Config, settings: Settings) -> dict:
    """The webhook and email notifiers, subscribed (with the console, when no token is set) before the poll, so
    what this poll queues reaches an entry that was just added to notifiers.toml."""
    extra = configured_notifiers(config.notifiers, store, labels_of(config), config.http.allows_private(os.environ))
    if not settings.telegram_token:
        console_mode_setup(store, config)
    return extra


def recorded_sources(target: Path | str) -> set[str]:
    """Sources that have items in the database (read only; empty when there is none): their next real poll is
    not a first poll."""
    if is_postgres(target):
        try:
            return {row[0] for row in read_rows(str(target), "SELECT DISTINCT source FROM items")}
        except (StoreError, PostgresError) as exc:
            log.debug("dry run: cannot read the database (%s); every source counts as never polled", exc)
            return set()
    db_path = Path(target)
    if not db_path.exists():
        return set()
    try:
        with sqlite3.connect(f"file:{quote(str(db_path.resolve()))}?mode=ro", uri=True) as db:
            return {row[0] for row in db.execute("SELECT DISTINCT source FROM items")}
    except sqlite3.Error as exc:
        log.debug("dry run: cannot read %s (%s); every source counts as never polled", db_path, exc)
        return set()


async def deliver_pending(
    store: Store, config: Config, settings: Settings, extra: dict, book: PaceBook | None = None
) -> None:
    """Send what this poll queued, through Telegram when a token is set, else to the console; with ``book`` (on
    PostgreSQL) at the send pace the replicas share."""
    labels = labels_of(config)
    if not settings.telegram_token:
        await DeliveryWorker(
            store, {"console": ConsoleNotifier(labels, sys.stderr, source_labels_of(config)), **extra}
        ).drain()
        await messenger_for(store, settings).drain_once()
        return
    # loaded late: python-telegram-bot costs ~0.2 s to import and is not needed without a token
    from telegram import Bot

    from watcher.notifiers.telegram import TelegramNotifier

    async with Bot(settings.telegram_token, base_url=settings.telegram_api_url) as bot:
        worker = DeliveryWorker(
            store,
            {"telegram": TelegramNotifier(bot, labels, source_labels_of(config)), **extra},
            SharedPacer(book, bot_key(settings.telegram_token), rate=settings.send_rate)
            if book is not None
            else Pacer(rate=settings.send_rate),
            concurrency=settings.send_concurrency,
        )
        await worker.drain()
        await messenger_for(store, settings, bot).drain_once()


DRY_FIRST_NOTE = " (never polled here: a real first poll records these and alerts nobody)"


def report(
    results: list[pipeline.PollResult], *, as_json: bool, dry_run: bool, recorded: set[str] | None = None
) -> None:
    """The text or JSON lines of a run; ``recorded`` (dry runs) names the sources the database already knows."""
    out = sys.stdout
    for r in results:
        if as_json:
            for item, matches in r.flagged:
                event = r.events.get(item.id, "new")
                out.write(json.dumps(item_json(r.source, item, matches, event), ensure_ascii=False, default=str) + "\n")
            if not r.ok:
                out.write(json.dumps(failure_json(r), ensure_ascii=False) + "\n")
            continue
        if not r.ok:
            out.write(f"{r.source}: FAILED ({r.failure}): {r.detail}\n")
            continue
        note = " (first poll: recorded without alerting)" if r.first_poll and not dry_run else ""
        if dry_run and r.source not in (recorded or set()):
            note = DRY_FIRST_NOTE
        out.write(f"{r.source}: {len(r.items)} items, {len(r.new)} new, {len(r.flagged)} flagged{note}\n")
        for item, matches in r.flagged:
            topics = ", ".join(m.topic for m in matches)
            event = EVENT_HEADINGS.get(r.events.get(item.id, "new"), "")
            label = f"({event}) " if event and event != "New" else ""
            out.write(f"  [{topics}] {label}{item.title}\n    {item.url}\n")
    out.flush()
