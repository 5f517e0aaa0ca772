"""What every Telegram handler shares: its dependencies, replies kept under Telegram's limit, and who may change a
chat's subscription or use the operators' commands."""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from telegram import CallbackQuery, ChatMember, InlineKeyboardMarkup, LinkPreviewOptions, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from watcher import i18n
from watcher.health import HealthRules
from watcher.i18n import N_, _
from watcher.notifiers.fit import TELEGRAM_LIMIT, pack, shorten_html, utf16_len
from watcher.store.aio import AsyncStore, as_async
from watcher.store.sqlite import Store

log = logging.getLogger("watcher.bot")
CHANNEL = "telegram"
ADMIN_ONLY = N_("Only this chat's administrators can change its subscription.")
OPERATORS_ONLY = N_("This command is for the operators of this bot.")
NOT_SUBSCRIBED = N_("This chat is not subscribed; send /start first.")


@dataclass
class BotDeps:
    store: Store | AsyncStore
    topics: dict  # id -> Topic
    admin_chat_ids: frozenset[int] = frozenset()
    sources: tuple = field(default=())
    rules: HealthRules = field(default_factory=HealthRules)  # thresholds for what "failing" means

    def label(self, topic_id: str) -> str:
        """The topic's name in the language of the text being written."""
        topic = self.topics.get(topic_id)
        return topic.label_in(i18n.current()) if topic else topic_id

    def source_label(self, name: str) -> str:
        """A source's label from sources.toml, else its name."""
        for source in self.sources:
            if source.name == name:
                return str(getattr(source, "label", "") or name)
        return name

    @property
    def labels(self) -> Mapping[str, str]:
        """The topics' names as alerts give them, in the language of the text being written."""
        return i18n.Names({t: {i18n.DEFAULT: topic.label, **dict(topic.names)} for t, topic in self.topics.items()})

    @property
    def db(self) -> AsyncStore:
        """The store as the handlers await it: while the service runs, its calls run on the database thread."""
        return as_async(self.store)


def deps(context: ContextTypes.DEFAULT_TYPE) -> BotDeps:
    return context.application.bot_data["deps"]


def chat_address(update: Update) -> str:
    chat = update.effective_chat
    return str(chat.id) if chat is not None else "?"


def esc(text: object) -> str:
    return html.escape(str(text))


EXCERPT = 40  # characters of a user's input that a reply may quote back


def excerpt(text: object, limit: int = EXCERPT) -> str:
    """At most ``limit`` characters of what a user typed, on one line and escaped, for quoting it back."""
    flat = " ".join(str(text).split())
    return esc(flat if len(flat) <= limit else flat[: limit - 1] + "…")


async def reply(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    message = update.effective_message
    if message is None:  # an update without a message (a callback on a message too old to answer) gets no reply
        return
    await message.reply_text(
        text, parse_mode=ParseMode.HTML, reply_markup=markup, link_preview_options=LinkPreviewOptions(is_disabled=True)
    )


async def reply_lines(update: Update, head: str, lines: list[str]) -> None:
    """Reply with a heading and lines (already HTML), in as many messages as Telegram's limit needs; a message is
    only split between lines."""
    room = utf16_len(head) + 2
    lines = [shorten_html(line, TELEGRAM_LIMIT - room) for line in lines]
    for group in pack([utf16_len(line) for line in lines], TELEGRAM_LIMIT, sep=1, head=room) or [[]]:
        await reply(update, "\n".join([head, *(lines[i] for i in group)]) if group else head)


async def redraw(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> bool:
    """Put ``text`` (HTML) and ``markup`` in place of the message whose button was pressed; False when that message
    already reads so (Telegram refuses an edit that changes nothing, e.g. a button pressed twice)."""
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise
        return False
    return True


def is_operator(update: Update, d: BotDeps) -> bool:
    """Operators' commands answer only in the chats listed in WATCHER_ADMIN_CHAT_IDS."""
    return update.effective_chat is not None and update.effective_chat.id in d.admin_chat_ids


async def may_change(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Whether whoever sent this update may change the chat's subscription: anyone in a private chat; the channel
    itself for a channel post; in groups (and for buttons in channels) only administrators."""
    chat = update.effective_chat
    if chat is None:
        return False
    if chat.type == ChatType.PRIVATE or update.channel_post is not None:
        return True
    message = update.message
    if message is not None and message.sender_chat is not None and message.sender_chat.id == chat.id:
        return True  # an anonymous administrator posting as the group
    user = update.effective_user
    if user is None:
        return False
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except TelegramError as exc:
        log.warning("chat %s: could not check whether user %s is an administrator: %s", chat.id, user.id, exc)
        return False
    return member.status in (ChatMember.ADMINISTRATOR, ChatMember.OWNER)


def topic_args(args: list[str] | None, topics: dict) -> tuple[list[str], list[str]]:
    """Known topic ids among the arguments (commas or spaces between them), and the unknown ones."""
    words = [w.strip().lower() for a in (args or []) for w in a.split(",") if w.strip()]
    known = [w for w in dict.fromkeys(words) if w in topics]
    return known, [w for w in words if w not in topics]


def unknown_topics(unknown: list[str], topics: dict) -> str:
    """The answer to topic names that do not exist: a short excerpt of them and the list of real ones."""
    return _("Unknown topic {given}. The topics are: {topics}.").format(
        given=excerpt(", ".join(unknown)), topics=topic_list(topics)
    )


def topic_list(topics: dict) -> str:
    return ", ".join(f"<code>{esc(t)}</code>" for t in topics)


RECENT = 10  # items /recent lists


async def send_recent(update: Update, d: BotDeps, wanted: list[str]) -> None:
    """The last flagged items, of every topic or of the ``wanted`` ones (/recent, and the 🔎 button of an alert)."""
    rows = await d.db.recent_matches(wanted or None, limit=RECENT)
    if not rows:
        await reply(
            update,
            _("Nothing has been flagged yet about {topic}.").format(topic=esc(d.label(wanted[0])))
            if wanted
            else _("Nothing has been flagged yet."),
        )
        return
    lines = []
    for r in rows:
        title = esc(r["title"])
        link = f'<a href="{esc(r["url"])}">{title}</a>' if r["url"].startswith(("https://", "http://")) else title
        labels = ", ".join(esc(d.label(t)) for t in r["topics"])
        lines.append(f"• {link} ({esc(d.source_label(r['source']))}; {labels})")
    head = (
        _("Last flagged items about {topics}:").format(topics=esc(", ".join(d.label(t) for t in wanted)))
        if wanted
        else _("Last flagged items:")
    )
    await reply_lines(update, head, lines)
