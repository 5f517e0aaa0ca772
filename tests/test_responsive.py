"""`watcher run` keeps answering /healthz within a second while the database is locked by another process and while
a 100,000-item feed is parsed and recorded; a database that refuses a poll is that source's `store` failure."""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from pathlib import Path

import pytest

from tests.conftest import make_config, run_cli, source_toml
from tests.fakes.feeds import rss
from tests.test_e2e import Proc
from watcher.store.sqlite import Store

OLD = {"title": "Council adopts conclusions on fisheries", "link": "https://e.org/old", "guid": "old"}
LATE = {
    "title": "Council agrees mandate against migrant smuggling networks",
    "link": "https://e.org/late",
    "guid": "late",
}
FAST_HTTP = '[http]\nattempts = 1\nper_host_interval = "0s"\n\n'
LIMIT = 1.0  # seconds: every /healthz answer must come faster than this


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthz_seconds(port: int) -> float:
    """How long one /healthz request takes to be answered (it must answer 200). A bare socket, so that the time is
    the service's and not a client library's."""
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := conn.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200"), answer
    return time.perf_counter() - started


def wait_healthy(port: int, proc: Proc, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.p.poll() is None, f"watcher exited early:\n{proc.err.read_text()}"
        try:
            healthz_seconds(port)
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("/healthz never answered")


def wait_recorded(proc: Proc, source: str, polls: int, timeout: float = 30) -> None:
    """Wait until the service logged ``polls`` recorded polls of the source."""
    deadline = time.monotonic() + timeout
    while proc.err.read_text().count(f"source {source}: 1 items,") < polls:
        assert time.monotonic() < deadline, f"fewer than {polls} polls of {source} recorded:\n{proc.err.read_text()}"
        time.sleep(0.1)


def start(tmp_path: Path, sources: str) -> tuple[Proc, int]:
    port = free_port()
    proc = Proc(tmp_path, make_config(tmp_path / "cfg", FAST_HTTP + sources), WATCHER_HTTP_PORT=str(port))
    wait_healthy(port, proc)
    return proc, port


@pytest.mark.alone
def test_healthz_answers_while_another_process_holds_the_write_lock(tmp_path, feed_server):
    """For 8 s another connection holds an exclusive lock on the database while polls run every second and the
    delivery worker waits for work: every /healthz answer takes under a second; the poll the lock refused is a
    `store` failure, and the item published meanwhile is alerted once the lock goes."""
    feed_server.set("/feed.xml", rss([OLD]))
    proc, port = start(tmp_path, source_toml("feed", feed_server.url("/feed.xml"), every="1s"))
    try:
        wait_recorded(proc, "feed", 2)
        holder = sqlite3.connect(tmp_path / "data" / "watcher.db", isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        feed_server.set("/feed.xml", rss([OLD, LATE]))
        hits, times = feed_server.count("/feed.xml"), []
        until = time.monotonic() + 8
        while time.monotonic() < until:
            times.append(healthz_seconds(port))
            time.sleep(0.2)
        assert feed_server.count("/feed.xml") > hits, "no poll ran while the lock was held"
        holder.execute("ROLLBACK")
        holder.close()
        assert len(times) >= 10 and max(times) < LIMIT, [round(t, 2) for t in times]
        proc.wait_output("source feed: poll failed: store", stream="err")
        out = proc.wait_output("=== ALERT ===", timeout=30)
        assert out.count(LATE["title"]) == 1
    finally:
        assert proc.stop() == 0


def big_feed(count: int) -> bytes:
    return rss([{"title": f"t{n}", "link": f"https://e.org/{n}", "guid": str(n)} for n in range(count)]).encode()


@pytest.mark.alone
def test_healthz_answers_while_a_100000_item_feed_is_parsed_and_recorded(tmp_path, feed_server):
    """While a 100,000-item feed (under a raised size cap) is parsed, matched and recorded, every /healthz answer
    takes under a second."""
    body = big_feed(100_000)
    feed_server.set("/big.xml", body)
    cap = 4 * len(body)
    proc, port = start(tmp_path, source_toml("big", feed_server.url("/big.xml"), every="1h", max_bytes=cap))
    try:
        times: list[float] = []
        deadline = time.monotonic() + 90
        while "source big: 100000 items" not in proc.err.read_text() and time.monotonic() < deadline:
            if feed_server.count("/big.xml"):  # served: the poll is parsing, matching or recording it
                times.append(healthz_seconds(port))
                deadline = min(deadline, time.monotonic() + 30)
            time.sleep(0.2)
        assert len(times) >= 10 and max(times) < LIMIT, [round(t, 2) for t in times]
    finally:
        assert proc.stop(timeout=120) == 0  # a stop waits for the poll in progress to be recorded


def test_a_poll_the_database_refuses_is_a_store_failure_in_status(tmp_path, feed_server):
    """When the database refuses to record a poll (here a trigger aborts every new item), the source's health says
    `store` with the database's message, and the service goes on."""
    db = tmp_path / "data" / "watcher.db"
    Store(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON items BEGIN SELECT RAISE(ABORT, 'disk says no'); END")
    feed_server.set("/feed.xml", rss([OLD]))
    proc, port = start(tmp_path, source_toml("feed", feed_server.url("/feed.xml"), every="1s"))
    try:
        deadline = time.monotonic() + 30
        while True:
            done = run_cli(["--config", str(tmp_path / "cfg"), "status", "--json"], tmp_path)
            [row] = json.loads(done.stdout)
            if row["last_failure"] or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert row["last_failure"] == "store" and "disk says no" in row["last_failure_detail"]
        assert row["consecutive_failures"] >= 1 and row["status"] in ("degraded", "failing")
        healthz_seconds(port)
    finally:
        assert proc.stop() == 0
