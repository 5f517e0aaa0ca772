"""Backpressure on the outbox: the late-queue warning (once, and once when caught up, across restarts), the drain
figures on /metrics and /stats, and the per-chat cap that folds a chat's overflow into catch-up messages."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from tests.conftest import make_config, run_cli, source_toml
from tests.fakes.telegram import ADMIN_CHAT, make_store, queue_alert
from watcher.delivery.backpressure import (
    BacklogWatch,
    BackpressureRules,
    OverflowFolder,
    rules_from_env,
)
from watcher.delivery.operators import AdminMessenger
from watcher.delivery.pacing import Pacer
from watcher.delivery.worker import DeliveryWorker
from watcher.errors import ConfigError
from watcher.notifiers.telegram import TelegramNotifier
from watcher.store import chat_prefs, subscribers
from watcher.store import health as healthdb
from watcher.web.metrics import Metrics
from watcher.web.server import WebServer

LABELS = {"smuggling": "Migrant smuggling"}
HOUR = BackpressureRules(alert_age=3600.0)


@pytest.fixture
async def bot(api):
    async with Bot(api.token, base_url=api.base_url, request=HTTPXRequest(connection_pool_size=8)) as b:
        yield b


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
    assert rules_from_env({"WATCHER_OUTBOX_ALERT_AGE": "90m", "WATCHER_OUTBOX_CHAT_CAP": "0"}) == BackpressureRules(
        alert_age=5400.0, chat_cap=0
    )
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
    """`watcher run` reads the settings, serves the new gauges on /metrics and checks the backlog on its schedule;
    a bad setting stops it before it opens anything."""
    from tests.test_web import service_for, wait_until

    feed_server.set("/feed.xml", "down", status=500)
    monkeypatch.setenv("WATCHER_OUTBOX_CHAT_CAP", "7")
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
        assert service.delivery.overflow.cap == 7
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
    assert (
        "Drain: delivered 2.0/min, queued 0.0/min (last 15 min); oldest instant alert waiting: 1h 40m; at this "
        "pace it empties in about 2m"
    ) in text
    await BacklogWatch(store, HOUR).check()
    clock.advance(minutes=3)
    assert "operators told alerts are late" not in text
    assert "operators told alerts are late 3" in (await running.say(ADMIN_CHAT, "/stats"))["plain_text"]


# --- the per-chat cap ----------------------------------------------------------------------------------------------


def fast_worker(store, bot, cap: int) -> DeliveryWorker:
    return DeliveryWorker(
        store, {"telegram": TelegramNotifier(bot, LABELS)}, Pacer(rate=29, per_chat_interval=0.0), chat_cap=cap
    )


def titles_in(messages: list[dict]) -> list[str]:
    return [t for m in messages for t in re.findall(r"Item (\w+) on migrant smuggling", m["plain_text"])]


async def test_a_chat_over_the_cap_gets_its_overflow_folded_and_loses_nothing(store, bot, api):
    """A chat with 120 due alerts and a cap of 50 gets its 70 oldest in catch-up messages and 50 one by one: every
    alert arrives exactly once and is marked delivered; a chat under the cap gets each of its alerts alone."""
    store.subscribe("telegram", "1", ["smuggling"])
    for n in range(117):
        queue_alert(store, "council-press", f"n{n}")
    store.subscribe("telegram", "2", ["smuggling"])
    for n in range(117, 120):
        queue_alert(store, "council-press", f"n{n}")
    await fast_worker(store, bot, cap=50).drain()
    mine = api.sent_messages(1)
    folded = [m for m in mine if "Catching up: 70 earlier alerts" in m["plain_text"]]
    single = [m for m in mine if m not in folded]
    assert 2 <= len(folded) < 10 and len(single) == 50
    assert sorted(titles_in(mine)) == sorted(f"n{n}" for n in range(120))
    assert titles_in(folded) == [f"n{n}" for n in range(70)]  # the oldest, in order
    assert all(len(m["plain_text"]) <= 4096 for m in folded)
    others = api.sent_messages(2)
    assert titles_in(others) == ["n117", "n118", "n119"] and len(others) == 3
    assert not any("Catching up" in m["plain_text"] for m in others)
    assert store.outbox_depth() == 0
    assert store.db.execute("SELECT count(*) FROM outbox WHERE delivered_at IS NOT NULL").fetchone()[0] == 123


async def test_a_french_chats_catch_up_is_in_french_and_names_the_source_by_its_label(store, bot, api):
    """A chat that chose French gets its folded alerts headed in French, and each entry names the source by its
    label from sources.toml, as alerts and digests do, not by its configuration name."""
    store.subscribe("telegram", "1", ["smuggling"])
    chat_prefs.set_language(store, "telegram", "1", "fr")
    for n in range(8):
        queue_alert(store, "council-press", f"n{n}")
    notifiers = {"telegram": TelegramNotifier(bot, LABELS, {"council-press": "Conseil de l’UE : presse"})}
    folder = OverflowFolder(
        store, notifiers, Pacer(rate=29, per_chat_interval=0.0), lambda c, k: None, cap=3, inflight=set()
    )
    assert await folder.run_due() == 5
    [message] = api.sent_messages(1)
    assert message["plain_text"].startswith("🗞 Rattrapage : 5 alertes en retard\n\n")
    assert message["plain_text"].count("Conseil de l’UE : presse") == 5 and "council-press" not in message["plain_text"]


async def test_an_alert_in_flight_is_never_folded(store, bot, api):
    """The alert being sent alone at the moment of folding stays out of the catch-up message."""
    store.subscribe("telegram", "1", ["smuggling"])
    for n in range(8):
        queue_alert(store, "council-press", f"n{n}")
    first = subscribers.pending_for(store, store.subscriber_id("telegram", "1"))[0]
    notifiers = {"telegram": TelegramNotifier(bot, LABELS)}
    folder = OverflowFolder(
        store, notifiers, Pacer(rate=29, per_chat_interval=0.0), lambda c, k: None, cap=3, inflight={first.id}
    )
    assert await folder.run_due() == 4
    [message] = api.sent_messages(1)
    assert titles_in([message]) == ["n1", "n2", "n3", "n4"]
    assert subscribers.still_due(store, first.id)


async def test_a_refused_catch_up_message_loses_nothing(store, bot, api):
    """When Telegram refuses a catch-up message with a server error, its alerts stay queued and are all delivered
    later, once each."""
    store.subscribe("telegram", "1", ["smuggling"])
    for n in range(10):
        queue_alert(store, "council-press", f"n{n}")
    api.fail_next("sendMessage", 502)
    await fast_worker(store, bot, cap=4).drain()
    assert store.outbox_depth() == 0
    assert sorted(titles_in(api.sent_messages(1))) == sorted(f"n{n}" for n in range(10))


@pytest.mark.parametrize(
    "variable,value,says",
    [
        ("WATCHER_OUTBOX_ALERT_AGE", "soon", "WATCHER_OUTBOX_ALERT_AGE: 'soon' is not a duration"),
        ("WATCHER_OUTBOX_CHAT_CAP", "lots", "WATCHER_OUTBOX_CHAT_CAP: 'lots' is not a number"),
        ("WATCHER_OUTBOX_CHAT_CAP", "9" * 20, "WATCHER_OUTBOX_CHAT_CAP: 99999999999999999999 is more than 100,000"),
    ],
)
def test_check_config_reports_a_bad_backpressure_setting(tmp_path, variable, value, says):
    """check-config fails on a WATCHER_OUTBOX_* value that would stop `watcher run`, naming the variable and the
    fix, instead of saying the configuration is OK."""
    cfg = make_config(tmp_path / "cfg", source_toml("feed", "http://127.0.0.1:9/feed.xml"))
    done = run_cli(["--config", str(cfg), "check-config"], tmp_path, **{variable: value})
    assert done.returncode == 1 and "configuration OK" not in done.stdout
    assert f"error: {says}" in done.stderr
    assert "e.g." in done.stderr.split(says, 1)[1].splitlines()[0]
    assert run_cli(["--config", str(cfg), "check-config"], tmp_path).returncode == 0


def test_a_chat_cap_beyond_the_bound_is_refused():
    """A cap past MAX_CHAT_CAP (here past SQLite's integers, which would break the fold query) is a problem."""
    with pytest.raises(ConfigError, match="more than 100,000"):
        rules_from_env({"WATCHER_OUTBOX_CHAT_CAP": "100001"})
    assert rules_from_env({"WATCHER_OUTBOX_CHAT_CAP": "100000"}).chat_cap == 100_000
