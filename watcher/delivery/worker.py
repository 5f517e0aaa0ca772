"""The outbox worker: sends due alerts through their channel's notifier and marks each one done only after the
notifier accepted it. What is not delivered stays in the outbox and is sent after a restart; the only messages that
can repeat after a crash are the few in flight at that moment (at most ``concurrency``).

The worker sends only rows it has claimed (:mod:`watcher.store.leases`), so a ``watcher once`` beside the service, or
another process on the same database, never sends the same alert: each pass claims the due rows, renews a row's claim
just before its send, and gives back the ones it did not start.

A chat that must wait for its per-chat limit is skipped while the others go on; with ``concurrency`` above 1, sends
to different chats also run concurrently (a slow send then holds up only its own slot) under one overall pace; see
:mod:`watcher.delivery.pacing`. Digest subscribers are served by :mod:`watcher.delivery.digest` from the same loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from watcher.delivery.backpressure import OverflowFolder
from watcher.delivery.digest import DigestSender
from watcher.delivery.pacing import Pacer
from watcher.delivery.retry import MAX_ATTEMPTS, backoff
from watcher.delivery.unrecorded import StoreErrors, Unrecorded
from watcher.delivery.wakeup import Wakeup
from watcher.errors import BadMarkup, NotifyError, RecipientGone, RecipientMoved, RetryLater
from watcher.models import Alert
from watcher.notifiers import Notifier
from watcher.store import leases, subscribers
from watcher.store.aio import as_async

__all__ = ["DeliveryWorker", "Pacer"]

log = logging.getLogger(__name__)

BATCH = 200
DIGEST_CHECK_EVERY = 20.0


class DeliveryWorker:
    def __init__(
        self,
        store,
        notifiers: Mapping[str, Notifier],
        pacer: Pacer | None = None,
        idle_wait: float = 2.0,
        metrics=None,
        concurrency: int = 1,
        chat_cap: int = 0,
    ):
        self.store = store
        self.db = as_async(store)  # calls run on the database thread while the service runs
        self.metrics = metrics
        self.notifiers = dict(notifiers)
        self.pacer = pacer or Pacer()
        self.idle_wait = idle_wait
        self.concurrency = concurrency
        self.digests = DigestSender(store, self.notifiers, self.pacer, self._count)
        self._slots = asyncio.Semaphore(concurrency)
        self._inflight: dict[int, asyncio.Task] = {}
        self._cursor = 0
        self._wakeup = Wakeup()
        self.unrecorded = Unrecorded("delivery")
        self.digests.unrecorded = self.unrecorded
        self.overflow = OverflowFolder(
            store, self.notifiers, self.pacer, self._count, cap=chat_cap, inflight=self._inflight
        )  # chats over ``chat_cap`` get the rest folded
        self.overflow.unrecorded = self.unrecorded
        self.sent = 0
        self.down: dict[str, str] = {}  # channel -> the failure that started its outage, until a send succeeds

    def wake(self) -> None:
        self._wakeup.wake()

    def stop(self) -> None:
        self._wakeup.stop()

    async def run(self) -> None:
        log.info(
            "delivery: worker started for channels %s (%.0f messages/s overall, %d at once)",
            ", ".join(self.notifiers) or "(none)",
            self.pacer.rate,
            self.concurrency,
        )
        loop = asyncio.get_running_loop()
        next_digest_check = 0.0
        try:
            while not self._wakeup.stopping:
                try:
                    if loop.time() >= next_digest_check:
                        await self.free_gone_leases()
                    started, waiting = await self.drain_once()
                    if loop.time() >= next_digest_check:
                        next_digest_check = loop.time() + DIGEST_CHECK_EVERY
                        await self.digests.run_due()
                        await self.overflow.run_due()
                except StoreErrors as exc:  # e.g. locked by a backup, or the disk is full: try again soon
                    log.warning("delivery: database unavailable (%s); trying again in %.0fs", exc, self.idle_wait)
                    started, waiting = 0, 0
                if not started:
                    await self._idle(0.2 if waiting else self.idle_wait)
        finally:
            await self.settle()
            await self.release_leases()

    async def free_gone_leases(self) -> None:
        """End the leases of processes of this host that have ended (a ``kill -9``), so their alerts go out now."""
        freed = await self.db.run(leases.free_gone)
        if freed:
            log.info("delivery: %d alerts claimed by an ended process are free again", freed)

    async def release_leases(self) -> None:
        """Give up the outbox leases this process still holds (its sends are over), so a restart or another process
        sends those alerts at once instead of after the leases expire."""
        try:
            await self.db.run(leases.release_all, "outbox")
        except StoreErrors as exc:
            log.warning("delivery: could not give up the outbox leases (%s); they expire by themselves", exc)

    async def _idle(self, timeout: float) -> None:
        await self._wakeup.sleep(timeout)

    async def settle(self, timeout: float = 30.0) -> None:
        """Wait for the sends in flight to finish, so their answers are recorded."""
        tasks = list(self._inflight.values())
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)
        if await self.unrecorded.flush():
            log.error(
                "delivery: %d sent alerts could not be recorded as sent (the database refuses writes); they "
                "will be sent again if the service stops now",
                len(self.unrecorded),
            )

    async def drain_once(self, limit: int = BATCH) -> tuple[int, int]:
        """Start sends for the alerts due now, in outbox order, round-robin over the queue. Returns how many sends
        were started and how many due alerts wait for their chat's turn."""
        await self.unrecorded.flush()
        alerts = await self.db.run(subscribers.due_instant, list(self.notifiers), limit, after_id=self._cursor)
        self._cursor = alerts[-1].id if len(alerts) == limit else 0
        started = waiting = 0
        unstarted: list[int] = []  # claimed here and not sent now: released, so another process may send them
        for n, alert in enumerate(alerts):
            if self._wakeup.stopping:
                unstarted.extend(a.id for a in alerts[n:] if a.id not in self._inflight and a.id not in self.unrecorded)
                break
            if alert.id in self._inflight or alert.id in self.unrecorded:
                continue  # this process's own: being sent, or sent and waiting to be recorded
            key, group, paced = self._pacing(alert)
            if self.pacer.chat_wait(key, group, paced) > 0:
                waiting += 1
                unstarted.append(alert.id)
                continue
            floods = self.pacer.floods
            await self._slots.acquire()
            await self.pacer.acquire(key, group, paced)
            if self.pacer.floods != floods:  # flood control struck meanwhile: start again at the head of the queue
                self._slots.release()
                self._cursor = 0
                unstarted.extend(a.id for a in alerts[n:] if a.id not in self._inflight and a.id not in self.unrecorded)
                break
            self.pacer.begin(key)
            self._inflight[alert.id] = asyncio.create_task(self._send(alert), name=f"send {alert.id}")
            started += 1
        if unstarted:
            await self.db.run(leases.release, "outbox", unstarted)
        return started, waiting

    async def drain(self) -> None:
        """Send everything that is due now and wait for the answers (``watcher once``, tests)."""
        await self.free_gone_leases()
        await self.overflow.run_due()
        try:
            while True:
                started, waiting = await self.drain_once()
                if not started and not waiting and not self._inflight:
                    return
                if not started:
                    await asyncio.sleep(min(0.2, max(self.pacer.paused_for(), 0.05)))
                await self.settle()
        finally:
            await self.release_leases()

    def _pacing(self, alert: Alert) -> tuple[str, bool, bool]:
        """The pacer's key for this recipient, whether it is a group, and whether per-chat limits apply."""
        notifier = self.notifiers[alert.channel]
        return f"{alert.channel}:{alert.address}", notifier.is_group(alert.address), notifier.chat_paced

    async def _send(self, alert: Alert) -> None:
        kind = "error"
        key, group, paced = self._pacing(alert)
        try:
            kind = await self.deliver(alert)
        except Exception:  # a store error before or after the send: the row stays as it was and is seen again
            log.exception(
                "delivery: alert %d to %s %s could not be handled; it stays in the outbox",
                alert.id,
                alert.channel,
                alert.address,
            )
        finally:
            self.pacer.end(key, group, sent=kind in ("ok", "plain"), paced=paced)
            self._inflight.pop(alert.id, None)
            self._slots.release()

    def _count(self, channel: str, kind: str) -> None:
        if self.metrics is not None:
            self.metrics.deliveries.labels(channel, kind).inc()

    async def deliver(self, alert: Alert) -> str:
        """Send one alert and act on the answer; returns the kind of answer."""
        if alert.id in self.unrecorded or not await self.db.run(subscribers.hold_for_send, alert.id):
            return "stale"  # sent, delivered or dropped meanwhile, or another process holds it now
        notifier = self.notifiers[alert.channel]
        try:
            try:
                await notifier.send(alert)
                kind = "ok"
            except BadMarkup as exc:
                log.warning(
                    "delivery: %s %s refused the formatting (%s); resending as plain text",
                    alert.channel,
                    alert.address,
                    exc,
                )
                self._count(alert.channel, "bad_markup")
                await notifier.send(alert, plain=True)
                kind = "plain"
        except Exception as exc:  # every failure is turned into a decision on this alert, see outcome()
            kind = await self.outcome(alert, exc)
        else:
            await self.unrecorded.record_async([alert.id], lambda: self._mark_delivered(alert))
            self.sent += 1
            if self.down.pop(alert.channel, None) is not None:
                log.info("delivery: %s accepts alerts again; the ones waiting are being sent", alert.channel)
            log.info(
                "delivery: alert %d sent to %s %s (%s %s)",
                alert.id,
                alert.channel,
                alert.address,
                alert.source,
                alert.item_id,
            )
        self._count(alert.channel, kind)
        return kind

    async def _mark_delivered(self, alert: Alert) -> None:
        if not await self.db.mark_delivered(alert.id):
            log.warning(
                "delivery: alert %d to %s %s was sent, but another process had taken it over (this one's lease "
                "expired during the send); it may arrive twice",
                alert.id,
                alert.channel,
                alert.address,
            )

    async def outcome(self, alert: Alert, exc: Exception) -> str:
        """Decide what a failed send means for the alert, the subscriber and the queue; returns its kind."""
        where = f"{alert.channel} {alert.address}"
        if isinstance(exc, RetryLater) and exc.flood:
            log.warning("delivery: flood control on %s; the whole queue waits %.1fs", where, exc.delay)
            self.pacer.pause(exc.delay)
            await self.db.run(subscribers.postpone, alert.id, 0.0, str(exc))  # first in line once the pause is over
            return "flood"
        if isinstance(exc, RetryLater):
            if alert.channel not in self.down:
                self.down[alert.channel] = str(exc)
                log.warning(
                    "delivery: %s not accepting alerts (%s); they wait in the outbox and are retried",
                    alert.channel,
                    exc,
                )
            await self._retry(alert, str(exc), exc.delay, quiet=True)
            return "retry"
        if isinstance(exc, RecipientMoved):
            log.warning("delivery: %s moved to %s; address updated", where, exc.new_address)
            await self.db.run(subscribers.migrate_address, alert.channel, alert.address, exc.new_address)
            return "moved"  # the row stays due and goes to the new address on the next pass
        if isinstance(exc, RecipientGone):
            log.warning("delivery: %s is gone (%s); subscriber deactivated", where, exc)
            await self.db.deactivate(alert.channel, alert.address)
            return "gone"
        if isinstance(exc, NotifyError):
            log.error("delivery: %s refused alert %d for good: %s", where, alert.id, exc)
            await self.db.mark_dropped(alert.id, str(exc))
            return "refused"
        log.exception("delivery: sending alert %d to %s failed unexpectedly", alert.id, where, exc_info=exc)
        await self._retry(alert, f"{type(exc).__name__}: {exc}", 0.0)
        return "error"

    async def _retry(self, alert: Alert, error: str, floor: float, quiet: bool = False) -> None:
        if alert.attempts + 1 >= MAX_ATTEMPTS:
            log.error(
                "delivery: alert %d to %s %s dropped after %d attempts: %s",
                alert.id,
                alert.channel,
                alert.address,
                alert.attempts + 1,
                error,
            )
            await self.db.mark_dropped(alert.id, error)
            return
        delay = backoff(alert.attempts, floor)
        log.log(
            logging.DEBUG if quiet else logging.WARNING,
            "delivery: alert %d to %s %s will be retried in %.0fs: %s",
            alert.id,
            alert.channel,
            alert.address,
            delay,
            error,
        )
        await self.db.mark_retry(alert.id, delay, error)
