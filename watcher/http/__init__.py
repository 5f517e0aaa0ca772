"""The one HTTP client every source fetches through, and what it owns: timeouts, retries with backoff, Retry-After,
per-host pacing, size caps on the wire and after decompression, conditional GET, robots.txt, and the one bot-challenge
detector.

May import: ``watcher.clock``, ``watcher.errors``, ``watcher.durations``. Nothing else of watcher.
"""
