"""Source kind ``council-register``: the Council's public register of documents, through its search and/or its
listing pages, one item per document reference however many languages a row lists.

The search is asked for the newest documents first and paged back until a page holds a reference already known,
at most ``max_pages`` pages. A bot challenge (a challenge page or a ``cf-mitigated`` header, as
``watcher.http.challenge`` defines it) is a failure of class ``blocked``, never an empty result; a bare 403 is a
``client_error``. For new public documents, the PDF can be read from the document
server (``pdf_text``), so that topics are matched on the document's text too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urljoin

from watcher.errors import FetchError, ParseError
from watcher.http.challenge import detect_challenge
from watcher.models import Item
from watcher.sources.base import Source
from watcher.sources.council.document import read_pdf, with_pdf
from watcher.sources.council.pdf import DEFAULT_MAX_PAGES
from watcher.sources.council.refs import PDF_BASE, RefError, parse_ref
from watcher.sources.council_pdf import DEFAULT_PDF_MAX_BYTES, fetch_pdf, language_for, pdf_url

if TYPE_CHECKING:
    from watcher.sources.council.register import RegisterPage

log = logging.getLogger(__name__)

BLOCKED = "blocked by bot protection"
PDF_TEXT_CHOICES = ("flagged", "all", "none")
MAX_SEARCH_PAGES = 50  # the register serves at most 50 pages per query (single report)
_LANG = re.compile(r"^(?:[A-Za-z]{2}|X)?$")


# What the operators are told once the register has been blocked ``failure_threshold`` polls in a row: what
# public scrapers reported in 2026, and the ways in that still work.
BLOCKED_MESSAGE = (
    "🛡 watcher: source {name} is blocked by bot protection ({polls} polls in a row, since {since}). The Council's "
    "register (www.consilium.europa.eu) is behind Cloudflare, which answers automated clients with a 403 or a "
    "challenge page, whatever the client; waiting longer gives the same page. This source will keep trying, but "
    'no alert can count on it. Ways in that still work: the council-documents source (kind "council-documents", '
    "the document server {server}, which answers plain requests: it finds public ST documents by number, their new "
    'versions, and documents made public later) and the Council\'s press releases feed (kind "rss", '
    "https://www.consilium.europa.eu/en/rss/pressreleases.ashx). Turn them on in sources.toml if they are off. "
    "Last answer: {detail}. One more message will follow when the register answers again."
)


def blocked_error(source: str, url: str, reason: str) -> FetchError:
    return FetchError("blocked", f"{BLOCKED}: {reason}", source=source, url=url)


def check_page(page: RegisterPage, source: str, url: str) -> None:
    """Refuse a page that is not recognisably a register page: its rows cannot be trusted to be complete."""
    if page.is_results_page:
        return
    if page.total:
        raise FetchError(
            "empty",
            f"the page announces {page.total} results but no document row could be read; "
            "the register's markup may have changed",
            source=source,
            url=url,
        )
    raise FetchError(
        "unparseable",
        "not a register page: no document rows and no result count; the register's markup may have changed",
        source=source,
        url=url,
    )


def page_items(
    body: bytes, source: str, url: str, status: int = 200, headers: Mapping[str, str] | None = None
) -> list[Item]:
    """Items of one saved or fetched register page; raises FetchError for challenge and unrecognised pages."""
    reason = detect_challenge(status, headers or {}, body)
    if reason:
        raise blocked_error(source, url, reason)
    # loaded late: the register's reader needs BeautifulSoup, which only polls and `watcher parse` use
    from watcher.sources.council.register import parse_register_page

    page = parse_register_page(body, base_url=url) if url else parse_register_page(body)
    check_page(page, source, url)
    return [_row_item(row, source) for row in page.rows]


def _row_item(row, source: str) -> Item:
    from watcher.sources.council.register import row_to_item  # loaded late: as in page_items, which calls this

    item = row_to_item(row, source)
    if not row.title:
        item.extra["untitled"] = True
    return item


@dataclasses.dataclass(frozen=True)
class CouncilRegisterSource(Source):
    kind = "council-register"
    search: bool = True
    listings: tuple = ()
    words_in_subject: str = ""
    subject_matters: tuple = ()
    document_types: tuple = ()
    language: str = ""
    only_public: bool = False
    max_pages: int = 3
    max_bytes: int = 5 * 1024 * 1024
    pdf_text: str = "flagged"
    max_pdfs: int = 10
    pdf_language: str = "en"
    pdf_max_bytes: int = DEFAULT_PDF_MAX_BYTES
    pdf_max_pages: int = DEFAULT_MAX_PAGES
    document_server: str = PDF_BASE

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.search and not self.listings:
            raise ValueError("nothing to poll: set search = true or list listing pages in listings = [...]")
        if not 1 <= self.max_pages <= MAX_SEARCH_PAGES:
            raise ValueError(f"'max_pages' must be from 1 to {MAX_SEARCH_PAGES}, got {self.max_pages}")
        if self.pdf_text not in PDF_TEXT_CHOICES:
            raise ValueError(f"'pdf_text' must be one of {', '.join(PDF_TEXT_CHOICES)}, got {self.pdf_text!r}")
        if not _LANG.match(self.language):
            raise ValueError(
                f'\'language\' must be a register language code such as "EN" or "X", got {self.language!r}'
            )
        if not re.fullmatch(r"[a-z]{2}", self.pdf_language):
            raise ValueError(f"'pdf_language' must be a lower-case code such as \"en\", got {self.pdf_language!r}")
        if self.max_pdfs < 0 or self.pdf_max_pages < 1:
            raise ValueError("'max_pdfs' must be 0 or more and 'pdf_max_pages' 1 or more")
        if not re.match(r"^https?://[^\s/]+", self.document_server):
            raise ValueError(f"'document_server' must be an http(s) URL, got {self.document_server!r}")

    # --- fetching register pages -------------------------------------------------------------------------------

    def search_url(self, page: int) -> str:
        """The search, newest first, with the configured filters."""
        params: list[tuple[str, str]] = []
        if self.words_in_subject:
            params.append(("WordsInSubject", self.words_in_subject))
        params += [("SubjectMatters", str(code)) for code in self.subject_matters]
        params += [("DocumentTypes", str(kind)) for kind in self.document_types]
        if self.language:
            params.append(("DocumentLanguage", self.language.upper()))
        if self.only_public:
            params.append(("OnlyPublicDocuments", "true"))
        params += [("OrderBy", "DOCUMENT_DATE DESC"), ("page", str(page))]
        return f"{self.url}{'&' if '?' in self.url else '?'}{urlencode(params)}"

    def listing_urls(self) -> list[str]:
        return [urljoin(self.url, str(path)) for path in self.listings]

    async def poll(self, http, state) -> list[Item]:
        items: dict[str, Item] = {}
        if self.search:
            for item in await self._search(http, state):
                _keep(items, item)
        for url in self.listing_urls():
            for item in await self._page_items(http, url):
                _keep(items, item)
        return list(items.values())

    async def _search(self, http, state) -> list[Item]:
        """Search pages, newest first, until one holds a known reference, repeats or ends; at most max_pages."""
        found: dict[str, Item] = {}
        for number in range(1, self.max_pages + 1):
            url = self.search_url(number)
            try:
                page = await self._page_items(http, url)
            except FetchError as exc:
                # No known document was met on the earlier pages, so this page may hold new ones: recording the
                # earlier pages alone would make the next poll stop at them and never read this one.
                if number > 1:
                    log.warning(
                        "source %s: search page %d failed (%s) before a known document was met; the whole "
                        "poll fails so that the page is read next time",
                        self.name,
                        number,
                        exc.failure,
                    )
                raise
            fresh = [item for item in page if item.id not in found]
            found.update((item.id, item) for item in fresh)
            if not fresh or state.known_ids([item.id for item in fresh]):
                break
        else:
            log.info(
                "source %s: read %d search pages (max_pages) without meeting a known document",
                self.name,
                self.max_pages,
            )
        return list(found.values())

    async def _page_items(self, http, url: str) -> list[Item]:
        try:
            resp = await http.get(url, source=self.name, max_bytes=self.max_bytes)
        except FetchError as exc:
            if exc.failure == "blocked":
                raise blocked_error(self.name, url, exc.detail) from exc
            raise
        return page_items(resp.content, self.name, resp.url, resp.status, resp.headers)

    def failing_message(self, failure: str | None, polls: int, since: str, detail: str) -> str | None:
        """The operators' message when the register is blocked by bot protection (None for other failures, which
        get the usual one)."""
        if failure != "blocked":
            return None
        return BLOCKED_MESSAGE.format(name=self.name, polls=polls, since=since, detail=detail, server=f"{PDF_BASE}/")

    def parse(self, data: bytes, url: str = "") -> list[Item]:
        return page_items(data, self.name, url or self.url)

    # --- document text -----------------------------------------------------------------------------------------

    async def enrich(self, http, items: list[Item], flags: Callable[[Item], bool]) -> list[Item]:
        """Read the PDF of public documents (all, or those the matcher flags on their listing), at most
        ``max_pdfs`` per poll."""
        if self.pdf_text == "none":
            return items
        out: list[Item] = []
        budget, skipped = self.max_pdfs, 0
        for item in items:
            wanted = item.extra.get("public") is True and (self.pdf_text == "all" or flags(item))
            if wanted and budget > 0:
                budget -= 1
                item = await self._read_document(http, item)
            elif wanted:
                skipped += 1
            out.append(item)
        if skipped and self.max_pdfs:
            log.warning(
                "source %s: %d documents recorded without their text (max_pdfs = %d per poll)",
                self.name,
                skipped,
                self.max_pdfs,
            )
        return out

    async def _read_document(self, http, item: Item) -> Item:
        try:
            ref = parse_ref(item.id)
            url = pdf_url(self.document_server, ref, language_for(item.extra.get("languages", []), self.pdf_language))
            data, why = await fetch_pdf(http, url, source=self.name, max_bytes=self.pdf_max_bytes)
            if data is None:
                log.info("source %s: PDF of %s not available: %s", self.name, item.id, why)
                return item
            # pypdf is CPU-bound: read in a worker thread so the bot and delivery go on meanwhile
            return with_pdf(item, await asyncio.to_thread(read_pdf, data, self.pdf_max_pages))
        except (FetchError, ParseError, RefError) as exc:
            log.warning("source %s: text of %s not read: %s", self.name, item.id, exc)
            return item


def _keep(items: dict[str, Item], item: Item) -> None:
    """One item per reference; a listing that shows the document as public wins."""
    known = items.get(item.id)
    if known is None or (item.extra.get("public") and not known.extra.get("public")):
        items[item.id] = item
