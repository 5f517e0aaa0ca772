"""The service's singletons follow the leader leases: one getUpdates consumer per token, handed over when the leader's
lease session dies; /readyz and /metrics say which leases this replica leads. The real python-telegram-bot talks to
the fake Bot API; on PostgreSQL the store and the leases are on a real server (the ``pg_url`` fixture)."""

from __future__ import annotations

import asyncio
import tomllib

import httpx
import psycopg
import pytest

from tests.conftest import source_toml
from tests.fakes.botapi import FakeBotAPI
from watcher.app import Service
from watcher.config import Config
from watcher.settings import Settings
from watcher.sources.kinds import sources_from_toml
from watcher.store.leader import OUTBOX_BACKLOG, TELEGRAM_UPDATES


def service(tmp_path, name: str, api: FakeBotAPI, database_url: str | None = None) -> Service:
    sources, _, errors = sources_from_toml(
        tomllib.loads(source_toml("quiet", "http://127.0.0.1:9/feed.xml", every="1h")), "sources.toml"
    )
    assert not errors
    settings = Settings(
        data_dir=tmp_path / name,
        http_port=0,
        telegram_token=api.token,
        telegram_api_url=api.base_url,
        database_url=database_url,
    )
    return Service(Config(directory=tmp_path, sources=tuple(sources), topics=()), settings)


async def until(predicate, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        assert loop.time() < end, "condition not reached in time"
        await asyncio.sleep(0.05)


def polling(svc: Service) -> bool:
    app = svc.application
    return app is not None and app.updater is not None and app.updater.running


async def leader_answers(svc: Service) -> tuple[dict, str]:
    assert svc.web is not None
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{svc.web.port}") as client:
        ready = (await client.get("/readyz")).json()
        metrics = (await client.get("/metrics")).text
    return ready, metrics


async def stop(*pairs) -> None:
    for svc, _task in pairs:
        svc.request_stop()
    await asyncio.gather(*(asyncio.wait_for(task, 30) for _, task in pairs), return_exceptions=True)


async def test_on_sqlite_the_one_process_leads_and_polls_telegram(tmp_path, api):
    svc = service(tmp_path, "solo", api)
    task = asyncio.create_task(svc.run())
    try:
        await until(lambda: polling(svc) and svc.web is not None and svc.web.port != 0)
        await until(lambda: len(api.calls("getUpdates")) > 0)
        ready, metrics = await leader_answers(svc)
        assert ready["leader"] == {TELEGRAM_UPDATES: True, OUTBOX_BACKLOG: True}
        assert f'watcher_leader{{lease="{TELEGRAM_UPDATES}"}} 1.0' in metrics
        assert f'watcher_leader{{lease="{OUTBOX_BACKLOG}"}} 1.0' in metrics
        assert svc.pace_book is None and svc.signal is None  # one process: its own pacers are exact
    finally:
        await stop((svc, task))


async def test_a_leader_whose_polling_could_not_start_tries_again(tmp_path, api):
    """The Bot API refuses the start of polling once: the leader does not poll, logs it, and the periodic check
    (the scheduler's follow-telegram-lease job, called here directly) starts polling."""
    api.fail_next("deleteWebhook", 502, "Bad Gateway")
    svc = service(tmp_path, "solo", api)
    task = asyncio.create_task(svc.run())
    try:
        await until(lambda: svc._bot_started and len(api.calls("deleteWebhook")) > 0)
        await asyncio.sleep(0.5)
        assert not polling(svc) and api.calls("getUpdates") == []
        assert svc.leadership is not None and svc.leadership.leads(TELEGRAM_UPDATES)
        assert svc.scheduler is not None and svc.scheduler.get_job("follow-telegram-lease") is not None
        await svc._follow_lease()
        await until(lambda: polling(svc) and len(api.calls("getUpdates")) > 0)
    finally:
        await stop((svc, task))


async def test_two_replicas_on_postgresql_have_one_getupdates_consumer_and_hand_it_over(tmp_path, pg_url):
    with FakeBotAPI() as api_a, FakeBotAPI() as api_b:  # one fake per replica, to see who polls
        a = service(tmp_path, "a", api_a, pg_url)
        task_a = asyncio.create_task(a.run())
        b = task_b = None
        try:
            await until(lambda: polling(a) and len(api_a.calls("getUpdates")) > 0)
            b = service(tmp_path, "b", api_b, pg_url)
            task_b = asyncio.create_task(b.run())
            await until(lambda: b.leadership is not None and getattr(b.leadership, "backend_pid", None) is not None)
            await until(lambda: b._bot_started)
            await asyncio.sleep(1.0)
            assert api_b.calls("getUpdates") == [] and not polling(b)
            ready_a, metrics_a = await leader_answers(a)
            ready_b, metrics_b = await leader_answers(b)
            assert ready_a["leader"][TELEGRAM_UPDATES] is True and ready_b["leader"][TELEGRAM_UPDATES] is False
            assert f'watcher_leader{{lease="{TELEGRAM_UPDATES}"}} 0.0' in metrics_b

            with psycopg.connect(pg_url, autocommit=True) as conn:  # the leader's lease session dies
                conn.execute("SELECT pg_terminate_backend(%s)", (a.leadership.backend_pid,))
            await until(lambda: not polling(a))
            await until(lambda: polling(b) and len(api_b.calls("getUpdates")) > 0)
            await asyncio.sleep(1.0)
            first_of_b = api_b.calls("getUpdates")[0].time
            assert max(c.time for c in api_a.calls("getUpdates")) < first_of_b  # never two consumers at once
            ready_a, _ = await leader_answers(a)
            assert ready_a["leader"][TELEGRAM_UPDATES] is False
        finally:
            await stop(*[(s, t) for s, t in ((a, task_a), (b, task_b)) if t is not None])


@pytest.fixture(autouse=True)
def _quiet_sources(monkeypatch):
    """The source on 127.0.0.1:9 is never reached in these tests; nothing is to be learnt from its failures."""
    monkeypatch.setenv("WATCHER_ALLOW_PRIVATE_NETWORKS", "1")


def test_watcher_once_beside_replicas_takes_its_turn_at_a_site(tmp_path, pg_url, feed_server):
    """Two ``watcher once`` runs on one PostgreSQL database, one after the other at once: the second one's request to
    the site is reserved at least the per-host interval after the first one's (read from the shared pace row)."""
    from tests.conftest import make_config, run_cli
    from tests.fakes.feeds import rss

    feed_server.set("/feed.xml", rss([{"title": "Council adopts conclusions", "link": "https://e.org/1", "guid": "1"}]))
    text = '[http]\nper_host_interval = "2s"\n\n' + source_toml("feed", feed_server.url("/feed.xml"))
    config = make_config(tmp_path / "cfg", text)
    reserved = []
    for _ in range(2):
        done = run_cli(["--config", str(config), "once"], tmp_path, WATCHER_DATABASE_URL=pg_url)
        assert done.returncode == 0, done.stderr
        with psycopg.connect(pg_url, autocommit=True) as conn:
            rows = conn.execute("SELECT key, extract(epoch FROM next_at) FROM watcher_pace").fetchall()
        [(key, next_at)] = rows
        assert key == "host:" + feed_server.url("/").rstrip("/")
        reserved.append(float(next_at))
    assert reserved[1] - reserved[0] >= 2.0 - 1e-6
