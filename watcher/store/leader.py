"""Leader leases: the work that must run in one process at a time, however many replicas share the database.

Each lease has a name (:data:`LEASES`). A process asks for the names it could run and learns, through
``on_change(name, leads)``, when it gains or loses one; ``leads(name)`` answers at any time.

- **SQLite** (:class:`SoloLeadership`): one host, and the data-directory lock already makes the process unique, so
  it leads every lease from the start.
- **PostgreSQL** (:class:`AdvisoryLeadership`): a lease is a session-level advisory lock
  (``pg_try_advisory_lock``) held on a connection of its own, outside the store's pool. The lock lasts exactly as
  long as that session, so:

  * a process that dies, or whose connection drops, loses its leases at the moment the server sees the session
    end; the others try for them every ``retry`` seconds (:data:`RETRY_SECONDS`) and one takes over;
  * the holder waits on the connection's socket between checks, so a closed connection (the server stopped, an
    administrator's ``pg_terminate_backend``) is seen at once and every lease is given up on the spot; every
    ``retry`` seconds a keepalive query with a time limit checks that the server still answers;
  * a host that vanishes without closing its sockets is noticed by the server through TCP keepalives asked for on
    the session (idle 5 s, then 3 probes 2 s apart) and by the holder through libpq's own keepalives and its
    keepalive query's time limit, so the old holder stops before the server frees the lock, and a successor leads
    within about 5 + 3 × 2 + ``retry`` seconds (well inside 30 s).

Keys are 64-bit numbers derived from the lease name (:func:`lock_key`), in a range of their own so they never meet
the store's migration lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

log = logging.getLogger(__name__)

TELEGRAM_UPDATES = "telegram-updates"  # Telegram allows one getUpdates consumer per token
OUTBOX_BACKLOG = "outbox-backlog"  # the outbox age check that queues the operators' "alerts are late" messages
LEASES = (TELEGRAM_UPDATES, OUTBOX_BACKLOG)

RETRY_SECONDS = 5.0  # how often a follower tries for a lease and a leader checks its connection
CHECK_TIMEOUT = 5.0  # a keepalive query slower than this means the connection is lost
CONNECT_TIMEOUT = 5  # seconds, libpq's connect_timeout
# libpq's client-side keepalives and, through ``options``, the server's for this session: a dead peer on either side
# is noticed in about 5 + 3 × 2 seconds instead of the system default of hours.
KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,
    "options": "-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3",
    "application_name": "watcher leader lease",
}

OnChange = Callable[[str, bool], "Awaitable[None] | None"]


def lock_key(name: str) -> int:
    """The advisory lock key of a lease: a signed 64-bit number from a hash of ``watcher lease:<name>``."""
    digest = hashlib.blake2b(f"watcher lease:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class Leadership(Protocol):
    """Which leases this process holds, and word when that changes."""

    names: tuple[str, ...]

    def leads(self, name: str) -> bool: ...

    def held(self) -> dict[str, bool]: ...

    def on_change(self, callback: OnChange) -> None: ...

    async def run(self) -> None: ...

    async def aclose(self) -> None: ...


class _Base:
    def __init__(self, names: Iterable[str]):
        self.names = tuple(dict.fromkeys(names))
        if not self.names:
            raise ValueError("a leadership needs at least one lease name")
        self._held: dict[str, bool] = {name: False for name in self.names}
        self._callbacks: list[OnChange] = []

    def leads(self, name: str) -> bool:
        return self._held.get(name, False)

    def held(self) -> dict[str, bool]:
        return dict(self._held)

    def on_change(self, callback: OnChange) -> None:
        self._callbacks.append(callback)

    async def _set(self, name: str, leads: bool) -> None:
        if self._held[name] == leads:
            return
        self._held[name] = leads
        for callback in self._callbacks:
            try:
                answer = callback(name, leads)
                if inspect.isawaitable(answer):
                    await answer
            except Exception:  # one failing reaction must not keep the others from hearing of the change
                log.exception("lease %s: reacting to %s failed", name, "gaining it" if leads else "losing it")


class SoloLeadership(_Base):
    """SQLite: the only process on the data directory leads every lease as soon as it runs."""

    async def run(self) -> None:
        for name in self.names:
            await self._set(name, True)
        await asyncio.Event().wait()  # nothing to watch; ends when the task is cancelled

    async def aclose(self) -> None:
        for name in self.names:
            await self._set(name, False)


Connect = Callable[..., Awaitable[Any]]


def _psycopg_connect() -> Connect:
    # loaded late: psycopg is the optional PostgreSQL extra, and SQLite deployments never need it
    import psycopg

    return psycopg.AsyncConnection.connect


def _lost_errors() -> tuple[type[BaseException], ...]:
    # loaded late: psycopg is the optional PostgreSQL extra, and SQLite deployments never need it
    import psycopg

    return (psycopg.Error, OSError, TimeoutError)


def _being_cancelled() -> bool:
    """Whether the running task has been asked to stop (a cancel it has not yet seen through to the end)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


class AdvisoryLeadership(_Base):
    """PostgreSQL: each lease is a session-level advisory lock on one dedicated connection to ``url``.

    ``run()`` is the task that keeps it: connect, try for the leases not held, watch the connection for ``retry``
    seconds, check it, and again. Losing the connection gives up every lease at once; ``aclose()`` gives them up on
    purpose (the session ends, so the server frees the locks for another replica at once)."""

    def __init__(
        self,
        url: str,
        names: Iterable[str] = LEASES,
        *,
        retry: float = RETRY_SECONDS,
        check_timeout: float = CHECK_TIMEOUT,
        connect: Connect | None = None,
    ):
        super().__init__(names)
        self.url = url
        self.retry = retry
        self.check_timeout = check_timeout
        self._connect = connect
        self.conn: Any = None
        self.backend_pid: int | None = None  # the server process of the lease session, for logs and tests
        self.losses = 0  # times the connection was lost while leading something

    async def run(self) -> None:
        errors = _lost_errors()
        try:
            while True:
                try:
                    if self.conn is None:
                        await self._open()
                    await self._take()
                    await self._watch()
                    await self._check()
                except errors as exc:
                    if _being_cancelled():  # a library turned our cancellation into its own error: stop all the same
                        raise asyncio.CancelledError from exc
                    await self._lose(exc)
                    await asyncio.sleep(self.retry)
        finally:
            await self._close()

    async def _open(self) -> None:
        connect = self._connect or _psycopg_connect()
        self.conn = await connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT, **KEEPALIVES)
        cur = await self.conn.execute("SELECT pg_backend_pid()")
        self.backend_pid = int((await cur.fetchone())[0])
        log.debug("leases: connected (server process %d)", self.backend_pid)

    async def _take(self) -> None:
        wanted = [name for name in self.names if not self._held[name]]
        if not wanted:
            return
        cur = await asyncio.wait_for(
            self.conn.execute(
                "SELECT pg_try_advisory_lock(k) FROM unnest(%s::bigint[]) WITH ORDINALITY AS t(k, n) ORDER BY n",
                ([lock_key(name) for name in wanted],),
            ),
            self.check_timeout,
        )
        for name, (got,) in zip(wanted, await cur.fetchall(), strict=True):
            if got:
                log.info("leases: this replica now leads %s", name)
                await self._set(name, True)

    async def _watch(self) -> None:
        """Wait ``retry`` seconds on the connection's socket: a closed connection ends the wait with an error."""
        async for _ in self.conn.notifies(timeout=self.retry):
            pass  # nothing is listened for here; the wait is only there to see the socket close

    async def _check(self) -> None:
        await asyncio.wait_for(self.conn.execute("SELECT 1"), self.check_timeout)

    async def _lose(self, exc: BaseException) -> None:
        led = [name for name in self.names if self._held[name]]
        if led:
            self.losses += 1
            log.warning(
                "leases: connection to the database lost (%s); no longer leading %s; trying again every %.0fs",
                str(exc).strip() or type(exc).__name__,
                ", ".join(led),
                self.retry,
            )
        else:
            log.debug("leases: cannot reach the database (%s); trying again in %.0fs", exc, self.retry)
        for name in led:
            await self._set(name, False)
        await self._close()

    async def _close(self) -> None:
        conn, self.conn, self.backend_pid = self.conn, None, None
        if conn is not None:
            with contextlib.suppress(Exception):  # a connection already broken has nothing left to close cleanly
                await conn.close()

    async def aclose(self) -> None:
        """Give up every lease now (the session ends, the server frees the locks)."""
        await self._close()
        for name in self.names:
            await self._set(name, False)


def leadership_for(database_url: str | None, names: Iterable[str] = LEASES, **options: Any) -> Leadership:
    """Advisory locks on PostgreSQL when ``database_url`` is set, else the single SQLite process leads."""
    if database_url:
        return AdvisoryLeadership(database_url, names, **options)
    return SoloLeadership(names)
