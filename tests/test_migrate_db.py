"""``watcher migrate-db --to postgresql://…``: a SQLite database with items, subscribers and undelivered alerts moves
into PostgreSQL (a real server, see tests/fakes/postgres.py), and delivery carries on from there through the real
python-telegram-bot against the fake Bot API."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from tests.conftest import run_cli
from tests.fakes.clock import FakeClock
from tests.fakes.telegram import START, queue_alert
from watcher.delivery.pacing import Pacer
from watcher.delivery.worker import DeliveryWorker
from watcher.models import Item
from watcher.notifiers.telegram import TelegramNotifier
from watcher.store import follows, health, provenance, subscribers
from watcher.store.sqlite import Store

LABELS = {"smuggling": "Migrant smuggling"}
COPIED = ("items", "matches", "subscribers", "subscriptions", "outbox", "source_state", "item_events", "follows")


def sqlite_with_a_backlog(path) -> Store:
    """Three chats, two sources, a Council document with its provenance, a follow, an operator message; of the
    five alerts one was delivered, one dropped, three wait."""
    s = Store(path, clock=FakeClock(START))
    for chat in ("1", "2", "3"):
        s.subscribe("telegram", chat, ["smuggling"])
    follows.follow(s, "telegram", "3", follows.FAMILY, "ST 9 2026", "ST 9 2026")
    queue_alert(s, "feed", "a")
    queue_alert(s, "other", "b", title="Smuggling ring & <routes>")
    s.record_poll("reg", [Item(source="reg", id="seed", title="seed", url="u")], {})
    answer = provenance.Fetched(
        url="https://e.org/st9.pdf",
        final_url="https://e.org/st9.pdf",
        status=200,
        sha256="cd" * 32,
        size=5,
        content_type="application/pdf",
        etag=None,
        last_modified=None,
        retrieved_at=datetime(2026, 9, 15, tzinfo=UTC),
        document=True,
    )
    doc = Item(
        source="reg", id="ST 9 2026 INIT", title="A note", url="https://e.org/st9.pdf", extra={"family": "ST 9 2026"}
    )
    s.record_poll("reg", [doc], {}, fetched=[answer])
    health.enqueue_event(s, "feed", "failing", "timeout", "feed is failing")
    due = s.due_alerts(["telegram"])
    s.mark_delivered(due[0].id)
    s.mark_dropped(due[1].id, "refused")
    assert len(subscribers.due_instant(s, ["telegram"])) == 5  # claimed by this store, as a sender stopped mid-way
    return s


def counts(store: Store) -> dict[str, int]:
    return {t: store.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in COPIED}


@pytest.fixture
async def bot(api):
    async with Bot(api.token, base_url=api.base_url, request=HTTPXRequest(connection_pool_size=4)) as b:
        yield b


async def test_migrate_db_moves_everything_and_delivery_continues(tmp_path, pg_url, api, bot):
    old = sqlite_with_a_backlog(tmp_path / "data" / "watcher.db")
    before, waiting = counts(old), old.due_alerts(["telegram"])
    old.close()
    assert len(waiting) == 5 and before["outbox"] == 7  # 3 chats x 2 items, and the follow; one sent, one dropped

    done = run_cli(["migrate-db", "--to", pg_url], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "outbox: 7 rows" in done.stdout and "next: set WATCHER_DATABASE_URL=" in done.stdout

    new = Store(pg_url, clock=FakeClock(START))
    try:
        assert counts(new) == before
        # the claims of the stopped sender did not come along: every waiting alert can be taken at once
        assert new.db.execute("SELECT count(*) FROM outbox WHERE lease_owner IS NOT NULL").fetchone()[0] == 0
        assert new.due_alerts(["telegram"]) == waiting  # same ids, chats, items, topics, snippets
        assert [r["sha256"] for r in provenance.item_provenance(new.db, "reg", "ST 9 2026 INIT")] == ["cd" * 32]
        assert health.pending_events(new) == 1
        assert follows.following(new, "telegram", "3") == [("family", "ST 9 2026", "ST 9 2026")]
        # the archive's rows were rebuilt by PostgreSQL's triggers, one per item, in the order they were recorded
        docs = [r[0] for r in new.db.execute("SELECT item_id FROM archive_docs ORDER BY id")]
        assert docs == [r[0] for r in new.db.execute("SELECT item_id FROM items ORDER BY rowid")]

        await DeliveryWorker(new, {"telegram": TelegramNotifier(bot, LABELS)}, Pacer()).drain()
        sent = api.sent_messages()
        assert sorted(m["chat_id"] for m in sent) == sorted(int(a.address) for a in waiting)
        assert any("Smuggling ring &amp; &lt;routes&gt;" in m["text"] for m in sent)
        assert new.outbox_depth() == 0

        # the ids go on after the copied ones: a new alert is queued, not refused as a duplicate id
        assert queue_alert(new, "feed", "c") == 3
        assert min(a.id for a in new.due_alerts(["telegram"])) > max(a.id for a in waiting)
    finally:
        new.close()


def test_migrate_db_refuses_a_target_that_is_not_empty(tmp_path, pg_url):
    sqlite_with_a_backlog(tmp_path / "data" / "watcher.db").close()
    assert run_cli(["migrate-db", "--to", pg_url], tmp_path).returncode == 0
    again = run_cli(["migrate-db", "--to", pg_url], tmp_path)
    assert again.returncode == 3 and "already holds rows in items" in again.stderr
    s = Store(pg_url)
    assert s.db.execute("SELECT count(*) FROM items").fetchone()[0] == 6  # nothing copied twice
    s.close()


def test_migrate_db_names_a_missing_source_and_a_wrong_target(tmp_path):
    missing = run_cli(["migrate-db", "--to", "postgresql://u@127.0.0.1:1/db"], tmp_path)
    assert missing.returncode == 3 and "no SQLite database here" in missing.stderr
    sqlite_with_a_backlog(tmp_path / "data" / "watcher.db").close()
    wrong = run_cli(["migrate-db", "--to", "mysql://u@h/db"], tmp_path)
    assert wrong.returncode == 3 and "not a PostgreSQL URL" in wrong.stderr
