"""Downloading Council PDFs from the document server, for both Council source kinds.

The document server answers plain requests (reported). Which status it gives for a document that does not exist or
is not public is not known, so anything other than ``200`` with a PDF body means "not available (yet)", never a
failed poll. Errors that say nothing about the document (time-outs, network, server errors, rate limits, bot
protection) are raised to the caller.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from watcher.errors import FetchError, ParseError
from watcher.models import Item
from watcher.sources.council.document import identity, item_from_pdf, read_pdf
from watcher.sources.council.refs import PDF_BASE, DocRef, RefError, find_refs, parse_ref

log = logging.getLogger(__name__)

PDF_MAGIC = b"%PDF-"
DEFAULT_PDF_MAX_BYTES = 20 * 1024 * 1024
_FILE_REF = re.compile(r"(?:ST|WK|CM|PE|SN)[-_ ][0-9A-Za-z_ -]+", re.IGNORECASE)


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


def pdf_items(data: bytes, source: str, url: str = "", name: str = "") -> list[Item]:
    """The one item a Council PDF gives. Its reference is the one its URL or file name gives (e.g.
    ``ST-13217-2023-INIT.pdf``), else the page-1 header's own."""
    doc = read_pdf(data)
    ref = identity(_ref_from_url(url) or _ref_from_name(name), doc.header, source)
    if ref is None:
        raise ParseError(
            "no document reference in the PDF's header; name the file after it, e.g. ST-13217-2023-INIT.pdf"
        )
    return [item_from_pdf(source, ref, url or ref.pdf_url("en"), doc)]


def _ref_from_url(url: str) -> DocRef | None:
    """The reference in a document server URL (``.../ST-13589-2023-INIT/en/pdf``) or in its last part."""
    try:
        return parse_ref(url) if url else None
    except RefError:
        return _ref_from_name(url)


def _ref_from_name(name: str) -> DocRef | None:
    stem = Path(name).name.removesuffix(".pdf") if name else ""
    for m in _FILE_REF.finditer(stem):
        try:
            return parse_ref(m.group(0).strip())
        except RefError:
            continue
    found = find_refs(stem.replace("_", " "))
    return found[0] if found else None
