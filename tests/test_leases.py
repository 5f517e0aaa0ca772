"""Outbox leases on a real SQLite file and on a real PostgreSQL database (``db_target``): a claim takes rows for one
store, two stores on one database get disjoint rows, an expired lease is taken over, and the marks apply only for the
holder."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from datetime import timedelta

from tests.fakes.clock import FakeClock
from watcher.clock import iso
from watcher.models import Item, Match
from watcher.store import health as healthdb
from watcher.store import leases, subscribers
from watcher.store.sqlite import Store
from watcher.web.metrics import Metrics
from watcher.web.server import readiness

CHATS = 4


def item(i: int) -> Item:
    return Item(source="s", id=str(i), title=f"title {i}", url=f"https://e.org/{i}")


def queue(path, clock, items: int = 5, chats: int = CHATS) -> Store:
    """A store at ``path`` with ``items × chats`` alerts due."""
    s = Store(path, clock)
    for chat in range(chats):
        s.subscribe("telegram", str(100 + chat), ["t"])
    s.record_poll("s", [item(0)], {})
    s.record_poll(
        "s", [item(i) for i in range(1, items + 1)], {("s", str(i)): [Match("t", ("x",))] for i in range(1, 99)}
    )
    return s


def lease_of(s: Store, alert_id: int) -> tuple[str | None, str | None]:
    row = s.db.execute("SELECT lease_owner, lease_until FROM outbox WHERE id=?", (alert_id,)).fetchone()
    return row[0], row[1]


def test_a_claim_leases_the_rows_to_this_store_until_now_plus_the_lease_time(db_target):
    clock = FakeClock()
    s = queue(db_target, clock)
    claimed = s.due_alerts(["telegram"], limit=3)
    assert [a.id for a in claimed] == [1, 2, 3]
    until = iso(clock.now() + timedelta(seconds=leases.LEASE_SECONDS))
    assert all(lease_of(s, a.id) == (s.lease_owner, until) for a in claimed)
    assert lease_of(s, 4) == (None, None)
    host, pid, random = s.lease_owner.split(":")
    assert pid.isdigit() and len(random) == 8 and host
    assert s.leases_held() == 3
    assert [a.id for a in s.due_alerts(["telegram"], limit=3)] == [1, 2, 3]  # a store claims its own rows again


def test_two_stores_on_one_file_claim_disjoint_rows(db_target):
    clock = FakeClock()
    a = queue(db_target, clock)
    b = Store(db_target, clock)
    assert a.lease_owner != b.lease_owner
    first = [x.id for x in a.due_alerts(["telegram"], limit=8)]
    second = [x.id for x in b.due_alerts(["telegram"], limit=100)]
    assert first == list(range(1, 9)) and second == list(range(9, 21))
    assert [x.id for x in subscribers.due_instant(b, ["telegram"])] == second
    assert [x.id for x in a.due_alerts(["telegram"], limit=100)] == first  # its own again, none of b's
    assert (a.leases_held(), b.leases_held()) == (8, 12)


def test_an_expired_lease_is_taken_over_and_the_old_holder_cannot_mark_the_row(db_target):
    clock = FakeClock()
    a = queue(db_target, clock, items=1, chats=1)
    b = Store(db_target, clock)
    [alert] = a.due_alerts(["telegram"])
    clock.advance(leases.LEASE_SECONDS - 1)
    assert b.due_alerts(["telegram"]) == []  # still held by a
    clock.advance(2)
    assert a.leases_held() == 0  # an expired lease no longer counts as held
    assert [x.id for x in b.due_alerts(["telegram"])] == [alert.id]  # a died or hung: b takes it over
    assert not a.mark_delivered(alert.id)
    assert not a.mark_retry(alert.id, 10, "late")
    assert not a.mark_dropped(alert.id, "late")
    assert not subscribers.hold_for_send(a, alert.id)
    assert tuple(a.db.execute("SELECT delivered_at, dropped_at, attempts FROM outbox").fetchone()) == (None, None, 0)
    assert lease_of(a, alert.id)[0] == b.lease_owner
    assert subscribers.hold_for_send(b, alert.id)
    assert b.mark_delivered(alert.id)
    assert lease_of(b, alert.id) == (None, None)
    assert tuple(b.db.execute("SELECT delivered_at IS NOT NULL, attempts FROM outbox").fetchone()) == (1, 1)


def test_mark_delivered_applies_only_for_the_holder_and_ends_the_lease(db_target):
    clock = FakeClock()
    a = queue(db_target, clock, items=2, chats=1)
    b = Store(db_target, clock)
    first, second = a.due_alerts(["telegram"])
    assert not b.mark_delivered(first.id)
    subscribers.mark_many_delivered(b, [first.id, second.id])
    assert a.outbox_depth() == 2  # b holds neither: nothing changed
    assert a.mark_delivered(first.id) and lease_of(a, first.id) == (None, None)
    assert a.mark_retry(second.id, 0, "timed out") and lease_of(a, second.id) == (None, None)
    assert [x.id for x in b.due_alerts(["telegram"])] == [second.id]  # free again after the retry mark
    assert a.due_alerts(["telegram"]) == []


def test_released_rows_go_to_the_next_claimer_at_once(db_target):
    clock = FakeClock()
    a = queue(db_target, clock, items=3, chats=1)
    b = Store(db_target, clock)
    ids = [x.id for x in a.due_alerts(["telegram"])]
    leases.release(b, "outbox", ids)  # only the holder can release
    assert b.due_alerts(["telegram"]) == []
    leases.release(a, "outbox", ids[1:])
    assert [x.id for x in b.due_alerts(["telegram"])] == ids[1:]
    leases.release_all(a, "outbox")
    assert [x.id for x in b.due_alerts(["telegram"])] == ids


def test_digest_claims_leave_out_what_another_store_holds(db_target):
    clock = FakeClock()
    a = queue(db_target, clock, items=4, chats=1)
    b = Store(db_target, clock)
    sub = a.subscriber_id("telegram", "100")
    assert [x.id for x in a.due_alerts(["telegram"], limit=2)] == [1, 2]
    assert [x.id for x in subscribers.claim_pending_for(b, sub)] == [3, 4]
    assert subscribers.claim_pending_for(a, sub, 10)[0].id == 1  # a's own, and none of b's
    assert [x.id for x in subscribers.claim_pending_for(a, sub, 10)] == [1, 2]


def test_operator_messages_are_claimed_once(db_target):
    clock = FakeClock()
    a = Store(db_target, clock)
    b = Store(db_target, clock)
    for n in range(3):
        a.db.execute(
            "INSERT INTO health_events (source, kind, text, created_at, next_attempt_at) VALUES (?,?,?,?,?)",
            ("s", "failing", f"message {n}", a.now(), a.now()),
        )
    first = [e["id"] for e in healthdb.due_events(a, limit=2)]
    assert first == [1, 2] and [e["id"] for e in healthdb.due_events(b)] == [3]
    healthdb.mark_event(b, 1, ["42"], done=True)  # not b's: ignored
    assert healthdb.pending_events(a) == 3
    healthdb.mark_event(a, 1, ["42"], done=True)
    assert healthdb.pending_events(a) == 2


def test_concurrent_claimers_on_one_file_send_each_alert_once(db_target):
    """Two threads, each with its own Store (its own connection) on one file, claim small batches and mark them
    delivered until nothing is due: every alert is handed to exactly one of them."""
    queue(db_target, FakeClock(), items=50, chats=4).close()
    taken: Counter = Counter()
    errors: list[BaseException] = []
    start = threading.Barrier(2)
    lock = threading.Lock()

    def worker() -> None:
        s = Store(db_target)
        try:
            start.wait()
            while batch := s.due_alerts(["telegram"], limit=3):
                for alert in batch:
                    with lock:
                        taken[alert.id] += 1
                    assert s.mark_delivered(alert.id)
        except (AssertionError, sqlite3.Error) as exc:
            errors.append(exc)
        finally:
            s.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert len(taken) == 200 and set(taken.values()) == {1}


def test_leases_of_an_ended_process_of_this_host_are_freed_at_once(db_target):
    """A `watcher run` killed with -9 leaves its leases; the next process frees those of ended local processes
    without waiting for them to expire, and leaves live ones and other hosts' alone."""
    clock = FakeClock()
    a = queue(db_target, clock, items=3, chats=1)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = socket.gethostname()
    owners = {1: f"{host}:{dead.pid}:0badcafe", 2: f"elsewhere:{dead.pid}:0badcafe", 3: f"{host}:{os.getppid()}:1"}
    for alert_id, owner in owners.items():
        a.db.execute(
            "UPDATE outbox SET lease_owner=?, lease_until=? WHERE id=?",
            (owner, iso(clock.now() + timedelta(seconds=60)), alert_id),
        )
    assert leases.gone(owners[1]) and not leases.gone(owners[2]) and not leases.gone(owners[3])
    assert leases.gone(f"{host}:{os.getpid()}:feedf00d")  # this PID, but not a store of this process
    assert not leases.gone(a.lease_owner)
    assert leases.free_gone(a) == 1
    assert [x.id for x in a.due_alerts(["telegram"])] == [1]


def test_readyz_and_metrics_show_the_leases_this_process_holds(db_target):
    """/readyz's JSON and /metrics give the outbox rows this store holds, and only this store's."""
    clock = FakeClock()
    a = queue(db_target, clock, items=2, chats=2)
    b = Store(db_target, clock)
    a.due_alerts(["telegram"], limit=3)
    b.due_alerts(["telegram"])
    _, body = readiness(a, [], now=clock.now())
    assert body["outbox_leases_held"] == 3
    assert "watcher_outbox_leases_held 3.0" in Metrics(a).render().decode()
    assert "watcher_outbox_leases_held 1.0" in Metrics(b).render().decode()
    leases.release_all(a, "outbox")
    assert readiness(a, [], now=clock.now())[1]["outbox_leases_held"] == 0
