"""What several benches share: the common words their generated texts are made of, a store's subscribers, and the
timing of a command in a child process against a baseline that imports only the modules that command loads.

Not a bench itself (the name starts with ``_``: the smoke pass in .ci/run and tests/test_benches.py skip it). The
benches import it as ``bench._common`` once they have put the repository root on ``sys.path``.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from watcher.store.sqlite import Store

# English function words and the words most Council documents use; generated texts start from these, in this order
# (the order matters: the benches draw from their lists with seeded generators, by rank or by position).
ENGLISH_WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "on",
    "with",
    "as",
    "by",
    "this",
    "be",
    "are",
    "from",
    "at",
    "or",
    "it",
    "an",
    "which",
    "Council",
    "Member",
    "States",
    "delegations",
    "Presidency",
    "document",
    "meeting",
    "agreement",
    "report",
]
# Words of Council policy texts, after the place names each bench adds before them.
POLICY_WORDS = ["ministers", "regulation", "directive", "proposal", "conclusions", "budget"]


def add_subscribers(store: Store, count: int, topic: str) -> None:
    """``count`` active Telegram private chats (addresses 1000, 1001, ...), all subscribed to ``topic``."""
    now = store.now()
    with store.tx():
        store.db.executemany(
            "INSERT INTO subscribers (channel, address, active, created_at, updated_at) "
            "VALUES ('telegram', ?, 1, ?, ?)",
            [(str(1000 + i), now, now) for i in range(count)],
        )
        store.db.execute("INSERT INTO subscriptions SELECT id, ? FROM subscribers", (topic,))


# Runs `python -m watcher ARGS` as the real command does and writes the names in sys.modules at exit to OUT.
PROBE = """
import atexit, json, runpy, sys
out, args = sys.argv[1], sys.argv[2:]
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
sys.argv = ["watcher", *args]
runpy.run_module("watcher", run_name="__main__", alter_sys=True)
"""
# Imports the modules named in the file given, in order; skips what cannot be imported alone (and says how many).
IMPORTER = """
import importlib, json, sys
names = json.load(open(sys.argv[1]))
failed = 0
for name in names:
    try:
        importlib.import_module(name)
    except Exception:
        failed += 1
sys.exit(3 if failed > len(names) // 10 else 0)
"""
# Never imported by the baseline: the entry points themselves (importing watcher.__main__ would run the command).
NOT_IMPORTED = {"__main__", "watcher.__main__"}


def timed(argv: list[str], env: dict[str, str], prepare: Callable[[], object] | None = None) -> tuple[float, float]:
    """Wall and CPU seconds (user + system of the child) of one run of ``argv``, after ``prepare()`` (not timed)."""
    if prepare is not None:
        prepare()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def medians(samples: list[tuple[float, float]]) -> dict[str, float]:
    return {
        "wall_ms": round(statistics.median(s[0] for s in samples) * 1000, 1),
        "cpu_ms": round(statistics.median(s[1] for s in samples) * 1000, 1),
    }


def paired(
    baseline: list[str], command: list[str], env: dict[str, str], runs: int, prepare: Callable[[], object] | None
) -> tuple[dict[str, float], dict[str, float]]:
    """Medians of ``runs`` runs of the baseline and of the command, taken in turn (baseline, command, baseline, ...)
    so that a change in the machine's load while the bench runs weighs on both alike."""
    base, timed_command = [], []
    for _ in range(runs):
        base.append(timed(baseline, env))
        timed_command.append(timed(command, env, prepare))
    return medians(base), medians(timed_command)


def modules_loaded(args: list[str], env: dict[str, str], into: Path) -> list[str]:
    """The modules ``watcher ARGS`` has loaded when it exits, written to ``into`` for the importer."""
    out = into.with_suffix(".loaded")
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(out), *args], env=env, capture_output=True, text=True, timeout=120
    )
    if done.returncode not in (0, 1) or not out.exists():
        raise SystemExit(f"watcher {' '.join(args)} failed ({done.returncode}): {done.stderr[-500:]}")
    names = [n for n in json.loads(out.read_text()) if n not in NOT_IMPORTED]
    into.write_text(json.dumps(names))
    return names
