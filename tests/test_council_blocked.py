"""The Council register behind bot protection: the operators get one message that says so and names the ways in
that still work, and `watcher status` and /status show "blocked by bot protection" apart from other failures."""

from __future__ import annotations

import json

import pytest

from tests.conftest import NoMatch, make_config, run_cli, source_toml
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.clock import FakeClock
from tests.fakes.council import HTML_HEADERS, page
from tests.fakes.feeds import rss
from tests.test_e2e import Proc
from tests.test_health_e2e import wait_for
from watcher import pipeline
from watcher.health import HealthRules, render_lines, render_table, source_health
from watcher.http.client import Http
from watcher.http.polite import RetryPolicy
from watcher.sources.council_register import CouncilRegisterSource
from watcher.sources.rss import RssSource
from watcher.store import health as healthdb
from watcher.store.sqlite import Store

SEARCH = "/en/documents-publications/public-register/public-register-search/"
CHALLENGE = {"cf-mitigated": "challenge", **HTML_HEADERS}
WAYS_IN = (
    "council-documents",
    "https://data.consilium.europa.eu/doc/document/",
    "https://www.consilium.europa.eu/en/rss/pressreleases.ashx",
)
ADMIN = 777


@pytest.fixture
async def env(tmp_path):
    clock = FakeClock()
    store = Store(tmp_path / "w.db", clock=clock)
    http = Http(clock=clock, per_host_interval=0, retry=RetryPolicy(attempts=1))
    yield http, store, clock
    await http.aclose()
    store.close()


def searches(server) -> int:
    return sum(1 for path, _ in list(server.requests) if path.startswith(SEARCH))


def register(server) -> CouncilRegisterSource:
    return CouncilRegisterSource(name="council-register", url=server.url(SEARCH), every=60.0, pdf_text="none")


async def polls(source, env, n: int) -> None:
    http, store, clock = env
    for _ in range(n):
        clock.advance(60)
        await pipeline.poll(source, http, store, NoMatch(), health=HealthRules())


async def test_a_blocked_register_gives_one_message_naming_the_ways_in(feed_server, env):
    """Five challenged polls queue one operator message: it says the register is behind bot protection and names
    the document server source and the press releases feed, instead of the generic failure text."""
    _, store, _ = env
    feed_server.set(SEARCH, page("challenge.html"), status=403, headers=CHALLENGE)
    await polls(register(feed_server), env, 5)
    [event] = healthdb.events(store)
    assert event["kind"] == "failing" and event["failure"] == "blocked"
    text = event["text"]
    assert text.startswith("🛡 watcher: source council-register is blocked by bot protection (3 polls in a row")
    assert "behind Cloudflare" in text and all(way in text for way in WAYS_IN)
    assert "is failing:" not in text and "cf-mitigated" in text


async def test_other_failures_of_the_register_keep_the_usual_message(feed_server, env):
    """A register that answers 502 is failing like any source: the usual message, without the bot-protection
    advice."""
    _, store, _ = env
    feed_server.set(SEARCH, b"down", status=502, headers=HTML_HEADERS)
    await polls(register(feed_server), env, 3)
    [event] = healthdb.events(store)
    assert "is failing: server_error" in event["text"] and "Cloudflare" not in event["text"]


async def test_status_shows_blocked_apart_from_failing(feed_server, env):
    """`watcher status` and the chat view show the blocked register as "blocked", not as one more failing
    source; a feed failing with server errors stays "failing"."""
    http, store, clock = env
    feed_server.set(SEARCH, page("challenge.html"), status=403, headers=CHALLENGE)
    feed_server.set("/feed.xml", b"down", status=500)
    reg, feed = register(feed_server), RssSource(name="feed", url=feed_server.url("/feed.xml"), every=60.0)
    for _ in range(3):
        await polls(reg, env, 1)
        await pipeline.poll(feed, http, store, NoMatch(), health=HealthRules())
    rows = source_health(store, [reg, feed], HealthRules(), clock.now())
    assert {r.name: r.status for r in rows} == {"council-register": "blocked", "feed": "failing"}
    summary, *lines = render_lines(rows, clock.now())
    assert summary == "2 sources polled, 1 failing, 1 blocked by bot protection"
    assert lines[0].startswith("⚠️ feed: failing (server_error, 3 polls in a row)")
    assert lines[1].startswith("🛡 council-register: blocked by bot protection (3 polls in a row)")
    table = render_table(rows, clock.now())
    assert "council-register: blocked: blocked by bot protection: HTTP 403" in table


async def test_chat_status_command_shows_the_blocked_class(running, store):
    """/status through the real bot: a source blocked three times is counted and shown as blocked by bot
    protection, apart from the failing one."""
    for _ in range(3):
        store.record_failure("statewatch", "blocked", "blocked by bot protection: HTTP 403 challenge page")
        store.record_failure("council-press", "server_error", "HTTP 502")
    lines = (await running.say(ADMIN, "/status"))["plain_text"].splitlines()
    assert lines[0] == "2 sources polled, 1 failing, 1 blocked by bot protection"
    assert lines[1].startswith("⚠️ council-press: failing (server error, 3 failed polls in a row)")
    assert lines[2].startswith("🛡 statewatch: blocked by bot protection (3 failed polls in a row)")


def test_watcher_run_tells_the_admin_once_and_status_says_blocked(tmp_path, feed_server):
    """`watcher run` against a challenged register sends the admin chat one message with the ways in, through
    the real python-telegram-bot; `watcher status --json` then gives the source the status "blocked"."""
    feed_server.set(SEARCH, page("challenge.html"), status=403, headers=CHALLENGE)
    feed_server.set(
        "/steady.xml", rss([{"title": "Council adopts conclusions", "link": "https://e.org/1", "guid": "1"}])
    )
    sources = (
        '[http]\nattempts = 1\nper_host_interval = "0s"\n\n'
        '[health]\nfailure_threshold = 2\nbackoff_cap = "2s"\n\n'
        + source_toml("council-register", feed_server.url(SEARCH), every="1s", kind="council-register", pdf_text="none")
        + source_toml("steady", feed_server.url("/steady.xml"), every="1s")
    )
    cfg = make_config(tmp_path / "cfg", sources)
    with FakeBotAPI() as bot_api:
        proc = Proc(
            tmp_path,
            cfg,
            WATCHER_TELEGRAM_TOKEN=bot_api.token,
            WATCHER_TELEGRAM_API_URL=bot_api.base_url,
            WATCHER_ADMIN_CHAT_IDS=str(ADMIN),
        )
        try:
            [message] = bot_api.wait_for_messages(1, chat_id=ADMIN, timeout=30)
            assert "council-register is blocked by bot protection" in message["text"]
            assert all(way in message["text"] for way in WAYS_IN) and not message.get("parse_mode")
            seen = searches(feed_server)
            wait_for(lambda: searches(feed_server) >= seen + 2)
            assert len(bot_api.sent_messages(ADMIN)) == 1
        finally:
            assert proc.stop() == 0
    status = run_cli(["--config", str(cfg), "status", "--json"], tmp_path)
    by_name = {row["name"]: row for row in json.loads(status.stdout)}
    assert by_name["council-register"]["status"] == "blocked" and by_name["steady"]["status"] == "ok"
