"""Downloading Council PDFs from the document server, for both Council source kinds.

The document server answers plain requests (reported). Which status it gives for a document that does not exist or
is not public is not known, so anything other than ``200`` with a PDF body means "not available (yet)", never a
failed poll. Errors that say nothing about the document (time-outs, network, server errors, rate limits, bot
protection) are raised to the caller.
"""

from __future__ import annotations

import logging

from watcher.sources.council.refs import PDF_BASE, DocRef
from watcher.errors import FetchError

log = logging.getLogger(__name__)

PDF_MAGIC = b"%PDF-"
DEFAULT_PDF_MAX_BYTES = 20 * 1024 * 1024


def pdf_url(server: str, ref: DocRef, lang: str) -> str:
    """The document's PDF on ``server`` (the document server's ``/doc/document`` base or a test double)."""
    return f"{(server or PDF_BASE).rstrip('/')}/{ref.pdf_id}/{lang.lower()}/pdf"


async def fetch_pdf(http, url: str, *, source: str, max_bytes: int) -> tuple[bytes | None, str]:
    """The PDF's bytes, or None and why it is not available. Raises FetchError for failures of the fetch itself,
    including ``too_large`` (the document exists but passes the cap)."""
    try:
        resp = await http.get(url, source=source, max_bytes=max_bytes)
    except FetchError as exc:
        if exc.failure == "client_error":
            return None, exc.detail
        raise
    if resp.status != 200:
        return None, f"HTTP {resp.status}"
    if PDF_MAGIC not in resp.content[:1024]:
        kind = resp.headers.get("content-type", "unknown type")
        return None, f"HTTP 200 but not a PDF ({kind}, {len(resp.content)} bytes)"
    return resp.content, ""


def language_for(item_languages: list[str] | tuple[str, ...], wanted: str) -> str:
    """The wanted language when the listing offers it (or lists none), else the first one listed."""
    wanted = wanted.lower()
    langs = [lang.lower() for lang in item_languages or ()]
    return wanted if not langs or wanted in langs else langs[0]
