"""`watcher once`: poll each source once, now; dry runs, JSON output, failures and source selection."""

from __future__ import annotations

import json

from tests.conftest import ONCE_ITEMS, make_config, one_feed_config, run_cli, source_toml
from tests.fakes.feeds import rss


def test_dry_run_json_prints_flagged_items_and_writes_nothing(tmp_path, feed_server):
    """--dry-run --json prints one JSON object per flagged item with the documented keys and creates no data."""
    cfg = one_feed_config(tmp_path, feed_server, ONCE_ITEMS)
    proc = run_cli(["--config", str(cfg), "once", "--dry-run", "--json"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    [row] = [json.loads(line) for line in proc.stdout.splitlines()]
    assert {"source", "id", "title", "url", "published", "topics", "terms"} <= set(row)
    assert row["source"] == "feed" and row["id"] == "2" and row["url"] == "https://e.org/2"
    assert row["published"] == "2026-09-15T08:00:00+00:00"
    assert "smuggling" in row["topics"] and row["terms"]
    assert not (tmp_path / "data").exists()


def test_failed_source_json_and_exit_code(tmp_path, feed_server):
    """A failing source gives a JSON object with source, failure and detail, and a non-zero exit; others still
    report."""
    feed_server.set("/feed.xml", rss(ONCE_ITEMS))
    feed_server.set("/down.xml", "error", status=503)
    sources = (
        "[http]\nattempts = 1\n\n"
        + source_toml("feed", feed_server.url("/feed.xml"))
        + source_toml("down", feed_server.url("/down.xml"))
    )
    proc = run_cli(["--config", str(make_config(tmp_path / "cfg", sources)), "once", "--dry-run", "--json"], tmp_path)
    assert proc.returncode == 1
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert {"source": "down", "failure": "server_error", "detail": "HTTP 503"} in rows
    assert any(r.get("id") == "2" for r in rows)


def test_once_records_then_alerts_on_console(tmp_path, feed_server):
    """Without --dry-run the first run records silently; a later run delivers the new match to the console."""
    cfg = one_feed_config(tmp_path, feed_server, ONCE_ITEMS[:1])
    first = run_cli(["--config", str(cfg), "once"], tmp_path)
    assert first.returncode == 0 and "first poll: recorded without alerting" in first.stdout
    feed_server.set("/feed.xml", rss(ONCE_ITEMS))
    second = run_cli(["--config", str(cfg), "once"], tmp_path)
    assert "feed: 2 items, 1 new, 1 flagged" in second.stdout
    assert "=== ALERT ===" in second.stderr and ONCE_ITEMS[1]["title"] in second.stderr
    third = run_cli(["--config", str(cfg), "once"], tmp_path)
    assert "0 new" in third.stdout and "=== ALERT ===" not in third.stderr


def test_source_selection(tmp_path, feed_server):
    """--source polls only the named source, also a disabled one; an unknown name is an error listing the known."""
    feed_server.set("/feed.xml", rss(ONCE_ITEMS))
    sources = (
        "[http]\nattempts = 1\n\n"
        + source_toml("a", feed_server.url("/feed.xml"))
        + source_toml("b", "http://127.0.0.1:9/x", enabled=False)
    )
    cfg = make_config(tmp_path / "cfg", sources)
    only_a = run_cli(["--config", str(cfg), "once", "--dry-run", "--source", "a"], tmp_path)
    assert only_a.returncode == 0 and only_a.stdout.startswith("a: 2 items")
    disabled = run_cli(["--config", str(cfg), "once", "--dry-run", "--source", "b"], tmp_path)
    assert disabled.returncode == 1 and "b: FAILED (network)" in disabled.stdout
    unknown = run_cli(["--config", str(cfg), "once", "--source", "zzz"], tmp_path)
    assert unknown.returncode == 1 and "unknown source zzz" in unknown.stderr and "a, b" in unknown.stderr


def test_once_compiles_the_topics_only_when_something_is_new(tmp_path, feed_server, monkeypatch):
    """A run whose sources bring nothing new never compiles the topics (its largest cost after the imports); the run
    that finds a new item compiles them once and alerts as before."""
    from watcher.matcher import engine

    built = []
    real_init = engine.Matcher.__init__

    def counting_init(self, topics, for_text=None, **options):
        built.append(len(topics))
        real_init(self, topics, for_text, **options)

    monkeypatch.setattr(engine.Matcher, "__init__", counting_init)
    cfg = one_feed_config(tmp_path, feed_server, ONCE_ITEMS[:1])
    assert run_cli(["--config", str(cfg), "once"], tmp_path).returncode == 0  # first poll: records all
    compiled_first = [n for n in built if n]
    built.clear()
    unchanged = run_cli(["--config", str(cfg), "once"], tmp_path)
    assert unchanged.returncode == 0 and "0 new" in unchanged.stdout
    assert [n for n in built if n] == []  # no Matcher of the shipped topics was built
    feed_server.set("/feed.xml", rss(ONCE_ITEMS))
    new = run_cli(["--config", str(cfg), "once"], tmp_path)
    assert "1 new, 1 flagged" in new.stdout and "=== ALERT ===" in new.stderr
    assert len([n for n in built if n]) == 1
    assert len(compiled_first) == 1  # the first poll matches what it records (no alert), so it compiles too
