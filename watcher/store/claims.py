"""Claims on source polls: each due source is polled by one replica, and never twice within its interval.

One row of ``source_claims`` per source: who polls it now (``owner``, with ``lease_until``, the end of that claim)
and when its last poll started (``started_at``). Before a poll, a replica claims the source in one statement::

    INSERT INTO source_claims … ON CONFLICT (source) DO UPDATE SET owner = …, lease_until = …, started_at = …
    WHERE (nobody holds it, or the claim expired) AND the last poll started at least ``interval`` ago
    RETURNING source

It gets a row back when the source is its to poll, and nothing when another replica polls it now or polled it less
than its interval ago. The upsert is atomic on both backends: SQLite serialises writers, and PostgreSQL locks the
row and checks the condition again on the latest version, so two replicas that claim at the same moment never both
get it. After the poll the owner gives the claim up (``release``); a replica that dies (``kill -9``) keeps it until
``lease_until``, and then another one takes the source over (a dead process of the claimer's own host, such as the
service before its restart, loses it at once, as with the outbox's leases). A long poll extends its claim while it
runs (``renew``).

Times are the claiming process's clock (as everywhere in the store), written as ISO 8601 in UTC with milliseconds so
that they compare as text; replicas on several hosts need their clocks in step (NTP), as for every other lease.
On SQLite one process runs per data directory, and the same code only keeps its own polls apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from watcher.store import db as dbmod
from watcher.store import leases

LEASE_SECONDS = 30.0  # a claim lasts this long unless renewed; a dead owner's source waits at most this
RENEW_SECONDS = 10.0  # a poll that runs longer extends its claim this often

CLAIM = """
INSERT INTO source_claims (source, owner, lease_until, started_at) VALUES (?, ?, ?, ?)
ON CONFLICT (source) DO UPDATE SET
    owner = excluded.owner, lease_until = excluded.lease_until, started_at = excluded.started_at
WHERE (source_claims.owner IS NULL OR source_claims.lease_until <= ?) AND source_claims.started_at <= ?
RETURNING source
"""


class Holder(Protocol):
    """What these functions need of a store: its connection and its clock."""

    db: dbmod.Connection
    clock: Callable[[], datetime]


def new_owner() -> str:
    """An owner id for one process's claims: host, PID and a random part (a PID is reused after a restart); the same
    form as the outbox's lease owners, so :func:`watcher.store.leases.gone` can tell when its process has ended."""
    return leases.new_owner()


def stamp(when: datetime) -> str:
    """A time as this table stores it: UTC, ISO 8601, always with milliseconds (so text order is time order)."""
    return when.astimezone(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Claim:
    """The answer to a claim: ``ok`` when this owner polls now; else who holds the source (``holder``, None when
    nobody does) and in how many seconds it may be claimed again (``wait``)."""

    ok: bool
    holder: str | None = None
    wait: float = 0.0


def claim(store: Holder, source: str, interval: float, owner: str, lease: float = LEASE_SECONDS) -> Claim:
    """Claim ``source`` for a poll by ``owner`` starting now, unless another owner's claim is live or the last poll
    started less than ``interval`` seconds ago."""
    now = store.clock()
    row = store.db.execute(
        CLAIM,
        (
            source,
            owner,
            stamp(now + timedelta(seconds=lease)),
            stamp(now),
            stamp(now),
            stamp(now - timedelta(seconds=interval)),
        ),
    ).fetchone()
    if row is not None:
        return Claim(True)
    if _free_if_gone(store, source, owner):  # a process of this host that died polling it (kill -9, a crash)
        return claim(store, source, interval, owner, lease)
    held = store.db.execute(
        "SELECT owner, lease_until, started_at FROM source_claims WHERE source = ?", (source,)
    ).fetchone()
    if held is None:  # given up and removed in between: the next try will find it free
        return Claim(False)
    due = datetime.fromisoformat(held[2]) + timedelta(seconds=interval)
    live = held[0] is not None and datetime.fromisoformat(held[1]) > now
    if live:
        due = max(due, datetime.fromisoformat(held[1]))
    return Claim(False, holder=held[0] if live else None, wait=max(0.0, (due - now).total_seconds()))


def _free_if_gone(store: Holder, source: str, owner: str) -> bool:
    """End the claim on ``source`` when its owner is a process of this host that has ended, so a restarted service
    polls the source when it is due instead of waiting for the dead claim to expire; True when one was ended."""
    held = store.db.execute("SELECT owner FROM source_claims WHERE source = ?", (source,)).fetchone()
    if held is None or held[0] is None or held[0] == owner or not leases.gone(held[0]):
        return False
    cur = store.db.execute(
        "UPDATE source_claims SET owner = NULL, lease_until = NULL WHERE source = ? AND owner = ?", (source, held[0])
    )
    return cur.rowcount == 1


def renew(store: Holder, source: str, owner: str, lease: float = LEASE_SECONDS) -> bool:
    """Extend ``owner``'s claim on ``source``; False when it no longer holds it (it expired and was taken over)."""
    until = stamp(store.clock() + timedelta(seconds=lease))
    cur = store.db.execute(
        "UPDATE source_claims SET lease_until = ? WHERE source = ? AND owner = ?", (until, source, owner)
    )
    return cur.rowcount == 1


def release(store: Holder, source: str, owner: str) -> None:
    """Give up ``owner``'s claim after its poll; the poll's start stays, so the interval still counts from it."""
    store.db.execute(
        "UPDATE source_claims SET owner = NULL, lease_until = NULL WHERE source = ? AND owner = ?", (source, owner)
    )


def held_by(store: Holder, owner: str) -> int:
    """How many sources ``owner`` holds a live claim on now (polls it is running)."""
    row = store.db.execute(
        "SELECT count(*) FROM source_claims WHERE owner = ? AND lease_until > ?", (owner, stamp(store.clock()))
    ).fetchone()
    return int(row[0])
