"""Logging set-up: plain lines by default, JSON lines on request, and the bot token never printed.

Every line has the time in UTC (ISO 8601, ``2026-11-02T09:00:00.123Z``), the level, the logger and the message,
and the fields ``source``, ``chat`` and ``event`` when the call gives them:
``log.info("...", extra={"source": name, "event": "poll"})``. Plain lines append them as ``key=value`` for people;
``WATCHER_LOG_FORMAT=json`` writes one JSON object per line with them as keys, for log collectors.

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
from datetime import UTC, datetime

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


FIELDS = ("source", "chat", "event")  # the structured fields a call may give with extra={...}


def utc_time(record: logging.LogRecord) -> str:
    """The record's time in UTC, ISO 8601 with milliseconds and a Z."""
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def fields_of(record: logging.LogRecord) -> dict[str, str]:
    """The structured fields the call gave, redacted like the message."""
    return {key: redact(str(getattr(record, key))) for key in FIELDS if getattr(record, key, None) is not None}


def _exception(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    if record.exc_text:
        return record.exc_text
    return formatter.formatException(record.exc_info) if record.exc_info else ""


class PlainFormatter(logging.Formatter):
    """``TIME LEVEL LOGGER: message key=value ...``, and the traceback below it."""

    def format(self, record: logging.LogRecord) -> str:
        tail = "".join(f" {key}={value}" for key, value in fields_of(record).items())
        line = f"{utc_time(record)} {record.levelname} {record.name}: {record.getMessage()}{tail}"
        exception = _exception(self, record)
        return f"{line}\n{exception}" if exception else line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the fields given, and the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": utc_time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **fields_of(record),
        }
        exception = _exception(self, record)
        if exception:
            out["exception"] = exception
        return json.dumps(out, ensure_ascii=False)


def setup_logging(level: int = logging.INFO, *, fmt: str = "plain") -> None:
    """One handler on standard error, redacting through ``redact`` (set the token with ``set_secret``)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else PlainFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL at INFO, and Bot API URLs contain the token.
    for noisy in ("httpx", "httpcore", "telegram", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
