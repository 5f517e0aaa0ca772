"""How much the capped decoder costs on a normal feed, and how much memory it saves on a gzip bomb.

Baselines measured in the same run: plain ``zlib.decompress`` of the same bytes. Run:
    .venv/bin/python bench/fetch_caps.py [--runs 15] [--smoke]
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
import tracemalloc
import zlib

from watcher.http.bodies import BodyTooLarge, CappedDecoder

CHUNK = 64 * 1024


def feed_bytes(items: int = 10_000) -> bytes:
    item = (
        "<item><title>Council conclusions on migrant smuggling {n}</title><link>https://e.org/{n}</link>"
        "<description>Member states agreed on external borders and asylum, text {n}.</description></item>"
    )
    body = "".join(item.format(n=n) for n in range(items))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{body}</channel></rss>'.encode()


def capped(data: bytes, cap: int) -> int:
    decoder = CappedDecoder("gzip", cap)
    size = 0
    for i in range(0, len(data), CHUNK):
        size += len(decoder.feed(data[i : i + CHUNK]))
    return size + len(decoder.finish())


def median_seconds(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_bytes(fn) -> int:
    tracemalloc.start()
    try:
        fn()
    except BodyTooLarge:
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def capped_bomb(bomb: bytes, cap: int) -> bool:
    """True when the capped decoder refuses the bomb."""
    try:
        capped(bomb, cap)
    except BodyTooLarge:
        return True
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs of each decoder (default 15)")
    parser.add_argument("--smoke", action="store_true", help="a 1,000-item feed, a 5 MB bomb, 3 runs")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    runs, items, bomb_mb = (3, 1_000, 5) if args.smoke else (args.runs, 10_000, 50)
    plain = feed_bytes(items)
    packed = gzip.compress(plain)
    bomb = gzip.compress(b"\0" * bomb_mb * 1_000_000)
    cap = 1_000_000
    if capped(packed, 10 * 1024 * 1024) != len(plain) or not capped_bomb(bomb, cap):
        print("measured nothing: the capped decoder lost bytes of the feed or let the bomb through", file=sys.stderr)
        return 1
    base = median_seconds(lambda: zlib.decompress(packed, 16 + zlib.MAX_WBITS), runs)
    ours = median_seconds(lambda: capped(packed, 10 * 1024 * 1024), runs)
    print(f"normal feed: {len(plain) / 1e6:.1f} MB, {len(packed) / 1e3:.0f} kB gzip")
    print(
        f"  zlib.decompress (baseline) median {base * 1e3:.2f} ms; capped decoder median {ours * 1e3:.2f} ms; "
        f"ratio {ours / base:.2f}"
    )
    base_peak = peak_bytes(lambda: zlib.decompress(bomb, 16 + zlib.MAX_WBITS))
    our_peak = peak_bytes(lambda: capped(bomb, cap))
    print(f"gzip bomb: {bomb_mb} MB of zeros in {len(bomb) / 1e3:.0f} kB; cap {cap / 1e6:.0f} MB")
    print(
        f"  peak memory zlib.decompress (baseline) {base_peak / 1e6:.1f} MB; capped decoder {our_peak / 1e6:.2f} MB;"
        f" ratio {our_peak / base_peak:.3f}"
    )
    print(
        json.dumps(
            {
                "feed_mb": round(len(plain) / 1e6, 2),
                "decode_ms_baseline": round(base * 1e3, 3),
                "decode_ms_capped": round(ours * 1e3, 3),
                "decode_ratio": round(ours / base, 3),
                "bomb_peak_mb_baseline": round(base_peak / 1e6, 2),
                "bomb_peak_mb_capped": round(our_peak / 1e6, 3),
                "bomb_peak_ratio": round(our_peak / base_peak, 4),
                "bomb_mb": bomb_mb,
                "runs": runs,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
