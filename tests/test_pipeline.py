"""One poll from fetch to outbox, over real HTTP on 127.0.0.1 with a real SQLite file."""

from __future__ import annotations

import asyncio

import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.feeds import rss
from watcher import pipeline
from watcher.http.client import Http
from watcher.matcher import Matcher, topics_from_toml
from watcher.sources.rss import RssSource
from watcher.store.sqlite import Store

TOPICS_TOML = {
    "topic": [
        {"id": "smuggling", "label": "Migrant smuggling", "terms": ["migrant smuggling", "smuggl*"], "exclude": []},
        {"id": "borders", "label": "Borders", "terms": ["frontex", "external borders"], "exclude": []},
    ]
}
OLD = {"title": "Council adopts budget", "link": "https://e.org/1", "guid": "1"}
MATCHING = {"title": "Council strengthens fight against migrant smuggling", "link": "https://e.org/2", "guid": "2"}
OTHER = {"title": "Fisheries quotas agreed", "link": "https://e.org/3", "guid": "3"}


@pytest.fixture
def matcher():
    topics, errors, _ = topics_from_toml(TOPICS_TOML)
    assert not errors
    return Matcher(topics)


@pytest.fixture
async def env(tmp_path):
    http = Http(timeout=1.0, clock=FakeClock(), per_host_interval=0)
    store = Store(tmp_path / "w.db")
    store.subscribe("telegram", "42", ["smuggling", "borders"])
    store.subscribe("telegram", "43", ["borders"])
    yield http, store
    await http.aclose()
    store.close()


def src(server, name="feed", path="/feed.xml"):
    return RssSource(name=name, url=server.url(path), every=2.0)


async def test_first_poll_records_without_alerting_then_alerts_new_matches(feed_server, env, matcher):
    """The first poll only records; a later new matching item queues one alert per interested subscriber."""
    http, store = env
    feed_server.set("/feed.xml", rss([OLD, {**MATCHING, "guid": "0"}]))
    first = await pipeline.poll(src(feed_server), http, store, matcher)
    assert first.ok and first.first_poll and len(first.new) == 2 and first.alerts == 0
    assert store.outbox_depth() == 0
    feed_server.set("/feed.xml", rss([OLD, MATCHING, OTHER]))
    second = await pipeline.poll(src(feed_server), http, store, matcher)
    assert [i.id for i in second.new] == ["2", "3"]
    assert [(i.id, [m.topic for m in ms]) for i, ms in second.flagged] == [("2", ["smuggling"])]
    assert second.alerts == 1
    [alert] = store.due_alerts(["telegram"])
    assert (alert.address, alert.item_id, alert.topics) == ("42", "2", ("smuggling",))
    assert "migrant smuggling" in alert.terms
    third = await pipeline.poll(src(feed_server), http, store, matcher)
    assert third.new == [] and third.alerts == 0 and store.outbox_depth() == 1


@pytest.mark.parametrize(
    "status,failure", [(500, "server_error"), (503, "server_error"), (404, "client_error"), (429, "rate_limited")]
)
async def test_http_errors_are_classified_and_record_nothing(feed_server, env, matcher, status, failure):
    """An error answer is a classified failure; no item is recorded as seen."""
    http, store = env
    feed_server.set("/feed.xml", rss([MATCHING]), status=status)
    result = await pipeline.poll(src(feed_server), http, store, matcher)
    assert result.failure == failure and not result.items
    assert store.known_ids("feed", ["2"]) == set()
    assert store.source_states()["feed"]["consecutive_failures"] == 1


async def test_timeout_and_broken_xml(feed_server, env, matcher):
    """A slow answer is a timeout and broken XML is unparseable; both record nothing."""
    http, store = env
    feed_server.set("/slow.xml", rss([MATCHING]), delay=2.0)
    feed_server.set("/broken.xml", "<rss><channel><item><title>half", headers={"Content-Type": "text/xml"})
    slow = await pipeline.poll(src(feed_server, "slow", "/slow.xml"), http, store, matcher)
    broken = await pipeline.poll(src(feed_server, "broken", "/broken.xml"), http, store, matcher)
    assert slow.failure == "timeout"
    assert broken.failure == "unparseable"
    assert store.known_ids("slow", ["2"]) == set() and store.known_ids("broken", ["2"]) == set()


async def test_one_failing_source_does_not_stop_the_others(feed_server, env, matcher):
    """Polled together, a failing source fails alone while the healthy one records its items."""
    http, store = env
    feed_server.set("/ok.xml", rss([OLD, MATCHING]))
    feed_server.set("/bad.xml", "oops", status=500)
    ok, bad = await asyncio.gather(
        pipeline.poll(src(feed_server, "ok", "/ok.xml"), http, store, matcher),
        pipeline.poll(src(feed_server, "bad", "/bad.xml"), http, store, matcher),
    )
    assert ok.ok and len(ok.new) == 2 and bad.failure == "server_error"


async def test_unreachable_host_is_network_failure(env, matcher):
    """A connection refused is a network failure, not a crash."""
    http, store = env
    source = RssSource(name="gone", url="http://127.0.0.1:9/feed.xml", every=2.0)
    result = await pipeline.poll(source, http, store, matcher)
    assert result.failure == "network"


async def test_dry_run_writes_nothing(feed_server, env, matcher):
    """A dry run reports what would be flagged and leaves the store untouched."""
    http, store = env
    feed_server.set("/feed.xml", rss([OLD, MATCHING]))
    result = await pipeline.poll(src(feed_server), http, store, matcher, dry_run=True)
    assert [i.id for i, _ in result.flagged] == ["2"]
    assert store.known_ids("feed", ["1", "2"]) == set() and not store.has_succeeded("feed")


async def test_size_cap(feed_server, env, matcher):
    """A body over the source's cap is refused as too large."""
    http, store = env
    feed_server.set("/big.xml", b"<rss>" + b" " * 200_000 + b"</rss>")
    source = RssSource(name="big", url=feed_server.url("/big.xml"), every=2.0, max_bytes=100_000)
    result = await pipeline.poll(source, http, store, matcher)
    assert result.failure == "too_large"
