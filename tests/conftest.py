"""Shared test fixtures: a local feed server, a configuration directory, and a way to run the CLI in this process."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from unittest.mock import patch

import pytest

from tests.fakes.feeds import FeedServer, rss

NOISY = ("httpx", "httpcore", "telegram", "apscheduler")  # the loggers whose levels setup_logging sets

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SHIPPED_CONFIG = ROOT / "config"


@pytest.fixture
def feed_server():
    with FeedServer() as server:
        yield server


class NoMatch:
    """A matcher that flags nothing, for tests about fetching and health."""

    def match(self, item):
        return []


def source_toml(name: str, url: str, every: str = "2s", kind: str = "rss", enabled: bool = True, **extra) -> str:
    lines = [
        "[[source]]",
        f'name = "{name}"',
        f'kind = "{kind}"',
        f'url = "{url}"',
        f'every = "{every}"',
        f"enabled = {'true' if enabled else 'false'}",
    ]
    for key, value in extra.items():
        lines.append(f"{key} = {value!r}" if not isinstance(value, str) else f'{key} = "{value}"')
    return "\n".join(lines) + "\n"


def make_config(directory: Path, sources: str, topics: str | None = None) -> Path:
    """A config directory with the given sources.toml text and the shipped (or given) topics.toml; with the shipped
    one, the shipped relevance model's weights too, which its thresholds ask for.

    Every test source is on 127.0.0.1, so requests to it are not spaced apart unless the text sets
    ``per_host_interval`` itself."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "sources.toml").write_text(unpaced(sources), encoding="utf-8")
    if topics is None:
        shutil.copy(SHIPPED_CONFIG / "topics.toml", directory / "topics.toml")
        shutil.copy(SHIPPED_CONFIG / "relevance-model.json", directory / "relevance-model.json")
    else:
        (directory / "topics.toml").write_text(topics, encoding="utf-8")
    return directory


# The feed of the `once` tests: the first item (fisheries) raises no shipped topic, the second (migrant smuggling,
# dated) raises smuggling.
ONCE_ITEMS = [
    {"title": "Council adopts fisheries conclusions", "link": "https://e.org/1", "guid": "1"},
    {
        "title": "Frontex and Europol step up the fight against migrant smuggling",
        "link": "https://e.org/2",
        "guid": "2",
        "pubDate": "Tue, 15 Sep 2026 08:00:00 GMT",
    },
]


def one_feed_config(tmp_path: Path, feed_server: FeedServer, items: list[dict]) -> Path:
    """Serve ``items`` at /feed.xml and return a config directory (``tmp_path/cfg``) whose one source, ``feed``,
    reads it."""
    feed_server.set("/feed.xml", rss(items))
    return make_config(tmp_path / "cfg", source_toml("feed", feed_server.url("/feed.xml")))


@pytest.fixture(autouse=True)
def own_cache_dir(monkeypatch, tmp_path_factory):
    """`watcher match` run in this process keeps its topics cache in the tests' temporary folder, never in the
    user's ~/.cache (entries are named by the topics file's path, so tests do not share them)."""
    monkeypatch.setenv("WATCHER_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "topics-cache"))
    monkeypatch.delenv("WATCHER_NO_CACHE", raising=False)


@pytest.fixture
def restore_logging():
    """For tests that call setup_logging or set_secret themselves: afterwards the root logger has its handlers and
    level of before, and no token is redacted any more."""
    from watcher.logs import set_secret  # loaded late: collecting the tests need not import watcher

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level
    set_secret(None)


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a `watcher` run in ``tmp_path``: the data directory and the topics cache in it, and no
    other WATCHER_* setting of the user's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    env.update(
        {
            "WATCHER_DATA_DIR": str(tmp_path / "data"),
            "WATCHER_CACHE_DIR": str(tmp_path / "cache"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


UNPACED = 'per_host_interval = "0s"\n'


def unpaced(sources: str) -> str:
    """The sources.toml text with ``[http] per_host_interval = "0s"`` unless it sets an interval of its own."""
    if "per_host_interval" in sources:
        return sources
    if "[http]\n" in sources:
        return sources.replace("[http]\n", "[http]\n" + UNPACED, 1)
    return "[http]\n" + UNPACED + "\n" + sources


def run_cli(args: list[str], tmp_path: Path, input: str | None = None, **env: str) -> subprocess.CompletedProcess:
    """Run ``watcher ARGS`` in this process as a user would run it in ``tmp_path`` (environment from ``cli_env``,
    standard input from ``input``) and return what a finished process would: exit code, stdout and stderr.
    A command that keeps running (``run`` that starts) would block here: run those as a process (tests/test_e2e.py)."""
    from watcher import cli, logs  # loaded late: collecting the tests need not import the whole CLI

    out, err = io.StringIO(), io.StringIO()
    stdin = io.TextIOWrapper(io.BytesIO((input or "").encode("utf-8")), encoding="utf-8")
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, {n: logging.getLogger(n).level for n in NOISY}, logs._Secret.pattern)
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path)
        with (
            patch.dict(os.environ, cli_env(tmp_path, **env), clear=True),
            patch.object(sys, "stdin", stdin),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            try:
                code = cli.main(args)
            except SystemExit as exc:  # argparse's own errors and --help
                code = exc.code if isinstance(exc.code, int) else 1
    finally:
        os.chdir(cwd)
        root.handlers[:], level, levels, logs._Secret.pattern = saved
        root.setLevel(level)
        for name, value in levels.items():
            logging.getLogger(name).setLevel(value)
    return subprocess.CompletedProcess(["watcher", *args], code, out.getvalue(), err.getvalue())


# --- Telegram and store fixtures shared by the bot, delivery, digest and notifier tests --------------------------


@pytest.fixture
def api():
    """A fake Telegram Bot API on 127.0.0.1, spoken to by the real python-telegram-bot."""
    from tests.fakes.botapi import FakeBotAPI

    with FakeBotAPI() as fake:
        yield fake


@pytest.fixture
def clock():
    """A controlled clock for the store (override it in a module for another start time)."""
    from tests.fakes.clock import FakeClock
    from tests.fakes.telegram import START

    return FakeClock(START)


@pytest.fixture
def store(tmp_path, clock):
    """A real SQLite store in a temporary file, on the controlled clock."""
    from tests.fakes.telegram import make_store

    s = make_store(tmp_path / "w.db", clock)
    yield s
    s.close()


@pytest.fixture
async def running(api, store):
    """The bot's handlers running against the fake Bot API and the store."""
    from tests.fakes.telegram import RunningBot

    async with RunningBot(api, store) as rb:
        yield rb


# --- PostgreSQL: a real server for the tests that run the store on both backends -----------------------------------

REQUIRE_POSTGRES = "WATCHER_REQUIRE_POSTGRES"  # set by .ci/run: there, a server that cannot start fails the tests


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server of this test session (Debian's binaries, ``initdb`` in a temporary folder, on
    127.0.0.1), stopped at the end. Skipped, saying why, when none can start, unless WATCHER_REQUIRE_POSTGRES is
    set."""
    from tests.fakes.postgres import PostgresServer, PostgresUnavailable

    try:
        import psycopg  # noqa: F401  # loaded late: only to say early that the driver is missing
    except ImportError as exc:
        reason = f"psycopg is not installed ({exc}): pip install -e '.[test]'"
        if os.environ.get(REQUIRE_POSTGRES):
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        server = PostgresServer.find().start()
    except PostgresUnavailable as exc:
        if os.environ.get(REQUIRE_POSTGRES):
            pytest.fail(f"PostgreSQL cannot start: {exc}")
        pytest.skip(f"PostgreSQL cannot start: {exc}")
    yield server
    server.stop()


@pytest.fixture
def pg_url(postgres_server):
    """The URL of a new, empty PostgreSQL database on the session's server."""
    return postgres_server.create_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_target(request, tmp_path):
    """Where a store lives, once per backend: a SQLite file in tmp_path, or a new PostgreSQL database's URL."""
    if request.param == "sqlite":
        return tmp_path / "w.db"
    return request.getfixturevalue("pg_url")


def pytest_collection_modifyitems(config, items):
    """Tests marked ``alone`` time the service's answers; among parallel workers they would time the machine's load
    instead, so workers skip them and the second pass of the test command runs them by themselves."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    skip = pytest.mark.skip(reason="timed on its own in the second pass: pytest -n 0 -m alone")
    for item in items:
        if "alone" in item.keywords:
            item.add_marker(skip)
