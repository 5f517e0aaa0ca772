"""Telegram command handlers. Flat ``async def`` functions, registered in ``register``."""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import Application, CommandHandler, ContextTypes

log = logging.getLogger(__name__)
CHANNEL = "telegram"

ABOUT = ("I watch the Council of the EU and sources around it (the public register, the document server, press "
         "releases, Justice and Home Affairs meetings, Statewatch, EUR-Lex, the European Parliament) and tell you "
         "within minutes when something is published about migrant smuggling, EU borders, migration or police "
         "cooperation. Every alert says what the document is, where it is, and which words matched.")

HELP = (
    "/start – subscribe this chat to every topic\n"
    "/stop – stop all alerts to this chat\n"
    "/topics – the topics, and which ones this chat gets\n"
    "/subscribe &lt;topic&gt; – add a topic\n"
    "/unsubscribe &lt;topic&gt; – remove a topic\n"
    "/recent – the last flagged items\n"
    "/help – this list"
)

COMMANDS = [
    BotCommand("start", "Subscribe to every topic"),
    BotCommand("topics", "Topics and your subscriptions"),
    BotCommand("subscribe", "Add a topic"),
    BotCommand("unsubscribe", "Remove a topic"),
    BotCommand("recent", "The last flagged items"),
    BotCommand("stop", "Stop all alerts"),
    BotCommand("help", "What this bot does"),
]


@dataclass
class BotDeps:
    store: object
    topics: dict  # id -> Topic
    admin_chat_ids: frozenset[int] = frozenset()

    def label(self, topic_id: str) -> str:
        topic = self.topics.get(topic_id)
        return topic.label if topic else topic_id


def deps(context: ContextTypes.DEFAULT_TYPE) -> BotDeps:
    return context.application.bot_data["deps"]


def chat_address(update: Update) -> str:
    return str(update.effective_chat.id)


async def reply(update: Update, text: str) -> None:
    await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML,
                                              link_preview_options=LinkPreviewOptions(is_disabled=True))


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Subscribe the chat to every topic and say what the bot does."""
    d = deps(context)
    d.store.subscribe(CHANNEL, chat_address(update), list(d.topics))
    log.info("chat %s: subscribed to all topics", chat_address(update))
    names = ", ".join(html.escape(t.label) for t in d.topics.values())
    await reply(update, f"{html.escape(ABOUT)}\n\nYou are now subscribed to: {names}.\n\n{HELP}")


async def stop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop every alert to this chat."""
    deps(context).store.deactivate(CHANNEL, chat_address(update))
    log.info("chat %s: stopped", chat_address(update))
    await reply(update, "Alerts stopped. Send /start to subscribe again.")


async def help_(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the commands."""
    await reply(update, f"{html.escape(ABOUT)}\n\n{HELP}")


async def topics(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show every topic and whether this chat gets it."""
    d = deps(context)
    active, mine = d.store.subscription(CHANNEL, chat_address(update))
    lines = [f"{'✅' if active and t in mine else '▫️'} <code>{html.escape(t)}</code> – {html.escape(d.label(t))}"
             for t in d.topics]
    note = "" if active else "\n\nThis chat gets no alerts now; send /start."
    await reply(update, "Topics (✅ = you get it):\n" + "\n".join(lines) +
                "\n\nChange with /subscribe &lt;topic&gt; or /unsubscribe &lt;topic&gt;." + note)


def _topic_arg(update: Update, context: ContextTypes.DEFAULT_TYPE, verb: str) -> tuple[list[str], str | None]:
    """The topic ids named in the command, or a helpful error."""
    d = deps(context)
    args = [a.strip().lower() for a in (context.args or []) if a.strip()]
    known = ", ".join(f"<code>{html.escape(t)}</code>" for t in d.topics)
    if not args:
        return [], f"Which topic? Write /{verb} &lt;topic&gt;, with one of: {known}."
    unknown = [a for a in args if a not in d.topics]
    if unknown:
        return [], f"Unknown topic {html.escape(', '.join(unknown))}. The topics are: {known}."
    return args, None


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Add one or more topics to this chat."""
    wanted, error = _topic_arg(update, context, "subscribe")
    if error:
        await reply(update, error)
        return
    d = deps(context)
    d.store.subscribe(CHANNEL, chat_address(update), wanted)
    await reply(update, "Subscribed to " + ", ".join(html.escape(d.label(t)) for t in wanted) + ".")


async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Remove one or more topics from this chat."""
    wanted, error = _topic_arg(update, context, "unsubscribe")
    if error:
        await reply(update, error)
        return
    d = deps(context)
    d.store.unsubscribe(CHANNEL, chat_address(update), wanted)
    await reply(update, "Unsubscribed from " + ", ".join(html.escape(d.label(t)) for t in wanted) + ".")


async def recent(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the last flagged items."""
    d = deps(context)
    rows = d.store.recent_matches(limit=10)
    if not rows:
        await reply(update, "Nothing has been flagged yet.")
        return
    lines = []
    for r in rows:
        title = html.escape(r["title"])
        link = f'<a href="{html.escape(r["url"], quote=True)}">{title}</a>' if r["url"].startswith("http") else title
        labels = ", ".join(html.escape(d.label(t)) for t in r["topics"])
        lines.append(f"• {link} ({html.escape(r['source'])}; {labels})")
    await reply(update, "Last flagged items:\n" + "\n".join(lines))


HANDLERS = {
    "start": start,
    "stop": stop,
    "help": help_,
    "topics": topics,
    "subscribe": subscribe,
    "unsubscribe": unsubscribe,
    "recent": recent,
}


def register(app: Application, bot_deps: BotDeps) -> None:
    """Wire every handler into the application."""
    app.bot_data["deps"] = bot_deps
    for name, handler in HANDLERS.items():
        app.add_handler(CommandHandler(name, handler))
    app.add_error_handler(on_error)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = getattr(getattr(update, "effective_chat", None), "id", "?")
    log.error("chat %s: handler failed: %r", chat, context.error, exc_info=context.error)
