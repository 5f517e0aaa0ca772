"""Replicas on a real PostgreSQL server: leader leases (advisory locks), the shared paces, and LISTEN/NOTIFY.

The server is Debian's, started in a temporary folder on 127.0.0.1 by the ``postgres_server`` fixture
(tests/fakes/postgres.py); without one these tests skip, saying why (and fail where WATCHER_REQUIRE_POSTGRES is set).
"""

from __future__ import annotations

import asyncio
import signal
import sys

import pytest

from watcher.store import leader as leases
from watcher.store.leader import AdvisoryLeadership, lock_key
from watcher.store.notify import OutboxSignal
from watcher.store.pace import PaceBook, bot_key

psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed: pip install -e '.[test]'")

LEASE = leases.TELEGRAM_UPDATES


@pytest.fixture
def url(pg_url):
    return pg_url


async def until(predicate, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


def terminate(url: str, pid: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]


# --- leader leases ----------------------------------------------------------------------------------------------


async def test_two_leaderships_on_two_connections_only_one_leads(url):
    first, second = AdvisoryLeadership(url, [LEASE], retry=0.2), AdvisoryLeadership(url, [LEASE], retry=0.2)
    tasks = [asyncio.create_task(first.run()), asyncio.create_task(second.run())]
    try:
        await until(lambda: first.leads(LEASE) or second.leads(LEASE))
        await asyncio.sleep(1.0)  # five retries of the follower: it still does not lead
        assert [first.leads(LEASE), second.leads(LEASE)].count(True) == 1
        assert first.backend_pid != second.backend_pid
        with psycopg.connect(url, autocommit=True) as conn:  # the server's view: one session holds the lock
            holders = conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = %s",
                (lock_key(LEASE),),
            ).fetchone()[0]
        assert holders == 1
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_killing_the_leaders_connection_hands_the_lease_over(url):
    changes: list[tuple[str, str, bool]] = []
    # the leader checks its connection only once a minute: losing the lease within the test shows that the closed
    # socket was seen at once
    first, second = AdvisoryLeadership(url, [LEASE], retry=60.0), AdvisoryLeadership(url, [LEASE], retry=0.5)
    first.on_change(lambda name, leads: changes.append(("first", name, leads)))
    second.on_change(lambda name, leads: changes.append(("second", name, leads)))
    one = asyncio.create_task(first.run())
    await until(lambda: first.leads(LEASE))
    two = asyncio.create_task(second.run())
    try:
        await until(lambda: second.backend_pid is not None)
        await asyncio.sleep(0.6)  # the follower has tried at least once and been refused
        assert not second.leads(LEASE)
        terminate(url, first.backend_pid)
        await until(lambda: not first.leads(LEASE))  # long before its next check, a minute away
        await until(lambda: second.leads(LEASE))
        assert changes[:2] == [("first", LEASE, True), ("first", LEASE, False)]
        assert ("second", LEASE, True) in changes
        assert not first.leads(LEASE) and second.leads(LEASE)
        assert first.losses == 1
    finally:
        for task in (one, two):
            task.cancel()
        await asyncio.gather(one, two, return_exceptions=True)


LEADER_PROCESS = """
import asyncio, sys
from watcher.store.leader import AdvisoryLeadership

async def main():
    leadership = AdvisoryLeadership(sys.argv[1], ["telegram-updates"], retry=0.5)
    leadership.on_change(lambda name, leads: print("leading" if leads else "lost", flush=True))
    await leadership.run()

asyncio.run(main())
"""


async def test_a_follower_leads_soon_after_the_leader_process_is_killed(url):
    """kill -9 of the process that leads: its session ends with it, and the follower takes over at its next try,
    far inside the 30 s the issue allows."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LEADER_PROCESS, url, stdout=asyncio.subprocess.PIPE
    )
    follower = AdvisoryLeadership(url, [LEASE], retry=0.5)
    task = None
    try:
        assert child.stdout is not None
        assert (await asyncio.wait_for(child.stdout.readline(), 30)).strip() == b"leading"
        task = asyncio.create_task(follower.run())
        await until(lambda: follower.backend_pid is not None)
        await asyncio.sleep(1.0)  # two tries refused
        assert not follower.leads(LEASE)
        child.send_signal(signal.SIGKILL)
        await child.wait()
        await until(lambda: follower.leads(LEASE), timeout=25.0)  # the issue allows 30 s
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_closing_a_leadership_frees_its_leases_for_another(url):
    first = AdvisoryLeadership(url, leases.LEASES, retry=0.2)
    one = asyncio.create_task(first.run())
    await until(lambda: all(first.held().values()))
    second = AdvisoryLeadership(url, leases.LEASES, retry=0.2)
    two = asyncio.create_task(second.run())
    try:
        await until(lambda: second.backend_pid is not None)
        assert not any(second.held().values())
        one.cancel()
        await asyncio.gather(one, return_exceptions=True)
        await first.aclose()
        assert not any(first.held().values())
        await until(lambda: all(second.held().values()))
    finally:
        two.cancel()
        await asyncio.gather(two, return_exceptions=True)


async def test_an_unreachable_database_leads_nothing_and_keeps_trying(postgres_server):
    port = postgres_server.port
    dead = f"postgresql://watcher@127.0.0.1:{port}/no_such_database"
    leadership = AdvisoryLeadership(dead, [LEASE], retry=0.1)
    task = asyncio.create_task(leadership.run())
    try:
        await asyncio.sleep(0.5)
        assert not leadership.leads(LEASE)
        assert not task.done()  # still trying, not crashed
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


# --- shared paces -----------------------------------------------------------------------------------------------


async def _reserve_many(url: str, key: str, interval: float, count: int) -> list[float]:
    book = await PaceBook(url).open()
    try:
        return [(await book.reserve(key, interval)).start for _ in range(count)]
    finally:
        await book.aclose()


async def test_two_replicas_reserving_one_key_never_get_slots_closer_than_the_interval(url):
    interval = 0.05
    starts = await asyncio.gather(
        *(_reserve_many(url, "host:https://www.consilium.europa.eu", interval, 40) for _ in range(3))
    )
    every = sorted(s for part in starts for s in part)
    assert len(every) == len(set(every)) == 120
    gaps = [b - a for a, b in zip(every, every[1:])]
    assert min(gaps) >= interval - 1e-6
    assert all(part == sorted(part) for part in starts)  # each replica's own slots follow each other


async def test_reservations_in_threads_on_separate_event_loops(url):
    """Two threads, each with its own loop and connection, like two processes."""

    def worker() -> list[float]:
        return asyncio.run(_reserve_many(url, "send:x", 0.04, 30))

    a, b = await asyncio.gather(asyncio.to_thread(worker), asyncio.to_thread(worker))
    every = sorted(a + b)
    assert min(y - x for x, y in zip(every, every[1:])) >= 0.04 - 1e-6


async def test_send_slots_respect_the_chat_the_overall_pace_and_a_shared_pause(url):
    bot = bot_key("123456:SECRET-TOKEN")
    one, two = await PaceBook(url).open(), await PaceBook(url).open()
    try:
        s1 = await one.reserve_send(bot, 0.04, "telegram:42", 1.0)
        s2 = await two.reserve_send(bot, 0.04, "telegram:42", 1.0)  # same chat from another replica
        s3 = await two.reserve_send(bot, 0.04, "telegram:7", 1.0)  # another chat: only the overall pace
        assert s2.start - s1.start >= 1.0 - 1e-6
        assert s3.start >= s2.start + 0.04 - 1e-6  # the overall pace counts from the latest reserved slot
        await one.pause(bot, 2.0)
        s4 = await two.reserve_send(bot, 0.04)
        assert s4.wait >= 1.9
        with psycopg.connect(url, autocommit=True) as conn:
            keys = [k for (k,) in conn.execute("SELECT key FROM watcher_pace")]
        assert keys and not any("SECRET" in k or "123456" in k for k in keys)
    finally:
        await one.aclose()
        await two.aclose()


async def test_a_pace_book_reconnects_after_its_connection_is_killed(url):
    book = await PaceBook(url).open()
    try:
        first = await book.reserve("k", 0.01)
        pid = (await (await book.conn.execute("SELECT pg_backend_pid()")).fetchone())[0]
        terminate(url, pid)
        with pytest.raises(psycopg.OperationalError):
            await book.reserve("k", 0.01)
        second = await book.reserve("k", 0.01)
        assert second.start >= first.start + 0.01 - 1e-6
    finally:
        await book.aclose()


# --- LISTEN/NOTIFY ----------------------------------------------------------------------------------------------


async def test_notify_wakes_a_waiting_listener_on_another_connection(url):
    woken = asyncio.Event()
    signal = OutboxSignal(url, woken.set, retry=0.2)
    task = asyncio.create_task(signal.run())
    try:
        await until(lambda: signal.listening)
        assert woken.is_set()  # a (re)connection wakes the sender once, for what was queued meanwhile
        woken.clear()
        await asyncio.sleep(0.3)
        assert not woken.is_set()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SELECT pg_notify(%s, '')", (signal.channel,))
        await asyncio.wait_for(woken.wait(), 5.0)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_replica_that_queued_alerts_wakes_the_others(url):
    woken = asyncio.Event()
    listener, sender = OutboxSignal(url, woken.set, retry=0.2), OutboxSignal(url, lambda: None, retry=0.2)
    tasks = [asyncio.create_task(listener.run()), asyncio.create_task(sender.run())]
    try:
        await until(lambda: listener.listening and sender.listening)
        woken.clear()
        await sender.queued()
        await asyncio.wait_for(woken.wait(), 5.0)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_listener_listens_again_after_its_connection_is_killed(url):
    woken = asyncio.Event()
    signal = OutboxSignal(url, woken.set, retry=0.1)
    task = asyncio.create_task(signal.run())
    try:
        await until(lambda: signal.listening)
        terminate(url, signal.backend_pid)
        await until(lambda: not signal.listening)
        woken.clear()
        await until(lambda: signal.listening)
        assert woken.is_set()  # a reconnection wakes the sender once, for what may have been queued meanwhile
        woken.clear()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SELECT pg_notify(%s, '')", (signal.channel,))
        await asyncio.wait_for(woken.wait(), 5.0)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
