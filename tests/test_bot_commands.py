"""Telegram commands with the real python-telegram-bot against the fake Bot API: subscribe, topics, errors."""

from __future__ import annotations

import pytest
from telegram.ext import Application

from tests.fakes.botapi import FakeBotAPI
from watcher import bot
from watcher.matcher import topics_from_toml
from watcher.models import Item, Match
from watcher.store import Store

TOPICS, _, _ = topics_from_toml({"topic": [
    {"id": "smuggling", "label": "Migrant smuggling", "terms": ["migrant smuggling"], "exclude": []},
    {"id": "borders", "label": "Borders", "terms": ["frontex"], "exclude": []}]})
CHAT = 5150


@pytest.fixture
async def running(tmp_path):
    with FakeBotAPI() as api:
        store = Store(tmp_path / "w.db")
        app = Application.builder().token(api.token).base_url(api.base_url).build()
        bot.register(app, bot.BotDeps(store, {t.id: t for t in TOPICS}))
        await app.initialize()
        await app.start()
        await app.updater.start_polling(poll_interval=0.05, timeout=1)
        try:
            yield api, store
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()
            store.close()


async def say(api: FakeBotAPI, text: str) -> str:
    """Send a command as the user and return the bot's reply text."""
    import asyncio

    before = len(api.sent_messages(CHAT))
    api.send_user_message(CHAT, text)
    messages = await asyncio.to_thread(api.wait_for_messages, before + 1, CHAT, 10)
    return messages[-1]["plain_text"]


async def test_start_topics_subscribe_unsubscribe_stop(running):
    """/start subscribes to every topic; /unsubscribe and /subscribe change it; /topics shows it; /stop ends it."""
    api, store = running
    assert "subscribed to: Migrant smuggling, Borders" in await say(api, "/start")
    assert store.subscription("telegram", str(CHAT)) == (True, ["borders", "smuggling"])
    assert "Unsubscribed from Borders" in await say(api, "/unsubscribe borders")
    assert store.subscription("telegram", str(CHAT)) == (True, ["smuggling"])
    topics = await say(api, "/topics")
    assert "✅ smuggling" in topics and "▫️ borders" in topics
    assert "Subscribed to Borders" in await say(api, "/subscribe borders")
    assert "Alerts stopped" in await say(api, "/stop")
    assert store.subscription("telegram", str(CHAT))[0] is False


async def test_unknown_or_missing_topic_gets_a_helpful_reply(running):
    """/subscribe with an unknown topic id, or none, names the topics that exist and changes nothing."""
    api, store = running
    await say(api, "/start")
    reply = await say(api, "/subscribe smugling")
    assert "Unknown topic smugling" in reply and "smuggling" in reply and "borders" in reply
    assert "Which topic?" in await say(api, "/unsubscribe")
    assert store.subscription("telegram", str(CHAT)) == (True, ["borders", "smuggling"])


async def test_recent_and_help(running):
    """/recent lists the last flagged items with escaped titles; /help lists the commands."""
    api, store = running
    assert "Nothing has been flagged yet" in await say(api, "/recent")
    store.record_poll("feed", [Item("feed", "1", "Smuggling <b>networks</b> & routes", "https://e.org/1")],
                      {("feed", "1"): [Match("smuggling", ("migrant smuggling",))]})
    recent = await say(api, "/recent")
    assert "Smuggling <b>networks</b> & routes" in recent and "Migrant smuggling" in recent
    assert "/subscribe" in await say(api, "/help")
