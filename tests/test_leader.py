"""Leader leases without a PostgreSQL server: the SQLite process leads alone, lease keys, what an unreachable
database means, and the shared pacers' behaviour over a stand-in book (the PostgreSQL side is in
tests/test_replicas_pg.py)."""

from __future__ import annotations

import asyncio

import pytest

from tests.fakes.clock import FakeClock
from watcher.delivery.pacing import SharedPacer
from watcher.http.polite import HostPacer
from watcher.store import leader as leases
from watcher.store.leader import AdvisoryLeadership, SoloLeadership, leadership_for, lock_key
from watcher.store.pace import Slot, bot_key

# --- the SQLite side --------------------------------------------------------------------------------------------


async def test_the_sqlite_process_leads_every_lease_once_it_runs():
    solo = SoloLeadership(leases.LEASES)
    heard: list[tuple[str, bool]] = []
    solo.on_change(lambda name, leads: heard.append((name, leads)))
    assert not solo.leads(leases.TELEGRAM_UPDATES)  # not before it runs
    task = asyncio.create_task(solo.run())
    await asyncio.sleep(0)
    assert solo.held() == {name: True for name in leases.LEASES}
    assert heard == [(name, True) for name in leases.LEASES]
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await solo.aclose()
    assert not any(solo.held().values())
    assert heard[-len(leases.LEASES) :] == [(name, False) for name in leases.LEASES]


async def test_a_failing_reaction_does_not_keep_the_others_from_hearing():
    solo = SoloLeadership(["a"])
    heard = []

    def broken(name, leads):
        raise RuntimeError("boom")

    async def fine(name, leads):
        heard.append((name, leads))

    solo.on_change(broken)
    solo.on_change(fine)
    task = asyncio.create_task(solo.run())
    await asyncio.sleep(0)
    assert heard == [("a", True)] and solo.leads("a")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def test_which_leadership_a_deployment_gets():
    assert isinstance(leadership_for(None), SoloLeadership)
    pg = leadership_for("postgresql://u@127.0.0.1:5432/w")
    assert isinstance(pg, AdvisoryLeadership) and pg.names == leases.LEASES
    with pytest.raises(ValueError, match="at least one lease"):
        SoloLeadership([])


def test_lease_keys_are_stable_distinct_and_fit_a_bigint():
    keys = {name: lock_key(name) for name in leases.LEASES}
    assert len(set(keys.values())) == len(keys)
    assert all(-(2**63) <= k < 2**63 for k in keys.values())
    assert lock_key("telegram-updates") == lock_key("telegram-updates")
    assert lock_key("telegram-updates") != 0x77617463686572  # the store's migration lock


async def test_an_unreachable_database_leads_nothing_and_keeps_trying():
    tries = []

    async def refuse(url, **options):
        tries.append(options)
        raise OSError("connection refused")

    leadership = AdvisoryLeadership("postgresql://u@127.0.0.1:9/w", ["a"], retry=0.01, connect=refuse)
    task = asyncio.create_task(leadership.run())
    loop = asyncio.get_running_loop()
    end = loop.time() + 30  # the first try waits for psycopg's import
    while len(tries) < 3 and loop.time() < end:
        await asyncio.sleep(0.01)
    assert not leadership.leads("a")
    assert len(tries) >= 3 and not task.done()
    assert tries[0]["keepalives_idle"] == 5 and "tcp_keepalives_idle=5" in tries[0]["options"]
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


# --- the shared pacers over a stand-in book ----------------------------------------------------------------------


class Book:
    def __init__(self, waits=(), fail: bool = False):
        self.calls: list[tuple] = []
        self.pauses: list[tuple[str, float]] = []
        self.waits = list(waits)
        self.fail = fail

    async def reserve_send(self, bot, rate_interval, chat=None, chat_interval=0.0):
        self.calls.append((bot, rate_interval, chat, chat_interval))
        if self.fail:
            raise OSError("database away")
        return Slot(0.0, self.waits.pop(0) if self.waits else 0.0)

    async def pause(self, bot, seconds):
        self.pauses.append((bot, seconds))

    async def reserve(self, key, interval):
        self.calls.append((key, interval))
        if self.fail:
            raise OSError("database away")
        return self.waits.pop(0) if self.waits else 0.0


async def test_shared_send_pacer_reserves_the_chat_and_waits_for_the_slot():
    clock = FakeClock()
    book = Book(waits=[0.0, 0.7])
    pacer = SharedPacer(book, "bot1", rate=25, monotonic=clock.monotonic, sleep=clock.sleep)
    await pacer.acquire("telegram:42", group=False)
    await pacer.acquire("telegram:-100", group=True)
    await pacer.acquire("webhook:x", paced=False)
    assert book.calls == [
        ("bot1", 1 / 25, "telegram:42", 1.0),
        ("bot1", 1 / 25, "telegram:-100", 3.0),  # 20 a minute: starts 3 s apart
        ("bot1", 1 / 25, None, 1.0),  # an unpaced recipient takes only an overall slot
    ]
    assert 0.7 in clock.sleeps  # the wait the book answered was slept


async def test_shared_send_pacer_goes_slowly_while_the_database_is_away():
    clock = FakeClock()
    pacer = SharedPacer(Book(fail=True), "bot1", rate=25, monotonic=clock.monotonic, sleep=clock.sleep)
    await pacer.acquire("telegram:42")
    assert clock.sleeps[-1] == 1.0 and pacer.shared_failures == 1


async def test_a_flood_pause_is_shared():
    book = Book()
    pacer = SharedPacer(book, "bot1", rate=25)
    pacer.pause(4.0)
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert book.pauses == [("bot1", 4.0)] and pacer.paused_for() > 3.9


def test_the_bot_key_is_not_the_token():
    token = "123456789:AAH-secret_part"
    key = bot_key(token)
    assert len(key) == 16 and "123456789" not in key and "secret" not in key
    assert key == bot_key(token) != bot_key("other:token")


async def test_host_pacer_sleeps_the_shared_wait_and_keeps_its_own_when_that_fails():
    clock = FakeClock()
    book = Book(waits=[2.5])
    pacer = HostPacer(1, 1.0, clock, reserve=book.reserve)
    async with pacer.slot("https://www.consilium.europa.eu/a"):
        pass
    assert book.calls == [("host:https://www.consilium.europa.eu", 1.0)]
    assert clock.sleeps == [2.5]
    failing = HostPacer(1, 1.0, clock, reserve=Book(fail=True).reserve)
    for page in ("a", "b"):
        async with failing.slot(f"https://www.consilium.europa.eu/{page}"):
            pass
    assert clock.sleeps[1:] == [pytest.approx(1.0)]  # this process's own interval still holds


async def test_host_pacer_without_an_interval_asks_nothing():
    clock = FakeClock()
    book = Book()
    pacer = HostPacer(1, 0.0, clock, reserve=book.reserve)
    async with pacer.slot("http://127.0.0.1:9/a"):
        pass
    assert book.calls == [] and clock.sleeps == []
