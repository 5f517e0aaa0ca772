"""How much the capped decoder costs on a normal feed, and how much memory it saves on a gzip bomb.

Baselines measured in the same run: plain ``zlib.decompress`` of the same bytes. Run:
    .venv/bin/python bench/fetch_caps.py
The last line is one JSON object.
"""

from __future__ import annotations

import gzip
import json
import statistics
import time
import tracemalloc
import zlib

from watcher.http.bodies import BodyTooLarge, CappedDecoder

CHUNK = 64 * 1024
REPEAT = 15


def feed_bytes() -> bytes:
    item = ("<item><title>Council conclusions on migrant smuggling {n}</title><link>https://e.org/{n}</link>"
            "<description>Member states agreed on external borders and asylum, text {n}.</description></item>")
    body = "".join(item.format(n=n) for n in range(10_000))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{body}</channel></rss>'.encode()


def capped(data: bytes, cap: int) -> int:
    decoder = CappedDecoder("gzip", cap)
    size = 0
    for i in range(0, len(data), CHUNK):
        size += len(decoder.feed(data[i:i + CHUNK]))
    return size + len(decoder.finish())


def median_seconds(fn) -> float:
    times = []
    for _ in range(REPEAT):
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


def main() -> None:
    plain = feed_bytes()
    packed = gzip.compress(plain)
    base = median_seconds(lambda: zlib.decompress(packed, 16 + zlib.MAX_WBITS))
    ours = median_seconds(lambda: capped(packed, 10 * 1024 * 1024))
    print(f"normal feed: {len(plain) / 1e6:.1f} MB, {len(packed) / 1e3:.0f} kB gzip")
    print(f"  zlib.decompress (baseline) median {base * 1e3:.2f} ms; capped decoder median {ours * 1e3:.2f} ms; "
          f"ratio {ours / base:.2f}")
    bomb = gzip.compress(b"\0" * 50_000_000)
    cap = 1_000_000
    base_peak = peak_bytes(lambda: zlib.decompress(bomb, 16 + zlib.MAX_WBITS))
    our_peak = peak_bytes(lambda: capped(bomb, cap))
    print(f"gzip bomb: 50 MB of zeros in {len(bomb) / 1e3:.0f} kB; cap {cap / 1e6:.0f} MB")
    print(f"  peak memory zlib.decompress (baseline) {base_peak / 1e6:.1f} MB; capped decoder {our_peak / 1e6:.2f} MB;"
          f" ratio {our_peak / base_peak:.3f}")
    print(json.dumps({"feed_mb": round(len(plain) / 1e6, 2), "decode_ms_baseline": round(base * 1e3, 3),
                      "decode_ms_capped": round(ours * 1e3, 3), "decode_ratio": round(ours / base, 3),
                      "bomb_peak_mb_baseline": round(base_peak / 1e6, 2),
                      "bomb_peak_mb_capped": round(our_peak / 1e6, 3),
                      "bomb_peak_ratio": round(our_peak / base_peak, 4)}))


if __name__ == "__main__":
    main()
