"""The archive's pages through Starlette's TestClient: search results, the item page with timeline, procedure
links and provenance, the sources page, read-only methods, strict headers, escaping, and the token."""

from __future__ import annotations

import base64
import hashlib
import re
import warnings

import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.council import MORNING
from watcher.models import Item, Match
from watcher.sources.rss import RssSource
from watcher.store.archive import Reader
from watcher.store.provenance import Fetched, KeptDocuments
from watcher.store.sqlite import Store
from watcher.web.archive import ArchiveSite, routes
from watcher.web.site import build_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note about httpx; the client works the same
    from starlette.testclient import TestClient

TOPICS = {"smuggling": "Migrant smuggling"}
PDF = b"%PDF-1.4 a kept council document"
HOSTILE = "<script>alert('x')</script><img src=x onerror=alert(1)> \"q\" \u202etxt"
REF = "ST 9 2024 INIT"


def record(store: Store) -> None:
    """Two polls: the first records a placeholder, the second the public document with its PDF provenance."""
    ref_url = "https://docs.example/ST-9-2024-INIT/en/pdf"
    store.subscribe("telegram", "1", ["smuggling"])
    store.record_poll(
        "council",
        [Item("council", REF, f"{REF} (not available)", ref_url, extra={"family": "ST 9 2024", "public": False})],
        {},
    )
    doc = Item(
        "council",
        REF,
        "Action plan against migrant smuggling",
        ref_url,
        summary="Follow-up of 2023/0439(COD)",
        body="Member States agreed on migrant smuggling routes.",
        extra={
            "family": "ST 9 2024",
            "public": True,
            "doc_type": "NOTE",
            "subjects": ["MIGR"],
            "marking": "LIMITE",
            "procedures": ["2023/0439(COD)"],
        },
    )
    fetched = Fetched(
        url=ref_url,
        final_url=ref_url,
        status=200,
        sha256=hashlib.sha256(PDF).hexdigest(),
        size=len(PDF),
        content_type="application/pdf",
        etag='"e1"',
        last_modified=None,
        retrieved_at=MORNING,
        document=True,
        kept=True,
    )
    store.record_poll(
        "council",
        [doc, Item("feed", "h", HOSTILE, "https://e.org/h")],
        {doc.key: [Match("smuggling", ("migrant smuggling",), "…[migrant smuggling]…", "title")]},
        fetched=[fetched],
    )
    for alert in store.due_alerts(["telegram"]):
        store.mark_delivered(alert.id)


@pytest.fixture
def site(tmp_path):
    store = Store(tmp_path / "watcher.db", clock=FakeClock(MORNING))
    record(store)
    keep = KeptDocuments(tmp_path / "documents")
    keep.keep(hashlib.sha256(PDF).hexdigest(), PDF)
    archive = ArchiveSite(
        reader=Reader(tmp_path / "watcher.db", FakeClock(MORNING)),
        topics=TOPICS,
        kept=keep,
        sources=(RssSource(name="council", url="https://docs.example/", every=60.0),),
    )
    yield archive
    archive.reader.close()
    store.close()


def client(site, **guard) -> TestClient:
    return TestClient(build_app(routes(), state={"archive": site}, **guard), base_url="http://127.0.0.1")


def test_search_shows_title_reference_topics_and_matched_words(site):
    """A result shows its title, reference, topic and the searched words marked, newest first."""
    page = client(site).get("/", params={"q": "smuggling"})
    assert page.status_code == 200
    hit = page.text.split('<li class="hit">')[1]
    assert "Action plan against <mark>migrant smuggling</mark>" in hit or "<mark>smuggling</mark>" in hit
    assert REF in hit and "Migrant smuggling</a>" in hit and "matched" in hit


def test_filters_reach_the_search(site):
    """Topic, event, code, marking and type filters narrow the results."""
    c = client(site)
    assert REF in c.get("/", params={"event": "public", "code": "migr", "marking": "limite", "type": "NOTE"}).text
    assert "Nothing found" in c.get("/", params={"event": "version"}).text
    assert "Nothing found" in c.get("/", params={"topic": "smuggling", "source": "feed"}).text


def test_scraped_text_is_escaped_and_pages_carry_no_inline_script(site):
    """A hostile title renders as text, and the only script is the external one the CSP allows."""
    page = client(site).get("/")
    assert "<script>alert" not in page.text and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page.text
    assert "<img src=x" not in page.text
    assert re.findall(r"<script[^>]*>", page.text) == ['<script src="/static/time.js" defer>']
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"


def test_item_page_has_every_field_timeline_procedure_and_provenance(site):
    """The item page shows its fields, the timeline (first seen, now public), the procedure links and the PDF's
    hash with a download of the kept copy, which is the same bytes."""
    c = client(site)
    page = c.get("/item/council/ST%209%202024%20INIT")
    assert page.status_code == 200
    text = page.text
    assert "first seen" in text and "now public" in text and "LIMITE" in text and "MIGR" in text
    assert "now-public alert sent</strong> · 1 subscriber" in text
    assert "ficheprocedure.do?reference=2023/0439(COD)" in text
    assert "https://eur-lex.europa.eu/procedure/EN/2023_439" in text
    sha = hashlib.sha256(PDF).hexdigest()
    assert sha in text and f'href="/kept/{sha}.pdf"' in text
    kept = c.get(f"/kept/{sha}.pdf")
    assert kept.status_code == 200 and kept.content == PDF and kept.headers["content-type"] == "application/pdf"
    assert c.get("/kept/" + "0" * 64).status_code == 404
    assert c.get("/item/council/nothing").status_code == 404


def test_sources_page_shows_health(site):
    """The sources page lists each configured source with its status, as `watcher status` reads it."""
    page = client(site).get("/sources")
    assert page.status_code == 200 and "council" in page.text and "status-ok" in page.text


def test_bad_search_input_is_a_message_not_an_error(site):
    """Too long, only exclusions, a bad date or FTS syntax: a 400 page that says what to change, never a 500."""
    c = client(site)
    for params in ({"q": "x" * 300}, {"q": "-smuggling"}, {"since": "last week"}, {"q": 'NEAR("a" b) OR ^*'}):
        page = c.get("/", params=params)
        assert page.status_code in (200, 400), params
        if page.status_code == 400:
            assert 'class="notice"' in page.text


def test_only_get_and_head(site):
    """Nothing on the web changes state: POST, PUT and DELETE are refused everywhere, HEAD answers."""
    c = client(site)
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert c.request(method, "/").status_code == 405
        assert c.request(method, "/healthz").status_code == 405
    head = c.head("/")
    assert head.status_code == 200 and head.content == b""


def test_exposed_without_token_refuses_pages(site):
    """On a public address without WATCHER_WEB_TOKEN the pages and feeds are refused."""
    c = client(site, exposed=True)
    assert c.get("/").status_code == 403
    assert c.get("/feeds/topic/smuggling.atom").status_code == 403
    assert "WATCHER_WEB_TOKEN" in c.get("/sources").text


def test_token_by_header_basic_auth_cookie_and_feed_query(site):
    """With a token: no token is 401; a bearer header, basic auth, the cookie set by ?token= and ?token= on a
    feed are let in; a wrong token is not."""
    c = client(site, token="s3cret", exposed=True)
    assert c.get("/").status_code == 401
    assert c.get("/", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert c.get("/", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    basic = base64.b64encode(b"reader:s3cret").decode()
    assert c.get("/", headers={"Authorization": f"Basic {basic}"}).status_code == 200
    visit = c.get("/?token=s3cret&q=smuggling", follow_redirects=False)
    assert visit.status_code == 303 and visit.headers["location"] == "/?q=smuggling"
    assert "HttpOnly" in visit.headers["set-cookie"] and "SameSite=Strict" in visit.headers["set-cookie"]
    assert c.get("/?q=smuggling").status_code == 200  # the cookie from the visit
    fresh = client(site, token="s3cret", exposed=True)
    assert fresh.get("/feeds/topic/smuggling.atom?token=s3cret").status_code == 200
    assert "token" not in fresh.get("/feeds/topic/smuggling.atom?token=s3cret").text
    assert fresh.get("/healthz").status_code == 404  # open path: not refused (this app has no health routes)


def test_loopback_only_answers_a_loopback_host(site):
    """Without a token on loopback, a request naming another host (a rebinding page) is refused."""
    c = client(site)
    assert c.get("/", headers={"Host": "evil.example"}).status_code == 403
    assert c.get("/", headers={"Host": "localhost:8080"}).status_code == 200
