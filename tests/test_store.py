"""The SQLite store: idempotent writes, outbox bookkeeping and named migrations."""

from __future__ import annotations

import sqlite3

import pytest

from watcher.errors import StoreError
from watcher.models import Item, Match
from watcher.store import sqlite as store_mod
from watcher.store.sqlite import Store


def item(i: str) -> Item:
    return Item(source="s", id=i, title=f"title {i}", url=f"https://e.org/{i}")


def test_wal_mode_and_reopen(tmp_path):
    """The database is a real file in WAL mode and keeps its rows across reopening."""
    db = tmp_path / "w.db"
    s = Store(db)
    assert s.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    s.record_poll("s", [item("1")], {})
    s.close()
    assert Store(db).known_ids("s", ["1", "2"]) == {"1"}


def test_record_is_idempotent_and_first_poll_never_alerts(tmp_path):
    """Recording the same items twice stores them once; alerts start with the second successful poll."""
    s = Store(tmp_path / "w.db")
    s.subscribe("telegram", "1", ["t"])
    m = {("s", "1"): [Match("t", ("x",))], ("s", "2"): [Match("t", ("x",))]}
    first = s.record_poll("s", [item("1")], m)
    assert first.first_poll and first.alerts == 0 and s.outbox_depth() == 0
    again = s.record_poll("s", [item("1"), item("2")], m)
    assert [i.id for i in again.new] == ["2"] and again.alerts == 1
    assert s.record_poll("s", [item("1"), item("2")], m).alerts == 0
    assert s.outbox_depth() == 1


def test_delivered_and_dropped_leave_the_queue(tmp_path):
    """An alert marked delivered or dropped is never due again; a retried one is due after its delay."""
    s = Store(tmp_path / "w.db")
    s.subscribe("telegram", "1", ["t"])
    s.record_poll("s", [item("0")], {})
    s.record_poll("s", [item("1"), item("2"), item("3")], {("s", k): [Match("t", ("x",))] for k in "123"})
    a, b, c = s.due_alerts(["telegram"])
    s.mark_delivered(a.id)
    s.mark_dropped(b.id, "refused")
    s.mark_retry(c.id, 3600, "later")
    assert s.due_alerts(["telegram"]) == [] and s.outbox_depth() == 1


def test_named_migrations_apply_once(tmp_path, monkeypatch):
    """A named migration runs once, is recorded, and is skipped when the store opens again."""
    monkeypatch.setattr(store_mod, "MIGRATIONS", [("test-extra-column", "ALTER TABLE items ADD COLUMN note TEXT")])
    db = tmp_path / "w.db"
    Store(db).close()
    s = Store(db)
    cols = [r[1] for r in s.db.execute("PRAGMA table_info(items)")]
    assert cols.count("note") == 1
    assert [r[0] for r in s.db.execute("SELECT name FROM migrations")] == ["test-extra-column"]
    assert isinstance(s.db, sqlite3.Connection)


def test_database_from_a_newer_watcher_is_refused(tmp_path, monkeypatch):
    """A database with a schema change this code does not know is refused, not written to."""
    db = tmp_path / "w.db"
    monkeypatch.setattr(store_mod, "MIGRATIONS", [("from-the-future", "ALTER TABLE items ADD COLUMN x TEXT")])
    Store(db).close()
    monkeypatch.setattr(store_mod, "MIGRATIONS", [])
    with pytest.raises(StoreError, match="from-the-future"):
        Store(db)


def test_an_empty_first_poll_does_not_open_the_floodgates(tmp_path):
    """A first successful poll that finds nothing does not count as the recording poll: the next poll, which finds
    the whole back catalogue, records it without alerting."""
    s = Store(tmp_path / "w.db")
    s.subscribe("telegram", "1", ["t"])
    assert s.record_poll("s", [], {}).first_poll
    many = [item(str(n)) for n in range(50)]
    second = s.record_poll("s", many, {i.key: [Match("t", ("x",))] for i in many})
    assert second.first_poll and second.alerts == 0 and s.outbox_depth() == 0
    third = s.record_poll("s", [item("new")], {("s", "new"): [Match("t", ("x",))]})
    assert not third.first_poll and third.alerts == 1
