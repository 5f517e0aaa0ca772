"""The quick commands load only what they use: `watcher match`, `watcher --help` and `watcher check-config` run in
a fresh Python process, and the heavy libraries that only polling, sending or serving need stay unloaded
(bench/startup.py measures what that saves)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ONCE_ITEMS, SHIPPED_CONFIG, cli_env, one_feed_config
from watcher.cli import COMMANDS, _command_in, build_parser

# Loaded by `watcher run`, `once`, `parse` or `test-notify` (argcomplete: by the shell's completion request), never by
# the three commands below.
NEVER = (
    "telegram",
    "pypdf",
    "httpx",
    "feedparser",
    "apscheduler",
    "apprise",
    "starlette",
    "uvicorn",
    "jinja2",
    "argcomplete",
)
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


def loaded(tmp_path, *args: str, config=SHIPPED_CONFIG) -> tuple[int, set[str]]:
    """Exit code and the top-level names of the modules loaded by `watcher ARGS` in a new process."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "--config", str(config), *args],
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


def test_once_loads_neither_the_scheduler_nor_the_web_site(tmp_path, feed_server):
    """`watcher once` polls, matches and records, and without a token it alerts on the console: the scheduler, the
    web server, its templates and metrics, and the Telegram library are for `watcher run` alone."""
    config = one_feed_config(tmp_path, feed_server, ONCE_ITEMS)
    code, modules = loaded(tmp_path, "once", "--dry-run", config=config)
    assert code == 0
    assert {"watcher.commands.once", "httpx", "feedparser"} <= modules
    heavy = {"watcher.app", "watcher.web", "telegram", "apscheduler", "starlette", "uvicorn", "jinja2"}
    assert sorted(modules & (heavy | {"prometheus_client"})) == []


def test_match_with_a_warm_cache_parses_no_toml(tmp_path):
    """The second run reads the topics checked by the first from the cache: no TOML parser is even loaded."""
    assert "tomli" in loaded(tmp_path, "match", "frontex")[1]
    code, modules = loaded(tmp_path, "match", "frontex")
    assert code == 0
    assert "watcher.topic_cache" in modules
    assert sorted(modules & {"tomli", "tomllib"}) == []


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_the_parser_of_one_command_is_the_same(command, capsys):
    """main builds only the parser of the command it runs; that command's help reads the same as with all of them."""
    shown = []
    for only in (None, command):
        with pytest.raises(SystemExit):
            build_parser(only).parse_args([command, "--help"])
        shown.append(capsys.readouterr().out)
    assert shown[0] and shown[0] == shown[1]


@pytest.mark.parametrize(
    "argv",
    [
        ["--config", "c", "match", "-v", "a", "b", "--json"],
        ["check-config", "--config", "d"],
        ["-v", "--config=e", "archive", "verify", "-v"],
        ["parse", "--kind", "rss", "f", "--select", "row=li"],
        ["--config", "match", "replay", "--since", "2026-11-01"],
    ],
)
def test_one_command_parser_reads_arguments_the_same(argv):
    assert _command_in(argv) in COMMANDS  # main builds that command's parser alone
    assert vars(build_parser(_command_in(argv)).parse_args(argv)) == vars(build_parser().parse_args(argv))


def test_which_command_is_named():
    """Only plain --config DIR and -v may come before the name; anything else builds every parser (None)."""
    assert _command_in(["match", "x"]) == "match"
    assert _command_in(["--config", "match", "-v", "check-config"]) == "check-config"  # a directory called match
    assert _command_in(["--config=match", "status"]) == "status"
    assert _command_in(["--conf", "d", "match"]) is None  # an abbreviation: argparse decides
    assert _command_in(["--help"]) is None
    assert _command_in(["matc", "x"]) is None
    assert _command_in([]) is None
