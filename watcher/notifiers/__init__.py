"""Notifiers turn an outbox alert into a message somewhere. Each has a ``channel`` name and one method,
``async send(alert, *, plain=False)``, which raises a ``NotifyError`` subclass that the delivery worker turns into a
decision (retry later, drop the subscriber, move the address, or resend as plain text)."""

from __future__ import annotations

from typing import Protocol

from watcher.models import Alert


class Notifier(Protocol):
    channel: str

    async def send(self, alert: Alert, *, plain: bool = False) -> None: ...
