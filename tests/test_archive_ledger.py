"""The archive's ledger page shows what `watcher ledger` does: counts per series and year and the open gaps."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.fakes.clock import FakeClock
from watcher.models import Item
from watcher.store.archive import Reader
from watcher.store.sqlite import Store
from watcher.web.archive import ArchiveSite, routes
from watcher.web.site import build_app

MORNING = datetime(2026, 3, 2, 9, tzinfo=UTC)


def doc(number: int, public: bool = True) -> Item:
    ref = f"ST {number} 2026 INIT"
    return Item(
        source="docs",
        id=ref,
        title=ref,
        url=f"https://example.org/{number}",
        extra={"public": public, "family": f"ST {number} 2026", "version": "INIT"},
    )


@pytest.fixture
def site(tmp_path):
    store = Store(tmp_path / "watcher.db", clock=FakeClock(MORNING))
    store.record_poll("docs", [doc(1), doc(2, public=False), doc(3), doc(4, public=False), doc(5)], {})
    archive = ArchiveSite(reader=Reader(tmp_path / "watcher.db", FakeClock(MORNING)), topics={})
    yield archive
    archive.reader.close()
    store.close()


def test_ledger_page_lists_counts_and_open_gaps(site):
    """Five numbers known, three public (60 %), gaps ST 2/26 and ST 4/26, and the page is linked from the menu."""
    from starlette.testclient import TestClient

    page = TestClient(build_app(routes(), state={"archive": site}), base_url="http://127.0.0.1").get("/ledger")
    assert page.status_code == 200
    text = page.text
    assert '<th scope="row">ST</th><td>2026</td><td>5</td><td>5</td>' in text
    assert "60 %" in text and "Open gaps in ST 2026" in text
    assert "ST 2/26" in text and "ST 4/26" in text and "ST 3/26" not in text
    assert 'href="/ledger" aria-current="page"' in text


def test_ledger_page_without_council_documents(tmp_path):
    """An empty database gives a page that says so, not an error."""
    from starlette.testclient import TestClient

    Store(tmp_path / "watcher.db").close()
    archive = ArchiveSite(reader=Reader(tmp_path / "watcher.db"), topics={})
    try:
        page = TestClient(build_app(routes(), state={"archive": archive}), base_url="http://127.0.0.1").get("/ledger")
        assert page.status_code == 200 and "No Council document has been recorded yet" in page.text
    finally:
        archive.reader.close()
