"""Register result pages, listing pages and bot-challenge detection."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from watcher.sources.council.register import RegisterPage, detect_challenge, parse_register_page, row_to_item

DATA = Path(__file__).parent / "data" / "council"
PDF = "https://data.consilium.europa.eu/doc/document"

# reference -> (type, date, public, languages) for the 20 items of register-results.html
EXPECTED = {
    "ST 14860 2023 REV 1": ("NOTE", date(2023, 11, 30), True, ("en", "de", "fr")),
    "ST 15001 2023 ADD 1 REV 2": ('"I/A" ITEM NOTE', date(2023, 11, 29), True, ("en", "fr")),
    "ST 15001 2023 ADD 1": ('"I/A" ITEM NOTE', date(2023, 11, 28), True, ("en", "de", "fr", "it")),
    "WK 15432 2023 INIT": ("INFORMATION", date(2023, 11, 27), False, ()),
    "ST 15210 2023 INIT": ("NOTE", date(2023, 11, 24), False, ()),
    "ST 14321 2023 EXT 1": ("NOTE", date(2023, 11, 22), True, ("en",)),
    "ST 14860 2023 INIT": ("NOTE", date(2023, 11, 21), True, ("en",)),
    "ST 13589 2023 COR 1": ("OUTCOME OF PROCEEDINGS", date(2023, 11, 20), True, ("en", "de", "fr", "it")),
    "PE 100 2023 REV 1": ("LEGISLATIVE ACTS AND OTHER INSTRUMENTS", date(2023, 11, 17), True, ("en", "fr")),
    "CM 5432 2023 INIT": ("NOTICE OF MEETING AND PROVISIONAL AGENDA", date(2023, 11, 15), True, ("en",)),
    "SN 4567 2023 INIT": ("NOTE", date(2023, 11, 14), True, ("en",)),
    "ST 15100 2023 INIT": ("COVER NOTE", None, True, ("en", "de", "fr")),
    "ST 12987 2023 INIT": ("REPORT", date(2023, 11, 13), True, ("en",)),
}


def load(name: str) -> bytes:
    return (DATA / name).read_bytes()


def by_ref(page: RegisterPage) -> dict:
    return {row.reference: row for row in page.rows}


def test_results_page_gives_one_row_per_reference():
    """20 result items listing 13 documents (some once per language) give 13 rows, in page order."""
    page = parse_register_page(load("register-results.html"))
    assert page.is_results_page and page.total == 137
    assert load("register-results.html").count(b'class="gsc-public-register__result-item"') == 20
    assert [row.reference for row in page.rows] == list(EXPECTED)


def test_results_rows_types_dates_public_flags_and_languages():
    """Each row has the expected document type, date, public flag and merged languages."""
    rows = by_ref(parse_register_page(load("register-results.html")))
    got = {ref: (r.doc_type, r.date, r.public, r.languages) for ref, r in rows.items()}
    assert got == EXPECTED


def test_row_fields_and_english_text_preferred():
    """Subject matters, originator, addressee and the English title win over other languages."""
    row = by_ref(parse_register_page(load("register-results.html")))["ST 14860 2023 REV 1"]
    assert row.title.startswith("Proposal for a Regulation on the European Border and Coast Guard")
    assert row.subjects == ("FRONT", "SIRIS", "CODEC", "COMIX")
    assert (row.originator, row.addressee) == ("Presidency", "Permanent Representatives Committee/Council")
    assert row.pdf_url("de") == f"{PDF}/ST-14860-2023-REV-1/de/pdf"


def test_not_public_rows_and_access_notes():
    """Rows without a PDF link are not public, with or without wording; a partial release stays public."""
    rows = by_ref(parse_register_page(load("register-results.html")))
    wk, st, ext = rows["WK 15432 2023 INIT"], rows["ST 15210 2023 INIT"], rows["ST 14321 2023 EXT 1"]
    assert not wk.public and wk.access_note.startswith("This document is not publicly accessible")
    assert not st.public and st.access_note == "" and st.pdf_links == ()
    assert st.title == "Schengen Barometer+ - state of play"
    assert ext.public and "partially accessible" in ext.access_note


def test_meeting_date_is_not_the_document_date():
    """A row without a document date keeps date None even when a meeting date is listed."""
    row = by_ref(parse_register_page(load("register-results.html")))["ST 15100 2023 INIT"]
    assert row.date is None and row.meeting_date == date(2023, 12, 5)


def test_row_to_item_for_public_and_not_public_rows():
    """Items carry the canonical id, English PDF or register link, UTC date and the metadata extras."""
    rows = by_ref(parse_register_page(load("register-results.html")))
    item = row_to_item(rows["ST 15001 2023 ADD 1 REV 2"], "council-register")
    assert item.key == ("council-register", "ST 15001 2023 ADD 1 REV 2")
    assert item.url == f"{PDF}/ST-15001-2023-ADD-1-REV-2/en/pdf"
    assert item.published == datetime(2023, 11, 29, tzinfo=UTC)
    assert item.title == "Council conclusions on operational cooperation against migrant smuggling - Approval"
    assert "Council conclusions on operational cooperation against migrant smuggling" in item.summary
    assert {
        k: item.extra[k]
        for k in ("doc_type", "subjects", "public", "family", "version", "languages", "originator", "addressee")
    } == {
        "doc_type": '"I/A" ITEM NOTE',
        "subjects": ["MIGR", "JAIEX", "COSI"],
        "public": True,
        "family": "ST 15001 2023",
        "version": "ADD 1 REV 2",
        "languages": ["en", "fr"],
        "originator": "General Secretariat of the Council",
        "addressee": "Permanent Representatives Committee/Council",
    }
    hidden = row_to_item(rows["ST 15210 2023 INIT"], "council-register")
    assert hidden.url.startswith("https://www.consilium.europa.eu/") and "DocumentNumber=15210%2F23" in hidden.url
    assert hidden.extra["public"] is False and hidden.extra["languages"] == []
    undated = row_to_item(rows["ST 15100 2023 INIT"], "council-register")
    assert undated.published is None


def test_parsing_without_the_css_classes_gives_the_same_rows():
    """With every reported CSS class renamed, anchors on references and PDF links still find all rows."""
    body = load("register-results.html")
    for cls in (
        b"gsc-public-register__result-item",
        b"pa-download-document-title",
        b"pull-right",
        b"pr-meta",
        b"link-pdf",
        b"option-language-item",
    ):
        body = body.replace(cls, b"renamed-" + cls[::-1])
    page = parse_register_page(body)
    got = {r.reference: (r.doc_type, r.date, r.public, r.languages) for r in page.rows}
    assert got == EXPECTED and page.total == 137


def test_latest_listing_page():
    """The latest-documents table gives one row per reference with column fields and PDF links."""
    page = parse_register_page(load("latest.html"))
    assert page.is_results_page and page.total is None
    rows = by_ref(page)
    assert len(rows) == 8
    assert rows["ST 15987 2023 REV 2"].doc_type == '"I/A" ITEM NOTE'
    assert rows["ST 16012 2023 INIT"].date == date(2023, 12, 5)
    assert rows["ST 16012 2023 INIT"].languages == ("en", "de", "fr")
    assert rows["ST 15940 2023 ADD 1"].pdf_url("it") == f"{PDF}/ST-15940-2023-ADD-1/it/pdf"
    assert [ref for ref, r in rows.items() if not r.public] == ["WK 16100 2023 INIT"]
    assert rows["WK 16100 2023 INIT"].title == "Frontex contribution on the situation at the external borders"


def test_empty_results_page_is_a_results_page_with_no_rows():
    """A page announcing 0 results is recognised as an empty results page."""
    page = parse_register_page(load("register-empty.html"))
    assert page == RegisterPage(rows=[], total=0, is_results_page=True)


def test_empty_page_is_recognised_by_its_wording_alone():
    """Without the count element, the "no documents" wording still marks the page as empty results."""
    body = load("register-empty.html").replace(b'<span class="results">0 results</span>', b"")
    page = parse_register_page(body)
    assert page.rows == [] and page.is_results_page


@pytest.mark.parametrize(
    "name,body",
    [
        ("challenge", None),
        ("garbage bytes", b"\x00\xff\xfe garbage \x89PNG"),
        ("error page", b"<html><body><h1>Service unavailable</h1><p>Please try later.</p></body></html>"),
        ("not html", b'{"error": "internal"}'),
    ],
)
def test_unrecognised_pages_are_not_results(name, body):
    """Challenge pages, garbage and error pages are not mistaken for empty results."""
    page = parse_register_page(body if body is not None else load("challenge.html"))
    assert page.rows == [] and not page.is_results_page


def test_count_without_rows_means_markup_changed():
    """A page that announces 137 results but yields no rows is not a results page."""
    body = load("register-results.html")
    start, end = body.index(b'<ul class="gsc-public-register__results'), body.index(b"</ul>\n    <nav")
    page = parse_register_page(body[:start] + body[end + 5 :])
    assert page.total == 137 and page.rows == [] and not page.is_results_page


def test_challenge_page_detected_from_body():
    """The 15 KB challenge fixture is detected whatever the status."""
    body = load("challenge.html")
    assert 12_000 < len(body) < 20_000
    assert detect_challenge(200, {"content-type": "text/html"}, body)
    assert detect_challenge(503, {}, body)


@pytest.mark.parametrize(
    "status,headers,body",
    [
        (403, {"cf-mitigated": "challenge"}, b""),
        (200, {"CF-Mitigated": "challenge"}, b"<html></html>"),
        (403, {}, b"<html><script src='/cdn-cgi/challenge-platform/scripts/jsd/main.js'></script></html>"),
        (403, {}, b"<html><body>Access Denied. Reference #18.2 https://errors.edgesuite.net/18.2</body></html>"),
        (200, {}, b"<html><head><title>Attention Required! | Cloudflare</title></head></html>"),
        (200, {}, b"<html><body><div id='cf-browser-verification'></div></body></html>"),
        (200, {}, b"<html><body>Enable JavaScript and cookies to continue</body></html>"),
    ],
)
def test_challenge_signals(status, headers, body):
    """The cf-mitigated header, a challenge trace on an error answer, or any of the known challenge texts is a
    challenge."""
    reason = detect_challenge(status, headers, body)
    assert isinstance(reason, str) and reason


@pytest.mark.parametrize("name", ["register-results.html", "register-empty.html", "latest.html"])
def test_real_shaped_pages_are_not_challenges(name):
    """Ordinary register pages with status 200 are not flagged as challenges."""
    assert detect_challenge(200, {"server": "cloudflare"}, load(name)) is None


@pytest.mark.parametrize(
    "status,headers,body",
    [
        (403, {}, b""),
        (403, {"content-type": "text/html"}, b"<html><body>Forbidden</body></html>"),
        (200, {}, b"<html><script src='/cdn-cgi/challenge-platform/scripts/jsd/main.js'></script>Register</html>"),
        (404, {}, b"<html><head><title>Just a moment...</title></head></html>"),
        (200, {}, b"<?xml version='1.0'?><rss><channel><item><title>Just a moment...</title></item></channel></rss>"),
    ],
)
def test_not_challenges(status, headers, body):
    """A bare 403, the injected challenge-platform script on a 200 page, an error status bot protection never
    uses, and a feed quoting challenge wording are not challenges."""
    assert detect_challenge(status, headers, body) is None


def test_big_page_mentioning_a_marker_in_text_is_not_a_challenge():
    """In a large page, challenge wording outside the title does not count."""
    body = b"<html><head><title>Register</title></head><body>" + b"x" * 70_000 + b"Just a moment...</body></html>"
    assert detect_challenge(200, {}, body) is None


def test_div_only_markup_with_inline_labels():
    """Rows built from plain divs with "Label: value" lines are still split per reference."""
    body = b"""<html><body><div class="results"><div class="entry"><div class="head">
      <span>ST 9001 2024 INIT - NOTE</span> <span>02/02/2024</span></div>
      <div><a href="/en/doc/9001">Border management report</a></div>
      <div>Subject matters: MIGR 12, FRONT 7</div><div>Originator: Presidency</div>
      <a href="https://data.consilium.europa.eu/doc/document/ST-9001-2024-INIT/en/pdf">EN</a></div>
    <div class="entry"><div class="head"><span>WK 77 2024 INIT</span><span>- INFORMATION</span>
      <span>01/02/2024</span></div><div>Addressee: Delegations</div></div>
    </div></body></html>"""
    page = parse_register_page(body)
    assert page.is_results_page and [r.reference for r in page.rows] == ["ST 9001 2024 INIT", "WK 77 2024 INIT"]
    first, second = page.rows
    assert (first.doc_type, first.date, first.subjects, first.originator) == (
        "NOTE",
        date(2024, 2, 2),
        ("MIGR", "FRONT"),
        "Presidency",
    )
    assert first.public and first.url == "https://www.consilium.europa.eu/en/doc/9001"
    assert (second.doc_type, second.date, second.addressee, second.public) == (
        "INFORMATION",
        date(2024, 2, 1),
        "Delegations",
        False,
    )


def test_rows_named_only_by_their_pdf_links():
    """When no text names the documents, rows are found from their PDF links, one per document."""
    body = b"""<html><body><ul class="docs">
      <li><a href="/doc/document/ST-8123-2024-INIT/en/pdf">Migrant smuggling: state of play</a>
          <span>03/03/2024</span> <a href="/doc/document/ST-8123-2024-INIT/fr/pdf">FR</a></li>
      <li><a href="https://data.consilium.europa.eu/doc/document/ST-8100-2024-REV-1/en/pdf">Return policy</a>
          <span>01/03/2024</span></li>
    </ul></body></html>"""
    page = parse_register_page(body, base_url="https://data.consilium.europa.eu/")
    assert [(r.reference, r.date, r.languages, r.title) for r in page.rows] == [
        ("ST 8123 2024 INIT", date(2024, 3, 3), ("en", "fr"), "Migrant smuggling: state of play"),
        ("ST 8100 2024 REV 1", date(2024, 3, 1), ("en",), "Return policy"),
    ]
