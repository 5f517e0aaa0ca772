"""Source kind ``rss``: RSS 2.0, RSS 1.0 and Atom, parsed by feedparser from bytes the shared client fetched."""

from __future__ import annotations

import calendar
import dataclasses
import hashlib
import logging
import re
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from watcher.errors import ParseError
from watcher.models import Item
from watcher.sources.base import Source

log = logging.getLogger(__name__)

TRACKING_PARAMS = re.compile(r"^(utm_.*|fbclid|gclid|dclid|mc_cid|mc_eid|_hsenc|_hsmi|ref|rss|at_.*)$", re.I)
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.I)
_WIDE_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
)


@dataclasses.dataclass(frozen=True)
class RssSource(Source):
    kind = "rss"
    max_bytes: int = 5 * 1024 * 1024

    async def poll(self, http, state) -> list[Item]:
        resp = await http.get(self.url, source=self.name, max_bytes=self.max_bytes, conditional=True)
        return self.parse(resp.content, resp.url)

    def parse(self, data: bytes, url: str = "") -> list[Item]:
        return parse_feed(data, self.name)


def _as_ascii_compatible(data: bytes) -> bytes:
    """UTF-16 and UTF-32 documents re-encoded as UTF-8, so markup can be searched for byte-wise."""
    for bom, codec in _WIDE_BOMS:
        if data.startswith(bom):
            return data.decode(codec, errors="replace").encode("utf-8")
    return data


def _without_comments_and_cdata(data: bytes) -> bytes:
    """The document with comments and CDATA sections cut out, in one linear pass."""
    out, pos = [], 0
    while True:
        start = data.find(b"<!", pos)
        if start < 0:
            out.append(data[pos:])
            break
        if data.startswith(b"<!--", start):
            end = data.find(b"-->", start + 4)
        elif data.startswith(b"<![CDATA[", start):
            end = data.find(b"]]>", start + 9)
        else:
            out.append(data[pos : start + 2])
            pos = start + 2
            continue
        out.append(data[pos:start])
        if end < 0:  # unterminated: the rest is inside it
            break
        pos = end + 3
    return b"".join(out)


def refuse_entities(data: bytes) -> None:
    """Refuse a document that declares entities: no external entities, no expansion bombs.

    An entity declaration can only be markup outside comments and CDATA sections (in text its ``<`` would have to
    be escaped), so the whole document is searched once those are taken out, whatever its encoding and however
    much padding comes before the DOCTYPE."""
    if _ENTITY_DECL.search(_without_comments_and_cdata(_as_ascii_compatible(data))):
        raise ParseError("the document declares XML entities in its DOCTYPE; refused (possible entity bomb or XXE)")


def parse_feed(data: bytes, source: str) -> list[Item]:
    """Parse feed bytes into items. Raises ParseError when nothing usable comes out.

    An entry with neither title nor link is debris of broken markup and is dropped. A malformed feed that still
    yields usable entries is accepted with a warning; one that yields none is a failure, never an empty feed.
    """
    import feedparser  # loaded late: a parser only polls and `watcher parse` need, not every command

    refuse_entities(data)
    parsed = feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)
    entries = parsed.get("entries") or []
    usable = [e for e in entries if (e.get("title") or "").strip() or (e.get("link") or "").strip()]
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if problem is not None and not usable:
        raise ParseError(f"not a usable feed: {problem}")
    if not parsed.get("version") and not usable:
        raise ParseError("no feed found in the document")
    if entries and not usable:
        raise ParseError(f"{len(entries)} entries without title or link; the feed's markup may have changed")
    if problem is not None:
        log.warning("source %s: feed is malformed but yielded %d usable entries: %s", source, len(usable), problem)
    return [entry_to_item(e, source) for e in usable]


def entry_to_item(entry, source: str) -> Item:
    title = field_text(entry, "title") or "(untitled)"
    link = (entry.get("link") or "").strip()
    published = struct_to_dt(entry.get("published_parsed") or entry.get("updated_parsed"))
    summary = field_text(entry, "summary")
    return Item(
        source=source,
        id=item_id(entry, link, title, published),
        title=title,
        url=link,
        published=published,
        summary=summary,
    )


def item_id(entry, link: str, title: str, published: datetime | None) -> str:
    """The guid, else the link without tracking parameters, else a hash of title and date."""
    guid = (entry.get("id") or "").strip()
    if guid:
        return guid
    if link:
        return strip_tracking(link)
    basis = f"{title}\n{published.isoformat() if published else ''}"
    return "sha1:" + hashlib.sha1(basis.encode("utf-8")).hexdigest()


def strip_tracking(url: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING_PARAMS.match(k)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def struct_to_dt(value) -> datetime | None:
    if not value:
        return None
    return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)


def field_text(entry, name: str) -> str:
    """A field as plain text: markup is removed only where the feed declares the field as HTML."""
    value = entry.get(name, "") or ""
    kind = (entry.get(f"{name}_detail") or {}).get("type", "text/html")
    return clean_text(value) if "html" in kind else " ".join(value.split())


def clean_text(html: str) -> str:
    """Plain text from a feed's HTML fragment, with whitespace folded."""
    if not html:
        return ""
    if "<" not in html:
        return " ".join(html.split())
    from bs4 import BeautifulSoup  # loaded late: a parser only polls and `watcher parse` need, not every command

    text = BeautifulSoup(html, "html.parser").get_text(" ")
    return " ".join(text.split())
