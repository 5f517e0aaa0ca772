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
    TypeHandler,
    filters,
)

from watcher import health, i18n
from watcher.bot import alert_buttons, follow, language, operators, preferences, quiet, watch
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
from watcher.bot.status import lines as status_lines
from watcher.i18n import N_, _, ngettext
from watcher.store import subscribers

__all__ = ["BotDeps", "COMMANDS", "HANDLERS", "register", "set_commands"]

log = logging.getLogger(__name__)

ABOUT_SOURCES = 8  # sources named in the about text; the rest are counted


def about(d: BotDeps) -> str:
    """What the bot does (HTML), built from the configured sources and topics."""
    names = [str(getattr(s, "label", "") or s.name) for s in d.sources]
    shown = ", ".join(esc(n) for n in names[:ABOUT_SOURCES])
    more = (
        ngettext(" and {n} more", " and {n} more", len(names) - ABOUT_SOURCES).format(n=len(names) - ABOUT_SOURCES)
        if len(names) > ABOUT_SOURCES
        else ""
    )
    labels = ", ".join(esc(d.label(t)) for t in d.topics) or _("the configured topics")
    if not names:
        return _(
            "I watch the sources this bot is configured with and tell you when something is published about: "
            "{topics}. Every alert says what the document is, where it is, and which words matched."
        ).format(topics=labels)
    return ngettext(
        "I watch {n} source ({names}) and tell you when something is published about: {topics}. Every alert says "
        "what the document is, where it is, and which words matched.",
        "I watch {n} sources ({names}) and tell you when something is published about: {topics}. Every alert "
        "says what the document is, where it is, and which words matched.",
        len(names),
    ).format(n=len(names), names=shown + more, topics=labels)


# (command, arguments, what it does): the menu, /help and the README follow this table.
PUBLIC = [
    ("start", "", N_("Subscribe this chat to every topic")),
    ("topics", "", N_("Choose topics with buttons")),
    ("subscribe", N_("<topic>"), N_("Add a topic")),
    ("unsubscribe", N_("<topic>"), N_("Remove a topic")),
    ("recent", N_("[topic]"), N_("The last flagged items")),
    ("digest", N_("[hour] [time zone]"), N_("One message a day at that hour (buttons without an hour)")),
    ("instant", "", N_("Each alert as soon as it is found")),
    ("status", "", N_("The sources and how they are doing")),
    ("me", "", N_("This chat's topics, own terms, delivery, mute, quiet and language")),
    ("mute", N_("<1d|1w>"), N_("No alerts for a while, then one digest")),
    ("unmute", "", N_("End a mute now")),
    ("quiet", N_("<on|off>"), N_("Alerts without a sound, or with one")),
    ("follow", N_("<reference or procedure>"), N_("Follow a document or a procedure, whatever your topics")),
    ("following", "", N_("What this chat follows, with buttons to stop")),
    ("unfollow", N_("<reference or procedure>"), N_("Stop following one")),
    ("watch", N_("<term>"), N_("Alert on a word or phrase of your own, e.g. pushbacks")),
    ("watching", "", N_("Your own terms, with buttons to remove them")),
    ("unwatch", N_("<term>"), N_("Remove one of your own terms")),
    ("language", N_("<en|fr|de>"), N_("The language I write in: English, French or German")),
    ("stop", "", N_("Stop all alerts to this chat")),
    ("help", "", N_("What this bot does")),
]
ADMIN = [
    ("stats", "", N_("Subscribers, alerts sent, queue and failures")),
    ("sources", "", N_("Every source and its state")),
    ("pause", N_("<source>"), N_("Stop polling a source")),
    ("resume", N_("<source>"), N_("Poll a paused source again")),
    ("test", "", N_("Send a sample alert to this chat")),
]
COMMANDS = [BotCommand(name, text) for name, _args, text in PUBLIC]
ADMIN_COMMANDS = COMMANDS + [BotCommand(name, text) for name, _args, text in ADMIN]


def menu(table: list[tuple[str, str, str]]) -> list[BotCommand]:
    """The command menu in the current language."""
    return [BotCommand(name, _(text)) for name, _args, text in table]


def help_text(table: list[tuple[str, str, str]]) -> str:
    """The commands of a table, one a line, in the current language."""
    lower = i18n.current() == "en"  # "– subscribe this chat…"; German nouns keep their capital
    lines = []
    for name, args, text in table:
        said = _(text)
        said = said[:1].lower() + said[1:] if lower else said
        lines.append(f"/{name}{' ' + esc(_(args)) if args else ''} – {esc(said)}")
    return "\n".join(lines)


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
            _(
                "That start link is too long (over {limit} characters). Send /start on its own, then choose topics "
                "with /topics."
            ).format(limit=MAX_PAYLOAD),
        )
        return
    d = deps(context)
    address = chat_address(update)
    if not await may_change(update, context):
        await reply(update, f"{about(d)}\n" + _(ADMIN_ONLY) + " " + _("/help lists the commands."))
        return
    wanted, unknown = parse_start_payload(payload, d.topics) if payload else ([], [])
    if payload and not wanted:
        _text, markup = await preferences.topics_view(d, address)
        await reply(
            update,
            _(
                "The link named no topic I know ({given}), so nothing changed. The topics are: {topics}; tap the "
                "ones you want."
            ).format(given=excerpt(", ".join(unknown)), topics=topic_list(d.topics)),
            markup,
        )
        return
    active, before = await d.db.subscription(CHANNEL, address)
    back = not payload and not active and bool(before)  # stopped before: its own topics and delivery come back
    if payload and not active and before:  # a link to a stopped chat turns on what it names, not the old ones
        await d.db.unsubscribe(CHANNEL, address, before)
    await d.db.subscribe(CHANNEL, address, [] if back else wanted or list(d.topics))
    _active, mine = await d.db.subscription(CHANNEL, address)
    log.info("chat %s: subscribed to %s%s", address, ", ".join(mine), " (restored)" if back else "")
    names = ", ".join(esc(d.label(t)) for t in mine)
    head = (
        _("Welcome back: your topics are on again: {topics}.")
        if back
        else _("This chat is now subscribed to: {topics}.")
    ).format(topics=names)
    note = " " + _("Left out, unknown: {given}.").format(given=excerpt(", ".join(unknown))) if unknown else ""
    text, markup = await preferences.topics_view(d, address)
    await reply(
        update,
        f"{head}{note} {await preferences.mode_line(d, address)}\n"
        + _("Tap a topic to switch it; /help for the rest."),
        markup,
    )


async def stop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop every alert to this chat; its topics and delivery are kept for a later /start."""
    if not await may_change(update, context):
        await reply(update, _(ADMIN_ONLY))
        return
    await deps(context).db.deactivate(CHANNEL, chat_address(update))
    log.info("chat %s: stopped", chat_address(update))
    await reply(update, _("Alerts stopped. Send /start to get them again with the same topics and delivery."))


def deep_link(context: ContextTypes.DEFAULT_TYPE, d: BotDeps) -> str:
    """The deep-link form that subscribes to chosen topics, with the bot's own username when it is known."""
    name = getattr(context.bot, "username", None) or "&lt;bot&gt;"
    example = "-".join(list(d.topics)[:2]) or "all"
    return f"https://t.me/{esc(name)}?start={esc(example)}"


async def help_(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """What the bot does, the commands, the topic ids and the deep-link form; operators also get theirs."""
    d = deps(context)
    links = _("Topics: {topics}. A link that subscribes to some of them (ids joined by -, or all): {link}").format(
        topics=topic_list(d.topics), link=deep_link(context, d)
    )
    text = f"{about(d)}\n\n{help_text(PUBLIC)}\n\n{links}"
    if is_operator(update, d):
        text += "\n\n<b>" + _("Operators") + f"</b>\n{help_text(ADMIN)}"
    await reply(update, text)


def _changed(d: BotDeps, verb: str, wanted: list[str], before: list[str], restarted: bool) -> str:
    """The reply to /subscribe or /unsubscribe: what changed, what was already so."""
    on = verb == "subscribe"
    changed = [t for t in wanted if (t not in before) == on or restarted]
    same = [t for t in wanted if t not in changed]
    labels = lambda ts: ", ".join(esc(d.label(t)) for t in ts)  # noqa: E731
    parts = []
    if changed:
        parts.append(
            (_("Subscribed to {topics}.") if on else _("Unsubscribed from {topics}.")).format(topics=labels(changed))
        )
    if same:
        parts.append(
            (
                ngettext("{topics} was already on.", "{topics} were already on.", len(same))
                if on
                else ngettext("{topics} was already off.", "{topics} were already off.", len(same))
            ).format(topics=labels(same))
        )
    if restarted:
        parts.append(_("Alerts start again, for these topics only."))
    return " ".join(parts)


async def _change_topics(update: Update, context: ContextTypes.DEFAULT_TYPE, verb: str) -> None:
    d = deps(context)
    if not await may_change(update, context):
        await reply(update, _(ADMIN_ONLY))
        return
    wanted, unknown = topic_args(context.args, d.topics)
    if unknown:
        await reply(update, unknown_topics(unknown, d.topics))
        return
    if not wanted:
        await reply(
            update,
            _("Which topic? Write /{command} &lt;topic&gt;, with one of: {topics}. Or tap them in /topics.").format(
                command=verb, topics=topic_list(d.topics)
            ),
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
        _("This chat gets alerts about: {topics}.").format(topics=", ".join(esc(d.label(t)) for t in mine))
        if active and mine
        else _("No topic is on, so this chat gets no alerts.")
        if active
        else _("This chat gets no alerts now.")
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
    summary, *lines = status_lines(rows, now)
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
    await reply(update, _("I did not understand; try /help."))


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
    **language.HANDLERS,
    **operators.HANDLERS,
}


def register(app: Application, bot_deps: BotDeps) -> None:
    """Wire every handler into the application. Commands are read from messages and from channel posts."""
    app.bot_data["deps"] = bot_deps
    app.add_handler(TypeHandler(Update, language.choose), group=-1)  # before any other: the language to write in
    where = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST
    for name, handler in HANDLERS.items():
        app.add_handler(CommandHandler(name, handler, filters=where))
    app.add_handler(CallbackQueryHandler(preferences.on_button, pattern=preferences.BUTTON_PATTERN))
    app.add_handler(CallbackQueryHandler(preferences.on_hour_button, pattern=preferences.DIGEST_PATTERN))
    app.add_handler(CallbackQueryHandler(follow.on_button, pattern=follow.BUTTON_PATTERN))
    app.add_handler(CallbackQueryHandler(watch.on_button, pattern=watch.BUTTON_PATTERN))
    app.add_handler(CallbackQueryHandler(alert_buttons.on_button, pattern=alert_buttons.BUTTON_PATTERN))
    app.add_handler(CallbackQueryHandler(language.on_button, pattern=language.BUTTON_PATTERN))
    app.add_handler(ChatMemberHandler(on_my_member, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate))
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & (filters.TEXT | filters.COMMAND), not_understood))
    app.add_error_handler(on_error)


async def set_commands(bot, admin_chat_ids) -> None:
    """The command menu: everyone sees the public commands (in French or German when Telegram is set to them);
    operators' chats also see theirs."""
    await bot.set_my_commands(COMMANDS)
    for code in i18n.TRANSLATED:
        i18n.use(code)
        await bot.set_my_commands(menu(PUBLIC), language_code=code)
    i18n.use(i18n.DEFAULT)
    for chat_id in sorted(admin_chat_ids):
        try:
            await bot.set_my_commands(ADMIN_COMMANDS, scope=BotCommandScopeChat(chat_id))
        except TelegramError as exc:
            log.warning("chat %s: could not set the operators' command menu: %s", chat_id, exc)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = getattr(getattr(update, "effective_chat", None), "id", "?")
    log.error("chat %s: handler failed: %r", chat, context.error, exc_info=context.error)
