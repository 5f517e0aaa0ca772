"""Short plain-text context around a hit, with the hit marked by square brackets."""

from __future__ import annotations

import re

WIDTH = 160
OPEN, CLOSE, ELLIPSIS = "[", "]", "…"
_SPACE_RE = re.compile(r"\s+")


def make_snippet(text: str, start: int, end: int, width: int = WIDTH) -> str:
    """Return about ``width`` characters of ``text`` around ``text[start:end]``, marked.

    Example: ``…the [migrant smuggling] networks…``. Whitespace is collapsed,
    cuts fall between words, and an ellipsis shows where text was cut off.
    """
    hit = _squash(text[start:end])
    room = max(width - len(hit) - 2, 0)
    # Only a window around the hit is looked at, so long bodies cost nothing.
    before = _squash(text[max(0, start - 2 * width) : start])
    after = _squash(text[end : end + 2 * width])
    # Give unused room on one side to the other.
    left = min(len(before), max(room // 2, room - len(after)))
    right = min(len(after), room - left)
    head = _cut_left(before, left)
    tail = _cut_right(after, right)
    return f"{head}{OPEN}{hit}{CLOSE}{tail}"


def _squash(text: str) -> str:
    return _SPACE_RE.sub(" ", text)


def _cut_left(text: str, size: int) -> str:
    if size >= len(text):
        return text.lstrip()
    piece = text[len(text) - size :]
    space = piece.find(" ")
    if 0 <= space < len(piece) - 1 and not text[len(text) - size - 1].isspace():
        piece = piece[space + 1 :]
    return ELLIPSIS + piece if piece else ELLIPSIS


def _cut_right(text: str, size: int) -> str:
    if size >= len(text):
        return text.rstrip()
    piece = text[:size]
    space = piece.rfind(" ")
    if space > 0 and not text[size].isspace():
        piece = piece[:space]
    return piece.rstrip() + ELLIPSIS
