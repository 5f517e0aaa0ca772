"""Telegram notifier: sends alerts with python-telegram-bot and translates its errors into decisions."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError

from watcher.errors import BadMarkup, NotifyError, RecipientGone, RecipientMoved, RetryLater
from watcher.models import Alert
from watcher.notifiers.fit import cut_plain, shorten_html
from watcher.notifiers.format import alert_html, alert_text

# python-telegram-bot 22 warns of a deprecation each time a RetryAfter is built or read, unless time periods are
# taken as timedelta (its next major version's behaviour). Opt in; ``seconds`` reads either form.
os.environ.setdefault("PTB_TIMEDELTA", "true")

GONE_PHRASES = (
    "chat not found",
    "user is deactivated",
    "bot was kicked",
    "not enough rights to send",
    "have no rights to send",
    "need administrator rights",
)


def seconds(value: int | float | timedelta) -> float:
    """A time period from python-telegram-bot, a number of seconds or a timedelta, in seconds."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def is_group(address: str) -> bool:
    """Groups, supergroups and channels have negative ids; private chats positive ones."""
    return address.startswith("-")


async def call_telegram(coro):
    """Await a Bot API call and translate python-telegram-bot's errors into NotifyError subclasses."""
    try:
        return await coro
    except RetryAfter as exc:
        wait = seconds(exc.retry_after)
        raise RetryLater(f"flood control: retry after {wait:g}s", delay=wait, flood=True) from exc
    except ChatMigrated as exc:
        raise RecipientMoved("chat migrated to a supergroup", str(exc.new_chat_id)) from exc
    except Forbidden as exc:
        raise RecipientGone(exc.message) from exc
    except BadRequest as exc:
        text = exc.message.lower()
        if "can't parse entities" in text or "can't find end" in text or "unsupported start tag" in text:
            raise BadMarkup(exc.message) from exc
        if any(p in text for p in GONE_PHRASES):
            raise RecipientGone(exc.message) from exc
        raise NotifyError(f"refused: {exc.message}") from exc
    except NetworkError as exc:  # includes TimedOut and 5xx answers
        raise RetryLater(f"network: {exc.message}", delay=5.0) from exc
    except TelegramError as exc:
        raise NotifyError(str(exc)) from exc


class TelegramNotifier:
    channel = "telegram"
    chat_paced = True  # Telegram's per-chat and per-group limits apply

    def __init__(self, bot, labels: Mapping[str, str]):
        self.bot = bot
        self.labels = labels

    def is_group(self, address: str) -> bool:
        return is_group(address)

    async def send(self, alert: Alert, *, plain: bool = False) -> None:
        await self.send_text(
            alert.address,
            alert_html(alert, self.labels),
            alert_text(alert, self.labels),
            plain=plain,
            quiet=alert.quiet,
        )

    async def send_text(
        self, address: str, html_text: str, plain_text: str, *, plain: bool = False, quiet: bool = False
    ) -> None:
        """Send one message: the HTML version, or the plain one; either is kept under Telegram's limit."""
        if plain:
            text, mode = cut_plain(plain_text), None
        else:
            text, mode = shorten_html(html_text), ParseMode.HTML
        await call_telegram(
            self.bot.send_message(
                chat_id=int(address),
                text=text,
                parse_mode=mode,
                disable_notification=quiet,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
