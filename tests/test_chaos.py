"""The chaos run, short: three replicas of `watcher run` on one real PostgreSQL database, one killed with SIGKILL
every 15 s for 45 s and restarted at once, while a feed on 127.0.0.1 gains a matching item every 3 s and the fake
Bot API counts what arrives (``scripts/chaos.py``; the full run is 3 minutes with 200 subscribers). Skipped, with
the reason, when PostgreSQL cannot start."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.alone
@pytest.mark.timeout(600)
def test_replicas_killed_at_random_lose_and_double_nothing(pg_url):
    command = [
        sys.executable,
        str(ROOT / "scripts" / "chaos.py"),
        "--database-url",
        pg_url,
        "--replicas",
        "3",
        "--subscribers",
        "20",
        "--duration",
        "45",
        "--kill-every",
        "15",
        "--every",
        "3",
        "--drain-timeout",
        "120",
    ]
    # its own process group: a run cut short takes its replicas with it
    proc = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        stdout, stderr = proc.communicate(timeout=540)
    except BaseException:  # too slow, or the test was stopped
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    run = subprocess.CompletedProcess(command, proc.returncode, stdout, stderr)
    assert run.stdout.strip(), run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    summary = {k: v for k, v in result.items() if k != "log_tails"}
    assert result["kills"] == 3, summary
    assert result["items"] >= 10 and result["received"] > 0, summary
    assert result["lost"] == 0, summary
    assert result["duplicates"] <= result["kills"], summary
    assert result["unexpected"] == 0, summary
    assert result["source_interval_broken"] == 0, summary
    assert result["host_interval_broken"] == 0, summary
    assert result["max_getupdates_consumers"] == 1, summary
    assert result["max_sends_per_10s"] <= result["send_rate"] * 10 + 1, summary
    assert result["max_sends_per_second"] <= result["telegram_limit"], summary
    assert not result["replicas_died"] and not any(result["exit_codes"].values()), result.get("log_tails")
    assert run.returncode == 0, run.stderr[-3000:]
