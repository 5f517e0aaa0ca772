"""HTML helpers for register pages: anchors, row containers, labelled fields, PDF links."""

from __future__ import annotations

import logging
import re
from urllib.parse import urljoin

from bs4 import Comment, NavigableString, PageElement, Tag

from watcher.sources.council.refs import DocRef, RefError, leading_ref, parse_ref

log = logging.getLogger(__name__)

LANG_FIRST = ("en",)
# A row container never grows past these: they hold many rows.
_STOP = frozenset({"[document]", "html", "body", "main", "form", "ul", "ol", "table", "tbody", "thead", "tfoot", "dl"})
_SKIP_TEXT_IN = frozenset({"script", "style", "title", "head", "noscript", "option", "button"})
_PDF = re.compile(r"/doc/document/(?P<id>[A-Za-z]{2}-[0-9A-Za-z-]+?)/(?P<lang>[a-z]{2,3})/pdf\b")
_LABELS = {
    "subject": "subject",
    "title": "title",
    "subject matters": "subject matters",
    "subject matter": "subject matters",
    "document date": "document date",
    "date of document": "document date",
    "date": "date",
    "meeting date": "meeting date",
    "date of meeting": "meeting date",
    "originator": "originator",
    "author": "originator",
    "addressee": "addressee",
    "addressees": "addressee",
    "recipient": "addressee",
    "document type": "document type",
    "type": "document type",
}
_INLINE = re.compile(r"^(?P<label>[A-Za-z ]{2,20}?)\s*:\s*(?P<value>.+)$")
_CODE = re.compile(r"^([A-Z]{2,}(?: [A-Z]{2,})*)(?:\s+\d+)?$")
_LANG_CODE = re.compile(r"^[A-Za-z]{2}$")


def href_of(a: Tag) -> str:
    """A link's href as one string ("" when it has none)."""
    value = a.get("href")
    return value if isinstance(value, str) else ""


def _skipped(node: PageElement) -> bool:
    """Comments and the text of scripts, styles and the like are not visible text."""
    return isinstance(node, Comment) or (node.parent is not None and node.parent.name in _SKIP_TEXT_IN)


def text_lines(box: Tag) -> list[str]:
    """Visible text of an element, one stripped line per text node."""
    lines = []
    for node in box.find_all(string=True):
        if _skipped(node):
            continue
        line = " ".join(str(node).split())
        if line:
            lines.append(line)
    return lines


def title_anchors(root: Tag) -> list[NavigableString]:
    """Text nodes that open with a document reference."""
    anchors = []
    for node in root.find_all(string=True):
        if _skipped(node):
            continue
        if leading_ref(str(node)) is not None:
            anchors.append(node)
    return anchors


def generic_containers(root: Tag, base_url: str = "") -> list[Tag]:
    """For each anchor, the largest element around it holding no other anchor
    (never a list, table or the page itself).

    Anchors are text nodes opening with a reference; on a page without any,
    PDF links, where links to the same document count as one anchor.
    """
    keyed: list[tuple[PageElement, object]] = [(node, id(node)) for node in title_anchors(root)]
    if not keyed:
        for a in root.find_all("a", href=True):
            parsed = pdf_link(urljoin(base_url, href_of(a)))
            if parsed:
                keyed.append((a, parsed[0]))
    keys: dict[int, set] = {}
    for node, key in keyed:
        for parent in node.parents:
            keys.setdefault(id(parent), set()).add(key)
    containers: list[Tag] = []
    for node, _ in keyed:
        box = node if isinstance(node, Tag) else node.parent
        if box is None:
            continue
        while (up := box.parent) is not None and up.name not in _STOP and len(keys[id(up)]) == 1:
            box = up
        if box.name not in _STOP and all(box is not c for c in containers):
            containers.append(box)
    return containers


def pdf_link(href: str) -> tuple[DocRef, str] | None:
    """The reference and language of a document-server PDF link, else None."""
    m = _PDF.search(href)
    if not m:
        return None
    try:
        return parse_ref(m.group("id")), m.group("lang")
    except RefError as exc:
        log.debug("PDF link with an unreadable id %r: %s", href, exc)
        return None


def pdf_links_of(box: Tag, base_url: str) -> list[tuple[DocRef, str, str]]:
    """Every PDF link in an element as (reference, language, absolute URL)."""
    found = []
    for a in box.find_all("a", href=True):
        url = urljoin(base_url, href_of(a))
        parsed = pdf_link(url)
        if parsed:
            found.append((parsed[0], parsed[1], url))
    return found


def option_languages(box: Tag) -> list[str]:
    """Language codes offered by language-option links that are not PDF links."""
    codes = []
    for a in box.select("a.option-language-item"):
        text = a.get_text(strip=True)
        if pdf_link(href_of(a)) is None and _LANG_CODE.match(text):
            codes.append(text.lower())
    return codes


def fields_of(box: Tag) -> dict[str, str]:
    """Labelled values of a row: table columns, two-cell table rows, dl lists,
    or ``Label: value`` lines. Keys are normalised (see ``_LABELS``)."""
    fields: dict[str, str] = {}
    if box.name == "tr":
        _add(fields, _column_fields(box))
    for tr in box.find_all("tr"):
        cells = tr.find_all(["th", "td"], recursive=False)
        if len(cells) >= 2:
            _add(fields, [(cells[0].get_text(" "), _cell_value(cells[1]))])
    for dt in box.find_all("dt"):
        dd = dt.find_next_sibling("dd")
        if dd is not None:
            _add(fields, [(dt.get_text(" "), _cell_value(dd))])
    for line in text_lines(box):
        m = _INLINE.match(line)
        if m:
            _add(fields, [(m.group("label"), m.group("value"))])
    return fields


def _column_fields(tr: Tag) -> list[tuple[str, str]]:
    table = tr.find_parent("table")
    head = table.find("thead") if table else None
    header_row = head.find("tr") if head else None
    if header_row is None or header_row is tr:
        return []
    labels = [th.get_text(" ") for th in header_row.find_all(["th", "td"], recursive=False)]
    cells = tr.find_all(["td", "th"], recursive=False)
    return [(label, _cell_value(cell)) for label, cell in zip(labels, cells)]


def _cell_value(cell: Tag) -> str:
    items = cell.find_all("li")
    if items:
        return "\n".join(" ".join(li.get_text(" ").split()) for li in items)
    return " ".join(cell.get_text(" ").split())


def _add(fields: dict[str, str], pairs: list[tuple[str, str]]) -> None:
    for label, value in pairs:
        key = _LABELS.get(" ".join(label.replace(":", " ").split()).lower())
        if key and value and key not in fields:
            fields[key] = value


def split_subjects(text: str) -> tuple[str, ...]:
    """Subject matter entries as codes: ``FRONT 416`` gives ``FRONT``; other text stays."""
    result: list[str] = []
    for part in re.split(r"[\n;,]", text):
        part = " ".join(part.split())
        if not part:
            continue
        m = _CODE.match(part)
        value = m.group(1) if m else part
        if value not in result:
            result.append(value)
    return tuple(result)
