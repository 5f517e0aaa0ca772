"""The archive's reading side: full-text search over what was found, one item with everything known about it,
and the values the search filters offer.

The index is the FTS5 table ``archive_fts`` (reference, title, summary, the matcher's snippets and the PDF text),
kept in step with ``items`` and ``matches`` by triggers (migration ``archive-search``). Its rowid is
``archive_docs.id``, given in the order items were recorded, so "newest first" walks the index backwards and stops
at the page size. The user's words are always quoted into FTS5 syntax, never passed through, and a search stops
after ``SEARCH_SECONDS``.

Reads use their own read-only connection (``Reader``) on one thread of their own: in WAL mode a reader never
waits for the service's writes, and a search never holds up a poll.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar
from urllib.parse import quote

from watcher.clock import SYSTEM_CLOCK, Clock
from watcher.store.db import POSTGRES, PostgresDatabase, PostgresError, is_postgres

P = ParamSpec("P")
T = TypeVar("T")
MAX_QUERY_CHARS = 200
MAX_TERMS = 12
MAX_CODES = 5
PAGE_SIZE = 20
COUNT_CAP = 1000
SEARCH_SECONDS = 2.0
COUNT_SECONDS = 0.02  # past this the page says "many results" instead of a number
PROGRESS_STEP = 1000  # SQLite instructions between two looks at the clock
EVENTS = ("new", "version", "public")
MARK_ON, MARK_OFF = "\x02", "\x03"  # around a matched word in snippets; rendered as <mark> after escaping
_WORD = re.compile(r"\w", re.UNICODE)
_TERM = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
QUERY_CANCELED = "57014"  # PostgreSQL's code for a statement stopped by statement_timeout
TSQUERY_ERRORS = ("42601", "22023")  # syntax error; invalid parameter value


class QueryError(ValueError):
    """A search that cannot run as written; the message says what to change."""


@dataclass(frozen=True)
class Filters:
    """One search: words (``q``) and filters; empty strings mean "any"."""

    q: str = ""
    topic: str = ""
    source: str = ""
    since: str = ""
    until: str = ""
    event: str = ""
    series: str = ""
    doc_type: str = ""
    codes: tuple[str, ...] = ()
    marking: str = ""

    def check(self) -> None:
        """Raise QueryError for input past the bounds or in the wrong form."""
        if len(self.q) > MAX_QUERY_CHARS:
            raise QueryError(f"The search is too long: at most {MAX_QUERY_CHARS} characters.")
        for name in ("since", "until"):
            value = getattr(self, name)
            if value and not _DAY.match(value):
                raise QueryError(f"Write dates as YYYY-MM-DD, e.g. 2024-03-01 (got {value[:20]!r}).")
        if self.event and self.event not in EVENTS:
            raise QueryError(f"Unknown event {self.event[:20]!r}; choose new, version or public.")
        if len(self.codes) > MAX_CODES:
            raise QueryError(f"At most {MAX_CODES} subject codes at once.")
        for value in (self.topic, self.source, self.series, self.doc_type, self.marking, *self.codes):
            if len(value) > 100:
                raise QueryError("A filter value is too long.")


def _terms(text: str) -> list[tuple[bool, str, bool]]:
    """The user's words as (left out, text, prefix): each word or "quoted phrase", ``-`` before it to leave it out,
    ``*`` after it for a prefix. Raises QueryError when nothing is left or there are too many."""
    found: list[tuple[bool, str, bool]] = []
    for m in _TERM.finditer(text):
        negative = bool(m.group(1)) or (m.group(3) or "").startswith("-")
        raw = m.group(2) if m.group(2) is not None else (m.group(3) or "").lstrip("-")
        prefix = raw.endswith("*")
        raw = raw.rstrip("*")
        if _WORD.search(raw):
            found.append((negative, raw, prefix))
    if len(found) > MAX_TERMS:
        raise QueryError(f"Too many words: at most {MAX_TERMS}.")
    if not any(not negative for negative, _, _ in found):
        raise QueryError(
            "Give at least one word to look for (a search of only -words finds nothing)."
            if found
            else "Give at least one word or number to look for."
        )
    return found


def fts_query(text: str) -> str:
    """The user's words as an FTS5 query: each word or "quoted phrase" is a quoted string (a trailing ``*`` asks
    for a prefix), all must match, and ``-word`` leaves out what has it. Raises QueryError when nothing is left."""
    terms = _terms(text)
    quoted = [
        ('"' + raw.replace('"', '""') + '"' + ("*" if prefix else ""), negative) for negative, raw, prefix in terms
    ]
    return " ".join(t for t, negative in quoted if not negative) + "".join(
        f" NOT {t}" for t, negative in quoted if negative
    )


def ts_query(text: str) -> str:
    """The same words as a PostgreSQL tsquery (read with the 'simple' configuration): each word a quoted lexeme, a
    phrase its words in sequence (``<->``), ``:*`` for a prefix, ``!`` to leave out, all joined by ``&``."""
    parts: list[str] = []
    for negative, raw, prefix in _terms(text):
        words = [w for w in re.findall(r"\w+", raw.casefold()) if w]
        if not words:
            continue
        body = " <-> ".join(f"'{w}'" for w in words) + (":*" if prefix else "")
        body = f"({body})" if len(words) > 1 else body
        parts.append(f"!{body}" if negative else body)
    return " & ".join(sorted(parts, key=lambda p: p.startswith("!")))


def _postgres(db: Any) -> bool:
    """Whether ``db`` is a PostgreSQL connection (see ``watcher.store.db``)."""
    return getattr(db, "backend", None) == POSTGRES


@dataclass
class Hit:
    """One search result."""

    id: int
    source: str
    item_id: str
    title: str
    url: str
    published: str | None
    first_seen_at: str
    day: str
    doc_type: str = ""
    updated: str = ""  # the time of its latest event
    topics: list[str] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)
    snippet: str = ""
    title_marked: str = ""
    matched: list[str] = field(default_factory=list)


@dataclass
class Page:
    """One page of results, newest first; ``total`` stops counting at COUNT_CAP, or is None when counting took
    too long (``capped`` says either happened)."""

    hits: list[Hit]
    total: int | None
    capped: bool
    older: int | None  # pass as ``before`` for the next page
    newer: int | None  # pass as ``after`` for the previous page


def _where(f: Filters, postgres: bool = False) -> tuple[list[str], list[Any]]:
    """SQL conditions on ``archive_docs d`` for the filters."""
    sql: list[str] = []
    args: list[Any] = []
    if f.topic:
        sql.append("EXISTS (SELECT 1 FROM matches m WHERE m.source=d.source AND m.item_id=d.item_id AND m.topic=?)")
        args.append(f.topic)
    for column, value in (("d.source", f.source), ("d.series", f.series)):
        if value:
            sql.append(f"{column} = ?")
            args.append(value)
    for column, value in (("d.doc_type", f.doc_type), ("d.marking", f.marking)):
        if value:
            sql.append(f"lower({column}) = lower(?)" if postgres else f"{column} = ? COLLATE NOCASE")
            args.append(value)
    if f.since:
        sql.append("d.day >= ?")
        args.append(f.since)
    if f.until:
        sql.append("d.day <= ?")
        args.append(f.until)
    if f.event:
        sql.append("EXISTS (SELECT 1 FROM item_events e WHERE e.source=d.source AND e.item_id=d.item_id AND e.event=?)")
        args.append(f.event)
    for code in f.codes:
        sql.append("EXISTS (SELECT 1 FROM archive_codes c WHERE c.code=? AND c.doc_id=d.id)")  # stored upper-case
        args.append(code.upper())
    return sql, args


def _window(db: sqlite3.Connection, f: Filters) -> tuple[list[str], list[int]] | None:
    """Bounds on the id for a date range: the lowest and highest id of the documents dated in it, so the index is
    entered there instead of walked from the newest (None: nothing is dated in the range)."""
    if not f.since and not f.until:
        return [], []
    lo, hi = db.execute(
        "SELECT min(id), max(id) FROM archive_docs WHERE day >= ? AND day <= ?", (f.since or "0000", f.until or "9999")
    ).fetchone()
    if lo is None:
        return None
    return ["BETWEEN ? AND ?"], [lo, hi]


def _ids(
    db: sqlite3.Connection, f: Filters, match: str | None, before: int | None, after: int | None, limit: int
) -> list[tuple[int, str, str]]:
    """(id, marked passage, marked title) of up to ``limit`` results, newest first. The passages are made in the
    same pass, which FTS5 walks lazily in rowid order: asking for them again by id would walk each term's whole
    list once per result. On PostgreSQL the GIN index gives the ids and ``ts_headline`` marks the page's passages."""
    postgres = _postgres(db)
    where, args = _where(f, postgres)
    if match is not None and postgres:
        head, key = "SELECT d.id, '', '' FROM archive_docs d", "d.id"
        where.insert(0, "d.words @@ to_tsquery('simple', ?)")
        args.insert(0, match)
    elif match is not None:
        head = (
            "SELECT d.id, snippet(archive_fts, -1, char(2), char(3), '…', 20), highlight(archive_fts, 1, "
            "char(2), char(3)) FROM archive_fts JOIN archive_docs d ON d.id = archive_fts.rowid"
        )
        where.insert(0, "archive_fts MATCH ?")
        args.insert(0, match)
        key = "archive_fts.rowid"
    else:
        head, key = "SELECT d.id, '', '' FROM archive_docs d", "d.id"
    window = _window(db, f)
    if window is None:
        return []
    where += [f"{key} {w}" for w in window[0]]
    args += window[1]
    if before is not None:
        where.append(f"{key} < ?")
        args.append(before)
    if after is not None:
        where.append(f"{key} > ?")
        args.append(after)
    order = "ASC" if after is not None and before is None else "DESC"
    sql = f"{head} {'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY {key} {order} LIMIT ?"
    rows = [(r[0], r[1] or "", r[2] or "") for r in db.execute(sql, [*args, limit])]
    if match is not None and postgres and rows:
        rows = _headlines(db, [r[0] for r in rows], match)
    return sorted(rows, reverse=True)


# ts_headline's options: the words marked as FTS5's snippet() and highlight() mark them, one passage of some 20 words
_PASSAGE = "'StartSel=' || chr(2) || ', StopSel=' || chr(3) || ', MaxWords=20, MinWords=8, MaxFragments=1'"
_WHOLE = "'StartSel=' || chr(2) || ', StopSel=' || chr(3) || ', HighlightAll=true'"
HEADLINE_CHARS = 20_000  # of the summary, snippets and PDF text, read for the passage


def _headlines(db: Any, ids: list[int], match: str) -> list[tuple[int, str, str]]:
    """(id, marked passage, marked title) of these documents on PostgreSQL."""
    marks = ",".join("?" * len(ids))
    rows = db.execute(
        f"SELECT d.id, ts_headline('simple', left(concat_ws(' ', i.summary, d.snippets, i.body), {HEADLINE_CHARS}), "
        f"q, {_PASSAGE}), ts_headline('simple', i.title, q, {_WHOLE}) FROM archive_docs d JOIN items i ON "
        f"i.source = d.source AND i.item_id = d.item_id CROSS JOIN to_tsquery('simple', ?) q WHERE d.id IN ({marks})",
        [match, *ids],
    )
    marked = {r[0]: (r[0], r[1] if MARK_ON in (r[1] or "") else "", r[2] or "") for r in rows}
    return [marked.get(i, (i, "", "")) for i in ids]


def _count(db: sqlite3.Connection, f: Filters, match: str | None) -> int | None:
    """How many results, counting at most COUNT_CAP + 1 for at most COUNT_SECONDS (None: too many to count)."""
    postgres = _postgres(db)
    where, args = _where(f, postgres)
    if match is not None and postgres:
        head = "SELECT 1 FROM archive_docs d"
        where.insert(0, "d.words @@ to_tsquery('simple', ?)")
        args.insert(0, match)
    elif match is not None:
        head = "SELECT 1 FROM archive_fts JOIN archive_docs d ON d.id = archive_fts.rowid"
        where.insert(0, "archive_fts MATCH ?")
        args.insert(0, match)
    else:
        head = "SELECT 1 FROM archive_docs d"
    window = _window(db, f)
    if window is None:
        return 0
    key = "archive_fts.rowid" if match is not None and not postgres else "d.id"
    where += [f"{key} {w}" for w in window[0]]
    args += window[1]
    sql = f"SELECT count(*) FROM ({head} {'WHERE ' + ' AND '.join(where) if where else ''} LIMIT ?) counted"
    try:
        with _deadline(db, COUNT_SECONDS):
            return int(db.execute(sql, [*args, COUNT_CAP + 1]).fetchone()[0])
    except QueryError:
        return None


def search(
    db: sqlite3.Connection, f: Filters, *, before: int | None = None, after: int | None = None, limit: int = PAGE_SIZE
) -> Page:
    """One page of results for the filters, newest first. Raises QueryError for input it will not run."""
    f.check()
    match = (ts_query(f.q) if _postgres(db) else fts_query(f.q)) if f.q.strip() else None
    with _deadline(db, SEARCH_SECONDS):
        rows = _ids(db, f, match, before, after, limit + 1)
    total = _count(db, f, match)
    going_back = after is not None and before is None
    more = len(rows) > limit
    rows = (rows[1:] if going_back else rows[:limit]) if more else rows
    hits = _hits(db, rows)
    older = hits[-1].id if hits and (more or going_back) else None
    newer = hits[0].id if hits and (before is not None or (going_back and more)) else None
    capped = total is None or total > COUNT_CAP
    return Page(
        hits=hits, total=None if total is None else min(total, COUNT_CAP), capped=capped, older=older, newer=newer
    )


def _hits(db: sqlite3.Connection, rows: list[tuple[int, str, str]]) -> list[Hit]:
    if not rows:
        return []
    ids = [r[0] for r in rows]
    marks = ",".join("?" * len(ids))
    found = db.execute(
        "SELECT d.id, d.source, d.item_id, d.day, d.doc_type, i.title, i.url, i.published, i.first_seen_at, "
        "coalesce((SELECT max(e.at) FROM item_events e WHERE e.source=d.source AND e.item_id=d.item_id), "
        "i.first_seen_at) AS updated FROM archive_docs d JOIN items i ON i.source=d.source AND "
        f"i.item_id=d.item_id WHERE d.id IN ({marks})",
        ids,
    ).fetchall()
    by_id = {
        r["id"]: Hit(
            id=r["id"],
            source=r["source"],
            item_id=r["item_id"],
            title=r["title"],
            url=r["url"],
            published=r["published"],
            first_seen_at=r["first_seen_at"],
            day=r["day"],
            doc_type=r["doc_type"],
            updated=r["updated"],
        )
        for r in found
    }
    for hit in by_id.values():
        for m in db.execute(
            "SELECT topic, terms, snippet FROM matches WHERE source=? AND item_id=? ORDER BY topic",
            (hit.source, hit.item_id),
        ):
            hit.topics.append(m["topic"])
            hit.terms += [t for t in json.loads(m["terms"]) if t not in hit.terms]
            hit.snippet = hit.snippet or m["snippet"]
    for doc_id, passage, title in rows:
        if doc_id in by_id:
            _mark(by_id[doc_id], passage, title)
    return [by_id[i] for i in ids if i in by_id]


def _mark(hit: Hit, passage: str, title: str) -> None:
    """The best passage with the searched words marked, the marked title, and those words."""
    if not passage and not title:
        return
    hit.snippet, hit.title_marked = passage or hit.snippet, title
    words = re.findall(f"{MARK_ON}(.*?){MARK_OFF}", f"{title} {passage}", re.S)
    hit.matched = list(dict.fromkeys(w.strip().casefold() for w in words if w.strip()))


class _deadline:
    """Interrupt the connection's statements once ``seconds`` have passed (QueryError: the search was too costly):
    SQLite's progress handler, or PostgreSQL's ``statement_timeout`` (at least 1 ms) for the session."""

    def __init__(self, db: Any, seconds: float):
        self.db, self.seconds = db, seconds

    def __enter__(self) -> None:
        if _postgres(self.db):
            self.db.execute(
                "SELECT set_config('statement_timeout', ?, false)", (f"{max(1, int(self.seconds * 1000))}ms",)
            )
            return
        end = time.monotonic() + self.seconds
        self.db.set_progress_handler(lambda: int(time.monotonic() > end), PROGRESS_STEP)

    def _lift_timeout(self) -> None:
        """Back to no time limit. That statement runs under the limit it lifts, so on a busy server a very short one
        can stop it too: it is tried again, a few times."""
        for attempt in range(5):
            try:
                self.db.execute("SELECT set_config('statement_timeout', '0', false)")
                return
            except PostgresError as err:
                if err.sqlstate != QUERY_CANCELED or attempt == 4:
                    raise

    def __exit__(self, exc_type, exc, tb) -> None:
        if _postgres(self.db):
            self._lift_timeout()
            if isinstance(exc, PostgresError) and exc.sqlstate == QUERY_CANCELED:
                raise QueryError("This search takes too long; add words or filters to narrow it.") from exc
            if isinstance(exc, PostgresError) and exc.sqlstate in TSQUERY_ERRORS:
                raise QueryError('The search could not be read; use words, "quoted phrases", -word and word*.') from exc
            return
        self.db.set_progress_handler(None, 0)
        if isinstance(exc, sqlite3.OperationalError):
            text = str(exc)
            if "interrupted" in text:
                raise QueryError("This search takes too long; add words or filters to narrow it.") from exc
            if "fts5" in text or "syntax error" in text:
                raise QueryError('The search could not be read; use words, "quoted phrases", -word and word*.') from exc


def facets(db: sqlite3.Connection) -> dict[str, list[str]]:
    """The values the filters offer: sources, series, document types, markings and subject codes."""

    def values(sql: str) -> list[str]:
        return [r[0] for r in db.execute(sql) if r[0]]

    def spellings(column: str, limit: int) -> list[str]:  # one spelling per value, whatever its case
        if _postgres(db):
            return values(
                f"SELECT min({column}) FROM archive_docs WHERE {column} <> '' GROUP BY lower({column}) "
                f"ORDER BY count(*) DESC LIMIT {limit}"
            )
        return values(
            f"SELECT {column} FROM archive_docs WHERE {column} <> '' GROUP BY {column} COLLATE NOCASE "
            f"ORDER BY count(*) DESC LIMIT {limit}"
        )

    return {
        "sources": values("SELECT DISTINCT source FROM archive_docs ORDER BY source"),
        "series": values("SELECT DISTINCT series FROM archive_docs ORDER BY series"),
        "types": spellings("doc_type", 60),
        "markings": spellings("marking", 30),
        "codes": values("SELECT code FROM archive_codes GROUP BY code ORDER BY count(*) DESC LIMIT 200"),
    }


def item_detail(db: sqlite3.Connection, source: str, item_id: str) -> dict[str, Any] | None:
    """Everything stored about one item: its row, matches, events timeline and family."""
    row = db.execute(
        "SELECT i.*, d.id AS doc_id, d.series, d.marking FROM items i LEFT JOIN archive_docs d ON "
        "d.source=i.source AND d.item_id=i.item_id WHERE i.source=? AND i.item_id=?",
        (source, item_id),
    ).fetchone()
    if row is None:
        return None
    item = dict(row)
    extra = _json(item.get("extra"), {})
    item["extra"] = extra if isinstance(extra, dict) else {}
    item["matches"] = [
        dict(m) | {"terms": _json(m["terms"], [])}
        for m in db.execute(
            "SELECT topic, terms, snippet, field, matched_at FROM matches WHERE source=? AND item_id=? ORDER BY topic",
            (source, item_id),
        )
    ]
    item["family_members"] = (
        [
            dict(r)
            for r in db.execute(
                "SELECT item_id, title, first_seen_at FROM items WHERE source=? AND family=? AND item_id<>? ORDER BY "
                "first_seen_at, rowid",
                (source, row["family"], item_id),
            )
        ]
        if row["family"]
        else []
    )
    item["timeline"] = timeline(db, item)
    return item


def timeline(db: sqlite3.Connection, item: dict[str, Any]) -> list[dict[str, str]]:
    """What happened to the item, oldest first: first seen, its versions, now public, alerts sent."""
    source, item_id = item["source"], item["item_id"]
    out = [{"at": item["first_seen_at"], "what": "first seen", "detail": ""}]
    labels = {"version": "recorded as a new version", "public": "now public"}
    for r in db.execute(
        "SELECT event, at FROM item_events WHERE source=? AND item_id=? ORDER BY at, id", (source, item_id)
    ):
        if r["event"] in labels:
            out.append({"at": r["at"], "what": labels[r["event"]], "detail": ""})
    for member in item.get("family_members", []):
        out.append({"at": member["first_seen_at"], "what": "other version seen", "detail": member["item_id"]})
    for r in db.execute(
        "SELECT event, count(*) AS n, min(delivered_at) AS first FROM outbox WHERE source=? AND "
        "item_id=? AND delivered_at IS NOT NULL GROUP BY event",
        (source, item_id),
    ):
        what = {"new": "alert sent", "version": "new-version alert sent", "public": "now-public alert sent"}
        out.append(
            {
                "at": r["first"],
                "what": what.get(r["event"], "alert sent"),
                "detail": f"{r['n']} subscriber{'s' if r['n'] != 1 else ''}",
            }
        )
    return sorted(out, key=lambda e: e["at"] or "")


def _json(text: str | None, default: Any) -> Any:
    try:
        return json.loads(text) if text else default
    except ValueError:
        return default


def item_path(source: str, item_id: str) -> str:
    """The archive's address of an item (both parts percent-encoded)."""
    return f"/item/{quote(source, safe='')}/{quote(item_id, safe='')}"


class Reader:
    """A read-only connection to the database, used on one thread of its own (``await reader.run(fn, ...)``).

    ``db`` and ``clock`` make it stand in for the store in read-only query functions (source health). Given a
    ``postgresql://`` URL it reads PostgreSQL instead, on a connection of its own whose transactions are read-only."""

    def __init__(self, path: str | Path, clock: Clock = SYSTEM_CLOCK):
        self.url = str(path) if is_postgres(path) else None
        self.path = Path(path) if self.url is None else Path()
        self.clock: Callable[[], datetime] = clock.now
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive-reader")
        self._db: Any = None
        self._postgres: PostgresDatabase | None = None

    @property
    def db(self) -> Any:
        if self._db is None and self.url is not None:
            self._postgres = PostgresDatabase(self.url, size=1)
            self._db = self._postgres.connect()
            self._db.execute("SET default_transaction_read_only = on")
        if self._db is None:
            uri = f"file:{quote(str(self.path.resolve()))}?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA busy_timeout=2000")
        return self._db

    async def run(self, fn: Callable[Concatenate[Any, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(connection, *args, **kwargs)`` on the reader's thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: fn(self.db, *args, **kwargs))

    async def call(self, fn: Callable[Concatenate[Any, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(reader, *args, **kwargs)`` on the reader's thread, for functions that take a store."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: fn(self, *args, **kwargs))

    def close(self) -> None:
        def shut() -> None:
            if self._db is not None:
                self._db.close()
                self._db = None
            if self._postgres is not None:
                self._postgres.close()
                self._postgres = None

        self._pool.submit(shut).result(timeout=10)
        self._pool.shutdown(wait=True)
