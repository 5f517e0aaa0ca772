"""The one controlled clock of the tests: ``sleep`` returns at once and moves simulated time forward; nothing
really waits. It is a ``watcher.clock.Clock``, so the HTTP client, the health rules and the store all take it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

START = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


class FakeClock:
    """Wall clock, monotonic counter and sleep that all move together, only when told to (or slept on)."""

    def __init__(self, start: datetime = START):
        self.start = start
        self.elapsed = 0.0
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed)

    def monotonic(self) -> float:
        return 1000.0 + self.elapsed

    def advance(self, seconds: float = 0.0, **delta: float) -> None:
        """Move time forward by ``seconds`` plus any ``timedelta`` keywords (``minutes=5``, ``hours=1``)."""
        self.elapsed += seconds + timedelta(**delta).total_seconds()

    def set(self, when: datetime) -> None:
        """Move the wall clock (and the counter with it) to ``when``."""
        self.elapsed = (when - self.start).total_seconds()

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)
