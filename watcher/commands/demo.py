"""``watcher demo``: the whole chain on a sample feed, before any configuration is touched.

A bundled RSS feed is served on 127.0.0.1 (a free port), and ``watcher once`` is run twice against it in a
temporary data directory with the shipped topics and relevance model (as the service reads them, unless
WATCHER_RELEVANCE_MODEL=0): the first poll records what is there without alerting, then one
matching item is added to the feed and the second poll finds it, matches it and prints its alert on the console.
Nothing outside the temporary directory is written and nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TextIO

from watcher.commands.init import starter_file
from watcher.commands.once import run_once
from watcher.config import Config, Settings
from watcher.errors import ConfigError
from watcher.matcher import topics_from_toml
from watcher.settings import MODEL_FILE, relevance_from
from watcher.sources.rss import RssSource
from watcher.store.sqlite import Store

NEW_ITEM = """    <item>
      <title>Council agrees its position on new rules against migrant smuggling</title>
      <link>__BASE__/press/smuggling-position</link>
      <guid isPermaLink="false">demo-3</guid>
      <pubDate>Thu, 26 Nov 2026 09:00:00 GMT</pubDate>
      <description>The Council's negotiating mandate strengthens the penalties for smuggling networks.</description>
    </item>
"""


class DemoFeed:
    """The sample feed on 127.0.0.1, served from a thread; ``add_item`` publishes the matching item."""

    def __init__(self) -> None:
        self.extra = ""
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
                body = feed.body()
                self.send_response(200 if self.path == "/feed.xml" else 404)
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # the demo prints its own lines
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = f"{self.base}/feed.xml"

    def body(self) -> bytes:
        text = starter_file("demo-feed.xml").decode("utf-8").replace("__NEW_ITEMS__", self.extra)
        return text.replace("__BASE__", self.base).encode("utf-8")

    def add_item(self) -> None:
        self.extra = NEW_ITEM

    @contextmanager
    def running(self) -> Iterator[DemoFeed]:
        thread = threading.Thread(target=self.server.serve_forever, name="demo-feed", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
            thread.join(5)


def demo_config(directory: Path, url: str, settings: Settings) -> Config:
    """One RSS source at ``url``, the shipped topics and the shipped relevance model, whose weights file is written
    into ``directory`` and read as the service reads its own (none when ``settings`` turn the model off)."""
    data = tomllib.loads(starter_file("topics.toml").decode("utf-8"))
    topics, errors, _ = topics_from_toml(data, "topics.toml", warnings=False)  # its warnings are not shown
    if errors:
        raise ConfigError(errors)
    if settings.relevance_model:
        (directory / MODEL_FILE).write_bytes(starter_file(MODEL_FILE))
    relevance = relevance_from(settings, directory, topics, now=True)
    source = RssSource(name="demo-feed", url=url, every=60.0)
    return Config(directory=directory, sources=(source,), topics=tuple(topics), relevance=relevance)


def run_demo(out: TextIO | None = None, *, relevance_model: bool = True) -> int:
    """Serve the sample feed, poll it twice in a temporary data directory, and return 0 when an alert was sent; the
    relevance model is on unless ``relevance_model`` is False (WATCHER_RELEVANCE_MODEL=0)."""
    out = out or sys.stdout
    with tempfile.TemporaryDirectory(prefix="watcher-demo-") as tmp, DemoFeed().running() as feed:
        data = Path(tmp)
        settings = Settings(data_dir=data, relevance_model=relevance_model)  # no token: alerts go to the console
        config = demo_config(data, feed.url, settings)
        say = lambda text: (out.write(text + "\n"), out.flush())
        say(f"demo: a sample feed is served at {feed.url}; data in {data} (removed afterwards)")
        say(
            f"demo: {len(config.topics)} topics from the shipped topics.toml: " + ", ".join(t.id for t in config.topics)
        )
        if config.relevance is None:
            say("demo: the relevance model is off (WATCHER_RELEVANCE_MODEL=0): topics are matched by their terms alone")
        else:
            modelled = ", ".join(t.id for t in config.topics if t.relevance is not None)
            say(f"demo: the shipped relevance model ({MODEL_FILE}) can also raise {modelled}")
        say("demo: poll 1: the first poll of a source records what is there and alerts nobody")
        first = asyncio.run(run_once(config, settings, config.sources, dry_run=False, as_json=False))
        feed.add_item()
        say('demo: the feed gains one item: "Council agrees its position on new rules against migrant smuggling"')
        say("demo: poll 2: the new item is matched and its alert goes to the console (no Telegram token is set)")
        second = asyncio.run(run_once(config, settings, config.sources, dry_run=False, as_json=False))
        sent = _alerts_sent(data)
    if first or second or not sent:
        say("demo: FAILED: no alert was delivered; run `watcher -v demo` for the details")
        return 1
    say(f"demo: done: {sent} alert delivered. Next: `watcher init` writes a configuration to edit.")
    return 0


def _alerts_sent(data: Path) -> int:
    """Alerts the demo's outbox marked delivered."""
    store = Store(data / "watcher.db")
    try:
        return int(store.db.execute("SELECT COUNT(*) FROM outbox WHERE delivered_at IS NOT NULL").fetchone()[0])
    finally:
        store.close()
