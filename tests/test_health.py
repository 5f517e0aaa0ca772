"""Source health with a controlled clock: one "failing" message at the threshold, one "recovered" message, one
staleness warning, nothing in between; "empty" where items were expected; and the backoff of a failing source."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import NoMatch
from tests.fakes.clock import FakeClock
from tests.fakes.feeds import rss
from watcher import pipeline
from watcher.app import Service, poll_delay
from watcher.health import HealthRules, Snapshot, decide, next_delay, rules_from_toml
from watcher.http.client import Http
from watcher.http.polite import RetryPolicy
from watcher.sources.rss import RssSource
from watcher.store import health as healthdb
from watcher.store.sqlite import Store

A = {"title": "A", "link": "https://e.org/a", "guid": "a"}
B = {"title": "B", "link": "https://e.org/b", "guid": "b"}


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
async def env(tmp_path, clock):
    store = Store(tmp_path / "w.db", clock=clock)
    http = Http(clock=clock, per_host_interval=0, retry=RetryPolicy(attempts=1))
    yield http, store
    await http.aclose()
    store.close()


DEFAULT_RULES = HealthRules()


async def poll(server, env, rules=DEFAULT_RULES, **kw):
    http, store = env
    source = RssSource(name="feed", url=server.url("/feed.xml"), every=60.0, **kw)
    return await pipeline.poll(source, http, store, NoMatch(), health=rules)


def kinds(store) -> list[str]:
    return [e["kind"] for e in healthdb.events(store)]


async def test_one_failing_message_at_the_threshold_and_one_recovery(feed_server, env, clock):
    """Three failed polls give one message naming the class; more failures add none; the first success gives one
    "recovered" message, and further successes none."""
    _, store = env
    feed_server.set("/feed.xml", rss([A]))
    await poll(feed_server, env)
    feed_server.set("/feed.xml", "down", status=502)
    for n in range(1, 6):
        clock.advance(60)
        await poll(feed_server, env)
        assert kinds(store) == ([] if n < 3 else ["failing"])
    [failing] = healthdb.events(store)
    assert failing["failure"] == "server_error" and "server_error" in failing["text"]
    assert "3 polls in a row" in failing["text"] and "feed" in failing["text"]
    feed_server.set("/feed.xml", rss([A]))
    for _ in range(3):
        clock.advance(60)
        await poll(feed_server, env)
    assert kinds(store) == ["failing", "recovered"]
    assert "works again" in healthdb.events(store)[1]["text"]


async def test_failures_under_the_threshold_then_success_say_nothing(feed_server, env, clock):
    """Two failures and a success (threshold 3) send no message at all."""
    _, store = env
    for status in (500, 500, 200):
        feed_server.set("/feed.xml", rss([A]) if status == 200 else "x", status=status)
        clock.advance(60)
        await poll(feed_server, env)
    assert kinds(store) == []


async def test_per_source_threshold_overrides_the_default(feed_server, env):
    """failure_threshold = 1 on the source sends the message at the first failure, whatever [health] says."""
    _, store = env
    feed_server.set("/feed.xml", "blocked", status=429)
    await poll(feed_server, env, HealthRules(failure_threshold=5), failure_threshold=1)
    assert kinds(store) == ["failing"] and healthdb.events(store)[0]["failure"] == "rate_limited"


async def test_one_staleness_warning_per_quiet_spell(feed_server, env, clock):
    """Successful polls with nothing new warn once after the quiet period, not again; a new item resets it and a
    second quiet spell warns once more."""
    _, store = env
    rules = HealthRules(quiet=3600.0)
    feed_server.set("/feed.xml", rss([A]))
    await poll(feed_server, env, rules)
    for _ in range(5):  # 50 minutes: within the quiet period
        clock.advance(600)
        await poll(feed_server, env, rules)
    assert kinds(store) == []
    for _ in range(6):
        clock.advance(600)
        await poll(feed_server, env, rules)
    assert kinds(store) == ["stale"]
    assert "nothing new for 1h" in healthdb.events(store)[0]["text"]
    feed_server.set("/feed.xml", rss([A, B]))
    await poll(feed_server, env, rules)
    for _ in range(8):
        clock.advance(600)
        await poll(feed_server, env, rules)
    assert kinds(store) == ["stale", "stale"]


async def test_quiet_zero_turns_the_staleness_warning_off(feed_server, env, clock):
    """A source with quiet = 0 never gets a staleness warning."""
    _, store = env
    feed_server.set("/feed.xml", rss([A]))
    for _ in range(3):
        await poll(feed_server, env, HealthRules(quiet=60.0), quiet=0.0)
        clock.advance(3600)
    assert kinds(store) == []


async def test_empty_where_items_were_expected(feed_server, env):
    """A well-formed feed with no items, after the source had items, is an "empty" failure that records nothing;
    on a first poll, or with expect_items = false, it is a success."""
    _, store = env
    feed_server.set("/feed.xml", rss([]))
    assert (await poll(feed_server, env)).ok
    feed_server.set("/feed.xml", rss([A]))
    assert (await poll(feed_server, env)).ok
    feed_server.set("/feed.xml", rss([]))
    empty = await poll(feed_server, env)
    assert empty.failure == "empty" and "had items before" in empty.detail
    assert (await poll(feed_server, env, expect_items=False)).ok


def test_decide_is_pure_and_follows_the_rules():
    """The pure rule function: failing only at the threshold and only once; recovered only after failing."""
    now = FakeClock().now()
    assert decide(Snapshot(consecutive_failures=2), "timeout", now, 3, 0)[0] == []
    kinds_, updates = decide(Snapshot(consecutive_failures=3, failing_since=now), "timeout", now, 3, 0)
    assert kinds_ == ["failing"] and updates == {"failure_notified_at": now}
    assert decide(Snapshot(consecutive_failures=4, failure_notified_at=now), "timeout", now, 3, 0)[0] == []
    assert decide(Snapshot(failure_notified_at=now), None, now, 3, 0)[0] == ["recovered"]
    assert decide(Snapshot(), None, now, 3, 0)[0] == []
    old = now - timedelta(days=2)
    assert decide(Snapshot(last_new_at=old), None, now, 3, 86400)[0] == ["stale"]
    assert decide(Snapshot(last_new_at=old, stale_notified_at=now), None, now, 3, 86400)[0] == []


@pytest.mark.parametrize(
    "failures,expected", [(0, 60), (1, 60), (2, 120), (3, 240), (4, 480), (6, 1800), (50, 1800), (10_000, 1800)]
)
def test_next_delay_doubles_up_to_the_cap(failures, expected):
    """A source's interval is kept after one failure, then doubles with each further failure, up to the cap."""
    assert next_delay(60, failures, 1800) == expected


def test_next_delay_never_goes_below_the_interval():
    """A cap shorter than the interval leaves the interval as it is."""
    assert next_delay(7200, 5, 1800) == 7200


async def test_poll_delay_backs_off_honours_retry_after_and_resets(feed_server, env):
    """After failures the next poll is pushed back, a Retry-After longer than that wins, and a success brings the
    source back to its interval."""
    _, store = env
    rules = HealthRules(backoff_cap=3600.0)
    source = RssSource(name="feed", url=feed_server.url("/feed.xml"), every=60.0)
    feed_server.set("/feed.xml", "x", status=500)
    delays = []
    for _ in range(4):
        result = await poll(feed_server, env, rules)
        delays.append(poll_delay(store, source, result, rules))
    assert delays == [60, 120, 240, 480]
    feed_server.set("/feed.xml", "x", status=429, headers={"Retry-After": "3000"})
    limited = await poll(feed_server, env, rules)
    assert poll_delay(store, source, limited, rules) == 3000
    feed_server.set("/feed.xml", rss([A]))
    assert poll_delay(store, source, await poll(feed_server, env, rules), rules) == 60


class StubScheduler:
    def __init__(self):
        self.moved: list[tuple[str, float]] = []

    def modify_job(self, job_id, next_run_time):
        self.moved.append((job_id, next_run_time))


async def test_service_moves_the_next_poll_of_a_failing_source_only(tmp_path):
    """The service reschedules a source that keeps failing, and leaves a healthy one on its interval."""
    from watcher.config import Config, Settings

    source = RssSource(name="feed", url="http://127.0.0.1:9/x", every=60.0)
    service = Service(Config(directory=tmp_path, sources=(source,), topics=()), Settings(data_dir=tmp_path))
    service.store = Store(":memory:")
    service.scheduler = StubScheduler()
    for _ in range(3):
        service.store.record_failure("feed", "timeout", "slow")
    await service._space_out(source, pipeline.PollResult(source="feed", failure="timeout"))
    assert [job for job, _ in service.scheduler.moved] == ["feed"]
    service.store.record_poll("feed", [], {})
    await service._space_out(source, pipeline.PollResult(source="feed"))
    assert len(service.scheduler.moved) == 1


def test_health_table_in_sources_toml_is_validated():
    """[health] accepts its keys and durations, and names the problem for a bad one."""
    rules, problems = rules_from_toml({"failure_threshold": 5, "quiet": "3d", "backoff_cap": "2h"}, "s.toml")
    assert problems == [] and (rules.failure_threshold, rules.quiet, rules.backoff_cap) == (5, 259200.0, 7200.0)
    _, problems = rules_from_toml({"failure_threshold": 0, "quite": "3d", "quiet": "soon"}, "s.toml")
    assert len(problems) == 3 and any("'quite'" in p for p in problems)
