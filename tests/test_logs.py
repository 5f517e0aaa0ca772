"""Logging: the token never appears, JSON lines on request, plain lines by default."""

from __future__ import annotations

import json
import logging

import pytest

from watcher.logs import setup_logging

TOKEN = "987654:SECRET-token_value"


@pytest.fixture(autouse=True)
def restore_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


def test_token_is_redacted_in_messages_args_and_tracebacks(capsys):
    """A token in a message, in its arguments or in an exception's text is replaced before it is written."""
    setup_logging(secrets=[TOKEN])
    log = logging.getLogger("watcher.test")
    log.warning("POST https://api.telegram.org/bot%s/sendMessage", TOKEN)
    try:
        raise RuntimeError(f"failed at https://api.telegram.org/bot{TOKEN}/getMe")
    except RuntimeError:
        log.exception("chat 5: send failed")
    err = capsys.readouterr().err
    assert TOKEN not in err and "SECRET" not in err
    assert err.count("<redacted>") >= 2 and "chat 5: send failed" in err


def test_json_lines(capsys):
    """With the json format every line is one JSON object with level, logger and message."""
    setup_logging(fmt="json", secrets=[TOKEN])
    logging.getLogger("watcher.pipeline").info("source %s: poll failed: %s", "statewatch", "timeout")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["level"] == "INFO" and record["logger"] == "watcher.pipeline"
    assert record["message"] == "source statewatch: poll failed: timeout"


def test_http_client_request_lines_are_silenced(capsys):
    """httpx's per-request INFO lines, which carry Bot API URLs, are not written at the default level."""
    setup_logging(secrets=[])
    logging.getLogger("httpx").info("HTTP Request: POST https://api.telegram.org/bot1:x/getUpdates")
    assert "HTTP Request" not in capsys.readouterr().err
