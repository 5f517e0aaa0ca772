"""`watcher test-notify CHANNEL:ADDRESS` sends one sample alert through the channel's real notifier: Telegram through
python-telegram-bot and the fake Bot API, a webhook to a local receiver; wrong targets and refusals are explained."""

from __future__ import annotations

from tests.conftest import make_config, run_cli, source_toml
from tests.fakes.hooks import HookServer

SAMPLE = "Test alert: Council conclusions on countering migrant smuggling <sample>"


def config_with(tmp_path, notifiers: str = ""):
    cfg = make_config(tmp_path / "cfg", source_toml("feed", "https://example.org/feed.xml"))
    if notifiers:
        (cfg / "notifiers.toml").write_text(notifiers, encoding="utf-8")
    return cfg


def test_a_sample_reaches_a_telegram_chat(tmp_path, api):
    """telegram:CHAT sends the sample, HTML-escaped, through the real Telegram notifier; nothing is written."""
    api.add_chat(12345, "private")
    done = run_cli(
        ["test-notify", "telegram:12345", "--config", str(config_with(tmp_path))],
        tmp_path,
        WATCHER_TELEGRAM_TOKEN=api.token,
        WATCHER_TELEGRAM_API_URL=api.base_url,
    )
    assert done.returncode == 0, done.stderr
    assert "telegram:12345: sample alert accepted" in done.stdout
    [message] = api.sent_messages(12345)
    assert "&lt;sample&gt;" in message["text"] and message.get("parse_mode") == "HTML"
    assert not (tmp_path / "data").exists()


def test_a_sample_reaches_a_configured_webhook_and_a_refusal_is_reported(tmp_path):
    """webhook:NAME posts the sample to that entry's URL; a 404 answer is reported as a refusal, exit 1."""
    with HookServer() as hooks:
        cfg = config_with(tmp_path, f'[[webhook]]\nname = "team"\nurl = "{hooks.url()}"\n')
        done = run_cli(["test-notify", "webhook:team", "--config", str(cfg)], tmp_path)
        assert done.returncode == 0, done.stderr
        assert hooks.posts[0]["json"]["alert"]["title"] == SAMPLE
        hooks.answer(404)
        refused = run_cli(["test-notify", "webhook:team", "--config", str(cfg)], tmp_path)
    assert refused.returncode == 1 and "webhook:team: refused: webhook team: HTTP 404" in refused.stderr


def test_wrong_targets_are_explained(tmp_path):
    """A target without a channel, an unknown entry, a non-numeric chat or a missing token is a one-line error."""
    cfg = str(config_with(tmp_path, '[[webhook]]\nname = "team"\nurl = "https://hooks.example.org/x"\n'))
    bad = run_cli(["test-notify", "team", "--config", cfg], tmp_path)
    assert bad.returncode == 2 and "write CHANNEL:ADDRESS" in bad.stderr
    unknown = run_cli(["test-notify", "webhook:other", "--config", cfg], tmp_path)
    assert unknown.returncode == 2 and "(known: webhook:team)" in unknown.stderr
    chat = run_cli(["test-notify", "telegram:@someone", "--config", cfg], tmp_path)
    assert chat.returncode == 2 and "a Telegram chat is a number" in chat.stderr
    token = run_cli(["test-notify", "telegram:42", "--config", cfg], tmp_path)
    assert token.returncode == 1 and "WATCHER_TELEGRAM_TOKEN is not set" in token.stderr
