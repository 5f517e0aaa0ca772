"""The outbox worker: sends due alerts through their channel's notifier and marks each one done only after the
notifier accepted it. What is not delivered stays in the outbox and is sent after a restart."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Mapping

from watcher.errors import BadMarkup, NotifyError, RecipientGone, RecipientMoved, RetryLater
from watcher.models import Alert

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
MAX_BACKOFF = 3600.0


class Pacer:
    """At most ``rate`` sends a second overall and one a second to any one chat."""

    def __init__(self, rate: float = 25.0, per_chat_interval: float = 1.0, monotonic=time.monotonic):
        self.interval = 1.0 / rate
        self.per_chat = per_chat_interval
        self.monotonic = monotonic
        self._next_global = 0.0
        self._last_by_chat: dict[str, float] = {}

    def chat_ready(self, address: str) -> bool:
        last = self._last_by_chat.get(address)
        return last is None or self.monotonic() - last >= self.per_chat

    async def wait_turn(self) -> None:
        delay = self._next_global - self.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        self._next_global = max(self.monotonic(), self._next_global) + self.interval

    def sent(self, address: str) -> None:
        now = self.monotonic()
        self._last_by_chat[address] = now
        if len(self._last_by_chat) > 10000:
            self._last_by_chat = {k: v for k, v in self._last_by_chat.items() if now - v < self.per_chat}


class DeliveryWorker:
    def __init__(self, store, notifiers: Mapping[str, object], pacer: Pacer | None = None, idle_wait: float = 2.0,
                 metrics=None):
        self.store = store
        self.metrics = metrics
        self.notifiers = dict(notifiers)
        self.pacer = pacer or Pacer()
        self.idle_wait = idle_wait
        self._wake = asyncio.Event()
        self._stopping = False
        self.sent = 0

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        log.info("delivery: worker started for channels %s", ", ".join(self.notifiers) or "(none)")
        while not self._stopping:
            worked = await self.drain_once()
            if not worked:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.idle_wait)
                except asyncio.TimeoutError:
                    pass

    async def drain_once(self, limit: int = 200) -> int:
        """Send what is due now. Returns how many alerts were handled."""
        alerts = self.store.due_alerts(list(self.notifiers), limit=limit)
        handled = 0
        for alert in alerts:
            if self._stopping:
                break
            if not self.pacer.chat_ready(alert.address):
                continue  # this chat had a message under a second ago; the others go on
            await self.pacer.wait_turn()
            await self.deliver(alert)
            handled += 1
        if alerts and not handled and not self._stopping:
            await asyncio.sleep(0.2)  # only recently-served chats are due
            return 1
        return handled

    def _count(self, channel: str, kind: str) -> None:
        if self.metrics is not None:
            self.metrics.deliveries.labels(channel, kind).inc()

    async def deliver(self, alert: Alert) -> str:
        """Send one alert and act on the answer; returns the kind of answer."""
        kind = await self._deliver(alert)
        self._count(alert.channel, kind)
        return kind

    async def _deliver(self, alert: Alert) -> str:
        notifier = self.notifiers[alert.channel]
        where = f"{alert.channel} {alert.address}"
        try:
            try:
                await notifier.send(alert)
            except BadMarkup as exc:
                log.warning("delivery: %s refused the formatting (%s); resending as plain text", where, exc)
                self._count(alert.channel, "bad_markup")
                await notifier.send(alert, plain=True)
        except RetryLater as exc:
            self._retry(alert, exc)
            if exc.flood:
                log.warning("delivery: flood control, the whole queue waits %.1fs", exc.delay)
                await asyncio.sleep(exc.delay)
                return "flood"
            return "retry"
        except RecipientMoved as exc:
            log.warning("delivery: %s moved to %s; address updated", where, exc.new_address)
            self.store.move_address(alert.channel, alert.address, exc.new_address)
            return "moved"  # the row stays due and goes to the new address on the next pass
        except RecipientGone as exc:
            log.warning("delivery: %s is gone (%s); subscriber deactivated", where, exc)
            self.store.deactivate(alert.channel, alert.address)
            return "gone"
        except NotifyError as exc:
            log.error("delivery: %s refused alert %d for good: %s", where, alert.id, exc)
            self.store.mark_dropped(alert.id, str(exc))
            return "refused"
        self.store.mark_delivered(alert.id)
        self.pacer.sent(alert.address)
        self.sent += 1
        log.info("delivery: alert %d sent to %s (%s %s)", alert.id, where, alert.source, alert.item_id)
        return "ok"

    def _retry(self, alert: Alert, exc: RetryLater) -> None:
        if alert.attempts + 1 >= MAX_ATTEMPTS:
            log.error("delivery: alert %d to %s %s dropped after %d attempts: %s", alert.id, alert.channel,
                      alert.address, alert.attempts + 1, exc)
            self.store.mark_dropped(alert.id, str(exc))
            return
        delay = exc.delay if exc.flood else max(exc.delay, min(MAX_BACKOFF, 2.0 ** alert.attempts))
        log.warning("delivery: alert %d to %s %s will be retried in %.0fs: %s", alert.id, alert.channel,
                    alert.address, delay, exc)
        self.store.mark_retry(alert.id, delay, str(exc))
