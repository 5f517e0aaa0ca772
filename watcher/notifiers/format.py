"""How an alert reads. Everything scraped is escaped before it goes into Telegram HTML.

A Council document's alert also says what the document is, from what its header said (the item's ``extra``)::

    New version REV 2 of ST 13589/23 (first seen 12 Oct 2026): <title>
    ST 13589/23 REV 2 · NOTE · 11 Oct 2023
    Presidency → Permanent Representatives Committee · LIMITE
    FRONT, COMIX
    2023/0439(COD)   (linked to the Legislative Observatory and to EUR-Lex)
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from watcher.i18n import N_, _, day, ngettext, speaking
from watcher.models import Alert, model_reason
from watcher.notifiers.fit import TELEGRAM_LIMIT, cut_plain, pack, shorten_html, utf16_len
from watcher.sources.council.refs import DocRef, RefError, parse_ref

EVENT_HEADINGS = {
    "new": N_("New"),
    "version": N_("New version"),
    "public": N_("Now public"),
}


def _heading(event: str) -> str:
    return _(EVENT_HEADINGS[event]) if event in EVENT_HEADINGS else event


MAX_TITLE = 600
MAX_SUMMARY = 300  # characters of the feed's summary an alert shows, cut between words
MAX_SNIPPET = 400
MAX_TERMS = 12
MAX_CODES = 12
MAX_PROCEDURES = 4
MAX_PARTY = 200
PROCEDURE = re.compile(r"((?:19|20)\d\d)/(\d{4})\(([A-Z]{3})\)")
OEIL_URL = "https://oeil.secure.europarl.europa.eu/oeil/popups/ficheprocedure.do?reference={}"
EURLEX_URL = "https://eur-lex.europa.eu/procedure/EN/{}_{}"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cut_words(text: str, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters, cut between words when it is longer."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    piece = flat[: limit - 1]
    space = piece.rfind(" ")
    if space > limit // 2:  # a cut between words, unless that loses half the room to one very long word
        piece = piece[:space]
    return piece.rstrip(" ,;:.-–—") + "…"


def _plain_key(text: str) -> str:
    """Text reduced to its letters and digits, lower case: what "the same text" means when comparing two."""
    return "".join(c for c in text.casefold() if c.isalnum())


def summary_of(alert: Alert) -> str:
    """The item's summary shortened for an alert (plain text); "" when there is none or it only repeats the title.

    A summary that starts with the title (as Council register rows and headers often do) shows what follows it."""
    flat = " ".join(alert.summary.split())
    title = " ".join(alert.title.split())
    if not flat or _plain_key(flat) == _plain_key(title):
        return ""
    if title and flat.casefold().startswith(title.casefold()):
        flat = flat[len(title) :].lstrip(" .,;:-–—()")
        if len(_plain_key(flat)) < 3:
            return ""
    return _cut_words(flat, MAX_SUMMARY)


def source_label(alert: Alert, sources: Mapping[str, str] | None) -> str:
    """The source's human name from ``sources.toml`` (its ``label``), else its name."""
    return (sources or {}).get(alert.source) or alert.source


def matched_words(alert: Alert) -> tuple[list[str], list[str]]:
    """(words, subject codes): the matched words as the text writes them, else (alerts queued before the words
    were kept, follows) the terms as written; and the Council subject codes that raised a topic."""
    codes = [t.removeprefix("subject:") for t in alert.terms if t.startswith("subject:")]
    words = list(alert.words) or [t for t in alert.terms if not t.startswith("subject:") and model_reason(t) is None]
    return words[:MAX_TERMS], codes[:MAX_TERMS]


def model_reasons(alert: Alert) -> list[tuple[str, str, tuple[str, ...]]]:
    """(topic, probability, features) of each topic the relevance model raised (README, "The relevance model")."""
    return [reason for t in alert.terms if (reason := model_reason(t)) is not None][:MAX_TERMS]


def _matched_line(alert: Alert, quote, labels: Mapping[str, str]) -> str:
    words, codes = matched_words(alert)
    parts = [", ".join(f"“{quote(_cut(w, 80))}”" for w in words)] if words else []
    if codes:
        parts.append(
            ngettext("subject code {codes}", "subject codes {codes}", len(codes)).format(
                codes=", ".join(quote(c) for c in codes)
            )
        )
    for topic, probability, features in model_reasons(alert):
        shown = ", ".join(quote(_cut(f, 80)) for f in features[:MAX_TERMS])
        parts.append(
            _("relevance model for {topic} {probability} on: {words}").format(
                topic=quote(_cut(labels.get(topic) or topic, 80)), probability=quote(probability), words=shown
            )
        )
    return " · ".join(parts)


def safe_url(url: str) -> str | None:
    return url if url.startswith(("https://", "http://")) else None


def _date(alert: Alert) -> str:
    return alert.published.strftime("%Y-%m-%d") if alert.published else _("date not given")


def _day(when: datetime) -> str:
    return day(when)


@dataclass(frozen=True)
class CouncilFacts:
    """What an alert shows of a Council document, as plain text (escaped where it goes into HTML)."""

    ref: DocRef
    kind: str = ""
    parties: tuple[str, ...] = ()  # "Presidency → Permanent Representatives Committee", "LIMITE", "not public"
    codes: tuple[str, ...] = ()
    procedures: tuple[str, ...] = ()

    @property
    def family_label(self) -> str:
        """``ST 13589/23``: the series, then the number and year as a header prints them."""
        return f"{self.ref.series} {self.ref.number}/{self.ref.year % 100:02d}"

    @property
    def label(self) -> str:
        """``ST 13589/23 REV 2``: the family, then the version."""
        return f"{self.family_label} {self.ref.version_str}" if self.ref.version else self.family_label


def council_facts(alert: Alert) -> CouncilFacts | None:
    """The Council facts of an alert whose item is a Council document; None for any other alert."""
    extra = alert.extra or {}
    if "family" not in extra:
        return None
    try:
        ref = parse_ref(alert.item_id)
    except RefError:
        return None
    sender, recipient = (_cut(str(extra.get(k) or ""), MAX_PARTY) for k in ("originator", "addressee"))
    parties = [
        " → ".join(p for p in (sender, recipient) if p)
        if sender and recipient
        else _("From: {sender}").format(sender=sender)
        if sender
        else _("To: {recipient}").format(recipient=recipient)
        if recipient
        else ""
    ]
    parties += [str(extra.get("marking") or ""), _("not public") if extra.get("public") is False else ""]
    procedures = [
        p
        for p in extra.get("procedures") or [extra.get("interinstitutional_file") or ""]
        if isinstance(p, str) and PROCEDURE.fullmatch(p)
    ]
    return CouncilFacts(
        ref=ref,
        kind=str(extra.get("doc_type") or ""),
        parties=tuple(p for p in parties if p),
        codes=tuple(str(c) for c in (extra.get("subjects") or [])[:MAX_CODES]),
        procedures=tuple(procedures[:MAX_PROCEDURES]),
    )


def procedure_links(procedure: str) -> tuple[str, str]:
    """The Legislative Observatory's and EUR-Lex's pages of a procedure such as ``2023/0439(COD)``."""
    m = PROCEDURE.fullmatch(procedure)
    if not m:
        raise ValueError(f"{procedure!r} is not a procedure number such as 2023/0439(COD)")
    return OEIL_URL.format(procedure), EURLEX_URL.format(m.group(1), int(m.group(2)))


def _council_lines(alert: Alert, facts: CouncilFacts) -> list[str]:
    """Plain lines: reference, type and date; parties and marking; codes."""
    first = [facts.label, facts.kind, _day(alert.published) if alert.published else ""]
    lines = [" · ".join(p for p in first if p), " · ".join(facts.parties), ", ".join(facts.codes)]
    return [line for line in lines if line]


def _event_words(alert: Alert, facts: CouncilFacts | None) -> tuple[str, str, str]:
    """The event's heading, and what follows the heading and the title (first seen, listed since)."""
    heading = _heading(alert.event)
    if facts is None or alert.since is None:
        return heading, "", ""
    if alert.event == "version":
        return (
            _("New version {version} of {family}").format(version=facts.ref.version_str, family=facts.family_label),
            " " + _("(first seen {day})").format(day=_day(alert.since)),
            "",
        )
    if alert.event == "public":
        return heading, "", " " + _("(listed as not public since {day})").format(day=_day(alert.since))
    return heading, "", ""


def _html_parts(alert: Alert, labels: Mapping[str, str]) -> tuple[str, str, str, str]:
    """Escaped pieces of an alert: the linked title, the topic labels, the matched words, the event heading."""
    e = html.escape
    title = e(_cut(alert.title, MAX_TITLE))
    url = safe_url(alert.url)
    heading = f'<a href="{e(url, quote=True)}">{title}</a>' if url else title
    topics = ", ".join(e(labels.get(t, t)) for t in alert.topics)
    return heading, topics, _matched_line(alert, e, labels), e(_heading(alert.event))


def personal_line(alert: Alert) -> str:
    """Plain text: the chat's own terms that raised the alert, each with the words as the text has them
    (``Your term: smuggl* (“Smuggling”)``); "" when none did."""
    if not alert.personal:
        return ""
    shown = [
        _cut(term, 80) if words == term else f"{_cut(term, 80)} (“{_cut(words, 80)}”)"
        for term, words in alert.personal[:MAX_TERMS]
    ]
    return ngettext("Your term: {terms}", "Your terms: {terms}", len(shown)).format(terms=", ".join(shown))


def alert_html(alert: Alert, labels: Mapping[str, str], sources: Mapping[str, str] | None = None) -> str:
    """Telegram HTML: the title linked to the document, the summary shortened, the source's name, date, topics and
    the words that matched; for a Council document also its reference, type, parties, marking, codes and
    procedures. ``sources`` maps source names to their labels. In the chat's language."""
    with speaking(alert.language):
        return _alert_html(alert, labels, sources)


def _alert_html(alert: Alert, labels: Mapping[str, str], sources: Mapping[str, str] | None) -> str:
    e = html.escape
    heading, topics, terms, _event = _html_parts(alert, labels)
    url = safe_url(alert.url)
    facts = council_facts(alert)
    event, after_event, after_title = (e(part) for part in _event_words(alert, facts))
    lines = [f"🔔 <b>{event}</b>{after_event}: <b>{heading}</b>{after_title}"]
    if facts:
        lines += [e(line) for line in _council_lines(alert, facts)] + [_procedures_html(p) for p in facts.procedures]
    if summary := summary_of(alert):
        lines.append(e(summary))
    source = e(source_label(alert, sources))
    lines += [
        _("Source: {source}").format(source=source) if facts else _source_dated(source, e(_date(alert))),
        *(_why(topics, terms) if alert.topics else []),
        *([e(personal_line(alert))] if alert.personal else []),
    ]
    if alert.snippet:
        lines.append(f"<i>{e(_cut(alert.snippet, MAX_SNIPPET))}</i>")
    if not url and alert.url:
        lines.append(_("Where: {url}").format(url=e(_cut(alert.url, 300))))
    return "\n".join(lines)


def _source_dated(source: str, date: str) -> str:
    return _("Source: {source} · {date}").format(source=source, date=date)


def _why(topics: str, terms: str) -> list[str]:
    return [_("Topics: {topics}").format(topics=topics), _("Matched: {words}").format(words=terms)]


def _procedures_html(procedure: str) -> str:
    e = html.escape
    oeil, eurlex = procedure_links(procedure)
    return f'<a href="{e(oeil, quote=True)}">{e(procedure)}</a> (<a href="{e(eurlex, quote=True)}">EUR-Lex</a>)'


def alert_text(alert: Alert, labels: Mapping[str, str], sources: Mapping[str, str] | None = None) -> str:
    """The same alert as plain text (console, email, and the fallback when Telegram refuses the HTML)."""
    with speaking(alert.language):
        return _alert_text(alert, labels, sources)


def _alert_text(alert: Alert, labels: Mapping[str, str], sources: Mapping[str, str] | None) -> str:
    topics = ", ".join(labels.get(t, t) for t in alert.topics)
    facts = council_facts(alert)
    event, after_event, after_title = _event_words(alert, facts)
    lines = [f"{event}{after_event}: {alert.title}{after_title}"]
    if facts:
        lines += _council_lines(alert, facts)
        lines += [f"{p}: {' · '.join(procedure_links(p))}" for p in facts.procedures]
    if summary := summary_of(alert):
        lines.append(summary)
    source = source_label(alert, sources)
    lines += [
        _("Link: {url}").format(url=alert.url or _("(none)")),
        _("Source: {source}").format(source=source) if facts else _source_dated(source, _date(alert)),
        *(_why(topics, _matched_line(alert, str, labels)) if alert.topics else []),
        *([personal_line(alert)] if alert.personal else []),
    ]
    if alert.snippet:
        lines.append(_("Context: {snippet}").format(snippet=alert.snippet))
    return "\n".join(lines)


def digest_entry_html(alert: Alert, labels: Mapping[str, str], sources: Mapping[str, str] | None = None) -> str:
    """One alert as a digest line: linked title, then source, date, topics and matched words."""
    e = html.escape
    heading, topics, terms, event = _html_parts(alert, labels)
    prefix = "" if alert.event == "new" else f"{event}: "
    why = [topics, terms] if alert.topics else []
    why += [e(personal_line(alert))] if alert.personal else []
    return f"• {prefix}<b>{heading}</b>\n  {' · '.join([e(source_label(alert, sources)), e(_date(alert)), *why])}"


def digest_entry_text(alert: Alert, labels: Mapping[str, str], sources: Mapping[str, str] | None = None) -> str:
    topics = ", ".join(labels.get(t, t) for t in alert.topics)
    event = _heading(alert.event)
    prefix = "" if alert.event == "new" else f"{event}: "
    why = [topics, _matched_line(alert, str, labels)] if alert.topics else []
    why += [personal_line(alert)] if alert.personal else []
    link = alert.url or _("(no link)")
    return (
        f"• {prefix}{_cut(alert.title, MAX_TITLE)}\n  {link}\n  "
        f"{' · '.join([source_label(alert, sources), _date(alert), *why])}"
    )


DIGEST_HEAD_ROOM = 100  # units kept free for the heading line of each digest message


def digest_messages(
    alerts: list[Alert],
    labels: Mapping[str, str],
    limit: int = TELEGRAM_LIMIT,
    sources: Mapping[str, str] | None = None,
) -> list[tuple[str, str, list[int]]]:
    """The digest as messages under ``limit``: (HTML, plain text, outbox ids), split only between alerts; in the
    chat's language (the alerts of one digest are one chat's)."""
    with speaking(alerts[0].language if alerts else "en"):
        return _digest_messages(alerts, labels, limit, sources)


def _digest_messages(
    alerts: list[Alert], labels: Mapping[str, str], limit: int, sources: Mapping[str, str] | None
) -> list[tuple[str, str, list[int]]]:
    entries = [
        (
            shorten_html(digest_entry_html(a, labels, sources), limit - DIGEST_HEAD_ROOM),
            cut_plain(digest_entry_text(a, labels, sources), limit - DIGEST_HEAD_ROOM),
        )
        for a in alerts
    ]
    sizes = [max(utf16_len(h), utf16_len(p)) for h, p in entries]
    groups = pack(sizes, limit, sep=2, head=DIGEST_HEAD_ROOM)
    out = []
    for number, group in enumerate(groups, 1):
        part = " " + _("(part {n} of {total})").format(n=number, total=len(groups)) if len(groups) > 1 else ""
        count = ngettext("{n} alert", "{n} alerts", len(alerts)).format(n=len(alerts))
        title = _("Daily digest")
        head_html = "🗞 " + _("{title}: {count}").format(title=f"<b>{title}</b>", count=count) + part
        head_text = _("{title}: {count}").format(title=title, count=count) + part
        body_html = "\n\n".join(entries[i][0] for i in group)
        body_text = "\n\n".join(entries[i][1] for i in group)
        out.append(
            (
                shorten_html(f"{head_html}\n\n{body_html}", limit),
                cut_plain(f"{head_text}\n\n{body_text}", limit),
                [alerts[i].id for i in group],
            )
        )
    return out


def sample_alert(channel: str, address: str, topic: str) -> Alert:
    """A made-up alert that goes through the real formatting, for an operator's test message."""
    return Alert(
        id=0,
        subscriber_id=0,
        channel=channel,
        address=address,
        source="watcher-test",
        item_id="sample",
        title="Test alert: Council conclusions on countering migrant smuggling <sample>",
        url="https://www.consilium.europa.eu/en/press/press-releases/?sample=1&test=true",
        published=None,
        topics=(topic,),
        terms=("migrant smuggling",),
        snippet="… a sample [migrant smuggling] snippet with <markup> & an ampersand, escaped …",
    )
