"""How an alert reads. Everything scraped is escaped before it goes into Telegram HTML."""

from __future__ import annotations

import html
from typing import Mapping

from watcher.models import Alert

EVENT_HEADINGS = {
    "new": "New",
    "version": "New version",
    "public": "Now public",
}


MAX_TITLE = 600
MAX_SNIPPET = 400
MAX_TERMS = 12


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _safe_url(url: str) -> str | None:
    return url if url.startswith(("https://", "http://")) else None


def _date(alert: Alert) -> str:
    return alert.published.strftime("%Y-%m-%d") if alert.published else "date not given"


def alert_html(alert: Alert, labels: Mapping[str, str]) -> str:
    """Telegram HTML: the title linked to the document, source, date, topics and the terms that matched."""
    e = html.escape
    title = e(_cut(alert.title, MAX_TITLE))
    url = _safe_url(alert.url)
    heading = f'<a href="{e(url, quote=True)}">{title}</a>' if url else title
    topics = ", ".join(e(labels.get(t, t)) for t in alert.topics)
    terms = ", ".join(f"“{e(_cut(t, 80))}”" for t in alert.terms[:MAX_TERMS])
    event = EVENT_HEADINGS.get(alert.event, alert.event)
    lines = [f"🔔 <b>{e(event)}</b>: <b>{heading}</b>",
             f"Source: {e(alert.source)} · {e(_date(alert))}",
             f"Topics: {topics}",
             f"Matched: {terms}"]
    if alert.snippet:
        lines.append(f"<i>{e(_cut(alert.snippet, MAX_SNIPPET))}</i>")
    if not url and alert.url:
        lines.append(f"Where: {e(_cut(alert.url, 300))}")
    return "\n".join(lines)


def alert_text(alert: Alert, labels: Mapping[str, str]) -> str:
    """The same alert as plain text (console, email, and the fallback when Telegram refuses the HTML)."""
    topics = ", ".join(labels.get(t, t) for t in alert.topics)
    event = EVENT_HEADINGS.get(alert.event, alert.event)
    lines = [f"{event}: {alert.title}",
             f"Link: {alert.url or '(none)'}",
             f"Source: {alert.source} · {_date(alert)}",
             f"Topics: {topics}",
             f"Matched: {', '.join(alert.terms)}"]
    if alert.snippet:
        lines.append(f"Context: {alert.snippet}")
    return "\n".join(lines)
