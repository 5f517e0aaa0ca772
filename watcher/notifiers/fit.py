"""Keeping Telegram messages under the 4096-character limit: shorten one HTML text without cutting inside a tag or
an entity, and pack several blocks (a digest's alerts) into as few messages as fit, splitting only between blocks.

Telegram counts the text that remains after the HTML is parsed, in UTF-16 code units.
"""

from __future__ import annotations

import html
import re

TELEGRAM_LIMIT = 4096
ELLIPSIS = "…"
_TOKEN = re.compile(r"<[^<>]*>|&#?[0-9A-Za-z]+;|[^<&]+|[<&]")
_TAG_NAME = re.compile(r"</?\s*([A-Za-z][\w-]*)")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def visible_len(markup: str) -> int:
    """Length of what Telegram shows for this HTML (tags dropped, entities decoded)."""
    total = 0
    for token in _TOKEN.findall(markup):
        if token.startswith("<") and len(token) > 1:
            continue
        total += utf16_len(html.unescape(token) if token.startswith("&") else token)
    return total


def cut_plain(text: str, limit: int = TELEGRAM_LIMIT) -> str:
    """Plain text of at most ``limit`` UTF-16 units, ending in an ellipsis when cut."""
    if utf16_len(text) <= limit:
        return text
    return _take(text, limit - 1) + ELLIPSIS


def _take(text: str, units: int) -> str:
    """The longest prefix of ``text`` within ``units`` UTF-16 units (never half a surrogate pair)."""
    out, used = [], 0
    for ch in text:
        size = 2 if ord(ch) > 0xFFFF else 1
        if used + size > units:
            break
        out.append(ch)
        used += size
    return "".join(out)


def shorten_html(markup: str, limit: int = TELEGRAM_LIMIT) -> str:
    """Return ``markup`` unchanged if it fits, else its longest prefix that fits with an ellipsis, cut only between
    characters of text, never inside a tag or an entity, with every open tag closed again."""
    if visible_len(markup) <= limit:
        return markup
    budget = limit - 1
    out: list[str] = []
    stack: list[str] = []
    for token in _TOKEN.findall(markup):
        if token.startswith("<") and len(token) > 1:
            name = _TAG_NAME.match(token)
            tag = name.group(1).lower() if name else ""
            if token.startswith("</"):
                if stack and stack[-1] == tag:
                    stack.pop()
            else:
                stack.append(tag)
            out.append(token)
            continue
        text = html.unescape(token) if token.startswith("&") else token
        size = utf16_len(text)
        if size <= budget:
            out.append(token)
            budget -= size
            continue
        if not token.startswith("&"):
            out.append(_take(token, budget))
        break
    out.append(ELLIPSIS)
    out.extend(f"</{tag}>" for tag in reversed(stack))
    return "".join(out)


def pack(sizes: list[int], limit: int = TELEGRAM_LIMIT, sep: int = 2, head: int = 0) -> list[list[int]]:
    """Group consecutive blocks (given by their sizes) into messages of at most ``limit``: each message carries a
    header of ``head`` units and ``sep`` units between blocks. A block too big to share a message goes alone."""
    groups: list[list[int]] = []
    current: list[int] = []
    used = head
    for index, size in enumerate(sizes):
        extra = size + (sep if current else 0)
        if current and used + extra > limit:
            groups.append(current)
            current, used, extra = [], head, size
        current.append(index)
        used += extra
    if current:
        groups.append(current)
    return groups
