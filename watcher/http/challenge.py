"""Recognise bot-protection answers, so a challenge counts as a ``blocked`` failure instead of content.

The one rule, for every fetch and for ``watcher parse``:

- only answers of status 200, 403, 429 or 503 are examined (the statuses bot protection answers with); any other
  error page is what its status says, even on a site behind bot protection;
- a ``cf-mitigated`` header (Cloudflare sends it only when it challenged or blocked the request) is a challenge;
- a technical trace of a challenge page (``window._cf_chl_opt``, ``cf-browser-verification``, ...) in the first
  64 KiB of the body is a challenge; ``challenge-platform`` and Akamai's ``errors.edgesuite.net`` count only on an
  error answer, because protected sites inject them into ordinary pages too;
- the visible wording of a challenge ("Just a moment...", ...) counts only in an HTML body: in its ``<title>``, or
  anywhere when the body is small (a feed item quoting those words is not a challenge);
- a 403 without any of these is an ordinary refusal ("forbidden"), not bot protection.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_HEAD = 64 * 1024
_STATUSES = frozenset({200, 403, 429, 503})
# Technical traces of a challenge page: looked for in the first 64 KiB of any examined answer.
_TECHNICAL_MARKERS = (
    "cf-browser-verification",
    "window._cf_chl_opt",
    "cf-challenge",
)
# Also injected into ordinary pages of protected sites, so they mark a challenge only on an error answer.
_ERROR_ONLY_MARKERS = (
    "challenge-platform",
    "errors.edgesuite.net",
)
# Visible wording: looked for in the <title> of an HTML body, or anywhere in a small HTML body.
_TEXT_MARKERS = (
    "Just a moment...",
    "Checking your browser",
    "Enable JavaScript and cookies to continue",
    "Attention Required! | Cloudflare",
)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_HTML = re.compile(r"<(?:!doctype\s+html|html[\s>])", re.IGNORECASE)
_SNIFF = 2048


def detect_challenge(status: int, headers: Mapping[str, str], body: bytes) -> str | None:
    """Why this answer is a bot challenge rather than content, or None (see the module docstring for the rule)."""
    if status not in _STATUSES:
        return None
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    mitigated = lowered.get("cf-mitigated", "").strip().lower()
    if mitigated:
        return f"HTTP {status} with header cf-mitigated: {mitigated}"
    marker = body_marker(status, body)
    if marker:
        return f"HTTP {status} challenge page: contains {marker!r}"
    return None


def body_marker(status: int, body: bytes) -> str | None:
    """The first challenge marker found in the body of an answer of this status, or None."""
    head = body[:_HEAD].decode("utf-8", errors="replace")
    markers = _TECHNICAL_MARKERS + (_ERROR_ONLY_MARKERS if status >= 400 else ())
    for marker in markers:
        if marker in head:
            return marker
    if not _HTML.search(head[:_SNIFF]):
        return None
    if len(body) <= _HEAD:
        where = head
    else:
        title = _TITLE.search(head)
        where = title.group(1) if title else ""
    for marker in _TEXT_MARKERS:
        if marker.lower() in where.lower():
            return marker
    return None
