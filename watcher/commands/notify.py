"""``watcher test-notify CHANNEL:ADDRESS``: one sample alert through the real notifier of a channel, to check a
token, a webhook, a mail server or an apprise URL before real alerts depend on it. Nothing is written."""

from __future__ import annotations

import os

from watcher.config import Config, Settings
from watcher.errors import NotifyError, RetryLater
from watcher.http.guard import Guard
from watcher.notifiers.email import EmailNotifier
from watcher.notifiers.format import sample_alert
from watcher.notifiers.setup import close_notifiers
from watcher.notifiers.webhook import WebhookNotifier

CHANNELS = ("telegram", "webhook", "email", "apprise")


class TargetError(ValueError):
    """The target names no channel, or no configured entry of it."""


def parse_target(text: str, config: Config) -> tuple[str, str]:
    """``telegram:CHAT``, ``webhook:NAME``, ``email:NAME`` or ``apprise:NAME`` as (channel, address)."""
    channel, colon, address = text.partition(":")
    if not colon or channel not in CHANNELS or not address:
        raise TargetError(
            f"{text!r}: write CHANNEL:ADDRESS, e.g. telegram:123456789, webhook:newsroom-chat, "
            "email:research-team or apprise:ops-ntfy"
        )
    if channel == "telegram":
        if not address.lstrip("-").isdigit():
            raise TargetError(f"{text!r}: a Telegram chat is a number (a group's starts with -), e.g. telegram:12345")
        return channel, address
    names = [n.name for n in config.notifiers if n.channel == channel]
    if address not in names:
        known = ", ".join(f"{channel}:{n}" for n in names) or f"none: add a [[{channel}]] entry to notifiers.toml"
        raise TargetError(f"{text!r}: notifiers.toml has no {channel} entry named {address!r} (known: {known})")
    return channel, address


def _notifier(channel: str, config: Config, labels: dict[str, str]):
    entries = [n for n in config.notifiers if n.channel == channel]
    if channel == "webhook":
        allowed = config.http.allows_private(os.environ)
        return WebhookNotifier(entries, labels, guard=Guard(allowed))  # type: ignore[arg-type]
    if channel == "email":
        return EmailNotifier(entries, labels)  # type: ignore[arg-type]
    # loaded late: apprise is an optional extra
    from watcher.notifiers.apprise import AppriseNotifier

    return AppriseNotifier(entries, labels)  # type: ignore[arg-type]


async def send_sample(channel: str, address: str, config: Config, settings: Settings) -> str:
    """Send the sample alert; return "" on success, else what went wrong."""
    labels = {t.id: t.label for t in config.topics}
    topic = config.topics[0].id if config.topics else "smuggling"
    alert = sample_alert(channel, address, topic)
    try:
        if channel == "telegram":
            await _send_telegram(alert, settings, labels)
        else:
            notifier = _notifier(channel, config, labels)
            try:
                await notifier.send(alert)
            finally:
                await close_notifiers({channel: notifier})
    except RetryLater as exc:
        return f"failed for now (it would be retried): {exc}"
    except NotifyError as exc:
        return f"refused: {exc}"
    return ""


async def _send_telegram(alert, settings: Settings, labels: dict[str, str]) -> None:
    if not settings.telegram_token:
        raise NotifyError("WATCHER_TELEGRAM_TOKEN is not set; set it to the bot's token from @BotFather")
    # loaded late: python-telegram-bot is needed only for this channel
    from telegram import Bot
    from telegram.error import TelegramError

    from watcher.notifiers.telegram import TelegramNotifier

    try:
        async with Bot(settings.telegram_token, base_url=settings.telegram_api_url) as bot:
            await TelegramNotifier(bot, labels).send(alert)
    except TelegramError as exc:  # the bot's start-up call: a wrong token, or the Bot API out of reach
        raise NotifyError(f"Telegram: {exc}") from exc
