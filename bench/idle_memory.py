"""Peak memory of the idle service: `watcher run` with 20 sources and 10,000 subscribers.

The service runs as a real subprocess with the Telegram bot on (pointed at the fake Bot API on 127.0.0.1) and 20 RSS
sources served by a local HTTP server (each serving the recorded 25-item European Parliament feed). The database is
filled with N subscribers first. The figure is the child's VmHWM (peak resident set) after it has polled every source
several times. As a baseline in the same run, the script measures a Python process that only imports the same
libraries. Medians over several runs; the last line is one JSON object.

    python bench/idle_memory.py [--runs 3] [--sources 20] [--subscribers 10000] [--seconds 20] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.botapi import FakeBotAPI  # noqa: E402
from tests.fakes.feeds import FeedServer  # noqa: E402
from watcher.store.sqlite import Store  # noqa: E402

FEED = (ROOT / "tests" / "data" / "ep-thinktank-rss-2026-09-15.xml").read_bytes()
BASELINE_CODE = (
    "import watcher.app, watcher.bot, telegram.ext, apscheduler.schedulers.asyncio, feedparser, httpx, "
    "bs4, prometheus_client, time; time.sleep(2)"
)


def vm(pid: int, key: str) -> float:
    """A /proc/PID/status memory figure in MB (VmRSS, VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(key)


def baseline_mb() -> float:
    proc = subprocess.Popen([sys.executable, "-c", BASELINE_CODE])
    time.sleep(1.5)
    peak = vm(proc.pid, "VmHWM")
    proc.wait()
    return peak


def one_run(sources: int, subscribers: int, seconds: float) -> dict:
    work = Path(tempfile.mkdtemp(prefix="watcher-idle-"))
    try:
        with FeedServer() as feeds, FakeBotAPI() as api:
            lines = []
            for i in range(sources):
                feeds.set(f"/f{i}.xml", FEED)
                lines.append(
                    f'[[source]]\nname = "s{i}"\nkind = "rss"\nurl = "{feeds.url(f"/f{i}.xml")}"\nevery = "2s"\n'
                )
            config = work / "config"
            config.mkdir()
            (config / "sources.toml").write_text("\n".join(lines))
            for name in (
                "topics.toml",
                "relevance-model.json",
            ):  # the topics and the weights their `relevance` keys use
                shutil.copy(ROOT / "config" / name, config / name)
            store = Store(work / "data" / "watcher.db")
            topics = ["smuggling", "borders", "migration", "policing"]
            with store.tx():
                for n in range(subscribers):
                    store.subscribe("telegram", str(100000 + n), topics)
            store.close()
            env = {
                **os.environ,
                "WATCHER_TELEGRAM_TOKEN": api.token,
                "WATCHER_TELEGRAM_API_URL": api.base_url,
                "WATCHER_DATA_DIR": str(work / "data"),
                "WATCHER_HTTP_PORT": "0",
            }
            proc = subprocess.Popen(
                [sys.executable, "-m", "watcher", "--config", str(config), "run"],
                cwd=work,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                deadline = time.monotonic() + seconds
                while time.monotonic() < deadline:
                    assert proc.poll() is None, "the service exited"
                    time.sleep(0.5)
                polls = sum(feeds.count(f"/f{i}.xml") for i in range(sources))
                peak, rss = vm(proc.pid, "VmHWM"), vm(proc.pid, "VmRSS")
            finally:
                proc.terminate()
                proc.wait(timeout=30)
        return {"peak_rss_mb": round(peak, 1), "rss_mb": round(rss, 1), "polls": polls}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sources", type=int, default=20)
    parser.add_argument("--subscribers", type=int, default=10000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--smoke", action="store_true", help="one run of 6 s with 2 sources and 50 subscribers")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.smoke:
        args.runs, args.sources, args.subscribers, args.seconds = 1, 2, 50, 6.0
    runs, bases = [], []
    for i in range(args.runs):
        bases.append(baseline_mb())
        run = one_run(args.sources, args.subscribers, args.seconds)
        runs.append(run)
        print(
            f"run {i + 1}: peak {run['peak_rss_mb']} MB, now {run['rss_mb']} MB after {run['polls']} polls; "
            f"baseline (imports only) {bases[-1]:.1f} MB",
            flush=True,
        )
    peak = statistics.median(r["peak_rss_mb"] for r in runs)
    base = statistics.median(bases)
    print(
        json.dumps(
            {
                "peak_rss_mb": peak,
                "baseline_rss_mb": round(base, 1),
                "ratio_vs_baseline": round(peak / base, 2),
                "sources": args.sources,
                "subscribers": args.subscribers,
                "runs": args.runs,
                "target_mb": 150,
                "polls": [r["polls"] for r in runs],
            }
        )
    )
    if not runs or not all(r["polls"] for r in runs):
        print("measured nothing: a run polled no source", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
