"""How fast `watcher run` answers /healthz while its database is locked and while it polls a huge feed.

Each run starts the real service as a subprocess three times, with a feed served from 127.0.0.1, and times
/healthz over a bare socket every 0.2 s: first while it is idle (the baseline of this run), then while another
connection holds an exclusive lock on its database and polls run every second, then while it parses, matches and
records a feed of ``--items`` items (the size cap raised to fit). The figures are the median over the runs of each
phase's median, 95th percentile and worst answer, in milliseconds, and the worst phase's p95 over the idle one's.

    .venv/bin/python bench/loop_latency.py --items 100000 --runs 3

The last line is one JSON object; the exit code is 1 when no answer was timed in a phase.
"""

from __future__ import annotations

import argparse
import json
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import cli_env, make_config, source_toml  # noqa: E402
from tests.fakes.feeds import FeedServer, rss  # noqa: E402

FAST_HTTP = '[http]\nattempts = 1\nper_host_interval = "0s"\n\n'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthz(port: int) -> float:
    """Seconds until /healthz answered 200, over a bare socket."""
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := conn.recv(4096):
            answer += chunk
    if not answer.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"/healthz answered {answer[:40]!r}")
    return time.perf_counter() - started


class Service:
    """`watcher run` on a config directory of its own, its log in a file."""

    def __init__(self, where: Path, sources: str):
        where.mkdir(parents=True)
        self.where, self.port, self.log = where, free_port(), where / "err.txt"
        config = make_config(where / "cfg", FAST_HTTP + sources)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "watcher", "--config", str(config), "run"],
            cwd=where,
            env=cli_env(where, WATCHER_HTTP_PORT=str(self.port)),
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("w"),
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                healthz(self.port)
                return
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"watcher did not start:\n{self.log.read_text()}") from None
                time.sleep(0.1)

    def logged(self, text: str) -> int:
        return self.log.read_text().count(text)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def probe(port: int, seconds: float, until=lambda: False) -> list[float]:
    times: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not until():
        times.append(healthz(port))
        time.sleep(0.2)
    return times


def idle(where: Path, feeds: FeedServer, seconds: float) -> list[float]:
    feeds.set("/idle.xml", rss([{"title": "a", "link": "https://e.org/a", "guid": "a"}]))
    service = Service(where, source_toml("idle", feeds.url("/idle.xml"), every="1h"))
    try:
        return probe(service.port, seconds)
    except OSError:
        print(service.log.read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        service.stop()


def locked(where: Path, feeds: FeedServer, seconds: float) -> list[float]:
    feeds.set("/lock.xml", rss([{"title": "a", "link": "https://e.org/a", "guid": "a"}]))
    service = Service(where, source_toml("lock", feeds.url("/lock.xml"), every="1s"))
    try:
        while service.logged("source lock: 1 items,") < 2:
            time.sleep(0.1)
        holder = sqlite3.connect(where / "data" / "watcher.db", isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        feeds.set("/lock.xml", rss([{"title": "b", "link": "https://e.org/b", "guid": "b"}]))
        try:
            return probe(service.port, seconds)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    finally:
        service.stop()


def big_feed(where: Path, feeds: FeedServer, items: int, seconds: float) -> list[float]:
    body = rss([{"title": f"t{n}", "link": f"https://e.org/{n}", "guid": str(n)} for n in range(items)]).encode()
    feeds.set("/big.xml", body)
    service = Service(where, source_toml("big", feeds.url("/big.xml"), every="1h", max_bytes=4 * len(body)))
    try:
        while not feeds.count("/big.xml"):
            time.sleep(0.05)
        return probe(service.port, seconds, until=lambda: service.logged(f"source big: {items} items") > 0)
    finally:
        service.stop()


def figures(times: list[float]) -> dict:
    ordered = sorted(times)
    return {
        "n": len(ordered),
        "median_ms": 1000 * statistics.median(ordered),
        "p95_ms": 1000 * ordered[int(0.95 * (len(ordered) - 1))],
        "max_ms": 1000 * ordered[-1],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000, help="items in the big feed (default 100000)")
    parser.add_argument("--runs", type=int, default=3, help="runs; the figures are medians over them (default 3)")
    parser.add_argument("--lock", type=float, default=8.0, help="seconds the database stays locked (default 8)")
    parser.add_argument("--smoke", action="store_true", help="one short run with a 5,000-item feed")
    args = parser.parse_args()
    if args.smoke:
        args.items, args.runs, args.lock = 5000, 1, 3.0
    phases: dict[str, list[dict]] = {"idle": [], "locked": [], "big_feed": []}
    with FeedServer() as feeds, tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            base = Path(tmp) / f"run{run}"
            phases["idle"].append(figures(idle(base / "idle", feeds, args.lock)))
            phases["locked"].append(figures(locked(base / "locked", feeds, args.lock)))
            phases["big_feed"].append(figures(big_feed(base / "big", feeds, args.items, 120.0)))
            print(
                f"run {run + 1}: "
                + ", ".join(
                    f"{name} p95 {rows[-1]['p95_ms']:.1f} ms max {rows[-1]['max_ms']:.1f} ms"
                    for name, rows in phases.items()
                ),
                flush=True,
            )
    if any(row["n"] == 0 for rows in phases.values() for row in rows):
        print("nothing measured in a phase", file=sys.stderr)
        return 1
    out = {
        name: {key: round(statistics.median(row[key] for row in rows), 1) for key in rows[0]}
        for name, rows in phases.items()
    }
    worst = max(out["locked"]["p95_ms"], out["big_feed"]["p95_ms"])
    out.update(
        items=args.items,
        runs=args.runs,
        lock_seconds=args.lock,
        worst_p95_over_idle=round(worst / max(out["idle"]["p95_ms"], 0.1), 1),
    )
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
