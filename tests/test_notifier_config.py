"""notifiers.toml: the shipped example loads, and every mistake is named with its file, entry and fix."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import SHIPPED_CONFIG, make_config, run_cli, source_toml
from watcher.config import load_config, settings_from_env
from watcher.errors import ConfigError
from watcher.notifiers.settings import notifiers_from_toml

TOPIC_IDS = ("smuggling", "borders", "migration", "policing")
ENV = {"HOOK_URL": "https://hooks.example.org/T/B/secret", "SMTP_PW": "pw", "HOOK_AUTH": "Bearer x"}


def problems(data: dict, env: dict | None = None) -> list[str]:
    return notifiers_from_toml(data, "notifiers.toml", TOPIC_IDS, ENV if env is None else env)[1]


def test_shipped_example_loads(tmp_path, monkeypatch):
    """config/notifiers.toml.example, copied to notifiers.toml with its variables set, is valid."""
    cfg = make_config(tmp_path / "cfg", source_toml("feed", "http://127.0.0.1:1/feed.xml"))
    shutil.copy(SHIPPED_CONFIG / "notifiers.toml.example", cfg / "notifiers.toml")
    monkeypatch.setenv("WATCHER_NEWSROOM_HOOK_URL", "https://chat.example.org/hooks/abc")
    monkeypatch.setenv("WATCHER_SMTP_PASSWORD", "secret")
    config = load_config(cfg)
    hook, mail = config.notifiers
    assert (hook.name, hook.url, hook.payload, hook.topics) == (
        "newsroom-chat",
        "https://chat.example.org/hooks/abc",
        "text",
        ("smuggling", "borders"),
    )
    assert (mail.name, mail.port, mail.security, mail.password) == ("research-team", 587, "starttls", "secret")
    assert "secret" not in repr(mail) and "hooks/abc" not in repr(hook)


def test_valid_entries_with_secrets_from_the_environment():
    """Header values and URLs named by environment variables are read from it; topics default to all."""
    out, errs = notifiers_from_toml(
        {"webhook": [{"name": "a", "url_env": "HOOK_URL", "headers_from_env": {"Authorization": "HOOK_AUTH"}}]},
        "notifiers.toml",
        TOPIC_IDS,
        ENV,
    )
    assert errs == []
    assert out[0].url == ENV["HOOK_URL"] and out[0].headers == {"Authorization": "Bearer x"}
    assert out[0].topics == TOPIC_IDS


@pytest.mark.parametrize(
    "data,expected",
    [
        (
            {"webhook": [{"name": "a", "url": "https://x.org/h", "colour": "red"}]},
            "notifiers.toml: webhook 'a': unknown key 'colour'; allowed keys:",
        ),
        ({"webhook": [{"name": "a"}]}, "webhook 'a': give exactly one of 'url'"),
        ({"webhook": [{"name": "a", "url": "ftp://x.org"}]}, "webhook 'a': the webhook URL must start with http"),
        (
            {"webhook": [{"name": "a", "url_env": "NOT_SET_ANYWHERE"}]},
            "webhook 'a': 'url_env' names the environment variable NOT_SET_ANYWHERE, which is not set; set it",
        ),
        (
            {"webhook": [{"name": "a", "url": "https://x.org", "headers_from_env": {"Authorization": "Bearer abc"}}]},
            "must name an environment variable",
        ),
        (
            {"webhook": [{"name": "a", "url": "https://x.org", "topics": ["fish"]}]},
            "webhook 'a': unknown topic 'fish'; the topics are: smuggling, borders",
        ),
        ({"webhook": [{"name": "a", "url": "https://x.org", "payload": "xml"}]}, "'payload' must be one of full, text"),
        ({"webhook": [{"name": "a", "url": "https://x.org"}, {"name": "a", "url": "https://y.org"}]}, "duplicate name"),
        ({"email": [{"name": "m", "to": ["x"], "from": "w@example.org", "host": "h"}]}, "email 'm': 'to' must be"),
        (
            {"email": [{"name": "m", "to": "a@example.org", "from": "w@example.org", "host": "h", "username": "u"}]},
            "'username' is set but 'password_env' is not",
        ),
        (
            {"email": [{"name": "m", "to": "a@example.org", "from": "w@example.org", "host": "h", "security": "ssl"}]},
            "'security' must be one of starttls, tls, none",
        ),
        ({"email": [{"name": "m", "to": "a@example.org", "from": "w@example.org"}]}, "'host' is missing; add host ="),
        (
            {
                "email": [
                    {"name": "m", "to": "a@example.org", "from": "w@example.org", "host": "h", "password_env": "pw!"}
                ]
            },
            "must be the NAME of an environment variable",
        ),
        ({"slack": []}, "unknown top-level key 'slack'"),
    ],
)
def test_mistakes_are_named_with_entry_and_fix(data, expected):
    """Each kind of mistake gives one line that names the file, the entry and what to do."""
    found = problems(data)
    assert any(expected in line for line in found), found
    assert all(line.startswith("notifiers.toml: ") for line in found)


def test_check_config_reports_notifier_problems(tmp_path):
    """`watcher check-config` fails on a bad notifiers.toml, naming the file and the missing variable."""
    cfg = make_config(tmp_path / "cfg", source_toml("feed", "http://127.0.0.1:1/feed.xml"))
    (cfg / "notifiers.toml").write_text(
        '[[email]]\nname = "m"\nto = "a@example.org"\nfrom = "w@example.org"\n'
        'host = "h"\nusername = "u"\npassword_env = "WATCHER_TEST_SMTP_PW"\n'
    )
    bad = run_cli(["--config", str(cfg), "check-config"], tmp_path)
    assert (
        bad.returncode == 1
        and "notifiers.toml: email 'm': 'password_env' names the environment variable "
        "WATCHER_TEST_SMTP_PW, which is not set"
        in bad.stderr
    )
    good = run_cli(["--config", str(cfg), "check-config"], tmp_path, WATCHER_TEST_SMTP_PW="x")
    assert good.returncode == 0 and "1 notifiers" in good.stdout


@pytest.mark.parametrize(
    "value,ok", [("25", True), ("29", True), ("0.5", True), ("30", False), ("0", False), ("fast", False)]
)
def test_send_rate_setting(value, ok):
    """WATCHER_SEND_RATE takes messages a second, above 0 and below Telegram's 30."""
    if ok:
        assert settings_from_env({"WATCHER_SEND_RATE": value}).send_rate == float(value)
    else:
        with pytest.raises(ConfigError, match="WATCHER_SEND_RATE"):
            settings_from_env({"WATCHER_SEND_RATE": value})
