"""Atom feeds (RFC 4287) of the archive: one per topic, and one for any search.

Each entry's id is a tag URI (RFC 4151) made of the source and the item id, so it stays the same however often the
feed is read and whatever address the archive is served at. The authority is under ``.invalid`` (RFC 2606), which
no one can own, so ids from different deployments never claim someone else's domain. ``updated`` is the time of
the item's latest event (first seen, new version, now public); the summary says why the item is in the feed.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import datetime
from urllib.parse import quote

from watcher.store.archive import MARK_OFF, MARK_ON, Hit

ATOM = "http://www.w3.org/2005/Atom"
TAG = "tag:watcher.invalid,2025:"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
ET.register_namespace("", ATOM)


def entry_id(source: str, item_id: str) -> str:
    """The stable tag URI of an item."""
    return f"{TAG}item/{quote(source, safe='')}/{quote(item_id, safe='')}"


def feed_id(kind: str, key: str) -> str:
    return f"{TAG}feed/{kind}/{quote(key, safe='')}"


def clean(text: str) -> str:
    """Text as XML may carry it: the snippet markers and the characters XML 1.0 forbids removed."""
    return _NOT_XML.sub("", text.replace(MARK_ON, "").replace(MARK_OFF, ""))


def _el(parent: ET.Element, name: str, text: str | None = None, **attrs: str) -> ET.Element:
    node = ET.SubElement(parent, f"{{{ATOM}}}{name}", {k: clean(v) for k, v in attrs.items()})
    if text is not None:
        node.text = clean(text)
    return node


def render(*, id: str, title: str, self_url: str, page_url: str, updated: str, entries: Iterable[ET.Element]) -> bytes:
    """A complete feed document."""
    feed = ET.Element(f"{{{ATOM}}}feed")
    _el(feed, "id", id)
    _el(feed, "title", title)
    _el(feed, "updated", updated)
    _el(_el(feed, "author"), "name", "watcher")
    _el(feed, "generator", "watcher")
    _el(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    _el(feed, "link", rel="alternate", type="text/html", href=page_url)
    feed.extend(entries)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def entry(hit: Hit, *, updated: str, item_url: str, why: str, labels: dict[str, str]) -> ET.Element:
    """One item as an entry: its document link, its archive page, its topics and why it matched."""
    node = ET.Element(f"{{{ATOM}}}entry")
    _el(node, "id", entry_id(hit.source, hit.item_id))
    _el(node, "title", hit.title or hit.item_id, type="text")
    _el(node, "updated", updated)
    if hit.published:
        _el(node, "published", hit.published)
    if hit.url.startswith(("http://", "https://")):
        _el(node, "link", rel="alternate", href=hit.url)
    _el(node, "link", rel="related", type="text/html", href=item_url)
    for topic in hit.topics:
        _el(node, "category", term=topic, label=labels.get(topic, topic))
    _el(node, "summary", why, type="text")
    return node


def topic_reason(hit: Hit, label: str) -> str:
    """Why an item is in a topic's feed: the topic, the words that matched, and the passage."""
    terms = f" on {', '.join(hit.terms)}" if hit.terms else ""
    passage = f": {clean(hit.snippet)}" if hit.snippet else ""
    return f"{hit.item_id}. Matched the topic {label}{terms}{passage}"


def search_reason(hit: Hit, query: str, filters: str) -> str:
    """Why an item is in a search's feed: the searched words found, the filters, and the passage."""
    found = f" (found: {', '.join(hit.matched)})" if hit.matched else ""
    what = f"the search “{query}”{found}" if query else "the filters"
    where = f"; {filters}" if filters else ""
    passage = f": {clean(hit.snippet)}" if hit.snippet else ""
    return f"{hit.item_id}. Matched {what}{where}{passage}"


def latest(times: Iterable[str | None], fallback: datetime) -> str:
    """The latest RFC 3339 time among ``times``, else ``fallback``."""
    known = [t for t in times if t]
    return max(known, key=lambda t: datetime.fromisoformat(t)) if known else fallback.isoformat(timespec="seconds")
