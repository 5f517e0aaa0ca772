"""A chat's quiet settings through the fake Bot API: /mute holds alerts and then sends one digest, /quiet sends
without a sound, /me shows every setting."""

from __future__ import annotations

import pytest
from telegram import Bot

from tests.fakes.telegram import queue_alert
from watcher.delivery.pacing import Pacer
from watcher.delivery.worker import DeliveryWorker
from watcher.notifiers.telegram import TelegramNotifier
from watcher.store import subscribers

USER = 1001


@pytest.fixture
async def worker(api, store):
    async with Bot(api.token, base_url=api.base_url) as bot:
        yield DeliveryWorker(
            store, {"telegram": TelegramNotifier(bot, {"smuggling": "S"})}, Pacer(per_chat_interval=0.01)
        )


async def test_mute_holds_alerts_then_sends_one_digest(running, api, store, clock, worker):
    """/mute 1d: nothing is sent for a day, then one digest of what was held; after it alerts come one by one."""
    await running.say(USER, "/start")
    assert "Muted until" in (await running.say(USER, "/mute 1d"))["plain_text"]
    before = len(api.sent_messages(USER))
    for n in range(2):
        queue_alert(store, "council-press", f"m{n}")
    await worker.drain()
    assert await worker.digests.run_due() == 0 and len(api.sent_messages(USER)) == before
    clock.advance(days=1, minutes=1)
    assert await worker.digests.run_due() == 1
    [digest] = api.sent_messages(USER)[before:]
    assert "Daily digest: 2 alerts" in digest["plain_text"]
    queue_alert(store, "council-press", "later")
    await worker.drain()
    assert len(api.sent_messages(USER)) == before + 2
    assert "not a time" in (await running.say(USER, "/mute forever"))["plain_text"]
    await running.say(USER, "/mute 1w")
    assert "Mute ended" in (await running.say(USER, "/unmute"))["plain_text"]
    assert "not muted" in (await running.say(USER, "/unmute"))["plain_text"]


async def test_quiet_sends_alerts_without_a_sound(running, api, store, worker):
    """/quiet on sends alerts with disable_notification; /quiet off with a sound again."""
    await running.say(USER, "/start")
    assert "without a sound" in (await running.say(USER, "/quiet on"))["plain_text"]
    queue_alert(store, "council-press", "q1")
    await worker.drain()
    assert api.calls("sendMessage")[-1].params.get("disable_notification") in (True, "true", "True")
    await running.say(USER, "/quiet off")
    queue_alert(store, "council-press", "q2")
    await worker.drain()
    assert api.calls("sendMessage")[-1].params.get("disable_notification") in (None, False, "false", "False")


async def test_me_shows_topics_delivery_mute_and_quiet(running):
    """/me gives this chat's topics, delivery mode, mute, quiet, own terms and follows in one message."""
    assert "no subscription" in (await running.say(USER, "/me"))["plain_text"]
    await running.say(USER, "/start smuggling")
    await running.say(USER, "/digest 8 Europe/Brussels")
    await running.say(USER, "/quiet on")
    await running.say(USER, "/mute 1w")
    text = (await running.say(USER, "/me"))["plain_text"]
    assert "Topics: Migrant smuggling" in text and "daily digest at 08:00" in text
    assert "Muted until" in text and "Quiet: on" in text
    assert "Your terms: none" in text and "Following: nothing" in text
    await running.say(USER, "/follow ST 700 2023")
    await running.say(USER, "/watch pushbacks")
    text = (await running.say(USER, "/me"))["plain_text"]
    assert "Following: ST 700/23" in text and "Your terms: pushbacks" in text


async def test_alerts_held_by_a_mute_are_neither_late_nor_folded(running, store):
    """A muted chat's held alerts do not count as late for the operators and are not folded into catch-up
    messages while the mute lasts."""
    await running.say(USER, "/start")
    await running.say(USER, "/mute 1d")
    for n in range(3):
        queue_alert(store, "council-press", f"h{n}")
    assert subscribers.oldest_instant_pending_at(store) is None
    assert subscribers.overflowing(store, ["telegram"], 1) == []
