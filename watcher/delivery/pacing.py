"""Pacing of outgoing messages, on our side, so Telegram's flood limits are never reached.

* overall: at most ``rate`` messages a second, spaced evenly (Telegram allows about 30);
* one chat: at most one message a second, counted from the end of the previous send to it, and never two at once;
* one group or channel: at most ``group_per_minute`` messages in any minute (Telegram allows 20);
* flood control (429 with retry_after): the whole queue waits exactly that long.

These limits belong to the bot token, not to the process. :class:`Pacer` keeps them in memory, which is exact for
the one process on a SQLite data directory. Replicas on PostgreSQL use :class:`SharedPacer`, which also reserves
each start in the database (``watcher.store.pace``): the overall slot, the chat's slot (1 s apart; a group's
3 s apart, so no minute holds more than 20) and any flood pause are then the same for every replica.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol

log = logging.getLogger(__name__)

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

    async def acquire(self, key: str | None = None, group: bool = False, paced: bool = True) -> None:
        """Wait for the next overall slot (and for the end of any pause). The recipient (``key``, whether it is a
        ``group``, whether it is ``paced``) matters only to a shared pacer: this one keeps chats by begin/end."""
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


class SendBook(Protocol):
    """The shared reservations a :class:`SharedPacer` needs (``watcher.store.pace.PaceBook`` on PostgreSQL)."""

    async def reserve_send(
        self, bot: str, rate_interval: float, chat: str | None = None, chat_interval: float = 0.0
    ) -> SlotLike: ...

    async def pause(self, bot: str, seconds: float) -> None: ...


class SlotLike(Protocol):
    @property
    def wait(self) -> float: ...


class SharedPacer(Pacer):
    """The pacer of one replica among several: every start is also reserved in ``book`` under ``bot`` (a hash of
    the token, never the token), so the replicas together keep the limits one process keeps alone.

    A reservation that fails (the database is away) costs a wait of ``per_chat`` seconds instead: a pace far below
    Telegram's limits whatever the number of replicas, until the database answers again."""

    def __init__(self, book: SendBook, bot: str, **options):
        super().__init__(**options)
        self.book = book
        self.bot = bot
        self.shared_failures = 0
        self._pauses: set[asyncio.Task] = set()

    async def acquire(self, key: str | None = None, group: bool = False, paced: bool = True) -> None:
        await super().acquire()
        chat = key if key is not None and paced else None
        spacing = max(self.per_chat, 60.0 / self.group_per_minute) if group else self.per_chat
        try:
            slot = await self.book.reserve_send(self.bot, self.interval, chat, spacing)
            wait = slot.wait
        except Exception as exc:  # the database cannot answer: go slowly rather than past the shared limits
            self.shared_failures += 1
            log.warning("delivery: the shared send pace cannot be reserved (%s); waiting %.0fs", exc, self.per_chat)
            wait = self.per_chat
        if wait > 0:
            await self.sleep(wait)

    def pause(self, seconds: float) -> None:
        super().pause(seconds)
        task = asyncio.get_running_loop().create_task(self._share_pause(seconds), name="shared flood pause")
        self._pauses.add(task)
        task.add_done_callback(self._pauses.discard)

    async def _share_pause(self, seconds: float) -> None:
        try:
            await self.book.pause(self.bot, seconds)
        except Exception as exc:  # this replica still pauses; the others learn of the flood from Telegram
            log.warning("delivery: the flood pause could not be shared with the other replicas (%s)", exc)
