"""``watcher train-model``: fit the relevance model on labelled case files and write its weights file.

The same case files (and options) always give a byte-identical file: the cases are read in the order of the files'
names, training is seeded, weights are pruned and rounded, and the file records no time or path, only each case
file's name, its number of cases and its sha256.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path

from watcher.errors import ConfigError
from watcher.matcher.model import (
    DIGITS,
    EPOCHS,
    L2,
    MAX_WORDS,
    MIN_WEIGHT,
    RATE,
    RATES,
    SEED,
    PackedWeights,
    RelevanceModel,
    TopicWeights,
    train,
)


def read_cases(paths: Sequence[Path], topic_ids: Sequence[str]) -> tuple[list[tuple[str, list[str]]], list[dict]]:
    """The (text, topics) of every ``[[case]]`` of the files, in the order of their names, and one record per file
    (name, cases, sha256). Raises ConfigError naming each file and case that cannot be used."""
    problems: list[str] = []
    cases: list[tuple[str, list[str]]] = []
    records: list[dict] = []
    known = set(topic_ids)
    for path in sorted(paths, key=lambda p: (p.name, str(p))):
        try:
            raw = path.read_bytes()
            data = tomllib.loads(raw.decode("utf-8"))
        except OSError as exc:
            problems.append(f"{path}: cannot read the case file ({exc.strerror}); check the path")
            continue
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            problems.append(f"{path}: not a TOML case file ({exc}); fix the file")
            continue
        entries = data.get("case")
        if not isinstance(entries, list) or not entries:
            problems.append(f'{path}: no [[case]] tables; each case needs text = "..." and topics = [...]')
            continue
        for number, case in enumerate(entries, 1):
            text = case.get("text") if isinstance(case, dict) else None
            labels = case.get("topics", []) if isinstance(case, dict) else None
            if not isinstance(text, str) or not isinstance(labels, list) or not all(isinstance(t, str) for t in labels):
                problems.append(f"{path}: case #{number} needs text (a string) and topics (a list of topic ids)")
                continue
            unknown = sorted(set(labels) - known)
            if unknown:
                problems.append(
                    f"{path}: case #{number} is labelled {', '.join(map(repr, unknown))}, which topics.toml does not "
                    "have; fix the label or train with the topics.toml it was labelled for (--config)"
                )
                continue
            cases.append((text, labels))
        records.append({"file": path.name, "cases": len(entries), "sha256": hashlib.sha256(raw).hexdigest()})
    if problems:
        raise ConfigError(problems)
    return cases, records


def train_model(
    paths: Sequence[Path],
    topic_ids: Sequence[str],
    *,
    epochs: int = EPOCHS,
    seed: int = SEED,
    say: Callable[[str], None] = print,
) -> RelevanceModel:
    """The pruned model trained on the case files, for the topics of ``topic_ids`` that some case is labelled with."""
    cases, records = read_cases(paths, topic_ids)
    for record in records:
        say(f"read {record['cases']} cases from {record['file']}")
    labelled = {topic for _, labels in cases for topic in labels}
    topics = [t for t in topic_ids if t in labelled]
    for topic in topic_ids:
        if topic not in labelled:
            say(f"skipped topic {topic}: no case is labelled with it")
    if not topics:
        raise ConfigError(["no case is labelled with a topic of topics.toml; nothing to train"])
    own = ", ".join(f"{topic} {rate}" for topic, rate in RATES.items() if topic in topics)
    say(
        f"training {len(topics)} topics on {len(cases)} cases, {epochs} epochs, seed {seed}, learning rate {RATE}"
        + (f" ({own})" if own else "")
    )
    done = train(
        cases,
        topics,
        epochs=epochs,
        seed=seed,
        progress=lambda topic, epoch: say(
            f"  {topic} ({topics.index(topic) + 1} of {len(topics)}): epoch {epoch} of {epochs}"
        ),
    )
    pruned: dict[str, TopicWeights | PackedWeights] = {}
    for topic, weights in done.items():
        pruned[topic] = kept = weights.pruned()
        say(f"  {topic}: kept {len(kept.weights)} of {len(weights.weights)} weights (|w| >= {MIN_WEIGHT})")
    return RelevanceModel(
        topics=pruned,
        max_words=MAX_WORDS,
        training=tuple(records),
        settings={
            "epochs": epochs,
            "seed": seed,
            "rate": RATE,
            "rates": dict(RATES),
            "l2": L2,
            "min_weight": MIN_WEIGHT,
            "digits": DIGITS,
        },
    )


def write_model(model: RelevanceModel, out: Path) -> int:
    """Write the weights file (through a temporary file beside it); return its size in bytes."""
    data = model.to_json().encode("utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".part")
    part.write_bytes(data)
    part.replace(out)
    return len(data)
