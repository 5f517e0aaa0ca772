"""Text of Council document PDFs, page by page, and the page-1 header.

``extract_text`` turns PDF bytes into a ``PdfText`` whose ``pages`` list lets a
caller say on which page a phrase was found. ``parse_header`` reads the
metadata block Council documents print on page 1.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, field
from datetime import date

import pypdf
from pypdf.errors import PyPdfError

from watcher.sources.council.refs import DocRef, find_refs
from watcher.errors import ParseError

log = logging.getLogger(__name__)

DEFAULT_MAX_PAGES = 60

KNOWN_CODES = frozenset({
    "MIGR", "FRONT", "COMIX", "SIRIS", "ASIM", "RELEX", "CODEC", "JAI", "JAIEX", "COASI",
    "CRS CRP", "ASILE", "ENFOPOL", "CRIMORG", "IXIM", "VISA", "SCHENGEN", "COSI",
})
# Longest first, so "COVER NOTE" wins over "NOTE".
DOC_TYPES = tuple(sorted({
    "NOTE", "COVER NOTE", '"I/A" ITEM NOTE', '"I" ITEM NOTE', '"A" ITEM NOTE',
    "INFORMATION NOTE", "OUTCOME OF PROCEEDINGS", "SUMMARY RECORD", "REPORT",
    "PROPOSAL", "RESULTS OF PROCEEDINGS", "PROVISIONAL AGENDA", "DRAFT MINUTES",
    "LEGISLATIVE ACTS AND OTHER INSTRUMENTS", "OUTCOME OF THE COUNCIL MEETING",
    "NOTICE OF MEETING AND PROVISIONAL AGENDA", "INFORMATION", "OPINION", "LETTER",
}, key=len, reverse=True))
MARKINGS = ("RESTREINT UE/EU RESTRICTED", "CONFIDENTIEL UE/EU CONFIDENTIAL", "SECRET UE/EU SECRET", "LIMITE")

_MONTHS = {
    name: i + 1
    for names in (
        "january february march april may june july august september october november december",
        "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    )
    for i, name in enumerate(names.split())
}
_DATE = re.compile(
    r"\b(?:Brussels|Bruxelles|Luxembourg|Strasbourg)\s*,\s*(?:le\s+)?(\d{1,2})(?:er)?\s+"
    r"([A-Za-zéû]+)\s+((?:19|20)\d\d)\b",
    re.IGNORECASE,
)
_LANGUAGE = re.compile(r"\(OR\.\s*([a-z]{2})\b", re.IGNORECASE)
_MARKING = re.compile(
    r"\b(?:" + "|".join(re.escape(m).replace(r"\ ", r"\s+") for m in MARKINGS) + r")\b"
)
_CODE_PAIR = re.compile(r"\b([A-Z]{2,}(?:[ \t]+[A-Z]{2,})*)[ \t]+(\d{1,5})\b")
_NOT_CODES = frozenset({"REV", "ADD", "COR", "EXT", "INIT", "OR", "EN", "FR"})
_DOC_TYPE = re.compile(
    r"(?<![A-Za-z\"])(" + "|".join(re.escape(t) for t in DOC_TYPES) + r")(?![A-Za-z])"
)
_FILES = re.compile(r"\b((?:19|20)\d\d/\d{4})\s*\(\s*([A-Z]{3})\s*\)")
_LABEL = re.compile(
    r"(?P<label>From|To|Subject|No\.\s*prev\.\s*doc\.|No\.\s*Cion\s*doc\.|"
    r"Interinstitutional\s+Files?|Date\s+of\s+receipt)\s*:",
)
_BODY_START = re.compile(r"^\s*(?:Delegations\b|With a view\b|In view\b|Following\b|"
                         r"Annex\b|ANNEX\b|[0-9IVX]+\.\s)")
_SUBJECT_MAX_LINES = 4


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


@dataclass(frozen=True)
class DocHeader:
    """Metadata printed on page 1. ``originator``/``addressee`` are the From:/To: lines."""

    date: date | None = None
    language: str | None = None
    ref: DocRef | None = None
    marking: str | None = None
    codes: tuple[str, ...] = ()
    doc_type: str | None = None
    originator: str | None = None
    addressee: str | None = None
    subject: str | None = None
    interinstitutional_files: tuple[str, ...] = field(default=())

    @property
    def interinstitutional_file(self) -> str | None:
        """The first procedure number, e.g. ``2018/0330(COD)``."""
        return self.interinstitutional_files[0] if self.interinstitutional_files else None


def extract_text(data: bytes, max_pages: int = DEFAULT_MAX_PAGES) -> PdfText:
    """Read up to ``max_pages`` pages of text; raise ParseError for anything not a readable PDF."""
    if b"%PDF-" not in data[:1024]:
        start = data[:40].decode("latin-1", errors="replace")
        raise ParseError(f"not a PDF: the body starts with {start!r}")
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
    try:
        return reader.pages[index].extract_text() or ""
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        log.warning("PDF page %d: no text extracted (%s: %s)", index + 1, type(exc).__name__, exc)
        return ""


def parse_header(text: str) -> DocHeader:
    """Parse the header block of page 1 (all three known layouts)."""
    labels = _labelled_values(text)
    head = _head_region(text)
    refs = find_refs(head)
    return DocHeader(
        date=_parse_date(head),
        language=_first_group(_LANGUAGE, head, str.lower),
        ref=refs[0] if refs else None,
        marking=_parse_marking(head),
        codes=_parse_codes(head),
        doc_type=_parse_doc_type(head),
        originator=labels.get("from"),
        addressee=labels.get("to"),
        subject=labels.get("subject"),
        interinstitutional_files=tuple(f"{n}({k})" for n, k in _FILES.findall(head)),
    )


def _head_region(text: str) -> str:
    """Text before the subject line, or the first 25 lines when there is none."""
    m = re.search(r"\bSubject\s*:", text)
    if m:
        return text[: m.start()]
    return "\n".join(text.splitlines()[:25])


def _first_group(pattern: re.Pattern[str], text: str, fix=str) -> str | None:
    m = pattern.search(text)
    return fix(m.group(1)) if m else None


def _parse_date(text: str) -> date | None:
    for m in _DATE.finditer(text):
        month = _MONTHS.get(m.group(2).lower())
        if month is None:
            continue
        try:
            return date(int(m.group(3)), month, int(m.group(1)))
        except ValueError as exc:
            log.debug("ignoring impossible header date %r: %s", m.group(0), exc)
    return None


def _parse_marking(text: str) -> str | None:
    m = _MARKING.search(text)
    return " ".join(m.group(0).split()) if m else None


def _parse_codes(text: str) -> tuple[str, ...]:
    """Subject codes from runs of ``CODE number`` pairs that hold at least one known code."""
    codes: list[str] = []
    for line in text.splitlines():
        pairs = [_code_name(m.group(1)) for m in _CODE_PAIR.finditer(line)]
        pairs = [c for c in pairs if c and c not in _NOT_CODES]
        if any(c in KNOWN_CODES for c in pairs):
            codes.extend(c for c in pairs if c not in codes)
    return tuple(codes)


def _code_name(words: str) -> str:
    """``CRS CRP`` stays whole; otherwise only the last word is the code."""
    joined = " ".join(words.split())
    return joined if joined in KNOWN_CODES else joined.split(" ")[-1]


def _parse_doc_type(text: str) -> str | None:
    plain = re.sub(r"[\u2018\u2019'\u201c\u201d\u201e]([A-Z/]{1,4})[\u2018\u2019'\u201c\u201d]", r'"\1"', text)
    for line in plain.splitlines():
        m = _DOC_TYPE.search(line)
        if m and not _LABEL.search(line[: m.start()]):
            return m.group(1)
    return None


def _labelled_values(text: str) -> dict[str, str]:
    """``From:``, ``To:``, ``Subject:`` ... values, inline or one per line."""
    values: dict[str, str] = {}
    matches = list(_LABEL.finditer(text))
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        key = " ".join(m.group("label").split()).lower()
        if key in values:
            continue
        raw = text[m.end(): end]
        lines = _value_lines(raw, many=key == "subject")
        value = " ".join(" ".join(lines).split())
        if value:
            values[key] = value
    return values


def _value_lines(raw: str, many: bool) -> list[str]:
    lines = raw.split("\n")
    kept = [lines[0]]
    if many:
        for line in lines[1:_SUBJECT_MAX_LINES]:
            if not line.strip() or _BODY_START.match(line):
                break
            kept.append(line)
    return kept
