"""The council-register source through the pipeline: register pages from a local server, a real SQLite file, and
the events users care about (new, new version, now public)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.fakes import council_pdfs
from tests.fakes.clock import FakeClock
from tests.fakes.council import (
    HTML_HEADERS,
    MAKE_15210_PUBLIC,
    MORNING,
    PDF_HEADERS,
    REV_1_TO_REV_2,
    page,
    results_with,
    settled_counts,
    test_matcher,
)
from tests.test_council_register import EXPECTED
from watcher import pipeline
from watcher.http.client import Http
from watcher.notifiers.format import alert_text
from watcher.sources.council_register import CouncilRegisterSource
from watcher.store.sqlite import Store

SEARCH = "/en/documents-publications/public-register/public-register-search/"
DOCS = "/doc/document"
LABELS = {"smuggling": "Migrant smuggling", "borders": "Borders and Schengen"}


@pytest.fixture
async def env(tmp_path):
    http = Http(timeout=2.0, clock=FakeClock())  # pauses between requests and before retries take no real time
    store = Store(tmp_path / "w.db", clock=FakeClock(MORNING))
    store.subscribe("telegram", "42", ["smuggling", "borders"])
    yield http, store
    await http.aclose()
    store.close()


def register(server, **options) -> CouncilRegisterSource:
    options.setdefault("max_pages", 1)
    return CouncilRegisterSource(
        name="register", url=server.url(SEARCH), every=60.0, document_server=server.url(DOCS), **options
    )


def stored(store: Store, source: str = "register") -> dict[str, dict]:
    rows = store.db.execute("SELECT item_id, published, extra, family, public FROM items WHERE source=?", (source,))
    return {r["item_id"]: dict(r) | {"extra": json.loads(r["extra"])} for r in rows}


async def test_results_page_gives_one_item_per_reference_through_the_pipeline(feed_server, env):
    """The 20 result rows become 13 recorded items with the right dates, types, public flags and families."""
    http, store = env
    feed_server.set(SEARCH, page("register-results.html"), headers=HTML_HEADERS)
    result = await pipeline.poll(register(feed_server), http, store, test_matcher())
    assert result.ok and result.first_poll and [i.id for i in result.items] == list(EXPECTED)
    rows = stored(store)
    assert set(rows) == set(EXPECTED)
    for ref, (doc_type, day, public, _langs) in EXPECTED.items():
        row = rows[ref]
        assert row["extra"]["doc_type"] == doc_type
        assert row["published"] == (datetime(day.year, day.month, day.day, tzinfo=UTC).isoformat() if day else None)
        assert row["public"] == int(public) and row["extra"]["public"] is public
        assert row["family"] == " ".join(ref.split()[:3])
    assert store.outbox_depth() == 0


async def test_search_query_carries_the_configured_filters(feed_server, env):
    """Words, subject matters, types, language and only-public go into the query, newest first, page 1."""
    http, store = env
    src = register(
        feed_server,
        words_in_subject="migrant smuggling",
        subject_matters=["MIGR", "FRONT"],
        document_types=["NOTE"],
        language="en",
        only_public=True,
    )
    url = src.search_url(1)
    assert url.startswith(feed_server.url(SEARCH) + "?")
    assert (
        "WordsInSubject=migrant+smuggling&SubjectMatters=MIGR&SubjectMatters=FRONT&DocumentTypes=NOTE&"
        "DocumentLanguage=EN&OnlyPublicDocuments=true&OrderBy=DOCUMENT_DATE+DESC&page=1"
    ) in url


async def test_challenge_page_is_a_blocked_failure_and_records_nothing(feed_server, env):
    """A challenge page answered with 200 is a "blocked by bot protection" failure; no item is recorded."""
    http, store = env
    feed_server.set(SEARCH, page("challenge.html"), headers={"Content-Type": "text/plain"})
    result = await pipeline.poll(register(feed_server), http, store, test_matcher())
    assert result.failure == "blocked" and result.detail.startswith("blocked by bot protection")
    assert store.db.execute("SELECT count(*) FROM items").fetchone()[0] == 0
    state = store.source_states()["register"]
    assert state["last_failure"] == "blocked" and state["last_success_at"] is None


@pytest.mark.parametrize(
    "headers,body",
    [
        ({"cf-mitigated": "challenge", **HTML_HEADERS}, b"Forbidden"),
        (HTML_HEADERS, b"<html><script src='/cdn-cgi/challenge-platform/h/b'></script></html>"),
    ],
)
async def test_403_with_challenge_signs_is_blocked(feed_server, env, headers, body):
    """A 403 from the register with cf-mitigated or a challenge marker is a "blocked" failure, not a client error."""
    http, store = env
    feed_server.set(SEARCH, body, status=403, headers=headers)
    result = await pipeline.poll(register(feed_server), http, store, test_matcher())
    assert result.failure == "blocked" and "bot protection" in result.detail


async def test_bare_403_is_a_forbidden_client_error(feed_server, env):
    """A 403 without any sign of bot protection is a plain "forbidden" client error, and records nothing."""
    http, store = env
    feed_server.set(SEARCH, b"Forbidden", status=403, headers={"Content-Type": "text/plain"})
    result = await pipeline.poll(register(feed_server), http, store, test_matcher())
    assert result.failure == "client_error" and "403 Forbidden" in result.detail
    assert "bot protection" in result.detail and store.db.execute("SELECT count(*) FROM items").fetchone()[0] == 0


async def test_empty_results_are_fine_but_unknown_pages_fail(feed_server, env):
    """A real results page with 0 rows is a success; an unrecognised page or a count without rows is a failure."""
    http, store = env
    feed_server.set(SEARCH, page("register-empty.html"), headers=HTML_HEADERS)
    empty = await pipeline.poll(register(feed_server), http, store, test_matcher())
    assert empty.ok and empty.items == []
    feed_server.set(SEARCH, b"<html><body><h1>Service unavailable</h1></body></html>", headers=HTML_HEADERS)
    odd = await pipeline.poll(register(feed_server), http, store, test_matcher())
    assert odd.failure == "unparseable" and "markup may have changed" in odd.detail
    body = page("register-results.html")
    start, end = body.index(b'<ul class="gsc-public-register__results'), body.index(b"</ul>\n    <nav")
    feed_server.set(SEARCH, body[:start] + body[end + 5 :], headers=HTML_HEADERS)
    rowless = await pipeline.poll(register(feed_server), http, store, test_matcher())
    assert rowless.failure == "empty" and "137 results" in rowless.detail


def _synthetic(refs: list[str]) -> bytes:
    rows = "".join(
        f'<li class="gsc-public-register__result-item"><header><strong class="pa-download-document-title">'
        f'{ref} - NOTE</strong><span class="pull-right">01/03/2026</span></header>'
        f'<h3><a href="/doc/{ref.replace(" ", "-")}">Note {ref}</a></h3></li>'
        for ref in refs
    )
    return (
        f'<html><body><div class="pr-meta"><span class="results">1 - 2 of 900</span></div><ul>{rows}</ul>'
        f"</body></html>".encode()
    )


def _serve_pages(server, src: CouncilRegisterSource, pages: dict[int, list[str]]) -> list[str]:
    paths = []
    for number, refs in pages.items():
        path = src.search_url(number)[len(server.base_url) :]
        server.set(path, _synthetic(refs), headers=HTML_HEADERS)
        paths.append(path)
    return paths


async def test_paging_stops_at_max_pages_then_at_known_references(feed_server, env):
    """The first poll pages back max_pages pages; a later one stops at the first page holding a known reference."""
    http, store = env
    src = register(feed_server, max_pages=3)
    pages = {n: [f"ST {100 * n + k} 2026 INIT" for k in range(2)] for n in range(1, 6)}
    paths = _serve_pages(feed_server, src, pages)
    first = await pipeline.poll(src, http, store, test_matcher())
    assert len(first.items) == 6 and settled_counts(feed_server, paths, [1, 1, 1, 0, 0]) == [1, 1, 1, 0, 0]
    pages[1] = ["ST 900 2026 INIT", "ST 101 2026 INIT"]
    pages[2] = ["ST 100 2026 INIT", "ST 101 2026 INIT"]
    _serve_pages(feed_server, src, {1: pages[1], 2: pages[2]})
    second = await pipeline.poll(src, http, store, test_matcher())
    assert [i.id for i in second.new] == ["ST 900 2026 INIT"]
    assert settled_counts(feed_server, paths, [2, 1, 1, 0, 0]) == [2, 1, 1, 0, 0]


async def test_a_failing_later_page_fails_the_poll(feed_server, env):
    """When page 2 fails before a known document was met, the poll fails and records nothing, so page 2's documents
    are not skipped for good by the next poll stopping at page 1."""
    http, store = env
    src = register(feed_server, max_pages=3)
    _serve_pages(feed_server, src, {1: ["ST 1 2026 INIT", "ST 2 2026 INIT"]})
    feed_server.set(src.search_url(2)[len(feed_server.base_url) :], b"oops", status=500)
    result = await pipeline.poll(src, http, store, test_matcher())
    assert result.failure == "server_error" and result.new == []
    assert store.known_ids(src.name, ["ST 1 2026 INIT", "ST 2 2026 INIT"]) == set()


async def test_new_version_now_public_and_unchanged_rows(feed_server, env):
    """After the first poll, REV 2 of a known family alerts "New version", a LIMITE document given a PDF link
    alerts "Now public", and rows seen again unchanged alert nothing."""
    http, store = env
    src = register(feed_server, pdf_text="none")
    feed_server.set(SEARCH, page("register-results.html"), headers=HTML_HEADERS)
    assert (await pipeline.poll(src, http, store, test_matcher())).first_poll
    unchanged = await pipeline.poll(src, http, store, test_matcher())
    assert unchanged.ok and unchanged.new == [] and unchanged.events == {} and store.outbox_depth() == 0
    feed_server.set(SEARCH, results_with(MAKE_15210_PUBLIC, *REV_1_TO_REV_2), headers=HTML_HEADERS)
    changed = await pipeline.poll(src, http, store, test_matcher())
    assert changed.events == {"ST 14860 2023 REV 2": "version", "ST 15210 2023 INIT": "public"}
    alerts = {a.item_id: a for a in store.due_alerts(["telegram"])}
    assert {k: a.event for k, a in alerts.items()} == {"ST 14860 2023 REV 2": "version", "ST 15210 2023 INIT": "public"}
    version = alert_text(alerts["ST 14860 2023 REV 2"], LABELS).splitlines()[0]
    assert (
        version.startswith("New version REV 2 of ST 14860/23 (first seen ") and ": Proposal for a Regulation" in version
    )
    public = alert_text(alerts["ST 15210 2023 INIT"], LABELS)
    assert public.startswith("Now public: Schengen Barometer+") and "(listed as not public since " in public
    assert "ST-15210-2023-INIT/en/pdf" in public
    assert stored(store)["ST 15210 2023 INIT"]["public"] == 1
    again = await pipeline.poll(src, http, store, test_matcher())
    assert again.events == {} and store.outbox_depth() == 2


async def test_new_version_inherits_the_topics_of_its_family(feed_server, env):
    """A new version whose own title matches nothing still alerts the topics its earlier versions matched."""
    http, store = env
    src = register(feed_server, pdf_text="none")
    feed_server.set(SEARCH, page("register-results.html"), headers=HTML_HEADERS)
    await pipeline.poll(src, http, store, test_matcher())
    renamed = results_with(
        *REV_1_TO_REV_2,
        (
            "Proposal for a Regulation on the European Border and Coast Guard - Presidency compromise text<",
            "Revised text<",
        ),
    )
    feed_server.set(SEARCH, renamed, headers=HTML_HEADERS)
    await pipeline.poll(src, http, store, test_matcher())
    [alert] = store.due_alerts(["telegram"])
    assert (alert.item_id, alert.event, alert.topics) == ("ST 14860 2023 REV 2", "version", ("borders",))
    assert alert.snippet == "matched an earlier version: ST 14860 2023 REV 1, ST 14860 2023 INIT"


async def test_pdf_text_of_flagged_documents_only(feed_server, env):
    """With pdf_text = "flagged", only public documents the listing flags have their PDF read, and its header
    fills in the item."""
    http, store = env
    src = register(feed_server)
    # the first poll that finds anything only records
    feed_server.set(SEARCH, _synthetic(["ST 1 2023 INIT"]), headers=HTML_HEADERS)
    await pipeline.poll(src, http, store, test_matcher())
    pdf = council_pdfs.limite_note_pdf()
    feed_server.set(f"{DOCS}/ST-14860-2023-REV-1/en/pdf", pdf, headers=PDF_HEADERS)
    feed_server.set(f"{DOCS}/ST-14321-2023-EXT-1/en/pdf", pdf, headers=PDF_HEADERS)
    feed_server.set(SEARCH, page("register-results.html"), headers=HTML_HEADERS)
    await pipeline.poll(src, http, store, test_matcher())
    read, unread = f"{DOCS}/ST-14860-2023-REV-1/en/pdf", f"{DOCS}/ST-14321-2023-EXT-1/en/pdf"
    assert settled_counts(feed_server, [read, unread], [1, 0]) == [1, 0]
    extra = stored(store)["ST 14860 2023 REV 1"]["extra"]
    assert extra["marking"] == "LIMITE" and extra["interinstitutional_file"] == "2018/0330(COD)"
    assert extra["page_starts"] == [0, extra["page_starts"][1]] and extra["page_count"] == 2


async def test_topic_only_in_the_pdf_body_is_flagged_with_page_and_snippet(feed_server, env):
    """With pdf_text = "all", a document whose listing matches nothing but whose page 3 mentions migrant
    smuggling is flagged, and its alert says "p. 3" with the snippet."""
    http, store = env
    src = register(feed_server, pdf_text="all")
    # the first poll that finds anything only records
    feed_server.set(SEARCH, _synthetic(["ST 1 2023 INIT"]), headers=HTML_HEADERS)
    await pipeline.poll(src, http, store, test_matcher())
    feed_server.set(f"{DOCS}/ST-14321-2023-EXT-1/en/pdf", council_pdfs.summary_record_pdf(), headers=PDF_HEADERS)
    feed_server.set(SEARCH, page("register-results.html"), headers=HTML_HEADERS)
    result = await pipeline.poll(src, http, store, test_matcher())
    flagged = {item.id: matches for item, matches in result.flagged}
    [match] = flagged["ST 14321 2023 EXT 1"]
    assert match.topic == "smuggling" and match.field == "body"
    alert = next(a for a in store.due_alerts(["telegram"]) if a.item_id == "ST 14321 2023 EXT 1")
    assert alert.snippet.startswith("p. 3: …") and "[migrant smuggling]" in alert.snippet
    assert "Context: p. 3: " in alert_text(alert, LABELS)


async def test_listing_pages_are_polled_and_merged_by_reference(feed_server, env):
    """Listing pages (relative to the search URL) are polled with the search; one item per reference."""
    http, store = env
    feed_server.set("/en/documents/public-register/latest/", page("latest.html"), headers=HTML_HEADERS)
    feed_server.set(SEARCH, page("register-results.html"), headers=HTML_HEADERS)
    src = register(feed_server, listings=["/en/documents/public-register/latest/"], pdf_text="none")
    result = await pipeline.poll(src, http, store, test_matcher())
    assert len(result.items) == 13 + 8 and len({i.id for i in result.items}) == 21
    only_listing = register(feed_server, search=False, listings=["/en/documents/public-register/latest/"])
    listed = await pipeline.poll(only_listing, http, store, test_matcher())
    assert [i.id for i in listed.items][:2] == ["ST 16012 2023 INIT", "ST 15987 2023 REV 2"]
