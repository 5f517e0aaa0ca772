"""Items for Council documents read from their PDF: the text with its page boundaries and the page-1 header.

Pure: bytes in, items out. ``read_pdf`` reads a PDF; ``with_pdf`` adds what it says to an item the register
listed; ``item_from_pdf`` builds the item for a document found on the document server; ``placeholder_item``
stands for a number the server does not serve (yet), so that its later appearance counts as "now public".

Identity: the reference a document was probed or listed under is its id. A header that names another reference is
logged and kept as ``header_ref``, never adopted; ``identity`` uses the header's own reference only when nothing
else gives one (and the header reader never takes it from a list of other documents).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime

from watcher.models import Item
from watcher.sources.council.pages import PAGE_STARTS, join_pages
from watcher.sources.council.pdf import DEFAULT_MAX_PAGES, DocHeader, PdfText, extract_text, parse_header
from watcher.sources.council.refs import DocRef, RefError, parse_ref

log = logging.getLogger(__name__)

MAX_BODY_CHARS = 400_000


@dataclass(frozen=True)
class PdfDocument:
    """A PDF's text, page by page, and its header."""

    text: PdfText
    header: DocHeader


def read_pdf(data: bytes, max_pages: int = DEFAULT_MAX_PAGES) -> PdfDocument:
    """Read a Council PDF; raises ParseError when the bytes are not a readable PDF."""
    text = extract_text(data, max_pages=max_pages)
    return PdfDocument(text=text, header=parse_header(text.pages[0] if text.pages else ""))


def _day(value: date | None) -> datetime | None:
    return datetime(value.year, value.month, value.day, tzinfo=UTC) if value else None


def identity(given: DocRef | None, header: DocHeader, where: str = "") -> DocRef | None:
    """The document's reference: the one it was probed or listed under, else the header's own (or None)."""
    if given is None:
        return header.ref
    if header.ref is not None and header.ref != given:
        # another version of the same document (an EXT printing its INIT number) is common; another document is not
        level = logging.INFO if header.ref.family == given.family else logging.WARNING
        log.log(
            level,
            "%sthe PDF of %s names %s in its header; keeping %s",
            f"{where}: " if where else "",
            given,
            header.ref,
            given,
        )
    return given


def pdf_extra(doc: PdfDocument, own: DocRef | None = None) -> dict:
    """The header and page facts an item keeps in ``extra``; ``own`` is left out of the other documents."""
    h = doc.header
    return {
        "marking": h.marking or "",
        "language": h.language or "",
        "interinstitutional_file": h.interinstitutional_file or "",
        "procedures": list(h.interinstitutional_files),
        "type_original": h.type_original or "",
        "commission_doc": h.commission_doc or "",
        "other_refs": [r.canonical for r in h.other_refs if r != own],
        "unread": list(h.unread),
        "header_ref": h.ref.canonical if h.ref else "",
        "page_count": doc.text.page_count,
        "pages_read": len(doc.text.pages),
        "truncated": doc.text.truncated,
    }


def _body(doc: PdfDocument) -> tuple[str, list[int]]:
    body, starts = join_pages(doc.text.pages)
    return body[:MAX_BODY_CHARS], [s for s in starts if s < MAX_BODY_CHARS]


def with_pdf(item: Item, doc: PdfDocument) -> Item:
    """A register item with its document's text and header: the title from the Subject line when the register
    gave none, the header's subject codes added to the listed ones, and the type, date and parties filled in where
    the listing left them empty."""
    h = doc.header
    listed = _listed_ref(item)
    identity(listed, h, item.source)
    extra = dict(item.extra)
    body, starts = _body(doc)
    codes = list(extra.get("subjects") or [])
    codes += [c for c in h.codes if c not in codes]
    extra.update(pdf_extra(doc, listed), subjects=codes, public=True, **{PAGE_STARTS: starts})
    extra["doc_type"] = extra.get("doc_type") or h.doc_type or ""
    extra["originator"] = extra.get("originator") or h.originator or ""
    extra["addressee"] = extra.get("addressee") or h.addressee or ""
    title = h.title if extra.pop("untitled", False) and h.title else item.title
    return dataclasses.replace(
        item,
        title=title,
        summary=item.summary or h.subject or "",
        body=body,
        published=item.published or _day(h.date),
        extra=extra,
    )


def item_from_pdf(source: str, ref: DocRef, url: str, doc: PdfDocument) -> Item:
    """The item for a document found on the document server: its id is the reference it was fetched under."""
    h = doc.header
    identity(ref, h, source)
    body, starts = _body(doc)
    kind = h.doc_type or ""
    title = h.title or f"{kind or 'Council document'} {ref.short}"
    extra = {
        "doc_type": kind,
        "subjects": list(h.codes),
        "public": True,
        "family": ref.family,
        "version": ref.version_str,
        "originator": h.originator or "",
        "addressee": h.addressee or "",
        **pdf_extra(doc, ref),
        PAGE_STARTS: starts,
    }
    return Item(
        source=source,
        id=ref.canonical,
        title=title,
        url=url,
        published=_day(h.date),
        summary=h.subject or "",
        body=body,
        extra=extra,
    )


def _listed_ref(item: Item) -> DocRef | None:
    try:
        return parse_ref(item.id)
    except RefError:
        return None


def unread_item(source: str, ref: DocRef, url: str, reason: str) -> Item:
    """A document the server serves but whose text could not be read (too large, unreadable PDF)."""
    return Item(
        source=source,
        id=ref.canonical,
        title=f"Council document {ref.short}",
        url=url,
        extra={
            "doc_type": "",
            "subjects": [],
            "public": True,
            "family": ref.family,
            "version": ref.version_str,
            "pdf": reason,
        },
    )


def placeholder_item(source: str, ref: DocRef, url: str) -> Item:
    """A number below the highest one found that the server does not serve: known, not public (yet)."""
    return Item(
        source=source,
        id=ref.canonical,
        title=f"{ref.canonical} (not available on the document server)",
        url=url,
        extra={"public": False, "family": ref.family, "version": ref.version_str, "probe": "missing"},
    )
