"""The council-documents source: probing document numbers on a local document server that answers 200 with a PDF
for some numbers and 404 for others, with a controlled clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.fakes import council_pdfs
from tests.fakes.clock import FakeClock
from tests.fakes.council import MORNING, PDF_HEADERS, settled_counts, test_matcher
from tests.fakes.council_year import CouncilYear, CouncilYearServer, SimClock
from watcher import pipeline
from watcher.http.client import Http
from watcher.notifiers.format import alert_text
from watcher.sources.council_documents import CouncilDocumentsSource
from watcher.store.sqlite import Store

DOCS = "/doc/document"
LABELS = {"smuggling": "Migrant smuggling", "borders": "Borders and Schengen"}


def pdf_path(number: int, year: int = 2026, series: str = "ST") -> str:
    return f"{DOCS}/{series}-{number}-{year}-INIT/en/pdf"


def note(subject: str, number: int, day: str = "2 March 2026") -> bytes:
    """A one-page Council note with the given subject and number."""
    return council_pdfs.make_pdf(
        [
            "\n".join(
                [
                    "Council of the European Union",
                    f"Brussels, {day} (OR. en)",
                    f"{number}/26",
                    "MIGR 12   NOTE",
                    "From: Presidency",
                    "To: Delegations",
                    f"Subject: {subject}",
                    "",
                    "Delegations will find attached a note.",
                ]
            )
        ]
    )


@pytest.fixture
def clock():
    return FakeClock(MORNING)


@pytest.fixture
async def env(tmp_path, clock):
    http = Http(timeout=2.0, per_host_interval=0.0)
    store = Store(tmp_path / "w.db", clock=clock)
    store.subscribe("telegram", "42", ["smuggling", "borders"])
    yield http, store
    await http.aclose()
    store.close()


def documents(server, **options) -> CouncilDocumentsSource:
    options.setdefault("window", 3)
    options.setdefault("lookahead", 6)
    options.setdefault("sweep", 1)
    options.setdefault("version_probes", 0)
    options.setdefault("languages", ("en",))
    return CouncilDocumentsSource(name="docs", url=server.url(DOCS), every=600.0, **options)


def serve(server, numbers: dict[int, bytes]) -> None:
    for number, body in numbers.items():
        server.set(pdf_path(number), body, headers=PDF_HEADERS)


async def test_probing_finds_new_numbers_and_stops_at_its_bound(feed_server, env):
    """Each run asks for at most `window` + `sweep` numbers beyond the highest found, and never asks again for one
    it has."""
    http, store = env
    serve(feed_server, {n: note(f"Note {n}", n) for n in (1, 2, 3, 4, 5, 6)})
    src = documents(feed_server, window=2)
    first = await pipeline.poll(src, http, store, test_matcher())
    assert [i.id for i in first.items] == ["ST 1 2026 INIT", "ST 2 2026 INIT", "ST 3 2026 INIT"]
    paths = [pdf_path(n) for n in range(1, 9)]
    assert settled_counts(feed_server, paths, [1, 1, 1, 0, 0, 0, 0, 0]) == [1, 1, 1, 0, 0, 0, 0, 0]
    second = await pipeline.poll(src, http, store, test_matcher())
    assert [i.id for i in second.new] == ["ST 4 2026 INIT", "ST 5 2026 INIT", "ST 6 2026 INIT"]
    third = await pipeline.poll(src, http, store, test_matcher())
    assert third.items == [] and settled_counts(feed_server, paths, [1] * 8) == [1] * 8
    cursor = store.get_cursor("docs")
    assert (cursor["highest"], cursor["gaps"], sorted(cursor["families"])) == (6, {}, ["1", "2", "3", "4", "5", "6"])


async def test_a_gap_that_turns_into_a_document_alerts_now_public(feed_server, env, clock):
    """A number passed by a higher one is watched; when it appears later, the alert says "Now public"."""
    http, store = env
    serve(feed_server, {1: note("Budget", 1), 3: note("Fisheries", 3)})
    src = documents(feed_server, gap_reprobe=2)
    first = await pipeline.poll(src, http, store, test_matcher())
    assert [(i.id, i.extra["public"]) for i in first.items] == [
        ("ST 1 2026 INIT", True),
        ("ST 2 2026 INIT", False),
        ("ST 3 2026 INIT", True),
    ]
    start = int(clock.now().timestamp())
    assert store.get_cursor("docs")["gaps"] == {"2": [start, start, 1]}  # first missed, last asked, rounds
    clock.advance(hours=1)
    quiet = await pipeline.poll(src, http, store, test_matcher())
    assert quiet.events == {} and settled_counts(feed_server, [pdf_path(2)], [2]) == [2]
    serve(feed_server, {2: note("Fight against migrant smuggling: state of play", 2)})
    clock.advance(hours=1)
    found = await pipeline.poll(src, http, store, test_matcher())
    assert found.events == {"ST 2 2026 INIT": "public"}
    [alert] = store.due_alerts(["telegram"])
    assert alert.event == "public" and alert.topics == ("smuggling",)
    assert alert_text(alert, LABELS).startswith("Now public: Fight against migrant smuggling: state of play")
    assert "2" not in store.get_cursor("docs")["gaps"]


async def test_old_gaps_are_no_longer_asked_for(feed_server, env, clock):
    """A gap older than gap_max_age is dropped from the cursor and not probed again."""
    http, store = env
    serve(feed_server, {1: note("A", 1), 3: note("B", 3)})
    src = documents(feed_server, gap_max_age=2 * 86400.0)
    await pipeline.poll(src, http, store, test_matcher())
    clock.advance(days=3)
    await pipeline.poll(src, http, store, test_matcher())
    assert settled_counts(feed_server, [pdf_path(2)], [1]) == [1] and store.get_cursor("docs")["gaps"] == {}


async def test_a_run_of_non_public_numbers_does_not_hide_later_documents(feed_server, env):
    """Probing goes on past the window in later runs, up to lookahead numbers ahead, then starts over."""
    http, store = env
    serve(feed_server, {1: note("A", 1), 6: note("B", 6)})
    src = documents(feed_server, window=2, lookahead=6, gap_reprobe=0)
    ids: list[str] = []
    for _ in range(4):
        ids += [i.id for i in (await pipeline.poll(src, http, store, test_matcher())).items if i.extra["public"]]
    assert ids == ["ST 1 2026 INIT", "ST 6 2026 INIT"]
    assert store.get_cursor("docs")["gaps"].keys() == {"2", "3", "4", "5"}


async def test_a_failed_run_keeps_the_cursor_and_records_nothing(feed_server, env):
    """A server error fails the poll; the cursor stays, so the next run asks again and finds the document."""
    http, store = env
    serve(feed_server, {1: note("A", 1)})
    await pipeline.poll(documents(feed_server, window=1), http, store, test_matcher())
    before = store.get_cursor("docs")
    serve(feed_server, {2: note("Frontex report", 2)})
    feed_server.set(pdf_path(3), b"busy", status=503)
    src = documents(feed_server, window=2)
    failed = await pipeline.poll(src, http, store, test_matcher())
    assert failed.failure == "server_error" and store.get_cursor("docs") == before
    assert store.known_ids("docs", ["ST 2 2026 INIT"]) == set()
    assert store.source_states()["docs"]["last_failure"] == "server_error"
    feed_server.set(pdf_path(3), b"nothing", status=404)
    again = await pipeline.poll(src, http, store, test_matcher())
    assert again.ok and [i.id for i in again.new] == ["ST 2 2026 INIT"] and again.alerts == 1
    assert store.source_states()["docs"]["last_success_at"] is not None


async def test_anything_but_a_pdf_is_not_available(feed_server, env):
    """An HTML page with status 200, or a 410, counts as "not available (yet)", not as a document or a failure."""
    http, store = env
    feed_server.set(pdf_path(1), b"<html><body>Document not found</body></html>", headers={"Content-Type": "text/html"})
    feed_server.set(pdf_path(2), b"gone", status=410)
    result = await pipeline.poll(documents(feed_server), http, store, test_matcher())
    assert result.ok and result.items == []


async def test_topic_only_in_the_body_shows_page_and_snippet(feed_server, env, clock):
    """A summary record whose only mention of migrant smuggling is on page 3 is flagged; the alert says p. 3."""
    http, store = env
    clock.set(datetime(2023, 10, 12, 9, 0, tzinfo=UTC))
    feed_server.set(pdf_path(1, 2023), note("A", 1), headers=PDF_HEADERS)
    src = documents(feed_server, window=1)
    await pipeline.poll(src, http, store, test_matcher())
    feed_server.set(pdf_path(2, 2023), council_pdfs.summary_record_pdf(), headers=PDF_HEADERS)
    result = await pipeline.poll(src, http, store, test_matcher())
    [(item, [match])] = result.flagged
    assert (
        item.id == "ST 2 2023 INIT"
        and item.title == ("Summary record, Permanent Representatives Committee (Part 2), 4 October 2023")
        and match.field == "body"
    )
    [alert] = store.due_alerts(["telegram"])
    assert alert.snippet.startswith("p. 3: …") and "[migrant smuggling]" in alert.snippet


async def test_backlog_documents_are_recorded_without_alerting(feed_server, env):
    """Documents found ahead but dated long ago (catching up from a low start) are recorded quietly."""
    http, store = env
    serve(
        feed_server,
        {
            1: note("A", 1),
            2: note("B", 2),
            3: note("Migrant smuggling in 2025", 3, day="5 May 2025"),
            4: note("Migrant smuggling today", 4),
        },
    )
    src = documents(feed_server, window=1)
    await pipeline.poll(src, http, store, test_matcher())
    both = await pipeline.poll(src, http, store, test_matcher())
    assert [i.id for i, _ in both.flagged] == ["ST 3 2026 INIT", "ST 4 2026 INIT"] and both.alerts == 1
    [alert] = store.due_alerts(["telegram"])
    assert alert.item_id == "ST 4 2026 INIT"


async def test_year_comes_from_the_clock_and_a_new_year_starts_at_one(feed_server, env, clock):
    """Without `year`, the current year of the injected clock is probed; at new year the numbers start over."""
    http, store = env
    serve(feed_server, {40: note("A", 40)})
    src = documents(feed_server, start=40)
    await pipeline.poll(src, http, store, test_matcher())
    assert store.get_cursor("docs")["highest"] == 40
    clock.set(datetime(2027, 1, 2, 9, 0, tzinfo=UTC))
    feed_server.set(pdf_path(1, 2027), note("New year", 1), headers=PDF_HEADERS)
    result = await pipeline.poll(src, http, store, test_matcher())
    assert [i.id for i in result.new] == ["ST 1 2027 INIT"]
    assert store.get_cursor("docs")["year"] == 2027


@pytest.mark.parametrize(
    "options,problem",
    [
        ({"series": "XX"}, "'series'"),
        ({"window": 0}, "'window'"),
        ({"window": 20, "lookahead": 10}, "'lookahead'"),
        ({"year": 1800}, "'year'"),
        ({"language": "EN"}, "'language'"),
        ({"languages": ("en", "EN")}, "'languages'"),
        ({"languages": ()}, "'languages'"),
        ({"languages": ("en", "fr", "de", "it", "es", "pt", "nl")}, "'languages'"),
        ({"sweep": 0}, "'sweep'"),
        ({"version_probes": 500}, "'version_probes'"),
    ],
)
def test_bad_options_are_refused(options, problem):
    """Options out of range stop the configuration with a message naming the option."""
    with pytest.raises(ValueError, match=problem):
        CouncilDocumentsSource(name="d", url="https://data.consilium.europa.eu/doc/document/", every=60.0, **options)


def rev_note(subject: str, number: int, rev: int) -> bytes:
    """Revision ``rev`` of a one-page note."""
    return council_pdfs.make_pdf(
        [
            "\n".join(
                [
                    "Council of the European Union",
                    "Brussels, 9 March 2026 (OR. en)",
                    f"{number}/{rev}/26 REV {rev}",
                    "MIGR 12   NOTE",
                    "From: Presidency",
                    "To: Delegations",
                    f"Subject: {subject}",
                    "",
                    "Delegations will find attached a revised note.",
                ]
            )
        ]
    )


async def test_a_new_revision_of_a_known_family_is_found_and_alerts_its_followers(feed_server, env, clock):
    """Once ST 1 2026 is known, REV 1 of it is asked for on a later run; when it appears, it is recorded as a new
    version and alerts the topic its INIT matched, though its own subject does not."""
    http, store = env
    serve(feed_server, {1: note("Fight against migrant smuggling", 1), 2: note("Fisheries", 2)})
    src = documents(feed_server, version_probes=8)
    await pipeline.poll(src, http, store, test_matcher())
    rev = f"{DOCS}/ST-1-2026-REV-1/en/pdf"
    clock.advance(hours=1)
    quiet = await pipeline.poll(src, http, store, test_matcher())
    assert quiet.events == {} and settled_counts(feed_server, [rev], [1]) == [1]
    feed_server.set(rev, rev_note("Revised text", 1, 1), headers=PDF_HEADERS)
    clock.advance(hours=2)
    found = await pipeline.poll(src, http, store, test_matcher())
    assert found.events == {"ST 1 2026 REV 1": "version"}
    [item] = found.new
    assert item.extra["version"] == "REV 1" and item.url.endswith("/ST-1-2026-REV-1/en/pdf")
    [alert] = store.due_alerts(["telegram"])
    assert alert.event == "version" and alert.topics == ("smuggling",)
    assert store.get_cursor("docs")["families"]["1"][2] == "REV 1"


async def test_a_document_only_in_french_is_found_and_read_within_one_poll(tmp_path):
    """On the simulated document server, a document that exists only in French (its English URL answers 404) is
    found by the first poll after it appears, read, and linked in French; other languages are asked for only
    while a number is missing in English; no second of simulated time holds more than one request."""
    year = CouncilYear(seed=2026)

    def public_at_once(n: int) -> bool:
        return year.number(n).public_from == year.number(n).appear

    number = next(
        n
        for n in sorted(year.french_only)
        if n > 200 and public_at_once(n) and public_at_once(n - 1) and "en" in year.number(n - 1).languages
    )
    doc = year.number(number).init
    clock = SimClock(doc.appear - 1800)
    with CouncilYearServer(year, clock, error_rate=0, slow_rate=0) as server:
        http = Http(timeout=5.0, clock=clock.http_clock())
        store = Store(tmp_path / "sim.db", clock=clock.http_clock())
        src = CouncilDocumentsSource(name="docs", url=server.docs_url, every=600.0, start=number - 3, year=2026)
        found = None
        try:
            while found is None and clock.now < doc.appear + 3600:
                began = clock.now
                result = await pipeline.poll(src, http, store, test_matcher())
                found = next((i for i in result.new if i.id == doc.canonical), None)
                clock.now = max(clock.now, began + 600)
        finally:
            await http.aclose()
            store.close()
        assert found is not None and began < doc.appear + 600
        assert found.extra["pdf_language"] == "fr" and found.url == server.url(doc, "fr")
        assert "Bruxelles, le" in found.body and doc.short in found.body
        assert server.busiest(1.0) == 1
        served: set[str] = set()
        for request in server.requests():
            pdf_id, lang = request.path.split("/")[3:5]
            assert lang == "en" or pdf_id not in served, request
            if request.status == 200:
                served.add(pdf_id)
