"""What every answer of the web interface goes through: read-only methods, the access token, and strict headers.

- Only GET and HEAD are served, on every path: nothing on the web changes state.
- The health endpoints (``/healthz``, ``/readyz``, ``/metrics``) are always open, so supervisors and Prometheus
  need no secret.
- Every other page needs ``WATCHER_WEB_TOKEN`` when one is set, and a token is required when the service listens
  on a non-loopback address: without one the archive answers 403 saying so. The token may come as
  ``Authorization: Bearer …``, as the password of basic auth (so a browser can prompt for it), as a ``token``
  cookie (set by visiting any page once with ``?token=…``, which then redirects to the address without it), or
  as ``?token=…`` on a feed's address (feed readers keep no cookies).
- Without a token on loopback, only a loopback ``Host`` is answered, so a web page that rebinds its own name to
  127.0.0.1 cannot read the archive through a visitor's browser.
- Every answer carries a Content-Security-Policy that allows only this site's own style sheet and script file
  (no inline script or style), and refuses framing, sniffing and referrers.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, quote, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
SAFE_METHODS = frozenset({"GET", "HEAD"})
COOKIE = "token"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


def is_loopback(host: str) -> bool:
    """Whether a listening address is reachable only from this machine."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class Guard:
    """ASGI middleware in front of the whole site (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, token: str | None, exposed: bool):
        self.app = app
        self.token = token or None
        self.exposed = exposed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_headers(send)
        if scope["method"] not in SAFE_METHODS:
            await _plain(send, 405, "Only GET and HEAD are served here.\n", [(b"allow", b"GET, HEAD")])
            return
        if scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send)
        else:
            await refusal(send)

    def _refusal(self, scope: Scope) -> Callable[[Send], Awaitable[None]] | None:
        """None when the request may see the page, else what to answer instead."""
        if self.token is None:
            if self.exposed:
                return lambda send: _plain(
                    send, 403, "The archive is not served on a public address without a token: set WATCHER_WEB_TOKEN.\n"
                )
            if _host_name(scope) not in LOOPBACK_NAMES:
                return lambda send: _plain(send, 403, "This address is only served as localhost or 127.0.0.1.\n")
            return None
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        given = query.get(COOKIE)
        if given is not None and self._good(given) and not scope["path"].startswith("/feeds/"):
            return lambda send: _set_cookie_and_return(send, scope, given)
        if any(self._good(t) for t in _offered(scope, given)):
            return None
        return lambda send: _plain(
            send,
            401,
            "A token is needed: visit /?token=… once, or send 'Authorization: Bearer …'.\n",
            [(b"www-authenticate", b'Basic realm="archive"')],
        )

    def _good(self, offered: str) -> bool:
        assert self.token is not None
        return hmac.compare_digest(offered.encode("utf-8", "replace"), self.token.encode("utf-8"))


def _offered(scope: Scope, from_query: str | None) -> list[str]:
    """Every token the request offers: query, bearer header, basic auth password, cookie."""
    out = [from_query] if from_query is not None else []
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            kind, _, credential = value.decode("latin-1").partition(" ")
            if kind.lower() == "bearer":
                out.append(credential.strip())
            elif kind.lower() == "basic":
                try:
                    out.append(base64.b64decode(credential.strip(), validate=True).decode().partition(":")[2])
                except (binascii.Error, UnicodeDecodeError):
                    pass  # a malformed header offers nothing; the request is refused below
        elif name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header offers nothing  # noqa: BLE001
                continue
            if COOKIE in jar:
                out.append(jar[COOKIE].value)
    return out


def _host_name(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"host":
            host = value.decode("latin-1").strip().lower()
            if host.startswith("["):
                return host.split("]")[0] + "]"
            return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return ""


def _with_headers(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            present = {name.lower() for name, _ in message.get("headers", [])}
            message["headers"] = list(message.get("headers", [])) + [h for h in HEADERS if h[0] not in present]
        await send(message)

    return wrapped


async def _plain(send: Send, status: int, text: str, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = text.encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _set_cookie_and_return(send: Send, scope: Scope, token: str) -> None:
    """Keep the token in a cookie and send the browser to the same address without it."""
    rest = [(k, v) for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1")) if k != COOKIE]
    target = quote(scope["path"]) + (f"?{urlencode(rest)}" if rest else "")
    secure = "; Secure" if scope.get("scheme") == "https" else ""
    cookie = SimpleCookie()
    cookie[COOKIE] = token
    value = cookie[COOKIE].OutputString() + f"; Path=/; HttpOnly; SameSite=Strict; Max-Age=31536000{secure}"
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [
                (b"location", target.encode("latin-1", "replace")),
                (b"set-cookie", value.encode()),
                (b"content-length", b"0"),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})
