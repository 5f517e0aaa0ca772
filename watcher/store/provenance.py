"""Provenance: what was fetched to learn about an item, so that a reader can cite it and check it.

During a poll, ``Recorder`` stands in front of the shared HTTP client and notes every answer: the URL asked for
and the one that answered, the status, ETag and Last-Modified, the size, the SHA-256 of the body and the time it
was retrieved (UTC). A PDF is a **document** answer; anything else (a feed, a register page) is a **listing**.
``record`` runs inside the poll's own transaction (see ``Store.record_poll``): it writes each item's event
(``new``, ``version``, ``public``) and links the event to the answers it came from: the PDF at the item's URL,
and the listing answers that name the item. Every PDF read is kept as a row even when no item names it.

With ``[archive] keep_documents = true`` the PDF bytes themselves are kept under the data directory in a
content-addressed folder (``documents/ab/abcdef…``, named by their SHA-256, each at most ``keep_max_bytes``), so
``verify`` can hash them again and report any copy that no longer matches.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from watcher.clock import iso
from watcher.models import Item
from watcher.store.db import Connection

log = logging.getLogger(__name__)

PDF_MAGIC = b"%PDF-"
DEFAULT_KEEP_MAX_BYTES = 20 * 1024 * 1024
DOCUMENTS = "document"
LISTING = "listing"
_TYPES = {"keep_documents": bool, "keep_max_bytes": int}


@dataclass(frozen=True)
class ArchiveOptions:
    """The ``[archive]`` table of ``sources.toml``: whether PDF bytes are kept, and up to what size each."""

    keep_documents: bool = False
    keep_max_bytes: int = DEFAULT_KEEP_MAX_BYTES


def archive_options_from_toml(table: Any, filename: str) -> tuple[ArchiveOptions, list[str]]:
    """The ``[archive]`` table as ArchiveOptions, or the defaults plus one problem line per wrong key or value."""
    if table is None:
        return ArchiveOptions(), []
    if not isinstance(table, dict):
        return ArchiveOptions(), [f"{filename}: [archive] must be a table"]
    problems, values = [], {}
    for key, value in table.items():
        want = _TYPES.get(key)
        if want is None:
            problems.append(f"{filename}: [archive]: unknown key {key!r}; allowed: {', '.join(_TYPES)}")
        elif want is bool and not isinstance(value, bool):
            problems.append(f"{filename}: [archive]: {key!r} must be true or false, got {value!r}")
        elif want is int and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            problems.append(f"{filename}: [archive]: {key!r} must be a whole number of bytes above 0, got {value!r}")
        else:
            values[key] = value
    return ArchiveOptions(**values), problems


@dataclass(frozen=True)
class KeptDocuments:
    """Where kept PDFs live (``folder``) and the largest one kept."""

    folder: Path
    max_bytes: int = DEFAULT_KEEP_MAX_BYTES

    def path_of(self, sha256: str) -> Path:
        return self.folder / sha256[:2] / sha256

    def keep(self, sha256: str, content: bytes) -> bool:
        """Write the bytes under their hash (once; atomically); False when they pass the cap or the write fails."""
        if len(content) > self.max_bytes:
            return False
        target = self.path_of(sha256)
        if target.exists():
            return True
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as out:
                out.write(content)
            os.replace(out.name, target)
        except OSError as exc:
            log.warning("archive: could not keep the document %s in %s: %s", sha256, self.folder, exc)
            return False
        return True


def kept_documents(data_dir: Path, options: ArchiveOptions) -> KeptDocuments | None:
    """The kept-documents folder under the data directory, or None when documents are not kept."""
    return KeptDocuments(data_dir / "documents", options.keep_max_bytes) if options.keep_documents else None


@dataclass(frozen=True)
class Fetched:
    """One answer a poll got: what a citation needs, and (for a listing) the body, to tell which items it gave."""

    url: str
    final_url: str
    status: int
    sha256: str
    size: int
    content_type: str
    etag: str | None
    last_modified: str | None
    retrieved_at: datetime
    document: bool
    kept: bool = False
    body: bytes = field(default=b"", repr=False, compare=False)


def describe(url: str, resp: Any, when: datetime, keep: KeptDocuments | None) -> Fetched:
    """The provenance of one answer (hashing it, and keeping a PDF's bytes when asked)."""
    content: bytes = resp.content
    digest = hashlib.sha256(content).hexdigest()
    document = PDF_MAGIC in content[:1024]
    headers = {k.lower(): v for k, v in resp.headers.items()}
    kept = bool(document and keep is not None and keep.keep(digest, content))
    return Fetched(
        url=url,
        final_url=resp.url,
        status=resp.status,
        sha256=digest,
        size=len(content),
        content_type=headers.get("content-type", ""),
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
        retrieved_at=when.astimezone(UTC),
        document=document,
        kept=kept,
        body=b"" if document else content,
    )


class Recorder:
    """The shared HTTP client for one poll, noting each answer it gives (see ``describe``)."""

    def __init__(self, http: Any, keep: KeptDocuments | None = None):
        self._http = http
        self.keep = keep
        self.fetched: list[Fetched] = []

    async def get(self, url: str, **options: Any) -> Any:
        resp = await self._http.get(url, **options)
        clock = getattr(self._http, "clock", None)
        when = clock.now() if clock is not None else datetime.now(UTC)
        # hashing (and writing) a large PDF takes a while: off the event loop
        self.fetched.append(await asyncio.to_thread(describe, url, resp, when, self.keep))
        return resp

    def __getattr__(self, name: str) -> Any:
        return getattr(self._http, name)


SCAN_BYTES = 256 * 1024  # a listing up to this size is also searched for a name its markup does not set apart
_MARKUP_BREAKS = re.compile(rb"[\s\"'<>]+")


class _Listing:
    """A listing answer, read once for the names it sets apart in markup (between tags, quotes or spaces), so that
    finding which items it names costs one lookup per item, not a scan of the whole body per item (a 100,000-item
    feed is 10 MB)."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.words = set(_MARKUP_BREAKS.split(body))

    def names(self, item: Item) -> bool:
        """Whether it names the item: its URL (as written in markup, or its path) or its id."""
        url = item.url or ""
        needles = [
            n.encode("utf-8", "replace") for n in (url, html.escape(url, quote=False), urlsplit(url).path, item.id)
        ]
        needles = [n for n in needles if len(n) >= 4]
        if any(n in self.words for n in needles):
            return True
        return len(self.body) <= SCAN_BYTES and any(n in self.body for n in needles)


def links(events: Sequence[tuple[Item, str]], fetched: Sequence[Fetched]) -> Iterator[tuple[Item, str, int, str]]:
    """(item, event, index into ``fetched``, role) for each answer an event came from. With one listing every item
    came from it; with several (pages), from those that name it, else from all of them."""
    listings = [n for n, f in enumerate(fetched) if not f.document]
    read = {n: _Listing(fetched[n].body) for n in listings} if len(listings) > 1 else {}
    documents: dict[str, list[int]] = {}
    for n, f in enumerate(fetched):
        if f.document:
            for url in {f.url, f.final_url}:
                documents.setdefault(url, []).append(n)
    for item, event in events:
        for n in documents.get(item.url, []):
            yield item, event, n, DOCUMENTS
        naming = [n for n in listings if read[n].names(item)] if read else []
        for n in naming or listings:
            yield item, event, n, LISTING


def record(db: Connection, events: Sequence[tuple[Item, str]], fetched: Sequence[Fetched], now: str) -> None:
    """Write the poll's events and their provenance; runs inside the poll's transaction."""
    db.executemany(
        "INSERT INTO item_events (source, item_id, event, at) VALUES (?,?,?,?)",
        [(item.source, item.id, event, now) for item, event in events],
    )
    if not fetched:
        return
    found = list(links(events, fetched))
    wanted = {n for _, _, n, _ in found} | {n for n, f in enumerate(fetched) if f.document}
    ids = {n: _insert_fetch(db, fetched[n]) for n in sorted(wanted)}
    db.executemany(
        "INSERT INTO item_fetches (source, item_id, fetch_id, role, event) VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING",
        [(item.source, item.id, ids[n], role, event) for item, event, n, role in found],
    )


def _insert_fetch(db: Connection, f: Fetched) -> int:
    row = db.execute(
        "INSERT INTO fetches (url, final_url, status, sha256, size, content_type, etag, last_modified, "
        "retrieved_at, kept) VALUES (?,?,?,?,?,?,?,?,?,?) RETURNING id",
        (
            f.url,
            f.final_url,
            f.status,
            f.sha256,
            f.size,
            f.content_type[:200],
            f.etag,
            f.last_modified,
            iso(f.retrieved_at),
            int(f.kept),
        ),
    ).fetchone()
    return int(row[0])


def item_provenance(db: Connection, source: str, item_id: str) -> list[dict]:
    """What each of the item's events was learnt from, oldest first."""
    rows = db.execute(
        "SELECT l.role, l.event, f.* FROM item_fetches l JOIN fetches f ON f.id = l.fetch_id WHERE l.source=? AND "
        "l.item_id=? ORDER BY f.retrieved_at, f.id",
        (source, item_id),
    ).fetchall()
    return [dict(r) for r in rows]


def kept_copy(db: Connection, sha256: str) -> bool:
    """Whether a document with this hash was kept."""
    return db.execute("SELECT 1 FROM fetches WHERE sha256=? AND kept=1 LIMIT 1", (sha256,)).fetchone() is not None


@dataclass(frozen=True)
class Mismatch:
    """A kept copy that no longer matches its name: changed (``found`` is its hash now) or missing."""

    path: Path
    expected: str
    found: str


def kept_hashes(db: Connection) -> list[str]:
    return [r[0] for r in db.execute("SELECT DISTINCT sha256 FROM fetches WHERE kept=1 ORDER BY sha256")]


def verify(folder: Path, expected: Iterable[str] = ()) -> tuple[int, list[Mismatch]]:
    """Hash every kept copy again: the number checked and the ones that do not match (``expected`` names copies
    the database says were kept, so a missing one is reported too)."""
    checked, bad = 0, []
    seen: set[str] = set()
    for path in sorted(folder.glob("??/*")) if folder.is_dir() else []:
        if not path.is_file() or path.name.startswith("tmp"):
            continue
        checked += 1
        seen.add(path.name)
        found = _hash_file(path)
        if found != path.name:
            bad.append(Mismatch(path, path.name, found))
    for sha in expected:
        if sha not in seen:
            bad.append(Mismatch(folder / sha[:2] / sha, sha, "missing"))
    return checked, bad


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
