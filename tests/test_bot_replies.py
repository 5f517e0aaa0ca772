"""What the bot says back: short echoes of what was typed, honest replies about topics and delivery, and batches of
alerts in the order they were published; the real python-telegram-bot against the fake Bot API."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from telegram import Bot

from tests.fakes.telegram import ADMIN_CHAT, queue_alert
from watcher.delivery.pacing import Pacer
from watcher.delivery.worker import DeliveryWorker
from watcher.models import Item, Match
from watcher.notifiers.telegram import TelegramNotifier
from watcher.store import subscribers

USER = 1001
LONG = "x" * 4070 + "<b>&"


def buttons(message: dict) -> set[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return {b["callback_data"] for row in rows for b in row}


@pytest.mark.parametrize(
    "command, chat",
    [
        ("/subscribe", USER),
        ("/unsubscribe", USER),
        ("/recent", USER),
        ("/digest", USER),
        ("/pause", ADMIN_CHAT),
        ("/resume", ADMIN_CHAT),
    ],
)
async def test_a_very_long_argument_is_echoed_as_a_short_escaped_excerpt(running, command, chat):
    """A command with a 4,000-character argument gets a reply that quotes at most a short, escaped excerpt of it."""
    await running.say(chat, "/start")
    if command == "/digest":
        answer = await running.say(chat, f"/digest {LONG}")
        assert len(answer["text"]) < 400
        answer = await running.say(chat, f"/digest 8 {LONG}")
    else:
        answer = await running.say(chat, f"{command} {LONG}")
    assert len(answer["text"]) < 600 and "xxxxxxxxxx" in answer["text"] and "<b>" not in answer["text"]


async def test_subscribe_after_stop_turns_on_only_the_topic_named(running, store):
    """After /stop, /subscribe <topic> starts alerts for that topic alone, not for the topics on before /stop."""
    await running.say(USER, "/start")
    await running.say(USER, "/unsubscribe migration")
    await running.say(USER, "/stop")
    answer = await running.say(USER, "/subscribe migration")
    assert store.subscription("telegram", str(USER)) == (True, ["migration"])
    assert "Subscribed to Migration and asylum" in answer["plain_text"]


async def test_topic_button_after_stop_turns_on_only_that_topic(running, store):
    """After /stop, a topic button starts alerts for that topic alone."""
    await running.say(USER, "/start")
    await running.say(USER, "/stop")
    shown = await running.say(USER, "/topics")
    await running.press(USER, shown["message_id"], "t:borders")
    assert store.subscription("telegram", str(USER)) == (True, ["borders"])


async def test_a_deep_link_with_only_unknown_topics_subscribes_to_nothing(running, store):
    """/start smugling (no known topic) subscribes to nothing, names what was typed and offers the topics."""
    answer = await running.say(USER, "/start smugling")
    assert store.subscription("telegram", str(USER)) == (False, [])
    assert "smugling" in answer["plain_text"] and "smuggling" in answer["plain_text"]
    assert {"t:smuggling", "t:borders", "t:migration"} <= buttons(answer)


async def test_start_after_stop_restores_topics_and_says_the_delivery_mode(running, store):
    """/start after /stop turns the chat's own topics back on, keeps its digest, and says both."""
    await running.say(USER, "/start")
    await running.say(USER, "/unsubscribe migration")
    await running.say(USER, "/digest 8 Europe/Brussels")
    await running.say(USER, "/stop")
    answer = await running.say(USER, "/start")
    assert store.subscription("telegram", str(USER)) == (True, ["borders", "smuggling"])
    assert "daily digest at 08:00 Europe/Brussels" in answer["plain_text"]
    assert "Welcome back" in answer["plain_text"] and "as it comes" not in answer["plain_text"]


async def test_help_names_the_configured_sources_topic_ids_and_deep_link(running):
    """/help is built from the configured sources and topics, with the deep-link form; nothing hard-coded."""
    text = (await running.say(USER, "/help"))["plain_text"]
    assert "council-press" in text and "statewatch" in text and "EUR-Lex" not in text
    assert "smuggling" in text and "?start=" in text and "/stats" not in text
    assert "/stats" in (await running.say(ADMIN_CHAT, "/help"))["plain_text"]


async def test_wording_for_what_did_not_change(running, store, api, caplog):
    """A topic already off, a source already paused, one waiting alert and a chat that never subscribed are each
    described as they are."""
    await running.say(USER, "/start smuggling")
    answer = (await running.say(USER, "/unsubscribe borders"))["plain_text"]
    assert "Unsubscribed" not in answer and "already off" in answer
    await running.say(ADMIN_CHAT, "/pause statewatch")
    answer = (await running.say(ADMIN_CHAT, "/pause statewatch"))["plain_text"]
    assert "already paused" in answer and not answer.startswith("Paused")
    await running.say(USER, "/digest 8 UTC")
    queue_alert(store, "council-press", "a1")
    answer = (await running.say(USER, "/instant"))["plain_text"]
    assert "The alert waiting for the digest follows now." in answer
    with caplog.at_level(logging.INFO, logger="watcher.bot"):
        api.send_my_chat_member(4242, "kicked", "member", user_id=4242)
        for _ in range(200):
            if "4242" in caplog.text:
                break
            await asyncio.sleep(0.02)
    assert "4242" in caplog.text and "subscriber deactivated" not in caplog.text


async def test_a_batch_arrives_oldest_first_in_alerts_and_in_digests(api, store, clock):
    """A poll that lists items newest first queues them oldest first, so alerts and digests read in that order."""
    store.subscribe("telegram", str(USER), ["smuggling"])
    store.subscribe("telegram", "1002", ["smuggling"])
    subscribers.set_digest(store, "telegram", "1002", 6, "UTC")
    store.record_poll(
        "council-press", [Item(source="council-press", id="seed", title="seed", url="https://e.org/s")], {}
    )
    day = datetime(2026, 9, 1, tzinfo=UTC)
    items = [
        Item(
            source="council-press",
            id=f"n{n}",
            title=f"Report {n}",
            url=f"https://e.org/{n}",
            published=day + timedelta(days=n),
        )
        for n in (3, 2, 1)
    ]  # the feed lists the newest first
    found = [Match("smuggling", ("migrant smuggling",), "a [migrant smuggling] case")]
    store.record_poll("council-press", items, {i.key: found for i in items})
    async with Bot(api.token, base_url=api.base_url) as bot:
        worker = DeliveryWorker(
            store, {"telegram": TelegramNotifier(bot, {"smuggling": "S"})}, Pacer(per_chat_interval=0.05)
        )
        await worker.drain()
        clock.advance(hours=1)  # 06:00 UTC, the digest's hour
        assert await worker.digests.run_due() == 1
    sent = [m["plain_text"] for m in api.sent_messages(USER)]
    assert [next(n for n in (1, 2, 3) if f"Report {n}" in t) for t in sent] == [1, 2, 3]
    [digest] = [m["plain_text"] for m in api.sent_messages(1002)]
    assert digest.index("Report 1") < digest.index("Report 2") < digest.index("Report 3")


async def test_what_the_bot_does_not_understand(running, api):
    """Unknown commands and plain text get "try /help" in a private chat and nothing in a group."""
    assert (await running.say(USER, "/frobnicate"))["plain_text"] == "I did not understand; try /help."
    assert (await running.say(USER, "hello there"))["plain_text"] == "I did not understand; try /help."
    assert "/topics" in (await running.say(USER, "/help"))["plain_text"]
    api.set_admins(-2002, [11])
    api.send_user_message(-2002, "/frobnicate", user_id=11)
    api.send_user_message(-2002, "hello", user_id=11)
    assert "/topics" in (await running.say(-2002, "/help", user_id=11))["plain_text"]
    assert len(api.sent_messages(-2002)) == 1


async def test_a_deep_link_after_stop_turns_on_only_the_topics_it_names(running, store):
    """After /stop, /start <topic> from a link starts alerts for the topics named alone."""
    await running.say(USER, "/start smuggling-borders")
    await running.say(USER, "/stop")
    answer = await running.say(USER, "/start migration")
    assert store.subscription("telegram", str(USER)) == (True, ["migration"])
    assert "subscribed to: Migration and asylum." in answer["plain_text"]
