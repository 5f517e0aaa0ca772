"""A small HTTP endpoint for supervisors and monitoring: ``/healthz``, ``/readyz`` and ``/metrics``.

It is served by the service's own event loop with asyncio streams: three GET routes do not need a web framework.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from datetime import datetime, timedelta, timezone
from typing import Awaitable, Callable, TypeVar

log = logging.getLogger(__name__)

READY_MIN_WINDOW = timedelta(minutes=10)
MAX_REQUEST_BYTES = 8192
STORE_WAIT = 3.0  # /readyz and /metrics answer 503 when the store takes longer than this to answer
T = TypeVar("T")
Answer = Callable[[], "T | Awaitable[T]"]


def readiness(store, sources, now: datetime | None = None) -> tuple[bool, dict]:
    """Ready when the store answers and at least one enabled source succeeded within max(3 × every, 10 min)."""
    now = now or datetime.now(timezone.utc)
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
    return bool(fresh), {"store": "ok", "sources_recently_ok": fresh}


class WebServer:
    """``ready`` and ``metrics`` may return their answer or an awaitable of it (a call on the database thread);
    ``/healthz`` never waits for either."""

    def __init__(self, host: str, port: int, *, ready: Answer[tuple[bool, dict]], metrics: Answer[bytes]):
        self.host, self.port = host, port
        self.ready = ready
        self.metrics = metrics
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("health and metrics on http://%s:%d (/healthz, /readyz, /metrics)", self.host, self.port)

    async def stop(self) -> None:
        if self._server:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        method = ""
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
            if len(head) > MAX_REQUEST_BYTES:
                raise ValueError("request head too large")
            method, path = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")[:2]
            status, ctype, body = await self._route(method, path.split("?")[0])
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            log.debug("web: bad request: %s", exc)
            status, ctype, body = 400, "text/plain", b"bad request\n"
        writer.write(f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\nContent-Type: {ctype}\r\n"
                     f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                     + (b"" if method == "HEAD" else body))  # HEAD: the same status and headers, no body
        try:
            await writer.drain()
        finally:
            writer.close()

    async def _route(self, method: str, path: str) -> tuple[int, str, bytes]:
        if method not in ("GET", "HEAD"):  # HEAD: probes and load balancers that only look at the status
            return 405, "text/plain", b"method not allowed\n"
        if path == "/healthz":
            return 200, "text/plain", b"ok\n"
        if path == "/readyz":
            try:
                ok, detail = await _answer(self.ready)
            except TimeoutError:
                ok, detail = False, {"store": f"busy: no answer within {STORE_WAIT:g}s"}
            return (200 if ok else 503), "application/json", json.dumps({"ready": ok, **detail}).encode() + b"\n"
        if path == "/metrics":
            try:
                return 200, "text/plain; version=0.0.4; charset=utf-8", await _answer(self.metrics)
            except TimeoutError:
                return 503, "text/plain", f"store busy: no answer within {STORE_WAIT:g}s\n".encode()
        return 404, "text/plain", b"not found\n"


async def _answer(produce: Answer[T]) -> T:
    """What ``produce`` gives, waiting at most STORE_WAIT seconds when it is awaitable."""
    found = produce()
    if inspect.isawaitable(found):
        return await asyncio.wait_for(found, STORE_WAIT)
    return found
