"""Daily digests on a controlled clock, sent with the real python-telegram-bot to the fake Bot API."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from telegram import Bot

from tests.fakes.clock import FakeClock
from tests.fakes.telegram import queue_alert
from watcher.delivery.digest import next_digest_after, zone
from watcher.delivery.pacing import Pacer
from watcher.delivery.worker import DeliveryWorker
from watcher.notifiers.telegram import TelegramNotifier
from watcher.store import subscribers

LABELS = {"smuggling": "Migrant smuggling"}
USER = 1001


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 9, 15, 5, 0, tzinfo=UTC))  # 07:00 in Brussels (summer time)


@pytest.fixture
async def worker(api, store):
    async with Bot(api.token, base_url=api.base_url) as bot:
        yield DeliveryWorker(store, {"telegram": TelegramNotifier(bot, LABELS)}, Pacer(per_chat_interval=0.1))


async def test_digest_arrives_at_its_hour_in_the_subscribers_zone(store, clock, worker, api):
    """Alerts for a digest subscriber wait; at 08:00 Brussels time they arrive as one message; the next day's
    digest holds only what came after."""
    store.subscribe("telegram", str(USER), ["smuggling"])
    subscribers.set_digest(store, "telegram", str(USER), 8, "Europe/Brussels")
    for n in range(3):
        queue_alert(store, "council-press", f"a{n}", f"Report {n} on smuggling & routes")
    await worker.drain()
    assert api.sent_messages() == []
    clock.advance(minutes=59)  # 07:59 Brussels
    assert await worker.digests.run_due() == 0 and api.sent_messages() == []
    clock.advance(minutes=1)  # 08:00 Brussels = 06:00 UTC
    assert await worker.digests.run_due() == 1
    [digest] = api.sent_messages(USER)
    assert digest["plain_text"].startswith("🗞 Daily digest: 3 alerts")
    assert all(f"Report {n} on smuggling &amp; routes" in digest["text"] for n in range(3))
    assert store.outbox_depth() == 0
    assert await worker.digests.run_due() == 0
    queue_alert(store, "council-press", "b", "Later report")
    clock.advance(hours=23, minutes=59)
    assert await worker.digests.run_due() == 0
    clock.advance(minutes=1)
    assert await worker.digests.run_due() == 1
    assert "1 alert" in api.sent_messages(USER)[1]["plain_text"]
    assert "Report 0" not in api.sent_messages(USER)[1]["text"]


async def test_long_digest_is_split_between_alerts(store, clock, worker, api):
    """A digest longer than 4096 characters becomes several messages, each under the limit, and each alert is in
    exactly one of them, whole."""
    store.subscribe("telegram", str(USER), ["smuggling"])
    subscribers.set_digest(store, "telegram", str(USER), 6, "UTC")
    titles = [f"Document {n:02d} " + "on migrant smuggling & border procedures " * 12 for n in range(40)]
    for n, title in enumerate(titles):
        queue_alert(store, "council-press", f"d{n}", title)
    clock.advance(hours=1)
    assert await worker.digests.run_due() == 1
    messages = api.sent_messages(USER)
    assert len(messages) >= 3
    assert all(len(m["plain_text"]) <= 4096 for m in messages)
    assert [f"part {i} of {len(messages)}" in m["plain_text"] for i, m in enumerate(messages, 1)] == [True] * len(
        messages
    )
    for title in titles:
        assert sum(title in m["plain_text"] for m in messages) == 1
    assert store.outbox_depth() == 0


async def test_switching_to_instant_sends_what_waited(store, clock, worker, api):
    """Alerts held for a digest go out one by one after the subscriber switches to instant."""
    store.subscribe("telegram", str(USER), ["smuggling"])
    subscribers.set_digest(store, "telegram", str(USER), 8, "Europe/Brussels")
    queue_alert(store, "council-press", "a")
    await worker.drain()
    assert api.sent_messages() == []
    subscribers.set_instant(store, "telegram", str(USER))
    await worker.drain()
    assert len(api.sent_messages(USER)) == 1


def test_next_digest_time_across_summer_time_change():
    """The digest hour follows the local clock: 08:00 Brussels is 06:00 UTC in summer and 07:00 UTC in winter, so
    the digest on the night the clocks go back comes 25 hours after the one before."""
    tz = ZoneInfo("Europe/Brussels")
    saturday = next_digest_after(datetime(2026, 10, 24, 5, 59, tzinfo=UTC), 8, tz)
    assert saturday == datetime(2026, 10, 24, 6, 0, tzinfo=UTC)
    assert next_digest_after(saturday, 8, tz) == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)
    assert next_digest_after(datetime(2026, 1, 10, 7, 0, tzinfo=UTC), 8, tz) == datetime(2026, 1, 11, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "name,ok",
    [("Europe/Brussels", True), ("UTC", True), ("Mars/Olympus", False), ("../etc/passwd", False), ("", False)],
)
def test_time_zone_names_are_checked(name, ok):
    """Only real tz database names are accepted as time zones."""
    assert (zone(name) is not None) is ok
