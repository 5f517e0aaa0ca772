"""Persistence for source health, the poll log, operator messages and HTTP validators.

Kept beside ``store.py`` (same database, tables created by its named migrations ``http-validators`` and
``source-health``) so the core store stays small. Every function takes the ``Store``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from watcher.clock import from_iso, iso
from watcher.logs import redact
from watcher.store import leases
from watcher.store.sqlite import CLEAR, Store

POLL_LOG_KEEP = 200
HEALTH_COLUMNS = ("failing_since", "failure_notified_at", "stale_notified_at", "last_unchanged_at")


class StoredValidators:
    """ETag and Last-Modified per URL, for the HTTP client's conditional GET."""

    def __init__(self, store: Store):
        self.store = store

    def get_validators(self, url: str) -> tuple[str | None, str | None]:
        row = self.store.db.execute("SELECT etag, last_modified FROM http_validators WHERE url=?", (url,)).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def put_validators(self, url: str, etag: str | None, last_modified: str | None) -> None:
        if not etag and not last_modified:
            self.store.db.execute("DELETE FROM http_validators WHERE url=?", (url,))
            return
        self.store.db.execute(
            "INSERT INTO http_validators (url, etag, last_modified, updated_at) VALUES (?,?,?,?) ON CONFLICT (url) "
            "DO UPDATE SET etag=excluded.etag, last_modified=excluded.last_modified, updated_at=excluded.updated_at",
            (url, etag, last_modified, self.store.now()),
        )


def state_row(store: Store, source: str) -> dict[str, Any]:
    """The source_state row of one source (empty dict when it was never polled)."""
    row = store.db.execute("SELECT * FROM source_state WHERE source=?", (source,)).fetchone()
    return dict(row) if row else {}


def last_new_at(store: Store, source: str) -> datetime | None:
    """When the newest item of this source was first recorded."""
    row = store.db.execute("SELECT max(first_seen_at) FROM items WHERE source=?", (source,)).fetchone()
    return from_iso(row[0])


def has_items(store: Store, source: str) -> bool:
    return store.has_items(source)


def new_items_since(store: Store, source: str, since: datetime) -> int:
    """Items first recorded after ``since``, leaving out the back catalogue recorded by the first poll."""
    row = store.db.execute(
        "SELECT count(*) FROM items i JOIN source_state s ON s.source=i.source WHERE i.source=? AND "
        "i.first_seen_at>=? AND i.first_seen_at>s.first_success_at",
        (source, iso(since)),
    ).fetchone()
    return int(row[0])


def set_health(store: Store, source: str, values: dict[str, datetime | None]) -> None:
    """Update the health columns of one source (the row exists once a poll was recorded)."""
    cols = [c for c in values if c in HEALTH_COLUMNS]
    if not cols:
        return
    store.db.execute("INSERT INTO source_state (source) VALUES (?) ON CONFLICT DO NOTHING", (source,))
    store.db.execute(
        f"UPDATE source_state SET {', '.join(f'{c}=?' for c in cols)} WHERE source=?",
        [iso(values[c]) for c in cols] + [source],
    )


def log_poll(store: Store, source: str, outcome: str, detail: str, items: int, new: int) -> None:
    """One row per poll, the last POLL_LOG_KEEP per source kept."""
    store.db.execute(
        "INSERT INTO poll_log (source, at, outcome, detail, items, new) VALUES (?,?,?,?,?,?)",
        (source, store.now(), outcome, redact(detail)[:500], items, new),
    )
    store.db.execute(
        "DELETE FROM poll_log WHERE source=? AND id <= (SELECT id FROM poll_log WHERE source=? ORDER BY id DESC "
        "LIMIT 1 OFFSET ?)",
        (source, source, POLL_LOG_KEEP),
    )


# --- operator messages ---------------------------------------------------------------------------------------------


def enqueue_event(store: Store, source: str, kind: str, failure: str | None, text: str) -> int:
    now = store.now()
    row = store.db.execute(
        "INSERT INTO health_events (source, kind, failure, text, created_at, next_attempt_at) VALUES (?,?,?,?,?,?) "
        "RETURNING id",
        (source, kind, failure, redact(text), now, now),
    ).fetchone()
    return int(row[0])


def due_events(store: Store, limit: int = 50) -> list[dict]:
    """Claim the operator messages due now (see ``leases``) and return them, oldest first."""
    ids = leases.claim(
        store,
        "health_events",
        "FROM health_events o WHERE o.delivered_at IS NULL AND o.next_attempt_at<=?",
        [store.now()],
        limit,
    )
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = store.db.execute(f"SELECT * FROM health_events WHERE id IN ({marks}) ORDER BY id", ids).fetchall()
    return [dict(r) | {"sent_to": json.loads(r["sent_to"])} for r in rows]


def events(store: Store, source: str | None = None) -> list[dict]:
    where, args = ("WHERE source=?", [source]) if source else ("", [])
    rows = store.db.execute(f"SELECT * FROM health_events {where} ORDER BY id", args).fetchall()
    return [dict(r) | {"sent_to": json.loads(r["sent_to"])} for r in rows]


def mark_event(
    store: Store, event_id: int, sent_to: Sequence[str], *, done: bool, retry_in: float = 0.0, error: str | None = None
) -> None:
    """Record which addresses accepted an event; either it is done, or it is tried again after ``retry_in``. Applies
    only for the event's lease holder (or when nobody holds it), and ends the lease."""
    when = iso(store.clock() + timedelta(seconds=retry_in))
    store.db.execute(
        "UPDATE health_events SET sent_to=?, attempts=attempts+1, delivered_at=?, next_attempt_at=?, last_error=?, "
        f"{CLEAR} WHERE id=? AND {leases.holds()}",
        (
            json.dumps(list(sent_to)),
            store.now() if done else None,
            when,
            redact(error)[:500] if error else None,
            event_id,
            store.lease_owner,
        ),
    )


def pending_events(store: Store) -> int:
    return store.db.execute("SELECT count(*) FROM health_events WHERE delivered_at IS NULL").fetchone()[0]
