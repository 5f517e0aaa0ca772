"""The rss source kind: parsing real and constructed feeds from bytes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.conftest import DATA
from watcher.errors import ParseError
from watcher.sources.rss import parse_feed, strip_tracking

EP = (DATA / "ep-thinktank-rss-2026-09-15.xml").read_bytes()


def test_real_ep_feed_gives_25_items_with_titles_links_dates():
    """The recorded European Parliament Think Tank feed yields all 25 items, each with title, link and date."""
    items = parse_feed(EP, "ep")
    assert len(items) == 25
    assert all(i.title and i.url.startswith("https://www.europarl.europa.eu/") for i in items)
    assert all(i.published and i.published.tzinfo for i in items)
    assert len({i.id for i in items}) == 25
    ceuta = next(i for i in items if "Ceuta" in i.title)
    assert ceuta.id == "EPRS_BRI(2026)791481_EN_20260910"
    assert ceuta.url == "https://www.europarl.europa.eu/thinktank/en/document/EPRS_BRI(2026)791481"
    assert ceuta.published == datetime(2026, 9, 9, 22, 0, tzinfo=UTC)
    assert "<" not in ceuta.summary and "Source :" in ceuta.summary


def test_first_item_fields_exact():
    """Title, link, guid and date of the first recorded item come through exactly."""
    first = parse_feed(EP, "ep")[0]
    assert first.title == "Briefing - Is Nepal's young leader meeting expectations of change? - 14-09-2026"
    assert first.url == "https://www.europarl.europa.eu/thinktank/en/document/EPRS_BRI(2026)791484"
    assert first.id == "EPRS_BRI(2026)791484_EN_20260914"
    assert first.published == datetime(2026, 9, 13, 22, 0, tzinfo=UTC)


ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:feed</id><updated>2026-01-02T10:00:00Z</updated>
<entry><title>Schengen evaluation report</title><id>urn:x:1</id><link href="https://example.org/a"/>
<updated>2026-01-02T10:00:00Z</updated><summary>Border checks</summary></entry></feed>"""

RSS1 = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://example.org/"><title>t</title><link>https://example.org/</link><description>d</description>
<items><rdf:Seq><rdf:li rdf:resource="https://example.org/b?utm_source=rss&amp;id=7"/></rdf:Seq></items></channel>
<item rdf:about="https://example.org/b?utm_source=rss&amp;id=7"><title>Frontex annual report</title>
<link>https://example.org/b?utm_source=rss&amp;id=7</link><dc:date>2026-03-04T08:00:00Z</dc:date></item></rdf:RDF>"""

COUNCIL_STYLE = b"""<?xml version="1.0" encoding="utf-8"?>
<rss xmlns:a10="http://www.w3.org/2005/Atom" version="2.0"><channel><title>Council</title><link>https://x/</link>
<description>d</description><item><guid isPermaLink="false">123456</guid>
<link>https://www.consilium.europa.eu/en/press/press-releases/2026/03/04/slug/</link><title>Migration pact</title>
<description>text</description><a10:updated>2026-03-04T12:30:00+01:00</a10:updated></item></channel></rss>"""


def test_atom_and_rss1_parse():
    """Atom and RSS 1.0 feeds parse into items with ids and dates."""
    atom = parse_feed(ATOM, "a")
    assert [(i.id, i.title, i.url) for i in atom] == [
        ("urn:x:1", "Schengen evaluation report", "https://example.org/a")
    ]
    assert atom[0].published == datetime(2026, 1, 2, 10, tzinfo=UTC)
    rss1 = parse_feed(RSS1, "r")
    assert rss1[0].title == "Frontex annual report"
    assert rss1[0].published == datetime(2026, 3, 4, 8, tzinfo=UTC)


def test_council_style_a10_updated_date_and_numeric_guid():
    """A Council-style feed: the numeric guid is the id and <a10:updated> is the date."""
    item = parse_feed(COUNCIL_STYLE, "c")[0]
    assert item.id == "123456"
    assert item.published == datetime(2026, 3, 4, 11, 30, tzinfo=UTC)


def test_id_falls_back_to_link_without_tracking_then_hash():
    """Without a guid the id is the link minus tracking parameters; without a link, a hash of title and date."""
    no_guid = b"""<rss version="2.0"><channel><title>t</title><item><title>A</title>
    <link>https://example.org/p?id=3&amp;utm_campaign=x&amp;fbclid=y</link></item>
    <item><title>B</title><pubDate>Mon, 14 Sep 2026 10:00:00 GMT</pubDate></item></channel></rss>"""
    a, b = parse_feed(no_guid, "s")
    assert a.id == "https://example.org/p?id=3"
    assert b.id.startswith("sha1:") and b.id == parse_feed(no_guid, "s")[1].id
    assert strip_tracking("https://e.org/x?utm_source=a&b=2#frag") == "https://e.org/x?b=2"


def test_broken_xml_is_a_parse_error():
    """Bytes that are not a feed raise ParseError instead of returning no items."""
    with pytest.raises(ParseError):
        parse_feed(b"<html><body>Service unavailable</body></html>", "s")
    with pytest.raises(ParseError):
        parse_feed(b"\x00\x01 not xml at all", "s")


def test_entity_declarations_are_refused():
    """A feed whose DOCTYPE declares entities (billion laughs, XXE) is refused before parsing."""
    bomb = b"""<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>
    <rss version="2.0"><channel><title>&b;</title></channel></rss>"""
    xxe = b"""<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>
    <rss version="2.0"><channel><title>&x;</title></channel></rss>"""
    for doc in (bomb, xxe):
        with pytest.raises(ParseError, match="entities"):
            parse_feed(doc, "s")


def test_entity_declarations_are_found_past_padding_and_in_utf16():
    """The entity check reads the whole document: a DOCTYPE after 100 kB of comments, or a UTF-16 document, is
    refused too; an entity declaration inside CDATA (text about XML) is not a declaration."""
    bomb = (
        b'<!DOCTYPE rss [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><rss version="2.0"><channel>'
        b"<title>&b;</title></channel></rss>"
    )
    padded = b'<?xml version="1.0"?>' + b"<!-- " + b"x" * 100_000 + b" -->" + bomb
    wide = '<?xml version="1.0" encoding="utf-16"?>'.encode("utf-16") + bomb.decode().encode("utf-16-le")
    for doc in (padded, wide):
        with pytest.raises(ParseError, match="entities"):
            parse_feed(doc, "s")
    about_xml = b"""<rss version="2.0"><channel><title>t</title><item><title>XML tips</title>
    <link>https://e.org/x</link><description><![CDATA[Never write <!ENTITY x SYSTEM "file:///">]]></description>
    </item></channel></rss>"""
    assert parse_feed(about_xml, "s")[0].title == "XML tips"


def test_malformed_feed_with_entries_is_accepted_with_a_warning(caplog):
    """A feed that feedparser flags as malformed (an unescaped "&") but that still yields entries is accepted, and
    the warning names the source."""
    broken = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
    <item><title>Borders & visas</title><link>https://e.org/1</link><guid>1</guid></item></channel></rss>"""
    with caplog.at_level("WARNING"):
        items = parse_feed(broken, "sloppy")
    assert [i.id for i in items] == ["1"]
    assert "source sloppy: feed is malformed but yielded 1 usable entries" in caplog.text
