"""A chat's own terms (``/watch``): one row of ``watches`` per chat and term, and the outbox rows they ask for.

A row keeps the watch as the chat wrote it (``text``), as JSON for the matcher (``spec``), the folded form of its
term (``term_key``: a chat has one watch per term, so ``/unwatch`` finds it) and of the whole watch (``key``: the
same for every chat that writes it alike, so the matcher compiles it once). What a row means is the matcher's
business (``watcher.matcher.personal``); here it is text.

Each change adds one to a generation number in ``meta``, so the poller rebuilds its index only when the terms
changed. While a poll is recorded, ``enqueue`` adds one outbox row per chat whose terms an item raised, or, when a
topic already queued that alert, names the terms in it: the outbox's one row per chat, item and event keeps it
single.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from watcher.models import Item
from watcher.store.db import Connection

MAX_WATCHES = 20  # per chat
GENERATION_KEY = "watches_generation"
_CHUNK = 500  # keys per query


class Store(Protocol):
    """What these functions use of ``watcher.store.sqlite.Store`` (which imports this module)."""

    db: Connection

    def tx(self) -> AbstractContextManager: ...

    def now(self) -> str: ...

    def subscribe(self, channel: str, address: str, topics: Iterable[str]) -> int: ...


@dataclass(frozen=True)
class Watched:
    """One of a chat's terms as it is listed."""

    id: int
    text: str
    term_key: str


@dataclass(frozen=True)
class Found:
    """What an item showed of a watch: the words as the text has them, and a snippet around them."""

    words: str
    snippet: str = ""


def _bump(db: Connection) -> None:
    db.execute(
        "INSERT INTO meta (key, value) VALUES (?, '1') ON CONFLICT (key) DO UPDATE SET "
        "value=CAST(CAST(meta.value AS INTEGER) + 1 AS TEXT)",
        (GENERATION_KEY,),
    )


def generation(store: Store) -> int:
    """A number that changes whenever any chat's terms change."""
    row = store.db.execute("SELECT value FROM meta WHERE key=?", (GENERATION_KEY,)).fetchone()
    return int(row[0]) if row else 0


def add(
    store: Store, channel: str, address: str, term_key: str, key: str, spec: str, text: str, limit: int = MAX_WATCHES
) -> str:
    """Watch a term in this chat: ``added``, ``changed`` (the term was watched with other clauses), ``already`` or
    ``full`` (at the limit, nothing added). A chat that never subscribed gets a subscriber row without topics; a
    stopped chat stays stopped."""
    row = store.db.execute("SELECT id FROM subscribers WHERE channel=? AND address=?", (channel, address)).fetchone()
    sub_id = row[0] if row else store.subscribe(channel, address, [])
    with store.tx():
        old = store.db.execute(
            "SELECT key FROM watches WHERE subscriber_id=? AND term_key=?", (sub_id, term_key)
        ).fetchone()
        if old is not None and old[0] == key:
            return "already"
        if old is None:
            count = store.db.execute("SELECT count(*) FROM watches WHERE subscriber_id=?", (sub_id,)).fetchone()[0]
            if count >= limit:
                return "full"
        store.db.execute(
            "INSERT INTO watches (subscriber_id, term_key, key, spec, text, created_at) VALUES (?,?,?,?,?,?) "
            "ON CONFLICT (subscriber_id, term_key) DO UPDATE SET key=excluded.key, spec=excluded.spec, "
            "text=excluded.text",
            (sub_id, term_key, key, spec, text, store.now()),
        )
        _bump(store.db)
    return "changed" if old is not None else "added"


def remove(store: Store, channel: str, address: str, term_key: str) -> str | None:
    """Stop watching a term; the text it was listed as, or None when the chat did not watch it."""
    return _remove(store, "term_key=?", term_key, channel, address)


def remove_id(store: Store, channel: str, address: str, watch_id: int) -> str | None:
    """Stop one watch by its number, only if it is this chat's; its text, or None."""
    return _remove(store, "id=?", watch_id, channel, address)


def _remove(store: Store, where: str, value: object, channel: str, address: str) -> str | None:
    with store.tx():
        row = store.db.execute(
            f"SELECT w.id, w.text FROM watches w JOIN subscribers s ON s.id=w.subscriber_id WHERE w.{where} AND "
            "s.channel=? AND s.address=?",
            (value, channel, address),
        ).fetchone()
        if row is None:
            return None
        store.db.execute("DELETE FROM watches WHERE id=?", (row[0],))
        _bump(store.db)
    return str(row[1])


def watching(store: Store, channel: str, address: str) -> list[Watched]:
    """The chat's terms, oldest first."""
    return [
        Watched(r[0], r[1], r[2])
        for r in store.db.execute(
            "SELECT w.id, w.text, w.term_key FROM watches w JOIN subscribers s ON s.id=w.subscriber_id "
            "WHERE s.channel=? AND s.address=? ORDER BY w.id",
            (channel, address),
        )
    ]


def keys(store: Store) -> frozenset[str]:
    """The key of every distinct watch (read from the index on keys alone)."""
    return frozenset(r[0] for r in store.db.execute("SELECT DISTINCT key FROM watches"))


def specs(store: Store, wanted: Iterable[str]) -> list[tuple[str, str]]:
    """(key, spec) of the watches with these keys, once each. Many keys (a full rebuild) are read in one scan of the
    table rather than as many lookups."""
    wanted = list(wanted)
    if len(wanted) > _CHUNK:
        keep = set(wanted)
        rows = store.db.execute("SELECT key, min(spec) FROM watches GROUP BY key")
        return [(r[0], r[1]) for r in rows if r[0] in keep]
    if not wanted:
        return []
    rows = store.db.execute(
        f"SELECT key, min(spec) FROM watches WHERE key IN ({','.join('?' * len(wanted))}) GROUP BY key", wanted
    )
    return [(r[0], r[1]) for r in rows]


def enqueue(db: Connection, item: Item, event: str, found: Mapping[str, Found], now: str) -> int:
    """The outbox rows the item's watches ask for (``found``: watch key -> what the item showed of it) for one
    event; returns how many rows were added (a row a topic had queued is named, not added)."""
    keys = list(found)
    chats: dict[int, list[tuple[str, str]]] = {}
    snippets: dict[int, str] = {}  # the snippet of each chat's first term that has one
    for i in range(0, len(keys), _CHUNK):
        chunk = keys[i : i + _CHUNK]
        rows = db.execute(
            f"SELECT w.subscriber_id, w.key, w.text FROM watches w JOIN subscribers s ON s.id=w.subscriber_id "
            f"WHERE s.active=1 AND w.key IN ({','.join('?' * len(chunk))}) ORDER BY w.subscriber_id, w.id",
            chunk,
        )
        for sub_id, key, text in rows:
            chats.setdefault(sub_id, []).append((text, found[key].words))
            snippets[sub_id] = snippets.get(sub_id) or found[key].snippet
    if not chats:
        return 0
    ids = list(chats)
    queued: set[int] = set()  # chats a topic already queued this alert for
    for i in range(0, len(ids), _CHUNK):
        some = ids[i : i + _CHUNK]
        queued.update(
            r[0]
            for r in db.execute(
                f"SELECT subscriber_id FROM outbox WHERE subscriber_id IN ({','.join('?' * len(some))}) AND "
                "source=? AND item_id=? AND event=?",
                [*some, item.source, item.id, event],
            )
        )
    personal = {sub_id: json.dumps([list(t) for t in terms]) for sub_id, terms in chats.items()}
    # One row per chat, item and event: a row a topic queued gets the terms, never a second row.
    db.executemany(
        "UPDATE outbox SET personal=? WHERE subscriber_id=? AND source=? AND item_id=? AND event=? AND "
        "delivered_at IS NULL AND dropped_at IS NULL",
        [(personal[sub_id], sub_id, item.source, item.id, event) for sub_id in ids if sub_id in queued],
    )
    fresh = [sub_id for sub_id in ids if sub_id not in queued]
    db.executemany(
        "INSERT INTO outbox (subscriber_id, source, item_id, event, topics, terms, snippet, created_at, "
        "next_attempt_at, personal) VALUES (?,?,?,?,'[]','[]',?,?,?,?)",
        [(sub_id, item.source, item.id, event, snippets[sub_id], now, now, personal[sub_id]) for sub_id in fresh],
    )
    return len(fresh)
