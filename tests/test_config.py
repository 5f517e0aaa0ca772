"""Configuration loading and the errors a maintainer or operator sees for bad input."""

from __future__ import annotations

import pytest

from tests.conftest import SHIPPED_CONFIG, make_config, run_cli, source_toml
from watcher.config import load_config, settings_from_env
from watcher.durations import parse_duration
from watcher.errors import ConfigError

TOPICS = """
[[topic]]
id = "smuggling"
label = "Migrant smuggling"
terms = ["migrant smuggling"]
exclude = []
"""
GOOD = source_toml("feed", "http://127.0.0.1:1/feed.xml")


def problems_for(tmp_path, sources: str, topics: str = TOPICS) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(make_config(tmp_path / "cfg", sources, topics))
    return info.value.problems


def test_shipped_config_is_valid():
    """The configuration shipped in config/ loads with sources and the four fixed topic ids."""
    config = load_config(SHIPPED_CONFIG)
    assert {t.id for t in config.topics} >= {"smuggling", "borders", "migration", "policing"}
    names = {s.name for s in config.sources}
    assert {"council-press", "council-jha-meetings", "statewatch", "eurlex-legislation"} <= names
    assert all(s.url.startswith("https://") for s in config.sources)


@pytest.mark.parametrize(
    "text,seconds",
    [("30s", 30), ("15m", 900), ("1h", 3600), ("1h30m", 5400), ("2d", 172800), ("2s", 2), ("500ms", 0.5)],
)
def test_durations(text, seconds):
    """Intervals are written with a unit and read as seconds."""
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "15", "m", "15 minutes", "1x", "-5m"])
def test_bad_durations(text):
    """Durations without a known unit are refused with the accepted forms."""
    with pytest.raises(ValueError, match="30s"):
        parse_duration(text)


def test_toml_syntax_error(tmp_path):
    """A TOML syntax error names the file and the line."""
    [line] = problems_for(tmp_path, '[[source]]\nname = "x\n')
    assert "sources.toml" in line and "TOML syntax error" in line and "line" in line


def test_unknown_key(tmp_path):
    """A misspelt key is an error naming the source, the key and the allowed keys."""
    [line] = problems_for(tmp_path, GOOD.replace("enabled = true", "enabeld = true"))
    assert "source 'feed'" in line and "unknown key 'enabeld'" in line and "enabled" in line


def test_unknown_kind(tmp_path):
    """An unknown kind lists the kinds that exist."""
    [line] = problems_for(tmp_path, GOOD.replace('kind = "rss"', 'kind = "rs"'))
    assert "unknown kind 'rs'" in line and "rss" in line


def test_missing_url(tmp_path):
    """A source without url says to add one."""
    [line] = problems_for(tmp_path, GOOD.replace('url = "http://127.0.0.1:1/feed.xml"\n', ""))
    assert "'url' is missing" in line and "source 'feed'" in line


def test_bad_every(tmp_path):
    """A bad interval names the source and shows the accepted forms."""
    [line] = problems_for(tmp_path, GOOD.replace('every = "2s"', 'every = "often"'))
    assert "'every'" in line and "'often'" in line and "15m" in line


def test_duplicate_source_name(tmp_path):
    """Two sources with one name are refused."""
    [line] = problems_for(tmp_path, GOOD + GOOD)
    assert "duplicate name" in line and "'feed'" in line


def test_empty_topic(tmp_path):
    """A topic with no terms is an error that names the topic."""
    lines = problems_for(tmp_path, GOOD, TOPICS.replace('terms = ["migrant smuggling"]', "terms = []"))
    assert any("smuggling" in line and "terms" in line for line in lines)


def test_all_problems_reported_at_once(tmp_path):
    """Several mistakes give one line each, not just the first."""
    bad = GOOD.replace('kind = "rss"', 'kind = "nope"') + source_toml("b", "ftp://x", every="soon")
    lines = problems_for(tmp_path, bad)
    assert len(lines) >= 3


def test_settings_from_env_never_show_token():
    """Settings read WATCHER_* variables; their repr hides the token; bad admin ids are errors."""
    s = settings_from_env({"WATCHER_TELEGRAM_TOKEN": "123:SECRET", "WATCHER_ADMIN_CHAT_IDS": "5, -100"})
    assert s.admin_chat_ids == {5, -100} and "SECRET" not in repr(s)
    assert s.telegram_api_url == "https://api.telegram.org/bot"
    with pytest.raises(ConfigError, match="WATCHER_ADMIN_CHAT_IDS"):
        settings_from_env({"WATCHER_ADMIN_CHAT_IDS": "me"})


def test_check_config_command_exit_codes(tmp_path):
    """`watcher check-config` exits 0 on the shipped config and 1 with error lines on a broken one."""
    ok = run_cli(["--config", str(SHIPPED_CONFIG), "check-config"], tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "configuration OK" in ok.stdout
    broken = make_config(tmp_path / "bad", GOOD.replace('kind = "rss"', 'kind = "rs"'), TOPICS)
    bad = run_cli(["--config", str(broken), "check-config"], tmp_path)
    assert bad.returncode == 1
    assert "error:" in bad.stderr and "unknown kind 'rs'" in bad.stderr and "sources.toml" in bad.stderr


def test_config_dir_from_environment(tmp_path):
    """WATCHER_CONFIG selects the configuration directory when --config is not given."""
    broken = make_config(tmp_path / "bad", GOOD + GOOD, TOPICS)
    bad = run_cli(["check-config"], tmp_path, WATCHER_CONFIG=str(broken))
    assert bad.returncode == 1 and "duplicate name" in bad.stderr


def test_run_refuses_bad_config_before_starting(tmp_path):
    """`watcher run` with a broken configuration exits 1 at once and starts nothing."""
    broken = make_config(tmp_path / "bad", GOOD.replace('every = "2s"', 'every = "x"'), TOPICS)
    proc = run_cli(["--config", str(broken), "run"], tmp_path)
    assert proc.returncode == 1 and "nothing was started" in proc.stderr
    assert not (tmp_path / "data" / "watcher.db").exists()
