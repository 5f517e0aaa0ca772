"""Text of Council document PDFs, page by page, and the page-1 header.

``extract_text`` turns PDF bytes into a ``PdfText`` whose ``pages`` list lets a
caller say on which page a phrase was found. ``parse_header`` reads the
metadata block Council documents print on page 1.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from watcher.errors import ParseError
from watcher.sources.council.header import DocHeader, read_header

if TYPE_CHECKING:
    import pypdf

log = logging.getLogger(__name__)

DEFAULT_MAX_PAGES = 60
__all__ = ["DEFAULT_MAX_PAGES", "DocHeader", "PdfText", "extract_text", "parse_header"]


@dataclass
class PdfText:
    """Text of a PDF, one string per page read (1-based page n is ``pages[n-1]``)."""

    pages: list[str]
    page_count: int
    truncated: bool = False

    @property
    def text(self) -> str:
        """All pages read, separated by form feeds."""
        return "\f".join(self.pages)


def extract_text(data: bytes, max_pages: int = DEFAULT_MAX_PAGES) -> PdfText:
    """Read up to ``max_pages`` pages of text; raise ParseError for anything not a readable PDF."""
    if b"%PDF-" not in data[:1024]:
        start = data[:40].decode("latin-1", errors="replace")
        raise ParseError(f"not a PDF: the body starts with {start!r}")
    import pypdf  # loaded late: the PDF reader is heavy and only polls and `watcher parse` read PDFs

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            reader.decrypt("")
        count = len(reader.pages)
        pages = [_page_text(reader, i) for i in range(min(count, max_pages))]
    except Exception as exc:  # pypdf can fail in many ways on hostile files (zlib, struct, ...): all mean unreadable
        raise ParseError(f"unreadable PDF: {type(exc).__name__}: {exc}") from exc
    return PdfText(pages=pages, page_count=count, truncated=count > max_pages)


def _page_text(reader: pypdf.PdfReader, index: int) -> str:
    from pypdf.errors import PyPdfError  # loaded late: as in extract_text, which calls this

    try:
        return reader.pages[index].extract_text() or ""
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        log.warning("PDF page %d: no text extracted (%s: %s)", index + 1, type(exc).__name__, exc)
        return ""


def parse_header(text: str) -> DocHeader:
    """Read the header block of page 1 (see ``watcher.sources.council.header``)."""
    return read_header(text)
