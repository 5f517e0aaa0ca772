"""The outbox on PostgreSQL against SQLite, in the same run: alerts a second queued and drained, and what each of the
delivery's store queries costs.

For each backend and run, a fresh database (a SQLite file in WAL mode with ``synchronous=NORMAL``; a new PostgreSQL
database on a server this bench starts from Debian's binaries, with fsync on and ``synchronous_commit=off``, the
same promise: the last commits may be lost at a power cut, the database is never damaged) gets S subscribers to
one topic and a seeded source. Then

- **queue**: I polls of one matching item each, recorded with ``Store.record_poll`` (one transaction per poll that
  writes the item, its match and one outbox row per subscriber): outbox rows a second;
- **drain**: the store calls the delivery worker makes, without any network or pacing: the due alerts claimed in
  pages of 100 (``subscribers.due_instant``: one ``UPDATE … RETURNING`` that leases them, with ``FOR UPDATE SKIP
  LOCKED`` on PostgreSQL, then the page read by id), then for each alert the lease renewed just before its send
  (``subscribers.hold_for_send``) and ``Store.mark_delivered``: alerts a second through the outbox;
  Before each phase PostgreSQL's statistics are gathered (``ANALYZE``), as autovacuum does on a running server;
- **queries**: the median time of one call of each of those queries (the lease and claim queries), over every call
  of the run.

The figures are medians over ``--runs`` runs; ``ratio`` is PostgreSQL's figure over SQLite's (above 1: PostgreSQL
is faster; for query times, above 1: PostgreSQL takes longer). The PostgreSQL server runs on this machine, over TCP
on 127.0.0.1, so the figures include a loopback round trip per statement and no network beyond it.

    .venv/bin/python bench/store_backends.py              # 200 subscribers x 25 items, 5 runs
    .venv/bin/python bench/store_backends.py --smoke      # a quick run

Without PostgreSQL's binaries (or psycopg) the bench fails, saying what is missing. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import add_subscribers  # noqa: E402
from tests.fakes.postgres import PostgresServer, PostgresUnavailable  # noqa: E402
from watcher.models import Item, Match  # noqa: E402
from watcher.store import subscribers as subs  # noqa: E402
from watcher.store.sqlite import Store  # noqa: E402

TOPIC = "smuggling"
PAGE = 100


class Timer:
    """Collects the duration of each call of a few named queries."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = {}

    def call(self, name: str, fn: Callable[..., Any], *args: Any) -> Any:
        started = time.perf_counter()
        result = fn(*args)
        self.samples.setdefault(name, []).append(time.perf_counter() - started)
        return result

    def medians_us(self) -> dict[str, float]:
        return {name: round(statistics.median(v) * 1e6, 1) for name, v in self.samples.items()}


def fill(store: Store, subscribers: int) -> None:
    add_subscribers(store, subscribers, TOPIC)
    store.record_poll("feed", [Item(source="feed", id="seed", title="seed", url="https://e.org/seed")], {})


def settle(store: Store) -> None:
    """On PostgreSQL, the table statistics autovacuum gathers within a minute of such changes on a running server
    (without them a fresh table's first plans scan the pending-alerts index for an id); SQLite is left as the
    service leaves it."""
    if store.backend == "postgresql":
        store.db.execute("ANALYZE")


def queue(store: Store, items: int) -> tuple[int, float]:
    queued, started = 0, time.perf_counter()
    for n in range(items):
        item = Item(source="feed", id=f"i{n}", title=f"Item {n} on migrant smuggling", url=f"https://e.org/{n}")
        found = {item.key: [Match(TOPIC, ("migrant smuggling",), "a [migrant smuggling] case")]}
        queued += store.record_poll("feed", [item], found).alerts
    return queued, time.perf_counter() - started


def drain(store: Store, timer: Timer) -> tuple[int, float]:
    done, after, started = 0, 0, time.perf_counter()
    while True:
        page = timer.call("claim_due_100", subs.due_instant, store, ["telegram"], PAGE, after)
        if not page:
            break
        for alert in page:
            if timer.call("hold_for_send", subs.hold_for_send, store, alert.id):
                timer.call("mark_delivered", store.mark_delivered, alert.id)
                done += 1
            after = alert.id
    return done, time.perf_counter() - started


def one_run(target: str | Path, subscribers: int, items: int) -> dict[str, Any]:
    store = Store(target)
    try:
        fill(store, subscribers)
        settle(store)
        queued, queue_s = queue(store, items)
        settle(store)
        timer = Timer()
        drained, drain_s = drain(store, timer)
        left = store.outbox_depth()
    finally:
        store.close()
    if queued != subscribers * items or drained != queued or left != 0:
        raise SystemExit(f"{target}: queued {queued}, drained {drained}, left {left}: the outbox lost or kept alerts")
    return {
        "queued": queued,
        "queue_per_s": queued / queue_s,
        "drain_per_s": drained / drain_s,
        "queries_us": timer.medians_us(),
    }


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    names = sorted({name for r in runs for name in r["queries_us"]})
    return {
        "alerts_per_run": runs[0]["queued"],
        "queue_per_s": round(statistics.median(r["queue_per_s"] for r in runs), 1),
        "drain_per_s": round(statistics.median(r["drain_per_s"] for r in runs), 1),
        "queries_us": {
            n: round(statistics.median(r["queries_us"][n] for r in runs if n in r["queries_us"]), 1) for n in names
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--items", type=int, default=25, help="polls of one matching item each")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="a quick run: 50 subscribers x 4 items, 2 runs")
    args = parser.parse_args()
    if args.smoke:
        args.subscribers, args.items, args.runs = 50, 4, 2
    try:
        import psycopg  # noqa: F401  # loaded late: to say at once that the driver is missing
    except ImportError as exc:
        print(f"store_backends: psycopg is missing ({exc}); pip install -e '.[test]'", file=sys.stderr)
        return 2
    try:
        server = PostgresServer.find().start(durable=True)
    except PostgresUnavailable as exc:
        print(f"store_backends: cannot measure PostgreSQL: {exc}", file=sys.stderr)
        return 2
    results: dict[str, list[dict[str, Any]]] = {"sqlite": [], "postgresql": []}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for n in range(args.runs):  # the backends take turns, so a slower moment of the machine hits both
                results["sqlite"].append(one_run(Path(tmp) / f"run{n}.db", args.subscribers, args.items))
                results["postgresql"].append(one_run(server.create_database("bench"), args.subscribers, args.items))
                print(
                    f"run {n + 1}/{args.runs}: "
                    + json.dumps({k: round(v[-1]["drain_per_s"]) for k, v in results.items()}),
                    flush=True,
                )
    finally:
        server.stop()
    lite, pg = median_of(results["sqlite"]), median_of(results["postgresql"])
    if not lite["alerts_per_run"] or not pg["alerts_per_run"]:
        print("store_backends: nothing was measured", file=sys.stderr)
        return 1
    ratio = {
        "queue_per_s": round(pg["queue_per_s"] / lite["queue_per_s"], 3),
        "drain_per_s": round(pg["drain_per_s"] / lite["drain_per_s"], 3),
        "queries_us": {
            n: round(pg["queries_us"][n] / lite["queries_us"][n], 2)
            for n in lite["queries_us"]
            if n in pg["queries_us"]
        },
    }
    print(
        json.dumps(
            {
                "bench": "store_backends",
                "subscribers": args.subscribers,
                "items": args.items,
                "runs": args.runs,
                "sqlite": lite,
                "postgresql": pg,
                "ratio_pg_over_sqlite": ratio,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
