"""A real PostgreSQL server for the tests and benches: Debian's binaries, a cluster made by ``initdb`` in a
temporary folder, listening on 127.0.0.1 on a free port (its Unix socket in that folder too), stopped at the end.

PostgreSQL refuses to run as root. When the tests run as root (the CI container), the cluster belongs to an
unprivileged user (``nobody``) and ``initdb``, ``pg_ctl`` and the server run as that user through ``runuser``.

``PostgresServer.find()`` says why no server can be started (no binaries, no way to drop root), so a test that needs
one can be skipped with the reason and a bench can fail with it.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

BIN_GLOB = "/usr/lib/postgresql/*/bin"
SUPERUSER = "watcher"
UNPRIVILEGED = "nobody"
INSTALL_HINT = "install Debian's PostgreSQL server (apt-get install postgresql) or set WATCHER_PG_BIN to its bin folder"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server can be started here; the message says why and what to do."""


def _bin_dir() -> Path:
    wanted = os.environ.get("WATCHER_PG_BIN")
    candidates = [wanted] if wanted else sorted(glob.glob(BIN_GLOB), key=_version, reverse=True)
    for folder in candidates:
        if folder and all((Path(folder) / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return Path(folder)
    raise PostgresUnavailable(f"no initdb, pg_ctl and postgres found in {wanted or BIN_GLOB}; {INSTALL_HINT}")


def _version(folder: str) -> int:
    name = Path(folder).parent.name
    return int(name) if name.isdigit() else 0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """One throwaway cluster; ``url(dbname)`` gives a ``postgresql://`` URL, ``create_database()`` a fresh one."""

    def __init__(self, bin_dir: Path):
        self.bin = bin_dir
        self.folder = Path(tempfile.mkdtemp(prefix="watcher-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self.runas: str | None = None
        if os.geteuid() == 0:
            self.runas = UNPRIVILEGED
            if shutil.which("runuser") is None:
                raise PostgresUnavailable("running as root and runuser is missing: PostgreSQL refuses to run as root")
            user = pwd.getpwnam(UNPRIVILEGED)
            os.chown(self.folder, user.pw_uid, user.pw_gid)
        self.started = False

    @classmethod
    def find(cls) -> PostgresServer:
        """A server object ready to start, or PostgresUnavailable saying why not."""
        return cls(_bin_dir())

    def _run(self, tool: str, *args: str, timeout: float = 120) -> None:
        command = [str(self.bin / tool), *args]
        if self.runas:
            command = ["runuser", "-u", self.runas, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=self.folder)
        if done.returncode != 0:
            log = self.folder / "server.log"
            tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
            raise PostgresUnavailable(f"{tool} failed ({done.returncode}): {done.stderr.strip()[-1500:]} {tail}")

    def start(self, durable: bool = False) -> PostgresServer:
        """initdb and start. Tests run without fsync (nothing here must survive a power cut); ``durable`` keeps
        fsync on and only lets commits return before their WAL is flushed (``synchronous_commit=off``), which is
        what SQLite in WAL mode with ``synchronous=NORMAL`` promises: the last commits may be lost at a power cut,
        the database is never damaged."""
        self._run(
            "initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "-N"
        )
        safety = "" if durable else "-c fsync=off -c full_page_writes=off "
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} {safety}-c synchronous_commit=off "
            "-c max_connections=200 -c shared_buffers=32MB"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-w", "-o", options, "start")
        self.started = True
        return self

    def stop(self) -> None:
        if self.started:
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=60)
            finally:
                self.started = False
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, prefix: str = "t") -> str:
        """A new empty database; its URL."""
        import psycopg  # loaded late: only the PostgreSQL tests need the driver

        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
