"""Time, passed in: wall-clock ``now()``, a ``monotonic()`` counter and an awaitable ``sleep()``; and the one way
times are written to and read from the store (UTC ISO 8601).

The HTTP client and the health rules take a clock so tests can run backoff, Retry-After and hours of schedule in
simulated time without really waiting.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...
    def monotonic(self) -> float: ...
    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


SYSTEM_CLOCK = SystemClock()


def iso(dt: datetime | None) -> str | None:
    return dt.astimezone(UTC).isoformat(timespec="seconds") if dt else None


def from_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
