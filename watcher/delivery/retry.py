"""The retry schedule shared by the outbox loops (alerts, digests and operator messages): how many tries a message
gets and how long it waits between them."""

from __future__ import annotations

from watcher.durations import doubling

MAX_ATTEMPTS = 12
MAX_BACKOFF = 3600.0


def backoff(attempts: int, floor: float = 0.0) -> float:
    """Seconds before retry number ``attempts + 1``: 2, 4, 8, ... capped at an hour, and never below ``floor`` (a
    Retry-After, say)."""
    return max(floor, doubling(attempts + 1, 1.0, MAX_BACKOFF))
