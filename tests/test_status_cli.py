"""Operators read health from the command line: `watcher once --json` reports failed sources and exits non-zero,
and `watcher status` shows each source's health as a table or JSON."""

from __future__ import annotations

import json

from tests.conftest import make_config, run_cli, source_toml
from tests.fakes.clock import FakeClock
from tests.fakes.feeds import rss
from watcher.health import HealthRules, render_lines, render_table, source_health
from watcher.models import Item
from watcher.sources.rss import RssSource
from watcher.store.sqlite import Store

HTTP = '[http]\nattempts = 1\nper_host_interval = "0s"\n\n[health]\nfailure_threshold = 2\n\n'


def sources(server) -> str:
    return (
        HTTP
        + source_toml("good", server.url("/good.xml"))
        + source_toml("bad", server.url("/bad.xml"))
        + source_toml("off", server.url("/off.xml"), enabled=False)
    )


def test_once_json_reports_each_failed_source_and_exits_1(tmp_path, feed_server):
    """`watcher once --json` prints one object per failed source with source, failure and detail, and exits 1;
    the healthy source is polled all the same."""
    feed_server.set("/good.xml", rss([{"title": "A", "link": "https://e.org/a", "guid": "a"}]))
    feed_server.set("/bad.xml", "down", status=503, headers={"Content-Type": "text/plain"})
    cfg = make_config(tmp_path / "cfg", sources(feed_server))
    proc = run_cli(["--config", str(cfg), "once", "--json"], tmp_path)
    assert proc.returncode == 1, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert lines == [{"source": "bad", "failure": "server_error", "detail": "HTTP 503"}]
    assert feed_server.count("/good.xml") == 1


def test_status_table_and_json_after_polls(tmp_path, feed_server):
    """After two runs in which one source failed twice, the second run tells the operator (the log, without a
    token); `watcher status` shows it "blocked" (bot protection, apart from other failures), the other ok, the
    disabled one disabled; --json gives the same as objects; it exits 0."""
    feed_server.set("/good.xml", rss([{"title": "A", "link": "https://e.org/a", "guid": "a"}]))
    feed_server.set(
        "/bad.xml", "<html><title>Just a moment...</title></html>", status=403, headers={"Content-Type": "text/html"}
    )
    cfg = make_config(tmp_path / "cfg", sources(feed_server))
    runs = [run_cli(["--config", str(cfg), "once"], tmp_path) for _ in range(2)]
    assert "operator message" not in runs[0].stderr  # threshold 2: the first failure says nothing
    assert runs[1].stderr.count("operator message: ⚠️ watcher: source bad is failing: blocked") == 1
    table = run_cli(["--config", str(cfg), "status"], tmp_path)
    assert table.returncode == 0, table.stderr
    rows = {line.split()[0]: line for line in table.stdout.splitlines()[1:] if line and ":" not in line.split()[0]}
    assert rows["bad"].split()[1] == "blocked"
    assert " ok " in rows["good"] and "disabled" in rows["off"]
    assert "bad: blocked: HTTP 403 challenge page" in table.stdout
    data = json.loads(run_cli(["--config", str(cfg), "status", "--json"], tmp_path).stdout)
    by_name = {d["name"]: d for d in data}
    assert by_name["bad"]["status"] == "blocked" and by_name["bad"]["consecutive_failures"] == 2
    assert by_name["bad"]["last_failure"] == "blocked" and by_name["good"]["last_success_at"]


def test_status_without_a_database_says_so(tmp_path, feed_server):
    """With no database yet, status lists every source as never polled and says where it looked."""
    cfg = make_config(tmp_path / "cfg", sources(feed_server))
    proc = run_cli(["--config", str(cfg), "status"], tmp_path)
    assert proc.returncode == 0 and "no database" in proc.stderr
    assert proc.stdout.count("never polled") == 2
    assert not (tmp_path / "data" / "watcher.db").exists()


def test_health_counts_new_items_in_the_window_without_the_back_catalogue():
    """New items in the window leave out what the first poll found; the chat rendering has one line a source."""
    clock = FakeClock()
    store = Store(":memory:", clock=clock)
    src = RssSource(name="s", url="https://e.org/feed", every=60.0)
    store.record_poll("s", [Item("s", str(i), f"t{i}", "https://e.org") for i in range(5)], {})
    clock.advance(3600)
    store.record_poll("s", [Item("s", "new", "t", "https://e.org")], {})
    [row] = source_health(store, [src], HealthRules(), clock.now())
    assert row.status == "ok" and row.new_items == 1
    clock.advance(8 * 86400)
    [row] = source_health(store, [src], HealthRules(), clock.now())
    assert row.status == "stale" and row.new_items == 0
    assert render_lines([row], clock.now())[1].startswith("💤 s: stale; last success 8d")
    assert "stale" in render_table([row], clock.now())
