"""The archive's Atom feeds: one per topic and one per search; they parse with feedparser, pass a RELAX NG schema
of RFC 4287 (tests/data/atom.rng, with lxml) and a check of RFC 4287's counting rules, keep stable tag: ids and
say why each entry is there."""

from __future__ import annotations

import re
import warnings
from collections import Counter

import feedparser
import pytest
from lxml import etree

from tests.conftest import DATA
from tests.fakes.clock import FakeClock
from tests.fakes.council import MORNING
from watcher.models import Item, Match
from watcher.store.archive import Reader
from watcher.store.sqlite import Store
from watcher.web.archive import ArchiveSite, routes
from watcher.web.site import build_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note about httpx; the client works the same
    from starlette.testclient import TestClient

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
SCHEMA = etree.RelaxNG(etree.parse(str(DATA / "atom.rng")))
TOPICS = {"smuggling": "Migrant smuggling", "borders": "Borders"}


@pytest.fixture
def client(tmp_path):
    store = Store(tmp_path / "watcher.db", clock=FakeClock(MORNING))
    items = [
        Item(
            "council",
            f"ST {n} 2024 INIT",
            f"Note {n} on migrant smuggling",
            f"https://docs.example/{n}",
            extra={"family": f"ST {n} 2024", "public": True},
        )
        for n in range(1, 4)
    ]
    items.append(
        Item(
            "feed", "x", "Control \x01 characters \x0b and <b>markup</b> & migrant smuggling", "https://e.org/x?a=1&b=2"
        )
    )
    found = {i.key: [Match("smuggling", ("migrant smuggling",), "…[migrant smuggling]…", "title")] for i in items}
    store.record_poll("council", items[:3], {})
    store.record_poll("council", [], {})
    store.record_poll("feed", items[3:], found)
    for item in items[:3]:
        store.db.execute(
            "INSERT INTO matches (source, item_id, topic, terms, matched_at) VALUES (?,?,?,?,?)",
            (item.source, item.id, "smuggling", '["migrant smuggling"]', store.now()),
        )
    site = ArchiveSite(reader=Reader(tmp_path / "watcher.db", FakeClock(MORNING)), topics=TOPICS)
    yield TestClient(build_app(routes(), state={"archive": site}), base_url="http://127.0.0.1")
    site.reader.close()
    store.close()


def rfc4287_rules(root: etree._Element) -> list[str]:
    """Problems against RFC 4287's counting rules: one id, title and updated in the feed and in every entry, RFC
    3339 dates, and an author for every entry (its own or the feed's)."""
    problems = []
    feed_author = root.find(f"{ATOM}author") is not None
    for node in [root, *root.findall(f"{ATOM}entry")]:
        counts = Counter(child.tag for child in node)
        for name in ("id", "title", "updated"):
            if counts[f"{ATOM}{name}"] != 1:
                problems.append(f"{node.tag}: {counts[f'{ATOM}{name}']} {name} elements")
        for name in ("updated", "published"):
            for date in node.findall(f"{ATOM}{name}"):
                if not RFC3339.match(date.text or ""):
                    problems.append(f"{name} {date.text!r} is not RFC 3339")
        if node is not root and not feed_author and node.find(f"{ATOM}author") is None:
            problems.append("entry without author")
    return problems


def check(body: bytes) -> feedparser.FeedParserDict:
    root = etree.fromstring(body)
    assert SCHEMA.validate(root), SCHEMA.error_log
    assert rfc4287_rules(root) == []
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/topic/smuggling.atom",
        "/feeds/search.atom?q=smuggling&topic=smuggling",
        "/feeds/search.atom?q=%22migrant+smuggling%22&source=council",
    ],
)
def test_feeds_are_valid_atom(client, path):
    """Topic and search feeds pass the RELAX NG schema, the counting rules and feedparser, even with control
    characters and markup in a title."""
    answer = client.get(path)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/atom+xml")
    parsed = check(answer.content)
    assert parsed.entries


def test_entries_have_stable_tag_ids_links_and_reasons(client):
    """Ids are tag: URIs of source and item id, the same on every read; each entry links the document and its
    archive page and says why it matched."""
    first = feedparser.parse(client.get("/feeds/topic/smuggling.atom").content)
    again = feedparser.parse(client.get("/feeds/topic/smuggling.atom").content)
    assert [e.id for e in first.entries] == [e.id for e in again.entries]
    assert first.entries[0].id == "tag:watcher.invalid,2025:item/feed/x"
    assert "tag:watcher.invalid,2025:item/council/ST%203%202024%20INIT" in [e.id for e in first.entries]
    entry = first.entries[0]
    assert {link.rel for link in entry.links} == {"alternate", "related"}
    assert "Matched the topic Migrant smuggling on migrant smuggling" in entry.summary
    search = feedparser.parse(client.get("/feeds/search.atom?q=smuggling").content)
    assert "Matched the search “smuggling” (found: smuggling)" in search.entries[0].summary
    assert search.feed.id.startswith("tag:watcher.invalid,2025:feed/search/")


def test_unknown_topic_and_bad_search(client):
    """An unknown topic's feed is 404; a search feed the archive will not run is 400 with the reason."""
    assert client.get("/feeds/topic/nope.atom").status_code == 404
    bad = client.get("/feeds/search.atom?q=-only")
    assert bad.status_code == 400 and "word" in bad.text


def test_the_checks_catch_a_broken_feed():
    """The schema and the counting rules refuse a feed with two ids and a date that is not RFC 3339."""
    broken = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><id>tag:a,2025:x</id><id>tag:a,2025:y</id>'
        b"<title>t</title><updated>1 March 2026</updated></feed>"
    )
    root = etree.fromstring(broken)
    assert not SCHEMA.validate(root)
    assert len(rfc4287_rules(root)) == 2
