"""Logging: the token never appears, JSON lines on request, plain lines by default."""

from __future__ import annotations

import json
import logging

import pytest

from watcher.logs import redact, set_secret, setup_logging

TOKEN = "987654:SECRET-token_value"


pytestmark = pytest.mark.usefixtures("restore_logging")  # tests/conftest.py


def test_token_is_redacted_in_messages_args_and_tracebacks(capsys):
    """A token in a message, in its arguments or in an exception's text is replaced before it is written."""
    set_secret(TOKEN)
    setup_logging()
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
    set_secret(TOKEN)
    setup_logging(fmt="json")
    logging.getLogger("watcher.pipeline").info("source %s: poll failed: %s", "statewatch", "timeout")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["level"] == "INFO" and record["logger"] == "watcher.pipeline"
    assert record["message"] == "source statewatch: poll failed: timeout"


def test_http_client_request_lines_are_silenced(capsys):
    """httpx's per-request INFO lines, which carry Bot API URLs, are not written at the default level."""
    setup_logging()
    logging.getLogger("httpx").info("HTTP Request: POST https://api.telegram.org/bot1:x/getUpdates")
    assert "HTTP Request" not in capsys.readouterr().err


def test_token_is_redacted_whatever_its_case(capsys):
    """A token lower-cased (as the Telegram library does to error descriptions) or upper-cased in a log record is
    replaced all the same."""
    set_secret(TOKEN)
    setup_logging()
    log = logging.getLogger("watcher.test")
    log.warning("delivery: network: %s", f"Bad gateway at /bot{TOKEN.lower()}/sendmessage")
    log.warning("delivery: %s", f"TOKEN {TOKEN.upper()} REFUSED")
    err = capsys.readouterr().err
    assert "secret-token_value" not in err.lower()
    assert err.count("<redacted>") == 2 and "/bot<redacted>/sendmessage" in err


def test_url_encoded_token_and_its_secret_part_alone_are_redacted():
    """The token with its colon URL-encoded (either case), and the part after the colon on its own, are hidden;
    the bot's numeric id alone is not a secret and stays."""
    set_secret(TOKEN)
    assert redact("GET /x?token=987654%3ASECRET-token_value&a=1") == "GET /x?token=<redacted>&a=1"
    assert redact("t=987654%3asecret-TOKEN_VALUE") == "t=<redacted>"
    assert redact("key secret-token_value leaked") == "key <redacted> leaked"
    assert redact("bot 987654 is fine") == "bot 987654 is fine"


def test_forgetting_the_secret_stops_redaction():
    """set_secret(None) forgets the token, so nothing is replaced any more (how tests reset it)."""
    set_secret(TOKEN)
    assert redact(TOKEN) == "<redacted>"
    set_secret(None)
    assert redact(TOKEN) == TOKEN
