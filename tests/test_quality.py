"""The code stays as the project keeps it: ruff finds nothing to lint and nothing to reformat, and mypy is clean on
watcher/ (settings in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TREES = ["watcher", "tests", "bench", "scripts"]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_lint_is_clean():
    """ruff check passes on the code, the tests, the benches and the scripts."""
    done = run("ruff", "check", *TREES)
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_format_is_kept():
    """Every file is formatted as ruff format leaves it."""
    done = run("ruff", "format", "--check", *TREES)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_is_clean_on_watcher():
    """mypy finds no type error in watcher/."""
    done = run("mypy")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success" in done.stdout
