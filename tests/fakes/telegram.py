"""Helpers for tests that run the real python-telegram-bot against the fake Bot API: a running bot with the
watcher's handlers, a store on the controlled clock, and async waits that do not block the event loop."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from telegram.ext import Application

from tests.fakes.botapi import FakeBotAPI
from tests.fakes.clock import FakeClock
from watcher.bot import handlers as watcher_bot
from watcher.matcher import topics_from_toml
from watcher.models import Item, Match
from watcher.sources.rss import RssSource
from watcher.store.sqlite import Store

TOPICS = {
    "topic": [
        {
            "id": "smuggling",
            "label": "Migrant smuggling",
            "name": {"fr": "Trafic de migrants", "de": "Schleusung von Migranten"},
            "terms": ["migrant smuggling"],
            "exclude": [],
        },
        {
            "id": "borders",
            "label": "Borders & Schengen",
            "name": {"fr": "Frontières & Schengen", "de": "Grenzen & Schengen"},
            "terms": ["frontex"],
            "exclude": [],
        },
        {"id": "migration", "label": "Migration and asylum", "terms": ["asylum"], "exclude": []},
    ]
}
ADMIN_CHAT = 777
START = datetime(2026, 9, 15, 5, 0, tzinfo=UTC)  # a Tuesday, 07:00 in Brussels
SOURCES = (
    RssSource(name="council-press", url="https://e.org/press.xml", every=900.0),
    RssSource(name="statewatch", url="https://e.org/sw.xml", every=1800.0),
)


def topics() -> dict:
    found, errors, _ = topics_from_toml(TOPICS)
    assert not errors
    return {t.id: t for t in found}


def make_store(path: Path, clock: FakeClock | None = None) -> Store:
    return Store(path, clock=clock or FakeClock(START))


def queue_alert(
    store: Store, source: str, item_id: str, title: str = "", topic: str = "smuggling", url: str = ""
) -> int:
    """Record a matching item for an already-polled source; returns how many outbox rows were written."""
    if not store.has_items(source):  # a source's first poll that finds anything only records
        store.record_poll(source, [Item(source=source, id="seed", title="seed", url="https://e.org/seed")], {})
    item = Item(
        source=source,
        id=item_id,
        title=title or f"Item {item_id} on migrant smuggling",
        url=url or f"https://e.org/{item_id}",
    )
    return store.record_poll(
        source, [item], {item.key: [Match(topic, ("migrant smuggling",), "a [migrant smuggling] case")]}
    ).alerts


async def wait_sent(api: FakeBotAPI, n: int, chat_id: int | None = None, timeout: float = 10.0) -> list[dict]:
    """Wait until ``n`` messages went to the chat, in a thread so the loop runs on; returns when the fake records
    the n-th."""
    return await asyncio.to_thread(api.wait_for_messages, n, chat_id, timeout)


class RunningBot:
    """The watcher's handlers on a real Application, polling the fake."""

    def __init__(
        self, api: FakeBotAPI, store: Store, admins: frozenset[int] = frozenset({ADMIN_CHAT}), sources=SOURCES
    ):
        self.api, self.store = api, store
        self.app = Application.builder().token(api.token).base_url(api.base_url).build()
        watcher_bot.register(self.app, watcher_bot.BotDeps(store, topics(), admins, tuple(sources)))

    async def __aenter__(self) -> RunningBot:
        await self.app.initialize()
        await self.app.start()
        await self.app.updater.start_polling(poll_interval=0.0, timeout=1)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.app.updater.stop()
        await self.app.stop()
        await self.app.shutdown()

    async def say(self, chat_id: int, text: str, **kw) -> dict:
        """Send a message as a user and return the bot's (next) reply in that chat."""
        before = len(self.api.sent_messages(chat_id))
        self.api.send_user_message(chat_id, text, **kw)
        return (await wait_sent(self.api, before + 1, chat_id))[before]

    async def press(self, chat_id: int, message_id: int, data: str, *, edits: bool = True, **kw) -> dict:
        """Press a button and return the bot's answer to the callback query (after its message was redrawn, when
        ``edits``)."""
        edited = len(self.api.calls("editMessageText"))
        query_id = self.api.press_button(chat_id, message_id, data, **kw)

        def answers() -> list:
            calls = self.api.calls("answerCallbackQuery")
            return [c for c in calls if str(c.params.get("callback_query_id")) == query_id]

        def done() -> bool:
            return bool(answers()) and (not edits or len(self.api.calls("editMessageText")) > edited)

        assert await asyncio.to_thread(self.api.wait_until, done, 10.0), "the button was not answered"
        return answers()[0].params
