"""A simulated year of the Council document server: how much of what becomes public the council-documents source
finds, how late, and at what cost in requests.

The real source runs through ``watcher.pipeline.poll`` with a real SQLite store in a temporary directory and the
real HTTP client, against ``tests/fakes/council_year.CouncilYearServer`` on 127.0.0.1. The client's pacing and
retries run on the simulator's clock, so its per-host interval is kept in simulated time; polls follow each other
every ``--every`` simulated seconds. The server fails 0.2 % of requests with a 5xx.

A request costs about 2.5 ms over loopback, so a whole year at one poll per 10 minutes (about a million requests)
is too slow to run. Two samples instead:

* **weeks**: ``--spans`` representative spans of ``--days`` days (winter, the Easter holidays, June, autumn) of the
  full model (about 70 numbers a working day), polled every ``--every`` (default 10 minutes) with the source's
  default options, each from a fresh store started at the current number;
* **year**: the whole year polled every ``--year-every`` (default 1 hour) on a smaller model with as many numbers
  per poll interval as the full one has per 10 minutes (70 × 600 / 3600 ≈ 12 a working day), so that documents
  made public weeks later, and versions, are measured over their whole course.

For each: the share of public documents found and the delay from appearing (or becoming public) to being recorded,
in poll intervals (on time = recorded by the first poll that started after it was public); documents made public
late ("now public"), French-only documents and new versions (REV/ADD/COR) found; requests per simulated day against
documents found per day; and politeness (the most requests in any 1 s of simulated time, against the client's
rate of one a second per host). The last line is one JSON object; exits 1 when nothing was measured.

    .venv/bin/python bench/council_year.py [--spans 4] [--days 14] [--every 600] [--year-every 3600] [--no-year]
                                           [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import logging
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fakes.council import test_matcher  # noqa: E402
from tests.fakes.council_year import DAY, CouncilYear, CouncilYearServer, SimClock, day_of, epoch  # noqa: E402
from watcher import pipeline  # noqa: E402
from watcher.http.client import Http  # noqa: E402
from watcher.sources.council_documents import FOLLOW_SUBJECTS, CouncilDocumentsSource  # noqa: E402
from watcher.store.sqlite import Store  # noqa: E402

SPAN_STARTS = [(2026, 2, 2), (2026, 3, 30), (2026, 6, 8), (2026, 10, 5)]  # Mondays; 30 March has Easter in it
KINDS = ("new", "now_public", "french_only", "versions", "versions_followed_closely")
RATE = 1.0  # requests a second per host: the HTTP client's default per-host interval of 1 s


async def simulate(model: CouncilYear, t0: float, t_end: float, every: float, workdir: Path, **options) -> dict:
    """Poll from ``t0`` to ``t_end``; returns the poll start times, the times items were recorded and the server."""
    clock = SimClock(t0)
    server = CouncilYearServer(model, clock, slow_rate=0.0, log_limit=1000).start()
    http = Http(timeout=10.0, clock=clock.http_clock())
    store = Store(workdir / "watcher.db", clock=clock.http_clock())
    start = model.issued_by(t0) + 1
    src = CouncilDocumentsSource(name="docs", url=server.docs_url, every=every, start=start, year=model.year, **options)
    matcher = test_matcher()
    polls: list[float] = []
    found: dict[str, float] = {}
    failed = 0
    try:
        while clock.now < t_end:
            began = clock.now
            polls.append(began)
            result = await pipeline.poll(src, http, store, matcher)
            failed += not result.ok
            for item in result.items:
                if item.extra.get("public") and item.id not in found and item.id in result.events:
                    found[item.id] = clock.now
            clock.now = max(clock.now, began + every)
    finally:
        await http.aclose()
        store.close()
        server.stop()
    return {"polls": polls, "found": found, "failed": failed, "server": server, "start": start}


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def score(docs, run: dict, every: float) -> dict:
    """Share found, delays in poll intervals, and the share recorded by the first poll after it was public."""
    polls, found = run["polls"], run["found"]
    delays, on_time = [], 0
    for doc in docs:
        when = found.get(doc.canonical)
        if when is None:
            continue
        delays.append(max(0.0, when - doc.public_from) / every)
        first = bisect.bisect_left(polls, doc.public_from)  # the first poll that started once it was public
        deadline = polls[first + 1] if first + 1 < len(polls) else float("inf")
        on_time += when <= deadline
    n = len(docs)
    return {
        "public": n,
        "found": len(delays),
        "share": round(len(delays) / n, 4) if n else None,
        "on_time": round(on_time / n, 4) if n else None,
        "delay_median": round(statistics.median(delays), 2) if delays else None,
        "delay_p95": round(quantile(delays, 0.95), 2) if delays else None,
        "delay_max": round(max(delays), 2) if delays else None,
    }


def measure(model: CouncilYear, run: dict, t0: float, every: float) -> dict:
    """Compare what the source recorded with the model's truth over the span of the run."""
    last = run["polls"][-1]
    docs = [
        d
        for d in model.documents()
        if d.number >= run["start"] and d.public_from is not None and t0 <= d.appear and d.public_from <= last
    ]
    new = [d for d in docs if not d.version and d.public_from == d.appear]
    late = [d for d in docs if not d.version and d.public_from > d.appear]
    french = [d for d in docs if not d.version and d.languages == ("fr",)]
    versions = [d for d in docs if d.version]
    close = [d for d in versions if {c.split()[0] for c in model.header(d.number).codes} & set(FOLLOW_SUBJECTS)]
    server = run["server"]
    per_day = server.per_day()
    found_per_day = Counter(day_of(t) for t in run["found"].values())
    days = sorted(per_day)
    return {
        "days": round((last - t0) / DAY + every / DAY, 1),
        "polls": len(run["polls"]),
        "failed_polls": run["failed"],
        "new": score(new, run, every),
        "now_public": score(late, run, every),
        "french_only": score(french, run, every),
        "versions": score(versions, run, every),
        "versions_followed_closely": score(close, run, every),
        "requests": server.total,
        "requests_per_day": round(server.total / max(1, len(days)), 1),
        "requests_max_day": max(per_day.values(), default=0),
        "found_per_day": round(sum(found_per_day.values()) / max(1, len(days)), 1),
        "requests_per_found": round(server.total / max(1, len(run["found"])), 1),
        "max_requests_in_1s": server.busiest(1.0),
        "polite": server.busiest(1.0) <= RATE,
        "answers": dict(server.reasons().most_common()),
    }


def combine(parts: list[dict]) -> dict:
    """Totals over several spans: shares from the summed counts, the worst delays."""
    out: dict = {
        "spans": len(parts),
        "days": round(sum(p["days"] for p in parts), 1),
        "polls": sum(p["polls"] for p in parts),
        "failed_polls": sum(p["failed_polls"] for p in parts),
    }
    for key in KINDS:
        public = sum(p[key]["public"] for p in parts)
        got = sum(p[key]["found"] for p in parts)
        on_time = sum((p[key]["on_time"] or 0) * p[key]["public"] for p in parts)
        out[key] = {
            "public": public,
            "found": got,
            "share": round(got / public, 4) if public else None,
            "on_time": round(on_time / public, 4) if public else None,
            "delay_p95_max": max((p[key]["delay_p95"] or 0 for p in parts), default=0),
            "delay_max": max((p[key]["delay_max"] or 0 for p in parts), default=0),
        }
    requests = sum(p["requests"] for p in parts)
    out.update(
        requests=requests,
        requests_per_day=round(requests / out["days"], 1),
        requests_max_day=max(p["requests_max_day"] for p in parts),
        found_per_day=round(sum(p["found_per_day"] * p["days"] for p in parts) / out["days"], 1),
        max_requests_in_1s=max(p["max_requests_in_1s"] for p in parts),
        polite=all(p["polite"] for p in parts),
        answers=dict(sum((Counter(p["answers"]) for p in parts), Counter()).most_common()),
    )
    return out


def describe(label: str, m: dict, every: float) -> str:
    def part(key: str) -> str:
        s = m[key]
        if not s["public"]:
            return f"{key} none"
        delays = (
            f", delay median {s['delay_median']} / p95 {s['delay_p95']} / max {s['delay_max']} intervals"
            if "delay_median" in s and s["delay_median"] is not None
            else f", delay p95 {s['delay_p95_max']} / max {s['delay_max']} intervals"
        )
        return f"{key} {s['found']}/{s['public']} found ({s['share']:.1%}, {s['on_time']:.1%} on time{delays})"

    return (
        f"{label}: {m['days']} days, {m['polls']} polls of every {every:g}s ({m['failed_polls']} failed); "
        + "; ".join(part(k) for k in KINDS)
        + f"; {m['requests_per_day']} requests a day (max {m['requests_max_day']}) for {m['found_per_day']} "
        f"documents found a day; at most {m['max_requests_in_1s']} request(s) in any 1 s (polite: {m['polite']})"
    )


async def run_all(args) -> dict:
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="council-year-") as tmp:
        if args.spans:
            model = CouncilYear(seed=args.seed, per_day=args.per_day)
            parts = []
            for i, (y, mo, d) in enumerate(SPAN_STARTS[: args.spans]):
                t0 = epoch(y, mo, d)
                started = time.perf_counter()
                workdir = Path(tmp) / f"span{i}"
                workdir.mkdir()
                run = await simulate(model, t0, t0 + args.days * DAY, args.every, workdir)
                part = measure(model, run, t0, args.every)
                part["wall_seconds"] = round(time.perf_counter() - started, 1)
                print(
                    describe(f"span from {y}-{mo:02d}-{d:02d}", part, args.every) + f" [{part['wall_seconds']} s]",
                    flush=True,
                )
                parts.append(part)
            out["weeks"] = combine(parts)
            out["weeks"]["every"] = args.every
        if args.year_every:
            per_day = args.per_day * args.every / args.year_every
            model = CouncilYear(seed=args.seed, per_day=per_day)
            t0, t_end = epoch(model.year), epoch(model.year + 1)
            if args.smoke:
                t_end = t0 + 7 * DAY
            started = time.perf_counter()
            workdir = Path(tmp) / "year"
            workdir.mkdir()
            run = await simulate(model, t0, t_end, args.year_every, workdir)
            year = measure(model, run, t0, args.year_every)
            year.update(
                every=args.year_every, per_day=round(per_day, 1), wall_seconds=round(time.perf_counter() - started, 1)
            )
            print(
                describe(f"year ({year['per_day']} numbers a working day)", year, args.year_every)
                + f" [{year['wall_seconds']} s]",
                flush=True,
            )
            out["year"] = year
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=4, help=f"spans of weeks, up to {len(SPAN_STARTS)} (default 4)")
    parser.add_argument("--days", type=float, default=14.0, help="days in each span (default 14)")
    parser.add_argument("--every", type=float, default=600.0, help="poll interval of the spans, seconds (600)")
    parser.add_argument("--year-every", type=float, default=3600.0, help="poll interval of the year run (3600)")
    parser.add_argument("--no-year", action="store_true", help="skip the year run")
    parser.add_argument("--per-day", type=float, default=70.0, help="numbers a working day in the full model")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--smoke", action="store_true", help="one 1-day span and one week of the small year")
    args = parser.parse_args()
    if args.smoke:
        args.spans, args.days = 1, 1.0
    args.spans = max(0, min(args.spans, len(SPAN_STARTS)))
    if args.no_year:
        args.year_every = 0.0
    logging.basicConfig(level=logging.ERROR)
    started = time.perf_counter()
    out = asyncio.run(run_all(args))
    out["wall_seconds"] = round(time.perf_counter() - started, 1)
    measured = [m for m in (out.get("weeks"), out.get("year")) if m]
    if not measured or not any(m["new"]["found"] for m in measured):
        print("measured nothing: no public document was found", file=sys.stderr)
        print(json.dumps(out))
        return 1
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
