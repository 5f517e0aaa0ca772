"""Operator messages: the health events queued by ``watcher.health`` are sent to the admin chats
(``WATCHER_ADMIN_CHAT_IDS``) through Telegram, or to the log when there is no token or no admin chat.

The events are rows in the store (``health_events``), written in the same transaction as the health state that
caused them, and marked sent per chat only after Telegram accepted them. A restart sends what was not sent; a chat
that already got an event does not get it again. Messages are plain text (no parse mode), so nothing in them can be
read as markup.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from watcher.delivery.retry import MAX_ATTEMPTS, backoff
from watcher.delivery.unrecorded import StoreErrors, Unrecorded
from watcher.delivery.wakeup import Wakeup
from watcher.errors import NotifyError, RetryLater
from watcher.store import health as healthdb
from watcher.store import leases
from watcher.store.aio import as_async

log = logging.getLogger(__name__)

LOG_TARGET = "log"


Send = Callable[[str, str], Awaitable[None]]


async def send_to_log(address: str, text: str) -> None:
    """Console mode: the operator reads the log."""
    log.warning("operator message: %s", text)


def telegram_sender(bot) -> Send:
    """A sender through the Telegram notifier, so operator messages meet Telegram's errors exactly as alerts do."""
    # loaded late: python-telegram-bot costs ~0.2 s to import and is not needed without a token
    from watcher.notifiers.telegram import TelegramNotifier

    notifier = TelegramNotifier(bot, {})

    async def send(address: str, text: str) -> None:
        await notifier.send_text(address, text, text, plain=True)

    return send


class AdminMessenger:
    """Sends due health events to every target address, once each."""

    def __init__(self, store, send: Send, targets: Sequence[str], idle_wait: float = 5.0):
        self.store = store
        self.db = as_async(store)
        self.send = send
        self.targets = [str(t) for t in targets]
        self.idle_wait = idle_wait
        self._wakeup = Wakeup()
        self.unrecorded = Unrecorded("operator messages")

    def wake(self) -> None:
        self._wakeup.wake()

    def stop(self) -> None:
        self._wakeup.stop()

    async def run(self) -> None:
        while not self._wakeup.stopping:
            try:
                await self.drain_once()
            except StoreErrors as exc:  # locked by a backup, or the disk is full: the events wait in the store
                log.warning("operator messages: database unavailable (%s); trying again in %.0fs", exc, self.idle_wait)
            await self._wakeup.sleep(self.idle_wait)

    async def drain_once(self) -> int:
        """Send every due event; returns how many were finished (sent everywhere, skipped or given up)."""
        finished = 0
        await self.unrecorded.flush()
        events = await self.db.run(healthdb.due_events)  # claimed: no other process sends these meanwhile
        for n, event in enumerate(events):
            if self._wakeup.stopping:
                rest = [e["id"] for e in events[n:] if e["id"] not in self.unrecorded]
                await self.db.run(leases.release, "health_events", rest)
                break
            if event["id"] in self.unrecorded:
                continue
            finished += await self._send_event(event)
        return finished

    async def _send_event(self, event: dict) -> int:
        sent = list(event["sent_to"])
        retry: float | None = None
        error = None
        for address in self.targets:
            if address in sent:
                continue
            try:
                await self.send(address, event["text"])
                sent.append(address)
            except RetryLater as exc:
                retry, error = max(retry or 0.0, exc.delay), str(exc)
                log.warning(
                    "operator chat %s: health message %d for %s will be retried: %s",
                    address,
                    event["id"],
                    event["source"],
                    exc,
                )
            except NotifyError as exc:  # blocked, unknown, moved or refusing: skip this chat for this message
                sent.append(address)
                log.error(
                    "operator chat %s cannot receive health messages (%s); check WATCHER_ADMIN_CHAT_IDS and "
                    "that the chat has started the bot",
                    address,
                    exc,
                )
        attempts = event["attempts"] + 1
        if retry is None or attempts >= MAX_ATTEMPTS:
            if retry is not None:
                log.error(
                    "health message %d for %s given up after %d attempts: %s",
                    event["id"],
                    event["source"],
                    attempts,
                    error,
                )
            await self.unrecorded.record_async(
                [event["id"]], lambda: self.db.run(healthdb.mark_event, event["id"], sent, done=True, error=error)
            )
            return 1
        delay = backoff(event["attempts"], retry)
        await self.unrecorded.record_async(
            [event["id"]],
            lambda: self.db.run(healthdb.mark_event, event["id"], sent, done=False, retry_in=delay, error=error),
        )
        return 0


def messenger_for(store, settings, bot=None) -> AdminMessenger:
    """Telegram to the admin chats when there is a bot and admin chats; otherwise the log."""
    if bot is not None and settings.admin_chat_ids:
        return AdminMessenger(store, telegram_sender(bot), sorted(str(c) for c in settings.admin_chat_ids))
    if bot is not None:
        log.warning("WATCHER_ADMIN_CHAT_IDS is empty: source health messages go to the log only")
    return AdminMessenger(store, send_to_log, [LOG_TARGET])
