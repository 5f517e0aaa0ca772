"""Moving a SQLite database into PostgreSQL (``watcher migrate-db --to postgresql://…``).

Both ends are opened as stores, so both have this version's schema (the SQLite file is migrated forward first, as
any command that opens it would). The target must hold no items, subscribers or alerts. Every table is copied in one
transaction on the target, parents before the tables that refer to them, with the columns both sides have: ids are
kept (so the outbox still points at its subscribers and ``items`` keeps its order in ``rowid``), and each identity
sequence is moved past the highest id copied. Leases are not copied (every queued row arrives unclaimed), nor are the
archive's index tables: PostgreSQL's triggers rebuild them as the items and matches arrive. The row counts of both
sides are compared before the transaction commits; any difference rolls it back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from watcher.errors import StoreError
from watcher.store import db as dbmod
from watcher.store.sqlite import Store

BATCH = 1000
# Tables the target rebuilds itself, or keeps for itself: SQLite's own, the FTS5 index and its shadow tables, the
# archive rows PostgreSQL's triggers write, and the record of applied migrations.
NOT_COPIED = ("sqlite_", "archive_fts", "archive_docs", "archive_codes", "migrations")
MUST_BE_EMPTY = ("items", "subscribers", "outbox")
# Columns left behind: a lease names a process of the old database (see ``leases``) and means nothing in the new one,
# so every queued alert and operator message arrives unclaimed.
NOT_COPIED_COLUMNS = ("lease_owner", "lease_until")


@dataclass
class Transfer:
    """What was copied: rows per table, in the order they were written."""

    source: str
    target: str
    rows: dict[str, int] = field(default_factory=dict)


def copy_to_postgres(source: Path, url: str, progress: Callable[[str, int], None] | None = None) -> Transfer:
    """Copy the SQLite database at ``source`` into the empty PostgreSQL database at ``url``. Raises StoreError
    naming what is wrong (no source file, a target that is not empty, counts that differ)."""
    if not dbmod.is_postgres(url):
        raise StoreError(url, "the target is not a PostgreSQL URL", "give --to postgresql://user:password@host/db")
    if not source.is_file():
        raise StoreError(str(source), "no SQLite database here", "give --from PATH or set WATCHER_DATA_DIR")
    src = Store(source)
    try:
        dst = Store(url)
        try:
            return _copy(src, dst, progress or (lambda table, rows: None))
        finally:
            dst.close()
    finally:
        src.close()


def _copy(src: Store, dst: Store, progress: Callable[[str, int], None]) -> Transfer:
    for table in MUST_BE_EMPTY:
        if dst.db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None:
            raise StoreError(
                dst.path,
                f"the target already holds rows in {table}",
                "give an empty database (createdb a new one); nothing was copied",
            )
    done = Transfer(source=src.path, target=dst.path)
    with dst.tx():
        for table in _tables(src.db):
            columns = [
                c
                for c in _sqlite_columns(src.db, table)
                if c in _postgres_columns(dst.db, table) and c not in NOT_COPIED_COLUMNS
            ]
            if not columns:
                continue
            done.rows[table] = _copy_table(src.db, dst.db, table, columns)
            progress(table, done.rows[table])
        for table in done.rows:
            _move_sequences(dst.db, table)
        for table, count in done.rows.items():
            there = dst.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            if table != "meta" and there != count:
                raise StoreError(dst.path, f"{table}: {count} rows read, {there} in the target", "nothing was copied")
    return done


def _tables(db: Any) -> list[str]:
    """The tables to copy, each after the tables its foreign keys point at."""
    names = [
        r[0]
        for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
        if not r[0].startswith(NOT_COPIED)
    ]
    parents = {t: {r[2] for r in db.execute(f"PRAGMA foreign_key_list({t})")} & set(names) - {t} for t in names}
    ordered: list[str] = []
    while len(ordered) < len(names):
        ready = [t for t in names if t not in ordered and parents[t] <= set(ordered)]
        if not ready:  # a cycle: keep the rest in name order (none in the schema today)
            ready = [t for t in names if t not in ordered]
        ordered.extend(ready)
    return ordered


def _sqlite_columns(db: Any, table: str) -> list[str]:
    columns = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
    return (["rowid"] if table in dbmod.ROWID_TABLES else []) + columns


def _postgres_columns(db: Any, table: str) -> set[str]:
    rows = db.execute("SELECT column_name FROM information_schema.columns WHERE table_name=?", (table,))
    return {r[0] for r in rows}


def _copy_table(src: Any, dst: Any, table: str, columns: list[str]) -> int:
    names = ", ".join(columns)
    marks = ",".join("?" * len(columns))
    order = "rowid" if table in dbmod.ROWID_TABLES or "id" not in columns else "id"
    insert = f"INSERT INTO {table} ({names}) VALUES ({marks}) ON CONFLICT DO NOTHING"
    count = 0
    for batch in _batches(src.execute(f"SELECT {names} FROM {table} ORDER BY {order}")):
        dst.executemany(insert, [tuple(_clean(v) for v in row) for row in batch])
        count += len(batch)
    return count


def _batches(rows: Any) -> Iterator[list[Any]]:
    while batch := rows.fetchmany(BATCH):
        yield batch


def _clean(value: Any) -> Any:
    """PostgreSQL text cannot hold NUL, which SQLite allows."""
    return value.replace("\x00", "") if isinstance(value, str) else value


def _move_sequences(db: Any, table: str) -> None:
    """Each identity column of the table continues after the highest value copied."""
    for (column,) in db.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name=? AND is_identity='YES'", (table,)
    ).fetchall():
        db.execute(
            f"SELECT setval(pg_get_serial_sequence(?, ?), max({column})) FROM {table} HAVING max({column}) IS NOT NULL",
            (table, column),
        )
