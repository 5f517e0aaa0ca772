"""The container files: the Dockerfile passes hadolint at warning level and keeps the promises operators rely on."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    assert Path(found).exists(), "hadolint is missing: install the test extras (pip install -e '.[test]')"
    return found


def test_hadolint_clean_at_warning_level():
    """hadolint reports nothing at warning level or above."""
    proc = subprocess.run(
        [hadolint(), "--failure-threshold", "warning", "-"],
        input=DOCKERFILE,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_hadolint_would_catch_a_regression():
    """The lint step is live: an unpinned apt-get install without cleanup fails it."""
    bad = DOCKERFILE.replace("WORKDIR /app", "WORKDIR /app\nRUN apt-get update && apt-get install -y curl", 1)
    proc = subprocess.run(
        [hadolint(), "--failure-threshold", "warning", "-"], input=bad, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode != 0


def test_dockerfile_promises():
    """Base image, non-root numeric user, data volume, baked config, health check, no syntax line."""
    lines = DOCKERFILE.splitlines()
    assert lines[0] == "FROM python:3.11-slim"
    assert not any(line.startswith("# syntax=") for line in lines)
    assert any(line.startswith("USER 10001") for line in lines)
    assert "VOLUME /data" in lines
    assert "COPY config ./config" in lines and "WATCHER_CONFIG=/app/config" in DOCKERFILE
    assert any(line.startswith("HEALTHCHECK") and "healthcheck" in line for line in lines)
    assert "WATCHER_HTTP_HOST=0.0.0.0" in DOCKERFILE
    assert "TOKEN" not in DOCKERFILE


def test_env_example_documents_every_variable_and_keeps_image_paths():
    """.env.example names every variable of the README's table, and sets none of those the image sets (a compose
    .env that set WATCHER_DATA_DIR would move the database off its volume)."""
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(WATCHER_[A-Z_]+)` \|", readme, re.M))
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    named = set(re.findall(r"^#? ?(WATCHER_[A-Z_]+)=", example, re.M))
    active = set(re.findall(r"^(WATCHER_[A-Z_]+)=", example, re.M))
    assert documented and documented <= named
    image_set = set(re.findall(r"(WATCHER_[A-Z_]+)=", DOCKERFILE))
    assert image_set and not image_set & active
