"""/follow, /following and /unfollow through the fake Bot API, and the alerts a follow sends, with their reason."""

from __future__ import annotations

from telegram import Bot

from tests.test_bot import buttons
from watcher.bot.follow import parse_target
from watcher.delivery.pacing import Pacer
from watcher.delivery.worker import DeliveryWorker
from watcher.models import Item, Match
from watcher.notifiers.telegram import TelegramNotifier
from watcher.store import follows

USER = 1001
OTHER = 1002


def council(
    number: int, version: str = "INIT", *, public: bool = True, procedures: tuple = (), title: str = "Council document"
) -> Item:
    ref = f"ST {number} 2023 {version}"
    return Item(
        source="docs",
        id=ref,
        title=f"{title} {ref}",
        url=f"https://e.org/{ref.replace(' ', '-')}",
        extra={"public": public, "family": f"ST {number} 2023", "version": version, "procedures": list(procedures)},
    )


def seeded(store) -> None:
    store.record_poll("docs", [council(1)], {})  # the source's first poll only records


async def deliver(api, store) -> list[str]:
    """The messages the delivery worker sends the user now (not the bot's replies before)."""
    before = len(api.sent_messages(USER))
    async with Bot(api.token, base_url=api.base_url) as bot:
        await DeliveryWorker(
            store, {"telegram": TelegramNotifier(bot, {"smuggling": "S"})}, Pacer(per_chat_interval=0.0)
        ).drain()
    return [m["plain_text"] for m in api.sent_messages(USER)[before:]]


def test_any_reference_form_follows_the_family_and_procedures_are_normalised():
    """Every reference form gives the family; a procedure number is written one way; other text is refused."""
    for text in ("13589/23", "ST 13589 2023 INIT", "13589/1/23 REV 1", "ST-13589-2023-ADD-1"):
        assert parse_target(text) == ("family", "ST 13589 2023", "ST 13589/23"), text
    assert parse_target("2023/439 (cod)") == ("procedure", "2023/0439(COD)", "2023/0439(COD)")
    assert parse_target("hello") is None and parse_target("x" * 500) is None


async def test_a_new_rev_of_a_followed_family_alerts_with_the_reason(running, api, store):
    """/follow 13589/23 then a REV 1 of that family alerts the chat (no topics), saying it is followed."""
    seeded(store)
    store.record_poll("docs", [council(13589)], {})
    answer = await running.say(USER, "/follow 13589/23")
    assert "Following ST 13589/23" in answer["plain_text"]
    assert store.record_poll("docs", [council(13589, "REV 1")], {}).alerts == 1
    [text] = await deliver(api, store)
    assert "ST 13589 2023 REV 1" in text and "because you follow ST 13589/23" in text


async def test_a_document_naming_a_followed_procedure_alerts(running, api, store):
    """/follow 2023/0439(COD): a Council document whose header names it alerts; one that does not, not."""
    seeded(store)
    await running.say(USER, "/follow 2023/0439(COD)")
    store.record_poll("docs", [council(500, procedures=("2023/0439(COD)",)), council(501)], {})
    [text] = await deliver(api, store)
    assert "ST 500 2023" in text and "because you follow 2023/0439(COD)" in text


async def test_followed_and_topic_matched_alerts_once(running, api, store):
    """A document both followed and matched by a subscribed topic gives one alert, with the topic and the reason."""
    seeded(store)
    await running.say(USER, "/start")
    await running.say(USER, "/follow ST 700 2023")
    item = council(700, title="Migrant smuggling report")
    result = store.record_poll("docs", [item], {item.key: [Match("smuggling", ("migrant smuggling",), "a case")]})
    assert result.alerts == 1
    sent = await deliver(api, store)
    alerts = [t for t in sent if "ST 700 2023" in t]
    assert len(alerts) == 1 and "because you follow ST 700/23" in alerts[0] and "Topics: S" in alerts[0]


async def test_unfollow_and_the_stop_button_end_the_alerts(running, api, store):
    """/unfollow stops a follow; /following lists the rest with a button that stops it."""
    seeded(store)
    await running.say(USER, "/follow 800/23")
    await running.say(USER, "/follow 801/23")
    assert "Stopped following ST 800/23" in (await running.say(USER, "/unfollow ST 800 2023"))["plain_text"]
    listed = await running.say(USER, "/following")
    assert "ST 801/23" in listed["plain_text"] and "ST 800/23" not in listed["plain_text"]
    assert list(buttons(listed)) == ["uf:f:ST 801 2023"]
    await running.press(USER, listed["message_id"], "uf:f:ST 801 2023")
    assert follows.following(store, "telegram", str(USER)) == []
    assert store.record_poll("docs", [council(800, "REV 1"), council(801, "REV 1")], {}).alerts == 0


async def test_bad_references_and_the_limit_get_a_clear_reply(running, store):
    """A reference that cannot be read gets the accepted forms; the 51st follow is refused with the limit."""
    answer = await running.say(USER, "/follow nonsense")
    assert "not a reference" in answer["plain_text"] and "2023/0439(COD)" in answer["plain_text"]
    assert "13589/23" in (await running.say(USER, "/follow"))["plain_text"]
    for n in range(1, follows.MAX_FOLLOWS + 1):
        assert follows.follow(store, "telegram", str(USER), "family", f"ST {n} 2023", f"ST {n}/23") == "added"
    full = await running.say(USER, "/follow 9999/23")
    assert f"follows {follows.MAX_FOLLOWS}" in full["plain_text"]
    assert len(follows.following(store, "telegram", str(USER))) == follows.MAX_FOLLOWS


def test_a_placeholder_or_another_chat_gets_no_follow_alert(store):
    """A number recorded as not public alerts no follower; a chat that follows nothing is not alerted."""
    seeded(store)
    follows.follow(store, "telegram", str(USER), "family", "ST 900 2023", "ST 900/23")
    store.subscribe("telegram", str(OTHER), [])
    assert store.record_poll("docs", [council(900, public=False)], {}).alerts == 0
    assert store.record_poll("docs", [council(900)], {}).alerts == 1  # it became public


async def test_following_in_a_stopped_chat_does_not_restart_its_topics(running, store):
    """/follow after /stop keeps the chat stopped and says so; no follow alert reaches a stopped chat."""
    seeded(store)
    await running.say(USER, "/start")
    await running.say(USER, "/stop")
    answer = await running.say(USER, "/follow 950/23")
    assert "Following ST 950/23" in answer["plain_text"] and "stopped" in answer["plain_text"]
    assert store.subscription("telegram", str(USER))[0] is False
    assert store.record_poll("docs", [council(950)], {}).alerts == 0
