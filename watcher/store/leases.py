"""Leases on queued work: an outbox row (or an operator message) is sent by the process that claimed it, never by two.

A claim writes the claimer's id (``host:pid:random``, one per Store) into ``lease_owner`` and ``now + LEASE_SECONDS``
into ``lease_until``, in one ``UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING id``, so two processes that claim at
the same moment get disjoint rows. A row is claimable when nobody holds it, when its lease has expired (its holder
died or hung), or when the claimer already holds it (a claim renews its own leases). Marking a row delivered, retried
or dropped applies only for its holder (or when nobody holds it) and clears the lease; a process that lost a lease
learns it from the mark's answer and leaves the row to its new holder.

SQLite serialises the claims through its write lock; on PostgreSQL the inner SELECT takes ``FOR UPDATE OF o SKIP
LOCKED`` (``LOCKING``), so concurrent claimers pass over each other's rows instead of waiting; :func:`claim` is the
one place that adds it. The SQL is otherwise the same on both: no ``INSERT OR``, no SQLite-only functions; times are
ISO 8601 strings in UTC, compared as text.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from watcher.clock import iso
from watcher.store import db as dbmod

LEASE_SECONDS = 60.0  # longer than one send (Telegram's own timeouts are far below it); renewed before each send
LOCKING = {dbmod.POSTGRES: "FOR UPDATE OF o SKIP LOCKED"}  # the claim's row locking, by backend (SQLite: none)
CHUNK = 500  # ids per statement, far below SQLite's limit on bound parameters
TABLES = ("outbox", "health_events")  # the tables with lease columns


class Holder(Protocol):
    """What the lease functions need of a store: its connection and backend, its clock and its lease owner id."""

    db: dbmod.Connection
    backend: str
    lease_owner: str
    clock: Callable[[], datetime]


_MINE: set[str] = set()  # the owner ids this process made


def new_owner() -> str:
    """A lease owner id for one store of this process: host, PID and a random part (a PID can be reused)."""
    owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
    _MINE.add(owner)
    return owner


def gone(owner: str) -> bool:
    """Whether ``owner`` names a process of this host that has ended: no such PID (or only its zombie), or this
    process's PID with a random part it never made (an earlier life of the same PID, as after a container restart).
    Owners of other hosts are never known gone: their leases end when they expire."""
    host, _, rest = owner.partition(":")
    pid_text, _, _ = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return owner not in _MINE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, as another user
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rpartition(")")[2].split()[:1] == ["Z"]
    except OSError:
        return False


def free_gone(store: Holder) -> int:
    """End the leases held by processes of this host that have ended (``kill -9``, a crash), so their work goes on at
    once instead of after the leases expire; returns how many were ended."""
    freed = 0
    for table in TABLES:
        owners = [
            r[0] for r in store.db.execute(f"SELECT DISTINCT lease_owner FROM {table} WHERE lease_owner IS NOT NULL")
        ]
        for owner in owners:
            if owner != store.lease_owner and gone(owner):
                cur = store.db.execute(
                    f"UPDATE {table} SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?", (owner,)
                )
                freed += cur.rowcount
    return freed


def until(store: Holder, seconds: float = LEASE_SECONDS) -> str:
    return iso(store.clock() + timedelta(seconds=seconds)) or ""


def claimable(alias: str = "o") -> str:
    """The condition, on ``alias``, of a row this owner may take: free, expired, or its own. Two parameters follow:
    the time now and the owner."""
    return f"({alias}.lease_owner IS NULL OR {alias}.lease_until <= ? OR {alias}.lease_owner = ?)"


def holds(alias: str = "") -> str:
    """The condition under which a mark applies: this owner holds the row, or nobody does. One parameter: the
    owner."""
    prefix = f"{alias}." if alias else ""
    return f"({prefix}lease_owner = ? OR {prefix}lease_owner IS NULL)"


def claim(store: Holder, table: str, rows: str, args: Sequence[object], limit: int) -> list[int]:
    """Lease up to ``limit`` rows of ``table`` to this store, the lowest ids first, and return their ids in order.

    ``rows`` is the ``FROM … WHERE …`` of the candidates, with ``o`` the alias of ``table`` and ``args`` its
    parameters; the lease condition, the order, the limit and the row locking (``LOCKING``) are added here. This is
    the one statement that decides who sends what."""
    now = iso(store.clock()) or ""
    locking = LOCKING.get(store.backend, "")
    sql = (
        f"UPDATE {table} SET lease_owner = ?, lease_until = ? WHERE id IN (SELECT o.id {rows} AND {claimable()} "
        f"ORDER BY o.id LIMIT ? {locking}) RETURNING id"
    )
    if store.db.in_transaction:
        found = store.db.execute(sql, [store.lease_owner, until(store), *args, now, store.lease_owner, limit])
        return sorted(r[0] for r in found.fetchall())
    # Nothing to take is the common answer (the sender asks every few seconds): a read says so without taking the
    # write lock, which on SQLite would wait behind any other process's write (a `watcher once`, a backup) and
    # hold up every other call of the database thread meanwhile. A row that turns up after it is taken next time.
    if (
        store.db.execute(f"SELECT 1 {rows} AND {claimable()} LIMIT 1", [*args, now, store.lease_owner]).fetchone()
        is None
    ):
        return []
    store.db.execute("BEGIN IMMEDIATE")
    try:
        found = store.db.execute(sql, [store.lease_owner, until(store), *args, now, store.lease_owner, limit])
        ids = sorted(r[0] for r in found.fetchall())
    except BaseException:
        store.db.execute("ROLLBACK")
        raise
    store.db.execute("COMMIT")
    return ids


def renew(store: Holder, table: str, ids: Iterable[int]) -> list[int]:
    """Extend this store's leases on ``ids``, taking those nobody holds or whose lease expired; returns the ids it
    holds now (a row taken by another process, or no longer waiting, is left out)."""
    now = iso(store.clock()) or ""
    held: list[int] = []
    ids = list(ids)
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i : i + CHUNK]
        marks = ",".join("?" * len(chunk))
        found = store.db.execute(
            f"UPDATE {table} SET lease_owner = ?, lease_until = ? WHERE id IN ({marks}) AND delivered_at IS NULL "
            f"AND {claimable(table)} RETURNING id",
            [store.lease_owner, until(store), *chunk, now, store.lease_owner],
        ).fetchall()
        held.extend(r[0] for r in found)
    return sorted(held)


def release(store: Holder, table: str, ids: Iterable[int]) -> None:
    """Give up this store's leases on ``ids`` (work claimed and not started), so another process may take it now."""
    ids = list(ids)
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i : i + CHUNK]
        marks = ",".join("?" * len(chunk))
        store.db.execute(
            f"UPDATE {table} SET lease_owner = NULL, lease_until = NULL WHERE id IN ({marks}) AND lease_owner = ?",
            [*chunk, store.lease_owner],
        )


def release_all(store: Holder, table: str) -> None:
    """Give up every lease this store holds in ``table`` (a clean shutdown), so a restart or another process goes on
    at once."""
    store.db.execute(
        f"UPDATE {table} SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?", (store.lease_owner,)
    )


def held(store: Holder) -> int:
    """How many outbox leases this store holds now (expired ones left out)."""
    row = store.db.execute(
        "SELECT count(*) FROM outbox WHERE lease_owner = ? AND lease_until > ?",
        (store.lease_owner, iso(store.clock())),
    ).fetchone()
    return int(row[0])
