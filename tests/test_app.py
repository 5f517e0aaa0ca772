"""Service wiring: one scheduler job per enabled source, never overlapping, with jitter and a misfire grace."""

from __future__ import annotations

import asyncio
import tomllib

from tests.conftest import source_toml
from watcher.app import CycleSummary, Service
from watcher.config import Config, Settings
from watcher.matcher import topics_from_toml
from watcher.pipeline import PollResult
from watcher.sources.kinds import sources_from_toml

TOPICS, _, _ = topics_from_toml({"topic": [{"id": "t", "label": "T", "terms": ["xeno"], "exclude": []}]})


async def test_one_job_per_enabled_source(tmp_path):
    """Each enabled source gets its own job at its interval with jitter, max one instance, coalescing and a misfire
    grace of at least a minute; disabled sources get none."""
    text = (
        source_toml("a", "http://127.0.0.1:9/a", every="15m")
        + source_toml("b", "http://127.0.0.1:9/b", every="2s")
        + source_toml("c", "http://127.0.0.1:9/c", enabled=False)
    )
    sources, _, errors = sources_from_toml(tomllib.loads(text), "sources.toml")
    assert not errors
    service = Service(Config(tmp_path, tuple(sources), tuple(TOPICS)), Settings(data_dir=tmp_path))
    scheduler = service._scheduler(asyncio.get_running_loop())
    jobs = {j.id: j for j in scheduler.get_jobs()}
    assert set(jobs) == {"a", "b", "cycle-summary"}
    a, b = jobs["a"], jobs["b"]
    assert a.trigger.interval.total_seconds() == 900 and b.trigger.interval.total_seconds() == 2
    assert a.trigger.jitter == 60 and 0 < b.trigger.jitter < 1
    assert a.max_instances == 1 and a.coalesce and a.misfire_grace_time >= 900
    assert b.misfire_grace_time >= 60


def test_cycle_summary_line():
    """The cycle summary counts polls, new, flagged and failed sources, then starts again."""
    summary = CycleSummary()
    assert summary.take() == ""
    summary.add(PollResult("a", new=[1, 2], flagged=[1], alerts=3))
    summary.add(PollResult("b", failure="timeout"))
    assert summary.take() == "polled 2, new 2, flagged 1, alerts 3, failed 1 [b (timeout)]"
    assert summary.take() == ""


async def test_a_crashed_background_task_stops_the_service_with_failure(tmp_path, monkeypatch):
    """If the delivery worker dies, the service logs it and stops with failed set (so `watcher run` exits 1 and the
    supervisor restarts it), instead of running on without delivering."""
    from watcher.delivery.worker import DeliveryWorker

    async def broken(self):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(DeliveryWorker, "run", broken)
    sources, _, _ = sources_from_toml(
        tomllib.loads(source_toml("a", "http://127.0.0.1:9/a", every="1h")), "sources.toml"
    )
    service = Service(
        Config(tmp_path, tuple(sources), tuple(TOPICS)), Settings(data_dir=tmp_path / "data", http_port=0)
    )
    await asyncio.wait_for(service.run(), timeout=20)
    assert service.failed is True
