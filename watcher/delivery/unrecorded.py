"""Sends that were accepted but could not be recorded: the store refused the write (disk full, database locked past
the busy timeout). Such a send is remembered here, in memory, so that it is never sent again, and its write is
retried until the store takes it. Only a crash while a write is pending can repeat those messages.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Hashable, Iterable

from watcher.store.db import DATABASE_ERRORS

log = logging.getLogger(__name__)

StoreErrors = DATABASE_ERRORS  # SQLite's and PostgreSQL's: locked, full, connection lost


class Unrecorded:
    """Keys of accepted sends whose record is still to be written, each with the write that records it."""

    def __init__(self, what: str):
        self.what = what
        self._writes: list[tuple[frozenset[Hashable], Callable[[], object]]] = []
        self._keys: set[Hashable] = set()

    def __contains__(self, key: Hashable) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def record(self, keys: Iterable[Hashable], write: Callable[[], object]) -> bool:
        """Run ``write`` now; if the store refuses it, keep it (and its keys) to retry. True when it was written."""
        keys = frozenset(keys)
        try:
            write()
        except StoreErrors as exc:
            return self._refused(keys, write, exc)
        return True

    async def record_async(self, keys: Iterable[Hashable], write: Callable[[], Awaitable[object]]) -> bool:
        """``record`` for a write that is awaited (a call on the database thread)."""
        keys = frozenset(keys)
        try:
            await write()
        except StoreErrors as exc:
            return self._refused(keys, write, exc)
        return True

    def _refused(self, keys: frozenset[Hashable], write: Callable[[], object], exc: Exception) -> bool:
        self._writes.append((keys, write))
        self._keys |= keys
        log.warning(
            "%s: sent, but the store refused to record it (%s); it will not be sent again and the record "
            "is retried (%d waiting)",
            self.what,
            exc,
            len(self._keys),
        )
        return False

    async def flush(self) -> int:
        """Retry the waiting writes in order, stopping at the first the store still refuses; returns how many wait."""
        while self._writes:
            keys, write = self._writes[0]
            try:
                done = write()
                if inspect.isawaitable(done):
                    await done
            except StoreErrors:
                break
            self._writes.pop(0)
            self._keys -= keys
            log.info("%s: record written after all (%d still waiting)", self.what, len(self._keys))
        return len(self._keys)
