"""Claims on source polls (watcher.store.claims), on SQLite and on a real PostgreSQL server: two stores on one
database claim one source once; the interval counts from the last poll's start; an expired claim is taken over;
replicas that claim at the same moment never both win."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import pytest

from tests.conftest import source_toml
from tests.fakes.clock import FakeClock
from tests.fakes.feeds import rss
from watcher.app import Service
from watcher.config import Config, Settings
from watcher.sources.kinds import sources_from_toml
from watcher.store import claims
from watcher.store.sqlite import Store
from watcher.wiring import make_http

INTERVAL = 60.0


@pytest.fixture
def pair(db_target):
    """Two stores on one database (two replicas), on one controlled clock."""
    clock = FakeClock()
    a, b = Store(db_target, clock=clock), Store(db_target, clock=clock)
    yield a, b, clock
    a.close()
    b.close()


def test_two_stores_claim_one_source_once(pair):
    a, b, _ = pair
    first = claims.claim(a, "press", INTERVAL, "replica-a")
    second = claims.claim(b, "press", INTERVAL, "replica-b")
    assert first.ok
    assert not second.ok
    assert second.holder == "replica-a"
    assert claims.held_by(a, "replica-a") == 1
    other = claims.claim(b, "statewatch", INTERVAL, "replica-b")
    assert other.ok, "a claim holds one source, not the others"


def test_the_interval_counts_from_the_last_polls_start(pair):
    a, b, clock = pair
    assert claims.claim(a, "press", INTERVAL, "replica-a").ok
    clock.advance(2)
    claims.release(a, "press", "replica-a")
    assert claims.held_by(a, "replica-a") == 0
    early = claims.claim(b, "press", INTERVAL, "replica-b")
    assert not early.ok and early.holder is None
    assert early.wait == pytest.approx(INTERVAL - 2)
    assert not claims.claim(a, "press", INTERVAL, "replica-a").ok, "not by its own poller either"
    clock.advance(INTERVAL - 2 - 0.01)
    assert not claims.claim(b, "press", INTERVAL, "replica-b").ok
    clock.advance(0.01)
    assert claims.claim(b, "press", INTERVAL, "replica-b").ok


def test_an_expired_claim_is_taken_over(pair):
    a, b, clock = pair
    assert claims.claim(a, "press", 5.0, "replica-a", lease=30.0).ok  # and replica-a dies: never released
    clock.advance(20)
    held = claims.claim(b, "press", 5.0, "replica-b", lease=30.0)
    assert not held.ok and held.holder == "replica-a"
    assert held.wait == pytest.approx(10.0)
    clock.advance(10)
    assert claims.claim(b, "press", 5.0, "replica-b", lease=30.0).ok
    assert not claims.renew(a, "press", "replica-a"), "the old owner learns it lost the source"
    claims.release(a, "press", "replica-a")  # and its late release leaves the new claim alone
    assert claims.held_by(b, "replica-b") == 1


def test_a_renewed_claim_is_not_taken_over(pair):
    a, b, clock = pair
    assert claims.claim(a, "press", 5.0, "replica-a", lease=30.0).ok
    for _ in range(4):
        clock.advance(20)
        assert claims.renew(a, "press", "replica-a", lease=30.0)
        assert not claims.claim(b, "press", 5.0, "replica-b", lease=30.0).ok


def test_replicas_claiming_at_once_never_both_win(db_target):
    """Threads with their own stores claim the same source at the same moment, round after round: one wins each
    round (the statement is atomic; on PostgreSQL the row lock makes the second one check the new row)."""
    clock = FakeClock()
    stores = [Store(db_target, clock=clock) for _ in range(3)]
    rounds = 15
    wins: list[list[str]] = [[] for _ in range(rounds)]
    barrier = threading.Barrier(len(stores))

    def replica(n: int) -> None:
        for r in range(rounds):
            barrier.wait()
            if claims.claim(stores[n], "press", INTERVAL, f"replica-{n}").ok:
                wins[r].append(f"replica-{n}")
            if barrier.wait() == 0:
                clock.advance(INTERVAL)  # one thread moves time on for the next round
            barrier.wait()

    threads = [threading.Thread(target=replica, args=(n,)) for n in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for s in stores:
        s.close()
    assert [len(w) for w in wins] == [1] * rounds, wins


async def test_two_services_poll_a_due_source_once(pg_url, feed_server):
    """Two replicas' services on one PostgreSQL database, both told to poll the same source at once: the feed server
    sees one request; once the interval has passed, the other one's turn is a poll again. (On SQLite one service runs
    per data directory, so its polls are not claimed: tests/test_responsive.py shows a poll running while another
    process holds the database's write lock.)"""
    db_target = pg_url
    text = source_toml("press", feed_server.url("/feed.xml"), every="1s")
    sources, _, errors = sources_from_toml(tomllib.loads(text), "sources.toml")
    assert not errors
    feed_server.set("/feed.xml", rss([{"title": "Council press release", "link": "https://e.org/1", "guid": "1"}]))
    services = []
    for _ in range(2):
        service = Service(Config(Path("."), tuple(sources), ()), Settings(data_dir=Path(".")))
        service.store = Store(db_target)
        service.http = make_http(service.config)
        services.append(service)
    try:
        results = await asyncio.gather(*(s.poll_source(sources[0]) for s in services))
        assert sorted(r is None for r in results) == [False, True]
        assert feed_server.count("/feed.xml") == 1
        await asyncio.sleep(1.1)
        assert await services[results.index(None)].poll_source(sources[0]) is not None
        assert feed_server.count("/feed.xml") == 2
    finally:
        for service in services:
            assert service.http is not None and service.store is not None
            await service.http.aclose()
            service.store.close()


def test_a_claim_of_a_process_of_this_host_that_died_is_ended_at_once(pair):
    """A service killed (kill -9) while it polled a source leaves its claim; restarted, it polls that source when it
    is due, not after the dead claim expires. A live process's claim, and another host's, still wait."""
    a, b, clock = pair
    dead = f"{socket.gethostname()}:{_ended_pid()}:0bad"
    alive = f"{socket.gethostname()}:1:0bad"  # PID 1 runs as long as this host (or container) does
    elsewhere = "another-host:4242:0bad"
    for source, holder in (("press", dead), ("statewatch", alive), ("frontex", elsewhere)):
        assert claims.claim(a, source, 5.0, holder, lease=30.0).ok
    clock.advance(10)  # past the interval, well inside the claims' 30 s
    mine = claims.new_owner()
    assert claims.claim(b, "press", 5.0, mine).ok, "the dead process's claim is ended at once"
    assert claims.claim(b, "statewatch", 5.0, mine).holder == alive
    assert claims.claim(b, "frontex", 5.0, mine).holder == elsewhere


def _ended_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])  # noqa: S603
    child.wait()
    return child.pid
