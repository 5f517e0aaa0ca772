"""Webhook notifier: one JSON POST per alert to each configured URL (Slack, Mattermost, Matrix bridges, ...).

The body is ``{"text": <the alert as plain text>, "alert": {...fields...}}``, or only ``{"text": ...}`` with
``payload = "text"`` for services that refuse unknown keys. A 2xx answer is delivery; 429 and 5xx answers and network
errors are retried later (honouring Retry-After); any other answer is a refusal, logged and not retried.

Each post goes through the sources' destination rule (``watcher.http.guard``), checked before the request and again
when the connection opens: a URL that names an internal address (``http://127.0.0.1:8065/hooks/...``) is posted to
as a deliberately internal destination, but a host name that resolves to a private, loopback or link-local address
is refused unless private destinations are allowed (``[http] allow_private`` or ``WATCHER_ALLOW_PRIVATE_NETWORKS``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime

import httpx

from watcher import __version__
from watcher.clock import SYSTEM_CLOCK, Clock
from watcher.errors import FetchError, NotifyError, RecipientGone, RetryLater
from watcher.http.connect import guarded_transport, refusal
from watcher.http.guard import Guard
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
        guard: Guard | None = None,
    ):
        """``guard`` says where posts may go (default: no private destinations, as for sources); a ``client``
        given instead of the default one connects as it likes, and only the check before each post applies."""
        self.hooks = {h.name: h for h in hooks}
        self.labels = labels
        self.clock = clock
        self.guard = guard or Guard()
        self.client = client or httpx.AsyncClient(
            follow_redirects=False,
            headers={"User-Agent": f"watcher/{__version__}"},
            transport=guarded_transport(self.guard),
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
        await self._check(hook)
        try:
            response = await self.client.post(hook.url, json=body, headers=dict(hook.headers), timeout=hook.timeout)
        except httpx.TimeoutException as exc:
            raise RetryLater(f"webhook {hook.name}: timed out ({type(exc).__name__})", delay=10.0) from exc
        except httpx.TransportError as exc:
            refused = refusal(exc)
            if refused:
                raise NotifyError(f"webhook {hook.name}: {refused}") from exc
            raise RetryLater(f"webhook {hook.name}: network error ({type(exc).__name__})", delay=10.0) from exc
        status = response.status_code
        if 200 <= status < 300:
            return
        if status == 429 or status >= 500:
            raise RetryLater(f"webhook {hook.name}: HTTP {status}", delay=retry_after(response, 10.0, self.clock.now()))
        raise NotifyError(f"webhook {hook.name}: HTTP {status}: {response.text[:200]}")

    async def _check(self, hook: WebhookConfig) -> None:
        """The destination rule before posting: a refused address is a refusal (the configuration must change), a
        name that does not resolve now is retried later. Messages name the host, never the URL (it may hold a
        secret)."""
        host = httpx.URL(hook.url).host
        try:
            await self.guard.check(hook.url, hook.url, source=f"webhook {hook.name}", shown=f"post to {host}")
        except FetchError as exc:
            if exc.failure == "disallowed":
                raise NotifyError(f"webhook {hook.name}: {exc.detail}") from exc
            raise RetryLater(f"webhook {hook.name}: {exc.detail}", delay=60.0) from exc
