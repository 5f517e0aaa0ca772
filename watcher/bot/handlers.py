"""Telegram command handlers. Flat ``async def`` functions, registered in ``register``; the command menu, the /help
text and the handlers all come from the same tables, so they cannot drift apart.

Topic buttons, delivery mode and the operators' commands live in :mod:`watcher.bot.preferences` and
:mod:`watcher.bot.operators`; shared helpers in :mod:`watcher.bot.replies`.
"""

from __future__ import annotations

import logging

from telegram import BotCommand, BotCommandScopeChat, ChatMember, Update
from telegram.error import TelegramError
from telegram.ext import (Application, CallbackQueryHandler, ChatMemberHandler, CommandHandler, ContextTypes,
                          MessageHandler, filters)

from watcher import health
from watcher.bot import operators, preferences
from watcher.store import subscribers
from watcher.bot.replies import (
    ADMIN_ONLY,
    CHANNEL,
    BotDeps,
    chat_address,
    deps,
    esc,
    may_change,
    reply,
    reply_lines,
    topic_args,
    topic_list,
)

__all__ = ["BotDeps", "COMMANDS", "HANDLERS", "register", "set_commands"]

log = logging.getLogger(__name__)

ABOUT = ("I watch the Council of the EU and sources around it (the public register, the document server, press "
         "releases, Justice and Home Affairs meetings, Statewatch, EUR-Lex, the European Parliament) and tell you "
         "within minutes when something is published about migrant smuggling, EU borders, migration or police "
         "cooperation. Every alert says what the document is, where it is, and which words matched.")

# (command, arguments, what it does): the menu, /help and the README follow this table.
PUBLIC = [
    ("start", "", "Subscribe this chat to every topic"),
    ("topics", "", "Choose topics with buttons"),
    ("subscribe", "<topic>", "Add a topic"),
    ("unsubscribe", "<topic>", "Remove a topic"),
    ("recent", "[topic]", "The last flagged items"),
    ("digest", "<hour> <time zone>", "One message a day at that hour"),
    ("instant", "", "Each alert as soon as it is found"),
    ("status", "", "The sources and how they are doing"),
    ("stop", "", "Stop all alerts to this chat"),
    ("help", "", "What this bot does"),
]
ADMIN = [
    ("stats", "", "Subscribers, alerts sent, queue and failures"),
    ("sources", "", "Every source and its state"),
    ("pause", "<source>", "Stop polling a source"),
    ("resume", "<source>", "Poll a paused source again"),
    ("test", "", "Send a sample alert to this chat"),
]
COMMANDS = [BotCommand(name, text) for name, _args, text in PUBLIC]
ADMIN_COMMANDS = COMMANDS + [BotCommand(name, text) for name, _args, text in ADMIN]


def help_text(table: list[tuple[str, str, str]]) -> str:
    return "\n".join(f"/{name}{' ' + esc(args) if args else ''} – {esc(text.lower()[:1] + text[1:])}"
                     for name, args, text in table)


HELP = help_text(PUBLIC)


MAX_PAYLOAD = 64  # Telegram's own limit for a deep-link parameter; anything longer did not come from a link


def parse_start_payload(payload: str, topic_ids) -> tuple[list[str], list[str]]:
    """Topic ids in a /start deep-link parameter: ids joined by ``-`` (``smuggling-borders``); where an id has a
    ``-`` of its own, the longest known id wins; ``all`` means every topic. Returns (topics, unknown parts).

    Linear in the payload: a candidate span is never longer than the longest known id, and payloads over Telegram's
    64 characters are refused by the caller before they get here."""
    parts = [p for p in payload.strip().lower().split("-") if p]
    ids = list(topic_ids)
    known = set(ids) | {"all"}
    widest = max((k.count("-") + 1 for k in known), default=1)
    found: list[str] = []
    unknown: list[str] = []
    i = 0
    while i < len(parts):
        for j in range(min(len(parts), i + widest), i, -1):
            candidate = "-".join(parts[i:j])
            if candidate in known:
                found.append(candidate)
                i = j
                break
        else:
            unknown.append(parts[i])
            i += 1
    if "all" in found:
        return ids, unknown
    return list(dict.fromkeys(found)), unknown


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Subscribe the chat (to every topic, or to those named in a deep link) and say what the bot does."""
    payload = " ".join(context.args or [])
    if len(payload) > MAX_PAYLOAD:
        log.warning("chat %s: /start with a %d-character payload refused (over %d)", chat_address(update),
                    len(payload), MAX_PAYLOAD)
        await reply(update, f"That start link is too long (over {MAX_PAYLOAD} characters). Send /start on its own, "
                            "then choose topics with /topics.")
        return
    d = deps(context)
    if not await may_change(update, context):
        await reply(update, f"{esc(ABOUT)}\n\n{ADMIN_ONLY}\n\n{HELP}")
        return
    wanted, unknown = parse_start_payload(payload, d.topics) if payload else ([], [])
    note = f"\n\nThe link named unknown topics ({esc(', '.join(unknown))}); I left them out." if unknown else ""
    await d.db.subscribe(CHANNEL, chat_address(update), wanted or list(d.topics))
    _, mine = await d.db.subscription(CHANNEL, chat_address(update))
    log.info("chat %s: subscribed to %s", chat_address(update), ", ".join(mine))
    names = ", ".join(esc(d.label(t)) for t in mine)
    await reply(update, f"{esc(ABOUT)}\n\nThis chat is now subscribed to: {names}.{note}\n"
                        f"Choose topics with /topics.\n\n{HELP}")


async def stop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop every alert to this chat."""
    if not await may_change(update, context):
        await reply(update, ADMIN_ONLY)
        return
    await deps(context).db.deactivate(CHANNEL, chat_address(update))
    log.info("chat %s: stopped", chat_address(update))
    await reply(update, "Alerts stopped. Send /start to subscribe again.")


async def help_(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the commands."""
    await reply(update, f"{esc(ABOUT)}\n\n{HELP}")


async def _change_topics(update: Update, context: ContextTypes.DEFAULT_TYPE, verb: str) -> None:
    d = deps(context)
    if not await may_change(update, context):
        await reply(update, ADMIN_ONLY)
        return
    wanted, unknown = topic_args(context.args, d.topics)
    if unknown:
        await reply(update, f"Unknown topic {esc(', '.join(unknown))}. The topics are: {topic_list(d.topics)}.")
        return
    if not wanted:
        await reply(update, f"Which topic? Write /{verb} &lt;topic&gt;, with one of: {topic_list(d.topics)}. "
                            "Or tap them in /topics.")
        return
    if verb == "subscribe":
        await d.db.subscribe(CHANNEL, chat_address(update), wanted)
    else:
        await d.db.unsubscribe(CHANNEL, chat_address(update), wanted)
    log.info("chat %s: %s %s", chat_address(update), verb, ", ".join(wanted))
    done = "Subscribed to" if verb == "subscribe" else "Unsubscribed from"
    await reply(update, f"{done} " + ", ".join(esc(d.label(t)) for t in wanted) + ".")


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Add one or more topics to this chat."""
    await _change_topics(update, context, "subscribe")


async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Remove one or more topics from this chat."""
    await _change_topics(update, context, "unsubscribe")


async def recent(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the last flagged items, of every topic or of the one named."""
    d = deps(context)
    wanted, unknown = topic_args(context.args, d.topics)
    if unknown:
        await reply(update, f"Unknown topic {esc(', '.join(unknown))}. The topics are: {topic_list(d.topics)}.")
        return
    rows = await d.db.recent_matches(wanted or None, limit=10)
    if not rows:
        await reply(update, "Nothing has been flagged yet" + (f" about {esc(d.label(wanted[0]))}." if wanted else "."))
        return
    lines = []
    for r in rows:
        title = esc(r["title"])
        link = f'<a href="{esc(r["url"])}">{title}</a>' if r["url"].startswith(("https://", "http://")) else title
        labels = ", ".join(esc(d.label(t)) for t in r["topics"])
        lines.append(f"• {link} ({esc(r['source'])}; {labels})")
    head = "Last flagged items" + (f" about {esc(', '.join(d.label(t) for t in wanted))}" if wanted else "") + ":"
    await reply_lines(update, head, lines)


async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The sources, their last successful poll, and any that are failing."""
    d = deps(context)
    now = d.store.clock()
    summary, *lines = health.render_lines(await d.db.run(health.source_health, d.sources, d.rules, now), now)
    await reply_lines(update, f"<b>{esc(summary)}</b>", [esc(line) for line in lines])


async def on_my_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The bot was blocked, kicked or removed: the chat gets no more alerts."""
    change = update.my_chat_member
    if change.new_chat_member.status in (ChatMember.BANNED, ChatMember.LEFT):
        await deps(context).db.deactivate(CHANNEL, str(change.chat.id))
        log.info("chat %s: the bot was removed or blocked (%s); subscriber deactivated", change.chat.id,
                 change.new_chat_member.status)


async def on_migrate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group became a supergroup: its subscription follows it to the new chat id."""
    message = update.effective_message
    old, new = (message.chat.id, message.migrate_to_chat_id) if message.migrate_to_chat_id else \
        (message.migrate_from_chat_id, message.chat.id)
    await deps(context).db.run(subscribers.migrate_address, CHANNEL, str(old), str(new))
    log.info("chat %s: migrated to %s; subscription moved", old, new)


HANDLERS = {
    "start": start,
    "stop": stop,
    "help": help_,
    "topics": preferences.topics,
    "subscribe": subscribe,
    "unsubscribe": unsubscribe,
    "recent": recent,
    "digest": preferences.digest,
    "instant": preferences.instant,
    "status": status,
    **operators.HANDLERS,
}


def register(app: Application, bot_deps: BotDeps) -> None:
    """Wire every handler into the application. Commands are read from messages and from channel posts."""
    app.bot_data["deps"] = bot_deps
    where = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST
    for name, handler in HANDLERS.items():
        app.add_handler(CommandHandler(name, handler, filters=where))
    app.add_handler(CallbackQueryHandler(preferences.on_button, pattern=preferences.BUTTON_PATTERN))
    app.add_handler(ChatMemberHandler(on_my_member, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate))
    app.add_error_handler(on_error)


async def set_commands(bot, admin_chat_ids) -> None:
    """The command menu: everyone sees the public commands; operators' chats also see theirs."""
    await bot.set_my_commands(COMMANDS)
    for chat_id in sorted(admin_chat_ids):
        try:
            await bot.set_my_commands(ADMIN_COMMANDS, scope=BotCommandScopeChat(chat_id))
        except TelegramError as exc:
            log.warning("chat %s: could not set the operators' command menu: %s", chat_id, exc)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = getattr(getattr(update, "effective_chat", None), "id", "?")
    log.error("chat %s: handler failed: %r", chat, context.error, exc_info=context.error)
