"""CPU time to load topics.toml (``load_topics``: read, parse, check, warnings included) with this checkout's code,
against the code of a git revision as the baseline, on the same file and in the same run.

Each round starts one fresh process per side, baseline first: it times its first load (cold caches: what
``watcher check-config`` pays; ``bench/startup.py``'s ``first_load_cpu_ms``) and the median of five more (term
caches filled: startup's ``later_load_cpu_ms``), and the TOML parse alone with the parser that side's code
imported (``tomli`` or the standard library's ``tomllib``), the part no rule checking can change. Medians over
the rounds, and the ratio of this checkout to the baseline. Both sides must give the same topics, errors and
warnings, or the bench fails.
Run:
    .venv/bin/python bench/topics_load.py [--against REV] [--rounds 7] [--topics config/topics.toml] [--smoke]
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Run with PYTHONPATH set to the side's root; prints one JSON object.
CHILD = """
import hashlib, importlib, json, statistics, sys, time
from pathlib import Path
from watcher.matcher import load_topics, topics_from_toml
path = Path(sys.argv[1])
clock = time.process_time
started = clock()
topics = load_topics(path)
cold = clock() - started
warm = []
for _ in range(5):
    started = clock()
    again = load_topics(path)
    warm.append(clock() - started)
parser_name = "tomli" if "tomli" in sys.modules else "tomllib"
parser = importlib.import_module(parser_name)
text = path.read_text(encoding="utf-8")
started = clock()
data = parser.loads(text)
toml = clock() - started
_, errors, warnings = topics_from_toml(data, path.name)
digest = hashlib.sha256(repr((topics, errors, warnings)).encode()).hexdigest()
print(json.dumps({"cold": cold * 1000, "warm": statistics.median(warm) * 1000, "toml": toml * 1000,
                  "parser": parser_name, "same": again == topics, "digest": digest, "topics": len(topics),
                  "warnings": len(warnings)}))
"""


def code_of(revision: str, into: Path) -> Path:
    """The ``watcher`` package of ``revision``, written under ``into``."""
    done = subprocess.run(["git", "archive", revision, "watcher"], cwd=ROOT, capture_output=True, timeout=60)
    if done.returncode != 0:
        raise SystemExit(f"git archive {revision} failed: {done.stderr.decode()[-300:]}")
    with tarfile.open(fileobj=BytesIO(done.stdout)) as archive:
        archive.extractall(into, filter="data")
    return into


def one_load(root: Path, topics: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(topics)], cwd=tempfile.gettempdir(), env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"loading with the code in {root} failed: {done.stderr[-500:]}")
    return json.loads(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", default="HEAD", help="git revision whose code is the baseline (default HEAD)")
    parser.add_argument("--rounds", type=int, default=7, help="fresh processes per side (medians reported)")
    parser.add_argument("--topics", type=Path, default=ROOT / "config" / "topics.toml")
    parser.add_argument("--smoke", action="store_true", help="one round, to check the bench works")
    args = parser.parse_args()
    rounds = 1 if args.smoke else max(1, args.rounds)
    topics = args.topics.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        sides = {"baseline": code_of(args.against, Path(tmp)), "this": ROOT}
        runs: dict[str, list[dict]] = {name: [] for name in sides}
        for _ in range(rounds):
            for name, root in sides.items():
                runs[name].append(one_load(root, topics))
    digests = {run["digest"] for side in runs.values() for run in side}
    if len(digests) != 1 or not all(run["same"] for side in runs.values() for run in side):
        print("the two sides gave different topics, errors or warnings", file=sys.stderr)
        return 1
    figures: dict = {"against": args.against, "rounds": rounds, "topics": runs["this"][0]["topics"]}
    for name, side in runs.items():
        figures[name] = {
            f"{what}_cpu_ms": round(statistics.median(run[what] for run in side), 1)
            for what in ("cold", "warm", "toml")
        }
        figures[name]["parser"] = side[0]["parser"]
    if not all(figures[name]["cold_cpu_ms"] and figures[name]["warm_cpu_ms"] for name in sides):
        print("nothing was measured", file=sys.stderr)
        return 1
    for what in ("cold", "warm"):
        figures[f"{what}_ratio"] = round(figures["this"][f"{what}_cpu_ms"] / figures["baseline"][f"{what}_cpu_ms"], 2)
    for name in sides:
        got = figures[name]
        print(
            f"{name:9} first load {got['cold_cpu_ms']:6.1f} ms   later loads {got['warm_cpu_ms']:6.1f} ms   "
            f"of which TOML parse {got['toml_cpu_ms']:5.1f} ms ({got['parser']}) (cpu, medians of {rounds})"
        )
    print(f"this checkout / {args.against}: first load {figures['cold_ratio']}x, later loads {figures['warm_ratio']}x")
    print(json.dumps(figures, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
