"""What ``watcher once`` costs on feeds that have not changed: the wall and CPU time of one run over 20 RSS feeds
(each a copy of the European Parliament Think Tank feed in tests/data, 25 items) served on 127.0.0.1, after a first
run has recorded them all, so that every later run fetches, parses and matches everything and finds nothing new.

Baselines, measured in the same run and taken in turn with the command (as in bench/startup.py):

- ``imports``: a Python process that only imports the modules ``watcher once`` really loads (recorded from a run of
  the command), so ``once_vs_imports`` is what polling the 20 feeds costs on top of loading the code;
- ``urlwatch`` (only with ``--urlwatch PATH``): urlwatch watching the same 20 URLs, with its own cache already
  filled, as the 2026 comparison of start-up costs did. urlwatch is not a dependency of the project; install it in
  a virtualenv of its own (``python3.11 -m venv /tmp/uw && /tmp/uw/bin/pip install urlwatch==2.29``) and give its
  ``bin/urlwatch``.

The feeds answer 200 with the same bytes every time, with no ETag or Last-Modified, so neither tool can skip a
parse with a 304. The run's topics come from its cache after the first run, as on a server.
Run:
    .venv/bin/python bench/once_feeds.py [--runs 5] [--feeds 20] [--urlwatch /tmp/uw/bin/urlwatch] [--smoke]
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._common import IMPORTER, medians, modules_loaded, paired, timed  # noqa: E402
from tests.fakes.feeds import FeedServer  # noqa: E402

FEED = ROOT / "tests" / "data" / "ep-thinktank-rss-2026-09-15.xml"
SITE = "https://www.europarl.europa.eu/thinktank/"


def serve_feeds(server: FeedServer, count: int) -> list[str]:
    """Serve ``count`` copies of the Think Tank feed at /feed-N.xml, each with its own item links (so no two feeds
    share an item), and return their URLs."""
    text = FEED.read_text(encoding="utf-8")
    if text.count(SITE) < 25:
        raise SystemExit(f"{FEED.name} no longer has the item links this bench rewrites")
    urls = []
    for n in range(count):
        path = f"/feed-{n}.xml"
        server.set(path, text.replace(SITE, f"{SITE}copy-{n}/"))
        urls.append(server.url(path))
    return urls


def watcher_config(directory: Path, urls: list[str]) -> Path:
    """A config directory: the shipped topics (with the relevance model) and one rss source per URL, polled without
    pacing."""
    directory.mkdir(parents=True)
    for name in ("topics.toml", "relevance-model.json"):  # the topics and the weights their `relevance` keys use
        shutil.copy(ROOT / "config" / name, directory / name)
    sources = ['[http]\nper_host_interval = "0s"\nper_host_concurrency = 4\n']
    for n, url in enumerate(urls):
        sources.append(f'[[source]]\nname = "feed-{n}"\nkind = "rss"\nurl = "{url}"\nevery = "15m"\n')
    (directory / "sources.toml").write_text("\n".join(sources), encoding="utf-8")
    return directory


def urlwatch_files(directory: Path, urls: list[str]) -> list[str]:
    """urlwatch's job list, configuration, hooks and cache paths under ``directory``; returns its arguments."""
    directory.mkdir(parents=True)
    jobs = "---\n".join(f'name: "feed-{n}"\nurl: "{url}"\n' for n, url in enumerate(urls))
    (directory / "urls.yaml").write_text(jobs, encoding="utf-8")
    return [
        "--urls", str(directory / "urls.yaml"),
        "--config", str(directory / "urlwatch.yaml"),
        "--hooks", str(directory / "hooks.py"),
        "--cache", str(directory / "cache.db"),
    ]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each measurement (median reported)")
    parser.add_argument("--feeds", type=int, default=20, help="feeds served and polled (default 20)")
    parser.add_argument("--urlwatch", type=Path, help="an urlwatch executable to compare with (optional)")
    parser.add_argument("--smoke", action="store_true", help="one run of each, to check the bench works")
    args = parser.parse_args()
    runs = 1 if args.smoke else max(1, args.runs)
    if args.feeds < 1:
        parser.error("--feeds must be at least 1")
    if args.urlwatch is not None and not os.access(args.urlwatch, os.X_OK):
        parser.error(f"--urlwatch {args.urlwatch}: not an executable file")
    py = [sys.executable]
    figures: dict = {"runs": runs, "feeds": args.feeds}
    server = FeedServer()
    server.start()
    try:
        with tempfile.TemporaryDirectory() as work:
            work_dir = Path(work)
            urls = serve_feeds(server, args.feeds)
            env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
            env.update({"WATCHER_DATA_DIR": str(work_dir / "data"), "WATCHER_CACHE_DIR": str(work_dir / "cache")})
            argv = ["--config", str(watcher_config(work_dir / "config", urls)), "once"]
            command = py + ["-m", "watcher", *argv]
            # The first run records every item without alerting (and fills the topics cache); nothing is timed.
            timed(command, env)
            first_hits = sum(server.hits.values())
            listing = work_dir / "once.json"
            loaded = modules_loaded(argv, env, listing)
            imports, figures["once"] = paired(py + ["-c", IMPORTER, str(listing)], command, env, runs, None)
            figures["imports"] = {**imports, "modules": len(loaded)}
            polled = sum(server.hits.values()) - first_hits
            if polled < args.feeds * (runs + 1):  # the listing run and each timed run fetch every feed
                raise SystemExit(f"watcher once fetched {polled} feeds, expected {args.feeds * (runs + 1)}")
            if args.urlwatch is not None:
                uw = [str(args.urlwatch), *urlwatch_files(work_dir / "urlwatch", urls)]
                timed(uw, env)  # fills urlwatch's cache: later runs see the same bytes
                figures["urlwatch"] = medians([timed(uw, env) for _ in range(runs)])
    finally:
        server.stop()
    if not figures["once"]["cpu_ms"] or not figures["imports"]["cpu_ms"]:
        print("nothing was measured", file=sys.stderr)
        return 1
    figures["once_vs_imports_cpu"] = round(figures["once"]["cpu_ms"] / figures["imports"]["cpu_ms"], 2)
    figures["once_vs_imports"] = round(figures["once"]["wall_ms"] / figures["imports"]["wall_ms"], 2)
    rows = ["imports", "once"] + (["urlwatch"] if "urlwatch" in figures else [])
    for name in rows:
        print(f"{name:9} wall {figures[name]['wall_ms']:8.1f} ms   cpu {figures[name]['cpu_ms']:8.1f} ms")
    summary = f"watcher once on {args.feeds} unchanged feeds: cpu {figures['once_vs_imports_cpu']}x its imports"
    if "urlwatch" in figures and figures["urlwatch"]["cpu_ms"]:
        figures["once_vs_urlwatch_cpu"] = round(figures["once"]["cpu_ms"] / figures["urlwatch"]["cpu_ms"], 2)
        summary += f", {figures['once_vs_urlwatch_cpu']}x urlwatch's"
    print(summary)
    print(json.dumps(figures, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
