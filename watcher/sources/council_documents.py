"""Source kind ``council-documents``: finds newly published Council documents on the document server by asking for
the next numbers of a series (``ST-<number>-<year>-INIT``), a bounded window per run, and by asking again for recent
gaps, since a document can become public after its number was passed.

``url`` is the document server's ``/doc/document/`` base. Every served PDF is read (text and header) once; numbers
found are never asked for again. What the source knows lives in its cursor (see ``watcher.sources.council.probing``) and is
saved with the poll's items, so a failed poll asks again next time. A number the server does not serve is "not
available (yet)", never a failure; a time-out, network or server error, rate limit or bot challenge fails the poll.

Numbers below the highest one found that are not served are recorded as placeholder items marked not public, so
that when one of them appears, the pipeline alerts "Now public". Documents found ahead whose date is older than
``backlog_age`` (a catch-up after ``start`` was set low) are recorded without alerting.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from datetime import datetime, timedelta

from watcher.sources.council.document import item_from_pdf, placeholder_item, read_pdf, unread_item
from watcher.sources.council.pdf import DEFAULT_MAX_PAGES
from watcher.sources.council.probing import ProbeState
from watcher.sources.council.refs import SERIES, DocRef
from watcher.errors import FetchError, ParseError
from watcher.models import Item
from watcher.sources.base import Source
from watcher.sources.council_pdf import DEFAULT_PDF_MAX_BYTES, fetch_pdf, pdf_items, pdf_url

log = logging.getLogger(__name__)

DAY = 86400.0
MAX_WINDOW = 200


@dataclasses.dataclass(frozen=True)
class CouncilDocumentsSource(Source):
    kind = "council-documents"
    series: str = "ST"
    year: int = 0
    start: int = 1
    window: int = 10
    lookahead: int = 50
    gap_reprobe: int = 5
    gap_max_age: float = 30 * DAY
    backlog_age: float = 14 * DAY
    language: str = "en"
    max_bytes: int = DEFAULT_PDF_MAX_BYTES
    max_pages: int = DEFAULT_MAX_PAGES
    expect_items: bool = False  # a run that finds no new number is the normal case, not a failure

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.series not in SERIES:
            raise ValueError(f"'series' must be one of {', '.join(SERIES)}, got {self.series!r}")
        if self.year and not 1999 <= self.year <= 2099:
            raise ValueError(f"'year' must be 0 (the current year) or a year from 1999, got {self.year}")
        if self.start < 1:
            raise ValueError(f"'start' must be 1 or more, got {self.start}")
        if not 1 <= self.window <= MAX_WINDOW:
            raise ValueError(f"'window' must be from 1 to {MAX_WINDOW} requests per run, got {self.window}")
        if self.lookahead < self.window:
            raise ValueError(f"'lookahead' ({self.lookahead}) must be at least 'window' ({self.window})")
        if not 0 <= self.gap_reprobe <= MAX_WINDOW:
            raise ValueError(f"'gap_reprobe' must be from 0 to {MAX_WINDOW}, got {self.gap_reprobe}")
        if not re.fullmatch(r"[a-z]{2}", self.language):
            raise ValueError(f"'language' must be a lower-case code such as \"en\", got {self.language!r}")

    async def poll(self, http, state) -> list[Item]:
        now = state.now()
        probe = ProbeState.from_cursor(state.get_cursor(), self.series, self.year or now.year, self.start)
        items: list[Item] = []
        for number in probe.due_gaps(now, self.gap_reprobe, self.gap_max_age):
            item = await self._probe(http, probe, number)
            if item is None:
                probe.gap_missed(number, now)
            else:
                probe.gap_found(number)
                items.append(item)
        for _ in range(self.window):
            number = probe.next_number(self.lookahead)
            if number is None:
                break
            item = await self._probe(http, probe, number)
            if item is None:
                probe.missed(number)
                continue
            for gap in probe.found(number, now):
                ref = self._ref(probe, gap)
                items.append(placeholder_item(self.name, ref, self._url(ref)))
            if self._is_backlog(item, now):
                item.extra["backlog"] = True
            items.append(item)
        state.set_cursor(probe.to_cursor())
        log.info("source %s: %s %d: highest found %d, %d gaps watched, %d documents served this run",
                 self.name, self.series, probe.year, probe.highest, len(probe.gaps),
                 sum(1 for i in items if i.extra.get("public")))
        return items

    def _ref(self, probe: ProbeState, number: int) -> DocRef:
        return DocRef(self.series, number, probe.year)

    def _url(self, ref: DocRef) -> str:
        return pdf_url(self.url, ref, self.language)

    def _is_backlog(self, item: Item, now: datetime) -> bool:
        return bool(item.published and now - item.published > timedelta(seconds=self.backlog_age))

    async def _probe(self, http, probe: ProbeState, number: int) -> Item | None:
        """The document with this number, or None when the server does not serve it."""
        ref = self._ref(probe, number)
        url = self._url(ref)
        try:
            data, why = await fetch_pdf(http, url, source=self.name, max_bytes=self.max_bytes)
        except FetchError as exc:
            if exc.failure != "too_large":
                raise
            log.warning("source %s: %s is served but passes the size cap (%s); recorded without its text",
                        self.name, ref, exc.detail)
            return unread_item(self.name, ref, url, f"too large: {exc.detail}")
        if data is None:
            log.debug("source %s: %s not available: %s", self.name, ref, why)
            return None
        try:
            # pypdf is CPU-bound: read in a worker thread so the bot and delivery go on meanwhile
            return item_from_pdf(self.name, ref, url, await asyncio.to_thread(read_pdf, data, self.max_pages))
        except ParseError as exc:
            log.warning("source %s: %s is served but its PDF could not be read: %s", self.name, ref, exc)
            return unread_item(self.name, ref, url, f"unreadable: {exc}")

    def parse(self, data: bytes, url: str = "") -> list[Item]:
        """The item one saved PDF gives (its reference from the header)."""
        return pdf_items(data, self.name, url)
