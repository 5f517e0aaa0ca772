"""Shell completion through argcomplete (the optional `completion` extra): the shell's request is answered with the
matching commands and options, and without argcomplete the command line works the same."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import run_cli

pytest.importorskip("argcomplete", reason="argcomplete is not installed: pip install 'eu-council-watcher[completion]'")


def complete(line: str, tmp_path) -> list[str]:
    """What argcomplete answers when the shell asks to complete ``line``."""
    out = tmp_path / "completions"
    env = {
        **os.environ,
        "_ARGCOMPLETE": "1",
        "COMP_LINE": line,
        "COMP_POINT": str(len(line)),
        "_ARGCOMPLETE_STDOUT_FILENAME": str(out),
        "_ARGCOMPLETE_IFS": "\n",
    }
    done = subprocess.run([sys.executable, "-m", "watcher"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return out.read_text().split()


def test_commands_and_options_are_completed(tmp_path):
    """`watcher te` completes to test-notify, `watcher check-config --c` to --config."""
    assert complete("watcher te", tmp_path) == ["test-notify"]
    assert "--config" in complete("watcher check-config --c", tmp_path)


def test_a_normal_run_ignores_completion(tmp_path):
    """Without the shell's request, argcomplete changes nothing."""
    assert run_cli(["init", "cfg"], tmp_path).returncode == 0
