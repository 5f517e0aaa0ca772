"""Connections checked when they are opened: the address a connection goes to is one the guard has just checked.

``watcher.http.guard`` checks a URL before its request; without more, httpx would then resolve the name again on
its own, and a DNS server could answer a public address to the check and a private one to the connection (DNS
rebinding). ``guarded_transport`` gives httpx a transport whose network backend asks the guard for the addresses
(``Guard.connect_targets``: resolved by the guard's resolver and checked by the same rule) and connects to those.
TLS still verifies the certificate against the host name of the URL, which httpcore passes to the TLS handshake
itself, whatever address the socket went to.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from watcher.errors import FetchError
from watcher.http.guard import Guard


class Refused(httpcore.ConnectError):
    """The guard refused every address the connection could use."""


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that connects only to addresses the guard approved at connection time."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend, guard: Guard):
        self.inner = inner
        self.guard = guard

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            targets = await self.guard.connect_targets(host, port)
        except FetchError as exc:
            if exc.failure == "disallowed":
                raise Refused(exc.detail) from exc
            raise httpcore.ConnectError(exc.detail) from exc
        failed: httpcore.ConnectError | None = None
        for target in targets:  # in the resolver's order, as the system's own connect would try them
            try:
                return await self.inner.connect_tcp(
                    target, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except httpcore.ConnectError as exc:
                failed = exc
        raise failed or httpcore.ConnectError(f"no address to connect to for {host}")

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise Refused(f"refused to connect to the Unix socket {path}: only TCP destinations are checked")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def guarded_transport(guard: Guard) -> httpx.AsyncHTTPTransport:
    """httpx's own transport (its defaults, TLS verification included) with the guarded backend under it."""
    transport = httpx.AsyncHTTPTransport()
    pool = transport._pool  # httpx exposes no backend option; the pool it builds is public httpcore API
    if not isinstance(pool, httpcore.AsyncConnectionPool) or not hasattr(pool, "_network_backend"):
        raise RuntimeError("this httpx/httpcore version builds its pool differently; the connect-time guard needs it")
    pool._network_backend = GuardedBackend(pool._network_backend, guard)
    return transport


def refusal(exc: BaseException) -> str | None:
    """The guard's reason when an httpx error comes from a connection it refused, else None."""
    cause = exc.__cause__
    return str(cause) if isinstance(cause, Refused) else None
