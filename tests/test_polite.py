"""Politeness and caching in the HTTP client: per-host pacing, robots.txt, conditional GET, Retry-After forms, and
decompression that stops at the cap."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from datetime import UTC, datetime

import pytest

from tests.conftest import NoMatch
from tests.fakes.clock import FakeClock
from tests.fakes.feeds import Route, rss
from watcher import pipeline
from watcher.errors import FetchError, NotModified
from watcher.http.bodies import BodyTooLarge, CappedDecoder
from watcher.http.client import Http
from watcher.http.polite import parse_retry_after
from watcher.sources.rss import RssSource
from watcher.store.health import StoredValidators
from watcher.store.sqlite import Store

FEED = rss([{"title": "A", "link": "https://e.org/a", "guid": "a"}])
FEED2 = rss(
    [{"title": "A", "link": "https://e.org/a", "guid": "a"}, {"title": "B", "link": "https://e.org/b", "guid": "b"}]
)


@pytest.mark.parametrize(
    "value,seconds",
    [
        ("120", 120.0),
        ("0", 0.0),
        ("Tue, 01 Sep 2026 08:02:00 GMT", 120.0),
        ("Tue, 01 Sep 2026 07:00:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_forms(value, seconds):
    """Retry-After is read as seconds or as an HTTP-date (a past date is no wait); anything else is ignored."""
    now = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
    assert parse_retry_after(value, now) == seconds


def test_decoder_never_inflates_past_the_cap():
    """Fed a 10 MB gzip bomb in one piece, the decoder stops one byte past its cap, not after inflating it all."""
    bomb = gzip.compress(b"\0" * 10_000_000)
    decoder = CappedDecoder("gzip", 100_000)
    with pytest.raises(BodyTooLarge):
        decoder.feed(bomb)
    assert decoder.produced == 100_001


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS])
def test_deflate_is_read_wrapped_or_raw(wbits):
    """Content-Encoding deflate is decoded whether the server wraps it in zlib's header (as meant) or not."""
    packer = zlib.compressobj(wbits=wbits)
    data = packer.compress(FEED.encode()) + packer.flush()
    decoder = CappedDecoder("deflate", 1_000_000)
    assert decoder.feed(data[:3]) + decoder.feed(data[3:]) + decoder.finish() == FEED.encode()


async def test_per_host_concurrency_is_limited(feed_server):
    """Six simultaneous requests to one host never have more than two in flight there."""
    feed_server.set("/slow.xml", FEED, delay=0.2)
    http = Http(per_host_concurrency=2, per_host_interval=0)
    try:
        await asyncio.gather(*(http.get(feed_server.url("/slow.xml")) for _ in range(6)))
    finally:
        await http.aclose()
    feed_server.wait_for_hits("/slow.xml", 6)  # the server counts a request once its answer is written
    assert feed_server.max_in_flight == 2 and feed_server.count("/slow.xml") == 6


async def test_per_host_interval_spaces_requests_and_other_hosts_do_not_wait(feed_server):
    """Requests to one host start at least the interval apart; a request to another host does not wait."""
    clock = FakeClock()
    feed_server.set("/f.xml", FEED)
    http = Http(per_host_concurrency=4, per_host_interval=5.0, clock=clock)
    try:
        await asyncio.gather(*(http.get(feed_server.url("/f.xml")) for _ in range(3)))
        assert clock.sleeps == [5.0, 5.0] and clock.elapsed == 10.0  # starts at 0 s, 5 s and 10 s
        other = feed_server.url("/f.xml").replace("127.0.0.1", "localhost")
        clock.sleeps.clear()
        await http.get(other)
        assert clock.sleeps == []
    finally:
        await http.aclose()


async def test_robots_txt_disallow_is_a_classified_failure_and_is_cached(feed_server, tmp_path):
    """With respect_robots on, a disallowed URL fails as "disallowed" without being fetched, an allowed one is
    fetched, and robots.txt is read once for both."""
    feed_server.set("/robots.txt", "User-agent: *\nDisallow: /private/\n", headers={"Content-Type": "text/plain"})
    feed_server.set("/private/feed.xml", FEED)
    feed_server.set("/public/feed.xml", FEED)
    http = Http(respect_robots=True, per_host_interval=0, clock=FakeClock())
    try:
        with pytest.raises(FetchError) as info:
            await http.get(feed_server.url("/private/feed.xml"), source="p")
        assert info.value.failure == "disallowed" and "robots.txt" in info.value.detail
        assert (await http.get(feed_server.url("/public/feed.xml"))).status == 200
    finally:
        await http.aclose()
    assert feed_server.requested("/private/feed.xml") == 0
    assert feed_server.requested("/robots.txt") == 1


async def test_robots_txt_missing_allows_and_robots_off_never_asks(feed_server):
    """A 404 robots.txt allows everything; with respect_robots off, robots.txt is never requested."""
    feed_server.set("/feed.xml", FEED)
    on = Http(respect_robots=True, per_host_interval=0)
    off = Http(per_host_interval=0)
    try:
        assert (await on.get(feed_server.url("/feed.xml"))).status == 200
        assert feed_server.requested("/robots.txt") == 1
        assert (await off.get(feed_server.url("/feed.xml"))).status == 200
        assert feed_server.requested("/robots.txt") == 1
    finally:
        await on.aclose()
        await off.aclose()


async def test_robots_txt_server_error_fails_the_poll_with_that_class(feed_server):
    """When robots.txt answers 503 the poll fails as a server error that names robots.txt (not as disallowed)."""
    feed_server.set("/robots.txt", "down", status=503, headers={"Content-Type": "text/plain"})
    feed_server.set("/feed.xml", FEED)
    http = Http(respect_robots=True, per_host_interval=0, clock=FakeClock())
    try:
        with pytest.raises(FetchError) as info:
            await http.get(feed_server.url("/feed.xml"))
    finally:
        await http.aclose()
    assert info.value.failure == "server_error" and info.value.detail.startswith("robots.txt")
    assert feed_server.requested("/feed.xml") == 0


async def test_304_is_a_success_with_nothing_new(feed_server, tmp_path):
    """With a stored ETag the next poll sends If-None-Match; the 304 skips parsing and counts as a success that
    resets the failure count, records nothing and is logged as "unchanged"."""
    clock = FakeClock()
    store = Store(tmp_path / "w.db", clock=clock)
    http = Http(validators=StoredValidators(store), per_host_interval=0, clock=clock)
    source = RssSource(name="c", url=feed_server.url("/feed.xml"), every=60.0)
    try:
        feed_server.set_route("/feed.xml", Route(FEED.encode(), etag='"v1"'))
        first = await pipeline.poll(source, http, store, NoMatch())
        assert first.ok and len(first.new) == 1
        feed_server.set("/feed.xml", "oops", status=500)
        failed = await pipeline.poll(source, http, store, NoMatch())
        assert failed.failure == "server_error"
        feed_server.set_route("/feed.xml", Route(b"<not parsed/>", etag='"v1"'))
        clock.advance(60)
        second = await pipeline.poll(source, http, store, NoMatch())
        assert second.ok and second.unchanged and second.items == [] and second.new == []
        state = store.source_states()["c"]
        assert state["consecutive_failures"] == 0 and state["last_success_at"] == store.now()
        assert state["last_unchanged_at"] == store.now()
        sent = [r.get("if-none-match") for p, r in feed_server.requests]
        assert sent == [None] + ['"v1"'] * 4  # the first poll had no ETag yet; then 3 tries of the 500, and the 304
        outcomes = [r[0] for r in store.db.execute("SELECT outcome FROM poll_log ORDER BY id")]
        assert outcomes == ["ok", "server_error", "unchanged"]
    finally:
        await http.aclose()
        store.close()


async def test_validators_of_a_failed_poll_are_not_kept(feed_server, tmp_path):
    """If the answer fails to parse, its ETag is not stored, so the next poll fetches the whole feed again instead
    of being told "not modified" about items it never recorded."""
    store = Store(tmp_path / "w.db")
    http = Http(validators=StoredValidators(store), per_host_interval=0, clock=FakeClock())
    source = RssSource(name="c", url=feed_server.url("/feed.xml"), every=60.0)
    try:
        feed_server.set_route("/feed.xml", Route(b"<rss><channel><item><title>half", etag='"bad"'))
        assert (await pipeline.poll(source, http, store, NoMatch())).failure == "unparseable"
        feed_server.set_route("/feed.xml", Route(FEED2.encode(), etag='"bad"'))
        again = await pipeline.poll(source, http, store, NoMatch())
        assert again.ok and len(again.new) == 2
        assert StoredValidators(store).get_validators(source.url) == ('"bad"', None)
    finally:
        await http.aclose()
        store.close()


async def test_304_without_a_conditional_request_is_a_failure(feed_server):
    """A 304 to a request that sent no validators is a client error, never a silent success."""
    feed_server.set("/odd.xml", "", status=304)
    http = Http(per_host_interval=0)
    try:
        with pytest.raises(FetchError) as info:
            await http.get(feed_server.url("/odd.xml"))
        assert info.value.failure == "client_error"
        with pytest.raises(NotModified):
            feed_server.set_route("/etag.xml", Route(FEED.encode(), etag='"e"'))
            await http.get(feed_server.url("/etag.xml"), headers={"If-None-Match": '"e"'}, conditional=True)
    finally:
        await http.aclose()
