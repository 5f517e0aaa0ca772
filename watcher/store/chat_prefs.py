"""A chat's own settings besides its topics: muted until a time (alerts are held, then sent as one digest), quiet
(alerts arrive without a sound) and the language it chose."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from watcher.clock import iso
from watcher.store import subscribers
from watcher.store.sqlite import Store


def set_quiet(store: Store, channel: str, address: str, quiet: bool) -> bool:
    """Switch quiet alerts on or off; False when the chat has no subscription."""
    cur = store.db.execute(
        "UPDATE subscribers SET quiet=?, updated_at=? WHERE channel=? AND address=?",
        (int(quiet), store.now(), channel, address),
    )
    return cur.rowcount > 0


def set_mute(store: Store, channel: str, address: str, until: datetime | None) -> bool:
    """Hold the chat's alerts until ``until`` (None: send them again as they come); False when it has no
    subscription."""
    cur = store.db.execute(
        "UPDATE subscribers SET muted_until=? WHERE channel=? AND address=?", (iso(until), channel, address)
    )
    return cur.rowcount > 0


def unmute(store: Store, subscriber_id: int) -> None:
    """The mute is over (its digest went out)."""
    store.db.execute("UPDATE subscribers SET muted_until=NULL WHERE id=?", (subscriber_id,))


def muted_subscribers(store: Store, channels: Sequence[str]) -> list[dict]:
    """Active muted chats on these channels, whatever their delivery mode."""
    return subscribers.active_subscribers(store, channels, "muted_until IS NOT NULL")


def language(store: Store, channel: str, address: str) -> str | None:
    """The language the chat chose with /language, or None when it never chose."""
    row = store.db.execute(
        "SELECT language FROM chat_language WHERE channel=? AND address=?", (channel, address)
    ).fetchone()
    return row[0] if row else None


def set_language(store: Store, channel: str, address: str, language: str) -> None:
    """Remember the chat's language (a code the caller has checked)."""
    with store.tx():
        store.db.execute(
            "INSERT INTO chat_language (channel, address, language, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (channel, address) DO UPDATE SET language=excluded.language, updated_at=excluded.updated_at",
            (channel, address, language, store.now()),
        )


def languages(store: Store, channel: str, address: str) -> tuple[str | None, str | None]:
    """(the language the chat chose, the language last seen from its user), each None when there is none."""
    row = store.db.execute(
        "SELECT (SELECT language FROM chat_language WHERE channel=? AND address=?), "
        "(SELECT language FROM chat_seen_language WHERE channel=? AND address=?)",
        (channel, address, channel, address),
    ).fetchone()
    return row[0], row[1]


def set_seen_language(store: Store, channel: str, address: str, language: str) -> None:
    """Remember the language a private chat's user writes in (for the alerts, which no one's message starts)."""
    with store.tx():
        store.db.execute(
            "INSERT INTO chat_seen_language (channel, address, language, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (channel, address) DO UPDATE SET language=excluded.language, updated_at=excluded.updated_at",
            (channel, address, language, store.now()),
        )
