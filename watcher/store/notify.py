"""LISTEN/NOTIFY on PostgreSQL: a replica that queued alerts wakes the senders of every replica at once, instead of
each finding them at its next idle check.

:class:`OutboxSignal` listens on :data:`CHANNEL` on a connection of its own and calls ``wake()`` for each
notification, and once after every (re)connection (alerts may have been queued while it was not listening). A lost
connection is opened again every ``retry`` seconds; meanwhile the senders still find their work by polling, only a
little later. ``queued()`` sends the notification, on a second connection (a listening connection is busy waiting).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

CHANNEL = "watcher_outbox"
RETRY_SECONDS = 5.0
WAIT_SECONDS = 30.0  # the longest wait on the socket before it is checked again


def _psycopg() -> Any:
    # loaded late: psycopg is the optional PostgreSQL extra, and SQLite deployments never need it
    import psycopg

    return psycopg


class OutboxSignal:
    def __init__(self, url: str, wake: Callable[[], None], *, channel: str = CHANNEL, retry: float = RETRY_SECONDS):
        self.url = url
        self.wake = wake
        self.channel = channel
        self.retry = retry
        self.conn: Any = None
        self.backend_pid: int | None = None
        self.listening = False
        self.received = 0
        self._sender: Any = None
        self._send_lock = asyncio.Lock()

    async def _connect(self, role: str) -> Any:
        return await _psycopg().AsyncConnection.connect(
            self.url, autocommit=True, connect_timeout=5, application_name=f"watcher outbox {role}"
        )

    async def run(self) -> None:
        psycopg = _psycopg()
        try:
            while True:
                try:
                    if self.conn is None:
                        self.conn = await self._connect("listener")
                        await self.conn.execute(
                            psycopg.sql.SQL("LISTEN {}").format(psycopg.sql.Identifier(self.channel))
                        )
                        cur = await self.conn.execute("SELECT pg_backend_pid()")
                        self.backend_pid = int((await cur.fetchone())[0])
                        self.listening = True
                        self.wake()
                    async for _ in self.conn.notifies(timeout=WAIT_SECONDS):
                        self.received += 1
                        self.wake()
                    await asyncio.wait_for(self.conn.execute("SELECT 1"), self.retry)
                except (psycopg.Error, OSError, TimeoutError) as exc:
                    if self.listening:
                        log.warning("outbox: stopped listening for queued alerts (%s); senders poll meanwhile", exc)
                    await self._drop()
                    await asyncio.sleep(self.retry)
        finally:
            await self._drop()
            await self.aclose()

    async def _drop(self) -> None:
        conn, self.conn, self.backend_pid, self.listening = self.conn, None, None, False
        if conn is not None:
            with contextlib.suppress(Exception):  # a broken connection has nothing left to close cleanly
                await conn.close()

    async def queued(self) -> None:
        """Tell every listening replica that alerts were queued. A failure is logged, never raised: the senders
        find the alerts at their next idle check anyway."""
        psycopg = _psycopg()
        async with self._send_lock:
            try:
                if self._sender is None or self._sender.closed:
                    self._sender = await self._connect("notifier")
                await self._sender.execute("SELECT pg_notify(%s, '')", (self.channel,))
            except (psycopg.Error, OSError) as exc:
                log.warning(
                    "outbox: could not notify the other replicas (%s); they find the alerts a little later", exc
                )
                sender, self._sender = self._sender, None
                if sender is not None:
                    with contextlib.suppress(Exception):
                        await sender.close()

    async def aclose(self) -> None:
        sender, self._sender = self._sender, None
        if sender is not None:
            with contextlib.suppress(Exception):
                await sender.close()
