"""`watcher run` as a subprocess tells the admin chat, through the real python-telegram-bot and the fake Bot API,
once that a source is failing and once that it works again, while the other source goes on."""

from __future__ import annotations

import time

import pytest

from tests.conftest import make_config, source_toml
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.feeds import rss
from tests.test_e2e import Proc

ADMIN = 777
ITEM = {"title": "Council adopts conclusions", "link": "https://e.org/1", "guid": "1"}


@pytest.fixture
def bot_api():
    with FakeBotAPI() as api:
        yield api


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def test_admin_chat_gets_one_failing_and_one_recovered_message(tmp_path, feed_server, bot_api):
    """Two failed polls (threshold 2) give the admin chat one message naming the class; when the feed answers
    again, one "works again" message follows and nothing else; subscribers' alerts are not involved."""
    feed_server.set("/flaky.xml", "down", status=500, headers={"Content-Type": "text/plain"})
    feed_server.set("/steady.xml", rss([ITEM]))
    sources = (
        '[http]\nattempts = 1\nper_host_interval = "0s"\n\n[health]\nfailure_threshold = 2\n\n'
        + source_toml("flaky", feed_server.url("/flaky.xml"), every="1s")
        + source_toml("steady", feed_server.url("/steady.xml"), every="1s")
    )
    env = {
        "WATCHER_TELEGRAM_TOKEN": bot_api.token,
        "WATCHER_TELEGRAM_API_URL": bot_api.base_url,
        "WATCHER_ADMIN_CHAT_IDS": str(ADMIN),
    }
    proc = Proc(tmp_path, make_config(tmp_path / "cfg", sources), **env)
    try:
        [failing] = bot_api.wait_for_messages(1, chat_id=ADMIN, timeout=30)
        assert "source flaky is failing: server_error" in failing["text"] and not failing.get("parse_mode")
        feed_server.set("/flaky.xml", rss([ITEM]))
        messages = bot_api.wait_for_messages(2, chat_id=ADMIN, timeout=30)
        assert "source flaky works again" in messages[1]["text"]
        seen = feed_server.count("/flaky.xml")
        wait_for(lambda: feed_server.count("/flaky.xml") >= seen + 2)
        assert len(bot_api.sent_messages(ADMIN)) == 2
        assert feed_server.count("/steady.xml") >= 3
    finally:
        assert proc.stop() == 0
