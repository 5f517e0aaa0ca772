"""The quick commands load only what they use: `watcher match`, `watcher --help` and `watcher check-config` run in
a fresh Python process, and the heavy libraries that only polling, sending or serving need stay unloaded
(bench/startup.py measures what that saves)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import SHIPPED_CONFIG, cli_env

# Loaded by `watcher run`, `once`, `parse` or `test-notify`, never by the three commands below.
NEVER = ("telegram", "pypdf", "httpx", "feedparser", "apscheduler", "apprise", "starlette", "uvicorn", "jinja2")
# `watcher match` reads topics.toml alone: no parser, event loop or database either.
NOT_FOR_MATCH = NEVER + ("babel", "bs4", "soupsieve", "lxml", "asyncio", "sqlite3", "watcher.sources", "watcher.store")

PROBE = """
import json, sys
from watcher.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def loaded(tmp_path, *args: str) -> tuple[int, set[str]]:
    """Exit code and the top-level names of the modules loaded by `watcher ARGS` in a new process."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "--config", str(SHIPPED_CONFIG), *args],
        env=cli_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    names = set(result["modules"])
    return result["code"], names | {name.split(".")[0] for name in names}


def test_match_loads_no_heavy_library(tmp_path):
    code, modules = loaded(tmp_path, "match", "migrant smuggling networks")
    assert code == 0
    assert "watcher.matcher" in modules
    assert sorted(modules & set(NOT_FOR_MATCH)) == []


def test_help_loads_no_heavy_library(tmp_path):
    code, modules = loaded(tmp_path, "--help")
    assert code == 0
    assert sorted(modules & set(NOT_FOR_MATCH)) == []


def test_check_config_loads_no_client_or_server(tmp_path):
    """check-config builds every source (the html-list selectors are parsed to be checked) but fetches, sends and
    serves nothing."""
    code, modules = loaded(tmp_path, "check-config")
    assert code == 0
    assert "watcher.sources.kinds" in modules
    assert sorted(modules & set(NEVER)) == []
