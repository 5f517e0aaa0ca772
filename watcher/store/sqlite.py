"""The store: items seen per source, matches, subscribers and their topics, the outbox, and source state.

One SQLite file in WAL mode, or a PostgreSQL database when the target is a ``postgresql://`` URL (see
``watcher.store.db`` for what differs). Writes are idempotent (``INSERT ... ON CONFLICT DO NOTHING``). An item, its
matches and its outbox rows are written in one transaction, so a crash never leaves a match without its alerts. Due
outbox rows are claimed before they are sent (see ``leases``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from watcher.clock import SYSTEM_CLOCK, Clock, from_iso, iso
from watcher.errors import StoreError
from watcher.logs import redact
from watcher.models import Alert, Item, Match
from watcher.store import db as dbmod
from watcher.store import events as events_mod
from watcher.store import follows, leases, opening, provenance, watches
from watcher.store.schema import MIGRATIONS, POSTGRES_MIGRATIONS, SCHEMA, SCHEMA_VERSION


@dataclass(frozen=True)
class RecordResult:
    """What a poll changed. ``events`` pairs every recorded change with its kind: ``new`` (an id never seen),
    ``version`` (a new id in a known family) or ``public`` (a known id that is public now)."""

    new: list[Item]
    flagged: list[tuple[Item, list[Match]]]
    alerts: int
    first_poll: bool
    events: list[tuple[Item, str]] = field(default_factory=list)


def oldest_first(queued: list[tuple[Item, list[Match], str]]) -> list[tuple[Item, list[Match], str]]:
    """A poll's alerts oldest first when every item has a date (feeds list the newest first), else in the order
    the source listed them (the Council's numbers come in ascending order)."""
    if all(q[0].published is not None for q in queued):
        return sorted(queued, key=lambda q: q[0].published)  # type: ignore[arg-type, return-value]
    return queued


class Store:
    """All persistence. Pass ``clock`` to control time in tests."""

    def __init__(self, path: str | Path, clock: Clock = SYSTEM_CLOCK):
        """Open (or create) the database: a SQLite file, or PostgreSQL when ``path`` is a ``postgresql://`` URL.
        Raises ``StoreError`` with one readable line when it cannot be used."""
        self.path = str(path)
        self.clock: Callable[[], datetime] = clock.now  # read as store.clock() wherever the time is needed
        self.lease_owner = leases.new_owner()  # who this store's claims on queued work say holds them
        self.postgres: dbmod.PostgresDatabase | None = None
        if dbmod.is_postgres(self.path):
            self._open_postgres(self.path)
            return
        self.backend = dbmod.SQLITE
        if self.path != ":memory:":
            opening.check(Path(self.path), {name for name, _ in MIGRATIONS}, SCHEMA_VERSION)
        self.db: dbmod.Connection = opening.connect(self.path)
        try:
            self._migrate()
        except sqlite3.Error as exc:
            self.db.close()
            raise opening.explain(Path(self.path), exc) from exc
        except StoreError:
            self.db.close()
            raise

    def _open_postgres(self, url: str) -> None:
        self.backend = dbmod.POSTGRES
        self.postgres = database = dbmod.PostgresDatabase(url)
        self.path = database.name  # without the password
        try:
            conn = database.connect()
            self.db = conn
            with dbmod.advisory_lock(conn):  # one replica migrates, the others wait and then find it done
                self._migrate()
        except dbmod.DATABASE_ERRORS as exc:
            database.close()
            raise StoreError(
                self.path,
                f"PostgreSQL refused the schema ({' '.join(str(exc).split())[:300]})",
                "check that the user in WATCHER_DATABASE_URL owns the database",
            ) from exc
        except StoreError:
            database.close()
            raise

    def close(self) -> None:
        self.db.close()
        if self.postgres is not None:
            self.postgres.close()

    def _schema_statements(self, sql: str) -> list[str]:
        return dbmod.postgres_ddl(sql) if self.backend == dbmod.POSTGRES else statements(sql)

    def _migrate(self) -> None:
        if self.backend == dbmod.POSTGRES:
            for statement in dbmod.postgres_ddl(dbmod.POSTGRES_FUNCTIONS + SCHEMA):
                self.db.execute(statement)
        else:
            self.db.executescript(SCHEMA)  # type: ignore[attr-defined]  # SQLite-only path; idempotent
        self.db.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        done = {r[0] for r in self.db.execute("SELECT name FROM migrations")}
        unknown = done - {name for name, _ in MIGRATIONS}
        if unknown:
            raise opening.newer_schema(self.path, f"schema changes {', '.join(sorted(unknown))}")
        for name, sql in MIGRATIONS:
            if name in done:
                continue
            if self.backend == dbmod.POSTGRES:
                sql = POSTGRES_MIGRATIONS.get(name, sql)
            with self.tx():
                for statement in self._schema_statements(sql):
                    self.db.execute(statement)
                self.db.execute("INSERT INTO migrations VALUES (?, ?)", (name, self.now()))
        with self.tx():
            row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is None:
                self.db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) > SCHEMA_VERSION:
                raise opening.newer_schema(self.path, f"schema version {row[0]}, this one knows {SCHEMA_VERSION}")

    def tx(self):
        return _Transaction(self.db)

    def now(self) -> str:
        return iso(self.clock()) or ""

    # --- items ---------------------------------------------------------------------------------------------

    def known_ids(self, source: str, ids: Sequence[str]) -> set[str]:
        return set(self.public_states(source, ids))

    def public_states(self, source: str, ids: Sequence[str]) -> dict[str, int | None]:
        """The known ids among ``ids`` with their recorded public flag (1, 0, or None for kinds without one)."""
        known: dict[str, int | None] = {}
        for i in range(0, len(ids), 500):
            chunk = list(ids[i : i + 500])
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT item_id, public FROM items WHERE source=? AND item_id IN ({marks})", [source, *chunk]
            )
            known.update((r[0], r[1]) for r in rows)
        return known

    def changed_items(self, source: str, items: Sequence[Item]) -> list[Item]:
        """The items worth recording, once per id in the given order: ids this source never had, and known ids
        recorded as not public that are public now. An item seen again unchanged is left out."""
        unique: dict[str, Item] = {}
        for item in items:
            unique.setdefault(item.id, item)
        states = self.public_states(source, list(unique))
        return [
            item
            for item in unique.values()
            if item.id not in states or (states[item.id] == 0 and item.extra.get("public") is True)
        ]

    def has_items(self, source: str) -> bool:
        """Whether anything was ever recorded for this source. Until then a poll only records, never alerts, so an
        empty first answer cannot turn the next full one into a storm of alerts."""
        return self.db.execute("SELECT 1 FROM items WHERE source=? LIMIT 1", (source,)).fetchone() is not None

    def has_succeeded(self, source: str) -> bool:
        row = self.db.execute("SELECT first_success_at FROM source_state WHERE source=?", (source,)).fetchone()
        return bool(row and row[0])

    def record_poll(
        self,
        source: str,
        items: Iterable[Item],
        matches: dict[tuple[str, str], list[Match]],
        *,
        alert: bool = True,
        cursor: dict | None = None,
        fetched: Sequence[provenance.Fetched] = (),
        personal: Mapping[tuple[str, str], Mapping[str, watches.Found]] | None = None,
    ) -> RecordResult:
        """Record a successful poll, all in one transaction: new items, and known ones that became public, with
        their matches and, unless the source had no items recorded yet (its first poll that finds anything) or
        ``alert`` is false, one outbox row per interested subscriber and event. ``cursor``, when given, replaces the
        source's cursor.
        Each event is written with its provenance among ``fetched``, the answers the poll got (see ``provenance``).
        ``personal`` gives, per item, the chats' own terms it raised (see ``watches``): those chats are alerted by the
        same rules, in one alert with any topic's.

        A new version, or a document now public, also alerts the topics its earlier versions (or its earlier
        listing) matched. An item with ``extra["backlog"]`` is recorded without alerting."""
        items = list(items)
        now = self.now()
        new: list[Item] = []
        flagged: list[tuple[Item, list[Match]]] = []
        events: list[tuple[Item, str]] = []
        alerts = 0
        queued: list[tuple[Item, list[Match], str]] = []
        personal = personal or {}
        with self.tx():
            first = not self.has_items(source)
            families = events_mod.known_families(self.db, source, items)
            for item in items:
                event = self._record_item(item, families, now)
                if event is None:
                    continue
                events.append((item, event))
                if event != "public":
                    new.append(item)
                found = events_mod.merge_matches(
                    matches.get(item.key, []), events_mod.earlier_matches(self.db, item, event)
                )
                if found:
                    flagged.append((item, found))
                    self._insert_matches(item, found, now)
                if (found or personal.get(item.key)) and alert and not first and not item.extra.get("backlog"):
                    queued.append((item, found, event))
            for item, found, event in oldest_first(queued):
                alerts += self._enqueue(item, found, now, event) if found else 0
                if personal.get(item.key):
                    alerts += watches.enqueue(self.db, item, event, personal[item.key], now)
            if alert and not first:
                alerts += follows.enqueue(self.db, events, now)
            provenance.record(self.db, events, fetched, now)
            self._mark_success(source, now)
            if cursor is not None:
                self.set_cursor(source, cursor)
        return RecordResult(new=new, flagged=flagged, alerts=alerts, first_poll=first, events=events)

    def _record_item(self, item: Item, families: set[str], now: str) -> str | None:
        """Store the item; say which event that is, or None when nothing changed."""
        if self._insert_item(item, now):
            return "version" if item.extra.get("family") in families else "new"
        if item.extra.get("public") is True and events_mod.mark_public(self.db, item, iso(item.published)):
            return "public"
        return None

    def _insert_item(self, item: Item, now: str) -> bool:
        public = item.extra.get("public")
        cur = self.db.execute(
            "INSERT INTO items (source, item_id, title, url, published, summary, body, extra, first_seen_at, "
            "family, public) VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
            (
                item.source,
                item.id,
                item.title,
                item.url,
                iso(item.published),
                item.summary,
                item.body,
                json.dumps(item.extra, default=str),
                now,
                item.extra.get("family"),
                int(public) if isinstance(public, bool) else None,
            ),
        )
        return cur.rowcount == 1

    def _insert_matches(self, item: Item, found: list[Match], now: str) -> None:
        self.db.executemany(
            "INSERT INTO matches (source, item_id, topic, terms, snippet, field, matched_at) VALUES (?,?,?,?,?,?,?) "
            "ON CONFLICT DO NOTHING",
            [(item.source, item.id, m.topic, json.dumps(list(m.terms)), m.snippet, m.field, now) for m in found],
        )

    def _enqueue(self, item: Item, found: list[Match], now: str, event: str = "new") -> int:
        by_topic = {m.topic: m for m in found}
        marks = ",".join("?" * len(by_topic))
        rows = self.db.execute(
            f"SELECT s.id, group_concat(t.topic, ' ') FROM subscribers s JOIN subscriptions t ON t.subscriber_id=s.id "
            f"WHERE s.active=1 AND t.topic IN ({marks}) GROUP BY s.id",
            list(by_topic),
        ).fetchall()
        count = 0
        for sub_id, topic_list in rows:
            topics = [t for t in by_topic if t in topic_list.split(" ")]
            terms = list(dict.fromkeys(term for t in topics for term in by_topic[t].terms))
            words = _words_of(by_topic[t] for t in topics)
            # The title is shown whole, so a snippet of a hit in the title would only repeat it.
            snippet = next((m.snippet for t in topics if (m := by_topic[t]).snippet and m.field != "title"), "")
            cur = self.db.execute(
                "INSERT INTO outbox (subscriber_id, source, item_id, event, topics, terms, snippet, words, "
                "created_at, next_attempt_at) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
                (
                    sub_id,
                    item.source,
                    item.id,
                    event,
                    json.dumps(topics),
                    json.dumps(terms),
                    snippet,
                    json.dumps(words),
                    now,
                    now,
                ),
            )
            count += cur.rowcount
        return count

    def iter_items(self, since: datetime | None = None) -> Iterator[tuple[Item, set[str]]]:
        """Every stored item first seen at or after ``since``, with the topics it was flagged for."""
        rows = self.db.execute(
            "SELECT i.*, (SELECT group_concat(topic, ' ') FROM matches m WHERE m.source=i.source AND "
            "m.item_id=i.item_id) AS topics FROM items i WHERE i.first_seen_at >= ? ORDER BY i.first_seen_at, i.rowid",
            (iso(since) if since else "",),
        )
        for r in rows:
            item = Item(
                source=r["source"],
                id=r["item_id"],
                title=r["title"],
                url=r["url"],
                published=from_iso(r["published"]),
                summary=r["summary"],
                body=r["body"],
                extra=json.loads(r["extra"]),
            )
            yield item, set((r["topics"] or "").split())

    def recent_matches(self, topics: Sequence[str] | None = None, limit: int = 10) -> list[dict]:
        where, args = "", []
        if topics:
            where = f"WHERE m.topic IN ({','.join('?' * len(topics))})"
            args = list(topics)
        rows = self.db.execute(
            f"SELECT i.source, i.item_id, i.title, i.url, i.published, group_concat(m.topic, ' ') AS topics, "
            f"max(m.matched_at) AS matched_at FROM matches m JOIN items i ON i.source=m.source AND "
            f"i.item_id=m.item_id {where} GROUP BY i.source, i.item_id ORDER BY matched_at DESC, i.rowid DESC "
            f"LIMIT ?",
            [*args, limit],
        ).fetchall()
        return [dict(r) | {"topics": r["topics"].split(" ")} for r in rows]

    # --- source state ----------------------------------------------------------------------------------------

    def _mark_success(self, source: str, now: str) -> None:
        self.db.execute(
            "INSERT INTO source_state (source, first_success_at, last_attempt_at, last_success_at) VALUES (?,?,?,?) "
            "ON CONFLICT (source) DO UPDATE SET "
            "first_success_at=coalesce(source_state.first_success_at, excluded.first_success_at),"
            " last_attempt_at=excluded.last_attempt_at, last_success_at=excluded.last_success_at, "
            "consecutive_failures=0",
            (source, now, now, now),
        )

    def record_failure(self, source: str, failure: str, detail: str) -> int:
        """Record a failed poll; returns the number of consecutive failures now."""
        now = self.now()
        with self.tx():
            self.db.execute(
                "INSERT INTO source_state (source, last_attempt_at, consecutive_failures, last_failure, "
                "last_failure_detail) VALUES (?,?,1,?,?) ON CONFLICT (source) DO UPDATE SET "
                "last_attempt_at=excluded.last_attempt_at, consecutive_failures=source_state.consecutive_failures+1, "
                "last_failure=excluded.last_failure, last_failure_detail=excluded.last_failure_detail",
                (source, now, failure, redact(detail)[:500]),
            )
            row = self.db.execute("SELECT consecutive_failures FROM source_state WHERE source=?", (source,)).fetchone()
        return int(row[0])

    def source_states(self) -> dict[str, dict]:
        return {r["source"]: dict(r) for r in self.db.execute("SELECT * FROM source_state")}

    def get_cursor(self, source: str) -> dict:
        row = self.db.execute("SELECT cursor FROM source_state WHERE source=?", (source,)).fetchone()
        return json.loads(row[0]) if row else {}

    def set_cursor(self, source: str, cursor: dict) -> None:
        self.db.execute(
            "INSERT INTO source_state (source, cursor) VALUES (?,?) ON CONFLICT (source) DO UPDATE SET "
            "cursor=excluded.cursor",
            (source, json.dumps(cursor)),
        )

    # --- subscribers -----------------------------------------------------------------------------------------

    def subscribe(self, channel: str, address: str, topics: Iterable[str]) -> int:
        """Activate a subscriber (creating it if needed) and add topics. Returns its id."""
        now = self.now()
        with self.tx():
            self.db.execute(
                "INSERT INTO subscribers (channel, address, active, created_at, updated_at) VALUES (?,?,1,?,?) "
                "ON CONFLICT (channel, address) DO UPDATE SET active=1, updated_at=excluded.updated_at",
                (channel, address, now, now),
            )
            row = self.db.execute(
                "SELECT id FROM subscribers WHERE channel=? AND address=?", (channel, address)
            ).fetchone()
            sub_id = int(row[0])  # the row was written just above, in this transaction
            self.db.executemany(
                "INSERT INTO subscriptions VALUES (?,?) ON CONFLICT DO NOTHING", [(sub_id, t) for t in topics]
            )
        return sub_id

    def subscriber_id(self, channel: str, address: str) -> int | None:
        row = self.db.execute("SELECT id FROM subscribers WHERE channel=? AND address=?", (channel, address)).fetchone()
        return row[0] if row else None

    def unsubscribe(self, channel: str, address: str, topics: Iterable[str]) -> None:
        sub_id = self.subscriber_id(channel, address)
        if sub_id is None:
            return
        with self.tx():
            self.db.executemany(
                "DELETE FROM subscriptions WHERE subscriber_id=? AND topic=?", [(sub_id, t) for t in topics]
            )

    def deactivate(self, channel: str, address: str) -> None:
        with self.tx():
            self.db.execute(
                "UPDATE subscribers SET active=0, updated_at=? WHERE channel=? AND address=?",
                (self.now(), channel, address),
            )
            self.db.execute(
                "UPDATE outbox SET dropped_at=?, last_error='subscriber inactive' WHERE delivered_at IS NULL AND "
                "dropped_at IS NULL AND subscriber_id=(SELECT id FROM subscribers WHERE channel=? AND address=?)",
                (self.now(), channel, address),
            )

    def subscription(self, channel: str, address: str) -> tuple[bool, list[str]]:
        """Whether the subscriber is active, and its topics."""
        row = self.db.execute(
            "SELECT id, active FROM subscribers WHERE channel=? AND address=?", (channel, address)
        ).fetchone()
        if row is None:
            return False, []
        topics = [
            r[0]
            for r in self.db.execute("SELECT topic FROM subscriptions WHERE subscriber_id=? ORDER BY topic", (row[0],))
        ]
        return bool(row[1]), topics

    # --- outbox ------------------------------------------------------------------------------------------------

    def due_alerts(self, channels: Sequence[str], limit: int = 100) -> list[Alert]:
        """Claim the alerts due now on these channels (see ``leases``) and return them, oldest first."""
        if not channels:
            return []
        marks = ",".join("?" * len(channels))
        ids = leases.claim(
            self,
            "outbox",
            "FROM outbox o JOIN subscribers s ON s.id=o.subscriber_id WHERE o.delivered_at IS NULL AND "
            f"o.dropped_at IS NULL AND o.next_attempt_at<=? AND s.channel IN ({marks})",
            [self.now(), *channels],
            limit,
        )
        return self.alerts_by_id(ids)

    def alerts_by_id(self, ids: Sequence[int]) -> list[Alert]:
        """The alerts of these outbox rows, in id order (rows claimed a moment ago)."""
        found: list[Alert] = []
        for i in range(0, len(ids), leases.CHUNK):
            chunk = list(ids[i : i + leases.CHUNK])
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT o.*, s.channel, s.address, i.title, i.url, i.published, {ALERT_ITEM_COLUMNS} FROM outbox o "
                "JOIN subscribers s ON s.id=o.subscriber_id JOIN items i ON i.source=o.source AND "
                f"i.item_id=o.item_id WHERE o.id IN ({marks}) ORDER BY o.id",
                chunk,
            ).fetchall()
            found.extend(_alert(r) for r in rows)
        return found

    # Each mark applies only for the row's lease holder (or when nobody holds it) and ends the lease; False when
    # another process holds the row now (this one's lease expired and was taken over).

    def mark_delivered(self, alert_id: int) -> bool:
        cur = self.db.execute(
            f"UPDATE outbox SET delivered_at=?, attempts=attempts+1, {CLEAR} WHERE id=? AND {leases.holds()}",
            (self.now(), alert_id, self.lease_owner),
        )
        return cur.rowcount == 1

    def mark_retry(self, alert_id: int, delay: float, error: str) -> bool:
        when = iso(self.clock() + timedelta(seconds=delay))
        cur = self.db.execute(
            f"UPDATE outbox SET attempts=attempts+1, next_attempt_at=?, last_error=?, {CLEAR} WHERE id=? AND "
            f"{leases.holds()}",
            (when, redact(error)[:500], alert_id, self.lease_owner),
        )
        return cur.rowcount == 1

    def mark_dropped(self, alert_id: int, error: str) -> bool:
        cur = self.db.execute(
            f"UPDATE outbox SET dropped_at=?, attempts=attempts+1, last_error=?, {CLEAR} WHERE id=? AND "
            f"{leases.holds()}",
            (self.now(), redact(error)[:500], alert_id, self.lease_owner),
        )
        return cur.rowcount == 1

    def leases_held(self) -> int:
        """How many outbox rows this store holds a lease on now (alerts being sent by this process)."""
        return leases.held(self)

    def outbox_depth(self) -> int:
        return self.db.execute(
            "SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND dropped_at IS NULL"
        ).fetchone()[0]

    def oldest_pending_at(self) -> datetime | None:
        row = self.db.execute(
            "SELECT min(created_at) FROM outbox WHERE delivered_at IS NULL AND dropped_at IS NULL"
        ).fetchone()
        return from_iso(row[0])


def statements(sql: str) -> list[str]:
    """The statements of a migration, split at the semicolons that end one (not those inside a trigger's body)."""
    out: list[str] = []
    pending = ""
    for piece in sql.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                out.append(pending.strip())
            pending = ""
    if pending.strip(" \n;"):
        out.append(pending.strip())
    return out


CLEAR = "lease_owner=NULL, lease_until=NULL"  # the SET part that ends a lease

# What an alert shows of its item: its summary and extra, and when the document (or its family) was first seen.
ALERT_ITEM_COLUMNS = (
    "i.summary AS item_summary, i.extra AS item_extra, i.first_seen_at AS item_first_seen, "
    "(SELECT min(f.first_seen_at) FROM items f WHERE f.source=i.source AND f.family=i.family) AS family_first_seen, "
    "s.quiet AS chat_quiet, coalesce((SELECT c.language FROM chat_language c WHERE c.channel=s.channel AND "
    "c.address=s.address), (SELECT c.language FROM chat_seen_language c WHERE c.channel=s.channel AND "
    "c.address=s.address)) AS chat_language"
)


def _alert(r: Any) -> Alert:
    return Alert(
        id=r["id"],
        subscriber_id=r["subscriber_id"],
        channel=r["channel"],
        address=r["address"],
        source=r["source"],
        item_id=r["item_id"],
        title=r["title"],
        url=r["url"],
        published=from_iso(r["published"]),
        topics=tuple(json.loads(r["topics"])),
        terms=tuple(json.loads(r["terms"])),
        snippet=r["snippet"],
        words=tuple(json.loads(r["words"] or "[]")),
        event=r["event"],
        attempts=r["attempts"],
        **_alert_item(r),
    )


def _alert_item(r: Any) -> dict:
    """The item's extra and the event's first-seen time, when the query selected them."""
    columns = r.keys()  # a Row's "in" looks at its values, not its column names
    if "item_extra" not in columns:
        return {}
    since = {"version": r["family_first_seen"], "public": r["item_first_seen"]}.get(r["event"])
    found = {
        "extra": json.loads(r["item_extra"] or "{}"),
        "since": from_iso(since),
        "quiet": bool(r["chat_quiet"]),
        "language": r["chat_language"] or "en",
        "summary": r["item_summary"] or "",
    }
    if "personal" in columns:
        found["personal"] = tuple((str(t), str(w)) for t, w in json.loads(r["personal"] or "[]"))
    return found


def _words_of(matches: Iterable[Match]) -> list[str]:
    """The matched words of several topics, once each whatever their case."""
    seen: dict[str, str] = {}
    for match in matches:
        for word in match.words:
            seen.setdefault(word.casefold(), word)
    return list(seen.values())


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error; nests as a no-op."""

    def __init__(self, db: dbmod.Connection):
        self.db = db
        self.outer = False

    def __enter__(self):
        if not self.db.in_transaction:
            self.db.execute("BEGIN IMMEDIATE")
            self.outer = True
        return self.db

    def __exit__(self, exc_type, exc, tb):
        if self.outer:
            self.db.execute("ROLLBACK" if exc_type else "COMMIT")
        return False
