"""The delivery worker against the fake Bot API with the real python-telegram-bot: what each answer of Telegram
does to the alert, the subscriber and the queue."""

from __future__ import annotations

import time

import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from tests.fakes.telegram import queue_alert
from watcher.delivery.pacing import Pacer
from watcher.delivery.worker import DeliveryWorker
from watcher.notifiers.telegram import TelegramNotifier
from watcher.store import subscribers

LABELS = {"smuggling": "Migrant smuggling", "borders": "Borders"}


@pytest.fixture
async def bot(api):
    async with Bot(api.token, base_url=api.base_url, request=HTTPXRequest(connection_pool_size=16)) as b:
        yield b


def worker(store, bot, **kw) -> DeliveryWorker:
    return DeliveryWorker(store, {"telegram": TelegramNotifier(bot, LABELS)}, kw.pop("pacer", None) or Pacer(), **kw)


def subscribe(store, *chats, topics=("smuggling",)):
    for chat in chats:
        store.subscribe("telegram", str(chat), list(topics))


async def test_each_alert_is_sent_once_and_marked_delivered(store, bot, api):
    """Due alerts are sent, marked delivered, and not sent again on the next pass."""
    subscribe(store, 1, 2)
    queue_alert(store, "council-press", "a", "Smuggling & <routes>")
    w = worker(store, bot)
    await w.drain()
    assert [m["chat_id"] for m in api.sent_messages()] in ([1, 2], [2, 1])
    assert "Smuggling &amp; &lt;routes&gt;" in api.sent_messages(1)[0]["text"]
    assert store.outbox_depth() == 0
    await w.drain()
    assert len(api.sent_messages()) == 2


async def test_blocked_subscriber_is_deactivated(store, bot, api):
    """A 403 (bot blocked) deactivates that subscriber and drops its alerts; the others still get theirs."""
    subscribe(store, 1, 2)
    api.block_chat(1)
    queue_alert(store, "council-press", "a")
    queue_alert(store, "council-press", "b")
    await worker(store, bot).drain()
    assert store.subscription("telegram", "1")[0] is False
    assert len(api.sent_messages(2)) == 2 and api.sent_messages(1) == []
    assert store.outbox_depth() == 0
    assert subscribers.stats(store)["dropped_total"] == 2


async def test_migrated_chat_gets_its_alert_at_the_new_id(store, bot, api):
    """A group upgraded to a supergroup: the subscriber's id is updated and the alert arrives at the new id."""
    subscribe(store, -500)
    api.migrate_chat(-500, -100500)
    queue_alert(store, "council-press", "a")
    await worker(store, bot).drain()
    assert len(api.sent_messages(-100500)) == 1
    assert store.subscription("telegram", "-100500") == (True, ["smuggling"])
    assert store.outbox_depth() == 0


async def test_migration_onto_an_existing_subscriber_merges_them(store, bot, api):
    """If the new supergroup id already subscribed (UNIQUE channel+address), the two are merged: topics joined and
    the alert arrives once."""
    subscribe(store, -500, topics=("smuggling",))
    subscribe(store, -100500, topics=("borders",))
    api.migrate_chat(-500, -100500)
    queue_alert(store, "council-press", "a", topic="smuggling")
    await worker(store, bot).drain()
    assert len(api.sent_messages(-100500)) == 1
    assert store.subscription("telegram", "-100500") == (True, ["borders", "smuggling"])
    assert store.outbox_depth() == 0


async def test_retry_after_pauses_the_whole_queue_exactly(store, bot, api):
    """A 429 with retry_after=2: no message to any chat goes out for exactly those 2 seconds, then every alert
    (the refused one first) is delivered."""
    subscribe(store, 1, 2, 3)
    queue_alert(store, "council-press", "a")
    api.fail_next("sendMessage", 429, parameters={"retry_after": 2})
    pacer = Pacer(rate=5)
    await worker(store, bot, pacer=pacer).drain()
    calls = api.calls("sendMessage")
    assert [c.status for c in calls] == [429, 200, 200, 200]
    assert list(pacer.pauses) == [2.0]
    gap = calls[1].time - calls[0].time
    assert 2.0 <= gap < 2.5, gap
    assert calls[1].params["chat_id"] == calls[0].params["chat_id"]
    assert store.outbox_depth() == 0
    assert subscribers.stats(store)["retrying"] == 0


async def test_cant_parse_entities_falls_back_to_plain_text(store, bot, api):
    """When Telegram refuses the HTML, the same alert is resent as plain text and counts as delivered."""
    subscribe(store, 1)
    queue_alert(store, "council-press", "a", "Frontex & smuggling")
    api.fail_next("sendMessage", 400, 'Bad Request: can\'t parse entities: Unsupported start tag "x"')
    await worker(store, bot).drain()
    [sent] = api.sent_messages(1)
    assert sent["parse_mode"] is None and "Frontex & smuggling" in sent["text"]
    assert store.outbox_depth() == 0


async def test_server_errors_are_retried_with_backoff(store, bot, api, clock):
    """A 502 leaves the alert queued for a later attempt; when its time comes it is delivered."""
    subscribe(store, 1)
    queue_alert(store, "council-press", "a")
    api.fail_next("sendMessage", 502)
    w = worker(store, bot)
    await w.drain()
    assert api.sent_messages() == [] and store.outbox_depth() == 1
    [row] = store.db.execute("SELECT attempts, next_attempt_at FROM outbox").fetchall()
    assert row[0] == 1 and row[1] > store.now()
    clock.advance(seconds=10)
    await w.drain()
    assert len(api.sent_messages(1)) == 1 and store.outbox_depth() == 0


async def test_one_slow_chat_does_not_hold_up_the_others(store, bot, api):
    """With more than one send in flight allowed, the other chats' alerts go out while one chat's send hangs."""
    subscribe(store, 1, 2, 3, 4)
    queue_alert(store, "council-press", "a")
    api.delay_next("sendMessage", 1.5, chat_id=1)
    started = time.time()
    await worker(store, bot, concurrency=4).drain()
    times = {m["chat_id"]: m["time"] for m in api.sent_messages()}
    assert set(times) == {1, 2, 3, 4}
    assert max(times[c] for c in (2, 3, 4)) < times[1]
    assert times[1] - started >= 1.5


async def test_long_alert_is_kept_under_the_limit(store, bot, api):
    """An alert whose text would pass 4096 characters is shortened, HTML still valid, and accepted."""
    subscribe(store, 1)
    from watcher.models import Item, Match

    store.record_poll("s", [Item(source="s", id="seed", title="seed", url="https://e.org/seed")], {})
    item = Item(source="s", id="x", title="T & " * 2000, url="https://e.org/x")
    store.record_poll(
        "s", [item], {item.key: [Match("smuggling", tuple(f"term{i} & <b>" * 20 for i in range(40)), "s & " * 500)]}
    )
    await worker(store, bot).drain()
    [sent] = api.sent_messages(1)
    assert len(sent["plain_text"]) <= 4096 and sent["parse_mode"] == "HTML"
    assert store.outbox_depth() == 0


async def test_stopped_subscriber_gets_nothing_more(store, bot, api):
    """An alert queued before /stop is not sent after it."""
    subscribe(store, 1)
    queue_alert(store, "council-press", "a")
    store.deactivate("telegram", "1")
    await worker(store, bot).drain()
    assert api.sent_messages() == []


async def test_console_alerts_are_not_held_to_one_a_second(store):
    """Per-chat limits are Telegram's: many alerts to the console come out without a second between them."""
    import io

    from watcher.notifiers.console import ConsoleNotifier

    out = io.StringIO()
    store.subscribe("console", "stdout", ["smuggling"])
    for n in range(5):
        queue_alert(store, "council-press", f"c{n}")
    started = time.monotonic()
    await DeliveryWorker(store, {"console": ConsoleNotifier(LABELS, out)}, Pacer(rate=25)).drain()
    assert out.getvalue().count("=== ALERT ===") == 5
    assert time.monotonic() - started < 2.0
