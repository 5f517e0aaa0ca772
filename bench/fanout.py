"""Fan one alert out to many Telegram subscribers through the real delivery code and python-telegram-bot, against
the fake Bot API enforcing Telegram's limits (30 messages a second overall, 1 a second per chat, 20 a minute per
group; it answers 429 with retry_after beyond them).

Reports the messages a second achieved as a share of the configured rate, the number of 429 answers, and peak memory
of the delivering process (the fake runs in a child process so its own bookkeeping does not count). With
``--compare N`` the same run with N subscribers is measured first in a separate process, as the memory baseline.

    .venv/bin/python bench/fanout.py --subscribers 10000 --compare 1000

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telegram import Bot  # noqa: E402
from telegram.request import HTTPXRequest  # noqa: E402

from bench._common import add_subscribers  # noqa: E402
from watcher.delivery.pacing import Pacer  # noqa: E402
from watcher.delivery.worker import DeliveryWorker  # noqa: E402
from watcher.models import Item, Match  # noqa: E402
from watcher.notifiers.telegram import TelegramNotifier  # noqa: E402
from watcher.store.sqlite import Store  # noqa: E402


def serve_fake(conn) -> None:
    """Child process: run the fake Bot API with Telegram's limits until told to stop, then report."""
    import logging

    from tests.fakes.botapi import FakeBotAPI

    logging.disable(logging.CRITICAL)
    with FakeBotAPI() as api:
        api.enforce_limits()
        conn.send((api.token, api.base_url))
        conn.recv()
        sent = api.sent_messages()
        times = [m["time"] for m in sent]
        conn.send(
            {
                "sent": len(sent),
                "distinct_chats": len({m["chat_id"] for m in sent}),
                "http_429": api.count_429,
                "first": min(times, default=0.0),
                "last": max(times, default=0.0),
            }
        )


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def prepare(store: Store, subscribers: int) -> int:
    """N private chats subscribed to one topic, and one matching item: N outbox rows."""
    add_subscribers(store, subscribers, "smuggling")
    seed = Item(
        source="council-press",
        id="fanout-0",
        title="Council adopts conclusions on fisheries",
        url="https://www.consilium.europa.eu/en/press/seed",
    )
    store.record_poll("council-press", [seed], {})  # a source's first poll that finds anything only records
    item = Item(
        source="council-press",
        id="fanout-1",
        title="Council adopts conclusions on migrant smuggling",
        url="https://www.consilium.europa.eu/en/press/fanout",
    )
    result = store.record_poll(
        "council-press", [item], {item.key: [Match("smuggling", ("migrant smuggling",), "… on [migrant smuggling] …")]}
    )
    return result.alerts


async def deliver(token: str, base_url: str, store: Store, rate: float, concurrency: int) -> float:
    request = HTTPXRequest(connection_pool_size=concurrency * 2)
    async with Bot(token, base_url=base_url, request=request) as bot:
        worker = DeliveryWorker(
            store,
            {"telegram": TelegramNotifier(bot, {"smuggling": "Migrant smuggling"})},
            Pacer(rate=rate),
            concurrency=concurrency,
        )
        started = time.monotonic()
        await worker.drain()
        return time.monotonic() - started


def run(subscribers: int, rate: float, concurrency: int) -> dict:
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    fake = ctx.Process(target=serve_fake, args=(child,), daemon=True)
    fake.start()
    token, base_url = parent.recv()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")
        queued = prepare(store, subscribers)
        before = rss_mb()
        elapsed = asyncio.run(deliver(token, base_url, store, rate, concurrency))
        left = store.outbox_depth()
        store.close()
    parent.send("stop")
    fake_report = parent.recv()
    fake.join(timeout=10)
    span = fake_report["last"] - fake_report["first"]
    achieved = (fake_report["sent"] - 1) / span if span > 0 else 0.0
    return {
        "subscribers": subscribers,
        "queued": queued,
        "sent": fake_report["sent"],
        "distinct_chats": fake_report["distinct_chats"],
        "left_in_outbox": left,
        "rate": rate,
        "concurrency": concurrency,
        "elapsed_s": round(elapsed, 2),
        "achieved_per_s": round(achieved, 3),
        "rate_share": round(achieved / rate, 4),
        "http_429": fake_report["http_429"],
        "rss_before_mb": round(before, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_growth_mb": round(peak_rss_mb() - before, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Fan one alert out to many subscribers against the fake Bot API "
        "with Telegram's limits; last line is JSON."
    )
    parser.add_argument("--subscribers", type=int, default=10_000, help="private chats to reach (default 10000)")
    parser.add_argument("--rate", type=float, default=25.0, help="configured messages a second (default 25)")
    parser.add_argument(
        "--concurrency", type=int, default=1, help="sends in flight at once (default 1, the service's default)"
    )
    parser.add_argument(
        "--compare",
        type=int,
        metavar="N",
        help="also measure N subscribers in a separate process, as the memory baseline",
    )
    parser.add_argument("--smoke", action="store_true", help="a few seconds: 40 subscribers, no baseline")
    args = parser.parse_args()
    if args.smoke:
        args.subscribers, args.compare = 40, None
    baseline = None
    if args.compare:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--subscribers",
                str(args.compare),
                "--rate",
                str(args.rate),
                "--concurrency",
                str(args.concurrency),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        baseline = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"baseline: {baseline['subscribers']} subscribers, peak RSS {baseline['peak_rss_mb']} MB, "
            f"rate share {baseline['rate_share']:.1%}, 429s {baseline['http_429']}"
        )
    result = run(args.subscribers, args.rate, args.concurrency)
    print(
        f"{result['sent']} of {result['queued']} alerts delivered to {result['distinct_chats']} chats in "
        f"{result['elapsed_s']} s: {result['achieved_per_s']}/s = {result['rate_share']:.1%} of the configured "
        f"{args.rate:g}/s; 429 answers: {result['http_429']}; peak RSS {result['peak_rss_mb']} MB "
        f"(before delivery {result['rss_before_mb']} MB)"
    )
    if baseline:
        result["compare_subscribers"] = baseline["subscribers"]
        result["compare_peak_rss_mb"] = baseline["peak_rss_mb"]
        result["peak_rss_ratio"] = round(result["peak_rss_mb"] / baseline["peak_rss_mb"], 3)
        print(
            f"peak RSS ratio {result['subscribers']} vs {baseline['subscribers']} subscribers: "
            f"{result['peak_rss_ratio']}"
        )
    print(json.dumps(result))
    if not result["queued"] or not result["sent"]:
        print("measured nothing: no alert was queued or sent", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
