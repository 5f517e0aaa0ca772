"""max_items: a poll records at most that many new items, the oldest first; the rest come with the next polls, each
alerted once, none lost, and no stored validator or cursor turns the next poll into a 304 that hides them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.feeds import Route, rss
from watcher import pipeline
from watcher.http.client import Http
from watcher.matcher import Matcher, topics_from_toml
from watcher.models import Item
from watcher.sources.rss import RssSource
from watcher.store.health import StoredValidators
from watcher.store.sqlite import Store

TOPICS = {"topic": [{"id": "smuggling", "label": "Migrant smuggling", "terms": ["migrant smuggling"], "exclude": []}]}
START = datetime(2026, 9, 1, tzinfo=UTC)


def entries(first: int, count: int) -> list[dict]:
    """Matching feed entries numbered first.., newest first, one minute apart."""
    out = []
    for n in range(first + count - 1, first - 1, -1):
        when = (START + timedelta(minutes=n)).strftime("%a, %d %b %Y %H:%M:%S GMT")
        out.append(
            {"title": f"Case {n} of migrant smuggling", "link": f"https://e.org/{n}", "guid": str(n), "pubDate": when}
        )
    return out


@pytest.fixture
def matcher():
    topics, errors, _ = topics_from_toml(TOPICS)
    assert not errors
    return Matcher(topics)


@pytest.fixture
async def env(tmp_path):
    store = Store(tmp_path / "w.db")
    store.subscribe("telegram", "42", ["smuggling"])
    http = Http(timeout=5.0, clock=FakeClock(), per_host_interval=0, validators=StoredValidators(store))
    yield http, store
    await http.aclose()
    store.close()


def outbox_items(store: Store) -> list[str]:
    return [r[0] for r in store.db.execute("SELECT item_id FROM outbox ORDER BY id")]


async def test_a_burst_past_max_items_is_recorded_over_three_polls_each_item_alerted_once(feed_server, env, matcher):
    """5,000 new items with max_items 2000: polls take 2000, 2000 and 1000, oldest first; every item is recorded and
    alerted exactly once, though the feed sends an ETag that would make a poll after stored validators a 304."""
    http, store = env
    source = RssSource(name="feed", url=feed_server.url("/feed.xml"), every=60.0, max_items=2000)
    feed_server.set_route("/feed.xml", Route(rss(entries(0, 1)).encode(), etag='"v1"'))
    first = await pipeline.poll(source, http, store, matcher)
    assert first.ok and first.first_poll and first.alerts == 0
    feed_server.set_route("/feed.xml", Route(rss(entries(0, 5001)).encode(), etag='"v2"'))
    taken = []
    for _ in range(3):
        result = await pipeline.poll(source, http, store, matcher)
        assert result.ok and not result.unchanged
        taken.append(sorted(int(i.id) for i in result.new))
    assert [len(t) for t in taken] == [2000, 2000, 1000]
    assert taken[0] == list(range(1, 2001)) and taken[2] == list(range(4001, 5001))
    alerted = outbox_items(store)
    assert len(alerted) == 5000 and len(set(alerted)) == 5000
    assert store.known_ids("feed", [str(n) for n in range(5001)]) == {str(n) for n in range(5001)}
    last = await pipeline.poll(source, http, store, matcher)
    assert last.ok and last.new == [] and len(outbox_items(store)) == 5000


async def test_a_capped_poll_keeps_the_old_validators(feed_server, env, matcher):
    """Only the poll that takes everything left stores the feed's ETag; a capped one stores none."""
    http, store = env
    source = RssSource(name="feed", url=feed_server.url("/feed.xml"), every=60.0, max_items=10)
    feed_server.set("/feed.xml", rss(entries(0, 1)))
    await pipeline.poll(source, http, store, matcher)
    feed_server.set_route("/feed.xml", Route(rss(entries(0, 16)).encode(), etag='"big"'))
    capped = await pipeline.poll(source, http, store, matcher)
    assert capped.left == 5 and StoredValidators(store).get_validators(source.url) == (None, None)
    rest = await pipeline.poll(source, http, store, matcher)
    assert rest.left == 0 and len(rest.new) == 5
    assert StoredValidators(store).get_validators(source.url)[0] == '"big"'
    assert (await pipeline.poll(source, http, store, matcher)).unchanged


async def test_the_first_poll_records_everything_without_alerting(feed_server, env, matcher):
    """A new source whose feed is longer than max_items records all of it at once and alerts nobody, then or
    later."""
    http, store = env
    source = RssSource(name="feed", url=feed_server.url("/feed.xml"), every=60.0, max_items=100)
    feed_server.set("/feed.xml", rss(entries(0, 250)))
    first = await pipeline.poll(source, http, store, matcher)
    assert first.first_poll and len(first.new) == 250 and first.left == 0 and first.alerts == 0
    again = await pipeline.poll(source, http, store, matcher)
    assert again.new == [] and outbox_items(store) == []


def item(n: int, published: datetime | None) -> Item:
    return Item(source="s", id=str(n), title=str(n), url="", published=published)


def test_oldest_first_by_date_else_by_place():
    """With dates the oldest are taken whatever the order; without, the last ones (listings put the newest first);
    both keep the source's order."""
    dated = [item(n, START + timedelta(days=d)) for n, d in ((1, 5), (2, 1), (3, 9), (4, 2))]
    taken, left = pipeline.oldest_first(dated, 2)
    assert [i.id for i in taken] == ["2", "4"] and [i.id for i in left] == ["1", "3"]
    undated = [item(n, None) for n in range(5)]
    taken, left = pipeline.oldest_first(undated, 3)
    assert [i.id for i in taken] == ["2", "3", "4"] and [i.id for i in left] == ["0", "1"]
    assert pipeline.oldest_first(undated, 9) == (undated, [])
