"""Precision and recall of the shipped topics on labelled cases.

Usage (from the repository root):

    python bench/match_quality.py [--cases FILE ...] [--topics config/topics.toml] [--errors]
                                  [--relevance config/relevance-model.json [--threshold 0.5]
                                   [--irrelevant-below 0.02]]

Without --relevance the packs are scored alone, whatever topics.toml's ``relevance`` and ``irrelevant_below``
thresholds say (this bench measures the packs). With it, the model raises topics at each topic's ``relevance``
threshold and drops hits below its ``irrelevant_below``, as the service does, or with --threshold and
--irrelevant-below at those probabilities for every topic (a way to try values without editing the file;
--irrelevant-below 0 drops nothing).

Prints one table per case file and a total, then, as the last line, one JSON
object with the per-topic figures of the total.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from watcher.matcher import Matcher, load_topics  # noqa: E402
from watcher.models import Item  # noqa: E402

DEFAULT_CASES = [ROOT / "tests/data/topic-cases.dev.toml", ROOT / "tests/data/topic-cases.extra.toml"]


@dataclass
class Score:
    """Counts for one topic."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def case_item(case: dict, number: int) -> Item:
    """An Item built the way a source would: summaries in summary, the rest as titles."""
    text = case["text"]
    if case.get("kind") == "summary":
        return Item(source="cases", id=str(number), title="", url="", summary=text)
    return Item(source="cases", id=str(number), title=text, url="")


def evaluate(matcher: Matcher, cases: list[dict]) -> dict[str, Score]:
    """Score every topic of ``matcher`` on ``cases``."""
    scores = {topic_id: Score() for topic_id in matcher.topics}
    for number, case in enumerate(cases, start=1):
        matches = {m.topic: m for m in matcher.match(case_item(case, number))}
        expected = set(case.get("topics", []))
        for topic_id, score in scores.items():
            hit, wanted = topic_id in matches, topic_id in expected
            if hit and wanted:
                score.tp += 1
            elif hit:
                score.fp += 1
                score.errors.append(f"FP {topic_id} {matches[topic_id].terms}: {case['text'][:110]}")
            elif wanted:
                score.fn += 1
                score.errors.append(f"FN {topic_id}: {case['text'][:110]}")
    return scores


def load_cases(path: Path) -> list[dict]:
    with path.open("rb") as handle:
        return tomllib.load(handle).get("case", [])


def table(title: str, scores: dict[str, Score]) -> str:
    lines = [title, f"  {'topic':<10} {'tp':>4} {'fp':>4} {'fn':>4} {'precision':>9} {'recall':>7}"]
    for topic_id, s in scores.items():
        lines.append(f"  {topic_id:<10} {s.tp:>4} {s.fp:>4} {s.fn:>4} {s.precision:>9.3f} {s.recall:>7.3f}")
    return "\n".join(lines)


def merge(total: dict[str, Score], part: dict[str, Score]) -> None:
    for topic_id, score in part.items():
        into = total.setdefault(topic_id, Score())
        into.tp += score.tp
        into.fp += score.fp
        into.fn += score.fn
        into.errors.extend(score.errors)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", type=Path, help="case files (default: dev + extra)")
    parser.add_argument("--topics", type=Path, default=ROOT / "config/topics.toml")
    parser.add_argument("--errors", action="store_true", help="list false positives and negatives")
    parser.add_argument("--smoke", action="store_true", help="only the first default case file")
    parser.add_argument(
        "--relevance",
        type=Path,
        metavar="FILE",
        help="also let this relevance model's weights file raise topics, at each topic's relevance threshold, as"
        " the service does (config/relevance-model.json); default: the keyword packs alone",
    )
    parser.add_argument(
        "--threshold", type=float, help="with --relevance: the probability every topic needs, instead of topics.toml's"
    )
    parser.add_argument(
        "--irrelevant-below",
        type=float,
        metavar="P",
        help="with --relevance: drop every topic's hits in title and summary under this probability, instead of"
        " topics.toml's irrelevant_below (0: drop none)",
    )
    args = parser.parse_args(argv)
    topics = load_topics(args.topics)
    relevance = None
    if args.relevance:
        from dataclasses import replace

        from watcher.matcher.model import Relevance, load_model

        if args.threshold is not None:
            topics = [replace(topic, relevance=args.threshold) for topic in topics]
        if args.irrelevant_below is not None:
            topics = [replace(topic, irrelevant_below=args.irrelevant_below or None) for topic in topics]
        relevance = Relevance.of(load_model(args.relevance))
        at = ", ".join(f"{t.id} {t.relevance}" for t in topics if t.relevance is not None) or "no topic"
        below = ", ".join(f"{t.id} {t.irrelevant_below}" for t in topics if t.irrelevant_below is not None) or "none"
        print(f"with the relevance model {args.relevance}, thresholds: {at}; irrelevant below: {below}")
    matcher = Matcher(topics, relevance=relevance)
    paths = args.cases or [p for p in DEFAULT_CASES if p.exists()]
    if args.smoke:
        paths = paths[:1]
    total: dict[str, Score] = {}
    count = 0
    for path in paths:
        cases = load_cases(path)
        count += len(cases)
        scores = evaluate(matcher, cases)
        print(table(f"{path.name} ({len(cases)} cases)", scores))
        merge(total, scores)
    print(table(f"total ({count} cases)", total))
    if args.errors:
        for score in total.values():
            for line in score.errors:
                print("  " + line)
    figures = {
        topic_id: {"precision": round(s.precision, 4), "recall": round(s.recall, 4), "tp": s.tp, "fp": s.fp, "fn": s.fn}
        for topic_id, s in total.items()
    }
    print(json.dumps({"cases": count, "topics": figures}, sort_keys=True))
    if not count:
        print("measured nothing: no case was evaluated", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
