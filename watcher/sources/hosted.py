"""Running a source's own code off the caller's event loop.

A source's ``poll`` fetches and then parses, and parsing a large feed or page is CPU work that would hold up every
other task on the loop. ``in_worker_thread`` runs the coroutine in a new thread on an event loop of its own. The
source is handed a ``LoopHttp``, whose requests run on the caller's loop through the one shared client (its pacing,
retries and caps), and a ``ThreadState``, whose store questions are asked on the caller's loop too. So the source's
code runs unchanged, and only its CPU work moves.

One thing a thread cannot move away: the cyclic garbage collector. Its full collection walks every object and stops
every thread while it does, and the heap a big parse builds (a 100,000-item feed is millions of objects) makes that
a pause of a second. So while a poll runs, full collections wait (``FullCollections``, used by the pipeline); the
young ones go on, and the full one runs as usual once the poll is done and that heap is gone again.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
ASK_TIMEOUT = 300.0  # a store question from a worker thread gives up after this long (the loop is gone)
MAX_DEFER = 120.0  # after this long, polls that start no longer hold full collections off
NEVER = 1 << 30  # a full-collection threshold that is never reached


class FullCollections:
    """Holds off the collector's full collections while any poll runs. Once they have waited MAX_DEFER seconds,
    polls that start later no longer hold them off, until no poll runs, so overlapping polls never put them off
    for good."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._saved: tuple[int, int, int] | None = None
        self._since = 0.0
        self._spent = False  # deferred for MAX_DEFER already: not again until no source code runs

    @contextmanager
    def deferred(self) -> Iterator[None]:
        with self._lock:
            self._running += 1
            if self._saved is None and not self._spent:
                self._saved, self._since = gc.get_threshold(), time.monotonic()
                gc.set_threshold(self._saved[0], self._saved[1], NEVER)
            elif self._saved is not None and time.monotonic() - self._since > MAX_DEFER:
                self._restore()
                self._spent = True
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
                if self._running == 0:
                    self._restore()
                    self._spent = False

    def _restore(self) -> None:
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None


FULL_COLLECTIONS = FullCollections()  # the collector is one per process, and so is this


async def in_thread(fn: Callable[..., T], *args: Any, name: str) -> T:
    """``fn(*args)`` in a new daemon thread, awaited without blocking the loop. A process that stops does not wait
    for it, as it would for a thread of the loop's default executor."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()

    def settle(ok: bool, value: Any) -> None:
        if done.cancelled():
            return
        if ok:
            done.set_result(value)
        else:
            done.set_exception(value)

    def main() -> None:
        try:
            outcome: tuple[bool, Any] = (True, fn(*args))
        except BaseException as exc:  # handed to the waiter, who decides
            outcome = (False, exc)
        try:
            loop.call_soon_threadsafe(settle, *outcome)
        except RuntimeError:  # the caller's loop is closed: nobody waits any more
            log.debug("%s finished after its caller's loop closed", name)

    threading.Thread(target=main, name=name, daemon=True).start()
    return await done


async def in_worker_thread(factory: Callable[[], Awaitable[T]], name: str) -> T:
    """Await ``factory()`` run on an event loop of its own in a new thread; cancelling the wait cancels it."""
    inner: dict[str, Any] = {}
    cancelled = threading.Event()

    async def body() -> T:
        inner["loop"], inner["task"] = asyncio.get_running_loop(), asyncio.current_task()
        if cancelled.is_set():
            raise asyncio.CancelledError()
        return await factory()

    try:
        return await in_thread(asyncio.run, body(), name=name)
    except asyncio.CancelledError:
        _cancel_inner(inner, cancelled)
        raise


def _cancel_inner(inner: dict[str, Any], cancelled: threading.Event) -> None:
    """Cancel the worker thread's task, or stop it before it starts."""
    cancelled.set()
    if "task" in inner:
        try:
            inner["loop"].call_soon_threadsafe(inner["task"].cancel)
        except RuntimeError:  # that loop has just finished
            pass


class LoopHttp:
    """The shared HTTP client as seen from a worker thread: each request runs on the client's own loop."""

    def __init__(self, http, loop: asyncio.AbstractEventLoop):
        self._http = http
        self._loop = loop

    async def get(self, url: str, **options: Any):
        job = asyncio.run_coroutine_threadsafe(self._http.get(url, **options), self._loop)
        return await asyncio.wrap_future(job)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._http, name)


class ThreadState:
    """A source's view of its own past (``SourceState``) for a poll that runs in a worker thread.

    The cursor was read before the poll; ``known_ids`` is asked of the store on the caller's loop, which hands it
    to the database thread. A cursor the source sets is held in ``pending`` and saved with the poll's items."""

    def __init__(self, db, source: str, cursor: dict, loop: asyncio.AbstractEventLoop):
        self.db, self.source, self.loop = db, source, loop
        self.cursor = cursor
        self.pending: dict | None = None

    def known_ids(self, ids: list[str]) -> set[str]:
        job = asyncio.run_coroutine_threadsafe(self.db.known_ids(self.source, list(ids)), self.loop)
        return job.result(timeout=ASK_TIMEOUT)

    def get_cursor(self) -> dict:
        return json.loads(json.dumps(self.pending if self.pending is not None else self.cursor))

    def set_cursor(self, cursor: dict) -> None:
        self.pending = json.loads(json.dumps(cursor))

    def now(self) -> datetime:
        """The store's clock (a fake one in tests)."""
        return self.db.clock()
