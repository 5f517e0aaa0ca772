"""Source kind ``html-list``: a server-rendered listing page read with CSS selectors.

Options: ``row`` (one element per item), ``title`` and ``link`` (inside a row), ``date`` and ``date_format``
(strptime), ``summary``, ``max_bytes``. Links are resolved against the page's URL (or its ``<base href>``), and the
link without tracking parameters is the item's id.

A page where ``row`` matches nothing is an ``empty`` failure: the HTML was read (HTML always parses), but the rows
the source exists for are not there, which after a redesign is exactly what happens. Rows that match but of which
none has both a title and a link are ``unparseable``: the row selector still fits, the inner selectors do not.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from watcher.errors import ParseError
from watcher.models import Item
from watcher.sources.base import Source
from watcher.sources.rss import strip_tracking

if TYPE_CHECKING:
    from bs4 import Tag

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class HtmlListSource(Source):
    kind = "html-list"
    row: str = ""
    title: str = ""
    link: str = ""
    date: str = ""
    date_format: str = "%Y-%m-%d"
    summary: str = ""
    max_bytes: int = 5 * 1024 * 1024

    def __post_init__(self) -> None:
        super().__post_init__()
        for key in ("row", "title"):
            if not getattr(self, key):
                raise ValueError(
                    f'kind \'html-list\' needs {key!r}, a CSS selector; e.g. row = "article", title = "h3 a"'
                )
        import soupsieve  # loaded late: only a config with an html-list source needs the selector parser

        for key in ("row", "title", "link", "date", "summary"):
            selector = getattr(self, key)
            if selector:
                try:
                    soupsieve.compile(selector)
                except soupsieve.SelectorSyntaxError as exc:
                    raise ValueError(f"{key!r}: {selector!r} is not a CSS selector: {exc.args[0]}") from exc

    async def poll(self, http, state) -> list[Item]:
        resp = await http.get(self.url, source=self.name, max_bytes=self.max_bytes, conditional=True)
        return self.parse(resp.content, resp.url)

    def parse(self, data: bytes, url: str = "") -> list[Item]:
        from bs4 import BeautifulSoup, Tag  # loaded late: a parser only polls and `watcher parse` need

        soup = BeautifulSoup(data, "html.parser")
        base = url or self.url
        base_tag = soup.find("base", href=True)
        if isinstance(base_tag, Tag):
            base = urljoin(base, str(base_tag["href"]))
        rows = soup.select(self.row)
        if not rows:
            raise ParseError(
                f"the row selector {self.row!r} matched nothing; the page's markup may have changed "
                "(or this is not the listing page)",
                failure="empty",
            )
        items: dict[str, Item] = {}
        undated = 0
        for row in rows:
            item = self._item(row, base)
            if item is None:
                continue
            undated += item.published is None
            items.setdefault(item.id, item)
        if not items:
            raise ParseError(
                f"{len(rows)} rows matched {self.row!r} but none had both a title ({self.title!r}) and "
                "a link; the selectors may be stale"
            )
        if self.date and undated == len(items):
            log.warning("source %s: no row had a date readable with %r from %r", self.name, self.date_format, self.date)
        return list(items.values())

    def _item(self, row: Tag, base: str) -> Item | None:
        title_el = row.select_one(self.title)
        title = _text(title_el)
        href = self._href(row, title_el)
        if not title or not href:
            return None
        link = urljoin(base, href.strip())
        if urlsplit(link).scheme not in ("http", "https"):
            return None
        summary = _text(row.select_one(self.summary)) if self.summary else ""
        return Item(
            source=self.name, id=strip_tracking(link), title=title, url=link, published=self._date(row), summary=summary
        )

    def _href(self, row: Tag, title_el: Tag | None) -> str:
        """The link selector's href; without one, the title element's own href or the first link in it or in
        the row."""
        from bs4 import Tag  # loaded late: as in parse, which calls this

        if self.link:
            el = row.select_one(self.link)
            return str(el.get("href") or "") if el is not None else ""
        for el in (title_el, title_el.find("a", href=True) if title_el is not None else None, row.find("a", href=True)):
            if isinstance(el, Tag) and el.get("href"):
                return str(el["href"])
        return ""

    def _date(self, row: Tag) -> datetime | None:
        if not self.date:
            return None
        el = row.select_one(self.date)
        if el is None:
            return None
        for text in (str(el.get("datetime") or ""), _text(el)):
            when = _parse_date(text, self.date_format)
            if when is not None:
                return when
        log.debug("source %s: date %r does not match %r", self.name, _text(el), self.date_format)
        return None


def _text(el: Tag | None) -> str:
    return " ".join(el.get_text(" ").split()) if el is not None else ""


def _parse_date(text: str, fmt: str) -> datetime | None:
    """A date by the configured format (or ISO 8601, as in ``<time datetime>``), in UTC when no zone is given."""
    text = text.strip()
    if not text:
        return None
    try:
        when = datetime.strptime(text, fmt)
    except ValueError:
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            return None  # the caller logs it with the source's name
    return when if when.tzinfo else when.replace(tzinfo=UTC)
