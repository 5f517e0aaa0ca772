"""Kill -9 soak: `watcher run` is killed with SIGKILL at random moments and restarted, while a local feed gains a
matching item every second; afterwards every alert must have arrived, and repeats are allowed only for the messages
that were in flight at a kill (at most one per kill with one send in flight).

The service runs as a real subprocess against a feed server on 127.0.0.1 and the fake Telegram Bot API, with N
subscribers to the smuggling topic. The kill moments are drawn from a seeded random generator. After the last kill
the feed stops growing and the service drains the outbox; then the script counts alerts expected (items × subscribers),
received, lost and duplicated, and prints one JSON line last. It exits 1 when an alert was lost, when there were more
duplicates than kills, when the service died on its own or did not stop cleanly, or when nothing was received.

    python scripts/kill_soak.py --kills 50 [--subscribers 20] [--seed 1] [--smoke]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.botapi import FakeBotAPI  # noqa: E402
from tests.fakes.feeds import FeedServer  # noqa: E402
from tests.fakes.soak import (  # noqa: E402
    Publisher,
    Service,
    delivery_failures,
    drain,
    received,
    report,
    service_env,
    tally,
    wait_until,
    write_setup,
)

FIRST_CHAT = 7001


def read_db(path: Path, sql: str) -> tuple:
    """One row, read from the database file as another process sees it (zeros while it has no tables yet)."""
    db = sqlite3.connect(path, timeout=10)
    try:
        return db.execute(sql).fetchone()
    except sqlite3.OperationalError:
        return (0, 0)
    finally:
        db.close()


def outbox(path: Path) -> tuple[int, int]:
    """(rows queued, rows delivered)."""
    return read_db(path, "SELECT count(*), count(delivered_at) FROM outbox")


def prepare(work: Path, feed_url: str, chats: list[int], api: FakeBotAPI) -> dict[str, str]:
    """Config, subscribers in the database, and the service's environment."""
    sources = f'[[source]]\nname = "soak"\nkind = "rss"\nurl = "{feed_url}"\nevery = "1s"\n'
    write_setup(work, sources, work / "data" / "watcher.db", chats)
    return service_env(api, WATCHER_DATA_DIR=str(work / "data"))


def ready(service: Service, api: FakeBotAPI, before: int) -> bool:
    """Wait until this life of the service has set its bot commands (it then polls and delivers)."""
    return wait_until(lambda: len(api.calls("setMyCommands")) > before, 60, service.alive)


def kill_loop(service: Service, api: FakeBotAPI, db: Path, rng: random.Random, args: argparse.Namespace) -> dict:
    """Kill and restart ``args.kills`` times, each at a random moment of a life that is up; say how many kills found
    undelivered rows, or that the service died."""
    busy = 0
    for number in range(1, args.kills + 1):
        time.sleep(rng.uniform(args.min_up, args.max_up))
        if not service.alive():
            return {"kills": number - 1, "kills_with_backlog": busy, "died": True}
        queued, delivered = outbox(db)
        busy += queued > delivered
        before = len(api.calls("setMyCommands"))
        service.kill()
        service.start()
        ready(service, api, before)
    return {"kills": args.kills, "kills_with_backlog": busy, "died": False}


def soak(args: argparse.Namespace, work: Path) -> dict:
    rng = random.Random(args.seed)
    chats = [FIRST_CHAT + i for i in range(args.subscribers)]
    publisher = Publisher(args.every)
    db = work / "data" / "watcher.db"
    started = time.monotonic()
    with FeedServer() as feeds, FakeBotAPI() as api:
        if args.limits:
            api.enforce_limits()
        feeds.set_handler("/feed.xml", publisher.route)
        service = Service(work, prepare(work, feeds.url("/feed.xml"), chats, api))
        service.start()
        if not wait_until(lambda: read_db(db, "SELECT count(*) FROM items")[0] > 0, 60, service.alive):
            service.stop()
            raise SystemExit(f"the service did not record the feed's first poll:\n{service.tail()}")
        publisher.start()
        result = kill_loop(service, api, db, rng, args)
        time.sleep(rng.uniform(args.min_up, args.max_up))
        items, drained = drain(publisher, api, chats, lambda: outbox(db), args.drain_timeout, service.alive)
        died = result.pop("died") or not service.alive()
        code = service.stop()
        result.update(tally(received(api), chats, items))
        result.update(
            {
                "drained": drained,
                "service_died": died,
                "exit_code": code,
                "http_429": api.count_429,
                "outbox": list(outbox(db)),
                "seed": args.seed,
                "seconds": round(time.monotonic() - started, 1),
            }
        )
        if died or code != 0:
            result["log_tail"] = service.tail()
    return result


def failures(result: dict) -> list[str]:
    problems = delivery_failures(result)
    if result["service_died"]:
        problems.append("the service exited on its own")
    if result["exit_code"] != 0:
        problems.append(f"the service stopped with exit code {result['exit_code']}")
    return problems


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=50, help="SIGKILLs to send (default 50)")
    parser.add_argument("--subscribers", type=int, default=20, help="subscribed private chats (default 20)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the kill moments (default 1)")
    parser.add_argument("--every", type=float, default=1.0, help="seconds between new feed items (default 1)")
    parser.add_argument(
        "--min-up",
        type=float,
        default=0.1,
        help="shortest time from ready (bot commands set) to the kill, seconds (default 0.1)",
    )
    parser.add_argument("--max-up", type=float, default=4.0, help="longest such time, seconds (default 4)")
    parser.add_argument("--drain-timeout", type=float, default=300.0, help="seconds to wait for the outbox to drain")
    parser.add_argument("--limits", action="store_true", help="the fake enforces Telegram's rate limits (429s)")
    parser.add_argument("--smoke", action="store_true", help="3 kills, 5 subscribers: under a minute")
    args = parser.parse_args(argv)
    if args.smoke:
        args.kills, args.subscribers, args.max_up, args.drain_timeout = 3, 5, 2.0, 60.0
    if args.kills < 1 or args.subscribers < 1 or not 0 < args.min_up <= args.max_up:
        parser.error("give at least one kill and one subscriber, and 0 < --min-up <= --max-up")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="watcher-soak-"))
    try:
        result = soak(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary = (
        f"{result['kills']} kills ({result['kills_with_backlog']} with alerts waiting); {result['items']} items × "
        f"{result['subscribers']} subscribers = {result['expected']} alerts expected; received {result['received']}, "
        f"lost {result['lost']}, duplicates {result['duplicates']}; {result['seconds']} s"
    )
    return report(result, summary, failures(result))


if __name__ == "__main__":
    raise SystemExit(main())
