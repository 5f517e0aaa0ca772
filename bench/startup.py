"""Start-up costs of the maintainers' commands: how long the topics take to load, and the wall and CPU time of
``watcher match 'x'`` and ``watcher check-config`` against the shipped config.

``topics.first_load_cpu_ms`` is the headline topics figure: the CPU time of the first ``load_topics`` of
config/topics.toml in a fresh process (read, parse, check with warnings; term caches empty), as every command that
reads the file pays it; the median over ``--runs`` fresh processes. ``later_load_cpu_ms`` is a later load in the
same process (term caches filled: only a long-running process sees it), ``compile_cpu_ms`` building the Matcher.

Baseline, measured in the same run: for each command, a Python process that only imports the modules that command
really loads. The bench first runs the command once and records every module in ``sys.modules`` when it exits,
then times a process that imports exactly that list. So ``match_warm_vs_import`` is what ``watcher match 'x'`` costs
against loading its own code (the target is at most 1.2), and a command that loads less shows a smaller baseline,
not a flattering ratio. Medians of ``--runs`` runs, the baseline's and the command's taken in turn; wall and CPU
(user + system of the child).

``watcher match`` is timed three ways, each against the imports of that way: ``match_warm`` reads the topics from
its cache (``WATCHER_CACHE_DIR`` filled by an earlier run of the same file), ``match_cold`` starts each run with an
empty cache directory (it parses, checks and writes the entry: the first run after an edit), ``match_off`` runs with
``WATCHER_NO_CACHE=1`` (parses and checks, writes nothing). check-config never uses the cache.
Run:
    .venv/bin/python bench/startup.py [--runs 5] [--smoke]
``match_phases_cpu_ms`` splits what ``watcher match 'x'`` does after its imports (fresh process each run): reading
topics.toml, checking it (every error, no warnings), compiling the terms the text can reach, matching; and
``cache_hit``, reading the same topics from a filled cache instead of the first two.
The last line is one JSON object.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._common import IMPORTER, medians, modules_loaded, paired, timed  # noqa: E402

CONFIG = ROOT / "config"

# Run in a fresh process (as every CLI command is): the first load of topics.toml, with its term caches empty, then
# the compile of the topics and the median of five later loads (term caches filled); prints one JSON object.
TOPICS_LOAD = """
import json, statistics, sys, time
from pathlib import Path
from watcher.matcher import Matcher, load_topics
clock, path = time.process_time, Path(sys.argv[1])
started = clock()
topics = load_topics(path)
loaded = clock()
Matcher(topics)
compiled = clock()
later = []
for _ in range(5):
    started_again = clock()
    load_topics(path)
    later.append(clock() - started_again)
print(json.dumps({"first": loaded - started, "compile": compiled - loaded, "later": statistics.median(later)}))
"""


def _fresh(script: str, args: list[str], env: dict[str, str], what: str) -> dict:
    """The JSON object ``script`` prints when run with ``args`` in a fresh interpreter; stops the bench if it fails."""
    done = subprocess.run([sys.executable, "-c", script, *args], env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise SystemExit(f"{what} failed: {done.stderr[-500:]}")
    return json.loads(done.stdout)


def topics_load(runs: int, env: dict[str, str]) -> dict[str, float]:
    """Median CPU milliseconds (CPU time, so a busy machine moves it less than wall time) over ``runs`` fresh
    processes: the first load of config/topics.toml in the process (read, parse, check with warnings: what every
    command that reads the file pays), compiling the topics, and a later load in the same process (its term caches
    filled, so only a long-running process sees it)."""
    samples = [_fresh(TOPICS_LOAD, [str(CONFIG / "topics.toml")], env, "topics load") for _ in range(runs)]
    ms = {name: round(statistics.median(s[name] for s in samples) * 1000, 1) for name in samples[0]}
    return {"first_load_cpu_ms": ms["first"], "later_load_cpu_ms": ms["later"], "compile_cpu_ms": ms["compile"]}


# Run in a fresh process, so caches and compiled patterns start cold as in the command; prints one JSON object.
MATCH_PHASES = """
import json, sys, time
clock = time.process_time
started = clock()
from pathlib import Path
from watcher.matcher import Matcher, topics_from_toml
from watcher.settings import read_toml
from watcher.topic_cache import checked_topics
imported = clock()
data, problems = read_toml(Path(sys.argv[1]))
read = clock()
topics, errors, _ = topics_from_toml(data, warnings=False)
checked = clock()
matcher = Matcher(topics, for_text="x")
built = clock()
matcher.explain_text("x")
done = clock()
cached, cache_errors = checked_topics(Path(sys.argv[1]), Path(sys.argv[2]))
hit = clock()
ms = lambda a, b: round((b - a) * 1000, 2)
print(json.dumps({"read_toml": ms(imported, read), "check": ms(read, checked), "compile_for_text": ms(checked, built),
                  "match": ms(built, done), "cache_hit": ms(done, hit),
                  "ok": not problems and not errors and not cache_errors and cached == topics}))
"""


def match_phases(runs: int, env: dict[str, str], cache: Path) -> dict[str, float]:
    """Median CPU milliseconds of what ``watcher match 'x'`` does after its imports, phase by phase, each run in a
    fresh process: read topics.toml, check it (errors only), compile the terms 'x' can reach, match; and read the
    topics from the filled cache directory ``cache`` instead."""
    samples = []
    for _ in range(runs):
        found = _fresh(MATCH_PHASES, [str(CONFIG / "topics.toml"), str(cache)], env, "match phases")
        if not found.pop("ok"):
            raise SystemExit("match phases: the shipped topics.toml has errors, or the cache gave other topics")
        samples.append(found)
    return {name: round(statistics.median(s[name] for s in samples), 2) for name in samples[0]}


# name: (arguments, cache setting); "warm" is a cache directory an earlier run filled, "cold" one emptied before each
# run, "off" WATCHER_NO_CACHE=1.
COMMANDS = {
    "match_warm": (["match", "x"], "warm"),
    "match_cold": (["match", "x"], "cold"),
    "match_off": (["match", "x"], "off"),
    "check_config": (["check-config"], "off"),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each measurement (median reported)")
    parser.add_argument("--smoke", action="store_true", help="one run of each, to check the bench works")
    args = parser.parse_args()
    runs = 1 if args.smoke else max(1, args.runs)
    py = [sys.executable]
    figures: dict = {"runs": runs}
    with tempfile.TemporaryDirectory() as data:
        base = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
        base["WATCHER_DATA_DIR"] = data
        figures["topics"] = topics_load(runs, base)
        warm, cold = Path(data) / "warm-cache", Path(data) / "cold-cache"
        envs = {
            "warm": {**base, "WATCHER_CACHE_DIR": str(warm)},
            "cold": {**base, "WATCHER_CACHE_DIR": str(cold)},
            "off": {**base, "WATCHER_NO_CACHE": "1"},
        }
        # Fills the warm cache (and checks that the command runs) before anything is timed.
        timed(py + ["-m", "watcher", "--config", str(CONFIG), "match", "x"], envs["warm"])
        if not any(warm.iterdir()):
            raise SystemExit("watcher match wrote no cache entry")
        figures["match_phases_cpu_ms"] = match_phases(runs, envs["off"], warm)
        for name, (argv, cache) in COMMANDS.items():
            argv = ["--config", str(CONFIG), *argv]
            prepare = (lambda: shutil.rmtree(cold, ignore_errors=True)) if cache == "cold" else None
            listing = Path(data) / f"{name}.json"
            if prepare is not None:
                prepare()
            loaded = modules_loaded(argv, envs[cache], listing)
            imports, figures[name] = paired(
                py + ["-c", IMPORTER, str(listing)], py + ["-m", "watcher", *argv], envs[cache], runs, prepare
            )
            figures[f"{name}_imports"] = {
                **imports,
                "modules": len(loaded),
                "watcher_modules": sum(1 for n in loaded if n.split(".")[0] == "watcher"),
            }
        figures["python_alone"] = medians([timed(py + ["-c", "pass"], base) for _ in range(runs)])
    if not figures["topics"]["first_load_cpu_ms"]:
        print("nothing was measured", file=sys.stderr)
        return 1
    for name in COMMANDS:
        imports = figures[f"{name}_imports"]
        if not imports["wall_ms"] or not figures[name]["wall_ms"] or not imports["cpu_ms"]:
            print("nothing was measured", file=sys.stderr)
            return 1
        figures[f"{name}_vs_import"] = round(figures[name]["wall_ms"] / imports["wall_ms"], 2)
        figures[f"{name}_vs_import_cpu"] = round(figures[name]["cpu_ms"] / imports["cpu_ms"], 2)
    for name in ("python_alone", *(n for c in COMMANDS for n in (f"{c}_imports", c))):
        count = figures[name].get("modules")
        extra = f"   ({count} modules)" if count else ""
        print(f"{name:21} wall {figures[name]['wall_ms']:8.1f} ms   cpu {figures[name]['cpu_ms']:8.1f} ms{extra}")
    topics = figures["topics"]
    print(
        f"topics               first load cpu {topics['first_load_cpu_ms']:6.1f} ms (fresh process)   "
        f"later loads {topics['later_load_cpu_ms']:6.1f} ms   compile {topics['compile_cpu_ms']:6.1f} ms"
    )
    phases = figures["match_phases_cpu_ms"]
    print("match 'x' after imports (cpu ms): " + ", ".join(f"{name} {value}" for name, value in phases.items()))
    print(
        ", ".join(
            f"{name.replace('_', ' ')} {figures[f'{name}_vs_import']}x its imports "
            f"(cpu {figures[f'{name}_vs_import_cpu']}x)"
            for name in COMMANDS
        )
    )
    print(json.dumps(figures, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
