"""How an alert reads. Everything scraped is escaped before it goes into Telegram HTML."""

from __future__ import annotations

import html
from typing import Mapping

from watcher.models import Alert
from watcher.notifiers.fit import TELEGRAM_LIMIT, cut_plain, pack, shorten_html, utf16_len

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


def _html_parts(alert: Alert, labels: Mapping[str, str]) -> tuple[str, str, str, str]:
    """Escaped pieces of an alert: the linked title, the topic labels, the matched terms, the event heading."""
    e = html.escape
    title = e(_cut(alert.title, MAX_TITLE))
    url = _safe_url(alert.url)
    heading = f'<a href="{e(url, quote=True)}">{title}</a>' if url else title
    topics = ", ".join(e(labels.get(t, t)) for t in alert.topics)
    terms = ", ".join(f"“{e(_cut(t, 80))}”" for t in alert.terms[:MAX_TERMS])
    return heading, topics, terms, e(EVENT_HEADINGS.get(alert.event, alert.event))


def alert_html(alert: Alert, labels: Mapping[str, str]) -> str:
    """Telegram HTML: the title linked to the document, source, date, topics and the terms that matched."""
    e = html.escape
    heading, topics, terms, event = _html_parts(alert, labels)
    url = _safe_url(alert.url)
    lines = [f"🔔 <b>{event}</b>: <b>{heading}</b>",
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


def digest_entry_html(alert: Alert, labels: Mapping[str, str]) -> str:
    """One alert as a digest line: linked title, then source, date, topics and matched terms."""
    e = html.escape
    heading, topics, terms, event = _html_parts(alert, labels)
    prefix = "" if alert.event == "new" else f"{event}: "
    return f"• {prefix}<b>{heading}</b>\n  {e(alert.source)} · {e(_date(alert))} · {topics} · {terms}"


def digest_entry_text(alert: Alert, labels: Mapping[str, str]) -> str:
    topics = ", ".join(labels.get(t, t) for t in alert.topics)
    event = EVENT_HEADINGS.get(alert.event, alert.event)
    prefix = "" if alert.event == "new" else f"{event}: "
    return (f"• {prefix}{_cut(alert.title, MAX_TITLE)}\n  {alert.url or '(no link)'}\n  {alert.source} · "
            f"{_date(alert)} · {topics} · {', '.join(alert.terms[:MAX_TERMS])}")


DIGEST_HEAD_ROOM = 100  # units kept free for the heading line of each digest message


def digest_messages(alerts: list[Alert], labels: Mapping[str, str],
                    limit: int = TELEGRAM_LIMIT) -> list[tuple[str, str, list[int]]]:
    """The digest as messages under ``limit``: (HTML, plain text, outbox ids), split only between alerts."""
    entries = [(shorten_html(digest_entry_html(a, labels), limit - DIGEST_HEAD_ROOM),
                cut_plain(digest_entry_text(a, labels), limit - DIGEST_HEAD_ROOM)) for a in alerts]
    sizes = [max(utf16_len(h), utf16_len(p)) for h, p in entries]
    groups = pack(sizes, limit, sep=2, head=DIGEST_HEAD_ROOM)
    out = []
    for number, group in enumerate(groups, 1):
        part = f" (part {number} of {len(groups)})" if len(groups) > 1 else ""
        count = f"{len(alerts)} alert{'s' if len(alerts) != 1 else ''}"
        head_html = f"🗞 <b>Daily digest</b>: {count}{part}"
        head_text = f"Daily digest: {count}{part}"
        body_html = "\n\n".join(entries[i][0] for i in group)
        body_text = "\n\n".join(entries[i][1] for i in group)
        out.append((shorten_html(f"{head_html}\n\n{body_html}", limit), cut_plain(f"{head_text}\n\n{body_text}", limit),
                    [alerts[i].id for i in group]))
    return out


def sample_alert(channel: str, address: str, topic: str) -> Alert:
    """A made-up alert that goes through the real formatting, for an operator's test message."""
    return Alert(id=0, subscriber_id=0, channel=channel, address=address, source="watcher-test",
                 item_id="sample", title="Test alert: Council conclusions on countering migrant smuggling <sample>",
                 url="https://www.consilium.europa.eu/en/press/press-releases/?sample=1&test=true",
                 published=None, topics=(topic,), terms=("migrant smuggling",),
                 snippet="… a sample [migrant smuggling] snippet with <markup> & an ampersand, escaped …")
