"""What the outbox leases cost: alerts a second through the store's bookkeeping of one send, claimed against unclaimed.

Both sides run the same store on the same kind of database, with no notifier (the send itself is left out, so the
figure is the bookkeeping alone, the worst case for the leases' share):

- ``claimed``: what the delivery worker does now: claim a batch of due alerts (``subscribers.due_instant``, one
  ``UPDATE … RETURNING``), then for each alert ``hold_for_send`` (renew the lease) and ``mark_delivered`` (owner
  checked, lease ended);
- ``unclaimed``: the same work as it was done before the leases: read the batch with a plain SELECT, check that the
  alert is still due, and mark it delivered.

Each run queues ``--alerts`` alerts in a fresh database and drains them; the two sides alternate for ``--runs``
rounds and the medians are compared (``ratio`` = claimed alerts/s ÷ unclaimed alerts/s, measured in the same run).
``--database-url postgresql://…`` runs both sides on PostgreSQL instead of a SQLite file (each run in the database
as it is, so give an empty one).

    .venv/bin/python bench/outbox_leases.py [--alerts 5000] [--runs 5] [--smoke]

The last line is one JSON object; the exit code is 1 when nothing was measured.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from watcher.models import Item, Match  # noqa: E402
from watcher.store import subscribers  # noqa: E402
from watcher.store.sqlite import Store, _alert  # noqa: E402

CHANNELS = ["telegram"]
BATCH = 200  # the delivery worker's batch
UNCLAIMED_DUE = (
    subscribers._ALERT_COLUMNS + f"WHERE {subscribers.PENDING} AND o.next_attempt_at<=? AND o.id>? AND s.active=1 "
    "AND s.mode='instant' AND s.muted_until IS NULL AND s.channel IN (?) ORDER BY o.id LIMIT ?"
)


def fill(store: Store, alerts: int, chats: int = 50) -> None:
    """Queue ``alerts`` alerts: ``chats`` subscribers, and items enough for the rest."""
    for chat in range(chats):
        store.subscribe("telegram", str(1000 + chat), ["t"])
    store.record_poll("bench", [Item(source="bench", id="seed", title="seed", url="https://e.org/seed")], {})
    items = [
        Item(source="bench", id=str(n), title=f"item {n}", url=f"https://e.org/{n}") for n in range(alerts // chats)
    ]
    store.record_poll("bench", items, {("bench", i.id): [Match("t", ("x",))] for i in items})


def claimed(store: Store) -> int:
    sent = 0
    while batch := subscribers.due_instant(store, CHANNELS, BATCH):
        for alert in batch:
            if subscribers.hold_for_send(store, alert.id):
                store.mark_delivered(alert.id)
                sent += 1
    return sent


def unclaimed(store: Store) -> int:
    sent = 0
    while rows := store.db.execute(UNCLAIMED_DUE, [store.now(), 0, "telegram", BATCH]).fetchall():
        for alert in map(_alert, rows):
            if subscribers.still_due(store, alert.id):
                store.db.execute(
                    "UPDATE outbox SET delivered_at=?, attempts=attempts+1 WHERE id=?", (store.now(), alert.id)
                )
                sent += 1
    return sent


def one_run(target: str, alerts: int, drain: Callable[[Store], int]) -> float:
    """Alerts a second through ``drain`` on a freshly filled database."""
    store = Store(target)
    try:
        fill(store, alerts)
        started = time.perf_counter()
        sent = drain(store)
        seconds = time.perf_counter() - started
    finally:
        store.close()
    if sent == 0:
        raise SystemExit("nothing was drained: the bench measured nothing")
    return sent / seconds


def clear_postgres(url: str) -> None:
    """An empty database again between runs on PostgreSQL."""
    store = Store(url)
    try:
        for table in ("outbox", "matches", "item_events", "items", "subscriptions", "subscribers"):
            store.db.execute(f"DELETE FROM {table}")
    finally:
        store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=5000, help="alerts queued and drained per run (default 5000)")
    parser.add_argument("--runs", type=int, default=5, help="runs of each side, alternating (default 5)")
    parser.add_argument(
        "--database-url", default="", help="postgresql://… to measure on PostgreSQL (an empty database)"
    )
    parser.add_argument("--smoke", action="store_true", help="1000 alerts, 3 runs: a few seconds")
    args = parser.parse_args(argv)
    if args.smoke:
        args.alerts, args.runs = 1000, 3
    if args.alerts < 50 or args.runs < 1:
        parser.error("give at least 50 alerts and one run")
    rates: dict[str, list[float]] = {"claimed": [], "unclaimed": []}
    with tempfile.TemporaryDirectory(prefix="watcher-leases-") as work:
        for run in range(args.runs):
            for side, drain in (("unclaimed", unclaimed), ("claimed", claimed)):
                if args.database_url:
                    clear_postgres(args.database_url)
                target = args.database_url or str(Path(work) / f"{side}-{run}.db")
                rates[side].append(one_run(target, args.alerts, drain))
    medians = {side: statistics.median(values) for side, values in rates.items()}
    result = {
        "backend": "postgresql" if args.database_url else "sqlite",
        "alerts_per_run": args.alerts,
        "runs": args.runs,
        "claimed_alerts_per_s": round(medians["claimed"], 1),
        "unclaimed_alerts_per_s": round(medians["unclaimed"], 1),
        "ratio": round(medians["claimed"] / medians["unclaimed"], 3),
        "runs_claimed": [round(v, 1) for v in rates["claimed"]],
        "runs_unclaimed": [round(v, 1) for v in rates["unclaimed"]],
    }
    print(
        f"{result['backend']}: claimed {result['claimed_alerts_per_s']} alerts/s, unclaimed "
        f"{result['unclaimed_alerts_per_s']} alerts/s (median of {args.runs}); ratio {result['ratio']}"
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
