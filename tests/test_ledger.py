"""The Council ledger (watcher/store/ledger.py, watcher ledger): built from what the store recorded, checked against
the simulated year's truth."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.council import test_matcher
from tests.fakes.council_year import DAY, CouncilYear, CouncilYearServer, SimClock, epoch
from tests.fakes.telegram import ADMIN_CHAT
from watcher import cli, pipeline
from watcher.http.client import Http
from watcher.http.polite import RetryPolicy
from watcher.models import Item
from watcher.sources.council_documents import CouncilDocumentsSource
from watcher.store import ledger
from watcher.store.sqlite import Store
from watcher.web.metrics import Metrics


def doc(number: int, version: str = "INIT", public: bool = True, year: int = 2026) -> Item:
    ref = f"ST {number} {year} {version}"
    return Item(
        source="docs",
        id=ref,
        title=ref,
        url=f"https://example.org/{number}",
        extra={"public": public, "family": f"ST {number} {year}", "version": version},
    )


@pytest.fixture
def store(tmp_path):
    clock = FakeClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    s = Store(tmp_path / "watcher.db", clock=clock)
    s.test_clock = clock
    yield s
    s.close()


def test_the_ledger_counts_public_gaps_versions_and_releases_with_their_delay(store):
    """Numbers known, public, gaps below the highest, versions per family and a later release with its delay."""
    store.record_poll("docs", [doc(1), doc(2, public=False), doc(3), doc(4, public=False), doc(5)], {})
    store.test_clock.advance(days=10)
    store.record_poll("docs", [doc(2), doc(3, "REV 1"), doc(3, "ADD 1")], {})
    store.set_cursor("docs", {"series": "ST", "year": 2026, "gaps": {"4": [1772442000, 1773306000, 3]}})
    [entry] = ledger.build(store.db)
    s = ledger.summary(entry, store.clock())
    assert (s["known"], s["highest"], s["public"], s["released_later"], s["open_gaps"]) == (5, 5, 4, 1, 1)
    assert s["median_delay_days"] == 10.0 and s["versions"] == 2
    assert [g.number for g in entry.gaps] == [4] and entry.gaps[0].last_probe is not None
    assert ledger.families_json(entry) == {"ST 3 2026": ["REV 1", "ADD 1"]}
    assert [ledger.released_json(n) for n in entry.released_later] == [
        {
            "number": 2,
            "first_seen": "2026-03-02T09:00:00+00:00",
            "public_since": "2026-03-12T09:00:00+00:00",
            "delay_days": 10.0,
        }
    ]
    assert ledger.build(store.db, "ST", 2025) == [] and ledger.build(store.db, "CM") == []


def test_watcher_ledger_prints_json_and_gaps(store, tmp_path, monkeypatch, capsys):
    """`watcher ledger --json` prints the summary with its gaps; `--gaps` lists each open gap."""
    store.record_poll("docs", [doc(7), doc(8, public=False), doc(9)], {})
    store.close()
    monkeypatch.setenv("WATCHER_DATA_DIR", str(tmp_path))
    assert cli.main(["ledger", "--json", "--series", "st"]) == 0
    [out] = json.loads(capsys.readouterr().out)
    assert (out["known"], out["public"], [g["number"] for g in out["gaps"]]) == (3, 2, [8])
    assert out["released"] == [] and out["gaps"][0]["first_seen"] == "2026-03-02T09:00:00+00:00"
    assert cli.main(["ledger", "--gaps"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("ST 2026: 3 known (highest 9), 2 public") and "ST 8/26" in lines[1]


async def test_on_two_simulated_weeks_the_ledger_equals_the_simulators_truth(tmp_path):
    """Over two weeks and a quiet weekend of the simulated server, the ledger's counts and gaps equal the truth."""
    model = CouncilYear(seed=11, per_day=8, late=0.15, late_days=(7, 10))  # releases within the span
    t0 = epoch(2026, 2, 2)  # a Monday; polls every 2 h to Monday 16 February 06:00 (nothing changes at weekends)
    clock = SimClock(t0)
    start = model.issued_by(t0) + 1
    with CouncilYearServer(model, clock, error_rate=0, slow_rate=0, log_limit=100) as server:
        http = Http(timeout=5.0, clock=clock.http_clock(), retry=RetryPolicy(attempts=1))
        store = Store(tmp_path / "w.db", clock=clock.http_clock())
        src = CouncilDocumentsSource(
            name="docs", url=server.docs_url, every=7200.0, start=start, year=2026, version_probes=2
        )
        try:
            while clock.now < epoch(2026, 2, 16, 6):
                began = clock.now
                assert (await pipeline.poll(src, http, store, test_matcher())).ok
                clock.now = max(clock.now, began + 7200)
            [entry] = ledger.build(store.db)
            summary = ledger.summary(entry, store.clock())
        finally:
            await http.aclose()
            store.close()
    end = clock.now
    highest = max(n.number for n in model.numbers if n.number >= start and n.init.public_at(end))
    numbers = [model.number(k) for k in range(start, highest + 1)]
    public = {n.number for n in numbers if n.init.public_at(end)}
    later = {k for k in public if model.number(k).late}
    assert entry.highest == highest and set(entry.numbers) == set(range(start, highest + 1))
    assert {n.number for n in entry.public} == public and {n.number for n in entry.released_later} == later
    assert [g.number for g in entry.gaps] == sorted(set(range(start, highest + 1)) - public)
    assert all(g.first_probe and g.last_probe and g.last_probe > g.first_probe for g in entry.gaps)
    assert summary["never_public"] == len(numbers) - len(public) and summary["released_later"] == len(later)
    assert later and summary["open_gaps"] > 0 and end - t0 > 13 * DAY


async def test_operators_see_the_ledger_in_stats_and_metrics(running, store):
    """/stats has one ledger line per series and year; /metrics has known, public and open gaps per series."""
    store.record_poll("docs", [doc(1), doc(2, public=False), doc(3), doc(4, year=2025)], {})
    text = (await running.say(ADMIN_CHAT, "/stats"))["plain_text"]
    assert "Ledger ST 2026: 3 known (highest 3), 2 public (66.7%)" in text and "1 open gaps" in text
    assert "Ledger ST 2025: 1 known" in text
    metrics = Metrics(store).render().decode()
    assert 'watcher_ledger_known{series="ST",year="2026"} 3.0' in metrics
    assert 'watcher_ledger_public{series="ST",year="2026"} 2.0' in metrics
    assert 'watcher_ledger_open_gaps{series="ST",year="2026"} 1.0' in metrics
