#!/usr/bin/env bash
# Refresh the pinned versions: requirements.lock (what the service runs with, the PostgreSQL extra included,
# installed by the Dockerfile) and requirements-test.lock (the same plus the test extra, installed by the README's
# test command and .ci/run).
# Run it after changing the dependencies in pyproject.toml, or to take newer releases (--upgrade, or
# --upgrade-package NAME for one), then run the tests and commit both files.
#   scripts/lock.sh [--upgrade | --upgrade-package NAME ...]
#
# pip-compile pins what the Python running it can install, and some releases need a later 3.11 patch release
# (soupsieve 3.0.2 and later ask for 3.11.5). Resolve under the oldest Python 3.11 the image may have, Debian 12's
# 3.11.2, so the pins install everywhere: run it in the image's base,
#   docker run --rm --network=host -v "$PWD":/src -w /src python:3.11-slim scripts/lock.sh
# or set PYTHON to such an interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
"${PYTHON:-python3.11}" -m venv "$tools" && "$tools/bin/pip" install -q 'pip-tools>=7.4,<8'
header="# Pinned by scripts/lock.sh (pip-compile from pyproject.toml); refresh with scripts/lock.sh --upgrade."
compile() {  # compile OUT [pip-compile options]
  local out=$1; shift
  CUSTOM_COMPILE_COMMAND="scripts/lock.sh" "$tools/bin/pip-compile" -q --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links \
    --no-emit-trusted-host -o "$out" "$@" pyproject.toml
  { echo "$header"; grep -v "^# Pinned by scripts/lock.sh" "$out"; } > "$out.tmp" && mv "$out.tmp" "$out"
}
compile requirements.lock --extra postgres "$@"
compile requirements-test.lock --extra test "$@"
