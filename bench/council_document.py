"""Cost of reading one Council document: PDF text and header, topic matching, and locating the page of a body match.

Baseline: matching the document's text alone (what every item costs anyway). Prints medians in milliseconds and
ratios to the baseline; the last line is one JSON object.

    .venv/bin/python bench/council_document.py [--runs 15] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fakes import council_pdfs  # noqa: E402
from tests.fakes.council import test_matcher  # noqa: E402
from watcher.sources.council.document import item_from_pdf, read_pdf  # noqa: E402
from watcher.sources.council.pages import with_pages  # noqa: E402
from watcher.sources.council.refs import parse_ref  # noqa: E402

PAGES = 59  # plus the header page: 60, the default page cap
FILLER = (
    "The Committee took note of the state of play on the files before the Council and agreed to return to "
    "the matter at a later meeting, taking into account the comments made by delegations."
)


def document() -> bytes:
    """A 60-page note; the only smuggling phrase is on the last page."""
    pages = []
    for n in range(1, PAGES + 1):
        lines = [FILLER[i : i + 90] for i in range(0, len(FILLER), 90)] * 12
        if n == PAGES:
            lines.append("Delegations discussed a paper on fighting migrant smuggling along the main routes.")
        pages.append("\n".join(lines))
    return council_pdfs.make_pdf(council_pdfs.LIMITE_NOTE_PAGES[:1] + pages)


def median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs of each step (default 15)")
    parser.add_argument("--smoke", action="store_true", help="3 runs, a few seconds")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    runs = 3 if args.smoke else args.runs
    data = document()
    matcher = test_matcher()
    ref = parse_ref("ST 14860 2018 REV 1")
    item = item_from_pdf("bench", ref, "", read_pdf(data))
    found = matcher.match(item)
    located = with_pages(item, found)
    if not item.body or not any(m.snippet.startswith(f"p. {PAGES + 1}: ") for m in located):
        print(
            f"measured nothing: no text read, or the match was not located on page {PAGES + 1}: {located}",
            file=sys.stderr,
        )
        return 1
    match = median_ms(lambda: matcher.match(item), runs)
    read = median_ms(lambda: read_pdf(data), runs)
    locate = median_ms(lambda: with_pages(item, found), runs)
    result = {
        "pages": PAGES + 1,
        "pdf_bytes": len(data),
        "body_chars": len(item.body),
        "match_ms": round(match, 2),
        "read_pdf_ms": round(read, 2),
        "locate_page_ms": round(locate, 3),
        "read_over_match": round(read / match, 1),
        "locate_over_match": round(locate / match, 3),
        "runs": runs,
    }
    print(f"{PAGES + 1}-page PDF, {len(data)} bytes, {len(item.body)} characters of text")
    print(
        f"match text (baseline): {match:.2f} ms; read PDF: {read:.2f} ms ({read / match:.1f}x); "
        f"locate page: {locate:.3f} ms ({locate / match:.3f}x)"
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
