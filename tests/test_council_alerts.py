"""Council alerts say what the document is, from what its header said: reference, type, date, parties, marking,
codes, and procedures linked to the Legislative Observatory and EUR-Lex. A new version names its version and when
the document was first seen; a document now public says since when it was listed as not public. The alerts come
from a real store's outbox, and one goes through the real Telegram library to the fake Bot API."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from telegram import Bot

from tests.fakes import council_pdfs
from tests.fakes.clock import FakeClock
from watcher.models import Alert, Item, Match
from watcher.notifiers.format import alert_html, alert_text, procedure_links
from watcher.notifiers.telegram import TelegramNotifier
from watcher.sources.council.document import item_from_pdf, placeholder_item, read_pdf
from watcher.sources.council.refs import DocRef

SOURCE = "council-docs"
LABELS = {"smuggling": "Migrant smuggling"}
FIRST_SEEN = datetime(2026, 10, 12, 9, 0, tzinfo=UTC)
SNIPPET = "…to prevent and counter [migrant smuggling] <routes> & networks…"
HEADER = """Council of the
European Union
Brussels, 11 October 2023
(OR. en)
13589/{middle}23
{version}
Interinstitutional File:
2023/0439(COD)
LIMITE
FRONT 301
COMIX 455
NOTE
From: Presidency
To: Permanent Representatives Committee
No. prev. doc.: 13400/23
Subject: Migrant smuggling & trafficking <networks> - Presidency compromise text
Delegations will find attached the Presidency compromise text.
13589/23 MM/lm 1
JAI.1 LIMITE EN"""
TITLE = "Migrant smuggling &amp; trafficking &lt;networks&gt; - Presidency compromise text"
OEIL = (
    '<a href="https://oeil.secure.europarl.europa.eu/oeil/popups/ficheprocedure.do?reference=2023/0439(COD)">'
    '2023/0439(COD)</a> (<a href="https://eur-lex.europa.eu/procedure/EN/2023_439">EUR-Lex</a>)'
)
FACTS = (
    "Presidency → Permanent Representatives Committee · LIMITE\n"
    "FRONT, COMIX\n"
    f"{OEIL}\n"
    "Source: council-docs\n"
    "Topics: Migrant smuggling\n"
    "Matched: “migrant smuggling”\n"
    "<i>…to prevent and counter [migrant smuggling] &lt;routes&gt; &amp; networks…</i>"
)


@pytest.fixture
def clock():
    return FakeClock(FIRST_SEEN)


def document(ref: DocRef) -> Item:
    """The item the document server's PDF of ``ref`` gives, its header laid out as in HEADER."""
    middle = f"{ref.revision}/" if ref.revision else ""
    text = HEADER.format(middle=middle, version=ref.version_str if ref.version else "")
    return item_from_pdf(SOURCE, ref, ref.pdf_url(), read_pdf(council_pdfs.make_pdf([text])))


def record(store, *items: Item) -> None:
    matches = {item.key: [Match("smuggling", ("migrant smuggling",), SNIPPET, "body")] for item in items}
    store.record_poll(SOURCE, list(items), matches)


@pytest.fixture
def alerts(store, clock) -> dict[str, Alert]:
    """Three outbox alerts for one subscriber: a new document, a new version, and a number now public."""
    rev1, rev2 = DocRef("ST", 13589, 2023, (("REV", 1),)), DocRef("ST", 13589, 2023, (("REV", 2),))
    gap, new = DocRef("ST", 13590, 2023), DocRef("ST", 13591, 2023)
    store.record_poll(SOURCE, [document(rev1), placeholder_item(SOURCE, gap, gap.pdf_url())], {})  # first poll
    store.subscribe("telegram", "42", ["smuggling"])
    clock.advance(days=2)
    record(store, document(rev2), document(gap), document(new))
    return {a.item_id: a for a in store.due_alerts(["telegram"])}


def test_a_new_council_document_says_what_it_is(alerts):
    """A new document's alert gives its reference, type, date, parties, marking, codes and linked procedure."""
    url = "https://data.consilium.europa.eu/doc/document/ST-13591-2023-INIT/en/pdf"
    assert alert_html(alerts["ST 13591 2023 INIT"], LABELS) == (
        f'🔔 <b>New</b>: <b><a href="{url}">{TITLE}</a></b>\nST 13591/23 · NOTE · 11 Oct 2023\n{FACTS}'
    )


def test_a_new_version_names_its_version_and_when_the_document_was_first_seen(alerts):
    """A new version's alert says which version of which document, and since when the document is known."""
    alert = alerts["ST 13589 2023 REV 2"]
    url = "https://data.consilium.europa.eu/doc/document/ST-13589-2023-REV-2/en/pdf"
    assert alert_html(alert, LABELS) == (
        f'🔔 <b>New version REV 2 of ST 13589/23</b> (first seen 12 Oct 2026): <b><a href="{url}">{TITLE}</a></b>\n'
        f"ST 13589/23 REV 2 · NOTE · 11 Oct 2023\n{FACTS}"
    )
    assert alert_text(alert, LABELS).startswith(
        "New version REV 2 of ST 13589/23 (first seen 12 Oct 2026): Migrant smuggling & trafficking <networks>"
    )


def test_a_document_now_public_says_since_when_it_was_listed_as_not_public(alerts):
    """A number first recorded as not public, then served, alerts "Now public" with the day it was listed."""
    url = "https://data.consilium.europa.eu/doc/document/ST-13590-2023-INIT/en/pdf"
    assert alert_html(alerts["ST 13590 2023 INIT"], LABELS) == (
        f'🔔 <b>Now public</b>: <b><a href="{url}">{TITLE}</a></b> (listed as not public since 12 Oct 2026)\n'
        f"ST 13590/23 · NOTE · 11 Oct 2023\n{FACTS}"
    )


def test_the_plain_text_gives_the_same_facts_with_the_procedure_pages(alerts):
    """The plain-text alert has the same lines, unescaped, and the two procedure pages as addresses."""
    text = alert_text(alerts["ST 13591 2023 INIT"], LABELS)
    assert text.splitlines()[:5] == [
        "New: Migrant smuggling & trafficking <networks> - Presidency compromise text",
        "ST 13591/23 · NOTE · 11 Oct 2023",
        "Presidency → Permanent Representatives Committee · LIMITE",
        "FRONT, COMIX",
        "2023/0439(COD): " + " · ".join(procedure_links("2023/0439(COD)")),
    ]


def test_a_scraped_procedure_that_is_not_one_gets_no_link():
    """Only a well-formed procedure number is turned into links; anything else in the field is left out."""
    alert = Alert(
        id=1,
        subscriber_id=1,
        channel="telegram",
        address="1",
        source=SOURCE,
        item_id="ST 1 2026 INIT",
        title="t",
        url="",
        published=None,
        topics=(),
        terms=(),
        extra={"family": "ST 1 2026", "procedures": ['2023/0439(COD)"><script>', "2023/0439(COD)"]},
    )
    html_text = alert_html(alert, LABELS)
    assert "<script>" not in html_text and html_text.count("oeil.secure.europarl.europa.eu") == 1


def test_other_alerts_keep_their_layout():
    """An alert that is not a Council document's keeps the source and date line and no Council lines."""
    alert = Alert(
        id=1,
        subscriber_id=1,
        channel="telegram",
        address="1",
        source="press",
        item_id="x",
        title="Press release",
        url="https://e.org/x",
        published=datetime(2026, 1, 2, tzinfo=UTC),
        topics=("smuggling",),
        terms=("migrant smuggling",),
    )
    assert alert_html(alert, LABELS).splitlines()[:2] == [
        '🔔 <b>New</b>: <b><a href="https://e.org/x">Press release</a></b>',
        "Source: press · 2026-01-02",
    ]


async def test_a_council_alert_reaches_telegram_as_formatted(alerts, api):
    """Sent through the real Telegram library to the fake Bot API, the version alert arrives as HTML, whole."""
    alert = alerts["ST 13589 2023 REV 2"]
    async with Bot(api.token, base_url=api.base_url) as bot:
        await TelegramNotifier(bot, LABELS).send(alert)
    [sent] = api.sent_messages(42)
    assert sent["parse_mode"] == "HTML" and sent["text"] == alert_html(alert, LABELS)
