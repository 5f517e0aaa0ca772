"""The service's HTTP port: ``/healthz``, ``/readyz`` and ``/metrics`` for supervisors and monitoring, and the
archive's pages and feeds (``watcher.web.archive``).

One Starlette app behind ``watcher.web.guard``, served by uvicorn as a task of the service's own event loop (see
``watcher.web.site``). ``/healthz`` answers at once and touches nothing; ``/readyz`` and ``/metrics`` wait at most
STORE_WAIT seconds for the store; the health endpoints never ask for the archive's token.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from watcher.web.archive import ArchiveSite
from watcher.web.archive import routes as archive_routes
from watcher.web.guard import is_loopback
from watcher.web.site import Served, build_app

log = logging.getLogger(__name__)

READY_MIN_WINDOW = timedelta(minutes=10)
STORE_WAIT = 3.0  # /readyz and /metrics answer 503 when the store takes longer than this to answer
T = TypeVar("T")
Answer = Callable[[], "T | Awaitable[T]"]
METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def readiness(store, sources, now: datetime | None = None) -> tuple[bool, dict]:
    """Ready when the store answers and at least one enabled source succeeded within max(3 × every, 10 min); the
    answer also says how many outbox leases this process holds."""
    now = now or datetime.now(UTC)
    try:
        states = store.source_states()
    except Exception as exc:  # the store is closed or broken: not ready, and say why
        log.warning("readyz: store not usable: %s", exc)
        return False, {"store": f"error: {exc}"}
    fresh = []
    for src in sources:
        last = (states.get(src.name) or {}).get("last_success_at")
        window = max(READY_MIN_WINDOW, timedelta(seconds=3 * src.every))
        if last and now - datetime.fromisoformat(last) <= window:
            fresh.append(src.name)
    return bool(fresh), {"store": "ok", "sources_recently_ok": fresh, "outbox_leases_held": store.leases_held()}


class WebServer:
    """``ready`` and ``metrics`` may return their answer or an awaitable of it (a call on the database thread);
    ``/healthz`` never waits for either. With ``archive`` the same port serves the archive, behind ``token`` when
    one is set (and refused without one on a non-loopback ``host``)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        ready: Answer[tuple[bool, dict]],
        metrics: Answer[bytes],
        archive: ArchiveSite | None = None,
        token: str | None = None,
    ):
        self.host, self.port = host, port
        self.ready = ready
        self.metrics = metrics
        self.archive = archive
        self.exposed = not is_loopback(host)
        routes: list[BaseRoute] = [
            Route("/healthz", self._healthz, methods=["GET"]),
            Route("/readyz", self._readyz, methods=["GET"]),
            Route("/metrics", self._metrics, methods=["GET"]),
        ]
        if archive is not None:
            routes += archive_routes()
        app = build_app(routes, token=token, exposed=self.exposed, state={"archive": archive})
        self._served = Served(app, host, port)
        self.token = token

    async def start(self) -> None:
        await self._served.start()
        self.port = self._served.port
        log.info(
            "health and metrics on http://%s:%d (/healthz, /readyz, /metrics)%s",
            self.host,
            self.port,
            "; the archive at /" if self.archive is not None else "",
        )
        if self.archive is not None and self.exposed and not self.token:
            log.warning(
                "the archive is refused on %s until WATCHER_WEB_TOKEN is set (a non-loopback address); "
                "the health endpoints answer as usual",
                self.host,
            )

    async def stop(self) -> None:
        await self._served.stop()
        if self.archive is not None:
            await asyncio.to_thread(self.archive.reader.close)

    async def _healthz(self, request: Request) -> Response:
        return Response("ok\n", media_type="text/plain")

    async def _readyz(self, request: Request) -> Response:
        try:
            ok, detail = await _answer(self.ready)
        except TimeoutError:
            ok, detail = False, {"store": f"busy: no answer within {STORE_WAIT:g}s"}
        body = json.dumps({"ready": ok, **detail}) + "\n"
        return Response(body, status_code=200 if ok else 503, media_type="application/json")

    async def _metrics(self, request: Request) -> Response:
        try:
            return Response(await _answer(self.metrics), media_type=METRICS_TYPE)
        except TimeoutError:
            return Response(f"store busy: no answer within {STORE_WAIT:g}s\n", 503, media_type="text/plain")


async def _answer(produce: Answer[T]) -> T:
    """What ``produce`` gives, waiting at most STORE_WAIT seconds when it is awaitable."""
    found = produce()
    if inspect.isawaitable(found):
        return await asyncio.wait_for(found, STORE_WAIT)
    return found
