"""python-telegram-bot's time periods are read without its deprecation warnings: a flood wait (RetryAfter) becomes
the exact delay, whether the library hands it over as seconds or as a timedelta."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

from watcher.notifiers.telegram import seconds

PROBE = """
import asyncio, warnings
warnings.simplefilter("error")  # any deprecation warning fails the probe
from watcher.notifiers.telegram import call_telegram
from telegram.error import RetryAfter

async def flood():
    raise RetryAfter(7)

try:
    asyncio.run(call_telegram(flood()))
except Exception as exc:
    print(type(exc).__name__, exc.delay, exc.flood)
"""


def test_a_flood_wait_is_read_without_a_deprecation_warning():
    """A RetryAfter of 7 s becomes RetryLater(delay=7, flood) with warnings turned into errors, in a fresh process."""
    env = {k: v for k, v in os.environ.items() if k != "PTB_TIMEDELTA"}
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["RetryLater", "7.0", "True"]
    assert "PTBDeprecationWarning" not in done.stderr


def test_periods_in_either_form_are_seconds():
    """Seconds and timedeltas both read as float seconds."""
    assert seconds(7) == 7.0 and seconds(timedelta(minutes=1, seconds=5)) == 65.0
