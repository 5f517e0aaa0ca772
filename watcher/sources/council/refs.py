"""Council document references: one parser for every printed form.

Forms accepted (case-insensitive in ``parse_ref``)::

    ST 13589 2023 INIT        register form
    ST-13589-2023-REV-1       PDF id (also inside a PDF URL)
    ST_15454_2016_INIT        EUR-Lex form, optionally prefixed ``consil:``
    13589/23                  short form from document headers (series ST)
    14860/1/18 REV 1          short form; the middle number repeats the REV number
    WK 9054/26, PE-CONS 23/19 short form with a series prefix

A version is a sequence of components: ``INIT`` (empty), ``REV n``, ``ADD n``,
``COR n`` and ``EXT n``, combined in printed order, e.g. ``ADD 1 REV 2``.
"""

from __future__ import annotations

import bisect
import logging
import re
from dataclasses import dataclass

log = logging.getLogger(__name__)

SERIES = ("ST", "WK", "CM", "PE", "SN")
VERSION_KINDS = ("REV", "ADD", "COR", "EXT")
PDF_BASE = "https://data.consilium.europa.eu/doc/document"
ACCEPTED_FORMS = (
    "ST 13589 2023 INIT, ST 14964 2018 ADD 1 REV 2, ST-13589-2023-REV-1, "
    "ST_15454_2016_INIT, consil:ST_15454_2016_INIT, 13589/23, 14860/1/18 REV 1, "
    "WK 9054/26; series ST, WK, CM, PE, SN; versions INIT, REV n, ADD n, COR n, EXT n"
)
# Two-digit years: 99 is 1999 (the register starts then), 00-98 are 2000-2098.
_CENTURY_PIVOT = 99

Version = tuple[tuple[str, int], ...]


class RefError(ValueError):
    """Text that is not a Council document reference."""

    def __init__(self, text: str, reason: str = ""):
        self.text = text
        self.reason = reason
        why = f" ({reason})" if reason else ""
        super().__init__(f"{text!r} is not a Council document reference{why}; accepted forms: {ACCEPTED_FORMS}")


_SEP = r"[ _\-]"
_VERSION = rf"(?:{_SEP}+(?:INIT|(?:REV|ADD|COR|EXT){_SEP}*\d{{1,3}}))*"
_LONG = re.compile(
    rf"(?<![A-Za-z0-9])(?P<series>ST|WK|CM|PE|SN){_SEP}+(?P<number>\d{{1,6}})"
    rf"{_SEP}+(?P<year>(?:19|20)\d\d)(?P<version>{_VERSION})(?![A-Za-z0-9])"
)
_SHORT_SUFFIX = r"(?:[ \t]+(?:INIT|(?:REV|ADD|COR|EXT)[ \t]*\d{1,3}))*"
_SHORT = re.compile(
    r"(?<![\w/.,\-])(?:(?P<series>ST|WK|CM|SN|PE-CONS|PE)[ \t]+)?"
    r"(?P<number>\d{1,6})(?:/(?P<middle>\d{1,2}))?/(?P<year>\d{2}|(?:19|20)\d\d)"
    rf"(?![\w/])(?P<version>{_SHORT_SUFFIX})(?![A-Za-z0-9])"
)
# In running text a short form needs a number of three or more digits and a
# two-digit year, so fractions, dates and act numbers ("No 1052/2013") stay out.
_SHORT_IN_TEXT = re.compile(
    r"(?<![\w/.,\-])(?:(?P<series>ST|WK|CM|SN|PE-CONS|PE)[ \t]+)?"
    r"(?P<number>\d{3,6})(?:/(?P<middle>\d{1,2}))?/(?P<year>\d{2})"
    rf"(?![\w/])(?P<version>{_SHORT_SUFFIX})(?![A-Za-z0-9])"
)
_COMPONENT = re.compile(rf"INIT|(?P<kind>REV|ADD|COR|EXT){_SEP}*(?P<n>\d{{1,3}})")
_PDF_URL = re.compile(r"/doc/document/(?P<id>[A-Za-z]{2}[-_][0-9A-Za-z\-_]+?)(?:/[a-z]{2,3}(?:/pdf)?)?/?$")
_NOT_IN_TEXT_BEFORE = re.compile(r"\b(?:No\.?|Nos\.?|n[°º]\.?)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class DocRef:
    """A canonical Council document reference.

    ``version`` is a tuple of ``(kind, n)`` pairs in printed order; ``()`` is INIT.
    """

    series: str
    number: int
    year: int
    version: Version = ()

    def __post_init__(self) -> None:
        if self.series not in SERIES:
            raise RefError(f"{self.series} {self.number} {self.year}", f"unknown series {self.series!r}")
        if not 0 < self.number < 1_000_000 or not 1900 <= self.year <= 2099:
            raise RefError(f"{self.series} {self.number} {self.year}", "number or year out of range")
        for kind, n in self.version:
            if kind not in VERSION_KINDS or n < 1:
                raise RefError(f"{kind} {n}", "bad version component")

    @property
    def version_str(self) -> str:
        """``INIT`` or the components in printed order, e.g. ``ADD 1 REV 2``."""
        return " ".join(f"{k} {n}" for k, n in self.version) or "INIT"

    @property
    def family(self) -> str:
        """The reference without its version: ``ST 13589 2023``."""
        return f"{self.series} {self.number} {self.year}"

    @property
    def canonical(self) -> str:
        """``ST 13589 2023 REV 1``: the id used for items."""
        return f"{self.family} {self.version_str}"

    @property
    def pdf_id(self) -> str:
        """``ST-13589-2023-REV-1``: the id used in PDF URLs."""
        return self.canonical.replace(" ", "-")

    def pdf_url(self, lang: str = "en") -> str:
        """The document server URL of the PDF in one language."""
        code = lang.strip().lower()
        if not re.fullmatch(r"[a-z]{2,3}", code):
            raise ValueError(f"{lang!r} is not a language code such as 'en' or 'fr'")
        return f"{PDF_BASE}/{self.pdf_id}/{code}/pdf"

    @property
    def short(self) -> str:
        """The header form: ``13589/23``, ``14860/1/18 REV 1``, ``WK 9054/26``."""
        prefix = {"ST": "", "PE": "PE-CONS "}.get(self.series, f"{self.series} ")
        yy = f"{self.year % 100:02d}" if _expand_year(self.year % 100) == self.year else str(self.year)
        middle = f"/{self.revision}" if self.revision else ""
        suffix = f" {self.version_str}" if self.version else ""
        return f"{prefix}{self.number}{middle}/{yy}{suffix}"

    @property
    def part(self) -> Version:
        """The version components that name the document within its family
        (everything before the trailing REV/EXT run): ``ADD 1`` for ``ADD 1 REV 2``."""
        cut = 0
        for i, (kind, _) in enumerate(self.version):
            if kind in ("ADD", "COR"):
                cut = i + 1
        return self.version[:cut]

    @property
    def revision(self) -> int:
        """The trailing REV number, 0 when the document is not revised."""
        return _tail_number(self, "REV")

    def __str__(self) -> str:
        return self.canonical


def _tail_number(ref: DocRef, kind: str) -> int:
    tail = ref.version[len(ref.part) :]
    return max((n for k, n in tail if k == kind), default=0)


def _expand_year(yy: int) -> int:
    return 1900 + yy if yy >= _CENTURY_PIVOT else 2000 + yy


def _parse_version(text: str) -> Version:
    parts = []
    for m in _COMPONENT.finditer(text.upper()):
        if m.group("kind"):
            parts.append((m.group("kind"), int(m.group("n"))))
    return tuple(parts)


def _from_long(m: re.Match[str]) -> DocRef:
    return DocRef(
        m.group("series").upper(), int(m.group("number")), int(m.group("year")), _parse_version(m.group("version"))
    )


def _from_short(m: re.Match[str], text: str) -> DocRef:
    series = (m.group("series") or "ST").upper()
    series = "PE" if series == "PE-CONS" else series
    year_text = m.group("year")
    year = int(year_text) if len(year_text) == 4 else _expand_year(int(year_text))
    version = _parse_version(m.group("version"))
    middle = m.group("middle")
    if middle is not None:
        revs = [n for k, n in version if k == "REV"]
        if not revs:
            version = version + (("REV", int(middle)),)
        elif revs[-1] != int(middle):
            raise RefError(text, f"the middle number {middle} does not repeat REV {revs[-1]}")
    return DocRef(series, int(m.group("number")), year, version)


def parse_ref(text: str) -> DocRef:
    """Parse one reference in any accepted form; raise RefError otherwise.

    A register or PDF form without a version (``ST 13589 2023``) means INIT.
    A PDF URL on the document server is accepted too.
    """
    if not isinstance(text, str):
        raise RefError(repr(text), "not a string")
    cleaned = " ".join(text.replace("\u00a0", " ").split())
    candidate = cleaned
    url = _PDF_URL.search(cleaned)
    if url and "://" in cleaned:
        candidate = url.group("id")
    if candidate[:7].lower() == "consil:":
        candidate = candidate[7:]
    candidate = candidate.upper()
    try:
        m = _LONG.fullmatch(candidate)
        if m:
            return _from_long(m)
        m = _SHORT.fullmatch(candidate)
        if m:
            return _from_short(m, text)
    except RefError as exc:
        raise RefError(text, exc.reason) from exc
    raise RefError(text)


def _is_year_span(m: re.Match[str]) -> bool:
    """``2023/24`` in running text is a span of years, not document 2023 of 2024."""
    number, year = int(m.group("number")), int(m.group("year"))
    return 1990 <= number <= 2099 and (number + 1) % 100 == year and m.group("middle") is None


def leading_ref(text: str) -> tuple[DocRef, str] | None:
    """The reference that opens ``text`` (register, PDF or short form) and the rest of
    the text after it, or None when the text does not start with one."""
    stripped = text.replace("\u00a0", " ").lstrip()
    m = _LONG.match(stripped)
    if m:
        return _from_long(m), stripped[m.end() :]
    m = _SHORT_IN_TEXT.match(stripped)
    if m:
        try:
            return _from_short(m, m.group(0)), stripped[m.end() :]
        except RefError as exc:
            log.debug("no leading reference in %r: %s", stripped[:40], exc)
    return None


def find_refs(text: str) -> list[DocRef]:
    """All references in running text, in order of first appearance, without repeats.

    Series and version words must be upper case here; short forms need a
    number of three or more digits and a two-digit year.
    """
    found: list[tuple[int, DocRef]] = []
    plain = text.replace("\u00a0", " ")
    for m in _LONG.finditer(plain):
        found.append((m.start(), _from_long(m)))
    for m in _SHORT_IN_TEXT.finditer(plain):
        if _NOT_IN_TEXT_BEFORE.search(plain[max(0, m.start() - 6) : m.start()]) or _is_year_span(m):
            continue
        try:
            found.append((m.start(), _from_short(m, m.group(0))))
        except RefError as exc:
            log.debug("skipping %r in text: %s", m.group(0), exc)
            continue
    seen: set[DocRef] = set()
    result = []
    for _, ref in sorted(found, key=lambda pair: pair[0]):
        if ref not in seen:
            seen.add(ref)
            result.append(ref)
    return result


RefSpan = tuple[int, int, DocRef]
# A version printed alone on the next line, as two-column headers print it ("15830/23" / "ADD 1").
_NEXT_LINE_VERSION = re.compile(r"[ \t]*\n[ \t]*((?:(?:REV|ADD|COR|EXT)[ \t]*\d{1,3}[ \t]*)+)(?=\n|$)")
# "+ ADD 1", "+ COR 1": another part of the reference printed before it, in a list of documents.
_PLUS_PART = re.compile(r"\+[ \t]*(?P<kind>ADD|COR|REV|EXT)[ \t]*(?P<n>\d{1,3})(?![\w/])")
_PLUS_REACH = 120


def ref_spans(text: str) -> list[RefSpan]:
    """Every reference in running text with where it is printed (start, end), in printed order, repeats kept.

    Like ``find_refs``, and also: a version alone on the next line belongs to the reference above it, and
    ``+ ADD 1`` after a reference (its codes may come between) names that reference's addendum."""
    plain = text.replace("\u00a0", " ")
    found: list[RefSpan] = [(m.start(), m.end(), _from_long(m)) for m in _LONG.finditer(plain)]
    for m in _SHORT_IN_TEXT.finditer(plain):
        if _NOT_IN_TEXT_BEFORE.search(plain[max(0, m.start() - 6) : m.start()]) or _is_year_span(m):
            continue
        span = _short_span(plain, m)
        if span is not None:
            found.append(span)
    found.sort(key=lambda span: span[0])
    return _with_plus_parts(plain, found)


def _short_span(text: str, m: re.Match[str]) -> RefSpan | None:
    printed, end = m.group(0), m.end()
    follow = _NEXT_LINE_VERSION.match(text, end)
    if follow and not m.group("version"):
        printed, end = f"{printed} {follow.group(1).strip()}", follow.end(1)
    try:
        return m.start(), end, parse_ref(" ".join(printed.split()))
    except RefError as exc:
        log.debug("skipping %r in text: %s", printed, exc)
        try:
            return m.start(), m.end(), _from_short(m, m.group(0))
        except RefError:
            return None


def _with_plus_parts(text: str, spans: list[RefSpan]) -> list[RefSpan]:
    result = list(spans)
    ends = [end for _, end, _ in spans]
    for m in _PLUS_PART.finditer(text):
        i = bisect.bisect_right(ends, m.start()) - 1  # spans do not overlap, so their ends are in order too
        if i < 0 or m.start() - ends[i] > _PLUS_REACH:
            continue
        base = spans[i][2]
        part = DocRef(base.series, base.number, base.year, base.part + ((m.group("kind"), int(m.group("n"))),))
        result.append((m.start(), m.end(), part))
    return sorted(result, key=lambda span: span[0])
