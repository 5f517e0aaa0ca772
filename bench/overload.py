"""The outbox under overload, in simulated time: many instant subscribers and an item every few seconds, more
messages than Telegram allows, through the real store, delivery worker, pacing, per-chat cap and late-queue watch.
Only the Telegram send is replaced (it is accepted at once), and the clock is simulated, so an hour takes seconds.

The same load runs twice, first without the per-chat cap (the baseline) and then with it, and each run reports the
outbox depth, the oldest instant alert's wait, alerts and messages delivered, and the late-queue messages queued
for the operators. The run is deterministic, so one pass of each is the figure.

    .venv/bin/python bench/overload.py --subscribers 1000 --every 5 --minutes 60 --cap 50

The last line is one JSON object; the exit code is 1 when nothing was delivered.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.clock import FakeClock  # noqa: E402
from watcher.clock import from_iso  # noqa: E402
from watcher.delivery.backpressure import CHECK_EVERY, BacklogWatch, BackpressureRules  # noqa: E402
from watcher.delivery.pacing import Pacer  # noqa: E402
from watcher.delivery.worker import DIGEST_CHECK_EVERY, DeliveryWorker  # noqa: E402
from watcher.models import Item, Match  # noqa: E402
from watcher.store import health as healthdb  # noqa: E402
from watcher.store.sqlite import Store  # noqa: E402

TITLE = "Council conclusions on countering migrant smuggling along the Central Mediterranean route, item {n}"


class AcceptingNotifier:
    """Telegram's part, replaced: every message is accepted at once (the pacer keeps Telegram's limits)."""

    chat_paced = True
    labels = {"smuggling": "Migrant smuggling"}

    def __init__(self) -> None:
        self.singles = self.texts = 0

    async def send(self, alert, plain: bool = False) -> None:
        self.singles += 1

    async def send_text(self, address: str, html_text: str, plain_text: str, *, plain: bool = False) -> None:
        self.texts += 1

    def is_group(self, address: str) -> bool:
        return False


def seed(store: Store, subscribers: int) -> None:
    for chat in range(1, subscribers + 1):
        store.subscribe("telegram", str(chat), ["smuggling"])
    store.record_poll("feed", [Item(source="feed", id="seed", title="seed", url="https://e.org/seed")], {})


def queue_item(store: Store, n: int) -> None:
    item = Item(source="feed", id=f"i{n}", title=TITLE.format(n=n), url=f"https://e.org/press/{n}")
    store.record_poll(
        "feed",
        [item],
        {item.key: [Match("smuggling", ("migrant smuggling",), "… [migrant smuggling] networks along the route …")]},
    )


async def simulate(path: Path, subscribers: int, every: float, minutes: float, cap: int) -> dict:
    """One run: queue an item every ``every`` simulated seconds for ``minutes``, delivering all along."""
    clock = FakeClock()
    store = Store(path, clock=clock)
    seed(store, subscribers)
    notifier = AcceptingNotifier()
    worker = DeliveryWorker(
        store, {"telegram": notifier}, Pacer(rate=25, monotonic=clock.monotonic, sleep=clock.sleep), chat_cap=cap
    )
    watch = BacklogWatch(store, BackpressureRules(alert_age=3600.0, chat_cap=cap))
    end, items, next_fold, next_check, peak = minutes * 60.0, 0, 0.0, CHECK_EVERY, 0
    while clock.elapsed < end:
        while items * every <= clock.elapsed:
            queue_item(store, items)
            items += 1
        if clock.elapsed >= next_fold:
            next_fold = clock.elapsed + DIGEST_CHECK_EVERY
            await worker.overflow.run_due()
        if clock.elapsed >= next_check:
            next_check += CHECK_EVERY
            await watch.check()
            peak = max(peak, store.outbox_depth())
        started, _ = await worker.drain_once()
        await worker.settle()
        if not started:
            clock.advance(0.2)
    oldest = from_iso(store.db.execute("SELECT min(created_at) FROM outbox WHERE delivered_at IS NULL").fetchone()[0])
    count = lambda where: store.db.execute(f"SELECT count(*) FROM outbox WHERE {where}").fetchone()[0]  # noqa: E731
    result = {
        "cap": cap,
        "items": items,
        "alerts_queued": items * subscribers,
        "alerts_delivered": count("delivered_at IS NOT NULL"),
        "alerts_dropped": count("dropped_at IS NOT NULL"),
        "messages": notifier.singles + notifier.texts,
        "folded_messages": notifier.texts,
        "depth_end": store.outbox_depth(),
        "depth_peak": max(peak, store.outbox_depth()),
        "oldest_wait_end_s": round((clock.now() - oldest).total_seconds()) if oldest else 0,
        "operator_messages": [e["kind"] for e in healthdb.events(store, "outbox")],
    }
    store.close()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--every", type=float, default=5.0, help="simulated seconds between items (default 5)")
    parser.add_argument("--minutes", type=float, default=60.0, help="simulated minutes (default 60)")
    parser.add_argument("--cap", type=int, default=50, help="the per-chat cap of the second run (default 50)")
    parser.add_argument(
        "--smoke", action="store_true", help="about 20 s: 100 subscribers, an item a second, 10 simulated minutes"
    )
    args = parser.parse_args()
    if args.smoke:
        args.subscribers, args.every, args.minutes = 100, 1.0, 10.0
    logging.disable(logging.CRITICAL)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, cap in enumerate((0, args.cap)):
            started = time.perf_counter()
            run = asyncio.run(simulate(Path(tmp) / f"w{n}.db", args.subscribers, args.every, args.minutes, cap))
            run["wall_s"] = round(time.perf_counter() - started, 1)
            print(f"cap {cap}: {run}", file=sys.stderr)
            runs.append(run)
    base, capped = runs
    result = {
        "subscribers": args.subscribers,
        "every_s": args.every,
        "minutes": args.minutes,
        "offered_per_s": round(args.subscribers / args.every, 1),
        "baseline": base,
        "capped": capped,
        "depth_ratio": round(capped["depth_end"] / base["depth_end"], 3) if base["depth_end"] else None,
    }
    print(json.dumps(result))
    return 0 if base["alerts_delivered"] and capped["alerts_delivered"] else 1


if __name__ == "__main__":
    sys.exit(main())
