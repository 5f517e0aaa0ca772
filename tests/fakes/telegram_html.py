"""Telegram's HTML parse mode as the fake Bot API checks it: allowed tags, entities, and length in UTF-16
units. A bare ``&`` is refused (Telegram keeps it), which makes missing escaping visible."""

from __future__ import annotations

import re


class HtmlError(ValueError):
    """Text that Telegram's HTML parse mode would refuse."""


_ALLOWED_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "span", "tg-spoiler", "blockquote"}
)
_TAG_RE = re.compile(
    r"<(/?)([a-zA-Z][\w-]*)((?:\s+[\w-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'"
    r"|[^\s\"'>]+))?)*)\s*>"
)
_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def html_to_text(source: str) -> str:
    """Return the visible text of Telegram HTML, or raise HtmlError like Telegram."""
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    while (nxt := _next_special(source, pos)) >= 0:
        out.append(source[pos:nxt])
        offset = len(source[:nxt].encode("utf-8"))
        if source[nxt] == "&":
            match = _ENTITY_RE.match(source, nxt)
            if not match:
                raise HtmlError(f"Can't find end of the entity starting at byte offset {offset}")
            out.append(_decode_entity(match))
        else:
            match = _TAG_RE.match(source, nxt)
            if not match:
                raise HtmlError(f"Unclosed start tag at byte offset {offset}")
            _apply_tag(match, stack, offset)
        pos = match.end()
    if stack:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    out.append(source[pos:])
    return "".join(out)


def _next_special(source: str, pos: int) -> int:
    found = [i for i in (source.find("<", pos), source.find("&", pos)) if i >= 0]
    return min(found) if found else -1


def _decode_entity(match: re.Match[str]) -> str:
    name, dec, hexa = match.groups()
    if name:
        return _NAMED[name]
    return chr(int(dec) if dec else int(hexa, 16))


def _apply_tag(match: re.Match[str], stack: list[str], offset: int) -> None:
    closing, name, attrs = match.group(1), match.group(2).lower(), match.group(3)
    kind = "end" if closing else "start"
    if name not in _ALLOWED_TAGS:
        raise HtmlError(f'Unsupported {kind} tag "{name}" at byte offset {offset}')
    if closing:
        if not stack or stack[-1] != name:
            expected = f'"</{stack[-1]}>"' if stack else "no end tag"
            raise HtmlError(f'Unmatched end tag at byte offset {offset}, expected {expected}, found "</{name}>"')
        stack.pop()
        return
    if name == "span" and "tg-spoiler" not in attrs:
        raise HtmlError('Tag "span" must have class "tg-spoiler"')
    stack.append(name)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2
