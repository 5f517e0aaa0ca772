"""Rows of Council register pages: search results and "latest" listings.

Rows are anchored on the most stable signals: text that opens with a document
reference, and PDF links on the document server. The reported CSS classes are
used first when present, but parsing falls back to the anchors alone. One row
comes out per reference, however many language versions the page lists.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urljoin

from bs4 import BeautifulSoup, Tag

from watcher.http.challenge import detect_challenge
from watcher.models import Item
from watcher.sources.council.markup import (
    LANG_FIRST,
    fields_of,
    generic_containers,
    href_of,
    option_languages,
    pdf_link,
    pdf_links_of,
    split_subjects,
    text_lines,
)
from watcher.sources.council.refs import DocRef, leading_ref

__all__ = ["RegisterPage", "RegisterRow", "detect_challenge", "parse_register_page", "row_to_item"]

log = logging.getLogger(__name__)

SITE = "https://www.consilium.europa.eu"
SEARCH_URL = f"{SITE}/en/documents-publications/public-register/public-register-search/"
RESULT_ITEM = "li.gsc-public-register__result-item"

_DATE = re.compile(r"(?<!\d)(\d{2})/(\d{2})/(\d{4})(?!\d)")
_TOTAL_OF = re.compile(r"\bof\s+(\d[\d,.\u00a0 ]*)", re.IGNORECASE)
_TOTAL_N = re.compile(r"(\d[\d,.\u00a0 ]*)\s*(?:results?|documents?)\b", re.IGNORECASE)
_COUNT_LINE = re.compile(
    r"^(?:showing\s+)?(?:results?\s+)?(?:\d+\s*[-\u2013]\s*\d+\s+of\s+(?P<of>\d[\d,.\u00a0 ]*)(?:\s+results?)?"
    r"|(?P<n>\d[\d,.\u00a0 ]*)\s+results?(?:\s+found)?)$",
    re.IGNORECASE,
)
_NO_RESULTS = re.compile(r"\bno (?:results|documents?)\b|\bdid not return any\b", re.IGNORECASE)
_NOT_PUBLIC = re.compile(r"not\s+(?:publicly\s+)?(?:accessible|available)|\bnot\s+public\b", re.IGNORECASE)
_ACCESS_NOTE = re.compile(r"This document is (?:not|only)\b[^.\n]*\.?|Not publicly available\.?", re.IGNORECASE)
_QUOTED = re.compile(r"['\u2018\u2019\u201c\u201d\"]([A-Z/]{1,4})['\u2018\u2019\u201c\u201d\"]")
_TYPE_AFTER = re.compile(r"^\s*[-\u2013\u2014]\s*(.+?)\s*$")


@dataclass(frozen=True)
class RegisterRow:
    """One document as listed on a register page (all language versions merged)."""

    ref: DocRef
    doc_type: str = ""
    date: dt.date | None = None
    title: str = ""
    subject: str = ""
    subjects: tuple[str, ...] = ()
    originator: str = ""
    addressee: str = ""
    languages: tuple[str, ...] = ()
    pdf_links: tuple[tuple[str, str], ...] = ()
    public: bool = False
    url: str = ""
    meeting_date: dt.date | None = None
    access_note: str = ""

    @property
    def reference(self) -> str:
        """The canonical reference, e.g. ``ST 13589 2023 INIT``."""
        return self.ref.canonical

    def pdf_url(self, lang: str = "en") -> str | None:
        """The listed PDF link for a language, or None."""
        return dict(self.pdf_links).get(lang.lower())


@dataclass(frozen=True)
class RegisterPage:
    """What a page held. ``is_results_page`` is False when the page is not
    recognisably a register page (markup changed, error or challenge page);
    then an empty ``rows`` means "could not read", not "no documents"."""

    rows: list[RegisterRow]
    total: int | None
    is_results_page: bool


def parse_register_page(body: bytes, base_url: str = SEARCH_URL) -> RegisterPage:
    """Parse a search results page or a listing page into merged rows."""
    soup = BeautifulSoup(body, "html.parser")
    root = soup.body or soup
    rows = _rows_from(root.select(RESULT_ITEM), base_url)
    if not rows:
        rows = _rows_from(generic_containers(root, base_url), base_url)
    total = _total(root)
    merged = _merge(rows)
    no_results = bool(_NO_RESULTS.search(root.get_text(" ")))
    recognised = bool(merged) or total == 0 or (total is None and no_results)
    return RegisterPage(rows=merged, total=total, is_results_page=recognised)


def _rows_from(containers: list[Tag], base_url: str) -> list[RegisterRow]:
    rows = []
    for box in containers:
        row = _parse_container(box, base_url)
        if row is None:
            log.warning("register row without a reference skipped: %.80r", box.get_text(" ", strip=True))
        else:
            rows.append(row)
    return rows


def _parse_container(box: Tag, base_url: str) -> RegisterRow | None:
    lines = text_lines(box)
    all_links = pdf_links_of(box, base_url)
    found = _reference_line(box, lines) or _reference_from_links(all_links)
    if found is None:
        return None
    ref, doc_type, after = found
    fields = fields_of(box)
    links = [(lang, url) for pdf_ref, lang, url in all_links if pdf_ref == ref]
    note_match = _ACCESS_NOTE.search(" ".join(lines))
    note = note_match.group(0) if note_match else ""
    title, link = _title_and_link(box, base_url)
    return RegisterRow(
        ref=ref,
        doc_type=doc_type or normalise_type(fields.get("document type", "")),
        date=_row_date(box, fields, lines[after:]),
        title=title or fields.get("title", "") or fields.get("subject", ""),
        subject=fields.get("subject", ""),
        subjects=split_subjects(fields.get("subject matters", "")),
        originator=fields.get("originator", ""),
        addressee=fields.get("addressee", ""),
        languages=_order_langs([lang for lang, _ in links] + option_languages(box)),
        pdf_links=tuple(dict(links).items()),
        public=bool(links) and not _NOT_PUBLIC.search(note),
        url=link,
        meeting_date=_parse_date(fields.get("meeting date", "")),
        access_note=note,
    )


def _reference_line(box: Tag, lines: list[str]) -> tuple[DocRef, str, int] | None:
    """The reference heading a row (the hinted title first, else the first line
    opening with a reference), the type printed after it, and the index of the
    line after it."""
    hint = box.select_one("strong.pa-download-document-title")
    if hint is not None:
        hint_lines = text_lines(hint)
        found = leading_ref(" ".join(hint_lines))
        if found and hint_lines:
            index = lines.index(hint_lines[-1]) + 1 if hint_lines[-1] in lines else 0
            return found[0], _type_after(found[1], lines, index), index
    for i, line in enumerate(lines):
        found = leading_ref(line)
        if found is not None:
            return found[0], _type_after(found[1], lines, i + 1), i + 1
    return None


def _type_after(rest: str, lines: list[str], index: int) -> str:
    """The type printed after the reference (`` - NOTE``), on its line or the next."""
    if rest.strip():
        return _clean_type(rest)
    return _clean_type(lines[index]) if index < len(lines) else ""


def _reference_from_links(links: list[tuple[DocRef, str, str]]) -> tuple[DocRef, str, int] | None:
    """When no text names the document, the reference of its PDF links, if they agree."""
    refs = {ref for ref, _, _ in links}
    return (refs.pop(), "", 0) if len(refs) == 1 else None


def _clean_type(rest: str) -> str:
    m = _TYPE_AFTER.match(rest)
    return normalise_type(m.group(1)) if m else ""


def normalise_type(text: str) -> str:
    """Upper case, single spaces, and ``"I/A"``-style quotes whatever the page used."""
    plain = " ".join(text.split()).upper()
    return _QUOTED.sub(r'"\1"', plain)


def _row_date(box: Tag, fields: dict[str, str], lines_after: list[str]) -> dt.date | None:
    hint = box.select_one("header span.pull-right")
    for text in (hint.get_text() if hint else "", fields.get("document date", ""), fields.get("date", "")):
        found = _parse_date(text)
        if found:
            return found
    field_values = set(fields.values())
    for line in lines_after:
        if line in field_values:
            continue
        found = _parse_date(line)
        if found:
            return found
    return None


def _parse_date(text: str) -> dt.date | None:
    m = _DATE.search(text or "")
    if not m:
        return None
    day, month, year = (int(g) for g in m.groups())
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        log.debug("ignoring impossible register date %r: %s", m.group(0), exc)
        return None


def _title_and_link(box: Tag, base_url: str) -> tuple[str, str]:
    """The first link with real text (not a language code or a download button):
    its text is the title; its address counts as the register link unless it is a PDF."""
    for a in box.find_all("a", href=True):
        text = " ".join(a.get_text(" ").split())
        classes = set(a.get_attribute_list("class"))
        if len(text) <= 3 or text.lower().startswith("download") or {"option-language-item", "link-pdf"} & classes:
            continue
        href = urljoin(base_url, href_of(a))
        return text, ("" if pdf_link(href) else href)
    return "", ""


def _order_langs(langs: list[str]) -> tuple[str, ...]:
    unique = sorted(set(langs))
    return tuple(sorted(unique, key=lambda code: (code not in LANG_FIRST, code)))


def _total(root: Tag) -> int | None:
    """The result count from the hinted element, else from a line such as
    ``1 - 20 of 137`` or ``137 results``."""
    hint = root.select_one(".pr-meta .results")
    if hint is not None:
        m = _TOTAL_OF.search(hint.get_text(" ")) or _TOTAL_N.search(hint.get_text(" "))
        return _int(m.group(1)) if m else None
    for line in text_lines(root):
        m = _COUNT_LINE.match(line)
        if m:
            return _int(m.group("of") or m.group("n"))
    return None


def _int(text: str) -> int | None:
    digits = re.sub(r"\D", "", text)
    return int(digits) if digits else None


def _merge(rows: list[RegisterRow]) -> list[RegisterRow]:
    """One row per reference, in first-seen order; the English listing wins for text."""
    groups: dict[DocRef, list[RegisterRow]] = {}
    for row in rows:
        groups.setdefault(row.ref, []).append(row)
    return [_merge_group(group) for group in groups.values()]


def _merge_group(group: list[RegisterRow]) -> RegisterRow:
    if len(group) == 1:
        return group[0]
    best = next((r for r in group if r.pdf_url("en")), group[0])
    ordered = [best, *group]
    links: dict[str, str] = {}
    for row in group:
        for lang, url in row.pdf_links:
            links.setdefault(lang, url)

    def first(attr: str):
        return next((getattr(r, attr) for r in ordered if getattr(r, attr)), None)

    return RegisterRow(
        ref=best.ref,
        doc_type=first("doc_type") or "",
        date=first("date"),
        title=first("title") or "",
        subject=first("subject") or "",
        subjects=first("subjects") or (),
        originator=first("originator") or "",
        addressee=first("addressee") or "",
        languages=_order_langs([lang for r in group for lang in r.languages]),
        pdf_links=tuple(links.items()),
        public=any(r.public for r in group),
        url=first("url") or "",
        meeting_date=first("meeting_date"),
        access_note=first("access_note") or "",
    )


def register_search_url(ref: DocRef) -> str:
    """A register search for the document's number (all its versions)."""
    number = f"{ref.number}/{ref.year % 100:02d}"
    return f"{SEARCH_URL}?DocumentNumber={quote(number, safe='')}"


def row_to_item(row: RegisterRow, source_name: str) -> Item:
    """The pipeline's Item for a register row (id = canonical reference)."""
    if row.public:
        url = row.pdf_url("en") or (row.pdf_links[0][1] if row.pdf_links else row.ref.pdf_url("en"))
    else:
        url = row.url or register_search_url(row.ref)
    published = datetime(row.date.year, row.date.month, row.date.day, tzinfo=dt.UTC) if row.date else None
    summary = row.subject
    if row.subjects:
        summary = f"{summary} (subject matters: {', '.join(row.subjects)})".strip()
    return Item(
        source=source_name,
        id=row.reference,
        title=row.title or f"{row.reference} {row.doc_type}".strip(),
        url=url,
        published=published,
        summary=summary,
        extra={
            "doc_type": row.doc_type,
            "subjects": list(row.subjects),
            "public": row.public,
            "family": row.ref.family,
            "version": row.ref.version_str,
            "languages": list(row.languages),
            "originator": row.originator,
            "addressee": row.addressee,
            "pdf_links": dict(row.pdf_links),
        },
    )
