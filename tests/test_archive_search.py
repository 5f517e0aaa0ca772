"""The archive's full-text search: the index follows every write, old databases are indexed by the migration,
user input is quoted safely, filters and paging work, and a costly search stops with a message."""

from __future__ import annotations

import sqlite3

import pytest

from watcher.models import Item, Match
from watcher.store import archive
from watcher.store import sqlite as store_mod
from watcher.store.archive import Filters, QueryError, fts_query, search
from watcher.store.db import PostgresError
from watcher.store.sqlite import Store

NEW_MIGRATIONS = ("archive-search", "item-events-and-provenance")


def council(number: int, title: str, **extra) -> Item:
    ref = f"ST {number} 2024 INIT"
    facts = {
        "family": f"ST {number} 2024",
        "public": True,
        "doc_type": "NOTE",
        "subjects": ["MIGR"],
        "marking": "LIMITE",
    } | extra
    return Item(
        "council",
        ref,
        title,
        f"https://docs.example/ST-{number}-2024-INIT/en/pdf",
        summary=f"Subject of {number}",
        body=f"Body text of document {number}.",
        extra=facts,
    )


def ids(page) -> list[str]:
    return [h.item_id for h in page.hits]


def integrity(store: Store) -> None:
    """FTS5's own check of its index against the items (PostgreSQL's tsvector column has no separate index)."""
    if store.backend == "sqlite":
        store.db.execute("INSERT INTO archive_fts (archive_fts, rank) VALUES ('integrity-check', 1)")


def test_old_database_is_indexed_by_the_migration(tmp_path, monkeypatch):
    """Items stored before the archive existed are searchable, with their snippets and events, after an upgrade."""
    path = tmp_path / "w.db"
    older = [m for m in store_mod.MIGRATIONS if m[0] not in NEW_MIGRATIONS]
    monkeypatch.setattr(store_mod, "MIGRATIONS", older)
    monkeypatch.setattr(store_mod.provenance, "record", lambda *args: None)  # what the older code wrote
    old = Store(path)
    old.record_poll(
        "council",
        [council(1, "Council conclusions on Frontex")],
        {("council", "ST 1 2024 INIT"): [Match("borders", ("frontex",), "…on [Schleusung] networks…")]},
    )
    old.close()
    monkeypatch.undo()
    store = Store(path)
    assert ids(search(store.db, Filters(q="frontex"))) == ["ST 1 2024 INIT"]
    assert ids(search(store.db, Filters(q="schleusung"))) == ["ST 1 2024 INIT"]
    assert ids(search(store.db, Filters(event="new", codes=("migr",)))) == ["ST 1 2024 INIT"]
    integrity(store)


def test_index_follows_inserts_matches_and_a_document_made_public(db_target):
    """A new item, a match's snippet and a placeholder that became public are found by their current words only."""
    store = Store(db_target)
    placeholder = Item(
        "council",
        "ST 2 2024 INIT",
        "ST 2 2024 INIT (not available)",
        "https://docs.example/2",
        extra={"family": "ST 2 2024", "public": False},
    )
    store.record_poll("council", [council(1, "Visa policy"), placeholder], {})
    assert ids(search(store.db, Filters(q="available"))) == ["ST 2 2024 INIT"]
    public = council(2, "Return of irregular migrants", subjects=["ASILE"])
    store.record_poll("council", [public], {public.key: [Match("migration", ("return",), "…[return] of…")]})
    assert ids(search(store.db, Filters(q="available"))) == []
    assert ids(search(store.db, Filters(q="irregular"))) == ["ST 2 2024 INIT"]
    assert ids(search(store.db, Filters(event="public"))) == ["ST 2 2024 INIT"]
    assert ids(search(store.db, Filters(codes=("asile",)))) == ["ST 2 2024 INIT"]
    integrity(store)


@pytest.mark.parametrize(
    "text",
    [
        "NEAR(a b)",
        "a OR b",
        '"unclosed',
        "title:x",
        "a AND",
        "(((",
        "*",
        "^a",
        "x' OR 1=1 --",
        'a"b"c',
        '-"only minus" a',
    ],
)
def test_user_input_never_reaches_fts_syntax(db_target, text):
    """Operators, quotes and column names typed by a reader are searched as words, never as FTS5 (or tsquery)
    syntax."""
    store = Store(db_target)
    store.record_poll("council", [council(1, "NEAR OR AND title x")], {})
    try:
        search(store.db, Filters(q=text))
    except QueryError as exc:  # only the clear "give a word" message may come back
        assert "word" in str(exc)


def test_query_words_phrases_prefixes_and_exclusions():
    """Words are ANDed quoted strings, a phrase stays one, word* asks for a prefix, -word leaves out."""
    assert fts_query('migrant "border guard" front* -visa') == '"migrant" "border guard" "front"* NOT "visa"'
    with pytest.raises(QueryError):
        fts_query("-visa")
    with pytest.raises(QueryError):
        fts_query(" ".join(["w"] * 13))
    with pytest.raises(QueryError):
        Filters(q="x" * 201).check()


def test_filters_and_newest_first_paging(db_target):
    """Filters narrow the results; pages go newest first, older and back, without repeating or skipping."""
    store = Store(db_target)
    store.record_poll("council", [council(n, f"Note {n} on borders") for n in range(1, 46)], {})
    store.record_poll("feed", [Item("feed", "f1", "Feed item on borders", "https://e.org/f1")], {})
    first = search(store.db, Filters(q="borders"))
    assert first.total == 46 and first.hits[0].item_id == "f1" and first.newer is None
    second = search(store.db, Filters(q="borders"), before=first.older)
    third = search(store.db, Filters(q="borders"), before=second.older)
    seen = ids(first) + ids(second) + ids(third)
    assert len(seen) == len(set(seen)) == 46 and third.older is None
    back = search(store.db, Filters(q="borders"), after=second.newer)
    assert ids(back) == ids(first)
    assert ids(search(store.db, Filters(q="borders", source="feed"))) == ["f1"]
    assert len(search(store.db, Filters(series="ST", doc_type="note", marking="limite")).hits) == 20
    assert search(store.db, Filters(since="2999-01-01")).total == 0
    with pytest.raises(QueryError):
        search(store.db, Filters(since="yesterday"))


def test_costly_search_stops_with_a_message(tmp_path, monkeypatch):
    """A search past its time budget is interrupted and says to narrow it, instead of running on."""
    store = Store(tmp_path / "w.db")
    store.record_poll("council", [council(n, "borders") for n in range(1, 30)], {})
    monkeypatch.setattr(archive, "SEARCH_SECONDS", -1.0)
    monkeypatch.setattr(archive, "PROGRESS_STEP", 1)
    with pytest.raises(QueryError, match="too long"):
        search(store.db, Filters(q="borders"))


def test_reader_is_read_only(tmp_path):
    """The archive's connection cannot write to the database."""
    store = Store(tmp_path / "w.db")
    reader = archive.Reader(tmp_path / "w.db")
    try:
        with pytest.raises(sqlite3.OperationalError):
            reader.db.execute("DELETE FROM items")
    finally:
        reader.close()
        store.close()


def test_postgres_search_marks_words_and_reads_read_only(pg_url):
    """On PostgreSQL the reader finds words, phrases and prefixes, leaves out -words, marks what matched in the title
    and the passage, and cannot write."""
    store = Store(pg_url)
    store.record_poll("council", [council(1, "Border guard cooperation"), council(2, "Visa border policy")], {})
    reader = archive.Reader(pg_url)
    try:
        db = reader.db
        assert ids(search(db, Filters(q='"border guard"'))) == ["ST 1 2024 INIT"]
        assert ids(search(db, Filters(q="bord* -visa"))) == ["ST 1 2024 INIT"]
        assert ids(search(db, Filters(q="border"))) == ["ST 2 2024 INIT", "ST 1 2024 INIT"]
        [hit] = search(db, Filters(q="cooperation")).hits
        assert hit.title_marked == f"Border guard {archive.MARK_ON}cooperation{archive.MARK_OFF}"
        assert hit.matched == ["cooperation"]
        assert archive.facets(db)["types"] == ["NOTE"]
        with pytest.raises(PostgresError, match="read-only"):
            db.execute("DELETE FROM items")
    finally:
        reader.close()
        store.close()


def test_postgres_costly_search_stops_with_a_message(pg_url, monkeypatch):
    """PostgreSQL's statement timeout stops a search past its budget with the same message."""
    store = Store(pg_url)
    long_body = " ".join(f"borders word{n}" for n in range(20_000))
    store.record_poll("council", [council(n, "borders") for n in range(1, 40)], {})
    store.db.execute("UPDATE items SET body = ?", (long_body,))
    monkeypatch.setattr(archive, "SEARCH_SECONDS", 0.001)
    with pytest.raises(QueryError, match="too long"):
        search(store.db, Filters(q="borders word19999"))
    store.db.execute("SELECT pg_sleep(0.05)")  # the store's own statements run without that time limit again
    store.close()
