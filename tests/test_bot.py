"""Subscriber commands and buttons, with the real python-telegram-bot talking to the fake Bot API."""

from __future__ import annotations

import asyncio

from tests.fakes.telegram import ADMIN_CHAT, RunningBot, queue_alert, wait_sent
from watcher.bot import handlers as watcher_bot
from watcher.store import subscribers

USER = 1001
GROUP = -2002
CHANNEL_ID = -1003004


def buttons(message: dict) -> dict[str, str]:
    """callback_data -> button text of a sent or edited message."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return {b["callback_data"]: b["text"] for row in rows for b in row}


async def test_start_subscribes_to_every_topic_in_two_lines_with_buttons(running, store):
    """/start subscribes the chat to every topic and answers in two lines with the topic buttons; /help has the
    commands."""
    answer = await running.say(USER, "/start")
    assert store.subscription("telegram", str(USER)) == (True, ["borders", "migration", "smuggling"])
    assert "subscribed to" in answer["text"] and answer["parse_mode"] == "HTML"
    assert "Borders &amp; Schengen" in answer["text"] and len(answer["plain_text"].splitlines()) <= 2
    assert set(buttons(answer)) >= {"t:smuggling", "t:borders", "t:migration"}
    help_answer = await running.say(USER, "/help")
    for name, _args, _text in watcher_bot.PUBLIC:
        assert f"/{name}" in help_answer["plain_text"]


async def test_start_deep_link_names_topics(running, store):
    """/start smuggling-borders (a t.me deep link) subscribes to those topics only and reports unknown parts."""
    answer = await running.say(USER, "/start smuggling-borders-nonsense")
    assert store.subscription("telegram", str(USER)) == (True, ["borders", "smuggling"])
    assert "nonsense" in answer["plain_text"]


def test_deep_link_payload_parsing():
    """Topic ids joined by '-' are found even when an id has a '-' of its own; 'all' means every topic."""
    ids = ["smuggling", "eu-borders", "migration"]
    assert watcher_bot.parse_start_payload("eu-borders-smuggling", ids) == (["eu-borders", "smuggling"], [])
    assert watcher_bot.parse_start_payload("all", ids) == (ids, [])
    assert watcher_bot.parse_start_payload("SMUGGLING-x", ids) == (["smuggling"], ["x"])


async def test_stop_and_help(running, store):
    """/stop deactivates the chat; /help lists the commands."""
    await running.say(USER, "/start")
    answer = await running.say(USER, "/stop")
    assert "stopped" in answer["text"] and store.subscription("telegram", str(USER))[0] is False
    answer = await running.say(USER, "/help")
    assert "/topics" in answer["plain_text"] and "/digest" in answer["plain_text"]


async def test_subscribe_and_unsubscribe_commands(running, store):
    """/subscribe and /unsubscribe change topics; an unknown topic or none is answered with the list."""
    await running.say(USER, "/start smuggling")
    assert "Subscribed to Borders" in (await running.say(USER, "/subscribe borders"))["plain_text"]
    assert store.subscription("telegram", str(USER))[1] == ["borders", "smuggling"]
    await running.say(USER, "/unsubscribe smuggling")
    assert store.subscription("telegram", str(USER))[1] == ["borders"]
    assert "Unknown topic fish" in (await running.say(USER, "/subscribe fish"))["plain_text"]
    assert "Which topic?" in (await running.say(USER, "/unsubscribe"))["plain_text"]


async def test_topic_buttons_switch_topics(running, api, store):
    """/topics shows a button per topic; tapping switches it off and on, and all off / all on switch every one."""
    await running.say(USER, "/start")
    shown = await running.say(USER, "/topics")
    assert buttons(shown)["t:smuggling"].startswith("✅")
    msg_id = shown["message_id"]
    answer = await running.press(USER, msg_id, "t:smuggling")
    assert answer["text"] == "Migrant smuggling: off"
    assert store.subscription("telegram", str(USER))[1] == ["borders", "migration"]
    assert buttons(api.message(USER, msg_id))["t:smuggling"].startswith("▫️")
    await running.press(USER, msg_id, "t:smuggling")
    assert "smuggling" in store.subscription("telegram", str(USER))[1]
    await running.press(USER, msg_id, "all:off")
    assert store.subscription("telegram", str(USER))[1] == []
    assert "No topic is on" in api.message(USER, msg_id)["text"]
    await running.press(USER, msg_id, "all:on")
    assert store.subscription("telegram", str(USER))[1] == ["borders", "migration", "smuggling"]


async def test_topic_button_restarts_a_stopped_chat(running, store):
    """After /stop, switching a topic on with its button starts alerts again."""
    await running.say(USER, "/start")
    await running.say(USER, "/stop")
    shown = await running.say(USER, "/topics")
    assert "gets no alerts now" in shown["plain_text"]
    await running.press(USER, shown["message_id"], "t:borders")
    assert store.subscription("telegram", str(USER))[0] is True


async def test_recent_with_and_without_topic(running, store):
    """/recent lists the last flagged items, escaped and linked; /recent <topic> filters; unknown topics are named."""
    assert "Nothing has been flagged" in (await running.say(USER, "/recent"))["plain_text"]
    queue_alert(store, "council-press", "a", "Smugglers & <networks>", topic="smuggling")
    queue_alert(store, "council-press", "b", "Frontex report", topic="borders")
    answer = await running.say(USER, "/recent")
    assert "Smugglers &amp; &lt;networks&gt;" in answer["text"] and "Frontex report" in answer["text"]
    answer = await running.say(USER, "/recent borders")
    assert "Frontex report" in answer["text"] and "Smugglers" not in answer["text"]
    assert "Unknown topic fish" in (await running.say(USER, "/recent fish"))["plain_text"]


async def test_status_lists_sources_and_failures(running, store):
    """/status gives the number of sources, the failing ones first with their reason, and each last success; a
    source is "failing" from the failure threshold on (as in the operator's messages), "degraded" below it."""
    store.record_poll("council-press", [], {})
    store.record_failure("statewatch", "timeout", "no answer in 20s")
    answer = await running.say(USER, "/status")
    lines = answer["plain_text"].splitlines()
    assert lines[0] == "2 sources polled, 0 failing, 1 degraded"
    assert lines[1].startswith("🟡 statewatch: degraded (timed out, 1 failed poll)")
    for _ in range(2):
        store.record_failure("statewatch", "timeout", "no answer in 20s")
    lines = (await running.say(USER, "/status"))["plain_text"].splitlines()
    assert lines[0] == "2 sources polled, 1 failing"
    assert lines[1].startswith("⚠️ statewatch: failing (timed out, 3 failed polls in a row)")
    assert "council-press: ok; last success just now; 0 new in 7 days" in "\n".join(lines)


async def test_digest_and_instant_commands(running, store):
    """/digest 8 Europe/Brussels switches to a daily digest; a bad zone or hour gets a clear answer; /instant
    switches back."""
    await running.say(USER, "/start")
    answer = await running.say(USER, "/digest 8 Europe/Brussels")
    assert "08:00 (Europe/Brussels)" in answer["plain_text"]
    row = subscribers.settings(store, "telegram", str(USER))
    assert (row["mode"], row["digest_hour"], row["digest_tz"]) == ("digest", 8, "Europe/Brussels")
    assert "do not know the time zone Mars/Olympus" in (await running.say(USER, "/digest 8 Mars/Olympus"))["plain_text"]
    assert "not an hour" in (await running.say(USER, "/digest 25 UTC"))["plain_text"]
    assert "Delivery: a daily digest at 08:00" in (await running.say(USER, "/digest"))["plain_text"]
    answer = await running.say(USER, "/instant")
    assert "as soon as it is found" in answer["plain_text"]
    assert subscribers.settings(store, "telegram", str(USER))["mode"] == "instant"


async def test_group_member_who_is_not_admin_cannot_change_subscription(running, api, store):
    """In a group only administrators change the subscription: a member's /start, /subscribe, /stop, /digest and
    button taps are refused and change nothing; an administrator's work."""
    api.set_admins(GROUP, [11], creator=10)
    answer = await running.say(GROUP, "/start", user_id=55)
    assert "Only this chat's administrators" in answer["plain_text"]
    assert store.subscription("telegram", str(GROUP)) == (False, [])
    await running.say(GROUP, "/start", user_id=11)
    assert store.subscription("telegram", str(GROUP))[0] is True
    for command in ("/unsubscribe smuggling", "/stop", "/digest 8 UTC"):
        assert "Only this chat's administrators" in (await running.say(GROUP, command, user_id=55))["plain_text"]
    assert store.subscription("telegram", str(GROUP)) == (True, ["borders", "migration", "smuggling"])
    assert subscribers.settings(store, "telegram", str(GROUP))["mode"] == "instant"
    shown = await running.say(GROUP, "/topics", user_id=55)
    answer = await running.press(GROUP, shown["message_id"], "t:smuggling", user_id=55, edits=False)
    assert answer["show_alert"] is True and "administrators" in answer["text"]
    assert "smuggling" in store.subscription("telegram", str(GROUP))[1]
    await running.press(GROUP, shown["message_id"], "t:smuggling", user_id=10)
    assert "smuggling" not in store.subscription("telegram", str(GROUP))[1]


async def test_channel_post_commands_count_as_admin(running, api, store):
    """A command posted in a channel by the channel itself subscribes the channel."""
    api.send_channel_post(CHANNEL_ID, "/start borders")
    [answer] = await wait_sent(api, 1, CHANNEL_ID)
    assert "subscribed to: Borders" in answer["plain_text"]
    assert store.subscription("telegram", str(CHANNEL_ID)) == (True, ["borders"])
    api.send_channel_post(CHANNEL_ID, "/digest 7 Europe/Athens")
    await wait_sent(api, 2, CHANNEL_ID)
    assert subscribers.settings(store, "telegram", str(CHANNEL_ID))["digest_tz"] == "Europe/Athens"


async def test_bot_removed_or_blocked_deactivates_the_chat(running, api, store):
    """When a user blocks the bot (my_chat_member: kicked) the chat gets no more alerts."""
    await running.say(USER, "/start")
    api.send_my_chat_member(USER, "kicked", "member", user_id=USER)
    for _ in range(200):
        if not store.subscription("telegram", str(USER))[0]:
            break
        await asyncio.sleep(0.02)
    assert store.subscription("telegram", str(USER))[0] is False


async def test_group_migration_message_moves_the_subscription(running, api, store):
    """The service message of a group upgraded to a supergroup moves its subscription to the new id."""
    api.set_admins(GROUP, [11])
    await running.say(GROUP, "/start smuggling", user_id=11)
    api.send_user_message(GROUP, "", user_id=11, migrate_to_chat_id=-1009990)
    for _ in range(200):
        if store.subscription("telegram", "-1009990")[0]:
            break
        await asyncio.sleep(0.02)
    assert store.subscription("telegram", "-1009990") == (True, ["smuggling"])
    assert store.subscriber_id("telegram", str(GROUP)) is None


async def test_command_menus_for_everyone_and_for_operators(api, store):
    """At start-up everyone's menu gets the public commands and each operators' chat also gets theirs."""
    async with RunningBot(api, store) as rb:
        await watcher_bot.set_commands(rb.app.bot, frozenset({ADMIN_CHAT}))
    public = [c["command"] for c in api.commands()]
    assert public == [name for name, _a, _t in watcher_bot.PUBLIC]
    admin = [c["command"] for c in api.commands({"type": "chat", "chat_id": ADMIN_CHAT})]
    assert admin[: len(public)] == public and {"stats", "pause", "resume", "sources", "test"} <= set(admin)
    assert set(watcher_bot.HANDLERS) == set(admin)


def test_every_bot_command_is_documented():
    """Each command the bot answers appears in the README's command tables."""
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in watcher_bot.HANDLERS:
        assert f"`/{name}" in readme, name
