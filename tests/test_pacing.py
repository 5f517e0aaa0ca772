"""The pacer, on a controlled clock: overall rate, one message a second per chat, twenty a minute per group, and
flood pauses."""

from __future__ import annotations

import pytest

from watcher.delivery.pacing import Pacer


class FakeTime:
    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def t():
    return FakeTime()


def pacer(t, **kw) -> Pacer:
    return Pacer(monotonic=t.monotonic, sleep=t.sleep, **kw)


async def test_overall_rate_is_even_and_exact(t):
    """100 slots at 25/s take 99/25 seconds: evenly spaced, no burst, no drift."""
    p = pacer(t, rate=25)
    start = t.now
    stamps = []
    for _ in range(100):
        await p.acquire()
        stamps.append(t.now)
    assert stamps[-1] - start == pytest.approx(99 / 25)
    assert min(b - a for a, b in zip(stamps, stamps[1:])) == pytest.approx(1 / 25)


async def test_late_wakeups_do_not_lower_the_rate(t):
    """When each sleep overruns a little, the schedule catches up instead of drifting."""
    p = pacer(t, rate=25)

    async def late_sleep(seconds: float) -> None:
        t.now += seconds + 0.003

    p.sleep = late_sleep
    start = t.now
    for _ in range(251):
        await p.acquire()
    assert t.now - start == pytest.approx(10.0, abs=0.01)


def test_one_message_a_second_per_chat(t):
    """A chat waits a second after its last send ended, and never gets two sends at once."""
    p = pacer(t)
    assert p.chat_wait("1") == 0
    p.begin("1")
    assert p.chat_wait("1") > 0 and p.chat_wait("2") == 0
    p.end("1")
    t.now += 0.5
    assert p.chat_wait("1") == pytest.approx(0.5)
    t.now += 0.5
    assert p.chat_wait("1") == 0


def test_twenty_a_minute_per_group(t):
    """A group gets 20 messages in any minute; the 21st waits until the first is a minute old."""
    p = pacer(t)
    for _ in range(20):
        assert p.chat_wait("-5", group=True) == 0
        p.begin("-5")
        p.end("-5", group=True)
        t.now += 1.0
    assert p.chat_wait("-5", group=True) == pytest.approx(40.0)
    t.now += 40.0
    assert p.chat_wait("-5", group=True) == 0


async def test_flood_pause_holds_every_slot(t):
    """After pause(3) nothing gets a slot for exactly 3 seconds."""
    p = pacer(t, rate=25)
    await p.acquire()
    p.pause(3.0)
    before = t.now
    await p.acquire()
    assert t.now - before == pytest.approx(3.0)
    assert list(p.pauses) == [3.0] and p.floods == 1


def test_memory_is_pruned(t):
    """Chats whose wait is over are forgotten, so tracking 10,000 chats does not keep 10,000 entries."""
    p = pacer(t)
    for chat in range(10_000):
        p.begin(str(chat))
        p.end(str(chat))
        t.now += 0.04
    assert p.tracked_chats() < 100


@pytest.mark.parametrize("rate", [0, -1, 30, 100])
def test_rate_must_stay_below_telegrams_limit(rate):
    """A rate of 30 a second or more (or none) is refused."""
    with pytest.raises(ValueError, match="at most 29"):
        Pacer(rate=rate)
