"""Webhook notifier: one JSON POST per alert to each configured URL (Slack, Mattermost, Matrix bridges, ...).

The body is ``{"text": <the alert as plain text>, "alert": {...fields...}}``, or only ``{"text": ...}`` with
``payload = "text"`` for services that refuse unknown keys. A 2xx answer is delivery; 429 and 5xx answers and network
errors are retried later (honouring Retry-After); any other answer is a refusal, logged and not retried.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime

import httpx

from watcher import __version__
from watcher.clock import SYSTEM_CLOCK, Clock
from watcher.errors import NotifyError, RecipientGone, RetryLater
from watcher.http.polite import parse_retry_after
from watcher.models import Alert
from watcher.notifiers.format import alert_text
from watcher.notifiers.settings import WebhookConfig

log = logging.getLogger(__name__)
MAX_RETRY_AFTER = 3600.0


def alert_json(alert: Alert, labels: Mapping[str, str]) -> dict:
    return {
        "source": alert.source,
        "id": alert.item_id,
        "event": alert.event,
        "title": alert.title,
        "url": alert.url,
        "published": alert.published.isoformat() if alert.published else None,
        "topics": list(alert.topics),
        "topic_labels": [labels.get(t, t) for t in alert.topics],
        "terms": list(alert.terms),
        "snippet": alert.snippet,
    }


def retry_after(response: httpx.Response, default: float, now: datetime) -> float:
    """Seconds to wait from the answer's Retry-After (seconds or an HTTP-date), at least ``default``, at most an
    hour; ``default`` when there is none or it cannot be read."""
    wait = parse_retry_after(response.headers.get("Retry-After"), now)
    if wait is None:
        return default
    return min(MAX_RETRY_AFTER, max(default, wait))


class WebhookNotifier:
    channel = "webhook"
    chat_paced = False  # no per-chat limits outside Telegram

    def is_group(self, address: str) -> bool:
        return False

    def __init__(
        self,
        hooks: Iterable[WebhookConfig],
        labels: Mapping[str, str],
        client: httpx.AsyncClient | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ):
        self.hooks = {h.name: h for h in hooks}
        self.labels = labels
        self.clock = clock
        self.client = client or httpx.AsyncClient(
            follow_redirects=False, headers={"User-Agent": f"watcher/{__version__}"}
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    async def send(self, alert: Alert, *, plain: bool = False) -> None:
        hook = self.hooks.get(alert.address)
        if hook is None:
            raise RecipientGone(f"webhook {alert.address!r} is no longer configured")
        body: dict = {"text": alert_text(alert, self.labels)}
        if hook.payload == "full":
            body["alert"] = alert_json(alert, self.labels)
        try:
            response = await self.client.post(hook.url, json=body, headers=dict(hook.headers), timeout=hook.timeout)
        except httpx.TimeoutException as exc:
            raise RetryLater(f"webhook {hook.name}: timed out ({type(exc).__name__})", delay=10.0) from exc
        except httpx.TransportError as exc:
            raise RetryLater(f"webhook {hook.name}: network error ({type(exc).__name__})", delay=10.0) from exc
        status = response.status_code
        if 200 <= status < 300:
            return
        if status == 429 or status >= 500:
            raise RetryLater(f"webhook {hook.name}: HTTP {status}", delay=retry_after(response, 10.0, self.clock.now()))
        raise NotifyError(f"webhook {hook.name}: HTTP {status}: {response.text[:200]}")
