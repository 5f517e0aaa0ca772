"""Telegram's flood limits for the fake Bot API: messages per second overall and per chat, per minute per group."""

from __future__ import annotations

import math
from collections import defaultdict, deque
from typing import Any


class RateLimits:
    """Telegram's flood limits as sliding windows over accepted messages."""

    def __init__(self, global_per_sec: int | None, per_chat_per_sec: int | None, per_group_per_min: int | None):
        self._limits = (global_per_sec, per_chat_per_sec, per_group_per_min)
        self._global: deque[float] = deque()
        self._chats: defaultdict[Any, deque[float]] = defaultdict(deque)
        self._groups: defaultdict[Any, deque[float]] = defaultdict(deque)

    def _windows(self, chat_id: Any) -> list[tuple[deque[float], int | None, float]]:
        windows = [(self._global, self._limits[0], 1.0), (self._chats[chat_id], self._limits[1], 1.0)]
        if not isinstance(chat_id, int) or chat_id < 0:
            windows.append((self._groups[chat_id], self._limits[2], 60.0))
        return windows

    def retry_after(self, chat_id: Any, now: float) -> int | None:
        """Seconds to wait if one more message now breaks a limit, else None."""
        wait = 0.0
        for stamps, limit, span in self._windows(chat_id):
            while stamps and stamps[0] <= now - span:
                stamps.popleft()
            if limit and len(stamps) >= limit:
                wait = max(wait, stamps[0] + span - now)
        return max(1, math.ceil(wait)) if wait > 0 else None

    def record(self, chat_id: Any, now: float) -> None:
        """Count one accepted message."""
        for stamps, _limit, _span in self._windows(chat_id):
            stamps.append(now)
