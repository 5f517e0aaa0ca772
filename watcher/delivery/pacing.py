"""Pacing of outgoing messages, on our side, so Telegram's flood limits are never reached.

* overall: at most ``rate`` messages a second, spaced evenly (Telegram allows about 30);
* one chat: at most one message a second, counted from the end of the previous send to it, and never two at once;
* one group or channel: at most ``group_per_minute`` messages in any minute (Telegram allows 20);
* flood control (429 with retry_after): the whole queue waits exactly that long.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

MAX_RATE = 29.0
PRUNE_EVERY = 1000


class Pacer:
    def __init__(
        self,
        rate: float = 25.0,
        per_chat_interval: float = 1.0,
        group_per_minute: int = 20,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        if not 0 < rate <= MAX_RATE:
            raise ValueError(f"send rate must be above 0 and at most {MAX_RATE:g} a second, got {rate}")
        self.rate = rate
        self.interval = 1.0 / rate
        self.per_chat = per_chat_interval
        self.group_per_minute = group_per_minute
        self.monotonic = monotonic
        self.sleep = sleep
        self._next_slot = 0.0
        self._paused_until = 0.0
        self._free_at: dict[str, float] = {}
        self._busy: set[str] = set()
        self._group_sends: dict[str, deque[float]] = {}
        self._ended = 0
        self.floods = 0
        self.pauses: deque[float] = deque(maxlen=100)  # the latest flood pauses, for logs and tests

    def chat_wait(self, address: str, group: bool = False, paced: bool = True) -> float:
        """Seconds before this chat may get another message (a chat with a send in flight waits a full second).
        Recipients that are not ``paced`` (webhooks, email, console) only never get two sends at once."""
        if address in self._busy:
            return self.per_chat
        if not paced:
            return 0.0
        now = self.monotonic()
        wait = self._free_at.get(address, 0.0) - now
        stamps = self._group_sends.get(address) if group else None
        if stamps:
            while stamps and stamps[0] <= now - 60.0:
                stamps.popleft()
            if len(stamps) >= self.group_per_minute:
                wait = max(wait, stamps[0] + 60.0 - now)
        return max(0.0, wait)

    def paused_for(self) -> float:
        return max(0.0, self._paused_until - self.monotonic())

    def pause(self, seconds: float) -> None:
        """Flood control: nothing is sent for ``seconds`` from now."""
        self._paused_until = max(self._paused_until, self.monotonic() + seconds)
        self.floods += 1
        self.pauses.append(seconds)

    async def acquire(self) -> None:
        """Wait for the next overall slot (and for the end of any pause)."""
        while True:
            now = self.monotonic()
            wait = max(self._paused_until, self._next_slot) - now
            if wait <= 0:
                break
            await self.sleep(wait)
        # Keep the schedule exact when a wake-up is a little late; after an idle time start a fresh one (no burst).
        late = now - self._next_slot > self.interval / 2
        self._next_slot = (now if late else self._next_slot) + self.interval

    def begin(self, address: str) -> None:
        self._busy.add(address)

    def end(self, address: str, group: bool = False, sent: bool = True, paced: bool = True) -> None:
        """A send to this chat finished; the next one waits ``per_chat`` seconds from now."""
        now = self.monotonic()
        self._busy.discard(address)
        if not paced:
            return
        self._free_at[address] = now + self.per_chat
        if group and sent:
            self._group_sends.setdefault(address, deque()).append(now)
        self._ended += 1
        if self._ended % PRUNE_EVERY == 0:
            self._prune(now)

    def _prune(self, now: float) -> None:
        """Forget chats whose waits are over, so memory stays flat however many chats there are."""
        self._free_at = {a: t for a, t in self._free_at.items() if t > now}
        self._group_sends = {a: s for a, s in self._group_sends.items() if s and s[-1] > now - 60.0}

    def tracked_chats(self) -> int:
        return len(self._free_at) + len(self._group_sends)
