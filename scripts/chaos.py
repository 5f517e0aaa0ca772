"""Chaos run: replicas of `watcher run` on one PostgreSQL database, one of them killed with SIGKILL every few seconds
and started again, while a local feed gains a matching item every few seconds; afterwards every alert must have
arrived once (a repeat allowed per kill), no source polled twice within its interval, the site's politeness kept,
one getUpdates consumer at a time and the send pace kept.

What runs, all on 127.0.0.1: a PostgreSQL server of its own (``initdb`` into a temporary folder, as the tests do;
or ``--database-url``), one feed server with two sources on it (``chaos-alerts``, whose feed gains a matching item
every ``--every`` seconds, and ``chaos-quiet``, which never matches), logging the time of every request, and the
fake Telegram Bot API, which counts sendMessage per (chat, item), the getUpdates long polls waiting at once (a poll
whose client was killed no longer counts) and when each message arrived. N subscribers follow the smuggling topic.
The replicas are killed at random (seeded), one every ``--kill-every`` seconds for ``--duration`` seconds, each
restarted at once. Then the feed stops growing, the outbox drains, the replicas stop, and the figures are printed,
the last line one JSON object.

Checks (each one a failure, exit code 1): an alert lost; more duplicates than kills; two requests for one source
closer than its interval (less the slack below); two requests to the site closer than its per-host interval (less
the slack); two getUpdates consumers at once; more sends than the configured pace (see below); a replica that
exited on its own or did not stop cleanly; nothing received. The feed server sees a request some time after the
replica claimed the poll (the shared per-host slot may hold it back by up to one interval per other source on the
site, and a loaded machine adds its own delay), so the gaps are judged with a slack: the per-host interval times the
other sources on the site plus ``--slack`` seconds for a source, ``--slack`` for the site. The smallest gaps seen are
printed too. Sends meet the same delay: a reserved start reaches the fake late by what the machine adds, the next
one perhaps not, so a single second may hold a few more than the pace (27 at 25 a second were seen on a loaded
machine). The pace is therefore judged over any 10 s (at most rate × 10 + 1 sends: starts 1/rate apart), and any
one second must stay within Telegram's own 30 messages.

    python scripts/chaos.py [--replicas 3] [--subscribers 200] [--duration 180] [--kill-every 10] [--smoke]
"""

from __future__ import annotations

import argparse
import random
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.botapi import FakeBotAPI  # noqa: E402
from tests.fakes.feeds import FeedServer, Route, rss  # noqa: E402
from tests.fakes.postgres import PostgresServer, PostgresUnavailable  # noqa: E402
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

FIRST_CHAT = 9001
ALERTS, QUIET = "/alerts.xml", "/quiet.xml"
HOST_INTERVAL = 1.0  # the [http] per_host_interval the replicas keep towards the feed server (the default)
SEND_RATE = 25.0  # WATCHER_SEND_RATE: the bot's overall pace, messages a second (the default)
RATE_WINDOW = 10.0  # seconds over which the pace is judged (see the module's doc)
TELEGRAM_LIMIT = 30  # messages a second Telegram takes from one bot, judged over any one second
QUIET_FEED = rss(
    [{"title": "Council adopts conclusions on fisheries", "link": "https://e.org/quiet/1", "guid": "quiet-1"}],
    title="Quiet feed",
).encode()


def prepare(work: Path, feeds: FeedServer, url: str, chats: list[int], every: float) -> None:
    """Configuration (both sources every ``every`` seconds) and the subscribers, written into the database."""
    sources = "".join(
        f'[[source]]\nname = "{name}"\nkind = "rss"\nurl = "{feeds.url(path)}"\nevery = "{every:g}s"\n\n'
        for name, path in (("chaos-alerts", ALERTS), ("chaos-quiet", QUIET))
    )
    write_setup(work, sources, url, chats)


def read(url: str, sql: str) -> tuple:
    """One row, as any other client of the database sees it (zeros while the tables are not there yet)."""
    # loaded late: psycopg is the PostgreSQL extra, needed only once a server is up
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute(sql).fetchone()
            return tuple(row) if row is not None else (0, 0)
    except psycopg.Error:
        return (0, 0)


def outbox(url: str) -> tuple[int, int]:
    """(rows queued, rows delivered)."""
    return read(url, "SELECT count(*), count(delivered_at) FROM outbox")  # type: ignore[return-value]


def gaps(times: list[float]) -> list[float]:
    ordered = sorted(times)
    return [b - a for a, b in zip(ordered, ordered[1:])]


def polls(feeds: FeedServer, every: float, slack: float) -> dict[str, Any]:
    """From the feed server's log: the smallest gap between two requests for each source and to the site, and
    how many gaps broke the source's interval or the per-host interval (with the slack of the module's doc)."""
    log = list(feeds.log)
    by_path = {path: [t for t, p in log if p == path] for path in (ALERTS, QUIET)}
    source_slack = HOST_INTERVAL * (len(by_path) - 1) + slack
    source_gaps = {path: gaps(times) for path, times in by_path.items()}
    site_gaps = gaps([t for t, _ in log])
    return {
        "requests": len(log),
        "polls": {path.strip("/").removesuffix(".xml"): len(times) for path, times in by_path.items()},
        "source_interval": every,
        "source_slack": round(source_slack, 2),
        "min_source_gap": round(min((g for gs in source_gaps.values() for g in gs), default=every), 3),
        "source_interval_broken": sum(1 for gs in source_gaps.values() for g in gs if g < every - source_slack),
        "host_interval": HOST_INTERVAL,
        "host_slack": slack,
        "min_host_gap": round(min(site_gaps, default=HOST_INTERVAL), 3),
        "host_interval_broken": sum(1 for g in site_gaps if g < HOST_INTERVAL - slack),
    }


def most_sends(api: FakeBotAPI, window: float) -> int:
    """The most sendMessage calls the fake accepted within any ``window`` seconds."""
    times = sorted(m["time"] for m in api.sent_messages())
    most, first = 0, 0
    for last, t in enumerate(times):
        while t - times[first] >= window:
            first += 1
        most = max(most, last - first + 1)
    return most


def kill_loop(replicas: list[Service], rng: random.Random, args: argparse.Namespace) -> dict[str, Any]:
    """Every ``kill_every`` seconds for ``duration`` seconds, SIGKILL one replica picked at random and start it
    again at once; stop early if a replica exited on its own."""
    kills = 0
    for _ in range(int(args.duration // args.kill_every)):
        time.sleep(args.kill_every)
        dead = [r.name for r in replicas if not r.alive()]
        if dead:
            return {"kills": kills, "died": dead}
        victim = rng.choice(replicas)
        victim.kill()
        victim.start()
        kills += 1
    return {"kills": kills, "died": []}


def chaos(args: argparse.Namespace, work: Path, url: str) -> dict[str, Any]:
    chats = [FIRST_CHAT + i for i in range(args.subscribers)]
    publisher = Publisher(args.every)
    started = time.monotonic()
    with FeedServer() as feeds, FakeBotAPI() as api:
        feeds.set_handler(ALERTS, publisher.route)
        feeds.set_handler(QUIET, lambda _headers: Route(QUIET_FEED))
        prepare(work, feeds, url, chats, args.poll_every)
        replicas = []
        for n in range(1, args.replicas + 1):
            env = service_env(
                api,
                WATCHER_DATABASE_URL=url,
                WATCHER_DATA_DIR=str(work / f"data-{n}"),
                WATCHER_SEND_RATE=f"{SEND_RATE:g}",
            )
            replicas.append(Service(work, env, name=f"replica-{n}"))
        try:
            for replica in replicas:
                replica.start()
            return run(args, url, api, feeds, publisher, replicas, chats, started)
        finally:  # a run cut short (an error, Ctrl-C) leaves no replica behind
            for replica in replicas:
                if replica.alive():
                    replica.kill()


def run(
    args: argparse.Namespace,
    url: str,
    api: FakeBotAPI,
    feeds: FeedServer,
    publisher: Publisher,
    replicas: list[Service],
    chats: list[int],
    started: float,
) -> dict[str, Any]:
    """From the replicas' start to the figures: first polls, the kills, the drain, the stop and the count."""
    rng = random.Random(args.seed)

    def alive() -> bool:
        return all(r.alive() for r in replicas)

    if not wait_until(lambda: read(url, "SELECT count(*) FROM items")[0] >= 2, 90, alive):
        for replica in replicas:
            replica.stop()
        tails = "\n".join(f"--- {r.name}\n{r.tail()}" for r in replicas)
        raise SystemExit(f"the replicas did not record the feeds' first polls:\n{tails}")
    publisher.start()
    result = kill_loop(replicas, rng, args)
    items, drained = drain(publisher, api, chats, lambda: outbox(url), args.drain_timeout, alive)
    died = result.pop("died") + [r.name for r in replicas if not r.alive()]
    codes = {r.name: r.stop() for r in replicas}
    result.update(tally(received(api), chats, items))
    result.update(polls(feeds, args.poll_every, args.slack))
    result.update(
        {
            "replicas": args.replicas,
            "max_getupdates_consumers": api.max_consumers,
            "getupdates_calls": len(api.calls("getUpdates")),
            "max_sends_per_second": most_sends(api, 1.0),
            "max_sends_per_10s": most_sends(api, RATE_WINDOW),
            "send_rate": SEND_RATE,
            "telegram_limit": TELEGRAM_LIMIT,
            "drained": drained,
            "replicas_died": sorted(set(died)),
            "exit_codes": codes,
            "outbox": list(outbox(url)),
            "seed": args.seed,
            "seconds": round(time.monotonic() - started, 1),
        }
    )
    if died or any(codes.values()):
        result["log_tails"] = {r.name: r.tail() for r in replicas}
    return result


def failures(result: dict[str, Any]) -> list[str]:
    problems = delivery_failures(result)
    if result["source_interval_broken"]:
        problems.append(f"{result['source_interval_broken']} polls of a source within its interval")
    if result["host_interval_broken"]:
        problems.append(f"{result['host_interval_broken']} requests to the feed site within the per-host interval")
    if result["max_getupdates_consumers"] > 1:
        problems.append(f"{result['max_getupdates_consumers']} getUpdates consumers at once")
    if result["max_sends_per_10s"] > result["send_rate"] * RATE_WINDOW + 1:  # starts 1/rate apart: rate × 10 + 1
        problems.append(
            f"{result['max_sends_per_10s']} sends in {RATE_WINDOW:g} s, over the pace of {result['send_rate']:g}/s"
        )
    if result["max_sends_per_second"] > result["telegram_limit"]:
        problems.append(f"{result['max_sends_per_second']} sends in one second, over Telegram's limit")
    if result["replicas_died"]:
        problems.append(f"replicas exited on their own: {', '.join(result['replicas_died'])}")
    if any(result["exit_codes"].values()):
        problems.append(f"replicas stopped with exit codes {result['exit_codes']}")
    return problems


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=3, help="replicas of watcher run (default 3)")
    parser.add_argument("--subscribers", type=int, default=200, help="subscribed private chats (default 200)")
    parser.add_argument("--duration", type=float, default=180.0, help="seconds of killing (default 180)")
    parser.add_argument("--kill-every", type=float, default=10.0, help="seconds between kills (default 10)")
    parser.add_argument("--every", type=float, default=10.0, help="seconds between new feed items (default 10)")
    parser.add_argument("--poll-every", type=float, default=3.0, help="each source's poll interval (default 3)")
    parser.add_argument(
        "--slack", type=float, default=0.35, help="seconds a request may reach the server late (default 0.35)"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the kill choices (default 1)")
    parser.add_argument("--drain-timeout", type=float, default=300.0, help="seconds to wait for the outbox to drain")
    parser.add_argument("--database-url", help="an empty PostgreSQL database to use instead of a server of its own")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (the replicas' logs) and say where")
    parser.add_argument("--smoke", action="store_true", help="3 replicas, 20 subscribers, 30 s, a kill every 10 s")
    args = parser.parse_args(argv)
    if args.smoke:
        args.replicas, args.subscribers, args.duration, args.every, args.drain_timeout = 3, 20, 30.0, 3.0, 90.0
    if args.replicas < 2 or args.subscribers < 1 or args.kill_every <= 0 or args.duration < args.kill_every:
        parser.error("give at least 2 replicas and 1 subscriber, and --duration of at least one --kill-every")
    if args.poll_every <= HOST_INTERVAL * 2:
        parser.error(f"--poll-every must be more than {HOST_INTERVAL * 2:g} s (two sources share one site)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped from outside: the replicas are stopped too
    work = Path(tempfile.mkdtemp(prefix="watcher-chaos-"))
    server = None
    try:
        url = args.database_url
        if not url:
            try:
                server = PostgresServer.find().start()
            except PostgresUnavailable as exc:
                print(f"PostgreSQL cannot start: {exc}", file=sys.stderr)
                return 2
            url = server.create_database("chaos")
        result = chaos(args, work, url)
    finally:
        if server is not None:
            server.stop()
        if args.keep:
            print(f"replicas' logs kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    summary = (
        f"{result['replicas']} replicas, {result['kills']} kills; {result['items']} items × {result['subscribers']} "
        f"subscribers = {result['expected']} alerts expected; received {result['received']}, lost {result['lost']}, "
        f"duplicates {result['duplicates']}; polls {result['polls']}, smallest gaps {result['min_source_gap']} s "
        f"(source) and {result['min_host_gap']} s (site); getUpdates consumers at once ≤ "
        f"{result['max_getupdates_consumers']}; ≤ {result['max_sends_per_second']} sends in a second, "
        f"{result['max_sends_per_10s']} in 10 s; "
        f"{result['seconds']} s"
    )
    return report(result, summary, failures(result))


if __name__ == "__main__":
    raise SystemExit(main())
