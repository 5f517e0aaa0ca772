"""Shared test fixtures: a local feed server, a configuration directory, and a way to run the CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.feeds import FeedServer

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
    lines = ["[[source]]", f'name = "{name}"', f'kind = "{kind}"', f'url = "{url}"', f'every = "{every}"',
             f"enabled = {'true' if enabled else 'false'}"]
    for key, value in extra.items():
        lines.append(f"{key} = {value!r}" if not isinstance(value, str) else f'{key} = "{value}"')
    return "\n".join(lines) + "\n"


def make_config(directory: Path, sources: str, topics: str | None = None) -> Path:
    """A config directory with the given sources.toml text and the shipped (or given) topics.toml."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "sources.toml").write_text(sources, encoding="utf-8")
    if topics is None:
        shutil.copy(SHIPPED_CONFIG / "topics.toml", directory / "topics.toml")
    else:
        (directory / "topics.toml").write_text(topics, encoding="utf-8")
    return directory


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    env.update({"WATCHER_DATA_DIR": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def run_cli(args: list[str], tmp_path: Path, input: str | None = None, timeout: float = 60, **env: str):
    """Run ``python -m watcher ARGS`` as a user would, and return the completed process."""
    return subprocess.run([sys.executable, "-m", "watcher", *args], cwd=tmp_path, env=cli_env(tmp_path, **env),
                          input=input, capture_output=True, text=True, timeout=timeout)


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
