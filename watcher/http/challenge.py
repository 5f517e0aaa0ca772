"""Recognise bot-protection answers, so a challenge counts as a failed fetch."""

from __future__ import annotations

import re
from collections.abc import Mapping

# Technical traces of a challenge: safe to look for anywhere in the body.
_STRONG_MARKERS = (
    "cf-browser-verification",
    "/cdn-cgi/challenge-platform/",
    "window._cf_chl_opt",
    "cf-challenge",
)
# Visible wording: looked for in the <title>, or anywhere in a small body.
_TEXT_MARKERS = (
    "Just a moment...",
    "Checking your browser",
    "Enable JavaScript and cookies to continue",
    "Attention Required! | Cloudflare",
)
_SMALL_BODY = 64 * 1024
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def detect_challenge(status: int, headers: Mapping[str, str], body: bytes) -> str | None:
    """Why this answer is a bot challenge rather than content, or None.

    Meant for answers from the Council site, where a 403 means bot protection.
    """
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    if lowered.get("cf-mitigated", "").strip().lower() == "challenge":
        return "bot challenge: header cf-mitigated: challenge"
    marker = _body_marker(body)
    if marker:
        return f"bot challenge page (HTTP {status}): contains {marker!r}"
    if status == 403:
        return "HTTP 403: access refused, likely bot protection"
    return None


def _body_marker(body: bytes) -> str | None:
    text = body.decode("utf-8", errors="replace")
    for marker in _STRONG_MARKERS:
        if marker in text:
            return marker
    title = _TITLE.search(body[:_SMALL_BODY])
    where = text if len(body) <= _SMALL_BODY else (
        title.group(1).decode("utf-8", errors="replace") if title else ""
    )
    for marker in _TEXT_MARKERS:
        if marker.lower() in where.lower():
            return marker
    return None
