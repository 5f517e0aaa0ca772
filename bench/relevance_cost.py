"""What the relevance model adds to matching: CPU per item with the model on against the packs alone, on the titles
and summaries of the labelled cases (short texts, where the model's share is largest), and the CPU of reading the
weights file two ways: with every check (check-config, the service's start-up) and as ``watcher match`` and
``watcher once`` read it when their first text is scored (no order check, which needs the features split), that
first text ("x") included.

Both sides match the same items in the same process, alternating, and the figures are medians over the runs; the
ratio (model on / off) is what to compare between machines.
Run:
    .venv/bin/python bench/relevance_cost.py [--runs 5] [--smoke]
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from watcher.matcher import Matcher, load_topics  # noqa: E402
from watcher.matcher.model import Relevance, load_model  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from match_quality import case_item, load_cases  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="one case file, one run")
    parser.add_argument("--topics", type=Path, default=ROOT / "config" / "topics.toml")
    parser.add_argument("--weights", type=Path, default=ROOT / "config" / "relevance-model.json")
    args = parser.parse_args(argv)
    runs = 1 if args.smoke else max(1, args.runs)
    files = sorted((ROOT / "tests" / "data").glob("topic-cases.*.toml"))[: 1 if args.smoke else None]
    cases = [case for path in files for case in load_cases(path)]
    items = [case_item(case, number) for number, case in enumerate(cases, 1)]
    if not items:
        print("measured nothing: no case was found", file=sys.stderr)
        return 1
    topics = load_topics(args.topics)
    needed = [t.id for t in topics if t.relevance is not None]
    loads, firsts = [], []
    for _ in range(runs):  # in turn
        started = time.process_time()
        model = load_model(args.weights, needed=needed)
        loads.append(time.process_time() - started)
        started = time.process_time()
        load_model(args.weights, needed=needed, check_order=False).score("x")
        firsts.append(time.process_time() - started)
    sides = {"off": Matcher(topics), "on": Matcher(topics, relevance=Relevance.of(model))}
    for matcher in sides.values():  # first pass fills the caches of both sides alike
        for item in items:
            matcher.match(item)
    times: dict[str, list[float]] = {"off": [], "on": []}
    raised = {name: 0 for name in sides}
    for _ in range(runs):
        for name, matcher in sides.items():
            started = time.process_time()
            raised[name] = sum(len(matcher.match(item)) for item in items)
            times[name].append((time.process_time() - started) / len(items))
    off_us, on_us = (statistics.median(times[name]) * 1e6 for name in ("off", "on"))
    print(f"{len(items)} items from {len(files)} case files, {runs} runs (cpu, medians)")
    print(f"match per item: packs alone {off_us:.1f} us, with the model {on_us:.1f} us ({on_us / off_us:.2f}x)")
    print(f"topics raised: {raised['off']} alone, {raised['on']} with the model")
    load_ms, first_ms = statistics.median(loads) * 1000, statistics.median(firsts) * 1000
    print(f"reading the weights file: {load_ms:.1f} ms checked, {first_ms:.1f} ms for a first text (scored)")
    print(
        json.dumps(
            {
                "items": len(items),
                "runs": runs,
                "off_us_per_item": round(off_us, 1),
                "on_us_per_item": round(on_us, 1),
                "on_vs_off": round(on_us / off_us, 2),
                "raised_off": raised["off"],
                "raised_on": raised["on"],
                "load_weights_ms": round(load_ms, 2),
                "first_text_ms": round(first_ms, 2),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
