"""Ten minutes of simulated time against a server that misbehaves at random (seeded): the operator gets exactly the
messages the rules call for, computed here from what the server answered, independently of the implementation;
the failing source is spaced out as the backoff rule says; a healthy source beside it is untouched."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.feeds import Route, rss
from watcher import pipeline
from watcher.app import poll_delay
from watcher.delivery.operators import AdminMessenger
from watcher.health import HealthRules
from watcher.http.client import Http
from watcher.http.polite import RetryPolicy
from watcher.sources.rss import RssSource
from watcher.store import health as healthdb
from watcher.store.health import StoredValidators
from watcher.store.sqlite import Store

SEED = 6
RUN = 600.0
EVERY = 10.0
CAP = 60.0
THRESHOLD = 3
QUIET = 90.0
CLASS_OF = {
    "500": "server_error",
    "503": "server_error",
    "429": "rate_limited",
    "challenge": "blocked",
    "broken": "unparseable",
    "empty": "empty",
    "slow": "timeout",
}
KINDS = ["ok"] * 10 + ["500", "503", "429", "challenge", "broken", "empty", "slow"] + ["500"] * 3


class NoJitter(random.Random):
    """Backoff waits without jitter, so simulated time stays in whole seconds like the store's timestamps."""

    def random(self) -> float:
        return 0.0


class NoMatch:
    def match(self, item):
        return []


@dataclass
class FlakyFeed:
    """Decides each answer with a seeded generator and remembers what it served, in order."""

    rng: random.Random
    items: list[dict]
    served: list[str]
    recorded: set[str]

    def __call__(self, headers: dict[str, str]) -> Route:
        kind = "ok" if not self.served else self.rng.choice(KINDS)
        if kind == "ok" and self.rng.random() < 0.2:
            n = len(self.items)
            self.items.append({"title": f"item {n}", "link": f"https://e.org/{n}", "guid": str(n)})
        etag = f'"{len(self.items)}"'
        if kind == "ok" and headers.get("if-none-match") == etag:
            kind = "304"
        self.served.append(kind)
        if kind == "ok":
            return Route(rss(self.items).encode(), etag=etag)
        if kind == "304":
            return Route(b"", etag=etag)
        return {
            "500": Route(b"oops", 500, {"Content-Type": "text/plain"}),
            "503": Route(b"busy", 503, {"Content-Type": "text/plain"}),
            "429": Route(b"slow down", 429, {"Retry-After": str(self.rng.randint(1, 5))}),
            "challenge": Route(b"<html><title>Just a moment...</title></html>", 403, {"Content-Type": "text/html"}),
            "broken": Route(b"<rss><channel><item><title>cut", 200, {"Content-Type": "text/xml"}),
            "empty": Route(rss([]).encode()),
            "slow": Route(rss(self.items).encode(), delay=0.6),
        }[kind]

    def outcome(self, answers: list[str]) -> tuple[str | None, bool]:
        """(failure class or None, whether new items arrived) of one poll, from the last answer it got."""
        last = answers[-1]
        if last == "304":
            return None, False
        if last != "ok":
            return CLASS_OF[last], False
        guids = {it["guid"] for it in self.items}
        new = bool(guids - self.recorded)
        self.recorded |= guids
        return None, new


def expected_messages(polls: list[tuple[float, str | None, bool]]) -> list[tuple[str, str | None]]:
    """The rules, applied to the outcomes: one "failing" at the threshold, one "recovered" after it, one "stale"
    per quiet spell of successful polls."""
    out: list[tuple[str, str | None]] = []
    streak, notified, last_new, stale_at = 0, False, None, None
    for t, failure, new in polls:
        if failure:
            streak += 1
            if streak >= THRESHOLD and not notified:
                out.append(("failing", failure))
                notified = True
            continue
        streak = 0
        if notified:
            out.append(("recovered", None))
            notified = False
        if new or last_new is None:
            last_new = t
        if t - last_new > QUIET and (stale_at is None or stale_at < last_new):
            out.append(("stale", None))
            stale_at = t
    return out


def expected_gap(streak: int) -> float:
    return EVERY if streak <= 1 else min(CAP, EVERY * 2 ** (streak - 1))


@pytest.mark.timeout(60)
async def test_ten_simulated_minutes_of_random_failures(feed_server, tmp_path):
    """Over 600 simulated seconds the admin chats get exactly the expected messages, once each; the flaky source's
    polls are spaced as the backoff rule says; the steady source sends no message and records every item."""
    clock = FakeClock()
    store = Store(tmp_path / "w.db", clock=clock)
    http = Http(
        timeout=0.3,
        clock=clock,
        per_host_interval=0,
        rng=NoJitter(),
        validators=StoredValidators(store),
        retry=RetryPolicy(attempts=3, budget=30.0),
    )
    rules = HealthRules(failure_threshold=THRESHOLD, quiet=QUIET, backoff_cap=CAP)
    flaky = FlakyFeed(random.Random(SEED), [{"title": "first", "link": "https://e.org/f", "guid": "f"}], [], set())
    feed_server.set_handler("/flaky.xml", flaky)
    steady_items: list[dict] = []
    sources = {
        "flaky": RssSource(name="flaky", url=feed_server.url("/flaky.xml"), every=EVERY),
        "steady": RssSource(name="steady", url=feed_server.url("/steady.xml"), every=EVERY),
    }
    sent: list[tuple[str, str]] = []

    async def record(address: str, text: str) -> None:
        sent.append((address, text))

    messenger = AdminMessenger(store, record, ["501", "502"])
    due = {"flaky": 0.0, "steady": 0.0}
    polls: list[tuple[float, str | None, bool]] = []
    starts: list[float] = []
    try:
        while min(due.values()) < RUN:
            name = min(due, key=due.get)
            clock.advance(max(0.0, due[name] - clock.elapsed))
            if name == "steady":
                steady_items.append(
                    {"title": f"s{len(steady_items)}", "link": "https://e.org/s", "guid": f"s{len(steady_items)}"}
                )
                feed_server.set("/steady.xml", rss(steady_items))
            before, started = len(flaky.served), clock.elapsed
            result = await pipeline.poll(sources[name], http, store, NoMatch(), health=rules)
            if name == "flaky":
                failure, new = flaky.outcome(flaky.served[before:])
                assert result.failure == failure, (flaky.served[before:], result.detail)
                polls.append((clock.elapsed, failure, new))
                starts.append(started)
            else:
                assert result.ok and len(result.new) == 1
            await messenger.drain_once()
            due[name] = clock.elapsed + poll_delay(store, sources[name], result, rules)
    finally:
        await http.aclose()

    expected = expected_messages(polls)
    kinds = {k for k, _ in expected}
    assert {"failing", "recovered", "stale"} <= kinds, f"seed {SEED} does not exercise every rule: {expected}"
    got = [(e["kind"], e["failure"]) for e in healthdb.events(store)]
    print(f"{len(polls)} polls of the flaky source, {sum(1 for p in polls if p[1])} failed; messages: {got}")
    assert got == expected
    assert all(e["source"] == "flaky" for e in healthdb.events(store))
    assert len(sent) == 2 * len(expected)
    assert [text for addr, text in sent if addr == "501"] == [e["text"] for e in healthdb.events(store)]

    streak = 0
    for (end, failure, _), _start, next_start in zip(polls, starts, starts[1:]):
        streak = streak + 1 if failure else 0
        assert next_start - end == expected_gap(streak)
    assert len(polls) >= 20 and polls[-1][0] >= RUN - CAP
    store.close()
