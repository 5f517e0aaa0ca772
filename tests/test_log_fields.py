"""Structured log lines: UTC ISO time, level, logger, message and the source/chat/event fields a call gives, as
key=value for people and as JSON keys with WATCHER_LOG_FORMAT=json; the token stays hidden in fields too."""

from __future__ import annotations

import json
import logging
import re
import time
from datetime import UTC, datetime

import pytest

from tests.conftest import run_cli
from watcher.logs import set_secret, setup_logging

TOKEN = "987654:SECRET-token_value"
UTC_ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


pytestmark = pytest.mark.usefixtures("restore_logging")  # tests/conftest.py


def test_json_line_has_utc_time_and_the_given_fields(capsys):
    """A JSON line carries time (UTC, ISO, Z), level, logger, message and source/chat/event when given."""
    set_secret(TOKEN)
    setup_logging(fmt="json")
    before = datetime.now(UTC).replace(microsecond=0)
    logging.getLogger("watcher.delivery").warning(
        "delivery: chat %s: refused", "-1001", extra={"source": "council-press", "chat": -1001, "event": "drop"}
    )
    record = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert re.fullmatch(UTC_ISO, record["time"])
    when = datetime.strptime(record["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert before <= when.replace(microsecond=0) <= datetime.now(UTC)
    assert {k: record[k] for k in ("level", "logger", "message", "source", "chat", "event")} == {
        "level": "WARNING",
        "logger": "watcher.delivery",
        "message": "delivery: chat -1001: refused",
        "source": "council-press",
        "chat": "-1001",
        "event": "drop",
    }


def test_fields_left_out_are_absent(capsys):
    """Without extra fields a JSON line has only time, level, logger and message."""
    setup_logging(fmt="json")
    logging.getLogger("watcher.app").info("starting")
    assert set(json.loads(capsys.readouterr().err.strip())) == {"time", "level", "logger", "message"}


def test_plain_line_is_for_people_with_fields_at_the_end(capsys, monkeypatch):
    """A plain line reads TIME LEVEL LOGGER: message key=value, with the time in UTC whatever the local zone."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        setup_logging()
        logging.getLogger("watcher.pipeline").info(
            "source %s: 3 new", "statewatch", extra={"source": "statewatch", "event": "poll"}
        )
        utc_hour = datetime.now(UTC).hour
    finally:
        monkeypatch.undo()
        time.tzset()
    line = capsys.readouterr().err.strip()
    assert re.fullmatch(
        UTC_ISO + r" INFO watcher\.pipeline: source statewatch: 3 new source=statewatch event=poll", line
    ), line
    assert int(line[11:13]) in (utc_hour, (utc_hour - 1) % 24)  # UTC, not Tokyo's +9


def test_a_token_in_a_field_or_a_traceback_is_redacted(capsys):
    """The token is hidden in a field value and in a JSON traceback as in the message."""
    set_secret(TOKEN)
    setup_logging(fmt="json")
    try:
        raise RuntimeError(f"at /bot{TOKEN}/getMe")
    except RuntimeError:
        logging.getLogger("watcher.bot").exception("failed", extra={"event": f"token {TOKEN}"})
    out = capsys.readouterr().err
    assert "SECRET" not in out
    record = json.loads(out.strip())
    assert record["event"] == "token <redacted>" and "/bot<redacted>/getMe" in record["exception"]


def test_watcher_log_format_json_makes_the_command_line_write_json(tmp_path):
    """With WATCHER_LOG_FORMAT=json the command line's own log lines are JSON objects."""
    done = run_cli(["demo"], tmp_path, WATCHER_LOG_FORMAT="json")
    lines = [line for line in done.stderr.splitlines() if line.startswith("{")]
    assert lines and all(json.loads(line)["time"].endswith("Z") for line in lines)
    assert any(json.loads(line)["logger"] == "watcher.pipeline" for line in lines)
