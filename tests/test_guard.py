"""Network destinations are guarded: no redirect or DNS answer leads a fetch into private address space unless the
configured URL itself is there or private networks are allowed; check-config warns about such URLs.

The public host ``feeds.example`` is made up: the guard is given a resolver that says it is a public address, and a
test transport carries its requests to the loopback server. The transport connects to nothing but loopback, so a
guard that failed could never reach 10.x or 169.254.x."""

from __future__ import annotations

import ipaddress
import socket

import httpx
import pytest

from tests.conftest import NoMatch, make_config, run_cli, source_toml
from tests.fakes.clock import FakeClock
from tests.fakes.feeds import rss
from watcher import pipeline
from watcher.config import Config
from watcher.errors import FetchError
from watcher.http.client import Http
from watcher.http.guard import address_kind, destination_warnings
from watcher.http.options import HttpOptions, http_options_from_toml
from watcher.http.polite import RetryPolicy
from watcher.sources.rss import RssSource
from watcher.store.sqlite import Store
from watcher.wiring import make_http

GOOD = rss([{"title": "Internal item", "link": "https://e.org/1", "guid": "1"}])
PUBLIC = "93.184.216.34"
METADATA = "http://169.254.169.254/latest/meta-data"


class LoopbackOnly(httpx.AsyncBaseTransport):
    """Carries requests for feeds.example to the loopback server, records every host asked for, and refuses to
    connect anywhere but 127.0.0.1."""

    def __init__(self, port: int):
        self.port = port
        self.hosts: list[str] = []
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.hosts.append(request.url.host)
        if request.url.host == "feeds.example":
            request.url = request.url.copy_with(host="127.0.0.1", port=self.port)
        elif request.url.host != "127.0.0.1":
            raise httpx.ConnectError(f"the test transport never connects to {request.url.host}")
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def resolver(table: dict[str, list[str]]):
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "unknown name")
        return table[host]

    return resolve, asked


@pytest.fixture
async def world(feed_server, tmp_path):
    """An Http client on the loopback-only transport and a store; ``make(**kw)`` builds the client."""
    clock = FakeClock()
    store = Store(tmp_path / "w.db", clock=clock)
    made: list[Http] = []
    transport = LoopbackOnly(int(feed_server.base_url.rsplit(":", 1)[1]))
    resolve, asked = resolver({"feeds.example": [PUBLIC], "intranet.example": [PUBLIC, "10.0.0.5"]})

    def make(**kw) -> Http:
        http = Http(
            clock=clock, per_host_interval=0, retry=RetryPolicy(attempts=1), transport=transport, resolve=resolve, **kw
        )
        made.append(http)
        return http

    yield make, store, transport, asked
    for http in made:
        await http.aclose()
    store.close()


def source(url: str) -> RssSource:
    return RssSource(name="feed", url=url, every=60.0)


@pytest.mark.parametrize("target,address", [("loopback", "127.0.0.1"), (METADATA, "169.254.169.254")])
async def test_redirect_from_a_public_host_into_private_space_is_refused(feed_server, world, target, address):
    """A 302 from a public host to loopback or to the metadata address is a disallowed failure naming the URL, the
    address and the setting; the target is never contacted and nothing is parsed or recorded."""
    make, store, transport, _ = world
    location = feed_server.url("/internal.xml") if target == "loopback" else target
    feed_server.set("/feed.xml", "", status=302, headers={"Location": location})
    feed_server.set("/internal.xml", GOOD)
    result = await pipeline.poll(source("http://feeds.example/feed.xml"), make(), store, NoMatch())
    assert result.failure == "disallowed", result.detail
    assert location in result.detail and address in result.detail and "allow_private" in result.detail
    assert "WATCHER_ALLOW_PRIVATE_NETWORKS" in result.detail
    assert transport.hosts == ["feeds.example"] and feed_server.requested("/internal.xml") == 0
    assert result.items == [] and store.known_ids("feed", ["1"]) == set() and not store.has_succeeded("feed")


async def test_a_configured_name_resolving_to_a_private_address_is_refused_before_connecting(world):
    """A configured host with any DNS answer in 10/8 is refused without a single connection attempt."""
    make, store, transport, asked = world
    result = await pipeline.poll(source("http://intranet.example/feed.xml"), make(), store, NoMatch())
    assert result.failure == "disallowed"
    assert "intranet.example resolves to 10.0.0.5" in result.detail and "private" in result.detail
    assert asked == ["intranet.example"] and transport.hosts == []


async def test_an_internal_source_keeps_its_own_host_but_may_not_redirect_elsewhere_private(feed_server, world):
    """A source configured on 127.0.0.1 follows redirects on its own host, but not to the metadata address."""
    make, store, transport, asked = world
    feed_server.set("/old.xml", "", status=301, headers={"Location": "/feed.xml"})
    feed_server.set("/feed.xml", GOOD)
    feed_server.set("/escape.xml", "", status=302, headers={"Location": METADATA})
    http = make()
    ok = await pipeline.poll(source(feed_server.url("/old.xml")), http, store, NoMatch())
    assert ok.failure is None and [i.id for i in ok.new] == ["1"]
    bad = await pipeline.poll(
        RssSource(name="escape", url=feed_server.url("/escape.xml"), every=60.0), http, store, NoMatch()
    )
    assert bad.failure == "disallowed" and "169.254.169.254" in bad.detail and "link-local" in bad.detail
    assert "169.254.169.254" not in transport.hosts and asked == []


async def test_a_robots_txt_redirect_into_private_space_is_refused(feed_server, world):
    """robots.txt is fetched under the same rule: its redirect to loopback is refused and the poll fails."""
    make, store, transport, _ = world
    feed_server.set("/robots.txt", "", status=302, headers={"Location": feed_server.url("/internal.txt")})
    feed_server.set("/feed.xml", GOOD)
    result = await pipeline.poll(source("http://feeds.example/feed.xml"), make(respect_robots=True), store, NoMatch())
    assert result.failure == "disallowed" and result.detail.startswith("robots.txt: refused")
    assert feed_server.requested("/internal.txt") == 0 and feed_server.requested("/feed.xml") == 0


@pytest.mark.parametrize("how", ["option", "environment"])
async def test_allowing_private_networks_lets_the_redirect_through(feed_server, world, how):
    """With [http] allow_private = true, or WATCHER_ALLOW_PRIVATE_NETWORKS=1, the redirect to loopback is followed
    and its item recorded."""
    make, store, _, _ = world
    feed_server.set("/feed.xml", "", status=302, headers={"Location": feed_server.url("/internal.xml")})
    feed_server.set("/internal.xml", GOOD)
    options, problems = http_options_from_toml({"allow_private": True} if how == "option" else {}, "sources.toml")
    env = {"WATCHER_ALLOW_PRIVATE_NETWORKS": "1"} if how == "environment" else {}
    allowed = options.client_kwargs(env)["allow_private"]
    assert problems == [] and allowed is True
    result = await pipeline.poll(source("http://feeds.example/feed.xml"), make(allow_private=allowed), store, NoMatch())
    assert result.failure is None and [i.id for i in result.new] == ["1"]


def test_private_networks_are_refused_by_default():
    """Neither the defaults nor an unset or false environment variable allow private destinations."""
    for env in ({}, {"WATCHER_ALLOW_PRIVATE_NETWORKS": "0"}, {"WATCHER_ALLOW_PRIVATE_NETWORKS": "no"}):
        assert HttpOptions().client_kwargs(env)["allow_private"] is False


async def test_the_service_client_reads_the_environment_variable(monkeypatch, tmp_path):
    """The client the service builds allows private destinations when WATCHER_ALLOW_PRIVATE_NETWORKS=1 is set."""
    config = Config(directory=tmp_path, sources=(), topics=())
    for value, allowed in (("", False), ("1", True)):
        monkeypatch.setenv("WATCHER_ALLOW_PRIVATE_NETWORKS", value)
        http = make_http(config)
        assert http.guard.allow_private is allowed
        await http.aclose()


@pytest.mark.parametrize(
    "address,kind",
    [
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("127.0.0.1", "loopback"),
        ("127.8.0.1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("::1", "loopback"),
        ("fd00::5", "private"),
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified (0.0.0.0/8)"),
        ("0.1.2.3", "unspecified (0.0.0.0/8)"),
        ("100.64.0.1", "shared (CGNAT, 100.64/10)"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.5", "private"),
        (PUBLIC, None),
        ("2606:4700:4700::1111", None),
        ("8.8.8.8", None),
    ],
)
def test_address_kinds(address, kind):
    """Every non-public range the guard refuses is named; public addresses pass."""
    assert address_kind(ipaddress.ip_address(address)) == kind


def test_destination_warnings_name_host_and_setting_but_never_a_webhook_path():
    """Literal private IPs and localhost in source and webhook URLs are warned about; public names are not
    resolved or warned about, and a webhook's path (which may hold a secret) is never shown."""
    lines = destination_warnings(
        [("source 'a'", "http://10.0.0.5/feed"), ("source 'b'", "https://e.org/feed")],
        [("webhook 'w'", "http://localhost:9000/hooks/s3cret")],
        allowed=False,
    )
    assert len(lines) == 2
    assert "10.0.0.5 is a private address" in lines[0] and "allow_private" in lines[0] and "now off" in lines[0]
    assert "localhost is 127.0.0.1, a loopback address" in lines[1] and "s3cret" not in lines[1]


def test_check_config_warns_about_private_source_and_webhook_urls(tmp_path):
    """check-config accepts the configuration but warns about a source on 10.0.0.5 and a webhook on localhost,
    saying how private destinations are allowed and whether they are."""
    config = make_config(
        tmp_path / "c", source_toml("lan", "http://10.0.0.5/feed.xml") + source_toml("public", "https://e.org/feed.xml")
    )
    (config / "notifiers.toml").write_text(
        '[[webhook]]\nname = "chat"\nurl = "http://localhost:9000/hook/key"\n', encoding="utf-8"
    )
    done = run_cli(["--config", str(config), "check-config"], tmp_path)
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if "address" in line]
    assert len(warnings) == 2 and all(line.startswith("warning: ") for line in warnings)
    assert "'lan'" in warnings[0] and "10.0.0.5" in warnings[0] and "allow_private" in warnings[0]
    assert "'chat'" in warnings[1] and "localhost" in warnings[1] and "/hook/key" not in warnings[1]
    assert "now off" in warnings[0]
    on = run_cli(["--config", str(config), "check-config"], tmp_path, WATCHER_ALLOW_PRIVATE_NETWORKS="1")
    assert "now on" in on.stderr


def changing(*answers: list[str]):
    """A resolver whose answer changes: its first call gets ``answers[0]``, the next ``answers[1]``, and so on (the
    last answer repeats), as a DNS server rebinding a name between the check and the connection would answer."""
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return answers[min(len(asked), len(answers)) - 1]

    return resolve, asked


async def test_a_name_answering_public_then_loopback_is_refused_when_the_connection_opens(feed_server):
    """DNS rebinding: the check before the request sees a public address, the connection's own lookup gets
    127.0.0.1. The connection asks the same resolver, applies the same rule and refuses: nothing reaches the
    loopback server."""
    feed_server.set("/feed.xml", GOOD)
    port = int(feed_server.base_url.rsplit(":", 1)[1])
    resolve, asked = changing([PUBLIC], ["127.0.0.1"])
    http = Http(per_host_interval=0, retry=RetryPolicy(attempts=1), resolve=resolve)
    try:
        with pytest.raises(FetchError) as refused:
            await http.get(f"http://rebind.example:{port}/feed.xml", source="feed")
    finally:
        await http.aclose()
    assert refused.value.failure == "disallowed", refused.value.detail
    assert "rebind.example" in refused.value.detail and "127.0.0.1, a loopback address" in refused.value.detail
    assert asked == ["rebind.example", "rebind.example"]
    assert feed_server.requested("/feed.xml") == 0


async def test_the_connection_goes_to_the_address_the_guard_resolved(feed_server):
    """With private destinations allowed, a made-up name that only the guard's resolver knows (as 127.0.0.1) is
    fetched: the connection used the guard's answer, not a lookup of its own."""
    feed_server.set("/feed.xml", GOOD)
    port = int(feed_server.base_url.rsplit(":", 1)[1])
    resolve, asked = changing(["127.0.0.1"])
    http = Http(per_host_interval=0, retry=RetryPolicy(attempts=1), resolve=resolve, allow_private=True)
    try:
        resp = await http.get(f"http://only-the-guard-knows.example:{port}/feed.xml", source="feed")
    finally:
        await http.aclose()
    assert resp.status == 200 and b"Internal item" in resp.content
    assert asked == ["only-the-guard-knows.example"] and feed_server.requested("/feed.xml") == 1


async def test_a_configured_loopback_source_still_connects_through_the_guarded_transport(feed_server):
    """A source configured on 127.0.0.1 on purpose keeps working with the connection-time check."""
    feed_server.set("/feed.xml", GOOD)
    http = Http(per_host_interval=0, retry=RetryPolicy(attempts=1))
    try:
        resp = await http.get(feed_server.url("/feed.xml"), source="feed")
    finally:
        await http.aclose()
    assert resp.status == 200 and feed_server.requested("/feed.xml") == 1
