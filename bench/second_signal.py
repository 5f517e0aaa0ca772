"""Would a statistical second signal lift recall on labelled cases the keyword packs were never tuned on?

An experiment, not a feature: nothing in ``watcher`` uses it. For each topic it trains a small logistic
regression (one against the rest) on the labelled case files that are not held out, then scores the held-out
files three ways:

- ``keywords``: the shipped topic packs alone (what ``bench/match_quality.py`` prints);
- ``model >= t``: the model alone, counting a topic when its probability reaches ``t``;
- ``keywords or model >= t``: a topic counts when the packs raise it or the model reaches ``t``.

The thresholds are fixed (``--thresholds``) and every one is reported: none is picked on the held-out cases.
Features are the folded words of a text, its word pairs, and the first five letters of each word of six or more
letters (a crude stem that joins inflected forms). Training is plain stochastic gradient descent with L2
regularisation, seeded, so two runs give the same figures.

Run (from the repository root):
    python bench/second_signal.py [--held-out blind17 blind18] [--thresholds 0.5 0.7 0.9] [--epochs 12]
The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from watcher.matcher import Matcher, load_topics  # noqa: E402
from watcher.matcher.folding import tokens  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from match_quality import case_item  # noqa: E402

DATA = ROOT / "tests" / "data"
TOPICS = ("smuggling", "borders", "migration", "policing")


def features(text: str) -> list[str]:
    """The features of one text: words, word pairs and five-letter stems of long words, each once."""
    words = [word for word in tokens(text) if any(char.isalpha() for char in word)]
    found = set(words)
    found.update(f"{first} {second}" for first, second in zip(words, words[1:]))
    found.update(f"{word[:5]}~" for word in words if len(word) >= 6)
    return sorted(found)


class Model:
    """A logistic regression over sparse binary features, trained by SGD."""

    def __init__(self) -> None:
        self.weights: dict[str, float] = {}
        self.bias = 0.0

    def probability(self, feats: list[str]) -> float:
        score = self.bias + sum(self.weights.get(feat, 0.0) for feat in feats)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, score))))

    def train(
        self, rows: list[tuple[list[str], bool]], epochs: int, seed: int, rate: float = 0.2, l2: float = 1e-4
    ) -> None:
        order = list(range(len(rows)))
        shuffle = random.Random(seed).shuffle
        for epoch in range(epochs):
            shuffle(order)
            step = rate / (1 + epoch)
            for index in order:
                feats, wanted = rows[index]
                gradient = self.probability(feats) - (1.0 if wanted else 0.0)
                self.bias -= step * gradient
                for feat in feats:
                    weight = self.weights.get(feat, 0.0)
                    self.weights[feat] = weight - step * (gradient + l2 * weight)


def load_cases(name: str) -> list[dict]:
    with (DATA / f"topic-cases.{name}.toml").open("rb") as handle:
        return tomllib.load(handle).get("case", [])


def scores(hits: list[set[str]], cases: list[dict]) -> dict[str, dict[str, float]]:
    """Precision and recall per topic of ``hits`` (a set of topics per case) against the labels."""
    out = {}
    for topic in TOPICS:
        count = Counter()
        for found, case in zip(hits, cases):
            wanted = topic in case.get("topics", [])
            count["tp" if topic in found and wanted else "fp" if topic in found else "fn" if wanted else "tn"] += 1
        precision = count["tp"] / (count["tp"] + count["fp"]) if count["tp"] + count["fp"] else 1.0
        recall = count["tp"] / (count["tp"] + count["fn"]) if count["tp"] + count["fn"] else 1.0
        out[topic] = {
            "precision": round(precision, 3),
            "recall": round(recall, 3),
            "tp": count["tp"],
            "fp": count["fp"],
            "fn": count["fn"],
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--held-out",
        nargs="+",
        metavar="SET",
        help="case sets to score (blind17 for tests/data/topic-cases.blind17.toml); the rest train;"
        " default: the two newest blind sets",
    )
    parser.add_argument("--thresholds", nargs="+", type=float, default=[0.5, 0.7, 0.9])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--topics", type=Path, default=ROOT / "config" / "topics.toml")
    parser.add_argument("--smoke", action="store_true", help="two epochs, for CI")
    args = parser.parse_args(argv)
    epochs = 2 if args.smoke else args.epochs

    every = sorted(path.name.split(".")[1] for path in DATA.glob("topic-cases.*.toml"))
    if not args.held_out:
        blind = sorted(
            (name for name in every if name.removeprefix("blind").isdigit()),
            key=lambda name: int(name.removeprefix("blind")),
        )
        args.held_out = blind[-2:]
    missing = [name for name in args.held_out if name not in every]
    if missing:
        parser.error(f"no case file for {', '.join(missing)}; the sets are: {', '.join(every)}")
    training = [case for name in every if name not in args.held_out for case in load_cases(name)]
    held = [case for name in args.held_out for case in load_cases(name)]
    if not training or not held:
        print("nothing to train on or nothing to score", file=sys.stderr)
        return 1
    print(
        f"training on {len(training)} cases from {len(every) - len(args.held_out)} sets;"
        f" scoring {len(held)} held-out cases ({' '.join(args.held_out)}); {epochs} epochs",
        flush=True,
    )

    train_rows = [features(case["text"]) for case in training]
    models = {}
    for topic in TOPICS:
        model = Model()
        model.train(
            [(feats, topic in case.get("topics", [])) for feats, case in zip(train_rows, training)], epochs, args.seed
        )
        models[topic] = model

    matcher = Matcher(load_topics(args.topics))
    keyword_hits = [{m.topic for m in matcher.match(case_item(case, number))} for number, case in enumerate(held, 1)]
    held_rows = [features(case["text"]) for case in held]
    probabilities = [{topic: models[topic].probability(feats) for topic in TOPICS} for feats in held_rows]

    results = {"keywords": scores(keyword_hits, held)}
    for threshold in args.thresholds:
        model_hits = [{t for t, p in probs.items() if p >= threshold} for probs in probabilities]
        results[f"model>={threshold}"] = scores(model_hits, held)
        results[f"keywords|model>={threshold}"] = scores([k | m for k, m in zip(keyword_hits, model_hits)], held)

    print(f"{'signal':<24}" + "".join(f"{topic:>18}" for topic in TOPICS))
    for name, per_topic in results.items():
        cells = "".join(f"{per_topic[t]['precision']:>11.3f}/{per_topic[t]['recall']:.3f}" for t in TOPICS)
        print(f"{name:<24}{cells}")
    print(
        json.dumps(
            {
                "training_cases": len(training),
                "held_out_cases": len(held),
                "held_out": args.held_out,
                "epochs": epochs,
                "results": results,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
