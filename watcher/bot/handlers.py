"""Telegram command handlers. Flat ``async def`` functions, registered in ``register``; the command menu, the /help
text and the handlers all come from the same tables, so they cannot drift apart.

Topic buttons, delivery mode and the operators' commands live in :mod:`watcher.bot.preferences` and
:mod:`watcher.bot.operators`; shared helpers in :mod:`watcher.bot.replies`.
"""

from __future__ import annotations

import logging

from telegram import BotCommand, BotCommandScopeChat, ChatMember, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from watcher import health
from watcher.bot import alert_buttons, follow, operators, preferences, quiet, watch
from watcher.bot.replies import (
    ADMIN_ONLY,
    CHANNEL,
    BotDeps,
    chat_address,
    deps,
    esc,
    excerpt,
    is_operator,
    may_change,
    reply,
    reply_lines,
    send_recent,
    topic_args,
    topic_list,
    unknown_topics,
)
from watcher.store import subscribers

__all__ = ["BotDeps", "COMMANDS", "HANDLERS", "register", "set_commands"]

log = logging.getLogger(__name__)

ABOUT_SOURCES = 8  # sources named in the about text; the rest are counted


def about(d: BotDeps) -> str:
    """What the bot does (HTML), built from the configured sources and topics."""
    names = [str(getattr(s, "label", "") or s.name) for s in d.sources]
    shown = ", ".join(esc(n) for n in names[:ABOUT_SOURCES])
    more = f" and {len(names) - ABOUT_SOURCES} more" if len(names) > ABOUT_SOURCES else ""
    watched = (
        f"I watch {len(names)} source{'s' if len(names) != 1 else ''} ({shown}{more})"
        if names
        else "I watch the sources this bot is configured with"
    )
    labels = ", ".join(esc(d.label(t)) for t in d.topics) or "the configured topics"
    return (
        f"{watched} and tell you when something is published about: {labels}. Every alert says what the "
        "document is, where it is, and which words matched."
    )


# (command, arguments, what it does): the menu, /help and the README follow this table.
PUBLIC = [
    ("start", "", "Subscribe this chat to every topic"),
    ("topics", "", "Choose topics with buttons"),
    ("subscribe", "<topic>", "Add a topic"),
    ("unsubscribe", "<topic>", "Remove a topic"),
    ("recent", "[topic]", "The last flagged items"),
    ("digest", "[hour] [time zone]", "One message a day at that hour (buttons without an hour)"),
    ("instant", "", "Each alert as soon as it is found"),
    ("status", "", "The sources and how they are doing"),
    ("me", "", "This chat's topics, own terms, delivery, mute and quiet"),
    ("mute", "<1d|1w>", "No alerts for a while, then one digest"),
    ("unmute", "", "End a mute now"),
    ("quiet", "<on|off>", "Alerts without a sound, or with one"),
    ("follow", "<reference or procedure>", "Follow a document or a procedure, whatever your topics"),
    ("following", "", "What this chat follows, with buttons to stop"),
    ("unfollow", "<reference or procedure>", "Stop following one"),
    ("watch", "<term>", "Alert on a word or phrase of your own, e.g. pushbacks"),
    ("watching", "", "Your own terms, with buttons to remove them"),
    ("unwatch", "<term>", "Remove one of your own terms"),
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
    return "\n".join(
        f"/{name}{' ' + esc(args) if args else ''} – {esc(text.lower()[:1] + text[1:])}" for name, args, text in table
    )


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
    """Subscribe the chat (to every topic, to those named in a deep link, or back to its own after /stop)."""
    payload = " ".join(context.args or [])
    if len(payload) > MAX_PAYLOAD:
        log.warning(
            "chat %s: /start with a %d-character payload refused (over %d)",
            chat_address(update),
            len(payload),
            MAX_PAYLOAD,
        )
        await reply(
            update,
            f"That start link is too long (over {MAX_PAYLOAD} characters). Send /start on its own, "
            "then choose topics with /topics.",
        )
        return
    d = deps(context)
    address = chat_address(update)
    if not await may_change(update, context):
        await reply(update, f"{about(d)}\n{ADMIN_ONLY} /help lists the commands.")
        return
    wanted, unknown = parse_start_payload(payload, d.topics) if payload else ([], [])
    if payload and not wanted:
        _, markup = await preferences.topics_view(d, address)
        await reply(
            update,
            f"The link named no topic I know ({excerpt(', '.join(unknown))}), so nothing changed. "
            f"The topics are: {topic_list(d.topics)}; tap the ones you want.",
            markup,
        )
        return
    active, before = await d.db.subscription(CHANNEL, address)
    back = not payload and not active and bool(before)  # stopped before: its own topics and delivery come back
    if payload and not active and before:  # a link to a stopped chat turns on what it names, not the old ones
        await d.db.unsubscribe(CHANNEL, address, before)
    await d.db.subscribe(CHANNEL, address, [] if back else wanted or list(d.topics))
    _, mine = await d.db.subscription(CHANNEL, address)
    log.info("chat %s: subscribed to %s%s", address, ", ".join(mine), " (restored)" if back else "")
    names = ", ".join(esc(d.label(t)) for t in mine)
    head = f"Welcome back: your topics are on again: {names}." if back else f"This chat is now subscribed to: {names}."
    note = f" Left out, unknown: {excerpt(', '.join(unknown))}." if unknown else ""
    text, markup = await preferences.topics_view(d, address)
    await reply(
        update,
        f"{head}{note} {await preferences.mode_line(d, address)}\nTap a topic to switch it; /help for the rest.",
        markup,
    )


async def stop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop every alert to this chat; its topics and delivery are kept for a later /start."""
    if not await may_change(update, context):
        await reply(update, ADMIN_ONLY)
        return
    await deps(context).db.deactivate(CHANNEL, chat_address(update))
    log.info("chat %s: stopped", chat_address(update))
    await reply(update, "Alerts stopped. Send /start to get them again with the same topics and delivery.")


def deep_link(context: ContextTypes.DEFAULT_TYPE, d: BotDeps) -> str:
    """The deep-link form that subscribes to chosen topics, with the bot's own username when it is known."""
    name = getattr(context.bot, "username", None) or "&lt;bot&gt;"
    example = "-".join(list(d.topics)[:2]) or "all"
    return f"https://t.me/{esc(name)}?start={esc(example)}"


async def help_(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """What the bot does, the commands, the topic ids and the deep-link form; operators also get theirs."""
    d = deps(context)
    text = (
        f"{about(d)}\n\n{HELP}\n\nTopics: {topic_list(d.topics)}. A link that subscribes to some of them "
        f"(ids joined by -, or all): {deep_link(context, d)}"
    )
    if is_operator(update, d):
        text += f"\n\n<b>Operators</b>\n{help_text(ADMIN)}"
    await reply(update, text)


def _changed(d: BotDeps, verb: str, wanted: list[str], before: list[str], restarted: bool) -> str:
    """The reply to /subscribe or /unsubscribe: what changed, what was already so."""
    on = verb == "subscribe"
    changed = [t for t in wanted if (t not in before) == on or restarted]
    same = [t for t in wanted if t not in changed]
    labels = lambda ts: ", ".join(esc(d.label(t)) for t in ts)  # noqa: E731
    parts = [f"{'Subscribed to' if on else 'Unsubscribed from'} {labels(changed)}."] if changed else []
    if same:
        parts.append(f"{labels(same)} {'was' if len(same) == 1 else 'were'} already {'on' if on else 'off'}.")
    if restarted:
        parts.append("Alerts start again, for these topics only.")
    return " ".join(parts)


async def _change_topics(update: Update, context: ContextTypes.DEFAULT_TYPE, verb: str) -> None:
    d = deps(context)
    if not await may_change(update, context):
        await reply(update, ADMIN_ONLY)
        return
    wanted, unknown = topic_args(context.args, d.topics)
    if unknown:
        await reply(update, unknown_topics(unknown, d.topics))
        return
    if not wanted:
        await reply(
            update,
            f"Which topic? Write /{verb} &lt;topic&gt;, with one of: {topic_list(d.topics)}. Or tap them in /topics.",
        )
        return
    address = chat_address(update)
    active, before = await d.db.subscription(CHANNEL, address)
    restarted = verb == "subscribe" and not active
    if restarted and before:  # a stopped chat starts again with the topics named, not its old ones
        await d.db.unsubscribe(CHANNEL, address, before)
    if verb == "subscribe":
        await d.db.subscribe(CHANNEL, address, wanted)
    else:
        await d.db.unsubscribe(CHANNEL, address, wanted)
    log.info("chat %s: %s %s", address, verb, ", ".join(wanted))
    active, mine = await d.db.subscription(CHANNEL, address)
    now = (
        f"This chat gets alerts about: {', '.join(esc(d.label(t)) for t in mine)}."
        if active and mine
        else "No topic is on, so this chat gets no alerts."
        if active
        else "This chat gets no alerts now."
    )
    await reply(update, f"{_changed(d, verb, wanted, before if active or not restarted else [], restarted)} {now}")


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
        await reply(update, unknown_topics(unknown, d.topics))
        return
    await send_recent(update, d, wanted)


async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The sources, their last successful poll, and any that are failing."""
    d = deps(context)
    now = d.store.clock()
    rows = await d.db.run(health.source_health, d.sources, d.rules, now)
    summary, *lines = health.render_lines(rows, now, by_label=True)
    await reply_lines(update, f"<b>{esc(summary)}</b>", [esc(line) for line in lines])


async def on_my_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The bot was blocked, kicked or removed: the chat gets no more alerts."""
    change = update.my_chat_member
    if change is None:
        return
    if change.new_chat_member.status in (ChatMember.BANNED, ChatMember.LEFT):
        d = deps(context)
        if not (await d.db.subscription(CHANNEL, str(change.chat.id)))[0]:
            log.info(
                "chat %s: the bot was removed or blocked (%s); it had no subscription",
                change.chat.id,
                change.new_chat_member.status,
            )
            return
        await d.db.deactivate(CHANNEL, str(change.chat.id))
        log.info(
            "chat %s: the bot was removed or blocked (%s); subscriber deactivated",
            change.chat.id,
            change.new_chat_member.status,
        )


async def not_understood(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text or a command in a private chat that no handler before this one took (groups hear nothing)."""
    await reply(update, "I did not understand; try /help.")


async def on_migrate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group became a supergroup: its subscription follows it to the new chat id."""
    message = update.effective_message
    if message is None:
        return
    old, new = (
        (message.chat.id, message.migrate_to_chat_id)
        if message.migrate_to_chat_id
        else (message.migrate_from_chat_id, message.chat.id)
    )
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
    "me": quiet.me,
    "mute": quiet.mute,
    "unmute": quiet.unmute,
    "quiet": quiet.quiet,
    **follow.HANDLERS,
    **watch.HANDLERS,
    **operators.HANDLERS,
}


def register(app: Application, bot_deps: BotDeps) -> None:
    """Wire every handler into the application. Commands are read from messages and from channel posts."""
    app.bot_data["deps"] = bot_deps
    where = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST
    for name, handler in HANDLERS.items():
        app.add_handler(CommandHandler(name, handler, filters=where))
    app.add_handler(CallbackQueryHandler(preferences.on_button, pattern=preferences.BUTTON_PATTERN))
    app.add_handler(CallbackQueryHandler(preferences.on_hour_button, pattern=preferences.DIGEST_PATTERN))
    app.add_handler(CallbackQueryHandler(follow.on_button, pattern=follow.BUTTON_PATTERN))
    app.add_handler(CallbackQueryHandler(watch.on_button, pattern=watch.BUTTON_PATTERN))
    app.add_handler(CallbackQueryHandler(alert_buttons.on_button, pattern=alert_buttons.BUTTON_PATTERN))
    app.add_handler(ChatMemberHandler(on_my_member, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate))
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & (filters.TEXT | filters.COMMAND), not_understood))
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
