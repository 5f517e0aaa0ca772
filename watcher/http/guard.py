"""Where the client may connect: by default never to a private, loopback, link-local or otherwise non-public
address, checked before every connection (the configured URL, each redirect target, robots.txt).

A host name is resolved first and refused when any of its answers is such an address. The one exception is a
deliberately internal source: when the configured URL itself names such an address (a literal IP, or
``localhost``), that address stays allowed for it; its redirects elsewhere into private space are still refused.
``[http] allow_private = true`` or ``WATCHER_ALLOW_PRIVATE_NETWORKS=1`` lifts the rule for deliberate internal use.
Webhook notifiers are held to the same rule when they post (a webhook URL naming an internal address is allowed as
such, a name that resolves to one is not).

A name is checked before the request and again when the connection is opened (``watcher.http.connect``): the
connection resolves the name through the same resolver, applies the same rule to the answers and connects to the
address it checked, so a DNS server that changes its answer in between (DNS rebinding) gains nothing.
"""

from __future__ import annotations

import asyncio
import contextvars
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Mapping
from urllib.parse import urlsplit

from watcher.errors import FetchError
from watcher.flags import env_flag

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolve = Callable[[str, int], Awaitable[list[str]]]

ENV_ALLOW = "WATCHER_ALLOW_PRIVATE_NETWORKS"
SETTING = f"[http] allow_private = true or {ENV_ALLOW}=1"
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LOOPBACK = ipaddress.ip_address("127.0.0.1")
# The configured URL's own non-public address (or None) of the check made last in this task: the connection that
# follows the check is allowed what the check allowed, and no more.
_ORIGIN_OWN: contextvars.ContextVar[Address | None] = contextvars.ContextVar("origin_own", default=None)


def private_allowed(option: bool, env: Mapping[str, str]) -> bool:
    """Whether private destinations are allowed: the ``[http]`` option or the environment variable."""
    return option or bool(env_flag(env.get(ENV_ALLOW)))


def address_kind(addr: Address) -> str | None:
    """What makes an address non-public ("loopback", "private", ...), or None for a public address."""
    if isinstance(addr, ipaddress.IPv6Address):
        embedded = addr.ipv4_mapped or addr.sixtofour
        if embedded is None and addr in _NAT64:
            embedded = ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
        if embedded is not None:
            return address_kind(embedded)
        if addr.is_site_local:
            return "site-local"
    if addr.is_loopback:
        return "loopback"
    if addr.is_link_local:
        return "link-local"
    if addr.is_multicast:
        return "multicast"
    if addr.is_unspecified or (isinstance(addr, ipaddress.IPv4Address) and addr in _THIS_NETWORK):
        return "unspecified (0.0.0.0/8)"
    if isinstance(addr, ipaddress.IPv4Address) and addr in _SHARED:
        return "shared (CGNAT, 100.64/10)"
    if addr.is_private:
        return "private"
    if addr.is_reserved:
        return "reserved"
    return None


def host_address(host: str) -> Address | None:
    """The address a host stands for without asking DNS: a literal IP, loopback for ``localhost``, else None."""
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return _LOOPBACK
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def system_resolve(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for a host."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class Guard:
    """Refuses, before connecting, a URL whose host is or resolves to a non-public address not allowed for the
    configured URL it was reached from."""

    def __init__(self, allow_private: bool = False, resolve: Resolve | None = None, timeout: float = 10.0):
        self.allow_private = allow_private
        self.resolve = resolve or system_resolve
        self.timeout = timeout

    async def check(self, url: str, origin: str, source: str = "", shown: str = "") -> None:
        """Raise a ``disallowed`` FetchError when ``url`` (reached from the configured ``origin``) may not be
        fetched. ``shown`` replaces "fetch URL" in the message (a webhook's "post to HOST": its URL may hold a
        secret)."""
        if self.allow_private:
            return
        parts = urlsplit(url)
        host = parts.hostname or ""
        literal = host_address(host)
        addresses = [literal] if literal is not None else await self._resolve(host, _port(parts), url, source)
        own = host_address(urlsplit(origin).hostname or "")
        _ORIGIN_OWN.set(own)
        for addr in addresses:
            kind = address_kind(addr)
            if kind is not None and not _same_internal(addr, own):
                where = shown or (f"fetch {url}" if url == origin else f"fetch {url} (a redirect from {origin})")
                raise FetchError(
                    "disallowed", _refusal(where, host, addr, kind, literal is None), source=source, url=url
                )

    async def connect_targets(self, host: str, port: int) -> list[str]:
        """The addresses a connection to ``host`` may use, in the resolver's order, checked as ``check`` checks
        them (against the configured URL of the check made last in this task). A name is resolved once more here,
        and the connection goes to what this answer says, so the address connected to is the address checked.
        Raises FetchError: ``disallowed`` for a non-public answer, ``network`` when the name does not resolve."""
        literal = host_address(host)
        if literal is not None:
            addresses = [literal]
        else:
            addresses = await self._resolve(host, port, f"{host}:{port}", "")
        if not self.allow_private:
            own = _ORIGIN_OWN.get()
            for addr in addresses:
                kind = address_kind(addr)
                if kind is not None and not _same_internal(addr, own):
                    raise FetchError(
                        "disallowed",
                        f"refused to connect to {host}: {'it resolves to ' if literal is None else ''}{addr}, a {kind} "
                        f"address, outside the public internet (an answer that changed after the check, as in DNS "
                        f"rebinding, is refused too); to connect to private destinations on purpose set {SETTING}",
                    )
        return [host] if literal is not None else [str(addr) for addr in addresses]

    async def _resolve(self, host: str, port: int, url: str, source: str) -> list[Address]:
        try:
            answers = await asyncio.wait_for(self.resolve(host, port), self.timeout)
        except (TimeoutError, OSError) as exc:
            raise FetchError(
                "network", f"cannot resolve {host}: {exc or type(exc).__name__}", source=source, url=url
            ) from exc
        if not answers:
            raise FetchError("network", f"cannot resolve {host}: no address", source=source, url=url)
        return [_parse(answer) for answer in answers]


def _parse(answer: str) -> Address:
    """A resolver's answer as an address; one that cannot be read counts as unspecified, so it is refused."""
    try:
        return ipaddress.ip_address(answer)
    except ValueError:
        return ipaddress.ip_address("0.0.0.0")


def _port(parts) -> int:
    try:
        return parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return 80


def _same_internal(addr: Address, own: Address | None) -> bool:
    """Whether ``addr`` is the configured URL's own non-public address (``localhost`` stands for any loopback)."""
    if own is None or address_kind(own) is None:
        return False
    return addr == own or (own.is_loopback and addr.is_loopback)


def _refusal(where: str, host: str, addr: Address, kind: str, resolved: bool) -> str:
    via = f"{host} resolves to " if resolved else ""
    return (
        f"refused to {where}: {via}{addr} is a {kind} address, outside the public internet; to reach "
        f"private destinations on purpose set {SETTING}"
    )


def destination_warnings(
    sources: Iterable[tuple[str, str]], webhooks: Iterable[tuple[str, str]], allowed: bool
) -> list[str]:
    """check-config lines for configured URLs that name a non-public address (literal IPs and ``localhost`` only;
    nothing is resolved). Only hosts are named: a webhook URL may hold a secret."""
    state = "on" if allowed else "off"
    out: list[str] = []
    for label, url in sources:
        found = _literal_kind(url)
        if found:
            what = (
                "it and its redirects are fetched"
                if allowed
                else "it is fetched as a deliberately internal source, but its redirects to other non-public "
                "addresses are refused"
            )
            out.append(f"{label}: url host {found}; {what} (private destinations: {SETTING}; now {state})")
    for label, url in webhooks:
        found = _literal_kind(url)
        if found:
            out.append(
                f"{label}: url host {found}; alerts are posted there as a deliberately internal destination, "
                f"but a redirect is never followed (private destinations: {SETTING}; now {state})"
            )
    return out


def _literal_kind(url: str) -> str | None:
    host = urlsplit(url).hostname or ""
    addr = host_address(host)
    kind = address_kind(addr) if addr is not None else None
    if kind is None:
        return None
    return f"{host} is a {kind} address" if str(addr) == host.strip("[]") else f"{host} is {addr}, a {kind} address"
