"""Matcher throughput on generated multilingual documents, against a regex baseline.

Usage (from the repository root):

    python bench/match_speed.py [--quick | --smoke] [--mb 12] [--runs 5] [--topics config/topics.toml]

The corpus is generated deterministically (seeded) from the labelled case texts
and filler words in eight languages (function words, common EU words and the
words of the plain negative cases): documents of 200 bytes to 24 kB; about a
third of them carry case texts (positives and near misses) among the filler,
and 15% have a case text as title. ``--dense`` draws the filler from the near
misses too: a stress test where nearly every document has hits.

The matcher is timed over the whole corpus. The baseline (one compiled regular
expression per term and exclusion, applied in a loop over the folded text) is
much slower, so it is timed over a smaller sample, and the ratio compares both
on that sample. Runs take turns (median of several each), and the script checks
that both find the same topics on the sample. 1 MB = 10^6 bytes of UTF-8. The
last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._common import ENGLISH_WORDS, POLICY_WORDS  # noqa: E402
from watcher.matcher import Matcher, Topic, load_topics  # noqa: E402
from watcher.matcher.folding import WORD_RE, fold, fold_keep_case  # noqa: E402
from watcher.matcher.rules import Pattern, compile_term  # noqa: E402
from watcher.models import Item  # noqa: E402

CASE_FILES = [ROOT / "tests/data/topic-cases.dev.toml", ROOT / "tests/data/topic-cases.extra.toml"]
FILLER = [
    *ENGLISH_WORDS,
    "le",
    "la",
    "les",
    "des",
    "du",
    "et",
    "en",
    "un",
    "une",
    "pour",
    "dans",
    "sur",
    "par",
    "au",
    "aux",
    "est",
    "qui",
    "que",
    "avec",
    "der",
    "die",
    "das",
    "und",
    "zu",
    "den",
    "von",
    "mit",
    "sich",
    "des",
    "auf",
    "ist",
    "im",
    "dem",
    "nicht",
    "ein",
    "eine",
    "als",
    "auch",
    "el",
    "los",
    "las",
    "del",
    "y",
    "en",
    "un",
    "una",
    "por",
    "con",
    "para",
    "que",
    "se",
    "su",
    "al",
    "lo",
    "como",
    "más",
    "il",
    "lo",
    "gli",
    "di",
    "e",
    "che",
    "per",
    "con",
    "non",
    "una",
    "sono",
    "della",
    "dei",
    "alle",
    "nel",
    "het",
    "een",
    "van",
    "en",
    "in",
    "op",
    "te",
    "dat",
    "voor",
    "met",
    "zijn",
    "niet",
    "aan",
    "i",
    "w",
    "z",
    "na",
    "do",
    "się",
    "nie",
    "że",
    "jest",
    "o",
    "od",
    "za",
    "przez",
    "o",
    "os",
    "as",
    "do",
    "da",
    "dos",
    "das",
    "em",
    "um",
    "uma",
    "para",
    "com",
    "não",
    "por",
    "Brussels",
    "Luxembourg",
    *POLICY_WORDS,
    "energy",
    "fisheries",
    "agriculture",
    "climate",
    "digital",
    "markets",
    "competition",
    "health",
    "transport",
]


def load_texts(dense: bool = False) -> tuple[list[str], list[str]]:
    """Case texts (all) and filler words: those of the plain negative cases, or with
    ``dense`` those of every negative case, near misses included."""
    texts, words = [], []
    for path in CASE_FILES:
        if not path.exists():
            continue
        source = path.read_text(encoding="utf-8")
        plain = _plain_negatives(source)
        for case in tomllib.loads(source).get("case", []):
            texts.append(case["text"])
            if case["text"] in plain or (dense and not case["topics"]):
                words.extend(case["text"].split())
    return texts, words


def _plain_negatives(source: str) -> set[str]:
    """Texts of cases marked '# plain negative' (near misses would make filler hit-dense)."""
    found, marked = set(), False
    for line in source.splitlines():
        if line.startswith("# plain negative"):
            marked = True
        elif marked and line.startswith("text = "):
            found.add(tomllib.loads(line)["text"])
            marked = False
    return found


def make_corpus(total_bytes: int, seed: int = 20260915, dense: bool = False) -> list[Item]:
    """Deterministic documents adding up to about ``total_bytes`` of UTF-8."""
    rng = random.Random(seed)
    texts, negative_words = load_texts(dense)
    vocabulary = FILLER + negative_words
    items: list[Item] = []
    size = 0
    while size < total_bytes:
        body = _document(rng, texts, vocabulary, rng.randint(200, 24000))
        title = _sentence(rng, vocabulary, rng.randint(6, 16))
        if rng.random() < 0.15:
            title = rng.choice(texts)
        item = Item(source="bench", id=str(len(items)), title=title, url="", body=body)
        items.append(item)
        size += len(title.encode()) + len(body.encode())
    return items


def _document(rng: random.Random, texts: list[str], vocabulary: list[str], length: int) -> str:
    parts: list[str] = []
    used = 0
    with_cases = rng.random() < 0.35
    while used < length:
        if with_cases and rng.random() < 0.08:
            part = rng.choice(texts)
        else:
            part = _sentence(rng, vocabulary, rng.randint(8, 30))
        parts.append(part)
        used += len(part) + 1
    return " ".join(parts)


def _sentence(rng: random.Random, vocabulary: list[str], words: int) -> str:
    return " ".join(rng.choice(vocabulary) for _ in range(words)).capitalize() + "."


def item_bytes(items: list[Item]) -> int:
    return sum(len(i.title.encode()) + len(i.summary.encode()) + len(i.body.encode()) for i in items)


class RegexBaseline:
    """One compiled regular expression per term and exclusion, applied in a loop.

    Each expression starts with its literal first word, so the regex engine can
    use its fast literal search; the word boundary before a hit and the
    capitals rule are checked in Python on the (rare) hits.
    """

    def __init__(self, topics: list[Topic]):
        self.rules = [
            (
                t.id,
                [self._compile_all(compile_term(x)) for x in t.terms],
                [self._compile(compile_term(x).words) for x in t.exclude],
            )
            for t in topics
        ]

    @classmethod
    def _compile_all(cls, pattern: Pattern) -> list[tuple[re.Pattern[str], tuple[int, ...]]]:
        """One expression per part of a ``+`` term (all must hit), else one."""
        return [cls._compile(words) for words in pattern.parts or (pattern.words,)]

    @staticmethod
    def _compile(words) -> tuple[re.Pattern[str], tuple[int, ...]]:
        parts = [re.escape(w.text) + (r"[^\W_]*" if w.prefix else "") for w in words]
        return re.compile(r"[\W_]+".join(parts) + r"(?![^\W_])"), tuple(w.caps for w in words)

    @staticmethod
    def _spans(rule: tuple[re.Pattern[str], tuple[int, ...]], folded: str, cased: str):
        regex, caps = rule
        for hit in regex.finditer(folded):
            start, end = hit.span()
            if start and folded[start - 1].isalnum():
                continue
            if any(caps) and not all(not n or w[:n].isupper() for n, w in zip(caps, WORD_RE.findall(cased[start:end]))):
                continue
            yield start, end

    def topics(self, item: Item) -> set[str]:
        found = set()
        for text in (item.title, item.summary, item.body):
            if not text:
                continue
            folded, cased = fold(text), fold_keep_case(text)
            for topic_id, terms, excludes in self.rules:
                if topic_id in found:
                    continue
                for parts in terms:
                    if all(self._kept(rule, folded, cased, excludes, None) for rule in parts):
                        found.add(topic_id)
                        break
        return found

    def _kept(self, rule, folded: str, cased: str, excludes: list, spans: list | None) -> bool:
        """True when the rule has a hit outside every exclusion span."""
        for start, end in self._spans(rule, folded, cased):
            if spans is None:
                spans = [span for ex in excludes for span in self._spans(ex, folded, cased)]
            if not any(a <= start and end <= b for a, b in spans):
                return True
        return False


def interleaved_runs(jobs: dict, runs: int, slow: dict[str, int]) -> dict[str, list[float]]:
    """Time each job ``runs`` times (``slow`` ones fewer), taking turns so that a
    busy machine slows them alike."""
    times: dict[str, list[float]] = {name: [] for name in jobs}
    for turn in range(runs):
        for name, job in jobs.items():
            if turn < slow.get(name, runs):
                start = time.perf_counter()
                job()
                times[name].append(time.perf_counter() - start)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 MB corpus, 3 runs")
    parser.add_argument("--smoke", action="store_true", help="0.3 MB corpus, 1 run: seconds")
    parser.add_argument(
        "--dense",
        action="store_true",
        help="stress test: filler drawn from the near misses, so nearly every document has hits",
    )
    parser.add_argument("--mb", type=float, default=12.0, help="corpus size in MB (default 12)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline-mb", type=float, default=2.0, help="sample size for the baseline")
    parser.add_argument("--topics", type=Path, default=ROOT / "config/topics.toml")
    args = parser.parse_args(argv)
    if args.quick:
        args.mb, args.runs, args.baseline_mb = 2.0, 3, 0.3
    if args.smoke:
        args.mb, args.runs, args.baseline_mb = 0.3, 1, 0.05
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    topics = load_topics(args.topics)
    compile_times = [Matcher(topics).compile_ms for _ in range(5)]
    matcher = Matcher(topics)
    items = make_corpus(int(args.mb * 1e6), dense=args.dense)
    size = item_bytes(items)
    sample = make_corpus(int(args.baseline_mb * 1e6), seed=7, dense=args.dense)
    sample_size = item_bytes(sample)
    print(
        f"corpus: {len(items)} documents, {size / 1e6:.2f} MB; baseline sample: "
        f"{len(sample)} documents, {sample_size / 1e6:.2f} MB"
    )

    fired = sum(1 for item in items if matcher.match(item))
    print(f"documents with at least one topic: {fired} of {len(items)}")
    if not fired or not sample:
        print("measured nothing: no document of the corpus matched a topic, or the sample is empty", file=sys.stderr)
        return 1
    baseline = RegexBaseline(topics)
    times = interleaved_runs(
        {
            "matcher": lambda: [matcher.match(i) for i in items],
            "matcher_sample": lambda: [matcher.match(i) for i in sample],
            "baseline": lambda: [baseline.topics(i) for i in sample],
        },
        args.runs,
        slow={"baseline": max(1, min(args.runs, 3))},
    )
    agree = sum(1 for i in sample if {m.topic for m in matcher.match(i)} == baseline.topics(i))

    mb_per_s = size / 1e6 / statistics.median(times["matcher"])
    best_mb_per_s = size / 1e6 / min(times["matcher"])
    sample_mb_per_s = sample_size / 1e6 / statistics.median(times["matcher_sample"])
    base_mb_per_s = sample_size / 1e6 / statistics.median(times["baseline"])
    ratio = sample_mb_per_s / base_mb_per_s
    terms = sum(len(t.terms) + len(t.exclude) for t in topics)
    print(f"rules: {len(topics)} topics, {terms} terms and exclusions")
    print(f"compile: {statistics.median(compile_times):.1f} ms (median of 5)")
    print(f"matcher: {mb_per_s:.1f} MB/s (median of {len(times['matcher'])} runs; best {best_mb_per_s:.1f})")
    print(
        f"on the baseline sample: matcher {sample_mb_per_s:.1f} MB/s, regex baseline "
        f"{base_mb_per_s:.2f} MB/s (medians of {len(times['matcher_sample'])} and {len(times['baseline'])} runs)"
    )
    print(f"ratio: {ratio:.1f}x; topic sets agree on {agree} of {len(sample)} sample documents")
    print(
        json.dumps(
            {
                "mb_per_s": round(mb_per_s, 2),
                "best_mb_per_s": round(best_mb_per_s, 2),
                "sample_mb_per_s": round(sample_mb_per_s, 2),
                "baseline_mb_per_s": round(base_mb_per_s, 3),
                "ratio_vs_baseline": round(ratio, 1),
                "compile_ms": round(statistics.median(compile_times), 2),
                "corpus_mb": round(size / 1e6, 2),
                "documents": len(items),
                "runs": len(times["matcher"]),
                "baseline_sample_mb": round(sample_size / 1e6, 2),
                "baseline_agreement": f"{agree}/{len(sample)}",
                "dense": args.dense,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
