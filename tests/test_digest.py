"""Daily digests on a controlled clock, sent with the real python-telegram-bot to the fake Bot API."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from telegram import Bot

from tests.fakes.clock import FakeClock
from tests.fakes.telegram import queue_alert
from watcher.delivery.digest import next_digest_after, resolve_zone, zone
from watcher.delivery.pacing import Pacer
from watcher.delivery.worker import DeliveryWorker
from watcher.notifiers.telegram import TelegramNotifier
from watcher.store import chat_prefs, subscribers

LABELS = {"smuggling": "Migrant smuggling"}
USER = 1001


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 9, 15, 5, 0, tzinfo=UTC))  # 07:00 in Brussels (summer time)


@pytest.fixture
async def worker(api, store):
    async with Bot(api.token, base_url=api.base_url) as bot:
        yield DeliveryWorker(store, {"telegram": TelegramNotifier(bot, LABELS)}, Pacer(per_chat_interval=0.1))


async def test_digest_arrives_at_its_hour_in_the_subscribers_zone(store, clock, worker, api):
    """Alerts for a digest subscriber wait; at 08:00 Brussels time they arrive as one message; the next day's
    digest holds only what came after."""
    store.subscribe("telegram", str(USER), ["smuggling"])
    subscribers.set_digest(store, "telegram", str(USER), 8, "Europe/Brussels")
    for n in range(3):
        queue_alert(store, "council-press", f"a{n}", f"Report {n} on smuggling & routes")
    await worker.drain()
    assert api.sent_messages() == []
    clock.advance(minutes=59)  # 07:59 Brussels
    assert await worker.digests.run_due() == 0 and api.sent_messages() == []
    clock.advance(minutes=1)  # 08:00 Brussels = 06:00 UTC
    assert await worker.digests.run_due() == 1
    [digest] = api.sent_messages(USER)
    assert digest["plain_text"].startswith("🗞 Daily digest: 3 alerts")
    assert all(f"Report {n} on smuggling &amp; routes" in digest["text"] for n in range(3))
    assert store.outbox_depth() == 0
    assert await worker.digests.run_due() == 0
    queue_alert(store, "council-press", "b", "Later report")
    clock.advance(hours=23, minutes=59)
    assert await worker.digests.run_due() == 0
    clock.advance(minutes=1)
    assert await worker.digests.run_due() == 1
    assert "1 alert" in api.sent_messages(USER)[1]["plain_text"]
    assert "Report 0" not in api.sent_messages(USER)[1]["text"]


async def test_a_french_digest_names_each_source_by_its_label(store, clock, api):
    """A French chat's digest is headed in French and names the source by its label from sources.toml, not by its
    configuration name."""
    store.subscribe("telegram", str(USER), ["smuggling"])
    chat_prefs.set_language(store, "telegram", str(USER), "fr")
    subscribers.set_digest(store, "telegram", str(USER), 8, "Europe/Brussels")
    queue_alert(store, "council-press", "a", "Report on smuggling routes")
    async with Bot(api.token, base_url=api.base_url) as bot:
        notifier = TelegramNotifier(bot, LABELS, {"council-press": "Conseil de l’UE : presse"})
        worker = DeliveryWorker(store, {"telegram": notifier}, Pacer(per_chat_interval=0.1))
        clock.advance(hours=1)
        assert await worker.digests.run_due() == 1
    [digest] = api.sent_messages(USER)
    assert digest["plain_text"].startswith("🗞 Résumé quotidien : 1 alerte\n\n")
    assert "Conseil de l’UE : presse · " in digest["plain_text"] and "council-press" not in digest["plain_text"]


async def test_long_digest_is_split_between_alerts(store, clock, worker, api):
    """A digest longer than 4096 characters becomes several messages, each under the limit, and each alert is in
    exactly one of them, whole."""
    store.subscribe("telegram", str(USER), ["smuggling"])
    subscribers.set_digest(store, "telegram", str(USER), 6, "UTC")
    titles = [f"Document {n:02d} " + "on migrant smuggling & border procedures " * 12 for n in range(40)]
    for n, title in enumerate(titles):
        queue_alert(store, "council-press", f"d{n}", title)
    clock.advance(hours=1)
    assert await worker.digests.run_due() == 1
    messages = api.sent_messages(USER)
    assert len(messages) >= 3
    assert all(len(m["plain_text"]) <= 4096 for m in messages)
    assert [f"part {i} of {len(messages)}" in m["plain_text"] for i, m in enumerate(messages, 1)] == [True] * len(
        messages
    )
    for title in titles:
        assert sum(title in m["plain_text"] for m in messages) == 1
    assert store.outbox_depth() == 0


async def test_switching_to_instant_sends_what_waited(store, clock, worker, api):
    """Alerts held for a digest go out one by one after the subscriber switches to instant."""
    store.subscribe("telegram", str(USER), ["smuggling"])
    subscribers.set_digest(store, "telegram", str(USER), 8, "Europe/Brussels")
    queue_alert(store, "council-press", "a")
    await worker.drain()
    assert api.sent_messages() == []
    subscribers.set_instant(store, "telegram", str(USER))
    await worker.drain()
    assert len(api.sent_messages(USER)) == 1


def test_next_digest_time_across_summer_time_change():
    """The digest hour follows the local clock: 08:00 Brussels is 06:00 UTC in summer and 07:00 UTC in winter, so
    the digest on the night the clocks go back comes 25 hours after the one before."""
    tz = ZoneInfo("Europe/Brussels")
    saturday = next_digest_after(datetime(2026, 10, 24, 5, 59, tzinfo=UTC), 8, tz)
    assert saturday == datetime(2026, 10, 24, 6, 0, tzinfo=UTC)
    assert next_digest_after(saturday, 8, tz) == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)
    assert next_digest_after(datetime(2026, 1, 10, 7, 0, tzinfo=UTC), 8, tz) == datetime(2026, 1, 11, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "name,ok",
    [("Europe/Brussels", True), ("UTC", True), ("Mars/Olympus", False), ("../etc/passwd", False), ("", False)],
)
def test_time_zone_names_are_checked(name, ok):
    """Only real tz database names are accepted as time zones."""
    assert (zone(name) is not None) is ok


def hour_buttons(message: dict) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b["callback_data"] for row in rows for b in row]


@pytest.mark.parametrize(
    "command,stored,fixed",
    [
        ("/digest 8 europe/brussels", "Europe/Brussels", False),
        ("/digest 8 EUROPE/BRUSSELS", "Europe/Brussels", False),
        ("/digest Europe/Athens 8", "Europe/Athens", False),
        ("/digest 8 +2", "UTC+02:00", True),
        ("/digest 8 -5", "UTC-05:00", True),
        ("/digest 8 +5:30", "UTC+05:30", True),
        ("/digest 8 UTC+2", "UTC+02:00", True),
        ("/digest 8 gmt-3", "UTC-03:00", True),
        ("/digest 8 UTC +2", "UTC+02:00", True),
        ("/digest 8 utc", "UTC", False),
    ],
)
async def test_digest_accepts_zone_names_in_any_case_and_utc_offsets(running, store, command, stored, fixed):
    """A zone name in any case is stored as the tz database spells it; an offset becomes a fixed zone, and the
    reply says it does not follow daylight saving."""
    await running.say(USER, "/start")
    answer = await running.say(USER, command)
    row = subscribers.settings(store, "telegram", str(USER))
    assert (row["mode"], row["digest_hour"], row["digest_tz"]) == ("digest", 8, stored)
    assert f"08:00 ({stored})" in answer["plain_text"]
    assert ("does not follow daylight saving" in answer["plain_text"]) is fixed


async def test_a_fixed_offset_digest_comes_at_that_offsets_hour(store, clock, worker):
    """08:00 at UTC+02:00 is 06:00 UTC, summer or winter."""
    store.subscribe("telegram", str(USER), ["smuggling"])
    subscribers.set_digest(store, "telegram", str(USER), 8, "UTC+02:00")
    queue_alert(store, "council-press", "a")
    clock.advance(minutes=59)
    assert await worker.digests.run_due() == 0
    clock.advance(minutes=1)  # 06:00 UTC
    assert await worker.digests.run_due() == 1
    winter = datetime(2026, 12, 1, 5, 59, tzinfo=UTC)
    assert next_digest_after(winter, 8, zone("UTC+02:00")) == datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


async def test_digest_without_an_hour_offers_hour_buttons_that_set_it(running, api, store):
    """/digest alone shows 24 hour buttons in the chat's zone (UTC by default); /digest <zone> shows them in that
    zone; pressing one switches the chat to its digest at that hour and replaces the buttons by the confirmation."""
    await running.say(USER, "/start")
    shown = await running.say(USER, "/digest")
    assert hour_buttons(shown) == [f"dg:{h:02d}:UTC" for h in range(24)]
    shown = await running.say(USER, "/digest europe/athens")
    assert hour_buttons(shown)[7] == "dg:07:Europe/Athens"
    assert subscribers.settings(store, "telegram", str(USER))["mode"] == "instant"
    answer = await running.press(USER, shown["message_id"], "dg:07:Europe/Athens")
    assert answer["text"] == "Daily digest at 07:00 (Europe/Athens)."
    row = subscribers.settings(store, "telegram", str(USER))
    assert (row["mode"], row["digest_hour"], row["digest_tz"]) == ("digest", 7, "Europe/Athens")
    edited = api.message(USER, shown["message_id"])
    assert "07:00 (Europe/Athens)" in edited["text"] and not hour_buttons(edited)
    shown = await running.say(USER, "/digest")  # now the chat's own zone
    assert hour_buttons(shown)[0] == "dg:00:Europe/Athens"
    shown = await running.say(USER, "/digest +3")
    assert "does not follow daylight saving" in shown["plain_text"] and hour_buttons(shown)[0] == "dg:00:UTC+03:00"


@pytest.mark.parametrize(
    "data",
    [
        "dg:99:UTC",
        "dg:7:UTC",
        "dg:07:europe/athens",
        "dg:07:Mars/Olympus",
        "dg:07:../etc/passwd",
        "dg:07",
        "dg:" + "9" * 60,
    ],
)
async def test_a_forged_hour_button_changes_nothing_and_is_logged(running, store, caplog, data):
    """Data that no hour button of ours carries (an hour out of range or not two digits, a zone not spelt as we
    store it, an unknown zone) is refused with a reply, changes nothing, and is logged."""
    await running.say(USER, "/start")
    shown = await running.say(USER, "/digest")
    with caplog.at_level("WARNING", logger="watcher.bot"):
        answer = await running.press(USER, shown["message_id"], data, forged=True, edits=False)
    assert "not one I sent" in answer["text"]
    assert subscribers.settings(store, "telegram", str(USER))["mode"] == "instant"
    assert any("refused an hour button" in r.getMessage() for r in caplog.records)


async def test_a_stale_hour_button_after_stop_changes_nothing(running, store):
    """Hour buttons pressed after /stop say the chat is not subscribed and change nothing."""
    await running.say(USER, "/start")
    shown = await running.say(USER, "/digest")
    await running.say(USER, "/stop")
    answer = await running.press(USER, shown["message_id"], "dg:08:UTC", edits=False)
    assert "not subscribed" in answer["text"]
    assert subscribers.settings(store, "telegram", str(USER))["mode"] == "instant"


@pytest.mark.parametrize(
    "command,says",
    [
        ("/digest 8 Mars/Olympus", "I do not know the time zone Mars/Olympus"),
        ("/digest 8 +15", "UTC offset such as"),
        ("/digest 25 UTC", "25 is not an hour; give a whole hour from 0 to 23"),
        ("/digest Atlantis", "Atlantis is neither an hour"),
        ("/digest 8 UTC extra words", "Write /digest"),
    ],
)
async def test_a_wrong_zone_or_hour_is_named_with_the_fix(running, store, command, says):
    """A wrong zone or hour gets a reply that names it and shows the forms that work; nothing changes."""
    await running.say(USER, "/start")
    answer = await running.say(USER, command)
    assert says in answer["plain_text"]
    assert subscribers.settings(store, "telegram", str(USER))["mode"] == "instant"


@pytest.mark.parametrize(
    "text,name",
    [
        ("Europe/Brussels", "Europe/Brussels"),
        ("america/NEW_york", "America/New_York"),
        ("+14", "UTC+14:00"),
        ("-12:00", "UTC-12:00"),
        ("+0545", "UTC+05:45"),
        ("GMT", "GMT"),
        ("+5:75", None),
        ("-13", None),
        ("x" * 100, None),
        ("UTC+", None),
    ],
)
def test_resolve_zone(text, name):
    """Zone names in any case come back spelt as the tz database does; offsets from -12 to +14 as UTC±HH:MM."""
    found = resolve_zone(text)
    assert (found[0] if found else None) == name
