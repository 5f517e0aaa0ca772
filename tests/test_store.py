"""The store: idempotent writes, outbox bookkeeping and named migrations, on SQLite and on PostgreSQL
(``db_target``)."""

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


def test_record_is_idempotent_and_first_poll_never_alerts(db_target):
    """Recording the same items twice stores them once; alerts start with the second successful poll."""
    s = Store(db_target)
    s.subscribe("telegram", "1", ["t"])
    m = {("s", "1"): [Match("t", ("x",))], ("s", "2"): [Match("t", ("x",))]}
    first = s.record_poll("s", [item("1")], m)
    assert first.first_poll and first.alerts == 0 and s.outbox_depth() == 0
    again = s.record_poll("s", [item("1"), item("2")], m)
    assert [i.id for i in again.new] == ["2"] and again.alerts == 1
    assert s.record_poll("s", [item("1"), item("2")], m).alerts == 0
    assert s.outbox_depth() == 1


def test_delivered_and_dropped_leave_the_queue(db_target):
    """An alert marked delivered or dropped is never due again; a retried one is due after its delay."""
    s = Store(db_target)
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


def test_database_from_a_newer_watcher_is_refused(db_target, monkeypatch):
    """A database with a schema change this code does not know is refused, not written to."""
    db = db_target
    monkeypatch.setattr(store_mod, "MIGRATIONS", [("from-the-future", "ALTER TABLE items ADD COLUMN x TEXT")])
    Store(db).close()
    monkeypatch.setattr(store_mod, "MIGRATIONS", [])
    with pytest.raises(StoreError, match="from-the-future"):
        Store(db)


def test_an_empty_first_poll_does_not_open_the_floodgates(db_target):
    """A first successful poll that finds nothing does not count as the recording poll: the next poll, which finds
    the whole back catalogue, records it without alerting."""
    s = Store(db_target)
    s.subscribe("telegram", "1", ["t"])
    assert s.record_poll("s", [], {}).first_poll
    many = [item(str(n)) for n in range(50)]
    second = s.record_poll("s", many, {i.key: [Match("t", ("x",))] for i in many})
    assert second.first_poll and second.alerts == 0 and s.outbox_depth() == 0
    third = s.record_poll("s", [item("new")], {("s", "new"): [Match("t", ("x",))]})
    assert not third.first_poll and third.alerts == 1


def test_named_migrations_apply_once_on_both(db_target, monkeypatch):
    """On either backend a named migration runs once and is recorded; opening again skips it."""
    monkeypatch.setattr(store_mod, "MIGRATIONS", [("test-extra-column", "ALTER TABLE items ADD COLUMN note TEXT")])
    Store(db_target).close()
    s = Store(db_target)
    s.db.execute(
        "INSERT INTO items (source, item_id, title, url, first_seen_at, note) VALUES ('s','1','t','u','x','n')"
    )
    assert [r[0] for r in s.db.execute("SELECT note FROM items")] == ["n"]
    assert [r[0] for r in s.db.execute("SELECT name FROM migrations")] == ["test-extra-column"]
    s.close()


def test_every_shipped_migration_runs_on_both(db_target):
    """The base schema and every migration in schema.MIGRATIONS apply on both backends, once."""
    s = Store(db_target)
    assert [r[0] for r in s.db.execute("SELECT name FROM migrations ORDER BY name")] == sorted(
        name for name, _ in store_mod.MIGRATIONS
    )
    s.close()
    Store(db_target).close()


def test_replicas_starting_together_migrate_once(pg_url):
    """Stores opening one PostgreSQL database at the same time all start; the advisory lock lets one migrate while
    the others wait, so each migration is recorded once and nobody fails on a half-made schema."""
    import concurrent.futures  # loaded late: only this test starts threads

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        stores = list(pool.map(lambda _: Store(pg_url), range(4)))
    names = [r[0] for r in stores[0].db.execute("SELECT name FROM migrations")]
    assert sorted(names) == sorted(name for name, _ in store_mod.MIGRATIONS)
    for s in stores:
        s.close()


def test_postgres_rows_read_like_sqlite_rows(pg_url):
    """Rows from PostgreSQL read by position, by name and as a dict; text compares byte by byte as in SQLite."""
    s = Store(pg_url)
    s.subscribe("telegram", "b", ["Z", "a", "B"])
    row = s.db.execute("SELECT id, channel, address FROM subscribers").fetchone()
    assert row[1] == row["channel"] == "telegram" and dict(row) == {"id": 1, "channel": "telegram", "address": "b"}
    assert s.subscription("telegram", "b") == (True, ["B", "Z", "a"])  # C order, not a locale's
    assert s.db.execute("SELECT '50%' || ?", ("!",)).fetchone()[0] == "50%!"
    s.close()


def test_an_unreachable_postgres_is_one_clear_error():
    """A URL where no server answers gives one StoreError naming the URL (without its password) and the fix."""
    import socket  # loaded late: only to find a closed port

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(StoreError) as err:
        Store(f"postgresql://u:secret@127.0.0.1:{port}/db")
    text = str(err.value)
    assert "secret" not in text and "cannot connect to PostgreSQL" in text and "WATCHER_DATABASE_URL" in text


def test_a_lost_postgres_session_is_replaced(pg_url):
    """When the server ends the store's session (a restart, an administrator), the call that finds out fails with the
    store's database error and the next one runs on a new connection from the pool."""
    import psycopg  # loaded late: only this test speaks to the server beside the store

    from watcher.store.db import DATABASE_ERRORS

    s = Store(pg_url)
    s.subscribe("telegram", "1", ["t"])
    pid = s.db.execute("SELECT pg_backend_pid()").fetchone()[0]
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(DATABASE_ERRORS):
        s.subscription("telegram", "1")
    assert s.subscription("telegram", "1") == (True, ["t"])
    assert s.db.execute("SELECT pg_backend_pid()").fetchone()[0] != pid
    s.close()


def test_a_transaction_whose_session_ends_is_lost_whole(pg_url):
    """A session ended inside a transaction fails that transaction (none of its rows stay) and the store goes on on
    a new connection."""
    import psycopg  # loaded late: only this test speaks to the server beside the store

    from watcher.store.db import DATABASE_ERRORS

    s = Store(pg_url)
    pid = s.db.execute("SELECT pg_backend_pid()").fetchone()[0]
    with pytest.raises(DATABASE_ERRORS), s.tx():
        s.db.execute("INSERT INTO meta VALUES ('half', 'done')")
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        s.db.execute("INSERT INTO meta VALUES ('other', 'half')")
    assert not s.db.in_transaction
    assert s.db.execute("SELECT count(*) FROM meta WHERE key IN ('half', 'other')").fetchone()[0] == 0
    s.close()
