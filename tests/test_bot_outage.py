"""A Bot API outage in the log: one warning when it starts, one info line when it is over, no tracebacks; the real
python-telegram-bot against the fake Bot API answering 502."""

from __future__ import annotations

import asyncio
import logging

from telegram import Bot

from tests.fakes.telegram import SOURCES, queue_alert, topics, wait_sent
from watcher.bot import handlers
from watcher.bot.outage import PollWatch, build_application
from watcher.delivery.pacing import Pacer
from watcher.delivery.worker import DeliveryWorker
from watcher.notifiers.telegram import TelegramNotifier

USER = 1001


def loud(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_failed_polls_for_updates_log_one_warning_and_one_recovery(api, store, caplog):
    """Three getUpdates answered 502 give one warning, one info line when polls are answered again, and no
    traceback; the bot then answers commands."""
    watch = PollWatch()
    app = build_application(api.token, api.base_url, watch)
    handlers.register(app, handlers.BotDeps(store, topics(), frozenset(), SOURCES))
    api.fail_next("getUpdates", 502, count=3)
    caplog.set_level(logging.INFO)
    await app.initialize()
    await app.start()
    try:
        await app.updater.start_polling(poll_interval=0.0, timeout=1, error_callback=watch.on_polling_error)
        await asyncio.to_thread(api.wait_for_calls, "getUpdates", 5, 30)
        api.send_user_message(USER, "/help")
        await wait_sent(api, 1, USER)
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    assert [r.getMessage()[:45] for r in loud(caplog)] == ["Telegram Bot API not answering the bot's polls"[:45]]
    assert sum("answering again" in r.getMessage() for r in caplog.records) == 1
    assert not [r for r in caplog.records if r.exc_info]


async def test_alerts_failing_in_an_outage_log_one_warning_and_one_recovery(api, store, clock, caplog):
    """Alerts refused with 502 give one warning for the channel, not one per alert and round, and one info line
    when sends are accepted again."""
    store.subscribe("telegram", str(USER), ["smuggling"])
    for n in range(3):
        queue_alert(store, "council-press", f"a{n}")
    api.fail_next("sendMessage", 502, count=6)
    caplog.set_level(logging.INFO)
    async with Bot(api.token, base_url=api.base_url) as bot:
        worker = DeliveryWorker(
            store, {"telegram": TelegramNotifier(bot, {"smuggling": "S"})}, Pacer(per_chat_interval=0.01)
        )
        for _ in range(40):  # each round sends what is due, as the service's loop does
            await worker.drain_once()
            await worker.settle()
            if len(api.sent_messages(USER)) == 3:
                break
            clock.advance(hours=1)
            await asyncio.sleep(0.02)  # the chat's own pace
    assert len(api.sent_messages(USER)) == 3
    assert [r.getMessage()[:35] for r in loud(caplog)] == ["delivery: telegram not accepting alerts"[:35]]
    assert sum("accepts alerts again" in r.getMessage() for r in caplog.records) == 1
    assert not [r for r in caplog.records if r.exc_info]
