#!/usr/bin/env bash
# Refresh the pinned versions: requirements.lock (what the service runs with, installed by the Dockerfile) and
# requirements-test.lock (the same plus the test extra, installed by the README's test command and .ci/run).
# Run it after changing the dependencies in pyproject.toml, or to take newer releases (--upgrade, or
# --upgrade-package NAME for one), then run the tests and commit both files.
#   scripts/lock.sh [--upgrade | --upgrade-package NAME ...]
set -euo pipefail
cd "$(dirname "$0")/.."
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
python3.11 -m venv "$tools" && "$tools/bin/pip" install -q 'pip-tools>=7.4,<8'
header="# Pinned by scripts/lock.sh (pip-compile from pyproject.toml); refresh with scripts/lock.sh --upgrade."
compile() {  # compile OUT [pip-compile options]
  local out=$1; shift
  CUSTOM_COMPILE_COMMAND="scripts/lock.sh" "$tools/bin/pip-compile" -q --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links \
    --no-emit-trusted-host -o "$out" "$@" pyproject.toml
  { echo "$header"; grep -v "^# Pinned by scripts/lock.sh" "$out"; } > "$out.tmp" && mv "$out.tmp" "$out"
}
compile requirements.lock "$@"
compile requirements-test.lock --extra test "$@"
