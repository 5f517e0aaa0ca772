"""The store as the service's event loop uses it: every call runs on one database thread, in the order it was made.

``AsyncStore`` wraps the sync :class:`Store`. ``await db.method(...)`` runs ``Store.method`` on that thread, and
``await db.run(fn, ...)`` runs a module-level query function (from ``subscribers``, ``events``, ``health``) there as
``fn(store, ...)``. While the service runs, SQLite is used from that one thread only, so the loop never waits for a
lock, a busy timeout or a long transaction. A call always runs once it was made, even when its caller stops waiting
(a shutdown, a time-out), so no write that was asked for is skipped.

``as_async(store)`` is for code that may be handed either kind: a Store that a running AsyncStore wraps gives that
AsyncStore; any other Store gives an inline facade whose calls run at once on the caller's thread (``watcher once``,
tests), exactly as the sync store would.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import sqlite3
import threading
import weakref
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

from watcher.store.db import DATABASE_ERRORS
from watcher.store.health import StoredValidators
from watcher.store.sqlite import Store

log = logging.getLogger(__name__)

T = TypeVar("T")
P = ParamSpec("P")
StoreErrors = DATABASE_ERRORS  # what a store call raises when the database refuses it (locked, full, lost, damaged)
NOT_OFFERED = frozenset({"tx", "iter_items", "close"})  # bound to the caller's thread, or explicit
CLOSE_WAIT = 10.0  # seconds a shutdown waits for the database thread to finish its calls
_RUNNING: weakref.WeakValueDictionary[int, AsyncStore] = weakref.WeakValueDictionary()


class _DbThread:
    """One thread that runs the jobs it is given, one at a time, in order."""

    def __init__(self, name: str):
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> concurrent.futures.Future[T]:
        if self._closed:
            raise sqlite3.ProgrammingError("the store is closed")  # what a closed connection raises too
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._jobs.put((future, fn, args, kwargs))
        return future

    def stop(self) -> None:
        """Finish the jobs already given, then end the thread."""
        self._closed = True
        self._jobs.put(None)

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            future, fn, args, kwargs = job
            future.set_running_or_notify_cancel()  # never cancelled: waiters let go without cancelling, see _wait
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # handed to the caller, who decides
                future.set_exception(exc)


async def _wait(future: concurrent.futures.Future[T], what: str) -> T:
    """The result of a job, awaited on the loop; a cancelled caller lets go of it, and the job still runs."""
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[T] = loop.create_future()

    def settle(done: concurrent.futures.Future[T]) -> None:
        error = done.exception()
        if waiter.cancelled():
            if error is not None:
                log.warning("store: %s failed after its caller stopped waiting: %s", what, error)
            return
        if error is not None:
            waiter.set_exception(error)
        else:
            waiter.set_result(done.result())

    def hand_over(done: concurrent.futures.Future[T]) -> None:
        try:
            loop.call_soon_threadsafe(settle, done)
        except RuntimeError:  # the loop is closed: nobody waits for this any more
            log.debug("store: %s finished after the event loop closed", what)

    future.add_done_callback(hand_over)
    return await waiter


class AsyncStore:
    """The sync ``Store`` behind awaitable calls that run on one database thread (or inline, ``threaded=False``)."""

    def __init__(self, store: Store, *, threaded: bool = True):
        self.sync = store
        self._thread = _DbThread(f"store:{store.path}") if threaded else None
        if threaded:
            _RUNNING[id(store)] = self

    @property
    def threaded(self) -> bool:
        return self._thread is not None

    @property
    def clock(self) -> Callable[[], datetime]:
        """The store's clock; reading it touches no database."""
        return self.sync.clock

    def now(self) -> str:
        return self.sync.now()

    async def run(self, fn: Callable[Concatenate[Store, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(store, *args, **kwargs)`` on the database thread."""
        if self._thread is None:
            return fn(self.sync, *args, **kwargs)
        return await _wait(self._thread.submit(fn, self.sync, *args, **kwargs), getattr(fn, "__name__", "a call"))

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        """``fn(store, *args)`` on the database thread without waiting for it; a failure is logged."""
        what = getattr(fn, "__name__", "a call")
        if self._thread is None:
            try:
                fn(self.sync, *args)
            except Exception as exc:
                log.warning("store: %s failed: %s", what, exc)
            return

        def report(done: concurrent.futures.Future) -> None:
            if done.exception() is not None:
                log.warning("store: %s failed: %s", what, done.exception())

        self._thread.submit(fn, self.sync, *args).add_done_callback(report)

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method = getattr(Store, name, None)
        if name.startswith("_") or name in NOT_OFFERED or not callable(method):
            raise AttributeError(f"AsyncStore offers no {name!r}; use run() with a function of the store")

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await self.run(method, *args, **kwargs)

        call.__name__ = name
        return call

    async def close(self, timeout: float = CLOSE_WAIT) -> None:
        """Close the store on its thread once the calls already made are done, then end the thread. A shutdown
        waits at most ``timeout`` seconds for that: a transaction still running then is rolled back, never left
        half done, when the process ends."""
        if self._thread is None:
            self.sync.close()
            return
        closing = self._thread.submit(Store.close, self.sync)
        self._thread.stop()
        if _RUNNING.get(id(self.sync)) is self:
            del _RUNNING[id(self.sync)]
        try:
            await asyncio.wait_for(_wait(closing, "close"), timeout)
        except TimeoutError:
            log.warning("store: still busy %.0fs into the shutdown; not waiting longer", timeout)


def as_async(store: Store | AsyncStore) -> AsyncStore:
    """The AsyncStore to use for ``store``: itself, the running one that wraps it, or an inline facade."""
    if isinstance(store, AsyncStore):
        return store
    running = _RUNNING.get(id(store))
    if running is not None and running.sync is store:
        return running
    return AsyncStore(store, threaded=False)


def _all_validators(store: Store) -> dict[str, tuple[str | None, str | None]]:
    rows = store.db.execute("SELECT url, etag, last_modified FROM http_validators")
    return {r[0]: (r[1], r[2]) for r in rows}


class LoopValidators:
    """ETag and Last-Modified for the HTTP client on the loop: read from memory, loaded once from the store; a
    change is kept in memory and written to the store on the database thread."""

    def __init__(self, db: AsyncStore, known: dict[str, tuple[str | None, str | None]]):
        self.db = db
        self.known = known

    @classmethod
    async def load(cls, db: AsyncStore) -> LoopValidators:
        return cls(db, await db.run(_all_validators))

    def get_validators(self, url: str) -> tuple[str | None, str | None]:
        return self.known.get(url, (None, None))

    def put_validators(self, url: str, etag: str | None, last_modified: str | None) -> None:
        if etag or last_modified:
            self.known[url] = (etag, last_modified)
        else:
            self.known.pop(url, None)
        self.db.call_soon(_put_validators, url, etag, last_modified)


def _put_validators(store: Store, url: str, etag: str | None, last_modified: str | None) -> None:
    StoredValidators(store).put_validators(url, etag, last_modified)
