"""Operators' commands answer only in the chats of WATCHER_ADMIN_CHAT_IDS (real python-telegram-bot, fake Bot API)."""

from __future__ import annotations

import pytest

from tests.fakes.telegram import ADMIN_CHAT, queue_alert
from watcher.store import subscribers

STRANGER = 1234


@pytest.mark.parametrize("command", ["/stats", "/sources", "/pause statewatch", "/resume statewatch", "/test"])
async def test_operators_commands_refuse_other_chats(running, store, command):
    """Outside an operators' chat every operators' command gets one polite refusal and changes nothing."""
    answer = await running.say(STRANGER, command)
    assert answer["plain_text"] == "This command is for the operators of this bot."
    assert not subscribers.is_paused(store, "statewatch")


async def test_stats_reports_subscribers_sent_queue_and_failures(running, store):
    """/stats counts subscribers by channel and mode, alerts sent, the queue, retries and drops."""
    store.subscribe("telegram", "1", ["smuggling"])
    store.subscribe("telegram", "2", ["smuggling"])
    subscribers.set_digest(store, "telegram", "2", 8, "UTC")
    store.subscribe("webhook", "newsroom", ["smuggling"])
    queue_alert(store, "council-press", "a")
    queue_alert(store, "council-press", "b")
    first, second, *_ = subscribers.pending_for(store, store.subscriber_id("telegram", "1"))
    store.mark_delivered(first.id)
    store.mark_retry(second.id, 60, "network: timed out")
    answer = await running.say(ADMIN_CHAT, "/stats")
    text = answer["plain_text"]
    assert "Subscribers: telegram 2 (1 digest, 1 instant); webhook 1; inactive 0" in text
    assert "Alerts sent: 1 (last 24 h: 1)" in text
    assert "Queue: 5 waiting, 1 being retried" in text
    assert "Last errors: network: timed out" in text


async def test_pause_and_resume_a_source(running, store):
    """/pause stores the paused flag for a known source, /resume clears it, an unknown name lists the sources."""
    assert "paused" not in (await running.say(ADMIN_CHAT, "/pause nowhere"))["plain_text"].lower()
    assert subscribers.is_paused(store, "nowhere") is False
    answer = await running.say(ADMIN_CHAT, "/pause statewatch")
    assert "Paused statewatch" in answer["plain_text"] and subscribers.is_paused(store, "statewatch")
    assert "⏸ statewatch: paused" in (await running.say(ADMIN_CHAT, "/sources"))["plain_text"]
    assert "paused" in (await running.say(ADMIN_CHAT, "/status"))["plain_text"]
    await running.say(ADMIN_CHAT, "/resume statewatch")
    assert subscribers.is_paused(store, "statewatch") is False


async def test_sources_lists_every_source(running):
    """/sources names every configured source with its kind, interval and URL."""
    text = (await running.say(ADMIN_CHAT, "/sources"))["plain_text"]
    assert "2 sources" in text and "rss, every 15m: https://e.org/press.xml" in text and "statewatch" in text


async def test_test_sends_a_formatted_sample_alert(running, api):
    """/test sends a sample alert through the real formatting: HTML, escaped, linked, with its topic label."""
    answer = await running.say(ADMIN_CHAT, "/test")
    assert answer["parse_mode"] == "HTML"
    assert "Test alert" in answer["plain_text"] and "&lt;sample&gt;" in answer["text"]
    assert 'href="https://www.consilium.europa.eu/en/press/press-releases/?sample=1&amp;test=true"' in answer["text"]
    assert "Migrant smuggling" in answer["plain_text"]
