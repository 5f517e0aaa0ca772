#!/usr/bin/env bash
# Container smoke test: build the image, run it against a local feed server and a local fake Telegram Bot API
# (both on 127.0.0.1, --network=host), check that a subscriber gets one alert for a new matching item, restart the
# container and check that nothing repeats and the database survived on its volume, then stop.
#
# Needs: a Docker engine, and the test extras installed in .venv (pip install -e '.[test]').
# Usage: scripts/container-smoke.sh [IMAGE_TAG]
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${1:-watcher:smoke}"
python="${PYTHON:-.venv/bin/python}"
echo "[smoke] building $tag"
DOCKER_BUILDKIT=0 docker build --network=host -q -t "$tag" . >/dev/null
echo "[smoke] image $(docker image inspect "$tag" --format '{{.Id}} {{.Size}}' | awk '{printf "%s, %.0f MB", substr($1,1,19), $2/1e6}')"
echo "[smoke] docker run $tag --help"
docker run --rm --network=host "$tag" --help | head -n 3
exec "$python" scripts/container_smoke.py "$tag"
