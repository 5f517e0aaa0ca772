"""`watcher run` serves the archive on its HTTP port beside the health endpoints, with uvicorn on the service's own
event loop; with a token set, the archive refuses a request without it while /healthz stays open."""

from __future__ import annotations

import asyncio
import dataclasses

import httpx

from tests.fakes.feeds import rss
from tests.test_web import service_for, wait_until
from watcher.web.guard import is_loopback

ITEM = {"title": "Council agrees mandate against migrant smuggling", "link": "https://e.org/a", "guid": "a"}


async def test_archive_and_health_on_one_port(tmp_path, feed_server):
    """The search finds a polled item, its page and feed answer, and /healthz answers on the same port."""
    feed_server.set("/feed.xml", rss([ITEM]))
    service = service_for(tmp_path, feed_server.url("/feed.xml"))
    task = asyncio.create_task(service.run())
    try:
        await wait_until(lambda: _true(service.web is not None and service.web.port != 0))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{service.web.port}") as client:
            assert (await client.get("/healthz")).text == "ok\n"

            async def found() -> bool:
                return 'href="/item/feed/a"' in (await client.get("/", params={"q": "mandate"})).text

            await wait_until(found)
            assert (await client.get("/item/feed/a")).status_code == 200
            assert (await client.get("/feeds/topic/smuggling.atom")).status_code == 200
            assert (await client.get("/sources")).status_code == 200
            assert (await client.post("/")).status_code == 405
    finally:
        service.request_stop()
        await asyncio.wait_for(task, 10)


async def test_token_refuses_a_request_without_it(tmp_path, feed_server):
    """With WATCHER_WEB_TOKEN set, a page asked without the token is refused (401) and with it served; the health
    endpoints need none."""
    feed_server.set("/feed.xml", rss([ITEM]))
    service = service_for(tmp_path, feed_server.url("/feed.xml"))
    service.settings = dataclasses.replace(service.settings, web_token="open-sesame")
    task = asyncio.create_task(service.run())
    try:
        await wait_until(lambda: _true(service.web is not None and service.web.port != 0))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{service.web.port}") as client:
            assert (await client.get("/")).status_code == 401
            assert (await client.get("/feeds/topic/smuggling.atom")).status_code == 401
            assert (await client.get("/", headers={"Authorization": "Bearer open-sesame"})).status_code == 200
            assert (await client.get("/healthz")).status_code == 200
    finally:
        service.request_stop()
        await asyncio.wait_for(task, 10)


def test_public_addresses_count_as_exposed():
    """Only loopback addresses keep the archive open without a token."""
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.0.2.7") and not is_loopback("::")


async def _true(value: bool) -> bool:
    return value
