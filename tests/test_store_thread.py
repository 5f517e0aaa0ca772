"""The service's store runs every call on one database thread, in order, and a source's own code runs off the loop
while its requests and store questions go back to it."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest

from tests.conftest import NoMatch
from tests.fakes.clock import FakeClock
from tests.fakes.feeds import rss
from watcher import pipeline
from watcher.http.client import Http
from watcher.models import Item
from watcher.sources.rss import RssSource
from watcher.store.aio import AsyncStore, as_async
from watcher.store.db import PostgresError
from watcher.store.sqlite import Store


@pytest.fixture
async def db(db_target):
    """The store behind its database thread, on SQLite and on PostgreSQL."""
    facade = AsyncStore(Store(db_target))
    yield facade
    await facade.close()


def thread_of(store: Store) -> int:
    return threading.get_ident()


async def test_calls_run_on_one_thread_other_than_the_loop_in_the_order_made(db):
    """Every call, method or module-level function, runs on the same thread, not the loop's, one after another."""
    idents = await asyncio.gather(*(db.run(thread_of) for _ in range(20)))
    assert len(set(idents)) == 1 and idents[0] != threading.get_ident()
    ids = await asyncio.gather(*(db.subscribe("telegram", str(n), ["t"]) for n in range(20)))
    assert ids == sorted(ids)
    assert as_async(db.sync) is db and as_async(db) is db


async def test_a_caller_that_stops_waiting_does_not_cancel_the_write(db):
    """A call whose caller is cancelled (a shutdown) still runs: the write it asked for is not skipped."""
    hold = threading.Event()
    blocker = asyncio.ensure_future(db.run(lambda store: hold.wait(5)))
    write = asyncio.ensure_future(db.subscribe("telegram", "7", ["t"]))
    await asyncio.sleep(0.05)
    write.cancel()
    hold.set()
    await blocker
    assert await db.subscriber_id("telegram", "7") is not None


async def test_errors_come_back_to_the_caller(db):
    """A database error raised on the thread is raised to the awaiting caller as itself."""
    with pytest.raises(sqlite3.OperationalError if db.sync.backend == "sqlite" else PostgresError):
        await db.run(lambda store: store.db.execute("SELECT * FROM no_such_table"))


def test_a_plain_store_gets_an_inline_facade(tmp_path):
    """A Store that no running facade wraps (watcher once, tests) is used on the caller's thread, as before."""
    store = Store(tmp_path / "w.db")
    facade = as_async(store)
    assert not facade.threaded
    assert asyncio.run(facade.run(thread_of)) == threading.get_ident()
    store.close()


class ThreadSpy(RssSource):
    """An rss source that notes which thread parses and asks the store."""

    seen: dict = {}

    async def poll(self, http, state):
        known = state.known_ids(["a", "b"])
        items = await super().poll(http, state)
        ThreadSpy.seen.update(parse=threading.get_ident(), known=known)
        return items


async def test_a_source_parses_in_a_worker_thread_and_asks_the_store_through_the_loop(tmp_path, feed_server):
    """The source's poll runs outside the loop's thread; its fetch and its store questions still work."""
    store = Store(tmp_path / "w.db")
    store.record_poll("spy", [Item(source="spy", id="a", title="A", url="https://e.org/a")], {})
    http = Http(timeout=5.0, clock=FakeClock(), per_host_interval=0)
    feed_server.set("/feed.xml", rss([{"title": "B", "link": "https://e.org/b", "guid": "b"}]))
    source = ThreadSpy(name="spy", url=feed_server.url("/feed.xml"), every=60.0)
    try:
        result = await pipeline.poll(source, http, store, NoMatch())
    finally:
        await http.aclose()
    assert result.ok and [i.id for i in result.new] == ["b"]
    assert ThreadSpy.seen["parse"] != threading.get_ident() and ThreadSpy.seen["known"] == {"a"}
    store.close()
