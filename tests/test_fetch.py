"""Fetching when the world misbehaves: every bad answer from a local server becomes the right failure class, no
crash, the other source unaffected, and nothing recorded as seen from a failed poll."""

from __future__ import annotations

import asyncio
import gzip
import time

import pytest

from tests.conftest import NoMatch
from tests.fakes.clock import FakeClock
from tests.fakes.feeds import Route, rss, streamed
from watcher import pipeline
from watcher.http.client import DEFAULT_USER_AGENT, Http
from watcher.http.polite import RetryPolicy
from watcher.sources.rss import RssSource
from watcher.store.sqlite import Store

GOOD = rss([{"title": "Council press release", "link": "https://e.org/1", "guid": "1"}])
HTML = {"Content-Type": "text/html; charset=utf-8"}
CHALLENGE = (
    "<html><head><title>Just a moment...</title></head><body>"
    "<script src='/cdn-cgi/challenge-platform/h/b/orchestrate/jsch/v1'></script></body></html>"
)
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>t</title><item><title>&lol9;</title><link>https://e.org/x</link>
<guid>x</guid></item></channel></rss>"""
CHANGED_MARKUP = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
    "<item><headline>A</headline><url>https://e.org/a</url></item>"
    "<item><headline>B</headline><url>https://e.org/b</url></item></channel></rss>"
)
BOMB = gzip.compress(b"\0" * 10_000_000)
MB50 = 50 * 1024 * 1024


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
async def env(tmp_path, clock):
    store = Store(tmp_path / "w.db", clock=clock)
    http = Http(timeout=0.5, clock=clock, per_host_interval=0, max_bytes=1_000_000)
    yield http, store
    await http.aclose()
    store.close()


def rss_source(server, name: str, path: str, **kw) -> RssSource:
    return RssSource(name=name, url=server.url(path), every=60.0, **kw)


def misbehave(server, path: str, case: str) -> None:
    if case == "slow":
        server.set(path, GOOD, delay=1.5)
    elif case == "always-500":
        server.set(path, "oops", status=500)
    elif case == "429-long-retry-after":
        server.set(path, "slow down", status=429, headers={"Retry-After": "3600", "Content-Type": "text/plain"})
    elif case == "challenge":
        server.set(path, CHALLENGE, status=403, headers=HTML)
    elif case == "challenge-200":
        server.set(path, CHALLENGE, status=200, headers=HTML)
    elif case == "50MB-streamed":
        server.set_route(path, Route(stream=streamed(MB50), headers={"Content-Type": "application/rss+xml"}))
    elif case == "50MB-declared":
        server.set_route(path, Route(stream=streamed(MB50), headers={"Content-Length": str(MB50)}))
    elif case == "gzip-bomb":
        server.set(path, BOMB, headers={"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"})
    elif case == "billion-laughs":
        server.set(path, LAUGHS)
    elif case == "redirect-loop":
        server.set("/loop-a", "", status=302, headers={"Location": "/loop-b"})
        server.set("/loop-b", "", status=302, headers={"Location": "/loop-a"})
        server.set(path, "", status=301, headers={"Location": "/loop-a"})
    elif case == "markup-changed":
        server.set(path, CHANGED_MARKUP)
    elif case == "not-a-feed":
        server.set(path, "<rss><channel><item><title>half", headers={"Content-Type": "text/xml"})
    elif case == "404":
        server.set(path, "gone", status=404, headers={"Content-Type": "text/plain"})
    else:  # pragma: no cover - a typo in the table below
        raise AssertionError(case)


CASES = [
    ("slow", "timeout", 3),
    ("always-500", "server_error", 3),
    ("429-long-retry-after", "rate_limited", 1),
    ("challenge", "blocked", 1),
    ("challenge-200", "blocked", 1),
    ("50MB-streamed", "too_large", 1),
    ("50MB-declared", "too_large", 1),
    ("gzip-bomb", "too_large", 1),
    ("billion-laughs", "unparseable", 1),
    ("redirect-loop", "redirect_loop", None),
    ("markup-changed", "unparseable", 1),
    ("not-a-feed", "unparseable", 1),
    ("404", "client_error", 1),
]


@pytest.mark.parametrize("case,failure,requests", CASES, ids=[c[0] for c in CASES])
async def test_misbehaving_server_gives_the_right_class_and_spares_the_others(
    feed_server, env, case, failure, requests
):
    """Each misbehaviour is one failure class, retried only when transient; a healthy source polled at the same
    time records its item, and the failed one records nothing."""
    http, store = env
    feed_server.set("/good.xml", GOOD)
    misbehave(feed_server, "/bad.xml", case)
    bad, good = await asyncio.gather(
        pipeline.poll(rss_source(feed_server, "bad", "/bad.xml"), http, store, NoMatch()),
        pipeline.poll(rss_source(feed_server, "good", "/good.xml"), http, store, NoMatch()),
    )
    assert (bad.failure, good.failure) == (failure, None), bad.detail
    assert [i.id for i in good.new] == ["1"]
    assert bad.items == [] and store.known_ids("bad", ["1", "x", "https://e.org/a"]) == set()
    assert not store.has_succeeded("bad")
    assert store.source_states()["bad"]["last_failure"] == failure
    if requests is not None:
        deadline = time.monotonic() + 5  # a loaded server may read the last request after the client gave up on it
        while feed_server.requested("/bad.xml") < requests and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert feed_server.requested("/bad.xml") == requests


async def test_fifty_megabytes_are_not_downloaded(feed_server, env):
    """A 50 MB streamed body is cut off at the cap: the server never gets to send it all."""
    http, store = env
    misbehave(feed_server, "/big.xml", "50MB-streamed")
    result = await pipeline.poll(rss_source(feed_server, "big", "/big.xml"), http, store, NoMatch())
    assert result.failure == "too_large" and "on the wire" in result.detail
    deadline = time.monotonic() + 10
    while feed_server.in_flight and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert feed_server.bytes_sent["/big.xml"] < MB50


async def test_gzip_bomb_is_stopped_while_inflating(feed_server, env):
    """10 MB of zeros sent as ~10 kB of gzip fail as too large after decompression, not as a crash."""
    http, store = env
    assert len(BOMB) < 20_000
    misbehave(feed_server, "/bomb.xml", "gzip-bomb")
    result = await pipeline.poll(rss_source(feed_server, "bomb", "/bomb.xml"), http, store, NoMatch())
    assert result.failure == "too_large" and "after decompression" in result.detail


async def test_gzip_body_under_the_cap_is_read(feed_server, env):
    """A normal gzip-compressed feed is decompressed and parsed."""
    http, store = env
    feed_server.set(
        "/gz.xml",
        gzip.compress(GOOD.encode()),
        headers={"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"},
    )
    result = await pipeline.poll(rss_source(feed_server, "gz", "/gz.xml"), http, store, NoMatch())
    assert result.ok and [i.id for i in result.new] == ["1"]


async def test_500_then_200_is_a_success_after_a_backoff(feed_server, env, clock):
    """A 500 is retried after a backoff (in simulated time) and the 200 that follows is a normal success."""
    http, store = env
    feed_server.set_sequence("/flaky.xml", [Route(b"oops", 500), Route(GOOD.encode())])
    result = await pipeline.poll(rss_source(feed_server, "flaky", "/flaky.xml"), http, store, NoMatch())
    assert result.ok and [i.id for i in result.new] == ["1"]
    assert feed_server.count("/flaky.xml") == 2
    assert len(clock.sleeps) == 1 and 1.0 <= clock.sleeps[0] <= 1.5


async def test_backoff_grows_between_tries(feed_server, env, clock):
    """Three tries of a failing server wait about 1 s, then about 2 s (with jitter) before giving up."""
    http, store = env
    feed_server.set("/down.xml", "oops", status=503)
    result = await pipeline.poll(rss_source(feed_server, "down", "/down.xml"), http, store, NoMatch())
    assert result.failure == "server_error"
    first, second = clock.sleeps
    assert 1.0 <= first <= 1.5 and 2.0 <= second <= 3.0


@pytest.mark.parametrize("header", ["7", "HTTP-date"])
async def test_429_with_retry_after_is_honoured(feed_server, env, clock, header):
    """A 429 with Retry-After in seconds or as an HTTP-date is waited out (in simulated time), then retried."""
    http, store = env
    value = header if header != "HTTP-date" else "Tue, 01 Sep 2026 08:00:07 GMT"  # FakeClock starts 08:00:00
    feed_server.set_sequence("/rl.xml", [Route(b"slow down", 429, {"Retry-After": value}), Route(GOOD.encode())])
    result = await pipeline.poll(rss_source(feed_server, "rl", "/rl.xml"), http, store, NoMatch())
    assert result.ok
    assert clock.sleeps == [7.0]


async def test_retry_after_too_long_is_not_waited_but_reported(feed_server, env, clock):
    """A Retry-After longer than the client will wait ends the poll at once as rate limited, carrying the wait
    for the scheduler."""
    http, store = env
    misbehave(feed_server, "/rl.xml", "429-long-retry-after")
    result = await pipeline.poll(rss_source(feed_server, "rl", "/rl.xml"), http, store, NoMatch())
    assert result.failure == "rate_limited" and result.retry_after == 3600.0
    assert clock.sleeps == []


async def test_total_retry_time_is_bounded(feed_server, tmp_path, clock):
    """Waits that would pass the retry budget are not taken: the poll fails instead."""
    store = Store(tmp_path / "w.db", clock=clock)
    http = Http(clock=clock, per_host_interval=0, retry=RetryPolicy(attempts=10, budget=5.0))
    try:
        feed_server.set("/down.xml", "oops", status=500)
        result = await pipeline.poll(rss_source(feed_server, "down", "/down.xml"), http, store, NoMatch())
    finally:
        await http.aclose()
        store.close()
    assert result.failure == "server_error"
    assert sum(clock.sleeps) <= 5.0 and feed_server.count("/down.xml") < 10


async def test_user_agent_is_descriptive_and_configurable(feed_server, clock):
    """Requests carry the watcher User-Agent with a contact URL, or the configured one."""
    feed_server.set("/ua.xml", GOOD)
    for agent in (None, "watcher-test/1 (+https://example.org/contact)"):
        http = Http(clock=clock, per_host_interval=0, **({"user_agent": agent} if agent else {}))
        await http.get(feed_server.url("/ua.xml"))
        await http.aclose()
    sent = [h["user-agent"] for p, h in feed_server.requests if p == "/ua.xml"]
    assert sent == [DEFAULT_USER_AGENT, "watcher-test/1 (+https://example.org/contact)"]
    assert "https://" in DEFAULT_USER_AGENT


async def test_redirects_within_the_bound_are_followed(feed_server, env):
    """Two redirects lead to the feed; the item is recorded and the final URL is reported."""
    http, store = env
    feed_server.set("/old.xml", "", status=301, headers={"Location": "/older.xml"})
    feed_server.set("/older.xml", "", status=302, headers={"Location": feed_server.url("/feed.xml")})
    feed_server.set("/feed.xml", GOOD)
    resp = await http.get(feed_server.url("/old.xml"))
    assert resp.url == feed_server.url("/feed.xml") and resp.status == 200


async def test_too_many_redirects_is_a_redirect_failure(feed_server, tmp_path, clock):
    """A chain longer than max_redirects (no URL repeated) is a redirect_loop failure naming the bound."""
    for i in range(4):
        feed_server.set(f"/r{i}", "", status=302, headers={"Location": f"/r{i + 1}"})
    http = Http(clock=clock, per_host_interval=0, max_redirects=2)
    store = Store(tmp_path / "w.db", clock=clock)
    try:
        result = await pipeline.poll(rss_source(feed_server, "r", "/r0"), http, store, NoMatch())
    finally:
        await http.aclose()
        store.close()
    assert result.failure == "redirect_loop" and "more than 2 redirects" in result.detail


async def test_redirect_loop_is_caught_at_the_first_repeat(feed_server, env):
    """A -> B -> A is named a loop as soon as a URL comes round again, each URL requested once."""
    http, store = env
    misbehave(feed_server, "/start.xml", "redirect-loop")
    result = await pipeline.poll(rss_source(feed_server, "loop", "/start.xml"), http, store, NoMatch())
    assert result.failure == "redirect_loop" and result.detail.startswith("redirect loop: ")
    assert result.detail.endswith("/loop-b -> " + feed_server.url("/loop-a"))
    assert feed_server.requested("/loop-a") == 1 and feed_server.requested("/loop-b") == 1
