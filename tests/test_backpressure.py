"""Backpressure on the outbox: the late-queue warning (once, and once when caught up, across restarts), the drain
figures on /metrics and /stats."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.fakes.telegram import ADMIN_CHAT, make_store, queue_alert
from watcher.delivery.backpressure import (
    BacklogWatch,
    BackpressureRules,
    rules_from_env,
)
from watcher.delivery.operators import AdminMessenger
from watcher.errors import ConfigError
from watcher.store import health as healthdb
from watcher.store import subscribers
from watcher.web.metrics import Metrics
from watcher.web.server import WebServer

HOUR = BackpressureRules(alert_age=3600.0)


def outbox_events(store) -> list[str]:
    return [e["kind"] for e in healthdb.events(store, "outbox")]


def deliver_all(store) -> None:
    for sub in store.db.execute("SELECT id FROM subscribers").fetchall():
        subscribers.mark_many_delivered(store, [a.id for a in subscribers.pending_for(store, sub[0])])


# --- the late-queue warning ---------------------------------------------------------------------------------------

async def test_late_queue_warns_once_and_says_once_when_caught_up(store, clock):
    """Past the age limit the operators get one "late" message, none on later checks, one "caught up" message
    once the queue is back under the limit, and nothing after that."""
    store.subscribe("telegram", "1", ["smuggling"])
    queue_alert(store, "council-press", "a")
    watch = BacklogWatch(store, HOUR)
    for _ in range(6):  # 0 to 50 minutes: under the limit
        assert await watch.check() is None
        clock.advance(minutes=10)
    clock.advance(minutes=11)  # 71 minutes
    assert await watch.check() == "late"
    for _ in range(5):
        clock.advance(minutes=1)
        assert await watch.check() is None
    assert outbox_events(store) == ["late"]
    [late] = healthdb.events(store, "outbox")
    assert "alerts are late" in late["text"] and "1h 11m" in late["text"] and "alerts waiting: 1" in late["text"]
    assert "does not shrink" in late["text"]
    deliver_all(store)
    assert await watch.check() == "caught_up"
    for _ in range(3):
        clock.advance(minutes=1)
        assert await watch.check() is None
    assert outbox_events(store) == ["late", "caught_up"]
    assert "on time again" in healthdb.events(store, "outbox")[1]["text"]


async def test_the_operator_chat_receives_each_message_once(store, clock):
    """The late and caught-up messages go through the operator-message queue: each reaches the admin chat once."""
    got: list[tuple[str, str]] = []

    async def send(address: str, text: str) -> None:
        got.append((address, text))

    messenger = AdminMessenger(store, send, [str(ADMIN_CHAT)])
    store.subscribe("telegram", "1", ["smuggling"])
    queue_alert(store, "council-press", "a")
    watch = BacklogWatch(store, HOUR)
    clock.advance(hours=2)
    await watch.check()
    await messenger.drain_once()
    await watch.check()
    await messenger.drain_once()
    assert len(got) == 1 and "alerts are late" in got[0][1]
    deliver_all(store)
    await watch.check()
    await messenger.drain_once()
    await messenger.drain_once()
    assert len(got) == 2 and "on time again" in got[1][1] and {a for a, _ in got} == {str(ADMIN_CHAT)}


async def test_the_warning_state_survives_a_restart(tmp_path, clock):
    """After a restart a queue that is still late sends nothing new, and its recovery is still announced once."""
    store = make_store(tmp_path / "w.db", clock)
    store.subscribe("telegram", "1", ["smuggling"])
    queue_alert(store, "council-press", "a")
    clock.advance(hours=2)
    assert await BacklogWatch(store, HOUR).check() == "late"
    store.close()
    store = make_store(tmp_path / "w.db", clock)
    clock.advance(minutes=5)
    assert await BacklogWatch(store, HOUR).check() is None
    deliver_all(store)
    assert await BacklogWatch(store, HOUR).check() == "caught_up"
    assert outbox_events(store) == ["late", "caught_up"]
    store.close()


async def test_a_queue_hovering_at_the_limit_does_not_flap(store, clock):
    """Once warned, the queue must come back under three quarters of the limit before "caught up" is sent."""
    store.subscribe("telegram", "1", ["smuggling"])
    queue_alert(store, "council-press", "old")
    clock.advance(minutes=61)
    watch = BacklogWatch(store, HOUR)
    assert await watch.check() == "late"
    clock.advance(minutes=10)
    queue_alert(store, "council-press", "b")
    clock.advance(minutes=29)
    queue_alert(store, "council-press", "c")
    clock.advance(minutes=21)
    sub = store.subscriber_id("telegram", "1")
    subscribers.mark_many_delivered(store, [subscribers.pending_for(store, sub)[0].id])
    assert await watch.check() is None  # the oldest now waited 50 minutes: under the limit, not yet under 45
    subscribers.mark_many_delivered(store, [subscribers.pending_for(store, sub)[0].id])
    assert await watch.check() == "caught_up"  # 21 minutes


async def test_alerts_held_for_a_daily_digest_are_not_late(store, clock):
    """An alert waiting for its subscriber's daily digest does not count as late, however old it is."""
    store.subscribe("telegram", "1", ["smuggling"])
    subscribers.set_digest(store, "telegram", "1", 8, "UTC")
    queue_alert(store, "council-press", "a")
    clock.advance(hours=20)
    assert await BacklogWatch(store, HOUR).check() is None
    assert outbox_events(store) == []


def test_settings_are_read_and_checked():
    """WATCHER_OUTBOX_ALERT_AGE takes a duration and WATCHER_OUTBOX_CHAT_CAP a number; a bad value names its fix."""
    assert rules_from_env({}) == BackpressureRules(alert_age=3600.0, chat_cap=50)
    assert rules_from_env({"WATCHER_OUTBOX_ALERT_AGE": "90m", "WATCHER_OUTBOX_CHAT_CAP": "0"}) == \
        BackpressureRules(alert_age=5400.0, chat_cap=0)
    with pytest.raises(ConfigError) as err:
        rules_from_env({"WATCHER_OUTBOX_ALERT_AGE": "soon", "WATCHER_OUTBOX_CHAT_CAP": "-3"})
    assert [p.split(":")[0] for p in err.value.problems] == ["WATCHER_OUTBOX_ALERT_AGE", "WATCHER_OUTBOX_CHAT_CAP"]


# --- what the operators read ---------------------------------------------------------------------------------------

def queue_and_deliver(store, clock, delivered: int, waiting: int) -> None:
    """``delivered`` alerts delivered over the last ten minutes and ``waiting`` still queued, on the store's clock."""
    store.subscribe("telegram", "1", ["smuggling"])
    for n in range(delivered + waiting):
        queue_alert(store, "council-press", f"i{n}")
    sub = store.subscriber_id("telegram", "1")
    clock.advance(minutes=90)
    for alert in subscribers.pending_for(store, sub)[:delivered]:
        clock.advance(seconds=600 / delivered)
        store.mark_delivered(alert.id)


async def test_metrics_expose_the_oldest_age_and_the_drain_rate(store, clock):
    """/metrics, over real HTTP, gives the depth, the oldest undelivered age, delivered and queued per minute and
    the late flag."""
    queue_and_deliver(store, clock, delivered=30, waiting=4)
    await BacklogWatch(store, HOUR).check()
    web = WebServer("127.0.0.1", 0, ready=lambda: (True, {}), metrics=Metrics(store).render)
    await web.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{web.port}") as client:
            text = (await client.get("/metrics")).text
    finally:
        await web.stop()
    assert "watcher_outbox_depth 4.0" in text
    assert "watcher_outbox_oldest_age_seconds 6000.0" in text  # 90 + 10 minutes
    assert "watcher_outbox_oldest_instant_age_seconds 6000.0" in text
    assert "watcher_outbox_delivered_per_minute 2.0" in text  # 30 in the last 15 minutes
    assert "watcher_outbox_queued_per_minute 0.0" in text
    assert "watcher_outbox_late 1.0" in text


async def test_the_running_service_serves_the_figures_and_schedules_the_check(tmp_path, feed_server, monkeypatch):
    """`watcher run` serves the new gauges on /metrics and checks the backlog on its schedule; a bad
    WATCHER_OUTBOX_ALERT_AGE stops it before it opens anything."""
    from tests.test_web import service_for, wait_until

    feed_server.set("/feed.xml", "down", status=500)
    service = service_for(tmp_path, feed_server.url("/feed.xml"))
    task = asyncio.create_task(service.run())
    try:
        async def up() -> bool:
            return service.web is not None and service.web.port != 0 and service.scheduler is not None
        await wait_until(up)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{service.web.port}") as client:
            text = (await client.get("/metrics")).text
        assert "watcher_outbox_delivered_per_minute 0.0" in text and "watcher_outbox_late 0.0" in text
        assert service.scheduler.get_job("outbox-backlog") is not None
    finally:
        service.request_stop()
        await asyncio.wait_for(task, 10)
    monkeypatch.setenv("WATCHER_OUTBOX_ALERT_AGE", "soon")
    with pytest.raises(ConfigError, match="WATCHER_OUTBOX_ALERT_AGE"):
        await service_for(tmp_path, feed_server.url("/feed.xml")).run()


async def test_stats_shows_the_drain_rate_and_the_oldest_age(running, store, clock):
    """/stats shows alerts delivered and queued per minute, the oldest instant alert's wait and the outlook."""
    queue_and_deliver(store, clock, delivered=30, waiting=4)
    text = (await running.say(ADMIN_CHAT, "/stats"))["plain_text"]
    assert "Queue: 4 waiting" in text
    assert ("Drain: delivered 2.0/min, queued 0.0/min (last 15 min); oldest instant alert waiting: 1h 40m; at this "
            "pace it empties in about 2m") in text
    await BacklogWatch(store, HOUR).check()
    clock.advance(minutes=3)
    assert "operators told alerts are late" not in text
    assert "operators told alerts are late 3" in (await running.say(ADMIN_CHAT, "/stats"))["plain_text"]

