"""The buttons under an alert, through the watcher's handlers on the real python-telegram-bot and the fake Bot API:
📄 the document, 🔎 more like this, 🔕 mute this topic; and what a forged or stale button does (nothing, and says so,
and is logged without flooding the log)."""

from __future__ import annotations

import asyncio
import logging
import re

import pytest

from tests.fakes.telegram import RunningBot, queue_alert, wait_sent
from watcher.bot import alert_buttons, follow, preferences, watch
from watcher.delivery.pacing import Pacer
from watcher.delivery.worker import DeliveryWorker
from watcher.models import Item, Match
from watcher.notifiers.telegram import MAX_CALLBACK_DATA, TelegramNotifier, alert_button_data, parse_alert_button

CHAT = 1001
GROUP = -2002
LABELS = {"smuggling": "Migrant smuggling", "borders": "Borders & Schengen", "migration": "Migration and asylum"}


async def send_alert(bot: RunningBot, chat: int = CHAT, item_id: str = "a", **kw) -> dict:
    """Queue one alert about smuggling for the chat and deliver it; returns the message the fake received."""
    before = len(bot.api.sent_messages(chat))
    queue_alert(bot.store, "council-press", item_id, **kw)
    notifier = TelegramNotifier(bot.app.bot, LABELS)
    await DeliveryWorker(bot.store, {"telegram": notifier}, Pacer(per_chat_interval=0.0)).drain()
    return bot.api.sent_messages(chat)[before]


def buttons(sent: dict) -> list[dict]:
    return [b for row in sent["reply_markup"]["inline_keyboard"] for b in row]


async def press(bot: RunningBot, chat: int, sent: dict, data: str, **kw) -> dict:
    return await bot.press(chat, sent["message_id"], data, edits=False, **kw)


async def test_an_alert_has_the_three_buttons_with_valid_data(api, store):
    """📄 links to the item (a URL button), 🔎 and 🔕 carry data the bot reads back, each within 64 bytes."""
    store.subscribe("telegram", str(CHAT), ["smuggling"])
    async with RunningBot(api, store) as bot:
        sent = await send_alert(bot, url="https://e.org/doc?a=1&b=2")
    document, more, mute = buttons(sent)
    assert document == {"text": "📄 Document", "url": "https://e.org/doc?a=1&b=2"}
    assert more == {"text": "🔎 More like this", "callback_data": "alert:more:smuggling"}
    assert mute == {"text": "🔕 Mute this topic", "callback_data": "alert:mute:smuggling"}
    for button in (more, mute):
        assert len(button["callback_data"].encode()) <= MAX_CALLBACK_DATA
        assert parse_alert_button(button["callback_data"], LABELS) is not None


async def test_only_an_http_link_gets_a_document_button(api, store):
    """A scraped link that is not http(s) (or that Telegram would refuse) gets no 📄 button; the alert still goes,
    with its other buttons."""
    store.subscribe("telegram", str(CHAT), ["smuggling"])
    async with RunningBot(api, store) as bot:
        for n, url in enumerate(["javascript:alert(1)", "https://e.org/a b", "ftp://e.org/x", 'https://e.org/"x']):
            sent = await send_alert(bot, item_id=f"x{n}", url=url)
            assert [b["text"] for b in buttons(sent)] == ["🔎 More like this", "🔕 Mute this topic"], url


async def test_an_alert_of_two_topics_offers_to_mute_each(api, store):
    """With two topics the 🔕 buttons name them, one row each; 🔎 takes the first."""
    store.subscribe("telegram", str(CHAT), ["smuggling", "borders"])
    async with RunningBot(api, store) as bot:
        await send_alert(bot, item_id="first")  # the source's first poll only records; this one alerts
        extra = Item(source="council-press", id="two", title="Frontex and smuggling", url="https://e.org/two")
        store.record_poll(
            "council-press",
            [extra],
            {extra.key: [Match("smuggling", ("migrant smuggling",)), Match("borders", ("frontex",))]},
        )
        notifier = TelegramNotifier(bot.app.bot, LABELS)
        await DeliveryWorker(store, {"telegram": notifier}, Pacer(per_chat_interval=0.0)).drain()
        sent = api.sent_messages(CHAT)[-1]
    assert [b["text"] for b in buttons(sent)] == [
        "📄 Document",
        "🔎 More like this",
        "🔕 Mute Migrant smuggling",
        "🔕 Mute Borders & Schengen",
    ]
    assert buttons(sent)[3]["callback_data"] == "alert:mute:borders"
    assert [len(row) for row in sent["reply_markup"]["inline_keyboard"]] == [2, 1, 1]


async def test_mute_unsubscribes_that_topic_and_says_how_to_undo(api, store, caplog):
    """🔕 switches the topic off for this chat only and answers with what was done and how to undo it; pressed
    again it says the topic was already off."""
    store.subscribe("telegram", str(CHAT), ["smuggling", "borders"])
    store.subscribe("telegram", "3003", ["smuggling"])
    async with RunningBot(api, store) as bot:
        sent = await send_alert(bot)
        with caplog.at_level(logging.INFO, logger="watcher.bot.alert_buttons"):
            answer = await press(bot, CHAT, sent, "alert:mute:smuggling")
        again = await press(bot, CHAT, sent, "alert:mute:smuggling")
    assert answer["text"] == (
        "🔕 Migrant smuggling is off for this chat: no more alerts about it. To undo: /subscribe smuggling"
    )
    assert answer["show_alert"] is True
    assert store.subscription("telegram", str(CHAT)) == (True, ["borders"])
    assert store.subscription("telegram", "3003") == (True, ["smuggling"])  # another chat keeps it
    assert again["text"] == "Migrant smuggling was already off for this chat. To get its alerts: /subscribe smuggling"
    assert "unsubscribed from smuggling" in caplog.text


async def test_in_a_group_only_an_administrator_may_mute(api, store):
    """A member who is not an administrator is told so and nothing changes; an administrator mutes."""
    store.subscribe("telegram", str(GROUP), ["smuggling"])
    api.add_chat(GROUP, "supergroup", title="Newsroom")
    api.set_admins(GROUP, [55])
    async with RunningBot(api, store) as bot:
        sent = await send_alert(bot, chat=GROUP)
        refused = await press(bot, GROUP, sent, "alert:mute:smuggling", user_id=66)
        assert store.subscription("telegram", str(GROUP)) == (True, ["smuggling"])
        done = await press(bot, GROUP, sent, "alert:mute:smuggling", user_id=55)
    assert refused["text"] == "Only this chat's administrators can change its subscription."
    assert done["text"].startswith("🔕 Migrant smuggling is off for this chat")
    assert store.subscription("telegram", str(GROUP)) == (True, [])


async def test_more_like_this_sends_the_recent_items_of_that_topic(api, store):
    """🔎 sends what /recent smuggling sends, in the same chat."""
    store.subscribe("telegram", str(CHAT), ["smuggling", "borders"])
    async with RunningBot(api, store) as bot:
        await send_alert(bot, item_id="b", title="Earlier smuggling case & <routes>")
        sent = await send_alert(bot, item_id="c")
        queue_alert(store, "council-press", "d", "A borders item", topic="borders")
        before = len(api.sent_messages(CHAT))
        answer = await press(bot, CHAT, sent, "alert:more:smuggling")
        [listing] = (await wait_sent(api, before + 1, CHAT))[before:]
        command = await bot.say(CHAT, "/recent smuggling")
    assert "text" not in answer  # the listing is the answer; the button's spinner just stops
    assert listing["text"].startswith("Last flagged items about Migrant smuggling:")
    assert "Earlier smuggling case &amp; &lt;routes&gt;" in listing["text"]
    assert "A borders item" not in listing["text"]
    assert listing["text"] == command["text"]


@pytest.mark.parametrize(
    "data",
    [
        "alert:mute:smuggling;DROP TABLE",
        "alert:erase:smuggling",
        "alert:mute:",
        "alert:mute:Smuggling",
        "alert:mute:smuggling\n",
        "alert:" + "x" * 300,
        "alert:mute:smüggling",
    ],
)
async def test_a_forged_button_does_nothing_and_says_so(api, store, caplog, data):
    """Data no alert carries changes nothing, is answered as not the bot's own, and is logged at WARNING with at
    most MAX_LOGGED characters of it."""
    store.subscribe("telegram", str(CHAT), ["smuggling"])
    async with RunningBot(api, store) as bot:
        sent = await send_alert(bot)
        before = len(api.sent_messages(CHAT))
        with caplog.at_level(logging.INFO, logger="watcher.bot.alert_buttons"):
            answer = await press(bot, CHAT, sent, data, forged=True)
        await asyncio.sleep(0.2)  # time for any message the button might (wrongly) send
    assert answer["text"] == alert_buttons.FORGED and answer["show_alert"] is True
    assert store.subscription("telegram", str(CHAT)) == (True, ["smuggling"])
    assert len(api.sent_messages(CHAT)) == before
    [record] = [r for r in caplog.records if r.name == "watcher.bot.alert_buttons"]
    assert record.levelno == logging.WARNING and "malformed" in record.getMessage()
    assert len(record.getMessage()) < 60 + alert_buttons.MAX_LOGGED + 10
    assert repr(data[: alert_buttons.MAX_LOGGED]) in record.getMessage()


async def test_a_stale_button_does_nothing_and_says_so(api, store, caplog):
    """A button of a topic that is no longer configured (here ``policing``, removed from topics.toml after the
    alert went out) changes nothing, says the button is out of date, and is logged."""
    store.subscribe("telegram", str(CHAT), ["smuggling"])
    async with RunningBot(api, store) as bot:
        sent = await send_alert(bot)
        for data in ("alert:mute:policing", "alert:more:policing"):
            with caplog.at_level(logging.INFO, logger="watcher.bot.alert_buttons"):
                answer = await press(bot, CHAT, sent, data, forged=True)
            assert answer["text"] == alert_buttons.STALE
    assert store.subscription("telegram", str(CHAT)) == (True, ["smuggling"])
    refused = [r for r in caplog.records if "alert button refused (topic not configured)" in r.getMessage()]
    assert len(refused) == 2 and all(r.levelno == logging.WARNING for r in refused)


def test_the_button_data_is_read_strictly():
    """Known action, known topic id, nothing before or after, at most 64 bytes; a topic id too long for the data
    gets no button at all."""
    assert parse_alert_button("alert:more:borders", LABELS) == ("more", "borders")
    assert parse_alert_button("alert:more:borders", None) == ("more", "borders")
    assert parse_alert_button("alert:more:policing", LABELS) is None
    assert parse_alert_button(" alert:more:borders", LABELS) is None
    assert parse_alert_button("alert:more:borders ", LABELS) is None
    assert parse_alert_button("alert:more:borders:x", LABELS) is None
    long_topic = "t" * 60
    assert alert_button_data("mute", long_topic) is None
    assert parse_alert_button(f"alert:mute:{long_topic}", {long_topic: "x"}) is None


async def test_the_button_pattern_leaves_the_other_buttons_alone(api, store):
    """The topic buttons (t:, all:), the digest hours (dg:), /following's (uf:) and /watching's (uw:) still reach
    their own handlers."""
    others = (preferences.BUTTON_PATTERN, preferences.DIGEST_PATTERN, follow.BUTTON_PATTERN, watch.BUTTON_PATTERN)
    for data in ("t:smuggling", "all:on", "all:off", "dg:8", "uf:0", "uw:1"):
        assert not re.match(alert_buttons.BUTTON_PATTERN, data)
    for data in ("alert:mute:smuggling", "alert:more:borders"):
        assert not any(re.match(pattern, data) for pattern in others)
    async with RunningBot(api, store) as bot:
        await bot.say(CHAT, "/start")
        menu = await bot.say(CHAT, "/topics")
        answer = await bot.press(CHAT, menu["message_id"], "t:borders")
    assert answer["text"] == "Borders & Schengen: off"
