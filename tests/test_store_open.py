"""A database that cannot be used stops every command at start with one line naming the file, what is wrong and
what to do, exit code 3, and the file left exactly as it was (no writes, no -wal or -shm created)."""

from __future__ import annotations

import hashlib
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import make_config, run_cli, source_toml
from tests.fakes.telegram import make_store, queue_alert
from watcher.cli import main
from watcher.errors import StoreError
from watcher.store import opening
from watcher.store.sqlite import Store

# Another process: an exclusive transaction on the database given as argument, held until its input closes.
HOLD_LOCK = """import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
db.execute("DELETE FROM meta WHERE key='nothing'")
print("held", flush=True)
sys.stdin.read()
"""
RESTORE = 'nothing was changed; restore it from a backup (see README, "Restore from backup")'


@pytest.fixture
def cfg(tmp_path) -> Path:
    return make_config(tmp_path / "cfg", source_toml("press", "http://127.0.0.1:9/press.xml"))


def real_database(path: Path, alerts: int = 200) -> None:
    """A watcher database with a subscriber and enough queued alerts to span many pages."""
    store = make_store(path)
    store.subscribe("telegram", "1", ["smuggling"])
    for i in range(alerts):
        queue_alert(store, "press", f"item-{i}", title=f"Item {i} on migrant smuggling " + "x" * 200)
    store.close()


def fingerprint(path: Path) -> tuple[str, list[str]]:
    """The file's digest and the names beside it, to show nothing was written or created (the data directory's lock
    file aside: `watcher run` takes it before it opens the database)."""
    names = sorted(p.name for p in path.parent.iterdir() if p.name != "watcher.lock")
    return hashlib.sha256(path.read_bytes()).hexdigest(), names


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    """The command failed with code 3 and exactly one `error:` line, no traceback; returns that line."""
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    assert proc.stderr.rstrip().splitlines()[-1] == errors[0]
    return errors[0]


def test_random_bytes_are_refused_untouched(tmp_path, cfg):
    """A file of random bytes: `watcher status` says it is not a database and to restore a backup, and writes
    nothing."""
    db = tmp_path / "data" / "watcher.db"
    db.parent.mkdir()
    db.write_bytes(random.Random(7).randbytes(8192))
    before = fingerprint(db)
    line = one_error_line(run_cli(["--config", str(cfg), "status"], tmp_path))
    assert line == f"error: {db}: not a SQLite database (file is not a database); {RESTORE}"
    assert fingerprint(db) == before


def test_truncated_database_is_found_at_open(tmp_path, cfg):
    """A real database cut in half (a full disk, a copy interrupted): `watcher once` finds the damage at open,
    before any poll, and leaves the file as it was."""
    db = tmp_path / "data" / "watcher.db"
    real_database(db)
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2])
    before = fingerprint(db)
    line = one_error_line(run_cli(["--config", str(cfg), "once"], tmp_path))
    assert line.startswith(f"error: {db}: the database is damaged (") and line.endswith(RESTORE)
    assert fingerprint(db) == before


def test_damaged_pages_inside_the_file_are_found_by_the_check_at_open(tmp_path, cfg):
    """Pages overwritten in the middle of a database whose schema still reads (a disk fault): the integrity check
    at open reports it on one line, before `watcher once` polls or writes anything."""
    db = tmp_path / "data" / "watcher.db"
    real_database(db)
    data = bytearray(db.read_bytes())
    middle = len(data) // 4096 // 2 * 4096
    data[middle : middle + 4 * 4096] = random.Random(3).randbytes(4 * 4096)
    db.write_bytes(bytes(data))
    before = fingerprint(db)
    line = one_error_line(run_cli(["--config", str(cfg), "once"], tmp_path))
    assert line.startswith(f"error: {db}: the database is damaged (*** in database main *** Page ")
    assert line.endswith(RESTORE)
    assert fingerprint(db) == before


def test_locked_database_names_the_process_holding_it(tmp_path, cfg, monkeypatch):
    """While another process holds an exclusive transaction, `watcher run` says who holds the lock and what to
    stop, and exits before its health endpoint starts."""
    monkeypatch.setattr(opening, "BUSY_TIMEOUT_MS", 100)  # give up on the lock at once instead of after 5 s
    db = tmp_path / "data" / "watcher.db"
    real_database(db, alerts=1)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        proc = run_cli(["--config", str(cfg), "run"], tmp_path, WATCHER_HTTP_PORT="0")
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
    line = one_error_line(proc)
    who = f"PID {holder.pid}" if Path("/proc/locks").exists() else "another process"
    assert line == (
        f"error: {db}: the database is locked by {who}; stop that process (another watcher on the "
        "same data directory, a backup, or an open sqlite3 shell) and start watcher again"
    )
    assert "health and metrics on" not in proc.stderr


def test_database_from_a_newer_watcher_is_refused_untouched(tmp_path, cfg):
    """A database recording a schema change this watcher does not know: `watcher run` says a newer watcher wrote
    it, to upgrade or restore, and neither migrates nor writes it."""
    db = tmp_path / "data" / "watcher.db"
    real_database(db, alerts=1)
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO migrations VALUES ('from-a-later-version', '2027-01-01T00:00:00Z')")
    conn.close()
    before = fingerprint(db)
    proc = run_cli(["--config", str(cfg), "run"], tmp_path, WATCHER_HTTP_PORT="0")
    line = one_error_line(proc)
    assert line == (
        f"error: {db}: written by a newer watcher (schema changes from-a-later-version unknown to this "
        "version); nothing was changed; upgrade watcher, or restore a backup made by this version (see "
        'README, "Restore from backup")'
    )
    assert fingerprint(db) == before
    assert "health and metrics on" not in proc.stderr


def test_data_directory_that_cannot_be_created(tmp_path, cfg):
    """WATCHER_DATA_DIR under a regular file: `watcher run` names the directory, the file in the way, and the
    setting to change."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    data = blocker / "data"
    proc = run_cli(["--config", str(cfg), "run"], tmp_path, WATCHER_DATA_DIR=str(data), WATCHER_HTTP_PORT="0")
    line = one_error_line(proc)
    assert line == (
        f"error: {data / 'watcher.db'}: cannot create the data directory {data} ({blocker} is a file, "
        "not a directory); set WATCHER_DATA_DIR to a directory watcher may create and write"
    )
    assert "health and metrics on" not in proc.stderr


def test_database_path_that_cannot_be_read(tmp_path, cfg, capsys, monkeypatch):
    """A directory where watcher.db should be cannot be read as a database: `watcher status` says so in one
    line."""
    db = tmp_path / "data" / "watcher.db"
    db.mkdir(parents=True)
    monkeypatch.setenv("WATCHER_DATA_DIR", str(tmp_path / "data"))
    assert main(["--config", str(cfg), "status"]) == 3
    err = capsys.readouterr().err
    assert err.strip() == (
        f"error: {db}: a directory stands where the database file should be; move it away, or "
        "set WATCHER_DATA_DIR to the directory that holds watcher.db"
    )


def test_a_healthy_database_opens_and_keeps_its_rows(tmp_path):
    """The read-only check passes a sound database, which then opens for writing as before."""
    db = tmp_path / "w.db"
    real_database(db, alerts=3)
    store = Store(db)
    try:
        assert store.outbox_depth() == 3
        store.subscribe("telegram", "2", ["smuggling"])
    finally:
        store.close()


def test_store_error_is_part_of_the_error_tree(tmp_path):
    """Opening a bad file raises StoreError carrying the path, the problem and the hint separately."""
    db = tmp_path / "w.db"
    db.write_bytes(b"not a database at all" * 10)
    with pytest.raises(StoreError) as info:
        Store(db)
    assert info.value.path == str(db) and "not a SQLite database" in info.value.problem
    assert "Restore from backup" in info.value.hint
