"""Provenance: every PDF read and every feed answer that gave a new item is recorded with its hash, URL, time,
status, validators and size; kept PDFs are stored by hash, and `watcher archive verify` finds a changed byte."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from tests.conftest import NoMatch, run_cli
from tests.fakes import council_pdfs
from tests.fakes.clock import FakeClock
from tests.fakes.council import MORNING, PDF_HEADERS
from tests.fakes.feeds import rss
from watcher import pipeline
from watcher.http.client import Http
from watcher.models import Item
from watcher.sources.council_documents import CouncilDocumentsSource
from watcher.sources.rss import RssSource
from watcher.store.provenance import (
    ArchiveOptions,
    Fetched,
    KeptDocuments,
    archive_options_from_toml,
    item_provenance,
    links,
)
from watcher.store.sqlite import Store

ENTRY = {"title": "Council agrees on migrant smuggling", "link": "https://e.org/a", "guid": "a"}
LATER = {"title": "Second", "link": "https://e.org/b", "guid": "b"}


@pytest.fixture
async def http():
    client = Http(timeout=2.0, per_host_interval=0.0)
    yield client
    await client.aclose()


def pdf(number: int) -> bytes:
    return council_pdfs.make_pdf(
        [
            "\n".join(
                [
                    "Council of the European Union",
                    "Brussels, 2 March 2026 (OR. en)",
                    f"{number}/26",
                    "MIGR 12   NOTE",
                    "From: Presidency",
                    "To: Delegations",
                    "Subject: Migrant smuggling",
                    "",
                    "Delegations will find a note.",
                ]
            )
        ]
    )


async def test_feed_answer_that_gave_a_new_item_is_recorded(tmp_path, feed_server, http):
    """The feed answer behind a new item is stored with its SHA-256, size, status, ETag, URL and UTC time."""
    store = Store(tmp_path / "w.db", clock=FakeClock(MORNING))
    source = RssSource(name="feed", url=feed_server.url("/f.xml"), every=60.0)
    feed_server.set("/f.xml", rss([ENTRY]), headers={"Content-Type": "application/rss+xml", "ETag": '"v1"'})
    await pipeline.poll(source, http, store, NoMatch())
    body = rss([ENTRY, LATER])
    feed_server.set(
        "/f.xml",
        body,
        headers={
            "Content-Type": "application/rss+xml",
            "ETag": '"v2"',
            "Last-Modified": "Mon, 02 Mar 2026 08:00:00 GMT",
        },
    )
    await pipeline.poll(source, http, store, NoMatch())
    [row] = item_provenance(store.db, "feed", "b")
    data = body.encode() if isinstance(body, str) else body
    assert row["sha256"] == hashlib.sha256(data).hexdigest() and row["size"] == len(data)
    assert (row["status"], row["etag"], row["role"], row["event"]) == (200, '"v2"', "listing", "new")
    assert row["url"] == feed_server.url("/f.xml") and row["last_modified"].startswith("Mon, 02 Mar")
    assert row["retrieved_at"].endswith("+00:00") and row["kept"] == 0
    assert len(item_provenance(store.db, "feed", "a")) == 1  # the first poll's answer, behind its items too
    events = store.db.execute("SELECT item_id, event FROM item_events ORDER BY id").fetchall()
    assert [tuple(e) for e in events] == [("a", "new"), ("b", "new")]


async def test_pdf_is_recorded_kept_and_verified(tmp_path, feed_server, http):
    """A PDF read is recorded as the item's document, its bytes kept under their hash; flipping one byte makes
    `watcher archive verify` report it and exit 1."""
    data_dir = tmp_path / "data"
    store = Store(data_dir / "watcher.db", clock=FakeClock(MORNING))
    body = pdf(1)
    feed_server.set("/doc/document/ST-1-2026-INIT/en/pdf", body, headers=PDF_HEADERS)
    source = CouncilDocumentsSource(
        name="docs", url=feed_server.url("/doc/document"), every=600.0, window=2, lookahead=6
    )
    keep = KeptDocuments(data_dir / "documents")
    await pipeline.poll(source, http, store, NoMatch(), keep=keep)
    [row] = item_provenance(store.db, "docs", "ST 1 2026 INIT")
    sha = hashlib.sha256(body).hexdigest()
    assert (row["role"], row["sha256"], row["size"], row["kept"]) == ("document", sha, len(body), 1)
    copy = keep.path_of(sha)
    assert copy.read_bytes() == body
    store.close()
    ok = run_cli(["archive", "verify"], tmp_path, WATCHER_DATA_DIR=str(data_dir))
    assert ok.returncode == 0 and "all match" in ok.stdout
    flipped = bytearray(body)
    flipped[len(flipped) // 2] ^= 0x01
    copy.write_bytes(bytes(flipped))
    bad = run_cli(["archive", "verify"], tmp_path, WATCHER_DATA_DIR=str(data_dir))
    assert bad.returncode == 1 and f"MISMATCH {copy}" in bad.stderr
    copy.unlink()
    gone = run_cli(["archive", "verify"], tmp_path, WATCHER_DATA_DIR=str(data_dir))
    assert gone.returncode == 1 and "missing" in gone.stderr


async def test_pdf_over_the_cap_is_recorded_but_not_kept(tmp_path, feed_server, http):
    """A PDF larger than keep_max_bytes gets its provenance row but no kept copy."""
    store = Store(tmp_path / "w.db", clock=FakeClock(MORNING))
    feed_server.set("/doc/document/ST-1-2026-INIT/en/pdf", pdf(1), headers=PDF_HEADERS)
    source = CouncilDocumentsSource(
        name="docs", url=feed_server.url("/doc/document"), every=600.0, window=1, lookahead=6
    )
    keep = KeptDocuments(tmp_path / "documents", max_bytes=10)
    await pipeline.poll(source, http, store, NoMatch(), keep=keep)
    [row] = item_provenance(store.db, "docs", "ST 1 2026 INIT")
    assert row["kept"] == 0 and not (tmp_path / "documents").exists()


def test_archive_table_is_checked():
    """[archive] takes keep_documents and keep_max_bytes and names any other key or a wrong value."""
    assert archive_options_from_toml({"keep_documents": True, "keep_max_bytes": 5}, "s.toml") == (
        ArchiveOptions(True, 5),
        [],
    )
    _, problems = archive_options_from_toml({"keep": True, "keep_max_bytes": 0}, "s.toml")
    assert len(problems) == 2 and "unknown key 'keep'" in problems[0]


def _answer(url: str, body: bytes = b"", document: bool = False) -> Fetched:
    return Fetched(url, url, 200, "", len(body), "", None, None, datetime(2026, 1, 1, tzinfo=UTC), document, body=body)


def test_each_item_is_linked_to_the_pages_that_name_it():
    """Several listing pages: an item comes from the pages whose markup names it (its URL, escaped or not, its path
    or its id; in a small page also inside text), from every page when none does; a PDF from its own answer."""
    page1 = b'<a href="https://e.org/a?x=1&amp;y=2">A</a> <guid>item-b</guid>'
    page2 = b"<p>see https://e.org/c.</p>" + b"<link>/news/d</link>"
    fetched = [
        _answer("https://e.org/p1", page1),
        _answer("https://e.org/p2", page2),
        _answer("https://e.org/e.pdf", document=True),
    ]
    items = {
        "a": Item("s", "a", "A", "https://e.org/a?x=1&y=2"),
        "b": Item("s", "item-b", "B", "https://e.org/b"),
        "c": Item("s", "c", "C", "https://e.org/c"),
        "d": Item("s", "d", "D", "https://e.org/news/d"),
        "e": Item("s", "e", "E", "https://e.org/e.pdf"),
        "z": Item("s", "z", "Z", "https://e.org/z"),
    }
    found: dict[str, list[tuple[int, str]]] = {}
    for item, _, n, role in links([(i, "new") for i in items.values()], fetched):
        found.setdefault(item.title.lower(), []).append((n, role))
    assert found == {
        "a": [(0, "listing")],
        "b": [(0, "listing")],
        "c": [(1, "listing")],
        "d": [(1, "listing")],
        "e": [(2, "document"), (0, "listing"), (1, "listing")],
        "z": [(0, "listing"), (1, "listing")],
    }


def test_one_listing_gives_every_item_without_reading_its_body():
    """With one listing there is nothing to tell apart: every item came from it (a 100,000-item feed used to be
    searched once per item, which took minutes)."""
    body = b"".join(b"<item><link>https://e.org/%d</link></item>" % n for n in range(50_000))
    items = [Item("s", str(n), "t", f"https://e.org/{n}") for n in range(50_000)]
    found = list(links([(i, "new") for i in items], [_answer("https://e.org/feed", body)]))
    assert [(i.id, n) for i, _, n, _ in found] == [(str(n), 0) for n in range(50_000)]
