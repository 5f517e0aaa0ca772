"""``watcher once``: poll each source once, now, and report what was flagged."""

from __future__ import annotations

import asyncio
import json
import logging
import sys

from watcher import pipeline
from watcher.delivery.operators import messenger_for
from watcher.app import console_mode_setup, labels_of, make_http
from watcher.config import Config, Settings
from watcher.delivery.worker import DeliveryWorker, Pacer
from watcher.matcher import Matcher
from watcher.notifiers.console import ConsoleNotifier
from watcher.notifiers.format import EVENT_HEADINGS
from watcher.notifiers.setup import close_notifiers, configured_notifiers
from watcher.store.sqlite import Store

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
    matcher = Matcher(config.topics)
    store = Store(":memory:" if dry_run else settings.db_path)
    http = make_http(config, store)
    rules = config.health_rules
    try:
        results = await asyncio.gather(*(pipeline.poll(s, http, store, matcher, dry_run=dry_run, health=rules)
                                         for s in sources))
        if not dry_run:
            await deliver_pending(store, config, settings)
    finally:
        await http.aclose()
        store.close()
    report(results, as_json=as_json, dry_run=dry_run)
    return 1 if any(not r.ok for r in results) else 0


async def deliver_pending(store: Store, config: Config, settings: Settings) -> None:
    """Send what this poll queued, through Telegram when a token is set, else to the console."""
    labels = labels_of(config)
    extra = configured_notifiers(config.notifiers, store, labels)
    try:
        if not settings.telegram_token:
            console_mode_setup(store, config)
            await DeliveryWorker(store, {"console": ConsoleNotifier(labels, sys.stderr), **extra}).drain()
            await messenger_for(store, settings).drain_once()
            return
        # loaded late: python-telegram-bot costs ~0.2 s to import and is not needed without a token
        from telegram import Bot

        from watcher.notifiers.telegram import TelegramNotifier

        async with Bot(settings.telegram_token, base_url=settings.telegram_api_url) as bot:
            worker = DeliveryWorker(store, {"telegram": TelegramNotifier(bot, labels), **extra},
                                    Pacer(rate=settings.send_rate), concurrency=settings.send_concurrency)
            await worker.drain()
            await messenger_for(store, settings, bot).drain_once()
    finally:
        await close_notifiers(extra)


def report(results: list[pipeline.PollResult], *, as_json: bool, dry_run: bool) -> None:
    out = sys.stdout
    for r in results:
        if as_json:
            for item, matches in r.flagged:
                event = r.events.get(item.id, "new")
                out.write(json.dumps(item_json(r.source, item, matches, event), ensure_ascii=False, default=str)
                          + "\n")
            if not r.ok:
                out.write(json.dumps(failure_json(r), ensure_ascii=False) + "\n")
            continue
        if not r.ok:
            out.write(f"{r.source}: FAILED ({r.failure}): {r.detail}\n")
            continue
        note = " (first poll: recorded without alerting)" if r.first_poll and not dry_run else ""
        out.write(f"{r.source}: {len(r.items)} items, {len(r.new)} new, {len(r.flagged)} flagged{note}\n")
        for item, matches in r.flagged:
            topics = ", ".join(m.topic for m in matches)
            event = EVENT_HEADINGS.get(r.events.get(item.id, "new"), "")
            label = f"({event}) " if event and event != "New" else ""
            out.write(f"  [{topics}] {label}{item.title}\n    {item.url}\n")
    out.flush()
