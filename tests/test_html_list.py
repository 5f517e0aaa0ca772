"""The html-list source kind: a listing page read with CSS selectors, and how it fails when the page changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.conftest import DATA, SHIPPED_CONFIG, make_config, source_toml
from tests.fakes.clock import FakeClock
from watcher import pipeline
from watcher.config import load_config
from watcher.errors import ConfigError, ParseError
from watcher.http.client import Http
from watcher.sources.html_list import HtmlListSource
from watcher.store.sqlite import Store

PAGE = (DATA / "frontex-news-constructed.html").read_bytes()
URL = "https://www.frontex.europa.eu/media-centre/news/news-release/"


def frontex(**kw) -> HtmlListSource:
    options = (
        dict(name="frontex-news", url=URL, row="article", title="h3 a", date="span.date", date_format="%Y-%m-%d") | kw
    )
    return HtmlListSource(every=3600.0, **options)


class NoMatch:
    def match(self, item):
        return []


def test_listing_page_gives_items_with_absolute_links_ids_and_dates():
    """Each <article> is an item; relative links are made absolute, the id is the link without tracking
    parameters, and YYYY-MM-DD dates are read (an unreadable date leaves the item undated, not dropped)."""
    items = frontex().parse(PAGE, URL)
    assert [i.title for i in items] == [
        "Frontex supports Greece at the external borders",
        "Migrant smuggling network dismantled with Europol & Spanish police",
        "Risk Analysis for 2026 published",
        "EUROSUR Fusion Services: a new contract",
    ]
    first = items[0]
    assert first.url.startswith("https://www.frontex.europa.eu/media-centre/news/news-release/frontex-supports")
    assert first.id == first.url.split("?")[0]
    assert first.published == datetime(2026, 9, 14, tzinfo=UTC)
    assert items[3].published is None
    assert frontex(summary="p.lead").parse(PAGE, URL)[1].summary == "Joint action day under EMPACT; 14 arrests."


def test_base_href_and_explicit_link_selector():
    """A <base href> changes what relative links resolve against; a link selector picks the href."""
    page = b"""<html><head><base href="https://other.example/news/"></head><body>
    <div class="row"><span class="t">One</span><a class="more" href="one.html">more</a></div></body></html>"""
    [item] = frontex(row="div.row", title="span.t", link="a.more", date="").parse(page, URL)
    assert item.url == "https://other.example/news/one.html" and item.title == "One"


def test_row_selector_matching_nothing_is_empty():
    """A page where the row selector matches nothing (a redesign, or the wrong page) fails as "empty"."""
    with pytest.raises(ParseError) as info:
        frontex(row="li.news").parse(PAGE, URL)
    assert info.value.failure == "empty" and "'li.news' matched nothing" in str(info.value)


def test_rows_without_titles_are_unparseable():
    """Rows that match but whose title selector finds nothing fail as "unparseable", naming the selectors."""
    with pytest.raises(ParseError) as info:
        frontex(title="h2 a").parse(PAGE, URL)
    assert info.value.failure == "unparseable" and "'h2 a'" in str(info.value)


async def test_changed_page_through_the_pipeline_records_nothing(feed_server, tmp_path):
    """Served over HTTP, the page gives items; after a redesign the poll fails as "empty" and records nothing."""
    feed_server.set("/news/", PAGE, headers={"Content-Type": "text/html; charset=utf-8"})
    source = frontex(url=feed_server.url("/news/"))
    store = Store(tmp_path / "w.db")
    http = Http(clock=FakeClock(), per_host_interval=0)
    try:
        ok = await pipeline.poll(source, http, store, NoMatch())
        assert ok.ok and len(ok.new) == 4 and ok.new[0].url.startswith(feed_server.base_url)
        feed_server.set(
            "/news/",
            "<html><body><div class='cards'><h3>New look</h3></div></body></html>",
            headers={"Content-Type": "text/html"},
        )
        changed = await pipeline.poll(source, http, store, NoMatch())
        assert changed.failure == "empty" and changed.new == []
        assert store.source_states()["frontex-news"]["last_failure"] == "empty"
    finally:
        await http.aclose()
        store.close()


def test_shipped_frontex_example_is_disabled_and_reads_the_fixture():
    """The shipped config has the Frontex html-list source, disabled, and its selectors read the fixture page."""
    source = load_config(SHIPPED_CONFIG).source("frontex-news")
    assert source.kind == "html-list" and source.enabled is False
    assert len(source.parse(PAGE, source.url)) == 4


@pytest.mark.parametrize(
    "extra,needle",
    [
        ({}, "needs 'row'"),
        (
            {
                "row": "article",
                "title": "h3 a[",
            },
            "not a CSS selector",
        ),
    ],
)
def test_bad_html_list_config_is_refused(tmp_path, extra, needle):
    """A missing or malformed selector is a configuration error naming the source and the problem."""
    text = source_toml("fx", "https://e.org/news", kind="html-list", **extra)
    with pytest.raises(ConfigError) as info:
        load_config(make_config(tmp_path / "cfg", text))
    assert any("fx" in p and needle in p for p in info.value.problems), info.value.problems


async def test_page_with_an_injected_protection_script_is_not_a_challenge(feed_server, tmp_path):
    """A normal 200 page that carries a bot-protection script (as sites behind such services do) is read; the same
    marker on a 403 is a challenge."""
    page = PAGE.replace(b"</body>", b"<script src='/cdn-cgi/challenge-platform/scripts/jsd/main.js'></script></body>")
    feed_server.set("/news/", page, headers={"Content-Type": "text/html"})
    feed_server.set("/denied/", page, status=403, headers={"Content-Type": "text/html"})
    store = Store(tmp_path / "w.db")
    http = Http(clock=FakeClock(), per_host_interval=0)
    try:
        ok = await pipeline.poll(frontex(url=feed_server.url("/news/")), http, store, NoMatch())
        denied = await pipeline.poll(frontex(url=feed_server.url("/denied/"), name="d"), http, store, NoMatch())
    finally:
        await http.aclose()
        store.close()
    assert ok.ok and len(ok.new) == 4
    assert denied.failure == "blocked"
