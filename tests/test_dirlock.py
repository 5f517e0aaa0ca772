"""One `watcher run` per data directory: a second one exits at once naming the directory and the holder's PID; after
``kill -9`` of the first, the operating system has dropped its lock and a new one starts. Real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import cli_env, make_config, source_toml, unpaced
from watcher.errors import StoreError
from watcher.store import dirlock

ROOT = Path(__file__).resolve().parent.parent


def test_the_lock_is_exclusive_and_names_its_holder(tmp_path):
    held = dirlock.acquire(tmp_path / "data")
    assert (tmp_path / "data" / "watcher.lock").read_text().strip() == str(os.getpid())
    with pytest.raises(StoreError) as refused:
        dirlock.acquire(tmp_path / "data")
    text = str(refused.value)
    assert str(tmp_path / "data") in text and f"PID {os.getpid()}" in text and "WATCHER_DATA_DIR" in text
    held.release()
    with dirlock.acquire(tmp_path / "data"):
        pass


def start_run(tmp_path: Path, config: Path, name: str) -> subprocess.Popen:
    env = cli_env(tmp_path, WATCHER_HTTP_PORT="0", PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-m", "watcher", "--config", str(config), "run"],
        cwd=tmp_path,
        env=env,
        stdout=(tmp_path / f"{name}.out").open("w"),
        stderr=subprocess.STDOUT,
    )


def holder(tmp_path: Path) -> str:
    try:
        return (tmp_path / "data" / "watcher.lock").read_text().strip()
    except FileNotFoundError:
        return ""


def wait_for(condition, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_a_second_run_on_the_same_data_directory_exits_and_kill_9_frees_it(tmp_path):
    config = make_config(tmp_path / "config", unpaced(source_toml("feed", "http://127.0.0.1:9/feed.xml", every="1h")))
    first = start_run(tmp_path, config, "first")
    third = None
    try:
        assert wait_for(lambda: holder(tmp_path) == str(first.pid)), (tmp_path / "first.out").read_text()
        second = subprocess.run(
            [sys.executable, "-m", "watcher", "--config", str(config), "run"],
            cwd=tmp_path,
            env=cli_env(tmp_path, WATCHER_HTTP_PORT="0", PYTHONPATH=str(ROOT)),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode != 0
        assert str(tmp_path / "data") in second.stderr and f"PID {first.pid}" in second.stderr
        assert "stop that one first" in second.stderr and "WATCHER_DATA_DIR" in second.stderr
        assert first.poll() is None  # the first one goes on
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        third = start_run(tmp_path, config, "third")
        assert wait_for(lambda: holder(tmp_path) == str(third.pid)), (tmp_path / "third.out").read_text()
        time.sleep(1.0)
        assert third.poll() is None, (tmp_path / "third.out").read_text()
    finally:
        for proc in (first, third):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=60)
    assert third.returncode == 0


def test_a_stop_request_while_the_service_starts_ends_it_cleanly(tmp_path):
    """SIGTERM as soon as `watcher run` holds the data directory's lock, while it is still building the service
    (compiling the shipped topics): exit 0 as for a stop later on, never the death by signal a supervisor takes for a
    crash, and the lock is free for the next run."""
    config = make_config(tmp_path / "config", unpaced(source_toml("feed", "http://127.0.0.1:9/feed.xml", every="1h")))
    run = start_run(tmp_path, config, "run")
    try:
        assert wait_for(lambda: holder(tmp_path) == str(run.pid), timeout=60), (tmp_path / "run.out").read_text()
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=60) == 0, (tmp_path / "run.out").read_text()
    finally:
        if run.poll() is None:
            run.kill()
    with dirlock.acquire(tmp_path / "data"):
        pass
