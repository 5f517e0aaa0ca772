"""Logging set-up: plain lines by default, JSON lines on request, and the bot token never printed.

The token is known in one place: ``set_secret(token)``, called once at start-up (the command line does it with
WATCHER_TELEGRAM_TOKEN). ``redact(text)`` then hides it wherever text leaves the process or reaches the database:
log lines, error texts stored in the outbox and the health tables, ``/stats`` and ``watcher status``. It finds the
token in any case (the Telegram library lower-cases error descriptions), URL-encoded (``%3A`` for the colon), and
the secret part after the colon on its own. ``set_secret(None)`` forgets it; tests that set one call that after.
"""

from __future__ import annotations

import json
import logging
import re
import sys

PLACEHOLDER = "<redacted>"
MIN_SECRET_PART = 8  # a shorter part after the colon would hide ordinary words; the whole token is still hidden


class _Secret:
    """The one secret to hide, as a case-insensitive pattern (None until ``set_secret``)."""

    pattern: re.Pattern[str] | None = None


def set_secret(token: str | None) -> None:
    """Hide ``token`` from now on in every text passed through ``redact``; None or empty forgets it."""
    _Secret.pattern = _pattern(token.strip()) if token and token.strip() else None


def _pattern(token: str) -> re.Pattern[str]:
    bot_id, colon, part = token.partition(":")
    forms = [re.escape(token)]
    if colon:
        forms.append(re.escape(bot_id) + "%3a" + re.escape(part))
        if len(part) >= MIN_SECRET_PART:
            forms.append(re.escape(part))
    return re.compile("|".join(forms), re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with the secret, in any of its forms and any case, replaced by ``<redacted>``."""
    pattern = _Secret.pattern
    return pattern.sub(PLACEHOLDER, text) if pattern is not None and text else text


class RedactFilter(logging.Filter):
    """Pass a record's final message and traceback through ``redact`` before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _Secret.pattern is None:
            return True
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message or record.exc_info:
            record.msg, record.args = redacted, None
        if record.exc_info:
            record.exc_text, record.exc_info = redact(logging.Formatter().formatException(record.exc_info)), None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname,
               "logger": record.name, "message": record.getMessage()}
        if record.exc_text or record.exc_info:
            out["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def setup_logging(level: int = logging.INFO, *, fmt: str = "plain") -> None:
    """One handler on standard error, redacting through ``redact`` (set the token with ``set_secret``)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL at INFO, and Bot API URLs contain the token.
    for noisy in ("httpx", "httpcore", "telegram", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
