"""Politeness for the HTTP client: per-host pacing, Retry-After, retry backoff and robots.txt.

Everything that waits does so through the injected clock, so tests run it in simulated time.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from protego import Protego

from watcher.clock import Clock
from watcher.durations import doubling

log = logging.getLogger(__name__)

RETRYABLE = frozenset({"network", "timeout", "server_error", "rate_limited"})
ROBOTS_TTL = 24 * 3600.0
ROBOTS_MAX_BYTES = 512 * 1024


def host_of(url: str) -> str:
    """The pacing key of a URL: scheme, host and port."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header in either form (delta-seconds or HTTP-date); None if absent or
    unreadable. A date in the past means zero."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        log.debug("Retry-After %r is neither seconds nor an HTTP-date; ignored", text)
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """How one GET is retried: at most ``attempts`` tries, waits of ``backoff`` × 2ⁿ plus up to half of that again
    as jitter, never past
    ``budget`` seconds in total, and a Retry-After longer than ``max_retry_after`` is not waited for in-poll."""

    attempts: int = 3
    backoff: float = 1.0
    budget: float = 120.0
    max_retry_after: float = 60.0

    def delay(
        self, failure: str, attempt: int, retry_after: float | None, left: float, rng: random.Random
    ) -> float | None:
        """The wait before try ``attempt + 1``, or None when the failure must not be retried now."""
        if failure not in RETRYABLE or attempt >= self.attempts:
            return None
        if retry_after is not None:
            wait = retry_after
            if wait > self.max_retry_after:
                return None
        else:
            wait = doubling(attempt - 1, self.backoff, float("inf")) * (1.0 + 0.5 * rng.random())
        return wait if wait <= left else None


Reserve = Callable[[str, float], Awaitable[float]]


class HostPacer:
    """At most ``concurrency`` requests in flight per host, and starts at least ``interval`` seconds apart.

    With ``reserve`` the starts are spaced across every process that shares it (replicas on one database): it is
    handed the host's key and the interval, reserves the host's next start and answers how many seconds from now
    that is. While it fails the host keeps this process's own spacing, so a database that cannot answer never makes
    a poll less polite than one process alone."""

    def __init__(self, concurrency: int, interval: float, clock: Clock, reserve: Reserve | None = None):
        self.concurrency = max(1, concurrency)
        self.interval = max(0.0, interval)
        self.clock = clock
        self.reserve = reserve
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._next_start: dict[str, float] = {}

    @asynccontextmanager
    async def slot(self, url: str) -> AsyncIterator[None]:
        host = host_of(url)
        sem = self._slots.setdefault(host, asyncio.Semaphore(self.concurrency))
        async with sem:
            now = self.clock.monotonic()
            start = max(now, self._next_start.get(host, now))
            self._next_start[host] = start + self.interval
            wait = start - now
            if self.reserve is not None and self.interval > 0:
                try:
                    wait = max(wait, await self.reserve(f"host:{host}", self.interval))
                except Exception as exc:  # the shared pace cannot answer: this process's own spacing still holds
                    log.warning(
                        "per-host pace of %s not shared this time (%s); spaced by this process alone", host, exc
                    )
            if wait > 0:
                await self.clock.sleep(wait)
            yield


Fetch = Callable[[str], Awaitable[tuple[int, bytes]]]


class RobotsCache:
    """robots.txt per host, fetched once a day. ``allowed`` answers for one URL.

    Rules are read by protego, which knows the wildcards of RFC 9309 and of the big crawlers (``*`` anywhere in a
    path, ``$`` at its end) and the longest-match precedence between Allow and Disallow; the standard library's
    parser takes ``Disallow: /*?page=`` literally and so allows every ``?page=`` URL.

    A missing robots.txt (any 4xx) allows everything. A robots.txt that cannot be fetched (5xx, time-out, network)
    is not cached; the caller sees that failure, because the site is failing anyway.
    """

    def __init__(self, fetch: Fetch, agent: str, clock: Clock, ttl: float = ROBOTS_TTL):
        self.fetch, self.agent, self.clock, self.ttl = fetch, agent, clock, ttl
        self._cache: dict[str, tuple[float, Protego | None]] = {}

    async def allowed(self, url: str) -> bool:
        host = host_of(url)
        cached = self._cache.get(host)
        if cached is None or self.clock.monotonic() - cached[0] > self.ttl:
            cached = (self.clock.monotonic(), await self._load(host))
            self._cache[host] = cached
        parser = cached[1]
        return parser is None or bool(parser.can_fetch(url, self.agent))

    async def _load(self, host: str) -> Protego | None:
        status, body = await self.fetch(f"{host}/robots.txt")
        if 400 <= status < 500:
            log.debug("robots.txt of %s: HTTP %d, everything allowed", host, status)
            return None
        return Protego.parse(body.decode("utf-8", errors="replace"))
