"""The simulated year of the Council document server (tests/fakes/council_year.py): its numbering model, its truth
API, its faults and its HTTP answers."""

from __future__ import annotations

import statistics
import time
import urllib.error
import urllib.request
from datetime import date, timedelta

import pytest

from tests.fakes.council import test_matcher
from tests.fakes.council_year import (
    DAY,
    YEAR_START,
    CouncilYear,
    CouncilYearServer,
    SimClock,
    council_holidays,
    day_of,
    epoch,
)
from watcher import pipeline
from watcher.http.client import Http
from watcher.http.polite import RetryPolicy
from watcher.sources.council.pdf import extract_text, parse_header
from watcher.sources.council_documents import CouncilDocumentsSource
from watcher.store.sqlite import Store


@pytest.fixture(scope="module")
def year() -> CouncilYear:
    return CouncilYear(seed=7)


def get(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read(), resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Content-Type", "")


def test_a_year_builds_quickly_and_the_same_from_the_same_seed():
    started = time.perf_counter()
    model = CouncilYear(seed=7)
    assert time.perf_counter() - started < 3.0  # about 0.2 s; generous for a machine busy with other tests
    again, other = CouncilYear(seed=7), CouncilYear(seed=8)
    assert [(n.appear, n.public_from, n.languages) for n in again.numbers] == [
        (n.appear, n.public_from, n.languages) for n in model.numbers
    ]
    assert [d.canonical for d in again.documents()] == [d.canonical for d in model.documents()]
    assert [n.appear for n in other.numbers[:50]] != [n.appear for n in model.numbers[:50]]
    assert model.header(123) == again.header(123)


def test_about_seventy_numbers_each_working_day_and_none_on_days_off(year):
    per_day = year.per_day()
    assert 16_000 <= len(year) <= 18_500
    assert all(d.weekday() < 5 and d not in council_holidays(2026) for d in per_day)
    working = year.working_days()
    assert len(working) == 246 and set(per_day) <= set(working)
    assert 66 <= statistics.mean(per_day[d] for d in working) <= 74
    assert date(2026, 3, 7) not in per_day and date(2026, 12, 25) not in per_day  # a Saturday, Christmas
    assert sum(len(year.numbers_on(d)) for d in working) == len(year)


def test_numbers_run_up_in_the_order_they_appear_during_office_hours(year):
    appear = [n.appear for n in year.numbers]
    assert appear == sorted(appear) and [n.number for n in year.numbers] == list(range(1, len(year) + 1))
    assert all(7 <= (t % DAY) / 3600 < 18 for t in appear)
    first = year.numbers[0].appear
    assert year.issued_by(first - 1) == 0 and year.issued_by(first) == 1 and year.issued_by(epoch(2027)) == len(year)
    assert year.issued_by(epoch(2026, 1, 5, 23)) == len(year.numbers_on(date(2026, 1, 5)))


def test_most_are_public_at_once_some_withheld_some_public_weeks_later(year):
    n = len(year)
    at_once = [e for e in year.numbers if e.public_from == e.appear]
    assert 0.65 * n < len(at_once) < 0.78 * n
    assert 0.17 * n < len(year.withheld) < 0.23 * n
    assert 0.06 * n < len(year.late) < 0.10 * n
    for number in year.late:
        e = year.number(number)
        assert 7 * DAY <= e.public_from - e.appear <= 80 * DAY and year.is_working_day(day_of(e.public_from))
    for number in year.withheld:
        assert all(d.public_from is None for d in year.number(number).versions)
    end = epoch(2027, 6, 1)
    public = {d.number for d in year.public_at(end)}
    assert public.isdisjoint(year.withheld) and year.late <= public


def test_revisions_addenda_and_corrigenda_appear_later_under_the_same_number(year):
    versions = [d for d in year.documents() if d.version]
    kinds = {d.version_str for d in versions}
    assert {"REV 1", "REV 2", "ADD 1", "COR 1", "ADD 1 REV 1"} <= kinds
    assert 0.15 * len(year) < len(versions) < 0.45 * len(year)
    for entry in year.numbers:
        init = entry.init
        assert init.version == () and all(d.appear > init.appear for d in entry.versions[1:])
        revs = [d for d in entry.versions if d.version and d.version[0][0] == "REV"]
        assert [d.version for d in revs] == [(("REV", i),) for i in range(1, len(revs) + 1)]
        assert all(a.appear < b.appear for a, b in zip(revs, revs[1:]))
        for d in entry.versions[1:]:
            assert d.public_from is None if entry.withheld else d.public_from == max(d.appear, entry.public_from)
    rev = next(d for d in versions if d.version_str == "REV 2")
    assert rev.short == f"{rev.number}/2/26 REV 2" and rev.pdf_id == f"ST-{rev.number}-2026-REV-2"
    assert year.find(rev.canonical) is rev and year.find(rev.pdf_id) is rev and year.find("ST 1 2025 INIT") is None


def test_some_documents_exist_only_in_french(year):
    assert 0.02 * len(year) < len(year.french_only) < 0.04 * len(year)
    doc = next(year.number(n).init for n in sorted(year.french_only) if not year.number(n).withheld)
    assert doc.languages == ("fr",) and year.header(doc.number).original_language == "fr"
    later = doc.public_from + 1
    assert doc.served_at(later, "fr") and not doc.served_at(later, "en")
    assert doc.canonical in year.public_refs(later, "fr") and doc.canonical not in year.public_refs(later, "en")


def test_the_truth_at_a_time_grows_with_time(year):
    monday, friday = epoch(2026, 3, 2, 12), epoch(2026, 3, 6, 19)
    early, late = year.public_refs(monday), year.public_refs(friday)
    assert early < late
    existing = year.existing_at(friday)
    assert len(existing) >= len(year.public_at(friday)) and all(d.appear <= friday for d in existing)
    assert all(d.public_at(friday) and "en" in d.languages for d in year.public_at(friday, "en"))
    assert year.public_refs(friday, init_only=True) == {r for r in late if r.endswith(" INIT")}


def test_faults_come_at_the_configured_rate_decided_by_seed_and_request_number():
    model = CouncilYear(seed=1, per_day=5)
    servers = [
        CouncilYearServer(model, error_rate=0.02, slow_rate=0.01, slow_delay=0.3, seed=seed) for seed in (None, None, 2)
    ]
    try:
        draws, same, other = ([server.fault(n) for n in range(1, 20_001)] for server in servers)
    finally:
        for server in servers:
            server.stop()
    errors = [s for s, _ in draws if s is not None]
    slow = [d for _, d in draws if d]
    assert 320 <= len(errors) <= 480 and set(errors) <= {500, 502, 503, 504}
    assert 140 <= len(slow) <= 260 and set(slow) == {0.3}
    assert draws == same and draws != other


def test_a_public_document_is_served_as_a_pdf_with_its_header_and_others_404(year):
    clock = SimClock(epoch(2026, 3, 2, 6))
    withheld = year.number(min(n for n in year.withheld if year.numbers[n - 1].appear > epoch(2026, 3, 2))).init
    public = next(
        e.init
        for e in year.numbers_on(date(2026, 3, 2))
        if e.public_from == e.appear and e.number > 100 and "en" in e.languages
    )
    late = next(e for e in year.numbers if e.late and e.appear > epoch(2026, 3, 2) and "en" in e.languages).init
    with CouncilYearServer(year, clock, error_rate=0, slow_rate=0) as server:
        assert get(server.url(public))[0] == 404  # 06:00 UTC: not issued yet
        clock.now = epoch(2026, 3, 2, 20)
        status, body, ctype = get(server.url(public))
        assert status == 200 and ctype == "application/pdf" and body.startswith(b"%PDF-")
        page1 = extract_text(body).pages[0]
        assert public.short in page1
        header = parse_header(page1)
        assert header.ref is not None and header.ref.canonical == public.canonical
        assert header.date == date(2026, 3, 2) and header.subject == year.header(public.number).subject
        assert year.pdf(public) is year.pdf(public)  # made once, then cached
        assert get(server.url(withheld))[0] == 404
        clock.now = late.appear + 3600
        assert get(server.url(late))[0] == 404
        clock.now = late.public_from
        assert get(server.url(late))[0] == 200
        assert get(server.base_url + "/doc/document/ST-0012-2026-INIT/en/pdf")[0] == 404
        assert get(server.base_url + "/robots.txt")[0] == 404
        reasons = [(r.status, r.reason) for r in server.requests()]
    assert reasons == [
        (404, "not yet issued"),
        (200, "served"),
        (404, "withheld"),
        (404, "not yet public"),
        (200, "served"),
        (404, "not a document"),
        (404, "not a document"),
    ]


def test_a_french_only_document_answers_in_french_and_not_in_english(year):
    doc = next(
        year.number(n).init for n in sorted(year.french_only) if year.number(n).public_from is not None and n > 100
    )
    clock = SimClock(doc.public_from + 60)
    with CouncilYearServer(year, clock, error_rate=0, slow_rate=0) as server:
        assert get(server.url(doc, "en"))[0] == 404
        status, body, _ = get(server.url(doc, "fr"))
        assert status == 200
        page1 = extract_text(body).pages[0]
        assert "Bruxelles, le" in page1 and "(OR. fr)" in page1 and doc.short in page1
        assert parse_header(page1).ref.canonical == doc.canonical
        assert [r.reason for r in server.requests()] == ["no such language", "served"]


def test_the_log_records_every_request_with_its_simulated_time_and_faults(year):
    clock = SimClock(epoch(2026, 2, 2, 9))
    doc = next(e.init for e in year.numbers if e.public_from == e.appear and "en" in e.languages)
    with CouncilYearServer(year, clock, error_rate=0.2, slow_rate=0.05, slow_delay=0.05) as server:
        statuses = []
        for _ in range(60):
            statuses.append(get(server.url(doc))[0])
            clock.advance(hours=12)
        log = server.requests()
    assert [r.n for r in log] == list(range(1, 61)) and [r.status for r in log] == statuses
    assert [r.sim_time for r in log] == [epoch(2026, 2, 2, 9) + i * 12 * 3600 for i in range(60)]
    expected = [server.fault(n)[0] or 200 for n in range(1, 61)]
    assert statuses == expected and any(s >= 500 for s in statuses) and 200 in statuses
    assert all(r.reason == ("fault" if r.status >= 500 else "served") for r in log)
    assert [r.delay > 0 for r in log] == [server.fault(n)[1] > 0 for n in range(1, 61)]
    assert server.per_day() == {date(2026, 2, 2) + timedelta(days=d): 2 for d in range(30)}
    assert server.busiest(12 * 3600) == 1 and server.busiest(12 * 3600 + 1) == 2
    assert sum(server.statuses().values()) == 60 == server.total
    assert server.reasons() == {"served": statuses.count(200), "fault": 60 - statuses.count(200)}


def test_a_bounded_log_keeps_the_last_requests_and_counts_them_all(year):
    clock = SimClock(epoch(2026, 5, 4, 12))
    with CouncilYearServer(year, clock, error_rate=0, slow_rate=0, log_limit=5) as server:
        for n in range(1, 9):
            get(f"{server.docs_url}/ST-{n}-2026-INIT/en/pdf")
            clock.advance(days=1)
    assert [r.n for r in server.requests()] == [4, 5, 6, 7, 8] and server.total == 8
    assert sum(server.per_day().values()) == 8 and server.busiest(DAY) == 1


def test_an_outage_answers_503_for_its_whole_simulated_span(year):
    start = epoch(2026, 4, 7, 10)
    clock = SimClock(start - 60)
    with CouncilYearServer(year, clock, error_rate=0, slow_rate=0, outages=[(start, start + 3600)]) as server:
        url = server.url(year.numbers[0].init)
        before = get(url)[0]
        clock.now = start + 10
        during = get(url)[0]
        clock.now = start + 3600
        after = get(url)[0]
    assert (before, during, after) == (200, 503, 200)


def test_the_clock_starts_at_new_year_and_serves_as_the_store_clock():
    clock = SimClock()
    assert clock.now == YEAR_START == epoch(2026) and clock().isoformat() == "2026-01-01T00:00:00+00:00"
    clock.advance(days=1, hours=9)
    assert clock.day == date(2026, 1, 2) and clock.datetime.hour == 9
    http_clock = clock.http_clock()
    assert http_clock.now() == clock() and http_clock.monotonic() == clock.now


async def test_the_council_documents_source_probes_the_simulated_server(tmp_path, year):
    """Smoke test of the intended use: the real source, paced by the simulated clock, finds what the truth says."""
    clock = SimClock(epoch(2026, 1, 6, 19))
    with CouncilYearServer(year, clock, error_rate=0, slow_rate=0) as server:
        http = Http(timeout=5.0, clock=clock.http_clock(), retry=RetryPolicy(attempts=1))
        store = Store(tmp_path / "w.db", clock=clock.http_clock())
        src = CouncilDocumentsSource(
            name="docs",
            url=server.docs_url,
            every=600.0,
            window=20,
            stop_after=20,
            sweep=1,
            lookahead=40,
            gap_reprobe=0,
            version_probes=0,
            languages=("en",),
        )
        try:
            result = await pipeline.poll(src, http, store, test_matcher())
        finally:
            await http.aclose()
            store.close()
        found = {i.id for i in result.items if i.extra.get("public")}
        truth = {d.canonical for d in year.public_at(clock.now, "en") if not d.version and d.number <= 21}
        assert result.ok and found == truth
        assert len(server.requests()) == 21 and server.busiest(0.5) == 1  # paced a second apart in simulated time
