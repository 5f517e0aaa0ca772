"""The [http] table as typed options, and download caps: a kind's own default unless [http] max_bytes or the
source's own option sets it."""

from __future__ import annotations

import tomllib

import pytest

from tests.conftest import NoMatch
from tests.fakes.clock import FakeClock
from tests.fakes.feeds import rss
from watcher import pipeline
from watcher.config import Config
from watcher.http.options import HttpOptions, http_options_from_toml
from watcher.sources.kinds import sources_from_toml
from watcher.store.sqlite import Store
from watcher.wiring import make_http

BIG_FEED = rss(
    [{"title": f"Council item {i} " + "x" * 200, "link": f"https://e.org/{i}", "guid": str(i)} for i in range(20)]
)


def load(text: str):
    return sources_from_toml(tomllib.loads(text), "sources.toml")


def entry(name: str, kind: str, url: str, extra: str = "") -> str:
    return f'[[source]]\nname = "{name}"\nkind = "{kind}"\nurl = "{url}"\nevery = "1h"\n{extra}\n'


def test_http_table_becomes_typed_frozen_options():
    """Durations, numbers and flags of [http] are read into HttpOptions, which cannot be changed afterwards."""
    options, problems = http_options_from_toml(
        {"timeout": "30s", "attempts": 5, "respect_robots": True, "per_host_interval": "2s"}, "sources.toml"
    )
    assert problems == []
    assert (options.timeout, options.attempts, options.respect_robots, options.per_host_interval) == (
        30.0,
        5,
        True,
        2.0,
    )
    assert options.max_bytes is None and options.connect_timeout == HttpOptions().connect_timeout
    with pytest.raises(AttributeError):
        options.timeout = 1.0  # type: ignore[misc]
    kwargs = options.client_kwargs()
    assert kwargs["retry"].attempts == 5 and "max_bytes" not in kwargs


@pytest.mark.parametrize(
    "table,fragment",
    [
        ({"max_bytes": "big"}, "'max_bytes' must be a whole number"),
        ({"max_bytes": 0}, "'max_bytes' must be above 0"),
        ({"timeout": "soon"}, "'timeout'"),
        ({"respect_robots": "yes"}, "'respect_robots' must be true or false"),
        ({"retries": 3}, "unknown key 'retries'"),
    ],
)
def test_bad_http_values_are_problems(table, fragment):
    """A wrong [http] key or value is a problem line naming the key, never silently ignored."""
    _, problems = http_options_from_toml(table, "sources.toml")
    assert len(problems) == 1 and fragment in problems[0] and "[http]" in problems[0]


def test_http_max_bytes_replaces_every_kinds_default_cap_but_not_a_sources_own():
    """With [http] max_bytes, every source that sets no cap of its own gets it; one that sets its own keeps it."""
    text = (
        "[http]\nmax_bytes = 4096\n"
        + entry("feed", "rss", "https://e.org/feed")
        + entry("own", "rss", "https://e.org/own", "max_bytes = 9999")
        + entry("page", "html-list", "https://e.org/p", 'row = "li"\ntitle = "a"')
        + entry("register", "council-register", "https://e.org/r")
        + entry("docs", "council-documents", "https://e.org/d/")
    )
    sources, http, problems = load(text)
    assert problems == [] and http.max_bytes == 4096
    caps = {s.name: s.max_bytes for s in sources}
    assert caps == {"feed": 4096, "own": 9999, "page": 4096, "register": 4096, "docs": 4096}
    assert next(s for s in sources if s.name == "register").pdf_max_bytes == 4096


def test_without_http_max_bytes_each_kind_keeps_its_own_default():
    """Without [http] max_bytes, feeds keep 5 MiB and the Council document server 20 MiB."""
    sources, http, problems = load(
        entry("feed", "rss", "https://e.org/feed") + entry("docs", "council-documents", "https://e.org/d/")
    )
    assert problems == [] and http.max_bytes is None
    assert {s.name: s.max_bytes for s in sources} == {"feed": 5 * 1024 * 1024, "docs": 20 * 1024 * 1024}


async def test_http_max_bytes_takes_effect_when_an_rss_source_is_polled(feed_server, tmp_path):
    """An rss feed larger than [http] max_bytes fails as too_large at that cap and records nothing; the same feed
    is read when the source sets a larger cap of its own."""
    feed_server.set("/feed.xml", BIG_FEED)
    assert len(BIG_FEED.encode()) > 4096
    text = (
        '[http]\nmax_bytes = 4096\nper_host_interval = "0s"\n'
        + entry("small", "rss", feed_server.url("/feed.xml"))
        + entry("large", "rss", feed_server.url("/feed.xml"), "max_bytes = 1000000")
    )
    sources, options, problems = load(text)
    assert problems == []
    config = Config(directory=tmp_path, sources=tuple(sources), topics=(), http=options)
    clock = FakeClock()
    http = make_http(config, clock=clock)
    store = Store(tmp_path / "w.db", clock=clock)
    try:
        small = await pipeline.poll(config.source("small"), http, store, NoMatch())
        large = await pipeline.poll(config.source("large"), http, store, NoMatch())
        assert small.failure == "too_large" and "4096" in small.detail, small.detail
        assert small.items == [] and store.known_ids("small", ["0", "1"]) == set()
        assert large.failure is None and len(large.new) == 20
    finally:
        await http.aclose()
        store.close()
