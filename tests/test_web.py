"""The health and metrics endpoint: /healthz, /readyz before and after the first successful poll, /metrics moving."""

from __future__ import annotations

import asyncio
import tomllib

import httpx

from tests.conftest import source_toml
from tests.fakes.feeds import rss
from watcher.app import Service
from watcher.config import Config, Settings
from watcher.matcher import topics_from_toml
from watcher.sources.kinds import sources_from_toml

TOPICS = {"topic": [{"id": "smuggling", "label": "Migrant smuggling", "terms": ["migrant smuggling"], "exclude": []}]}


def service_for(tmp_path, url: str) -> Service:
    sources, _, errors = sources_from_toml(tomllib.loads(source_toml("feed", url, every="1s")), "sources.toml")
    topics, terrors, _ = topics_from_toml(TOPICS)
    assert not errors and not terrors
    config = Config(directory=tmp_path, sources=tuple(sources), topics=tuple(topics))
    return Service(config, Settings(data_dir=tmp_path / "data", http_port=0))


async def wait_until(predicate, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await predicate():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_readyz_metrics_and_healthz(tmp_path, feed_server):
    """/readyz is 503 before the first successful poll and 200 after; /metrics counters move; /healthz is 200."""
    feed_server.set("/feed.xml", "down", status=500)
    service = service_for(tmp_path, feed_server.url("/feed.xml"))
    task = asyncio.create_task(service.run())
    try:
        await wait_until(lambda: _true(service.web is not None and service.web.port != 0))
        base = f"http://127.0.0.1:{service.web.port}"
        async with httpx.AsyncClient(base_url=base) as client:
            assert (await client.get("/healthz")).status_code == 200

            async def failed_once() -> bool:  # the poll retries a 500 before it counts as failed
                text = (await client.get("/metrics")).text
                return 'watcher_polls_total{result="server_error",source="feed"}' in text

            await wait_until(failed_once)
            not_ready = await client.get("/readyz")
            assert not_ready.status_code == 503 and not_ready.json()["ready"] is False

            feed_server.set("/feed.xml", rss([{"title": "a", "link": "https://e.org/a", "guid": "a"}]))

            async def ready() -> bool:
                return (await client.get("/readyz")).status_code == 200

            await wait_until(ready)

            async def ok_counted() -> bool:  # counted just after the poll is recorded, which /readyz reads
                return 'watcher_polls_total{result="ok",source="feed"}' in (await client.get("/metrics")).text

            await wait_until(ok_counted)
            text = (await client.get("/metrics")).text
            assert 'watcher_items_new_total{source="feed"} 1.0' in text
            assert "watcher_outbox_depth 0.0" in text
            assert 'watcher_stage_seconds_count{stage="fetch"}' in text
            assert (await client.get("/nope")).status_code == 404
    finally:
        service.request_stop()
        await asyncio.wait_for(task, 10)


async def _true(value: bool) -> bool:
    return value
