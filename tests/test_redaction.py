"""The bot token never reaches the database or the operators' views: an error text holding it, lower-cased by the
Telegram library, is stored redacted by the delivery worker's retry path, and /stats and `watcher status --json`
redact what they show (rows written before redaction included)."""

from __future__ import annotations

import json
import sqlite3

import pytest
from telegram import Bot

from tests.conftest import make_config, run_cli, source_toml
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.telegram import ADMIN_CHAT, queue_alert
from watcher.delivery.pacing import Pacer
from watcher.delivery.worker import DeliveryWorker
from watcher.logs import set_secret
from watcher.notifiers.telegram import TelegramNotifier
from watcher.store.sqlite import Store

TOKEN = "7654321:AAHk9Secret-Part_ofTheToken42"
SECRET = TOKEN.split(":", 1)[1].lower()


@pytest.fixture
def api():
    """The fake Bot API, reached with a token shaped like a real one."""
    with FakeBotAPI(token=TOKEN) as fake:
        yield fake


@pytest.fixture(autouse=True)
def secret():
    """The token is known to redaction for the test, as the command line sets it at start-up."""
    set_secret(TOKEN)
    yield
    set_secret(None)


def leaks(text: str) -> bool:
    return SECRET in text.lower()


async def test_retry_error_with_the_lowercased_token_is_stored_and_shown_redacted(store, api, running):
    """A 502 whose description carries the token (lower-cased on its way through the library) is stored redacted
    in the outbox (read from the SQLite file), and /stats shows the redacted text."""
    store.subscribe("telegram", "1", ["smuggling"])
    queue_alert(store, "council-press", "a")
    api.fail_next("sendMessage", 502, f"Error: Bad Gateway behind proxy for /bot{TOKEN}/sendMessage")
    async with Bot(api.token, base_url=api.base_url) as bot:
        await DeliveryWorker(store, {"telegram": TelegramNotifier(bot, {"smuggling": "Smuggling"})}, Pacer()).drain()
    db = sqlite3.connect(store.path)
    try:
        [(error,)] = db.execute("SELECT last_error FROM outbox WHERE last_error IS NOT NULL").fetchall()
    finally:
        db.close()
    assert "bad gateway" in error.lower() and "/bot<redacted>/sendmessage" in error.lower()
    assert not leaks(error)
    text = (await running.say(ADMIN_CHAT, "/stats"))["plain_text"]
    assert "Last errors: network: " in text and "<redacted>" in text and not leaks(text)


async def test_stats_redacts_an_error_stored_before_redaction(store, running):
    """An outbox error written raw by an older watcher is redacted when /stats shows it."""
    store.subscribe("telegram", "1", ["smuggling"])
    queue_alert(store, "council-press", "a")
    store.db.execute("UPDATE outbox SET last_error=?", (f"refused: token {TOKEN.lower()} not allowed",))
    text = (await running.say(ADMIN_CHAT, "/stats"))["plain_text"]
    assert "Last errors: refused: token <redacted> not allowed" in text and not leaks(text)


def test_status_json_shows_source_errors_redacted(tmp_path):
    """A source failure detail holding the token is stored redacted, and `watcher status --json` (given the token
    in WATCHER_TELEGRAM_TOKEN) redacts one that an older watcher stored raw."""
    db = tmp_path / "data" / "watcher.db"
    store = Store(db)
    try:
        store.record_failure("press", "network", f"ConnectError: https://e.org/feed?key={TOKEN.lower()}")
        store.record_failure("older", "network", "placeholder")
        store.db.execute(
            "UPDATE source_state SET last_failure_detail=? WHERE source='older'",
            (f"ConnectError: https://e.org/feed?key={TOKEN.upper().replace(':', '%3A')}",),
        )
        [(stored,)] = store.db.execute("SELECT last_failure_detail FROM source_state WHERE source='press'")
    finally:
        store.close()
    assert stored == "ConnectError: https://e.org/feed?key=<redacted>"
    cfg = make_config(
        tmp_path / "cfg", source_toml("press", "https://e.org/p.xml") + source_toml("older", "https://e.org/o.xml")
    )
    proc = run_cli(["--config", str(cfg), "status", "--json"], tmp_path, WATCHER_TELEGRAM_TOKEN=TOKEN)
    assert proc.returncode == 0, proc.stderr
    rows = {row["name"]: row for row in json.loads(proc.stdout)}
    assert rows["press"]["last_failure_detail"] == "ConnectError: https://e.org/feed?key=<redacted>"
    assert rows["older"]["last_failure_detail"] == "ConnectError: https://e.org/feed?key=<redacted>"
    assert not leaks(proc.stdout + proc.stderr)
