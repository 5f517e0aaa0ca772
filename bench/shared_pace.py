"""What a shared pace costs replicas on PostgreSQL: one reservation of a site's or the bot's next start
(``watcher.store.pace.PaceBook``), against a bare round trip on the same connection, in the same run.

On a PostgreSQL server this bench starts from Debian's binaries (127.0.0.1, a fresh database), for each run:

- **round trip**: ``SELECT 1`` on the pace book's own connection: the floor any shared state costs (the baseline);
- **reserve**: ``PaceBook.reserve`` of one key: the per-host politeness before each request to a site;
- **reserve_send**: ``PaceBook.reserve_send`` with a chat: the chat's row and the bot's row in one transaction, before
  each message when several replicas send;
- **contended**: ``--writers`` connections reserving one key at once (the row lock serialises them): reservations a
  second in all, and whether any two reserved starts came closer than the interval (they must not).

Medians per call over ``--calls`` calls, then the median over ``--runs`` runs. ``ratio_*`` is a reservation's time over
the round trip's; ``send_budget_share`` is reserve_send's time over one slot of the default 25 messages a second.

    .venv/bin/python bench/shared_pace.py            # 5 runs of 400 calls, 3 contending writers
    .venv/bin/python bench/shared_pace.py --smoke    # a quick run

Without PostgreSQL's binaries (or psycopg) it fails, saying what is missing. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.postgres import PostgresServer, PostgresUnavailable  # noqa: E402
from watcher.store.pace import PaceBook, bot_key  # noqa: E402

SEND_SLOT = 1 / 25


async def timed(calls: int, make) -> float:
    """The median seconds of one awaited call of ``make()``."""
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        await make()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


async def one_run(url: str, calls: int, writers: int) -> dict:
    book = await PaceBook(url).open()
    bot = bot_key("bench:token")
    try:
        trip = await timed(calls, lambda: book.conn.execute("SELECT 1"))
        reserve = await timed(calls, lambda: book.reserve("host:https://www.consilium.europa.eu", 1e-6))
        chats = iter(range(10**9))
        reserve_send = await timed(calls, lambda: book.reserve_send(bot, 1e-6, f"telegram:{next(chats) % 50}", 1e-6))
    finally:
        await book.aclose()
    books = [await PaceBook(url).open() for _ in range(writers)]
    interval = 1e-3

    async def writer(b: PaceBook) -> list[float]:
        return [(await b.reserve("contended", interval)).start for _ in range(calls)]

    try:
        started = time.perf_counter()
        starts = await asyncio.gather(*(writer(b) for b in books))
        elapsed = time.perf_counter() - started
    finally:
        for b in books:
            await b.aclose()
    every = sorted(s for part in starts for s in part)
    closest = min(round((b - a) * 1e6) / 1e6 for a, b in zip(every, every[1:]))  # the server keeps microseconds
    return {
        "round_trip_ms": trip * 1000,
        "reserve_ms": reserve * 1000,
        "reserve_send_ms": reserve_send * 1000,
        "contended_per_s": len(every) / elapsed,
        "contended_closest_gap_over_interval": closest / interval,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs, each on a fresh database (default 5)")
    parser.add_argument("--calls", type=int, default=400, help="calls timed per figure and run (default 400)")
    parser.add_argument("--writers", type=int, default=3, help="connections contending for one key (default 3)")
    parser.add_argument("--smoke", action="store_true", help="a quick run: 1 run of 50 calls")
    args = parser.parse_args(argv)
    if args.smoke:
        args.runs, args.calls = 1, 50
    if args.runs < 1 or args.calls < 2 or args.writers < 1:
        parser.error("--runs must be at least 1, --calls at least 2 and --writers at least 1")
    try:
        import psycopg  # noqa: F401  # loaded late: to say early that the driver is missing
    except ImportError as exc:
        print(f"psycopg is missing ({exc}): pip install -e '.[test]'", file=sys.stderr)
        return 2
    try:
        server = PostgresServer.find().start()
    except PostgresUnavailable as exc:
        print(f"PostgreSQL cannot start: {exc}", file=sys.stderr)
        return 2
    try:
        runs = [
            asyncio.run(one_run(server.create_database("pace"), args.calls, args.writers)) for _ in range(args.runs)
        ]
    finally:
        server.stop()
    figures = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    figures["contended_closest_gap_over_interval"] = min(r["contended_closest_gap_over_interval"] for r in runs)
    figures["ratio_reserve"] = figures["reserve_ms"] / figures["round_trip_ms"]
    figures["ratio_reserve_send"] = figures["reserve_send_ms"] / figures["round_trip_ms"]
    figures["send_budget_share"] = figures["reserve_send_ms"] / 1000 / SEND_SLOT
    for key, value in figures.items():
        print(f"{key:40s} {value:10.3f}")
    if not all(value > 0 for key, value in figures.items() if key != "contended_closest_gap_over_interval"):
        print("nothing was measured", file=sys.stderr)
        return 1
    out = {k: round(v, 4) for k, v in figures.items()}
    print(json.dumps({"bench": "shared_pace", "runs": args.runs, "calls": args.calls, "writers": args.writers, **out}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
