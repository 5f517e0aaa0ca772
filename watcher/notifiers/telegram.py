"""Telegram notifier: sends alerts with python-telegram-bot and translates its errors into decisions."""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Mapping
from datetime import timedelta
from urllib.parse import urlsplit

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError

from watcher.errors import BadMarkup, NotifyError, RecipientGone, RecipientMoved, RetryLater
from watcher.i18n import _, speaking
from watcher.models import Alert
from watcher.notifiers.fit import cut_plain, shorten_html
from watcher.notifiers.format import alert_html, alert_text, safe_url

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


# The buttons under an alert. Their callback data is ``alert:<action>:<topic id>``; Telegram caps it at 64 bytes,
# and the bot reads it back with ``parse_alert_button`` (watcher/bot/alert_buttons.py).
ALERT_BUTTON_PREFIX = "alert:"
MUTE, MORE = "mute", "more"
MAX_CALLBACK_DATA = 64
MAX_URL_BUTTON = 2048  # longer links get no 📄 button (the title still links to the document)
MAX_MUTE_BUTTONS = 3  # one 🔕 per topic of the alert (a row each), up to this many
MAX_BUTTON_LABEL = 40  # characters of a topic's label on its 🔕 button
_ALERT_BUTTON = re.compile(r"alert:(mute|more):([a-z0-9_-]{1,56})")


def button_url(url: str) -> str | None:
    """The link for a 📄 button: an http or https URL with a host and nothing Telegram would refuse in it (spaces,
    control characters, quotes); else None. Telegram refuses a whole message over one bad button URL."""
    if not safe_url(url) or len(url) > MAX_URL_BUTTON or any(c.isspace() or ord(c) < 32 or c in '"<>' for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.hostname else None


def alert_button_data(action: str, topic: str) -> str | None:
    """The callback data of one alert button, or None when it would not fit Telegram's 64 bytes."""
    data = f"{ALERT_BUTTON_PREFIX}{action}:{topic}"
    return data if len(data.encode()) <= MAX_CALLBACK_DATA and _ALERT_BUTTON.fullmatch(data) else None


def parse_alert_button(data: str, topics: Collection[str] | None) -> tuple[str, str] | None:
    """(action, topic) of an alert button's callback data; None for anything else: too long, an unknown action, a
    topic that is not (or no longer) among ``topics`` (None: any well-formed topic id). Nothing longer than
    Telegram's cap is even looked at."""
    if len(data) > MAX_CALLBACK_DATA or len(data.encode()) > MAX_CALLBACK_DATA:
        return None
    found = _ALERT_BUTTON.fullmatch(data)
    if found is None or (topics is not None and found.group(2) not in topics):
        return None
    return found.group(1), found.group(2)


def alert_markup(alert: Alert, labels: Mapping[str, str]) -> InlineKeyboardMarkup | None:
    """📄 the document (an http/https link only), 🔎 more like this (the recent items of the alert's first topic)
    and 🔕 mute for each configured topic of the alert, in the chat's language. None when no button applies."""
    with speaking(alert.language):
        return _alert_markup(alert, labels)


def _alert_markup(alert: Alert, labels: Mapping[str, str]) -> InlineKeyboardMarkup | None:
    topics = [t for t in alert.topics if t in labels]
    first: list[InlineKeyboardButton] = []
    url = button_url(alert.url)
    if url:
        first.append(InlineKeyboardButton("📄 " + _("Document"), url=url))
    more = alert_button_data(MORE, topics[0]) if topics else None
    if more:
        first.append(InlineKeyboardButton("🔎 " + _("More like this"), callback_data=more))
    mutes = []
    for topic in topics[:MAX_MUTE_BUTTONS]:
        data = alert_button_data(MUTE, topic)
        if data:
            text = (
                _("Mute {topic}").format(topic=_short(labels[topic], MAX_BUTTON_LABEL))
                if len(topics) > 1
                else _("Mute this topic")
            )
            mutes.append([InlineKeyboardButton(f"🔕 {text}", callback_data=data)])
    rows = [first, *mutes] if first else mutes
    return InlineKeyboardMarkup(rows) if rows else None


def _short(text: str, limit: int) -> str:
    """``text`` cut between words to at most ``limit`` characters, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    piece = text[: limit - 1]
    space = piece.rfind(" ")
    return (piece[:space] if space > limit // 2 else piece).rstrip(" ,;:-") + "…"


class TelegramNotifier:
    channel = "telegram"
    chat_paced = True  # Telegram's per-chat and per-group limits apply

    def __init__(self, bot, labels: Mapping[str, str], source_labels: Mapping[str, str] | None = None):
        self.bot = bot
        self.labels = labels
        self.source_labels: Mapping[str, str] = source_labels or {}  # source name -> its label in sources.toml

    def is_group(self, address: str) -> bool:
        return is_group(address)

    async def send(self, alert: Alert, *, plain: bool = False) -> None:
        await self.send_text(
            alert.address,
            alert_html(alert, self.labels, self.source_labels),
            alert_text(alert, self.labels, self.source_labels),
            plain=plain,
            quiet=alert.quiet,
            markup=alert_markup(alert, self.labels),
        )

    async def send_text(
        self,
        address: str,
        html_text: str,
        plain_text: str,
        *,
        plain: bool = False,
        quiet: bool = False,
        markup: InlineKeyboardMarkup | None = None,
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
                reply_markup=markup,
            )
        )
