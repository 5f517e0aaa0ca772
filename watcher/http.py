"""The one HTTP client every source fetches through.

It sets a descriptive User-Agent, connect and read timeouts, a bound on redirects and a cap on the size of every
body, and it turns every httpx error and every unusable answer into a classified ``FetchError``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import httpx

from watcher import __version__
from watcher.errors import FetchError

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = f"watcher/{__version__} (+https://github.com/watcher-eu/watcher; EU policy monitoring bot)"
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
CHALLENGE_MARKERS = (
    b"Just a moment...",
    b"Checking your browser",
    b"Enable JavaScript and cookies to continue",
    b"cf-browser-verification",
    b"Attention Required! | Cloudflare",
    b"challenge-platform",
)


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    headers: dict[str, str]
    content: bytes = field(repr=False)


def challenge_reason(status: int, headers: httpx.Headers | dict, body: bytes) -> str | None:
    """Say why an answer is a bot-protection challenge, or None when it is not one."""
    mitigated = (headers.get("cf-mitigated") or "").lower()
    if mitigated:
        return f"HTTP {status} with cf-mitigated: {mitigated}"
    head = body[:65536]
    for marker in CHALLENGE_MARKERS:
        if marker in head:
            return f"HTTP {status} challenge page ({marker.decode()!r})"
    return None


class Http:
    """Shared async client. Pass ``transport`` to point it at a test double."""

    def __init__(self, *, user_agent: str = DEFAULT_USER_AGENT, timeout: float = 20.0,
                 max_bytes: int = DEFAULT_MAX_BYTES, max_redirects: int = 5,
                 transport: httpx.AsyncBaseTransport | None = None):
        self.max_bytes = max_bytes
        self._client = httpx.AsyncClient(
            headers={"User-Agent": user_agent},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=True,
            max_redirects=max_redirects,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def get(self, url: str, *, source: str = "", max_bytes: int | None = None,
                  headers: dict[str, str] | None = None) -> Response:
        """GET ``url`` and return the whole body, or raise a classified FetchError."""
        cap = max_bytes or self.max_bytes
        try:
            async with self._client.stream("GET", url, headers=headers) as resp:
                body = await self._read_capped(resp, cap, source, url)
        except FetchError:
            raise
        except httpx.TimeoutException as exc:
            raise FetchError("timeout", f"no answer in time ({type(exc).__name__})", source=source, url=url) from exc
        except httpx.TooManyRedirects as exc:
            raise FetchError("network", "too many redirects", source=source, url=url) from exc
        except httpx.HTTPError as exc:
            raise FetchError("network", f"{type(exc).__name__}: {exc}", source=source, url=url) from exc
        return self._check(Response(str(resp.url), resp.status_code, dict(resp.headers), body), source)

    async def _read_capped(self, resp: httpx.Response, cap: int, source: str, url: str) -> bytes:
        declared = resp.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise FetchError("too_large", f"declared {declared} bytes, cap is {cap}", source=source, url=url)
        chunks, size = [], 0
        async for chunk in resp.aiter_bytes():  # decompressed bytes: the cap also stops compression bombs
            size += len(chunk)
            if size > cap:
                raise FetchError("too_large", f"body passed the cap of {cap} bytes", source=source, url=url)
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _check(resp: Response, source: str) -> Response:
        html = "html" in resp.headers.get("content-type", "").lower()
        suspect = resp.status in (403, 429, 503) or (resp.status == 200 and html)
        reason = challenge_reason(resp.status, resp.headers, resp.content) if suspect else None
        if reason:
            raise FetchError("blocked", reason, source=source, url=resp.url)
        if resp.status == 429:
            raise FetchError("rate_limited", "HTTP 429", source=source, url=resp.url)
        if resp.status >= 500:
            raise FetchError("server_error", f"HTTP {resp.status}", source=source, url=resp.url)
        if resp.status >= 400:
            raise FetchError("client_error", f"HTTP {resp.status}", source=source, url=resp.url)
        return resp
