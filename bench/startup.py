"""Start-up costs of the maintainers' commands: how long the topics take to load, and the wall and CPU time of
``watcher match 'x'`` and ``watcher check-config`` against the shipped config.

Baseline measured in the same run: a Python process that only imports ``watcher.cli`` (the modules the commands
themselves need), so ``match_vs_import`` says what a command costs beyond loading its code. Medians of ``--runs``.
Run:
    .venv/bin/python bench/startup.py [--runs 5] [--smoke]
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config"


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system of the child) of one run of ``argv``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def medians(argv: list[str], env: dict[str, str], runs: int) -> dict[str, float]:
    samples = [timed(argv, env) for _ in range(runs)]
    return {
        "wall_ms": round(statistics.median(s[0] for s in samples) * 1000, 1),
        "cpu_ms": round(statistics.median(s[1] for s in samples) * 1000, 1),
    }


def topics_load(runs: int) -> dict[str, float]:
    """Median CPU milliseconds to read and validate config/topics.toml, and to compile it, in this process (CPU
    time, so a busy machine moves it less than wall time)."""
    from watcher.matcher import Matcher, load_topics

    load, compile_ = [], []
    for _ in range(runs):
        started = time.process_time()
        topics = load_topics(CONFIG / "topics.toml")
        loaded = time.process_time()
        Matcher(topics)
        compile_.append(time.process_time() - loaded)
        load.append(loaded - started)
    return {
        "load_cpu_ms": round(statistics.median(load) * 1000, 1),
        "compile_cpu_ms": round(statistics.median(compile_) * 1000, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each measurement (median reported)")
    parser.add_argument("--smoke", action="store_true", help="one run of each, to check the bench works")
    args = parser.parse_args()
    runs = 1 if args.smoke else max(1, args.runs)
    with tempfile.TemporaryDirectory() as data:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
        env["WATCHER_DATA_DIR"] = data
        py = [sys.executable]
        figures = {
            "runs": runs,
            "topics": topics_load(runs),
            "import_cli": medians(py + ["-c", "import watcher.cli"], env, runs),
            "match": medians(py + ["-m", "watcher", "--config", str(CONFIG), "match", "x"], env, runs),
            "check_config": medians(py + ["-m", "watcher", "--config", str(CONFIG), "check-config"], env, runs),
        }
    base = figures["import_cli"]["wall_ms"]
    if not base or not figures["match"]["wall_ms"]:
        print("nothing was measured", file=sys.stderr)
        return 1
    figures["match_vs_import"] = round(figures["match"]["wall_ms"] / base, 2)
    figures["check_config_vs_import"] = round(figures["check_config"]["wall_ms"] / base, 2)
    for name in ("import_cli", "match", "check_config"):
        print(f"{name:14} wall {figures[name]['wall_ms']:8.1f} ms   cpu {figures[name]['cpu_ms']:8.1f} ms")
    print(
        f"topics        load cpu {figures['topics']['load_cpu_ms']:6.1f} ms   compile cpu "
        f"{figures['topics']['compile_cpu_ms']:6.1f} ms"
    )
    print(json.dumps(figures, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
