"""The service's web site as one Starlette app behind the guard, and uvicorn serving it on the service's own loop.

``build_app`` puts the given routes (the health endpoints, the archive's pages) behind ``watcher.web.guard``.
``Served`` runs ``uvicorn.Server.serve()`` as a task of the running event loop: no second loop and no thread.
Uvicorn is told to leave logging alone (the service configured it) and to log no access lines, which could carry
a token given in a query; it is handed a socket bound here, so an address in use is an ``OSError`` to the caller
(uvicorn itself would exit the process), and it leaves the signals to the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator, Sequence
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute

from watcher.web.guard import Guard

log = logging.getLogger(__name__)

START_WAIT = 10.0


async def _not_found(request: Request, exc: Exception) -> Response:
    return PlainTextResponse("not found\n", status_code=404)


def build_app(
    routes: Sequence[BaseRoute], *, token: str | None = None, exposed: bool = False, state: dict[str, Any] | None = None
) -> Guard:
    """The site: ``routes`` behind the guard, with ``state`` kept in ``app.state``."""
    app = Starlette(routes=list(routes), exception_handlers={404: _not_found})
    for key, value in (state or {}).items():
        setattr(app.state, key, value)
    return Guard(app, token=token, exposed=exposed)


class _Server(uvicorn.Server):
    """Uvicorn without its own SIGINT/SIGTERM handlers: the service handles them and stops the server."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (IPv6 when the host is an IPv6 address)."""
    name = host.strip("[]")
    sock = socket.socket(socket.AF_INET6 if ":" in name else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((name, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


class Served:
    """Uvicorn serving ``app`` on ``host:port`` as a task of the running loop; ``port`` 0 picks a free port."""

    def __init__(self, app: Any, host: str, port: int):
        self.host, self.port = host, port
        self.config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            lifespan="off",
            http="h11",
            ws="none",
            proxy_headers=False,
            server_header=False,
            timeout_graceful_shutdown=3,
            limit_concurrency=100,
            timeout_keep_alive=5,
        )
        self.server = _Server(self.config)
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        """Listen, or raise OSError when the address cannot be had."""
        sock = bind(self.host, self.port)
        self.port = sock.getsockname()[1]
        self._task = asyncio.create_task(self.server.serve(sockets=[sock]), name="web")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_WAIT
        while not self.server.started:
            if self._task.done():
                error = self._task.exception() if not self._task.cancelled() else None
                raise OSError(f"the web server did not start: {error or 'it stopped'}")
            if loop.time() > deadline:
                raise OSError(f"the web server did not start within {START_WAIT:g}s")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._task is None:
            return
        self.server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(self._task), 5)
        except Exception as exc:  # noqa: BLE001 - stopping: log and go on
            log.warning("web server did not stop cleanly: %s", exc)
            self._task.cancel()
