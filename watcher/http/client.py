"""The one HTTP client every source fetches through.

What it does for every GET:

- a descriptive User-Agent with a contact URL, connect and read time-outs, and a bound on the whole answer's time;
- redirects followed by hand, at most ``max_redirects``; a URL seen twice is a ``redirect_loop`` failure;
- before every connection, the destination checked by ``watcher.http.guard``: a private, loopback or link-local
  address is a ``disallowed`` failure unless the configured URL itself names it or private networks are allowed;
  the connection itself goes to an address checked when it is opened (``watcher.http.connect``), so a name that
  answers differently the second time (DNS rebinding) is refused too;
- a size cap on the body as it comes over the wire and again as it is decompressed (see ``watcher.http.bodies``);
- per-host pacing (``watcher.http.polite.HostPacer``) and, when asked, robots.txt (a disallowed URL is a
  ``disallowed`` failure, so the operator hears of it instead of the source going quiet);
- retries of transient failures (network, time-out, 429, 5xx) with backoff and jitter, honouring Retry-After,
  inside a time budget; a 4xx other than 429 is never retried;
- with ``conditional=True``, If-None-Match / If-Modified-Since from the stored validators; a 304 raises
  ``NotModified``. New validators are held per source until the pipeline says the poll was recorded
  (``commit_validators``), so a poll that fails after the fetch never hides its items behind a later 304.

Every httpx error and every unusable answer becomes a classified ``FetchError``.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import httpx

from watcher.clock import SYSTEM_CLOCK, Clock
from watcher.errors import FetchError, NotModified
from watcher.http.bodies import ACCEPT_ENCODING, BodyTooLarge, UnsupportedEncoding, read_capped
from watcher.http.challenge import detect_challenge
from watcher.http.connect import guarded_transport, refusal
from watcher.http.guard import Guard, Resolve
from watcher.http.options import DEFAULT_USER_AGENT
from watcher.http.polite import (
    ROBOTS_MAX_BYTES,
    HostPacer,
    Reserve,
    RetryPolicy,
    RobotsCache,
    host_of,
    parse_retry_after,
)

log = logging.getLogger(__name__)

ROBOTS_AGENT = "watcher"
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
REDIRECTS = (301, 302, 303, 307, 308)


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    headers: dict[str, str]
    content: bytes = field(repr=False)


class Validators(Protocol):
    """Where ETag and Last-Modified are kept per URL (the store implements it)."""

    def get_validators(self, url: str) -> tuple[str | None, str | None]: ...
    def put_validators(self, url: str, etag: str | None, last_modified: str | None) -> None: ...


class Http:
    """Shared async client. Pass ``transport`` to point it at a test double (it then connects as it likes: only the
    check before each request applies) and ``clock`` to control time."""

    def __init__(
        self,
        *,
        user_agent: str = DEFAULT_USER_AGENT,
        timeout: float = 20.0,
        connect_timeout: float = 10.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_redirects: int = 5,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        per_host_concurrency: int = 2,
        per_host_interval: float = 1.0,
        respect_robots: bool = False,
        validators: Validators | None = None,
        clock: Clock = SYSTEM_CLOCK,
        rng: random.Random | None = None,
        max_time: float | None = None,
        allow_private: bool = False,
        resolve: Resolve | None = None,
        host_reserve: Reserve | None = None,
    ):
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.retry = retry or RetryPolicy()
        self.clock = clock
        self.rng = rng or random.Random()
        self.max_time = max_time if max_time is not None else max(60.0, 3 * timeout)
        self.validators = validators
        self.guard = Guard(allow_private, resolve, timeout=min(timeout, connect_timeout))
        self.pacer = HostPacer(per_host_concurrency, per_host_interval, clock, host_reserve)
        self.robots = RobotsCache(self._fetch_robots, ROBOTS_AGENT, clock) if respect_robots else None
        self._pending: dict[str, list[tuple[str, str | None, str | None]]] = {}
        self._client = httpx.AsyncClient(
            headers={"User-Agent": user_agent, "Accept-Encoding": ACCEPT_ENCODING},
            timeout=httpx.Timeout(timeout, connect=min(timeout, connect_timeout)),
            follow_redirects=False,
            transport=transport or guarded_transport(self.guard),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def get(
        self,
        url: str,
        *,
        source: str = "",
        max_bytes: int | None = None,
        headers: dict[str, str] | None = None,
        conditional: bool = False,
    ) -> Response:
        """GET ``url`` and return the whole body, or raise a classified FetchError (or NotModified)."""
        cap = max_bytes or self.max_bytes
        sent = dict(headers or {})
        if conditional:
            sent.update(self._conditional_headers(url))
        started = self.clock.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                resp = await self._follow(url, cap, source, sent)
                break
            except FetchError as exc:
                left = self.retry.budget - (self.clock.monotonic() - started)
                wait = self.retry.delay(exc.failure, attempt, exc.retry_after, left, self.rng)
                if wait is None:
                    raise
                log.info(
                    "source %s: %s: %s; try %d of %d in %.1fs",
                    source or "-",
                    exc.failure,
                    exc.detail,
                    attempt + 1,
                    self.retry.attempts,
                    wait,
                )
                await self.clock.sleep(wait)
        if resp.status == 304:
            if not conditional:
                raise FetchError(
                    "client_error", "HTTP 304 to a request that was not conditional", source=source, url=url
                )
            raise NotModified(url, source)
        if conditional:
            self._pending.setdefault(source, []).append(
                (url, resp.headers.get("etag"), resp.headers.get("last-modified"))
            )
        return resp

    # --- conditional GET -------------------------------------------------------------------------------------

    def _conditional_headers(self, url: str) -> dict[str, str]:
        if self.validators is None:
            return {}
        etag, modified = self.validators.get_validators(url)
        out = {}
        if etag:
            out["If-None-Match"] = etag
        if modified:
            out["If-Modified-Since"] = modified
        return out

    def commit_validators(self, source: str) -> None:
        """Store the validators of the source's last poll: call only once its items are recorded."""
        for url, etag, modified in self._pending.pop(source, []):
            if self.validators is not None:
                self.validators.put_validators(url, etag, modified)

    def discard_validators(self, source: str) -> None:
        self._pending.pop(source, None)

    # --- one attempt -------------------------------------------------------------------------------------------

    async def _follow(self, url: str, cap: int, source: str, headers: dict[str, str]) -> Response:
        chain = [url]
        current = url
        for _ in range(self.max_redirects + 1):
            await self.guard.check(current, url, source)
            await self._check_robots(current, source)
            resp = await self._one(current, cap, source, headers)
            location = resp.headers.get("location")
            if resp.status not in REDIRECTS or not location:
                return self._check(resp, source)
            target = urljoin(current, location.strip())
            if urlsplit(target).scheme not in ("http", "https"):
                raise FetchError("client_error", f"redirect to a non-HTTP URL {target!r}", source=source, url=url)
            if target in chain:
                raise FetchError(
                    "redirect_loop", "redirect loop: " + " -> ".join(chain + [target]), source=source, url=url
                )
            chain.append(target)
            current = target
        raise FetchError(
            "redirect_loop", f"more than {self.max_redirects} redirects: " + " -> ".join(chain), source=source, url=url
        )

    async def _one(self, url: str, cap: int, source: str, headers: dict[str, str]) -> Response:
        """One request, one answer, no redirects followed; waits its turn for the host first."""
        async with self.pacer.slot(url):
            try:
                return await asyncio.wait_for(self._request(url, cap, source, headers), self.max_time)
            except TimeoutError as exc:
                raise FetchError(
                    "timeout", f"no complete answer within {self.max_time:.0f}s", source=source, url=url
                ) from exc

    async def _request(self, url: str, cap: int, source: str, headers: dict[str, str]) -> Response:
        try:
            async with self._client.stream("GET", url, headers=headers) as resp:
                got = dict(resp.headers)
                if resp.status_code in REDIRECTS or resp.status_code == 304:
                    return Response(url, resp.status_code, got, b"")
                declared = got.get("content-length", "")
                if declared.isdigit() and int(declared) > cap:
                    raise FetchError("too_large", f"declared {declared} bytes, cap is {cap}", source=source, url=url)
                body = await read_capped(resp.aiter_raw(), got.get("content-encoding", ""), cap)
        except FetchError:
            raise
        except BodyTooLarge as exc:
            raise FetchError("too_large", str(exc), source=source, url=url) from exc
        except UnsupportedEncoding as exc:
            raise FetchError("unparseable", str(exc), source=source, url=url) from exc
        except httpx.TimeoutException as exc:
            raise FetchError("timeout", f"no answer in time ({type(exc).__name__})", source=source, url=url) from exc
        except httpx.HTTPError as exc:
            refused = refusal(exc)
            if refused:
                raise FetchError("disallowed", refused, source=source, url=url) from exc
            raise FetchError("network", f"{type(exc).__name__}: {exc}", source=source, url=url) from exc
        return Response(url, resp.status_code, got, body)

    def _check(self, resp: Response, source: str) -> Response:
        reason = detect_challenge(resp.status, resp.headers, resp.content)
        if reason:
            raise FetchError("blocked", reason, source=source, url=resp.url)
        wait = None
        if resp.status in (429, 503):
            wait = parse_retry_after(resp.headers.get("retry-after"), self.clock.now())
        after = f", Retry-After {wait:.0f}s" if wait is not None else ""
        if resp.status == 429:
            raise FetchError("rate_limited", f"HTTP 429{after}", source=source, url=resp.url, retry_after=wait)
        if resp.status >= 500:
            raise FetchError(
                "server_error", f"HTTP {resp.status}{after}", source=source, url=resp.url, retry_after=wait
            )
        if resp.status == 403:
            raise FetchError(
                "client_error",
                "HTTP 403 Forbidden: access refused, with no sign of bot protection",
                source=source,
                url=resp.url,
                status=403,
            )
        if resp.status >= 400 or resp.status < 200 or resp.status in REDIRECTS:
            raise FetchError("client_error", f"HTTP {resp.status}", source=source, url=resp.url, status=resp.status)
        return resp

    # --- robots.txt ----------------------------------------------------------------------------------------------

    async def _check_robots(self, url: str, source: str) -> None:
        if self.robots is None:
            return
        try:
            allowed = await self.robots.allowed(url)
        except FetchError as exc:
            raise FetchError(
                exc.failure, f"robots.txt: {exc.detail}", source=source, url=url, retry_after=exc.retry_after
            ) from exc
        if not allowed:
            raise FetchError(
                "disallowed",
                f"robots.txt of {host_of(url)} disallows this URL for "
                f"{ROBOTS_AGENT!r}; turn respect_robots off or remove the source",
                source=source,
                url=url,
            )

    async def _fetch_robots(self, url: str) -> tuple[int, bytes]:
        """One robots.txt, following a few redirects; a 5xx or a network failure raises FetchError."""
        first = url
        for _ in range(self.max_redirects + 1):
            await self.guard.check(url, first)
            resp = await self._one(url, ROBOTS_MAX_BYTES, "", {})
            location = resp.headers.get("location")
            if resp.status in REDIRECTS and location:
                url = urljoin(url, location.strip())
                continue
            if resp.status == 429:
                raise FetchError("rate_limited", "HTTP 429", url=url)
            if resp.status >= 500:
                raise FetchError("server_error", f"HTTP {resp.status}", url=url)
            return resp.status, resp.content
        return 404, b""
