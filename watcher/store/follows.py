"""What a chat follows: a Council document family (every version, and when any becomes public) or a legislative
procedure (every document whose header names it), whatever the chat's topics.

A follow is a row of ``follows``: its kind (``family`` or ``procedure``), its key (``ST 13589 2023``, the item's
``extra["family"]``; ``2023/0439(COD)``, as ``procedure_key`` writes it) and the label shown to the chat. While a
poll is recorded, ``enqueue`` adds one outbox row per follower and event, or, when a topic already queued that
alert, says in it that it is followed too: the outbox's one row per chat, item and event keeps it single.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from watcher.models import Item
from watcher.store.db import Connection

MAX_FOLLOWS = 50  # per chat
FAMILY, PROCEDURE = "family", "procedure"
FOLLOWED_TOPIC = "followed"  # the topic an alert sent only because of a follow is listed under
PROCEDURE_RE = re.compile(r"^\s*(\d{4})\s*/\s*(\d{1,4})\s*\(\s*([A-Za-z]{3})\s*\)\s*$")


class Store(Protocol):
    """What these functions use of ``watcher.store.sqlite.Store`` (which imports this module)."""

    db: Connection

    def tx(self) -> AbstractContextManager: ...

    def now(self) -> str: ...

    def subscribe(self, channel: str, address: str, topics: Iterable[str]) -> int: ...

    def subscription(self, channel: str, address: str) -> tuple[bool, list[str]]: ...


def procedure_key(text: str) -> str | None:
    """``2023/439 (cod)`` -> ``2023/0439(COD)``; None when the text is not a procedure number."""
    m = PROCEDURE_RE.match(text)
    return f"{m[1]}/{int(m[2]):04d}({m[3].upper()})" if m else None


def follow(store: Store, channel: str, address: str, kind: str, key: str, label: str, limit: int = MAX_FOLLOWS) -> str:
    """Follow for this chat: ``added``, ``already`` or ``full`` (at the limit, nothing added)."""
    row = store.db.execute("SELECT id FROM subscribers WHERE channel=? AND address=?", (channel, address)).fetchone()
    sub_id = row[0] if row else store.subscribe(channel, address, [])  # a stopped chat stays stopped
    with store.tx():
        if store.db.execute(
            "SELECT 1 FROM follows WHERE subscriber_id=? AND kind=? AND key=?", (sub_id, kind, key)
        ).fetchone():
            return "already"
        count = store.db.execute("SELECT count(*) FROM follows WHERE subscriber_id=?", (sub_id,)).fetchone()[0]
        if count >= limit:
            return "full"
        store.db.execute(
            "INSERT INTO follows (subscriber_id, kind, key, label, created_at) VALUES (?,?,?,?,?)",
            (sub_id, kind, key, label, store.now()),
        )
    return "added"


def unfollow(store: Store, channel: str, address: str, kind: str, key: str) -> bool:
    """Stop one follow; False when the chat did not follow it."""
    with store.tx():
        cur = store.db.execute(
            "DELETE FROM follows WHERE kind=? AND key=? AND subscriber_id=(SELECT id FROM subscribers WHERE "
            "channel=? AND address=?)",
            (kind, key, channel, address),
        )
    return cur.rowcount > 0


def following(store: Store, channel: str, address: str) -> list[tuple[str, str, str]]:
    """The chat's follows as (kind, key, label), oldest first."""
    return [
        (r[0], r[1], r[2])
        for r in store.db.execute(
            "SELECT f.kind, f.key, f.label FROM follows f JOIN subscribers s ON s.id=f.subscriber_id "
            "WHERE s.channel=? AND s.address=? ORDER BY f.created_at, f.rowid",
            (channel, address),
        )
    ]


def _keys(item: Item) -> list[tuple[str, str]]:
    """The follow keys an item answers to: its family, and each procedure its header names."""
    keys = []
    family = item.extra.get("family")
    if isinstance(family, str) and family:
        keys.append((FAMILY, family))
    named = list(item.extra.get("procedures") or []) + [item.extra.get("interinstitutional_file") or ""]
    for text in named:
        key = procedure_key(text) if isinstance(text, str) else None
        if key and (PROCEDURE, key) not in keys:
            keys.append((PROCEDURE, key))
    return keys


def enqueue(db: Connection, events: Sequence[tuple[Item, str]], now: str) -> int:
    """The outbox rows the follows ask for, for these events of one poll; returns how many were added."""
    added = 0
    for item, event in events:
        if item.extra.get("backlog") or item.extra.get("public") is False:
            continue
        keys = _keys(item)
        if not keys:
            continue
        where = " OR ".join("(f.kind=? AND f.key=?)" for _ in keys)
        rows = db.execute(
            f"SELECT f.subscriber_id, min(f.label) FROM follows f JOIN subscribers s ON "
            f"s.id=f.subscriber_id WHERE s.active=1 AND ({where}) GROUP BY f.subscriber_id",
            [v for k in keys for v in k],
        ).fetchall()
        for sub_id, label in rows:
            added += _add(db, sub_id, item, event, f"because you follow {label}", now)
    return added


def _add(db: Connection, sub_id: int, item: Item, event: str, reason: str, now: str) -> int:
    """A new outbox row with the reason, or the reason put in front of the row a topic queued (never a second)."""
    row = db.execute(
        "SELECT id, snippet FROM outbox WHERE subscriber_id=? AND source=? AND item_id=? AND event=?",
        (sub_id, item.source, item.id, event),
    ).fetchone()
    if row is not None:
        if reason not in row[1]:
            db.execute(
                "UPDATE outbox SET snippet=? WHERE id=? AND delivered_at IS NULL AND dropped_at IS NULL",
                (f"{reason} · {row[1]}" if row[1] else reason, row[0]),
            )
        return 0
    db.execute(
        "INSERT INTO outbox (subscriber_id, source, item_id, event, topics, terms, snippet, created_at, "
        "next_attempt_at) VALUES (?,?,?,?,?,'[]',?,?,?)",
        (sub_id, item.source, item.id, event, json.dumps([FOLLOWED_TOPIC]), reason, now, now),
    )
    return 1
