"""`watcher once` tells a dry run's reader that a first poll alerts nobody, and subscribes the notifiers of
notifiers.toml before it polls, so an entry just added gets the alerts of that very run."""

from __future__ import annotations

from tests.conftest import ONCE_ITEMS, make_config, one_feed_config, run_cli, source_toml
from tests.fakes.feeds import rss
from tests.fakes.hooks import HookServer


def test_dry_run_says_a_first_poll_alerts_nobody(tmp_path, feed_server):
    """A dry run of a never-polled source says a real first poll records without alerting; once polled, it does not."""
    cfg = one_feed_config(tmp_path, feed_server, ONCE_ITEMS)
    dry = run_cli(["--config", str(cfg), "once", "--dry-run"], tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert (
        "feed: 2 items, 2 new, 1 flagged (never polled here: a real first poll records these and alerts nobody)"
        in dry.stdout
    )
    assert run_cli(["--config", str(cfg), "once"], tmp_path).returncode == 0
    again = run_cli(["--config", str(cfg), "once", "--dry-run"], tmp_path)
    assert "never polled here" not in again.stdout


def test_a_webhook_added_between_runs_gets_the_next_alert(tmp_path, feed_server):
    """A webhook entry added to notifiers.toml gets the alert of the first `once` run that knows it."""
    cfg = one_feed_config(tmp_path, feed_server, ONCE_ITEMS[:1])
    assert run_cli(["--config", str(cfg), "once"], tmp_path).returncode == 0
    with HookServer() as hooks:
        (cfg / "notifiers.toml").write_text(f'[[webhook]]\nname = "team"\nurl = "{hooks.url()}"\n', encoding="utf-8")
        feed_server.set("/feed.xml", rss(ONCE_ITEMS))
        second = run_cli(["--config", str(cfg), "once"], tmp_path)
        assert second.returncode == 0, second.stderr
        assert [p["json"]["alert"]["title"] for p in hooks.posts] == [ONCE_ITEMS[1]["title"]]


def test_every_source_failing_the_same_way_gets_one_hint(tmp_path, feed_server):
    """When each polled source fails with the same class, once and status add one hint to check the network; a mix
    of outcomes gets none."""
    fast = "[http]\nattempts = 1\n"
    down = source_toml("a", "http://127.0.0.1:9/a") + source_toml("b", "http://127.0.0.1:9/b") + fast
    cfg = make_config(tmp_path / "cfg", down)
    once = run_cli(["--config", str(cfg), "once"], tmp_path)
    assert once.returncode == 1
    assert once.stderr.count("hint: every source failed the same way (network)") == 1
    assert "check the network" in once.stderr and "`watcher status`" in once.stderr
    status = run_cli(["--config", str(cfg), "status"], tmp_path)
    assert status.stderr.count("hint: every source failed the same way (network)") == 1
    feed_server.set("/feed.xml", rss(ONCE_ITEMS))
    mixed = make_config(
        tmp_path / "mixed",
        source_toml("a", "http://127.0.0.1:9/a") + source_toml("ok", feed_server.url("/feed.xml")) + fast,
    )
    assert "hint:" not in run_cli(["--config", str(mixed), "once"], tmp_path).stderr
