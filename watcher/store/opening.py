"""Opening the database safely: check an existing file read-only first, then open it for writing.

Every way the file can be unusable (out of reach, not a database, damaged, locked, written by a newer watcher)
becomes one ``StoreError`` naming the file, what is wrong and what to do. The read-only check writes nothing and
creates no ``-wal`` or ``-shm`` file, so a file that fails it is left exactly as it was.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from pathlib import Path
from urllib.parse import quote

from watcher.errors import StoreError

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
QUICK_CHECK_SECONDS = 10.0  # a larger database is opened without the rest of its check, with a warning
RESTORE = 'nothing was changed; restore it from a backup (see README, "Restore from backup")'
LOCK_HINT = (
    "stop that process (another watcher on the same data directory, a backup, or an open sqlite3 shell) "
    "and start watcher again"
)
WAL_HEADER_BYTE = 18  # 2 there means the database is in WAL mode


def check(path: Path, migrations: set[str], version: int) -> None:
    """Create the data directory, then check an existing database without writing to it."""
    make_directory(path)
    header = _read_header(path)
    if not header:
        return  # no file yet, or an empty one: SQLite starts a new database there
    try:
        conn = _connect_read_only(path, wal=header[WAL_HEADER_BYTE : WAL_HEADER_BYTE + 1] == b"\x02")
    except sqlite3.Error as exc:
        raise explain(path, exc) from exc
    try:
        _quick_check(conn, path)
        _check_schema(conn, path, migrations, version)
    except sqlite3.Error as exc:
        raise explain(path, exc) from exc
    finally:
        conn.close()


def connect(path: str) -> sqlite3.Connection:
    """The read-write connection, in WAL mode."""
    try:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise explain(Path(path), exc) from exc
    db.row_factory = sqlite3.Row
    try:
        db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
    except sqlite3.Error as exc:
        db.close()
        raise explain(Path(path), exc) from exc
    return db


def make_directory(path: Path) -> None:
    """Create the directory that holds the database file ``path``; raises ``StoreError`` saying what is in the way."""
    directory = path.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        blocker = next((p for p in (directory, *directory.parents) if p.exists() and not p.is_dir()), None)
        reason = f"{blocker} is a file, not a directory" if blocker else exc.strerror
        raise StoreError(
            str(path),
            f"cannot create the data directory {directory} ({reason})",
            "set WATCHER_DATA_DIR to a directory watcher may create and write",
        ) from exc


def _read_header(path: Path) -> bytes:
    """The first 100 bytes of the file; empty when there is no file yet."""
    try:
        with path.open("rb") as f:
            return f.read(100)
    except FileNotFoundError:
        return b""
    except IsADirectoryError as exc:
        raise StoreError(
            str(path),
            "a directory stands where the database file should be",
            "move it away, or set WATCHER_DATA_DIR to the directory that holds watcher.db",
        ) from exc
    except OSError as exc:
        raise StoreError(
            str(path),
            f"the database file cannot be read ({exc.strerror})",
            "give the user watcher runs as read and write access to it, or set WATCHER_DATA_DIR to "
            "the directory that holds watcher.db",
        ) from exc


def _connect_read_only(path: Path, wal: bool) -> sqlite3.Connection:
    """A read-only connection. A WAL database with no ``-wal`` and ``-shm`` beside it is not open anywhere, so it
    is read as immutable: opening it otherwise would create those files."""
    idle = wal and not any(Path(f"{path}{end}").exists() for end in ("-wal", "-shm"))
    uri = f"file:{quote(str(path.resolve()))}?mode=ro" + ("&immutable=1" if idle else "")
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return conn


def _quick_check(conn: sqlite3.Connection, path: Path) -> None:
    """``PRAGMA quick_check``, given up (with a warning) after QUICK_CHECK_SECONDS on a very large database."""
    deadline = time.monotonic() + QUICK_CHECK_SECONDS
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    try:
        rows = conn.execute("PRAGMA quick_check(1)").fetchall()
    except sqlite3.OperationalError as exc:
        if "interrupt" not in str(exc):
            raise
        log.warning("%s: integrity check not finished within %.0fs; opening it unchecked", path, QUICK_CHECK_SECONDS)
        return
    finally:
        conn.set_progress_handler(None, 0)
    if rows != [("ok",)]:
        found = " ".join(str(rows[0][0]).split())[:200]  # SQLite's report spans lines; the error is one line
        raise StoreError(str(path), f"the database is damaged ({found})", RESTORE)


def _check_schema(conn: sqlite3.Connection, path: Path, migrations: set[str], version: int) -> None:
    """Refuse a database whose schema changes or version this watcher does not know."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "migrations" in tables:
        unknown = {r[0] for r in conn.execute("SELECT name FROM migrations")} - migrations
        if unknown:
            raise newer_schema(path, f"schema changes {', '.join(sorted(unknown))}")
    if "meta" in tables:
        row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row and str(row[0]).isdigit() and int(row[0]) > version:
            raise newer_schema(path, f"schema version {row[0]}, this one knows {version}")


def newer_schema(path: Path | str, what: str) -> StoreError:
    """The error for a database written by a newer watcher."""
    return StoreError(
        str(path),
        f"written by a newer watcher ({what} unknown to this version)",
        "nothing was changed; upgrade watcher, or restore a backup made by this version (see README, "
        '"Restore from backup")',
    )


def explain(path: Path, exc: sqlite3.Error) -> StoreError:
    """Turn SQLite's error into one line that says what is wrong with the file and what to do."""
    text = str(exc)
    if "not a database" in text:
        return StoreError(str(path), f"not a SQLite database ({text})", RESTORE)
    if "malformed" in text or "corrupt" in text:
        return StoreError(str(path), f"the database is damaged ({text})", RESTORE)
    if "locked" in text or "busy" in text:
        pid = lock_holder(path)
        who = f"PID {pid}" if pid else "another process"
        return StoreError(str(path), f"the database is locked by {who}", LOCK_HINT)
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return StoreError(
            str(path),
            f"the database cannot be opened for writing ({text})",
            "give the user watcher runs write access to it and to its directory, or set "
            "WATCHER_DATA_DIR to a writable directory",
        )
    return StoreError(str(path), f"the database cannot be used ({text})", RESTORE)


def lock_holder(path: Path) -> int | None:
    """Best effort: the process holding a write lock on the database or its WAL index, from /proc/locks."""
    wanted: dict[str, str] = {}
    for name in (str(path), f"{path}-shm"):
        try:
            st = os.stat(name)
        except OSError:
            continue
        wanted[str(st.st_ino)] = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as f:
            lines = f.read(1 << 20).splitlines()
    except OSError:
        return None
    by_inode: int | None = None
    for line in lines:
        fields = line.split()
        if len(fields) < 6 or "->" in fields or fields[3] != "WRITE" or not fields[4].isdigit():
            continue  # a waiter, a reader, or a lock without a process (OFD)
        pid, key = int(fields[4]), fields[5]
        inode = key.rsplit(":", 1)[-1]
        if pid in (0, os.getpid()) or inode not in wanted:
            continue
        if wanted[inode] == key:
            return pid
        by_inode = by_inode or pid  # same inode, device numbered differently (overlay file systems)
    return by_inode
