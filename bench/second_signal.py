"""Does the relevance model (``watcher.matcher.model``) lift recall on labelled cases the keyword packs were never
tuned on?

For each topic it trains the model (one logistic regression per topic, against the rest) on the labelled case
files that are not held out, with the features and trainer the product uses, then scores the held-out files:

- ``keywords``: the shipped topic packs alone (what ``bench/match_quality.py`` prints);
- ``model >= t``: the model alone, counting a topic when its probability reaches ``t``;
- ``keywords or model >= t``: a topic counts when the packs raise it or the model reaches ``t``;
- ``pruned: ...``: the same with the weights pruned and rounded as ``watcher train-model`` writes them
  (``prune_change`` is the largest difference this makes to any precision or recall);
- ``matcher, model >= t``: the Matcher with the pruned model switched on, as the service runs it (a model hit is
  dropped when an exclusion of that topic matches in the item, and a hit of the terms in the title and summary alone
  when the model gives the topic less than its ``irrelevant_below``), every topic at ``t``;
- ``matcher, topics.toml``: the same at each topic's own ``relevance`` and ``irrelevant_below`` of ``--topics``;
- ``matcher, topics.toml, no drops``: the same without ``irrelevant_below`` (the model only raises topics).

The thresholds are fixed (``--thresholds``) and every one is reported: none is picked on the held-out cases.
Features are the folded words of a text, its word pairs, and the first five letters of each word of six or more
letters (a crude stem that joins inflected forms). Training is plain stochastic gradient descent with L2
regularisation, seeded, so two runs give the same figures.

Run (from the repository root):
    python bench/second_signal.py [--held-out blind17 blind18] [--leave-out blind23 blind24]
                                  [--thresholds 0.5 0.7 0.9] [--epochs 12] [--rate 0.2]
                                  [--rate-for smuggling=0.3 | none] [--l2 1e-4] [--min-weight 0.1]
(``--leave-out``: sets neither trained on nor scored, e.g. newer sets that must not teach the model.)
The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from watcher.matcher import Matcher, load_topics  # noqa: E402
from watcher.matcher.model import L2, MIN_WEIGHT, RATE, RATES, Relevance, RelevanceModel, features, train  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from match_quality import Score, case_item  # noqa: E402
from match_quality import load_cases as load_case_file  # noqa: E402

DATA = ROOT / "tests" / "data"
TOPICS = ("smuggling", "borders", "migration", "policing")


def load_cases(name: str) -> list[dict]:
    return load_case_file(DATA / f"topic-cases.{name}.toml")


def scores(hits: list[set[str]], cases: list[dict]) -> dict[str, dict[str, float]]:
    """Precision and recall per topic of ``hits`` (a set of topics per case) against the labels."""
    out = {}
    for topic in TOPICS:
        score = Score()
        for found, case in zip(hits, cases):
            hit, wanted = topic in found, topic in case.get("topics", [])
            score.tp += hit and wanted
            score.fp += hit and not wanted
            score.fn += wanted and not hit
        out[topic] = {
            "precision": round(score.precision, 3),
            "recall": round(score.recall, 3),
            "tp": score.tp,
            "fp": score.fp,
            "fn": score.fn,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--held-out",
        nargs="+",
        metavar="SET",
        help="case sets to score (blind17 for tests/data/topic-cases.blind17.toml); the rest train;"
        " default: the four newest blind sets (each round of tuning is measured on four)",
    )
    parser.add_argument(
        "--leave-out", nargs="+", metavar="SET", default=[], help="case sets neither trained on nor scored"
    )
    parser.add_argument("--thresholds", nargs="+", type=float, default=[0.5, 0.7, 0.9])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--rate", type=float, default=RATE, help=f"the learning rate of topics not in --rate-for (the file's: {RATE})"
    )
    own = " ".join(f"{topic}={rate}" for topic, rate in RATES.items())
    parser.add_argument(
        "--rate-for",
        nargs="+",
        metavar="TOPIC=RATE",
        default=[f"{topic}={rate}" for topic, rate in RATES.items()],
        help=f"topics trained at a rate of their own (the file's: {own or 'none'}); --rate-for none trains every topic"
        " at --rate",
    )
    parser.add_argument("--l2", type=float, default=L2, help=f"the trainer's L2 regularisation (the file's: {L2})")
    parser.add_argument(
        "--min-weight", type=float, default=MIN_WEIGHT, help=f"weights pruned below this (the file's: {MIN_WEIGHT})"
    )
    parser.add_argument("--topics", type=Path, default=ROOT / "config" / "topics.toml")
    parser.add_argument("--smoke", action="store_true", help="two epochs, for CI")
    args = parser.parse_args(argv)
    if not (args.rate > 0 and math.isfinite(args.rate)):
        parser.error(f"--rate {args.rate}: the learning rate must be above 0 (the file's: {RATE})")
    rates = {}
    for given in [] if args.rate_for == ["none"] else args.rate_for:
        topic, _, value = given.partition("=")
        try:
            rate = float(value)
        except ValueError:
            rate = 0.0
        if topic not in TOPICS or not (rate > 0 and math.isfinite(rate)):
            parser.error(
                f"--rate-for {given}: give a topic ({', '.join(TOPICS)}), '=' and a learning rate above 0, e.g."
                " smuggling=0.3, or 'none'"
            )
        rates[topic] = rate
    if not args.l2 >= 0:
        parser.error(f"--l2 {args.l2}: the L2 regularisation must be 0 or more (the file's: {L2})")
    epochs = 2 if args.smoke else args.epochs

    every = sorted(path.name.split(".")[1] for path in DATA.glob("topic-cases.*.toml"))
    if not args.held_out:
        blind = sorted(
            (name for name in every if name.removeprefix("blind").isdigit()),
            key=lambda name: int(name.removeprefix("blind")),
        )
        args.held_out = blind[-4:]
    missing = [name for name in args.held_out + args.leave_out if name not in every]
    if missing:
        parser.error(f"no case file for {', '.join(missing)}; the sets are: {', '.join(every)}")
    unused = set(args.held_out) | set(args.leave_out)
    training = [case for name in every if name not in unused for case in load_cases(name)]
    held = [case for name in args.held_out for case in load_cases(name)]
    if not training or not held:
        print("nothing to train on or nothing to score", file=sys.stderr)
        return 1
    own_rates = "".join(f", {topic} {rate}" for topic, rate in rates.items())
    print(
        f"training on {len(training)} cases from {len(every) - len(unused)} sets;"
        f" scoring {len(held)} held-out cases ({' '.join(args.held_out)}); {epochs} epochs,"
        f" rate {args.rate}{own_rates}, l2 {args.l2}",
        flush=True,
    )

    models = train(
        [(case["text"], case.get("topics", [])) for case in training],
        TOPICS,
        epochs=epochs,
        seed=args.seed,
        rate=args.rate,
        rates=rates,
        l2=args.l2,
    )
    pruned = {topic: weights.pruned(args.min_weight) for topic, weights in models.items()}

    topics = load_topics(args.topics)
    matcher = Matcher(topics)
    items = [case_item(case, number) for number, case in enumerate(held, 1)]
    keyword_hits = [{m.topic for m in matcher.match(item)} for item in items]
    held_rows = [features(case["text"]) for case in held]

    results = {"keywords": scores(keyword_hits, held)}
    for name, chosen in (("", models), ("pruned: ", pruned)):
        probabilities = [{topic: chosen[topic].probability(feats) for topic in TOPICS} for feats in held_rows]
        for threshold in args.thresholds:
            model_hits = [{t for t, p in probs.items() if p >= threshold} for probs in probabilities]
            results[f"{name}model>={threshold}"] = scores(model_hits, held)
            results[f"{name}keywords|model>={threshold}"] = scores(
                [k | m for k, m in zip(keyword_hits, model_hits)], held
            )
    # per threshold, the largest change pruning makes to a precision or recall of keywords or model
    prune_change = {
        str(threshold): max(
            abs(results[f"pruned: keywords|model>={threshold}"][t][m] - results[f"keywords|model>={threshold}"][t][m])
            for t in TOPICS
            for m in ("precision", "recall")
        )
        for threshold in args.thresholds
    }
    relevance = Relevance.of(RelevanceModel(pruned))
    for threshold in args.thresholds:
        product = Matcher([replace(t, relevance=threshold) for t in topics], relevance=relevance)
        results[f"matcher, model>={threshold}"] = scores([{m.topic for m in product.match(i)} for i in items], held)
    product = Matcher(topics, relevance=relevance)
    results["matcher, topics.toml"] = scores([{m.topic for m in product.match(i)} for i in items], held)
    raising = Matcher([replace(t, irrelevant_below=None) for t in topics], relevance=relevance)
    results["matcher, topics.toml, no drops"] = scores([{m.topic for m in raising.match(i)} for i in items], held)

    print(f"{'signal':<32}" + "".join(f"{topic:>18}" for topic in TOPICS))
    for name, per_topic in results.items():
        cells = "".join(f"{per_topic[t]['precision']:>11.3f}/{per_topic[t]['recall']:.3f}" for t in TOPICS)
        print(f"{name:<32}{cells}")
    changes = ", ".join(f"{change:.3f} at {threshold}" for threshold, change in prune_change.items())
    print(f"pruning changes a precision or recall of keywords|model by at most: {changes}")
    print(
        json.dumps(
            {
                "training_cases": len(training),
                "held_out_cases": len(held),
                "held_out": args.held_out,
                "left_out": args.leave_out,
                "epochs": epochs,
                "rate": args.rate,
                "rates": rates,
                "l2": args.l2,
                "min_weight": args.min_weight,
                "thresholds": {t.id: t.relevance for t in topics},
                "prune_change": {key: round(value, 3) for key, value in prune_change.items()},
                "results": results,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
