"""The database under the store: a SQLite file (the default) or a PostgreSQL server (``WATCHER_DATABASE_URL``).

The store's SQL is written once, in the subset both databases accept, with ``?`` placeholders. For SQLite the store
uses ``sqlite3.Connection`` itself. For PostgreSQL it uses :class:`PgConnection`, a connection from a psycopg 3
pool that offers the same few methods (``execute``, ``executemany``, ``in_transaction``, ``close``) and rows that
read by position and by name, like ``sqlite3.Row``. What differs is kept here, in three places:

- **Statements** (:func:`translate`): ``?`` becomes psycopg's ``%s`` (and a literal ``%`` is doubled), and
  ``BEGIN IMMEDIATE`` is plain ``BEGIN``. Nothing else is rewritten.
- **Schema** (:func:`postgres_ddl`): SQLite's ``INTEGER PRIMARY KEY`` (the rowid alias) is an identity column;
  text columns compare byte by byte (``COLLATE "C"``, as SQLite does); tables whose insertion order the queries
  read (``ORDER BY rowid``) get a ``rowid`` identity column; ``WITHOUT ROWID`` is dropped. A migration that
  cannot be written for both (the archive's full-text index) has a PostgreSQL body of its own in
  ``schema.POSTGRES_MIGRATIONS``.
- **Functions** (:data:`POSTGRES_FUNCTIONS`): ``group_concat(text, text)``, which SQLite has, defined in
  PostgreSQL as an aggregate, so queries need not be written twice.

Migrations on PostgreSQL run under a session advisory lock (:func:`advisory_lock`), so when several replicas start
together one migrates and the others wait, then find nothing left to do. The pool hands out further connections on
request (:meth:`PostgresDatabase.connect`): a leader lease would hold one such connection for its own session-level
advisory lock.
"""

from __future__ import annotations

import contextlib
import functools
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from watcher.errors import StoreError

SQLITE, POSTGRES = "sqlite", "postgresql"
URL_SCHEMES = ("postgresql://", "postgres://")
IDLE = 0  # psycopg.pq.TransactionStatus.IDLE: no transaction open on the connection
MIGRATION_LOCK = 0x77617463686572  # "watcher": the advisory lock key held while the schema is migrated
CONNECT_SECONDS = 10.0
POOL_SIZE = 4


class PostgresError(Exception):
    """PostgreSQL refused a statement or the connection was lost; ``sqlstate`` is the server's code (or None) and
    the psycopg error is the cause. psycopg itself is loaded only when a PostgreSQL database is opened."""

    def __init__(self, message: str, sqlstate: str | None = None):
        super().__init__(message)
        self.sqlstate = sqlstate


DATABASE_ERRORS = (sqlite3.Error, PostgresError)  # what a store call raises when the database refuses it
INSTALL_EXTRA = "install the PostgreSQL extra: pip install 'eu-council-watcher[postgres]'"


class Cursor(Protocol):
    """What the store reads of a cursor."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """What the store uses of a connection: ``sqlite3.Connection`` and ``PgConnection`` both offer it."""

    def execute(self, sql: str, parameters: Any = (), /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Cursor: ...

    @property
    def in_transaction(self) -> bool: ...

    def close(self) -> None: ...


def is_postgres(target: object) -> bool:
    """Whether a store target (a path or a URL) names a PostgreSQL database."""
    return str(target).startswith(URL_SCHEMES)


def safe_url(url: str) -> str:
    """The URL without its password, for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


# --- statements -------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=2048)
def translate(sql: str) -> str:
    """A statement written for SQLite's ``?`` placeholders, for psycopg: ``?`` outside quotes becomes ``%s`` and
    ``%`` becomes ``%%``; ``BEGIN IMMEDIATE`` (SQLite's write transaction) becomes ``BEGIN``."""
    if sql.strip().upper() == "BEGIN IMMEDIATE":
        return "BEGIN"
    out: list[str] = []
    quote: str | None = None
    for ch in sql:
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "?":
            out.append("%s")
            continue
        if ch == "%":
            out.append("%%")
            continue
        out.append(ch)
    return "".join(out)


class Row(tuple):
    """A result row read by position (``r[0]``), by column name (``r["id"]``) or as a dict (``dict(r)``), like
    ``sqlite3.Row``; with a repeated name, the first column of that name answers."""

    _names: tuple[str, ...]
    _index: dict[str, int]

    def __new__(cls, values: Sequence[Any], names: tuple[str, ...], index: dict[str, int]) -> Row:
        row = super().__new__(cls, values)
        row._names, row._index = names, index
        return row

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


def _rows(cursor: Any) -> Any:
    """psycopg's row factory for :class:`Row`."""
    names = tuple(c.name for c in cursor.description or ())
    index: dict[str, int] = {}
    for i, name in enumerate(names):
        index.setdefault(name, i)
    return lambda values: Row(values, names, index)


class PgConnection:
    """A pooled psycopg connection in autocommit mode behind the store's connection methods; ``BEGIN`` and
    ``COMMIT`` (see ``Store.tx``) make the transactions.

    A session the server ended (a restart, a failover, an administrator) fails the statement that finds out with
    PostgresError; the next statement runs on a new connection from the pool. Inside a transaction nothing moves to a
    new connection: the transaction's remaining statements fail until its ``ROLLBACK`` (which then has nothing left
    to undo: the server ended the transaction with the session)."""

    backend = POSTGRES

    def __init__(self, database: PostgresDatabase, conn: Any):
        self.database = database
        self.conn = conn
        self._open = False  # between our BEGIN and its COMMIT or ROLLBACK

    @property
    def in_transaction(self) -> bool:
        if self.conn.broken or self.conn.closed:
            return self._open
        return bool(self.conn.info.transaction_status != IDLE)

    def _live(self, sql: str) -> Any:
        """The connection to run ``sql`` on, or None when it is the ROLLBACK of a transaction the server ended."""
        if not (self.conn.broken or self.conn.closed):
            return self.conn
        word = sql.lstrip()[:8].upper()
        if self._open and not word.startswith(("ROLLBACK", "COMMIT")):
            raise PostgresError("the connection to PostgreSQL was lost during a transaction")
        self.database.release(self.conn)
        self.conn = self.database.getconn()
        if self._open:
            self._open = False
            if word.startswith("COMMIT"):
                raise PostgresError("the connection to PostgreSQL was lost before the transaction committed")
            return None
        return self.conn

    def _track(self, sql: str) -> None:
        word = sql.lstrip()[:8].upper()
        if word.startswith("BEGIN"):
            self._open = True
        elif word.startswith(("COMMIT", "ROLLBACK")):
            self._open = False

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        text = translate(sql)
        with self.database.errors():
            conn = self._live(text)
            cur = (conn or self.conn).cursor()
            if conn is not None:
                cur.execute(text, parameters or ())
        self._track(text)
        return cur

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Any:
        text = translate(sql)
        with self.database.errors():
            cur = self._live(text).cursor()
            cur.executemany(text, list(parameters))
        return cur

    def close(self) -> None:
        self.database.release(self.conn)


class PostgresDatabase:
    """A psycopg pool on one database URL; :meth:`connect` hands out a :class:`PgConnection`."""

    def __init__(self, url: str, size: int = POOL_SIZE):
        self.name = safe_url(url)
        try:
            import psycopg  # loaded late: only a PostgreSQL store needs the driver (it takes 0.15 s to load)
            import psycopg_pool  # loaded late: as psycopg
        except ImportError as exc:
            raise StoreError(
                self.name, f"WATCHER_DATABASE_URL names PostgreSQL but {exc.name} is missing", INSTALL_EXTRA
            ) from exc
        self.driver_error: type[Exception] = psycopg.Error
        try:  # one direct connection first: it fails at once, with the server's own reason
            psycopg.connect(url, connect_timeout=int(CONNECT_SECONDS)).close()
        except psycopg.Error as exc:
            raise StoreError(
                self.name,
                f"cannot connect to PostgreSQL ({' '.join(str(exc).split())[:300]})",
                "check that the server runs and WATCHER_DATABASE_URL names its host, port, user, password and "
                "database (postgresql://user:password@host:5432/dbname)",
            ) from exc
        self.pool = psycopg_pool.ConnectionPool(
            url,
            min_size=1,
            max_size=size,
            kwargs={"autocommit": True, "row_factory": _rows},
            open=False,
            name="watcher",
        )
        with self.errors():
            self.pool.open(wait=True, timeout=CONNECT_SECONDS)

    @contextlib.contextmanager
    def errors(self) -> Iterator[None]:
        """psycopg's errors (and the pool's time-outs) as PostgresError."""
        try:
            yield
        except self.driver_error as exc:
            raise PostgresError(" ".join(str(exc).split())[:500], getattr(exc, "sqlstate", None)) from exc

    def getconn(self) -> Any:
        with self.errors():
            return self.pool.getconn(timeout=CONNECT_SECONDS)

    def release(self, conn: Any) -> None:
        with contextlib.suppress(Exception):  # a closed pool or a broken connection: nothing to give back
            self.pool.putconn(conn)

    def connect(self) -> PgConnection:
        return PgConnection(self, self.getconn())

    def close(self) -> None:
        self.pool.close()


def read_rows(url: str, sql: str, parameters: Sequence[Any] = ()) -> list[Any]:
    """The rows of one query on a PostgreSQL database, in a read-only session of its own (for commands that only
    look, like ``check-config``); StoreError or PostgresError when it cannot be read."""
    database = PostgresDatabase(url, size=1)
    try:
        conn = database.connect()
        try:
            conn.execute("SET default_transaction_read_only = on")
            return conn.execute(sql, parameters).fetchall()
        finally:
            conn.close()
    finally:
        database.close()


@contextlib.contextmanager
def advisory_lock(db: PgConnection, key: int = MIGRATION_LOCK) -> Iterator[None]:
    """Hold a session-level advisory lock while the block runs (others asking for it wait)."""
    db.execute("SELECT pg_advisory_lock(?)", (key,))
    try:
        yield
    finally:
        if not db.conn.broken:
            db.execute("SELECT pg_advisory_unlock(?)", (key,))


# --- schema -----------------------------------------------------------------------------------------------------

# SQLite functions the store's queries use that PostgreSQL lacks, defined once per database (idempotent).
POSTGRES_FUNCTIONS = """
CREATE OR REPLACE FUNCTION watcher_concat_step(acc text, value text, sep text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN value IS NULL THEN acc WHEN acc IS NULL THEN value ELSE acc || sep || value END $$;
CREATE OR REPLACE AGGREGATE group_concat(text, text) (SFUNC = watcher_concat_step, STYPE = text);
"""
ROWID_TABLES = ("items", "follows")  # tables whose insertion order queries read as ``rowid``
IDENTITY = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
_KEY = re.compile(r"\bINTEGER PRIMARY KEY(?: AUTOINCREMENT)?")
_TEXT = re.compile(r"(?<!\bAS)(\s)TEXT\b(?!\s+COLLATE)")  # the type, upper case; never a column named text
_NO_ROWID = re.compile(r"\)\s*WITHOUT ROWID", re.IGNORECASE)
_CREATE = re.compile(r"^\s*CREATE TABLE IF NOT EXISTS (\w+)", re.IGNORECASE)
_DEFINES_COLUMNS = re.compile(r"^\s*(CREATE TABLE|ALTER TABLE \w+ ADD COLUMN)", re.IGNORECASE)


def postgres_ddl(sql: str) -> list[str]:
    """The statements of a schema text written for SQLite, as PostgreSQL runs them (see the module's notes)."""
    out: list[str] = []
    for statement in split(sql):
        if _DEFINES_COLUMNS.match(statement):
            statement = _TEXT.sub(r'\1TEXT COLLATE "C"', _NO_ROWID.sub(")", _KEY.sub(IDENTITY, statement)))
        out.append(statement)
        created = _CREATE.match(statement)
        if created and created[1] in ROWID_TABLES:
            out.append(
                f"ALTER TABLE {created[1]} ADD COLUMN IF NOT EXISTS rowid BIGINT GENERATED BY DEFAULT AS IDENTITY"
            )
    return out


def split(sql: str) -> list[str]:
    """Statements separated by ``;``, leaving alone those inside quotes and ``$$`` bodies."""
    out: list[str] = []
    start, i, quote = 0, 0, ""
    while i < len(sql):
        if quote:
            if sql.startswith(quote, i):
                i += len(quote)
                quote = ""
                continue
        elif sql.startswith("$$", i):
            quote = "$$"
            i += 2
            continue
        elif sql[i] in "'\"":
            quote = sql[i]
        elif sql[i] == ";":
            out.append(sql[start:i])
            start = i + 1
        i += 1
    out.append(sql[start:])
    return [s.strip() for s in out if s.strip()]
