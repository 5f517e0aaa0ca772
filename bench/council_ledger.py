"""The Council ledger against the simulated year's truth: the real council-documents source polls the simulated
document server (tests/fakes/council_year.py) for some weeks and a quiet weekend on the simulator's clock, then the
ledger built from the store is compared with what the model says: numbers known, public, released later, never
public, and the open gaps (which should be exactly the numbers not public up to the highest public one).

Prints one line per run and, last, one JSON object; exits 1 when nothing was measured or a count disagrees.

    .venv/bin/python bench/council_ledger.py [--weeks 3] [--per-day 20] [--every 1800] [--seed 2026] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fakes.council import test_matcher  # noqa: E402
from tests.fakes.council_year import DAY, CouncilYear, CouncilYearServer, SimClock, epoch  # noqa: E402
from watcher import pipeline  # noqa: E402
from watcher.http.client import Http  # noqa: E402
from watcher.sources.council_documents import CouncilDocumentsSource  # noqa: E402
from watcher.store import ledger  # noqa: E402
from watcher.store.sqlite import Store  # noqa: E402


async def run(model: CouncilYear, weeks: int, every: float, workdir: Path) -> tuple[ledger.Series, dict, float]:
    """Poll from a Monday for ``weeks`` weeks and the weekend after; the ledger, its summary and the end time."""
    t0 = epoch(2026, 2, 2)
    t_end = t0 + (7 * weeks) * DAY + 6 * 3600  # the Monday after, 06:00: nothing changes over a weekend
    clock = SimClock(t0)
    start = model.issued_by(t0) + 1
    with CouncilYearServer(model, clock, slow_rate=0.0, error_rate=0.0, log_limit=100) as server:
        http = Http(timeout=10.0, clock=clock.http_clock())
        store = Store(workdir / "watcher.db", clock=clock.http_clock())
        src = CouncilDocumentsSource(name="docs", url=server.docs_url, every=every, start=start, year=model.year)
        try:
            while clock.now < t_end:
                began = clock.now
                await pipeline.poll(src, http, store, test_matcher())
                clock.now = max(clock.now, began + every)
            entries = ledger.build(store.db)
            summary = ledger.summary(entries[0], store.clock()) if entries else {}
        finally:
            await http.aclose()
            store.close()
    return (entries[0] if entries else ledger.Series("ST", model.year)), summary | {"start": start}, clock.now


def truth(model: CouncilYear, start: int, end: float) -> dict:
    """What the model says at ``end`` about the numbers from ``start`` to the highest public one."""
    public_numbers = [n.number for n in model.numbers if n.number >= start and n.init.public_at(end)]
    highest = max(public_numbers, default=start - 1)
    numbers = range(start, highest + 1)
    public = {k for k in numbers if model.number(k).init.public_at(end)}
    later = {k for k in public if model.number(k).late}
    return {
        "highest": highest,
        "known": len(numbers),
        "public": len(public),
        "released_later": len(later),
        "never_public": len(numbers) - len(public),
        "gaps": sorted(set(numbers) - public),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=3)
    parser.add_argument("--per-day", type=float, default=20.0)
    parser.add_argument("--every", type=float, default=1800.0)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--smoke", action="store_true", help="one week of 5 numbers a working day, polled every 2 h")
    args = parser.parse_args()
    if args.smoke:
        args.weeks, args.per_day, args.every = 1, 5.0, 7200.0
    logging.basicConfig(level=logging.ERROR)
    model = CouncilYear(seed=args.seed, per_day=args.per_day)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="council-ledger-") as tmp:
        entry, summary, end = asyncio.run(run(model, args.weeks, args.every, Path(tmp)))
    expected = truth(model, summary["start"], end)
    got = {key: summary.get(key) for key in ("highest", "known", "public", "released_later", "never_public")}
    got["gaps"] = [g.number for g in entry.gaps]
    agree = {key: got[key] == expected[key] for key in got}
    out = {
        "weeks": args.weeks,
        "per_day": args.per_day,
        "every": args.every,
        "ledger": {k: v for k, v in got.items() if k != "gaps"} | {"open_gaps": len(got["gaps"])},
        "truth": {k: v for k, v in expected.items() if k != "gaps"} | {"open_gaps": len(expected["gaps"])},
        "median_delay_days": summary.get("median_delay_days"),
        "agree": agree,
        "wall_seconds": round(time.perf_counter() - started, 1),
    }
    print(
        f"{args.weeks} weeks at {args.per_day:g} numbers a working day, polled every {args.every:g}s: ledger "
        f"{out['ledger']}, truth {out['truth']}; agree: {all(agree.values())}"
    )
    print(json.dumps(out))
    return 0 if summary.get("known") and all(agree.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
