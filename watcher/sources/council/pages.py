"""Which page of a document a match was found on.

A source that reads a paged document (a PDF) joins the pages' text with form feeds into ``item.body`` and keeps
where each page starts in ``item.extra["page_starts"]``. The matcher's snippet of a body hit is the hit in square
brackets with some context, whitespace collapsed, cut with ellipses. To find the page, the snippet is searched for
in the body with any whitespace between its words, and the offset of the marked hit is looked up among the page
starts. Body matches then read ``p. 3: …the [migrant smuggling] routes…``.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
import unicodedata

from watcher.models import Item, Match

PAGE_STARTS = "page_starts"
PAGE_SEPARATOR = "\f"
ELLIPSIS = "…"
_MAX_TRIES = 6
_SPACE = re.compile(r"(\s+)")


def join_pages(pages: list[str]) -> tuple[str, list[int]]:
    """The body text of the pages (NFC, separated by form feeds) and the offset where each page starts."""
    starts: list[int] = []
    parts: list[str] = []
    offset = 0
    for page in pages:
        text = unicodedata.normalize("NFC", page).replace(PAGE_SEPARATOR, " ")
        starts.append(offset)
        parts.append(text)
        offset += len(text) + len(PAGE_SEPARATOR)
    return PAGE_SEPARATOR.join(parts), starts


def page_at(starts: list[int], offset: int) -> int:
    """The 1-based page holding the character at ``offset``."""
    return max(1, bisect.bisect_right(starts, offset))


def locate(body: str, snippet: str) -> int | None:
    """Where the snippet's marked hit starts in ``body``, or None when the snippet is not found there."""
    core = snippet.removeprefix(ELLIPSIS).removesuffix(ELLIPSIS)
    opens = [i for i, ch in enumerate(core) if ch == "["][:_MAX_TRIES]
    for i in opens:
        for j in [k for k in range(i + 1, len(core)) if core[k] == "]"][:_MAX_TRIES]:
            pattern = f"{_flexible(core[:i])}({_flexible(core[i + 1 : j])}){_flexible(core[j + 1 :])}"
            m = re.search(pattern, body)
            if m:
                return m.start(1)
    return None


def _flexible(text: str) -> str:
    """A pattern for ``text`` where each run of spaces stands for any run of whitespace (line or page breaks)."""
    return "".join(r"\s+" if piece.isspace() else re.escape(piece) for piece in _SPACE.split(text) if piece)


def with_pages(item: Item, matches: list[Match]) -> list[Match]:
    """Body matches of a paged item, with ``p. N:`` in front of their snippet."""
    starts = item.extra.get(PAGE_STARTS) if item.extra else None
    if not starts or not item.body:
        return matches
    out = []
    for m in matches:
        offset = locate(item.body, m.snippet) if m.field == "body" and m.snippet else None
        out.append(
            dataclasses.replace(m, snippet=f"p. {page_at(starts, offset)}: {m.snippet}") if offset is not None else m
        )
    return out
