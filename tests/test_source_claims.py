"""Claims on source polls (watcher.store.claims), on SQLite and on a real PostgreSQL server: two stores on one
database claim one source once; the interval counts from the last poll's start; an expired claim is taken over;
replicas that claim at the same moment never both win."""

from __future__ import annotations

import threading

import pytest

from tests.fakes.clock import FakeClock
from watcher.store import claims
from watcher.store.sqlite import Store

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
