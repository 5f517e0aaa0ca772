"""Paces shared by every replica: slots reserved in PostgreSQL, so two processes never start closer than a limit.

A pace is one row of ``watcher_pace``: a key and the earliest time (``next_at``) the next start may take. Reserving a
slot moves ``next_at`` on by the interval and answers with the start that was reserved, in one statement whose row
lock serialises the replicas::

    INSERT … ON CONFLICT (key) DO UPDATE SET next_at = greatest(watcher_pace.next_at, now, …) + interval
    RETURNING next_at - interval

Times are the server's (``clock_timestamp()``), so the replicas' own clocks never matter; the caller gets back how
many seconds to wait before its slot.

Keys, never secrets: :func:`bot_key` hashes the bot token, so neither the table nor a log line holds it.

- the global send pace of one bot: ``send:<bot>`` (with ``pause:<bot>``, the end of a flood-control pause that
  every replica honours, and ``chat:<bot>:<channel:address>`` for one chat: see :meth:`PaceBook.reserve_send`);
- the politeness towards one site: ``host:<scheme://host:port>`` (:meth:`PaceBook.reserve`).

SQLite deployments run one process, whose in-process pacers are exact; this module is for PostgreSQL only.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

STATEMENT_TIMEOUT = "5s"
TABLE_LOCK = 0x7761746368657270  # the advisory lock key held while the table is created
CREATE = """
CREATE TABLE IF NOT EXISTS watcher_pace (
    key text PRIMARY KEY,
    next_at timestamptz NOT NULL
)
"""
RESERVE = """
INSERT INTO watcher_pace AS p (key, next_at)
VALUES (%(key)s, greatest(clock_timestamp(), to_timestamp(%(floor)s::float8)) + make_interval(secs => %(interval)s))
ON CONFLICT (key) DO UPDATE
SET next_at = greatest(p.next_at, clock_timestamp(), to_timestamp(%(floor)s::float8))
    + make_interval(secs => %(interval)s)
RETURNING extract(epoch FROM p.next_at) - %(interval)s AS start, extract(epoch FROM clock_timestamp()) AS now
"""
ENSURE = "INSERT INTO watcher_pace (key, next_at) VALUES (%s, to_timestamp(0)) ON CONFLICT (key) DO NOTHING"
LOCK_CHAT = "SELECT extract(epoch FROM next_at) FROM watcher_pace WHERE key = %s FOR UPDATE"
PAUSED_UNTIL = "SELECT extract(epoch FROM next_at) FROM watcher_pace WHERE key = %s"
MOVE_CHAT = "UPDATE watcher_pace SET next_at = to_timestamp(%s) + make_interval(secs => %s) WHERE key = %s"
PAUSE = """
INSERT INTO watcher_pace AS p (key, next_at) VALUES (%(key)s, clock_timestamp() + make_interval(secs => %(secs)s))
ON CONFLICT (key) DO UPDATE SET next_at = greatest(p.next_at, clock_timestamp() + make_interval(secs => %(secs)s))
"""


def bot_key(token: str) -> str:
    """A stand-in for the bot token in pace keys: the first 16 hex digits of a SHA-256 of it (never the token)."""
    return hashlib.sha256(f"watcher pace:{token}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Slot:
    """A reserved start, in the server's seconds since the epoch, and how long from now that is."""

    start: float
    wait: float


class PaceBook:
    """Reservations in ``watcher_pace`` through one connection of its own (calls are serialised on it). A statement
    that takes longer than :data:`STATEMENT_TIMEOUT` fails instead of holding up a send or a poll; a connection that
    fails is opened afresh on the next call."""

    def __init__(self, url: str, *, connect: Any = None):
        self.url = url
        self._connect = connect
        self.conn: Any = None
        self._lock = asyncio.Lock()
        self.reserved = 0

    async def open(self) -> PaceBook:
        async with self._session():
            pass
        return self

    @contextlib.asynccontextmanager
    async def _session(self) -> AsyncIterator[Any]:
        async with self._lock:
            try:
                if self.conn is None or self.conn.closed:
                    self.conn = await self._new_connection()
                yield self.conn
            except BaseException:
                await self.aclose()
                raise

    async def _new_connection(self) -> Any:
        # loaded late: psycopg is the optional PostgreSQL extra, and SQLite deployments never need it
        import psycopg

        connect = self._connect or psycopg.AsyncConnection.connect
        conn = await connect(
            self.url,
            autocommit=True,
            connect_timeout=5,
            application_name="watcher pace",
            options=f"-c statement_timeout={STATEMENT_TIMEOUT}",
        )
        try:
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (TABLE_LOCK,))  # one replica creates it
                await conn.execute(CREATE)
        except BaseException:
            await conn.close()
            raise
        return conn

    async def aclose(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # a broken connection has nothing left to close cleanly
                await conn.close()

    async def reserve(self, key: str, interval: float, floor: float | None = None) -> Slot:
        """The next start of ``key``, at least ``interval`` seconds after the one reserved before it (and not before
        ``floor``, seconds since the epoch, when given)."""
        async with self._session() as conn:
            cur = await conn.execute(RESERVE, {"key": key, "interval": interval, "floor": floor})
            start, now = await cur.fetchone()
        self.reserved += 1
        return Slot(float(start), max(0.0, float(start) - float(now)))

    async def reserve_wait(self, key: str, interval: float) -> float:
        """Seconds from now until the slot :meth:`reserve` took (the per-host pacer's question)."""
        return (await self.reserve(key, interval)).wait

    async def reserve_send(
        self, bot: str, rate_interval: float, chat: str | None = None, chat_interval: float = 0.0
    ) -> Slot:
        """A slot in the bot's overall pace, after any shared flood pause, and (with ``chat``) at least
        ``chat_interval`` after the chat's previous slot; the chat's next slot then counts from this one.

        The chat's row is locked first and the bot's row second, in one transaction, so the overall slot and the
        chat's agree and two replicas never interleave them."""
        if chat is None:
            floor = await self._pause_floor(bot)
            return await self.reserve(f"send:{bot}", rate_interval, floor)
        chat_key = f"chat:{bot}:{chat}"
        async with self._session() as conn, conn.transaction():
            await conn.execute(ENSURE, (chat_key,))
            row = await (await conn.execute(LOCK_CHAT, (chat_key,))).fetchone()
            paused = await (await conn.execute(PAUSED_UNTIL, (f"pause:{bot}",))).fetchone()
            floor = max(float(row[0]), float(paused[0]) if paused else 0.0)
            cur = await conn.execute(RESERVE, {"key": f"send:{bot}", "interval": rate_interval, "floor": floor})
            start, now = await cur.fetchone()
            await conn.execute(MOVE_CHAT, (float(start), chat_interval, chat_key))
        self.reserved += 1
        return Slot(float(start), max(0.0, float(start) - float(now)))

    async def _pause_floor(self, bot: str) -> float | None:
        async with self._session() as conn:
            row = await (await conn.execute(PAUSED_UNTIL, (f"pause:{bot}",))).fetchone()
        return float(row[0]) if row else None

    async def pause(self, bot: str, seconds: float) -> None:
        """Flood control: no replica starts a send of this bot for ``seconds`` from now."""
        async with self._session() as conn:
            await conn.execute(PAUSE, {"key": f"pause:{bot}", "secs": seconds})
