"""End to end: `watcher run` as a subprocess, a feed on a local HTTP server, and the real python-telegram-bot talking
to a fake Bot API on 127.0.0.1."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import cli_env, make_config, source_toml
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.feeds import rss

OLD = {"title": "Council adopts conclusions on fisheries", "link": "https://e.org/old", "guid": "old"}
MATCHING = {
    "title": "Council agrees negotiating mandate against migrant smuggling & <trafficking> networks",
    "link": "https://e.org/press/smuggling?id=1&x=2",
    "guid": "match-1",
    "description": "Member states agreed how to counter the facilitation of unauthorised entry.",
}
OTHER = {
    "title": "Council approves budget for the European Year of Skills",
    "link": "https://e.org/skills",
    "guid": "other-1",
}
USER = 1001


class Proc:
    """A `watcher run` child process with its output captured to files."""

    def __init__(self, tmp_path: Path, config: Path, **env: str):
        self.out = tmp_path / f"out-{time.monotonic_ns()}.txt"
        self.err = tmp_path / f"err-{time.monotonic_ns()}.txt"
        self._out, self._err = self.out.open("w"), self.err.open("w")
        self.p = subprocess.Popen(
            [sys.executable, "-m", "watcher", "--config", str(config), "run"],
            cwd=tmp_path,
            env=cli_env(tmp_path, **env),
            stdout=self._out,
            stderr=self._err,
        )

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM, then the exit code; a process still running after ``timeout`` seconds is killed (-9)."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            code = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            code = self.p.wait()
        self._out.close()
        self._err.close()
        return code

    def wait_output(self, needle: str, timeout: float = 20, stream: str = "out") -> str:
        path = self.out if stream == "out" else self.err
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = path.read_text()
            if needle in text:
                return text
            assert self.p.poll() is None, f"watcher exited early:\n{self.err.read_text()}"
            time.sleep(0.1)
        raise AssertionError(
            f"{needle!r} not in {stream} after {timeout}s:\n{path.read_text()}\nstderr:\n{self.err.read_text()}"
        )


@pytest.fixture
def bot_api():
    with FakeBotAPI() as api:
        yield api


def test_telegram_end_to_end_with_restart(tmp_path, feed_server, bot_api):
    """/start subscribes; a matching item gives exactly one alert with title, link and topic; a non-matching item
    gives none; after a restart nothing is sent twice; the token never reaches the logs."""
    feed_server.set("/feed.xml", rss([OLD]))
    config = make_config(tmp_path / "cfg", source_toml("council-test", feed_server.url("/feed.xml"), every="1s"))
    env = {"WATCHER_TELEGRAM_TOKEN": bot_api.token, "WATCHER_TELEGRAM_API_URL": bot_api.base_url}

    proc = Proc(tmp_path, config, **env)
    try:
        bot_api.wait_for_calls("setMyCommands", 1, timeout=30)
        feed_server.wait_for_hits("/feed.xml", 2)  # the first poll has been recorded
        bot_api.send_user_message(USER, "/start")
        welcome = bot_api.wait_for_messages(1, chat_id=USER, timeout=15)
        assert "subscribed" in welcome[0]["text"]

        feed_server.set("/feed.xml", rss([OLD, MATCHING]))
        messages = bot_api.wait_for_messages(2, chat_id=USER, timeout=20)
        alert = messages[1]
        assert alert["parse_mode"] == "HTML"
        assert "migrant smuggling &amp; &lt;trafficking&gt; networks" in alert["text"]
        assert 'href="https://e.org/press/smuggling?id=1&amp;x=2"' in alert["text"]
        assert "Migrant smuggling" in alert["text"] and "council-test" in alert["text"]

        feed_server.set("/feed.xml", rss([OLD, MATCHING, OTHER]))
        seen = feed_server.count("/feed.xml")
        feed_server.wait_for_hits("/feed.xml", seen + 3)
        assert len(bot_api.sent_messages(USER)) == 2
    finally:
        assert proc.stop() == 0

    proc2 = Proc(tmp_path, config, **env)
    try:
        bot_api.wait_for_calls("setMyCommands", 2, timeout=30)
        seen = feed_server.count("/feed.xml")
        feed_server.wait_for_hits("/feed.xml", seen + 3)
        time.sleep(1.0)
        assert len(bot_api.sent_messages(USER)) == 2, "an alert was sent twice after a restart"
    finally:
        assert proc2.stop() == 0
    for p in (proc, proc2):
        logs = p.err.read_text() + p.out.read_text()
        assert bot_api.token not in logs
        assert "TEST-TOKEN" not in logs


def test_console_mode_keeps_running_when_sources_fail(tmp_path, feed_server):
    """Without a token, `watcher run` says alerts go to the console, prints them there, and keeps running while a
    source cannot be reached."""
    feed_server.set("/feed.xml", rss([OLD]))
    sources = source_toml("dead", "http://127.0.0.1:9/feed.xml", every="1s") + source_toml(
        "live", feed_server.url("/feed.xml"), every="1s"
    )
    proc = Proc(tmp_path, make_config(tmp_path / "cfg", sources))
    try:
        proc.wait_output("alerts go to the console", stream="err")
        feed_server.wait_for_hits("/feed.xml", 2)
        feed_server.set("/feed.xml", rss([OLD, MATCHING]))
        out = proc.wait_output("=== ALERT ===")
        assert MATCHING["title"] in out and MATCHING["link"] in out and "Migrant smuggling" in out
        proc.wait_output("source dead: poll failed: network", stream="err")
        time.sleep(1.5)
        assert proc.p.poll() is None
    finally:
        assert proc.stop() == 0
