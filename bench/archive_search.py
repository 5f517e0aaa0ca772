"""Archive search latency on a store of generated Council-like items with PDF text.

Usage (from the repository root):

    python bench/archive_search.py [--smoke] [--items 100000] [--body-words 400] [--runs 5]

The store is written through ``Store.record_poll`` in polls of 1,000 items, so the triggers that keep the FTS5
index in step run as they do in service; about one item in ten is matched with a snippet. Each item has a title, a
summary, Council facts (series, type, subject codes, marking) and a body of ``--body-words`` words drawn from a
skewed vocabulary of EU words and made-up ones, so common words are in most items and rare ones in few.

The query set mixes what readers do: a common word, a rare word, two words, a phrase, a prefix, an exclusion, words
with filters (topic, source, dates, event, code, marking), filters alone, a topic's feed (50 entries), a second
page, and a reference. Each query runs ``--runs`` times through ``watcher.store.archive.search`` on the archive's
own read-only connection (one page with its snippets and marked words, and the capped count); p50 and p95 are
over all those timings. The baseline, timed the same way, is one item read by its key. Target: p95 under 50 ms.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._common import ENGLISH_WORDS, POLICY_WORDS  # noqa: E402
from watcher.models import Item, Match  # noqa: E402
from watcher.store.archive import Filters, Reader, search  # noqa: E402
from watcher.store.sqlite import Store  # noqa: E402

TARGET_P95_MS = 50.0
COMMON = [*ENGLISH_WORDS, "Brussels", *POLICY_WORDS]
TOPICAL = [
    "migrant",
    "smuggling",
    "Frontex",
    "borders",
    "Schengen",
    "asylum",
    "return",
    "visa",
    "Europol",
    "police",
    "cooperation",
    "trafficking",
    "detention",
    "readmission",
    "external",
    "coast",
    "guard",
    "Eurojust",
    "EMPACT",
]
CODES = ("MIGR", "ASILE", "FRONT", "VISA", "SCHENGEN", "ENFOPOL", "CRIMORG", "COSI", "JAI", "ENER", "AGRI", "PECHE")
TYPES = ("NOTE", "REPORT", "OUTCOME OF PROCEEDINGS", "COVER NOTE", "I/A ITEM NOTE")
MARKINGS = ("", "", "LIMITE", "RESTREINT UE")
QUERIES = [
    Filters(q="council"),
    Filters(q="zorvelit"),
    Filters(q="migrant smuggling"),
    Filters(q='"external borders"'),
    Filters(q="readmiss*"),
    Filters(q="asylum -return"),
    Filters(q="frontex", topic="borders"),
    Filters(q="police cooperation", source="council-b", since="2024-06-01", until="2024-12-31"),
    Filters(q="visa", codes=("VISA",), marking="LIMITE"),
    Filters(q="europol", event="new", series="ST"),
    Filters(topic="smuggling"),
    Filters(codes=("FRONT",), doc_type="NOTE"),
    Filters(since="2025-01-01"),
    Filters(q="ST 4711 2024"),
    Filters(q="detention trafficking coast"),
]


def words(rng: random.Random, vocabulary: list[str], cumulative: list[float], n: int) -> str:
    return " ".join(rng.choices(vocabulary, cum_weights=cumulative, k=n))


def vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    """EU words, topic words and 20,000 made-up ones, with cumulative weights that put a few everywhere and make
    most rare."""
    made_up = {
        "".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(rng.randint(2, 4)))
        for _ in range(20_000)
    }
    made_up.add("zorvelit")
    vocab = COMMON + TOPICAL + sorted(made_up)
    return vocab, list(itertools.accumulate(1.0 / (rank + 8) for rank in range(len(vocab))))


def build(path: Path, count: int, body_words: int, seed: int = 7) -> float:
    """Write ``count`` items through the store; returns the seconds it took."""
    rng = random.Random(seed)
    vocab, weights = vocabulary(rng)
    store = Store(path)
    started = time.perf_counter()
    base = datetime(2024, 1, 1, tzinfo=UTC)
    for start in range(0, count, 1000):
        batch, found = [], {}
        for n in range(start, min(count, start + 1000)):
            source = ("council-a", "council-b", "feed")[n % 3]
            ref = f"ST {n + 1} 2024 INIT"
            title = words(rng, vocab, weights, 8)
            item = Item(
                source,
                ref,
                title.capitalize(),
                f"https://docs.example/{n}",
                published=base + timedelta(hours=n * 0.4),
                summary=words(rng, vocab, weights, 20),
                body=words(rng, vocab, weights, body_words),
                extra={
                    "family": f"ST {n + 1} 2024",
                    "public": True,
                    "doc_type": rng.choice(TYPES),
                    "subjects": rng.sample(CODES, 2),
                    "marking": rng.choice(MARKINGS),
                },
            )
            batch.append(item)
            if n % 10 == 0:
                topic = ("smuggling", "borders", "migration")[n % 3]
                found[item.key] = [Match(topic, ("migrant smuggling",), f"…[{title.split()[0]}] {title}…")]
        by_source: dict[str, list[Item]] = {}
        for item in batch:
            by_source.setdefault(item.source, []).append(item)
        for source, items in by_source.items():
            store.record_poll(source, items, {k: v for k, v in found.items() if k[0] == source}, alert=False)
    store.close()
    return time.perf_counter() - started


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def measure(path: Path, runs: int) -> dict:
    reader = Reader(path)
    db = reader.db
    try:
        db.execute("SELECT count(*) FROM archive_fts WHERE archive_fts MATCH 'council'").fetchone()  # warm up
        samples: list[float] = []
        hits = 0
        for query in QUERIES:
            page = search(db, query, limit=50 if query.topic and not query.q else 20)
            hits += len(page.hits)
            samples += timed(lambda q=query: search(db, q), runs)
            if page.older is not None:
                samples += timed(lambda q=query, b=page.older: search(db, q, before=b), runs)
        keys = [r[0] for r in db.execute("SELECT item_id FROM items ORDER BY random() LIMIT 50")]
        baseline = timed(
            lambda: [
                db.execute("SELECT title FROM items WHERE source='feed' AND item_id=?", (k,)).fetchone()
                for k in keys[:1]
            ],
            runs * len(QUERIES),
        )
    finally:
        reader.close()
    return {"samples": samples, "hits": hits, "baseline": baseline}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="2,000 items, 2 runs: checks the bench still works")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--body-words", type=int, default=400, help="words of PDF text per item")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", help="keep the generated database here (reused when it exists)")
    args = parser.parse_args()
    items, runs = (2_000, 2) if args.smoke else (args.items, args.runs)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.db) if args.db else Path(tmp) / "archive.db"
        build_s = 0.0 if path.exists() else build(path, items, args.body_words)
        found = measure(path, runs)
        size_mb = sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e6
    samples = found["samples"]
    if not samples or not found["hits"]:
        print("measured nothing", file=sys.stderr)
        return 1
    p50, p95 = statistics.median(samples), percentile(samples, 0.95)
    base = statistics.median(found["baseline"])
    print(
        f"{items} items, {len(samples)} searches: p50 {p50:.1f} ms, p95 {p95:.1f} ms (target < {TARGET_P95_MS:g}),"
        f" max {max(samples):.1f} ms; one keyed read {base:.3f} ms; built in {build_s:.0f} s, {size_mb:.0f} MB"
    )
    print(
        json.dumps(
            {
                "items": items,
                "body_words": args.body_words,
                "searches": len(samples),
                "p50_ms": round(p50, 2),
                "p95_ms": round(p95, 2),
                "max_ms": round(max(samples), 2),
                "target_p95_ms": TARGET_P95_MS,
                "p95_under_target": p95 < TARGET_P95_MS,
                "keyed_read_ms": round(base, 4),
                "p50_over_keyed_read": round(p50 / base, 1) if base else None,
                "build_s": round(build_s, 1),
                "db_mb": round(size_mb, 1),
                "smoke": args.smoke,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
