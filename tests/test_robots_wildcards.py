"""robots.txt rules with wildcards are obeyed: `*` inside a path and `$` at its end (the standard library's parser
read `Disallow: /*?page=` literally and let every `?page=` URL through), and the longest rule wins."""

from __future__ import annotations

import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.feeds import rss
from watcher.errors import FetchError
from watcher.http.client import Http

FEED = rss([{"title": "A", "link": "https://e.org/a", "guid": "a"}])
ROBOTS = "User-agent: *\nDisallow: /*?page=\nDisallow: /*.pdf$\nDisallow: /archive/\nAllow: /archive/feed.xml\n"


async def outcome(http: Http, url: str) -> str:
    try:
        await http.get(url, source="s")
    except FetchError as exc:
        return exc.failure
    return "fetched"


async def test_wildcard_and_end_anchor_rules_are_obeyed(feed_server):
    """`Disallow: /*?page=` stops /news?page=2 but not /news; `/*.pdf$` stops a.pdf but not a.pdf?x=1; the longer
    Allow wins over a shorter Disallow."""
    feed_server.set("/robots.txt", ROBOTS, headers={"Content-Type": "text/plain"})
    for path in ("/news", "/news?page=2", "/doc/a.pdf", "/doc/a.pdf?x=1", "/archive/feed.xml", "/archive/old.xml"):
        feed_server.set(path.split("?")[0], FEED)
    http = Http(respect_robots=True, per_host_interval=0, clock=FakeClock())
    try:
        got = {
            path: await outcome(http, feed_server.url(path))
            for path in (
                "/news",
                "/news?page=2",
                "/doc/a.pdf",
                "/doc/a.pdf?x=1",
                "/archive/feed.xml",
                "/archive/old.xml",
            )
        }
    finally:
        await http.aclose()
    assert got == {
        "/news": "fetched",
        "/news?page=2": "disallowed",
        "/doc/a.pdf": "disallowed",
        "/doc/a.pdf?x=1": "fetched",
        "/archive/feed.xml": "fetched",
        "/archive/old.xml": "disallowed",
    }
    assert feed_server.requested("/robots.txt") == 1


@pytest.mark.parametrize(
    "robots, allowed",
    [
        ("User-agent: watcher\nDisallow: /\n\nUser-agent: *\nAllow: /\n", False),
        ("User-agent: otherbot\nDisallow: /\n", True),
    ],
)
async def test_a_group_for_our_agent_applies_to_us_only(feed_server, robots, allowed):
    """A group naming watcher's agent token binds watcher; a group for another crawler does not."""
    feed_server.set("/robots.txt", robots, headers={"Content-Type": "text/plain"})
    feed_server.set("/feed.xml", FEED)
    http = Http(respect_robots=True, per_host_interval=0, clock=FakeClock())
    try:
        result = await outcome(http, feed_server.url("/feed.xml"))
    finally:
        await http.aclose()
    assert result == ("fetched" if allowed else "disallowed")
