"""The sleep of a background worker between passes: ended early by ``wake()`` or ``stop()``."""

from __future__ import annotations

import asyncio
import contextlib


class Wakeup:
    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.stopping = False

    def wake(self) -> None:
        self._event.set()

    def stop(self) -> None:
        self.stopping = True
        self._event.set()

    async def sleep(self, timeout: float) -> None:
        """Sleep up to ``timeout`` seconds, or until woken. Reaching the timeout is the normal end of an idle wait."""
        self._event.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout=timeout)
