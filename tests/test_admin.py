"""Operator messages reach the admin chats through the real python-telegram-bot and a fake Bot API, once each, and
survive a restart; without a token they go to the log."""

from __future__ import annotations

import logging

import pytest
from telegram import Bot

from tests.fakes.botapi import FakeBotAPI
from watcher.config import Settings
from watcher.delivery.operators import AdminMessenger, messenger_for, send_to_log, telegram_sender
from watcher.store import health as healthdb
from watcher.store.sqlite import Store

ADMINS = frozenset({501, 502})


@pytest.fixture
def bot_api():
    with FakeBotAPI() as api:
        yield api


def queue(store: Store, text: str = "⚠️ watcher: source feed is failing: timeout <b>&") -> int:
    with store.tx():
        return healthdb.enqueue_event(store, "feed", "failing", "timeout", text)


async def test_each_admin_chat_gets_the_message_once_as_plain_text(tmp_path, bot_api):
    """A queued health event is sent to every admin chat once, without a parse mode (so nothing in it is markup),
    and a second drain sends nothing."""
    store = Store(tmp_path / "w.db")
    queue(store)
    async with Bot(bot_api.token, base_url=bot_api.base_url) as bot:
        messenger = messenger_for(store, Settings(admin_chat_ids=ADMINS), bot)
        assert await messenger.drain_once() == 1
        assert await messenger.drain_once() == 0
    for chat in ADMINS:
        [msg] = bot_api.sent_messages(chat)
        assert msg["text"].endswith("timeout <b>&") and not msg.get("parse_mode")
    assert healthdb.pending_events(store) == 0


async def test_unsent_message_is_sent_after_a_restart_and_not_twice(tmp_path, bot_api):
    """When Telegram fails, the event stays queued in the database; a new process sends it to the chat that had
    not got it, and only to that one."""
    db = tmp_path / "w.db"
    store = Store(db)
    queue(store)
    bot_api.fail_next("sendMessage", 502, count=1, chat_id=502)
    async with Bot(bot_api.token, base_url=bot_api.base_url) as bot:
        first = AdminMessenger(store, telegram_sender(bot), ["501", "502"])
        assert await first.drain_once() == 0
    store.close()
    assert len(bot_api.sent_messages(501)) == 1 and bot_api.sent_messages(502) == []

    store = Store(db)  # the restart
    store.db.execute("UPDATE health_events SET next_attempt_at=created_at")  # the retry is due now
    async with Bot(bot_api.token, base_url=bot_api.base_url) as bot:
        assert await AdminMessenger(store, telegram_sender(bot), ["501", "502"]).drain_once() == 1
    assert len(bot_api.sent_messages(501)) == 1 and len(bot_api.sent_messages(502)) == 1
    assert healthdb.pending_events(store) == 0


async def test_a_blocked_admin_chat_is_skipped_and_logged(tmp_path, bot_api, caplog):
    """An admin chat that blocked the bot is skipped with an error in the log; the other admin gets the message."""
    store = Store(tmp_path / "w.db")
    queue(store)
    bot_api.block_chat(501)
    async with Bot(bot_api.token, base_url=bot_api.base_url) as bot:
        with caplog.at_level(logging.ERROR):
            assert await AdminMessenger(store, telegram_sender(bot), ["501", "502"]).drain_once() == 1
    assert len(bot_api.sent_messages(502)) == 1
    assert "operator chat 501 cannot receive" in caplog.text


async def test_console_mode_writes_health_messages_to_the_log(tmp_path, caplog):
    """Without a bot the message goes to the log, once."""
    store = Store(tmp_path / "w.db")
    queue(store, "⚠️ watcher: source feed is failing: timeout")
    messenger = messenger_for(store, Settings())
    assert messenger.send is send_to_log
    with caplog.at_level(logging.WARNING):
        await messenger.drain_once()
        await messenger.drain_once()
    assert caplog.text.count("operator message: ⚠️ watcher: source feed is failing") == 1
