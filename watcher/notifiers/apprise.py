"""Apprise notifier (the optional ``apprise`` extra): one message per alert to any apprise URL (ntfy, Matrix,
Signal, Slack, Discord, ``json://`` ...), behind the same outbox as Telegram.

Apprise's own retries are turned off for every destination (``?retry=`` in a URL included): the delivery worker
owns retries, with its backoff, so an alert is marked delivered only once apprise reports success, and a failure
leaves it queued. Apprise reports a failure without raising; the HTTP status it logs tells a refusal (a 4xx other
than 408, 425 and 429: bad token, unknown target), which is logged once and not retried, from a failure worth
retrying (network, time-out, 429, 5xx).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

import apprise

from watcher.errors import NotifyError, RecipientGone, RetryLater
from watcher.models import Alert
from watcher.notifiers.format import alert_text
from watcher.notifiers.settings import AppriseConfig

log = logging.getLogger(__name__)
RETRY_DELAY = 10.0
TRANSIENT_4XX = frozenset({408, 425, 429})
_STATUS = re.compile(r"error=(\d{3})\b")


def refusal_status(messages: Iterable[str]) -> int | None:
    """The HTTP status of a refusal in apprise's log lines (a 4xx that is not worth retrying), or None."""
    for message in messages:
        for found in _STATUS.finditer(message):
            status = int(found.group(1))
            if 400 <= status < 500 and status not in TRANSIENT_4XX:
                return status
    return None


def _without_retries(url: str) -> Any:
    """The apprise plugin for ``url`` with its own retries off, or None when no plugin takes the URL."""
    service = apprise.Apprise.instantiate(url)
    if service is not None and hasattr(service, "retry"):
        service.retry = 0
    return service


class AppriseNotifier:
    channel = "apprise"
    chat_paced = False  # no per-chat limits outside Telegram

    def is_group(self, address: str) -> bool:
        return False

    def __init__(self, entries: Iterable[AppriseConfig], labels: Mapping[str, str]):
        self.entries = {e.name: e for e in entries}
        self.labels = labels

    async def send(self, alert: Alert, *, plain: bool = False) -> None:
        entry = self.entries.get(alert.address)
        if entry is None:
            raise RecipientGone(f"apprise {alert.address!r} is no longer configured")
        service = _without_retries(entry.url)
        if service is None:
            raise NotifyError(f"apprise {entry.name}: no apprise plugin takes its URL")
        heading, _, rest = alert_text(alert, self.labels).partition("\n")  # "New: <title>", then the details
        with apprise.LogCapture(level=logging.DEBUG) as captured:
            try:
                sent = await asyncio.wait_for(
                    asyncio.to_thread(
                        service.notify,
                        title=heading,
                        body=rest.strip() or heading,
                        body_format=apprise.NotifyFormat.TEXT,
                    ),
                    entry.timeout,
                )
            except TimeoutError as exc:
                raise RetryLater(
                    f"apprise {entry.name}: no answer within {entry.timeout:g}s", delay=RETRY_DELAY
                ) from exc
        if sent:
            return
        lines = [line for line in captured.getvalue().splitlines() if line.strip()]
        status = refusal_status(lines)
        detail = lines[-1][:200] if lines else "apprise reported a failure"
        if status is not None:
            raise NotifyError(f"apprise {entry.name}: refused (HTTP {status}): {detail}")
        raise RetryLater(f"apprise {entry.name}: {detail}", delay=RETRY_DELAY)
