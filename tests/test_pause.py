"""A source paused by an operator is not polled by the scheduler of `watcher run`, and the logs say so."""

from __future__ import annotations

from tests.conftest import make_config, source_toml
from tests.fakes.feeds import rss
from tests.test_e2e import OLD, Proc
from watcher.store import subscribers
from watcher.store.sqlite import Store


def test_paused_source_is_skipped_and_logged(tmp_path, feed_server):
    """With `paused` set for one source, `watcher run` polls the other one and logs each skipped poll."""
    feed_server.set("/paused.xml", rss([OLD]))
    feed_server.set("/live.xml", rss([OLD]))
    store = Store(tmp_path / "data" / "watcher.db")
    subscribers.set_paused(store, "held", True)
    store.close()
    sources = source_toml("held", feed_server.url("/paused.xml"), every="1s") + source_toml(
        "live", feed_server.url("/live.xml"), every="1s"
    )
    proc = Proc(tmp_path, make_config(tmp_path / "cfg", sources), WATCHER_HTTP_PORT="0")
    try:
        proc.wait_output("source held: paused by an operator; poll skipped", stream="err")
        feed_server.wait_for_hits("/live.xml", 2)
        assert feed_server.count("/paused.xml") == 0
    finally:
        assert proc.stop() == 0
