"""The cost of one poll with every chat's own terms (/watch) against the same poll with none, in the same run.

One poll here is what the pipeline does with a source's new items once they are parsed: the topic matcher and the
personal-term index over each item (``pipeline.match_all``, in one thread as the service runs it), then
``Store.record_poll`` with the outbox rows of the topics and of the personal terms (one SQLite transaction, a real
file). Fetching and parsing are left out: they do not depend on the terms.

The set-up, seeded: the shipped topics (``config/topics.toml``); ``--chats`` chats (10,000), each with
``--terms`` terms (20), of which about 8 come from a short list that many chats share (places, agencies, words
such as pushbacks), 8 from the words of the evaluation cases (so they hit), and 4 made up for one chat alone (rare
words that hit nothing); one term in 20 has an exclusion or a context. Three chats in ten also subscribe to one or
two topics. The items are the labelled case texts of ``tests/data`` (title, and another case as summary),
``--items`` (200) new ones per poll.

The two polls take turns, ``--runs`` (5) of each, each with items never seen before; the figures are medians. Also
reported: the time to build the index of every chat's terms (done in a worker thread when the terms change), and
the match stage alone with and without. The last line is one JSON object; ``ratio`` is the poll with personal terms
over the poll without.

    .venv/bin/python bench/personal_terms.py [--chats 10000] [--terms 20] [--items 200] [--runs 5] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from watcher.matcher import Matcher, load_topics  # noqa: E402
from watcher.matcher.folding import WORD_RE, fold  # noqa: E402
from watcher.matcher.personal import LiveIndex, Watch, check  # noqa: E402
from watcher.models import Item  # noqa: E402
from watcher.pipeline import match_all  # noqa: E402
from watcher.sources.hosted import FULL_COLLECTIONS  # noqa: E402
from watcher.store import watches  # noqa: E402
from watcher.store.sqlite import Store  # noqa: E402

CASES = [ROOT / "tests/data/topic-cases.dev.toml", ROOT / "tests/data/topic-cases.extra.toml"]
SHARED = [
    *("pushbacks", "Greece", "Italy", "Libya", "Malta", "Tunisia", "Morocco", "Turkey", "Lampedusa", "Lesbos"),
    *("Evros", "Ceuta", "Melilla", "Calais", "Frontex", "Europol", "Eurojust", "EUAA", "Eurodac", "ETIAS", "UNHCR"),
    *("IOM", "detention", "deport*", "readmission", "returns", "asylum", "smuggl*", "trafficking", "Schengen"),
    *("visa*", "Mediterranean", "Balkans", "Poland", "Belarus", "Hungary", "Spain", "Germany", "France", "Ukraine"),
    *("Afghanistan", "Syria", "Sudan", "Niger", "Senegal", "Mauritania", "externalisation", "hotspot*"),
    *("relocation", "resettlement"),
]
SYLLABLES = ["ka", "lo", "mi", "ra", "ten", "sor", "vel", "dun", "pra", "zi", "mon", "tal", "ber", "gos", "nak", "rui"]
RARE = 3  # a word of the cases a chat might watch occurs in at most this many of them


def case_texts() -> list[str]:
    texts = []
    for path in CASES:
        with path.open("rb") as handle:
            texts += [str(case["text"]) for case in tomllib.load(handle).get("case", [])]
    if not texts:
        raise SystemExit(f"no case texts found in {', '.join(str(p) for p in CASES)}")
    return texts


def corpus_words(texts: list[str]) -> list[str]:
    """Words of the case texts that a chat could watch: 6 letters or more, in at most RARE of the texts (names,
    places, specific words; not "council" or "regulation", which nobody would watch)."""
    seen = Counter(w for t in texts for w in set(WORD_RE.findall(fold(t))) if len(w) >= 6 and w.isalpha())
    return sorted(w for w, n in seen.items() if n <= RARE)


def chat_terms(rng: random.Random, words: list[str], chat: int, count: int) -> list[Watch]:
    """One chat's terms: shared, from the corpus, and its own rare ones; some with a clause."""
    shared = max(1, count * 2 // 5)
    found: list[Watch] = []
    for n in range(count):
        if n < shared:
            term = rng.choice(SHARED)
        elif n < count - count // 5:
            term = rng.choice(words)
        else:
            term = "".join(rng.choice(SYLLABLES) for _ in range(4)) + str(chat)
        if rng.random() < 0.05:
            watch = (
                Watch(term, near=(rng.choice(SHARED),), within=10)
                if rng.random() < 0.5
                else Watch(term, exclude=(f"{term} case",))
            )
            found.append(watch if not check(watch) else Watch(term))
        else:
            found.append(Watch(term))
    return found


def setup(store: Store, chats: int, terms: int, topic_ids: list[str], words: list[str], seed: int) -> int:
    """The chats, their topics and their terms; returns how many distinct terms there are."""
    rng = random.Random(seed)
    now = store.now()
    keys: set[str] = set()
    with store.tx():
        for chat in range(chats):
            cur = store.db.execute(
                "INSERT INTO subscribers (channel, address, active, created_at, updated_at) VALUES (?,?,1,?,?)",
                ("telegram", str(100_000 + chat), now, now),
            )
            sub_id = cur.lastrowid
            if rng.random() < 0.3:
                store.db.executemany(
                    "INSERT INTO subscriptions VALUES (?,?)",
                    [(sub_id, t) for t in rng.sample(topic_ids, rng.choice((1, 2)))],
                )
            rows = {}
            for watch in chat_terms(rng, words, chat, terms):
                rows[watch.term_key] = (sub_id, watch.term_key, watch.key, watch.to_json(), watch.text, now)
                keys.add(watch.key)
            store.db.executemany(
                "INSERT INTO watches (subscriber_id, term_key, key, spec, text, created_at) VALUES (?,?,?,?,?,?)",
                list(rows.values()),
            )
    return len(keys)


def items_for(texts: list[str], run: int, count: int, rng: random.Random) -> list[Item]:
    return [
        Item(
            source="bench",
            id=f"r{run}-{n}",
            title=rng.choice(texts),
            url=f"https://e.org/{run}/{n}",
            summary=rng.choice(texts),
        )
        for n in range(count)
    ]


def one_poll(
    store: Store, matcher: Matcher, index: LiveIndex | None, items: list[Item]
) -> tuple[float, float, int, int]:
    """(seconds for match + record, seconds for match alone, alerts queued, personal terms hit), with full
    collections deferred as ``pipeline.poll`` defers them."""
    with FULL_COLLECTIONS.deferred():
        started = time.perf_counter()
        found, hits = match_all(items, matcher, index)
        matched = time.perf_counter()
        result = store.record_poll("bench", items, found, personal=hits)
        return time.perf_counter() - started, matched - started, result.alerts, sum(len(h) for h in hits.values())


def timed_update(index: LiveIndex, store: Store) -> float:
    """Seconds to bring the index up to date with the stored watches, as the poller does after a change."""
    with FULL_COLLECTIONS.deferred():
        started = time.perf_counter()
        keys = watches.keys(store)
        index.update(keys, watches.specs(store, index.wanted(keys)))
        return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--terms", type=int, default=20, help="terms per chat")
    parser.add_argument("--items", type=int, default=200, help="new items per poll")
    parser.add_argument("--runs", type=int, default=5, help="polls of each kind")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--smoke", action="store_true", help="500 chats, 50 items, 3 runs: a quick check")
    args = parser.parse_args()
    chats, items, runs = (500, 50, 3) if args.smoke else (args.chats, args.items, args.runs)
    if chats < 1 or args.terms < 1 or items < 1 or runs < 1:
        parser.error("--chats, --terms, --items and --runs must be at least 1")
    topics = load_topics(ROOT / "config/topics.toml")
    matcher = Matcher(topics)
    texts = case_texts()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")
        distinct = setup(store, chats, args.terms, [t.id for t in topics], corpus_words(texts), args.seed)
        store.record_poll("bench", [Item(source="bench", id="seed", title="seed", url="https://e.org/")], {})
        index = LiveIndex()
        build = timed_update(index, store)
        # One chat adds a term, as /watch does: the poller compiles only that one.
        watch = Watch("Pylos")
        watches.add(store, "telegram", "100000", watch.term_key, watch.key, watch.to_json(), watch.text, 10**6)
        added = timed_update(index, store)
        if index.rebuilds != 1 or watch.key not in index.added.keys:
            print("the added term was not compiled on its own", file=sys.stderr)
            return 1
        timings: dict[str, list[float]] = {"without": [], "with": [], "match_without": [], "match_with": []}
        alerts: dict[str, list[int]] = {"without": [], "with": []}
        terms_hit: list[int] = []
        for run in range(runs):
            for kind, personal in (("without", None), ("with", index)):
                batch = items_for(texts, run * 2 + (kind == "with"), items, rng)
                total, matching, queued, hit = one_poll(store, matcher, personal, batch)
                terms_hit.append(hit)
                timings[kind].append(total)
                timings[f"match_{kind}"].append(matching)
                alerts[kind].append(queued)
        store.close()
    medians = {k: statistics.median(v) for k, v in timings.items()}
    if not medians["without"] or not alerts["with"]:
        print("measured nothing", file=sys.stderr)
        return 1
    for kind in ("without", "with"):
        print(
            f"poll {kind} personal terms: {medians[kind] * 1000:.1f} ms median "
            f"(match {medians['match_' + kind] * 1000:.1f} ms), {statistics.median(alerts[kind]):.0f} alerts queued"
        )
    print(
        f"index of {distinct} distinct terms ({chats} chats x {args.terms}) built in {build:.2f} s; "
        f"brought up to date after one added term in {added * 1000:.1f} ms"
    )
    figures = {
        "chats": chats,
        "terms_per_chat": args.terms,
        "distinct_terms": distinct,
        "items": items,
        "runs": runs,
        "poll_ms_without": round(medians["without"] * 1000, 1),
        "poll_ms_with": round(medians["with"] * 1000, 1),
        "match_ms_without": round(medians["match_without"] * 1000, 1),
        "match_ms_with": round(medians["match_with"] * 1000, 1),
        "alerts_without": statistics.median(alerts["without"]),
        "alerts_with": statistics.median(alerts["with"]),
        "personal_hits_per_item": round(max(terms_hit) / items, 1),
        "index_build_s": round(build, 2),
        "index_update_ms": round(added * 1000, 1),
        # Recording costs per alert queued: the added alerts, not the lookup of who watches what, make it grow.
        "record_us_per_alert_without": round(
            (medians["without"] - medians["match_without"]) / max(1, statistics.median(alerts["without"])) * 1e6, 1
        ),
        "record_us_per_alert_with": round(
            (medians["with"] - medians["match_with"]) / max(1, statistics.median(alerts["with"])) * 1e6, 1
        ),
        "match_ratio": round(medians["match_with"] / medians["match_without"], 2),
        "ratio": round(medians["with"] / medians["without"], 2),
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
