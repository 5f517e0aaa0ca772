"""One ``watcher run`` per data directory: an exclusive ``flock`` on ``<data>/watcher.lock``, held for the life of the
process and released by the operating system however the process ends (``kill -9`` included), so a stale lock file
never blocks a restart. The holder writes its PID into the file, for the message a second service prints.

``watcher once`` does not take it: it claims the outbox rows it sends (see ``leases``), so it can run beside the
service. The lock is advisory and local: it guards one host's directory, not a network file system shared by hosts.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from watcher.errors import StoreError
from watcher.store import opening

LOCK_NAME = "watcher.lock"
DB_NAME = "watcher.db"  # the database file beside it (``Settings.db_path``)


class DataDirLock:
    """The held lock; ``release`` (or the process's end) lets it go."""

    def __init__(self, path: Path, fd: int):
        self.path = path
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    def __enter__(self) -> DataDirLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def acquire(data_dir: Path) -> DataDirLock:
    """Take the data directory's lock without waiting; raises ``StoreError`` naming the directory, the holder's PID
    and what to do when another process holds it."""
    path = data_dir / LOCK_NAME
    opening.make_directory(data_dir / DB_NAME)  # the store's own message when the directory cannot be made
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(
            str(path),
            f"cannot create the lock file of the data directory ({exc.strerror})",
            "set WATCHER_DATA_DIR to a directory watcher may create and write",
        ) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read_pid(fd)
        os.close(fd)
        who = f"PID {holder}" if holder else "another process"
        raise StoreError(
            str(data_dir),
            f"the data directory is in use by another `watcher run` ({who}, lock file {path})",
            "stop that one first (a service per data directory), or give this one its own WATCHER_DATA_DIR; "
            "`watcher once` may run beside it",
        ) from None
    except OSError as exc:
        os.close(fd)
        raise StoreError(
            str(path),
            f"cannot lock the data directory ({exc.strerror})",
            "keep the data directory on a local file system that supports flock",
        ) from exc
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return DataDirLock(path, fd)


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
