"""The commands with WATCHER_DATABASE_URL set: ``once`` records and alerts through PostgreSQL (a real server, see
tests/fakes/postgres.py), and ``status``, ``once --dry-run``, ``check-config`` and ``archive verify`` read it there;
no ``watcher.db`` is made."""

from __future__ import annotations

import json

from tests.conftest import make_config, one_feed_config, run_cli, source_toml
from tests.fakes.feeds import rss
from watcher.store.sqlite import Store

ITEMS = [
    {"title": "Council adopts fisheries conclusions", "link": "https://e.org/1", "guid": "1"},
    {
        "title": "Frontex and Europol step up the fight against migrant smuggling",
        "link": "https://e.org/2",
        "guid": "2",
    },
]


def test_once_status_and_dry_run_use_postgres(tmp_path, feed_server, pg_url):
    cfg = one_feed_config(tmp_path, feed_server, ITEMS[:1])
    env = {"WATCHER_DATABASE_URL": pg_url}
    first = run_cli(["--config", str(cfg), "once"], tmp_path, **env)
    assert first.returncode == 0 and "first poll: recorded without alerting" in first.stdout, first.stderr
    feed_server.set("/feed.xml", rss(ITEMS))
    dry = run_cli(["--config", str(cfg), "once", "--dry-run"], tmp_path, **env)
    assert dry.returncode == 0 and "never polled" not in dry.stdout + dry.stderr  # it read PostgreSQL's items
    second = run_cli(["--config", str(cfg), "once"], tmp_path, **env)
    assert "feed: 2 items, 1 new, 1 flagged" in second.stdout
    assert "migrant smuggling" in second.stdout  # delivered to the console from PostgreSQL's outbox
    status = run_cli(["--config", str(cfg), "status", "--json"], tmp_path, **env)
    [row] = json.loads(status.stdout)
    assert row["name"] == "feed" and row["status"] == "ok" and row["consecutive_failures"] == 0
    store = Store(pg_url)
    assert store.known_ids("feed", ["1", "2"]) == {"1", "2"} and store.outbox_depth() == 0
    store.close()
    assert not (tmp_path / "data" / "watcher.db").exists()


def test_check_config_and_archive_verify_read_postgres(tmp_path, pg_url):
    store = Store(pg_url)
    store.subscribe("telegram", "1", ["no-such-topic"])
    store.close()
    cfg = make_config(tmp_path / "cfg", source_toml("feed", "https://e.org/feed.xml"))
    checked = run_cli(["--config", str(cfg), "check-config"], tmp_path, WATCHER_DATABASE_URL=pg_url)
    assert "topic 'no-such-topic' is gone, but 1 chat is subscribed" in checked.stderr + checked.stdout
    verify = run_cli(["archive", "verify"], tmp_path, WATCHER_DATABASE_URL=pg_url)
    assert verify.returncode == 0 and "no kept documents" in verify.stdout


def test_an_unreachable_database_url_is_one_error_line(tmp_path):
    """A command given a WATCHER_DATABASE_URL where nothing answers exits 3 with one line naming the URL (without
    its password) and the fix, instead of a traceback."""
    import socket  # loaded late: only to find a closed port

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql://watcher:secret@127.0.0.1:{port}/watcher"
    done = run_cli(["ledger"], tmp_path, WATCHER_DATABASE_URL=url)
    assert done.returncode == 3 and "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: postgresql://watcher:***@127.0.0.1") and "cannot connect to PostgreSQL" in line
    assert "secret" not in done.stderr
