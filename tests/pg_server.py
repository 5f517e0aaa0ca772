"""A throwaway PostgreSQL server for the replica tests: Debian's ``initdb`` and ``pg_ctl`` (from
``/usr/lib/postgresql/<version>/bin``, or ``WATCHER_PG_BIN``), a cluster in a temporary folder, listening on
127.0.0.1 only, stopped and removed at the end.

PostgreSQL will not run as root; as root the cluster belongs to ``nobody`` and the tools run through ``runuser``.
``Unavailable`` says why no server can start, so the tests skip with that reason.
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


class Unavailable(RuntimeError):
    """No PostgreSQL server can start here; the message says why and how to fix it."""


def bin_dir() -> Path:
    given = os.environ.get("WATCHER_PG_BIN")
    folders = [given] if given else sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in folders:
        if folder and all((Path(folder) / tool).exists() for tool in ("initdb", "pg_ctl", "postgres")):
            return Path(folder)
    raise Unavailable(
        f"no initdb/pg_ctl/postgres in {given or '/usr/lib/postgresql/*/bin'}: apt-get install postgresql, "
        "or point WATCHER_PG_BIN at the folder that has them"
    )


class Server:
    def __init__(self) -> None:
        self.bin = bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="watcher-pg-replicas-"))
        self.user: str | None = None
        if os.geteuid() == 0:
            if shutil.which("runuser") is None:
                raise Unavailable("running as root without runuser, and PostgreSQL refuses to run as root")
            self.user = "nobody"
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.running = False

    def _tool(self, name: str, *args: str) -> None:
        command = [str(self.bin / name), *args]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=self.root)
        if done.returncode:
            raise Unavailable(f"{name} exited with {done.returncode}: {done.stderr.strip()[-800:]}")

    def start(self) -> Server:
        data = self.root / "data"
        self._tool("initdb", "-D", str(data), "-U", "watcher", "--auth=trust", "-E", "UTF8", "-N")
        settings = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c max_connections=100"
        self._tool("pg_ctl", "-D", str(data), "-l", str(self.root / "log"), "-w", "-o", settings, "start")
        self.running = True
        return self

    def stop(self) -> None:
        if self.running:
            self.running = False
            self._tool("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://watcher@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        import psycopg  # loaded late: only the PostgreSQL tests need the driver

        name = f"r_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)
