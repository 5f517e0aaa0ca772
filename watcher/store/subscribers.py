"""Subscriber settings and delivery bookkeeping in the store: delivery mode and digests, exact topic sets for
configured notifiers, chat migration, paused sources, and the figures behind ``/stats``.

Plain functions over a :class:`watcher.store.Store`, so the store module keeps to items, matches and the outbox.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from watcher.clock import from_iso, iso
from watcher.logs import redact
from watcher.models import Alert
from watcher.store import leases
from watcher.store.sqlite import ALERT_ITEM_COLUMNS, CLEAR, Store, _alert

PENDING = "o.delivered_at IS NULL AND o.dropped_at IS NULL"
UNSENT = "delivered_at IS NULL AND dropped_at IS NULL"
_ALERT_COLUMNS = (
    f"SELECT o.*, s.channel, s.address, i.title, i.url, i.published, {ALERT_ITEM_COLUMNS} "
    "FROM outbox o "
    "JOIN subscribers s ON s.id=o.subscriber_id "
    "JOIN items i ON i.source=o.source AND i.item_id=o.item_id "
)


# --- delivery mode ----------------------------------------------------------------------------------------------


def settings(store: Store, channel: str, address: str) -> dict | None:
    """The subscriber's row (``active``, ``mode``, ``digest_hour``, ``digest_tz``, ...), or None."""
    row = store.db.execute("SELECT * FROM subscribers WHERE channel=? AND address=?", (channel, address)).fetchone()
    return dict(row) if row else None


def set_instant(store: Store, channel: str, address: str) -> None:
    """Send each alert as soon as it is ready."""
    with store.tx():
        store.db.execute(
            "UPDATE subscribers SET mode='instant', updated_at=? WHERE channel=? AND address=?",
            (store.now(), channel, address),
        )


def set_digest(store: Store, channel: str, address: str, hour: int, tz: str) -> None:
    """Collect alerts and send them once a day at ``hour`` in time zone ``tz``; the first digest is the next one."""
    now = store.now()
    with store.tx():
        store.db.execute(
            "UPDATE subscribers SET mode='digest', digest_hour=?, digest_tz=?, last_digest_at=?, "
            "updated_at=? WHERE channel=? AND address=?",
            (hour, tz, now, now, channel, address),
        )


def active_subscribers(store: Store, channels: Sequence[str], where: str) -> list[dict]:
    """Active subscribers on these channels that also meet ``where`` (a fixed SQL condition, never user input)."""
    if not channels:
        return []
    marks = ",".join("?" * len(channels))
    rows = store.db.execute(
        f"SELECT * FROM subscribers WHERE active=1 AND {where} AND channel IN ({marks})", list(channels)
    )
    return [dict(r) for r in rows]


def digest_subscribers(store: Store, channels: Sequence[str]) -> list[dict]:
    """Active digest subscribers on these channels."""
    return active_subscribers(store, channels, "mode='digest'")


def mark_digest_sent(store: Store, subscriber_id: int, when: datetime) -> None:
    store.db.execute("UPDATE subscribers SET last_digest_at=? WHERE id=?", (iso(when), subscriber_id))


def pending_for(store: Store, subscriber_id: int, limit: int = 500) -> list[Alert]:
    """Undelivered alerts of one subscriber, oldest first, whatever their next attempt time."""
    rows = store.db.execute(
        _ALERT_COLUMNS + f"WHERE {PENDING} AND o.subscriber_id=? ORDER BY o.id LIMIT ?", (subscriber_id, limit)
    ).fetchall()
    return [_alert(r) for r in rows]


def claim_pending_for(store: Store, subscriber_id: int, limit: int = 500) -> list[Alert]:
    """Claim the undelivered alerts of one subscriber that no other process holds, oldest first, whatever their next
    attempt time (a digest, or a chat's folded backlog)."""
    ids = leases.claim(store, "outbox", f"FROM outbox o WHERE {PENDING} AND o.subscriber_id=?", [subscriber_id], limit)
    return store.alerts_by_id(ids)


def due_instant(store: Store, channels: Sequence[str], limit: int = 500, after_id: int = 0) -> list[Alert]:
    """Claim the due alerts of active instant-mode subscribers, by outbox id, starting after ``after_id``, and return
    them (see ``leases``: rows another process holds are left to it)."""
    if not channels:
        return []
    marks = ",".join("?" * len(channels))
    ids = leases.claim(
        store,
        "outbox",
        f"FROM outbox o JOIN subscribers s ON s.id=o.subscriber_id WHERE {PENDING} AND o.next_attempt_at<=? AND "
        f"o.id>? AND s.active=1 AND s.mode='instant' AND s.muted_until IS NULL AND s.channel IN ({marks})",
        [store.now(), after_id, *channels],
        limit,
    )
    return store.alerts_by_id(ids)


def hold_for_send(store: Store, alert_id: int) -> bool:
    """Just before a send: whether the alert still waits, its subscriber is active, and this store holds its lease
    (renewed for another ``leases.LEASE_SECONDS``; taken when nobody holds it). False leaves it to whoever does."""
    cur = store.db.execute(
        f"UPDATE outbox SET lease_owner=?, lease_until=? WHERE id=? AND {UNSENT} AND {leases.claimable('outbox')} "
        "AND EXISTS (SELECT 1 FROM subscribers s WHERE s.id=outbox.subscriber_id AND s.active=1)",
        (store.lease_owner, leases.until(store), alert_id, store.now(), store.lease_owner),
    )
    return cur.rowcount == 1


def mark_many_delivered(store: Store, alert_ids: Iterable[int]) -> None:
    """Mark sent the alerts this store holds (or nobody holds), ending their leases."""
    with store.tx():
        store.db.executemany(
            f"UPDATE outbox SET delivered_at=?, attempts=attempts+1, {CLEAR} WHERE id=? AND dropped_at IS NULL AND "
            f"{leases.holds()}",
            [(store.now(), i, store.lease_owner) for i in alert_ids],
        )


def postpone(store: Store, alert_id: int, delay: float, error: str) -> None:
    """Due again after ``delay`` seconds without counting an attempt (flood control is nobody's fault); the lease
    ends, so whoever is free first sends it."""
    when = iso(store.clock() + timedelta(seconds=delay))
    store.db.execute(
        f"UPDATE outbox SET next_attempt_at=?, last_error=?, {CLEAR} WHERE id=? AND {leases.holds()}",
        (when, redact(error)[:500], alert_id, store.lease_owner),
    )


# --- configured notifiers ---------------------------------------------------------------------------------------


def set_topics(store: Store, channel: str, address: str, topics: Iterable[str]) -> int:
    """Make an active subscriber with exactly these topics (for notifiers defined in configuration)."""
    topics = list(topics)
    with store.tx():
        sub_id = store.subscribe(channel, address, topics)
        marks = ",".join("?" * len(topics))
        store.db.execute(
            f"DELETE FROM subscriptions WHERE subscriber_id=? AND topic NOT IN ({marks})", [sub_id, *topics]
        )
    return sub_id


def deactivate_others(store: Store, channel: str, keep: Iterable[str]) -> list[str]:
    """Deactivate the channel's subscribers whose address is not in ``keep``; returns their addresses."""
    keep = set(keep)
    rows = store.db.execute("SELECT address FROM subscribers WHERE channel=? AND active=1", (channel,)).fetchall()
    gone = [r[0] for r in rows if r[0] not in keep]
    for address in gone:
        store.deactivate(channel, address)
    return gone


# --- chat migration -------------------------------------------------------------------------------------------


def migrate_address(store: Store, channel: str, old: str, new: str) -> None:
    """A chat now lives at ``new`` (a group became a supergroup). If ``new`` is already a subscriber (someone sent
    /start there), the old one's topics and pending alerts join it and the old row is retired; else the row moves."""
    with store.tx():
        store.db.execute(  # the language chosen goes with the chat, unless the new chat chose one itself
            "UPDATE chat_language SET address=? WHERE channel=? AND address=? AND NOT EXISTS (SELECT 1 FROM "
            "chat_language c WHERE c.channel=? AND c.address=?)",
            (new, channel, old, channel, new),
        )
        old_id = store.subscriber_id(channel, old)
        new_id = store.subscriber_id(channel, new)
        if old_id is None:
            return
        if new_id is None:
            store.db.execute("UPDATE subscribers SET address=?, updated_at=? WHERE id=?", (new, store.now(), old_id))
            return
        store.db.execute(
            "INSERT INTO subscriptions SELECT ?, topic FROM subscriptions WHERE subscriber_id=? ON CONFLICT DO NOTHING",
            (new_id, old_id),
        )
        store.db.execute(  # the old chat's terms the new one does not watch already
            "UPDATE watches SET subscriber_id=? WHERE subscriber_id=? AND NOT EXISTS (SELECT 1 FROM watches w "
            "WHERE w.subscriber_id=? AND w.term_key=watches.term_key)",
            (new_id, old_id, new_id),
        )
        store.db.execute(
            "UPDATE subscribers SET active=1, updated_at=? WHERE id=? AND "
            "EXISTS (SELECT 1 FROM subscribers WHERE id=? AND active=1)",
            (store.now(), new_id, old_id),
        )
        store.db.execute(  # each pending alert the new chat does not have already (one row per chat, item, event)
            f"UPDATE outbox SET subscriber_id=? WHERE subscriber_id=? AND {UNSENT} AND NOT EXISTS (SELECT 1 FROM "
            "outbox o WHERE o.subscriber_id=? AND o.source=outbox.source AND o.item_id=outbox.item_id AND "
            "o.event=outbox.event)",
            (new_id, old_id, new_id),
        )
        store.db.execute(
            f"UPDATE outbox SET dropped_at=?, last_error='duplicate after chat migration' "
            f"WHERE subscriber_id=? AND {UNSENT}",
            (store.now(), old_id),
        )
        store.db.execute(
            "UPDATE subscribers SET active=0, address=?, updated_at=? WHERE id=?",
            (f"{old} (migrated to {new})", store.now(), old_id),
        )


# --- paused sources ---------------------------------------------------------------------------------------------


def set_paused(store: Store, source: str, paused: bool) -> None:
    store.db.execute(
        "INSERT INTO source_state (source, paused) VALUES (?,?) ON CONFLICT (source) DO UPDATE SET "
        "paused=excluded.paused",
        (source, int(paused)),
    )


def is_paused(store: Store, source: str) -> bool:
    row = store.db.execute("SELECT paused FROM source_state WHERE source=?", (source,)).fetchone()
    return bool(row and row[0])


# --- figures ----------------------------------------------------------------------------------------------------


def stats(store: Store, now: datetime | None = None) -> dict:
    """Subscribers by channel and mode, alerts sent (all time and last 24 h), queue depth, retries and drops."""
    db = store.db
    now = now or store.clock()
    subs = db.execute("SELECT channel, mode, count(*) FROM subscribers WHERE active=1 GROUP BY channel, mode")
    by_channel: dict[str, dict[str, int]] = {}
    for channel, mode, count in subs:
        by_channel.setdefault(channel, {})[mode] = count
    day_ago = iso(now - timedelta(days=1))
    one = lambda sql, *args: db.execute(sql, args).fetchone()[0]  # noqa: E731
    return {
        "subscribers": by_channel,
        "inactive": one("SELECT count(*) FROM subscribers WHERE active=0"),
        "sent_total": one("SELECT count(*) FROM outbox WHERE delivered_at IS NOT NULL"),
        "sent_24h": one("SELECT count(*) FROM outbox WHERE delivered_at>=?", day_ago),
        "queue": one("SELECT count(*) FROM outbox o WHERE " + PENDING),
        "retrying": one("SELECT count(*) FROM outbox o WHERE attempts>0 AND " + PENDING),
        "dropped_total": one("SELECT count(*) FROM outbox WHERE dropped_at IS NOT NULL"),
        "dropped_24h": one("SELECT count(*) FROM outbox WHERE dropped_at>=?", day_ago),
        "oldest_pending": from_iso(one("SELECT min(created_at) FROM outbox o WHERE " + PENDING)),
        "last_errors": list(
            dict.fromkeys(
                r[0]
                for r in db.execute(
                    "SELECT last_error FROM outbox WHERE last_error IS NOT NULL ORDER BY id DESC LIMIT 20"
                )
            )
        )[:3],
    }


def still_due(store: Store, alert_id: int) -> bool:
    """Whether the alert is still waiting and its subscriber still active (checked just before a send)."""
    row = store.db.execute(
        f"SELECT 1 FROM outbox o JOIN subscribers s ON s.id=o.subscriber_id WHERE o.id=? AND {PENDING} AND s.active=1",
        (alert_id,),
    ).fetchone()
    return row is not None


# --- backpressure -----------------------------------------------------------------------------------------------

DRAIN_WINDOW_MINUTES = 15
BACKLOG_KEY = "outbox_backlog_notified_at"


def delivered_per_minute(store: Store, now: datetime, minutes: int = DRAIN_WINDOW_MINUTES) -> float:
    """Alerts marked delivered per minute over the last ``minutes`` (folded and digest alerts included)."""
    since = iso(now - timedelta(minutes=minutes))
    count = store.db.execute("SELECT count(*) FROM outbox WHERE delivered_at>=?", (since,)).fetchone()[0]
    return count / minutes


def queued_per_minute(store: Store, now: datetime, minutes: int = DRAIN_WINDOW_MINUTES) -> float:
    """Alerts written to the outbox per minute over the last ``minutes``."""
    since = iso(now - timedelta(minutes=minutes))
    count = store.db.execute("SELECT count(*) FROM outbox WHERE created_at>=?", (since,)).fetchone()[0]
    return count / minutes


def oldest_instant_pending_at(store: Store) -> datetime | None:
    """When the oldest alert still owed to an active instant-mode subscriber was queued (alerts held for a daily
    digest or by a mute are left out: they wait by design)."""
    row = store.db.execute(
        f"SELECT min(o.created_at) FROM outbox o JOIN subscribers s ON s.id=o.subscriber_id "
        f"WHERE {PENDING} AND s.active=1 AND s.mode='instant' AND s.muted_until IS NULL"
    ).fetchone()
    return from_iso(row[0])


def overflowing(store: Store, channels: Sequence[str], cap: int, limit: int = 200) -> list[dict]:
    """Active instant subscribers on these channels with more than ``cap`` undelivered alerts, the longest queue
    first; each row is the subscriber's with ``waiting`` added."""
    if not channels:
        return []
    marks = ",".join("?" * len(channels))
    rows = store.db.execute(
        f"SELECT s.*, count(*) AS waiting FROM outbox o JOIN subscribers s ON s.id=o.subscriber_id WHERE {PENDING} "
        f"AND s.active=1 AND s.mode='instant' AND s.muted_until IS NULL AND s.channel IN ({marks}) GROUP BY s.id "
        f"HAVING count(*)>? "
        f"ORDER BY waiting DESC, s.id LIMIT ?",
        [*channels, cap, limit],
    ).fetchall()
    return [dict(r) for r in rows]


def backlog_notified_at(store: Store) -> datetime | None:
    """When the operators were told the outbox is falling behind, or None while it is not."""
    row = store.db.execute("SELECT value FROM meta WHERE key=?", (BACKLOG_KEY,)).fetchone()
    return from_iso(row[0]) if row else None


def set_backlog_notified(store: Store, when: datetime | None) -> None:
    """Remember (or, with None, forget) that the operators were told the outbox is falling behind."""
    if when is None:
        store.db.execute("DELETE FROM meta WHERE key=?", (BACKLOG_KEY,))
        return
    store.db.execute(
        "INSERT INTO meta (key, value) VALUES (?,?) ON CONFLICT (key) DO UPDATE SET value=excluded.value",
        (BACKLOG_KEY, iso(when)),
    )
