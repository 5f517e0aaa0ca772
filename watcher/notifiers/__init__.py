"""Notifiers turn an outbox alert into a message somewhere. Each has a ``channel`` name and one method,
``async send(alert, *, plain=False)``, which raises a ``NotifyError`` subclass that the delivery worker turns into a
decision (retry later, drop the subscriber, move the address, or resend as plain text). A notifier that can also send
a ready-made text (``send_text``) can carry digests and catch-up messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from watcher.models import Alert


class Notifier(Protocol):
    """What the delivery worker needs of a channel."""

    channel: str
    labels: Mapping[str, str]  # topic id -> label, for the message text
    chat_paced: bool  # whether Telegram's per-chat and per-group limits apply

    def is_group(self, address: str) -> bool: ...

    async def send(self, alert: Alert, *, plain: bool = False) -> None: ...


@runtime_checkable
class TextNotifier(Notifier, Protocol):
    """A notifier that also sends a text built elsewhere (digests, catch-up messages)."""

    async def send_text(self, address: str, html_text: str, plain_text: str, *, plain: bool = False) -> None: ...
