"""Crash safety: `watcher run` is killed with SIGKILL after alerts were queued, and in the middle of a batch; after a
restart every alert arrives, and only messages that were in flight at the kill can arrive twice."""

from __future__ import annotations

import signal
import sqlite3
import time
from collections import Counter

import pytest

from tests.conftest import make_config, source_toml
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.feeds import rss
from tests.test_e2e import MATCHING, OLD, Proc
from watcher.store.sqlite import Store

CHATS = [5001 + i for i in range(40)]


@pytest.fixture
def bot_api():
    with FakeBotAPI() as api:
        yield api


def seed_subscribers(tmp_path) -> None:
    store = Store(tmp_path / "data" / "watcher.db")
    for chat in CHATS:
        store.subscribe("telegram", str(chat), ["smuggling"])
    store.close()


def outbox(tmp_path) -> tuple[int, int]:
    """(rows queued, rows delivered), read from the database file as another process sees it."""
    db = sqlite3.connect(tmp_path / "data" / "watcher.db", timeout=5)
    try:
        return db.execute("SELECT count(*), count(delivered_at) FROM outbox").fetchone()
    except sqlite3.OperationalError:
        return 0, 0
    finally:
        db.close()


def wait_for(condition, timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def alert_counts(api: FakeBotAPI) -> Counter:
    return Counter(
        m["chat_id"]
        for m in api.sent_messages()
        if MATCHING["guid"] in m["text"] or "migrant smuggling" in m["plain_text"]
    )


def kill(proc: Proc) -> None:
    proc.p.send_signal(signal.SIGKILL)
    proc.p.wait(timeout=10)
    proc.stop()


def start(tmp_path, feed_server, bot_api, **env: str) -> Proc:
    config = make_config(tmp_path / "cfg", source_toml("council-test", feed_server.url("/feed.xml"), every="1s"))
    proc = Proc(
        tmp_path,
        config,
        WATCHER_TELEGRAM_TOKEN=bot_api.token,
        WATCHER_TELEGRAM_API_URL=bot_api.base_url,
        WATCHER_HTTP_PORT="0",
        **env,
    )
    bot_api.wait_for_calls("setMyCommands", 1, timeout=30)
    return proc


def restart_and_collect(tmp_path, feed_server, bot_api, **env: str) -> Counter:
    bot_api.clear_faults()
    proc = start(tmp_path, feed_server, bot_api, **env)
    try:
        wait_for(lambda: len(alert_counts(bot_api)) == len(CHATS), what="every chat to get its alert")
        wait_for(lambda: outbox(tmp_path)[1] == len(CHATS), what="every row to be marked delivered")
        seen = feed_server.count("/feed.xml")
        feed_server.wait_for_hits("/feed.xml", seen + 2)
    finally:
        assert proc.stop() == 0
    return alert_counts(bot_api)


def test_kill_between_enqueue_and_delivery(tmp_path, feed_server, bot_api):
    """SIGKILL right after the alerts were written (every send held by Telegram): after a restart every chat gets
    the alert, and the only repeats are sends that had reached Telegram before the kill."""
    seed_subscribers(tmp_path)
    feed_server.set("/feed.xml", rss([OLD]))
    proc = start(tmp_path, feed_server, bot_api)
    feed_server.wait_for_hits("/feed.xml", 2)
    bot_api.delay_next("sendMessage", 2.0, count=len(CHATS))
    feed_server.set("/feed.xml", rss([OLD, MATCHING]))
    wait_for(lambda: outbox(tmp_path)[0] == len(CHATS), what="alerts to be queued")
    kill(proc)
    assert outbox(tmp_path) == (len(CHATS), 0)
    time.sleep(2.5)  # sends that were held when the process died are answered now
    in_flight = set(alert_counts(bot_api))
    assert len(in_flight) <= 1  # WATCHER_SEND_CONCURRENCY's default: one send in flight
    counts = restart_and_collect(tmp_path, feed_server, bot_api)
    assert set(counts) == set(CHATS)
    assert {chat for chat, n in counts.items() if n > 1} <= in_flight
    assert max(counts.values()) <= 2


def test_kill_in_the_middle_of_a_batch(tmp_path, feed_server, bot_api):
    """SIGKILL while a batch is half sent, with one send in flight: after a restart the rest arrive, and only that
    one message arrives twice."""
    seed_subscribers(tmp_path)
    feed_server.set("/feed.xml", rss([OLD]))
    env: dict[str, str] = {}  # the default: one send in flight
    proc = start(tmp_path, feed_server, bot_api, **env)
    feed_server.wait_for_hits("/feed.xml", 2)
    held = CHATS[19]  # the 20th alert in outbox order
    bot_api.delay_next("sendMessage", 3.0, chat_id=held)
    feed_server.set("/feed.xml", rss([OLD, MATCHING]))
    wait_for(lambda: len(alert_counts(bot_api)) >= 19, what="the first 19 alerts")
    time.sleep(0.3)
    kill(proc)
    queued, delivered = outbox(tmp_path)
    assert queued == len(CHATS) and delivered == 19
    time.sleep(3.0)
    assert alert_counts(bot_api)[held] == 1  # it reached Telegram, but the process died before hearing so
    counts = restart_and_collect(tmp_path, feed_server, bot_api, **env)
    assert set(counts) == set(CHATS)
    assert {chat for chat, n in counts.items() if n > 1} == {held}
    assert counts[held] == 2
