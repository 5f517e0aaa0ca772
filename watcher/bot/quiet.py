"""A chat's quiet settings and the one message that shows all its settings: /mute, /unmute, /quiet and /me."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from telegram import Update
from telegram.ext import ContextTypes

from watcher import i18n
from watcher.bot import follow
from watcher.bot.preferences import mode_line
from watcher.bot.replies import ADMIN_ONLY, CHANNEL, NOT_SUBSCRIBED, chat_address, deps, esc, excerpt, may_change, reply
from watcher.bot.watch import me_line
from watcher.clock import from_iso
from watcher.durations import parse_duration
from watcher.i18n import _, when
from watcher.store import chat_prefs, subscribers

log = logging.getLogger("watcher.bot")

MUTE_MIN, MUTE_MAX = 3600.0, 30 * 86400.0  # an hour to 30 days


async def _allowed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Whether the sender may change this chat's settings and the chat has a subscription (else say why)."""
    if not await may_change(update, context):
        await reply(update, _(ADMIN_ONLY))
        return False
    row = await deps(context).db.run(subscribers.settings, CHANNEL, chat_address(update))
    if row is None or not row["active"]:
        await reply(update, _(NOT_SUBSCRIBED))
        return False
    return True


async def mute(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Hold every alert for a while (1d, 1w, …); when the time is up, what was held comes as one digest."""
    args = list(context.args or [])
    try:
        seconds = parse_duration(args[0]) if len(args) == 1 else 0.0
    except ValueError:
        seconds = 0.0
    if not MUTE_MIN <= seconds <= MUTE_MAX:
        given = _("{given} is not a time I can mute for.").format(given=excerpt(" ".join(args))) + " " if args else ""
        await reply(update, given + _("Write /mute 1d or /mute 1w (from 1h to 30d); /unmute ends it early."))
        return
    if not await _allowed(update, context):
        return
    d = deps(context)
    until: datetime = d.store.clock() + timedelta(seconds=seconds)
    await d.db.run(chat_prefs.set_mute, CHANNEL, chat_address(update), until)
    log.info("chat %s: muted until %s", chat_address(update), until.isoformat())
    await reply(
        update,
        _(
            "Muted until {until} UTC: no alert until then, then one digest of what was held. /unmute ends it early."
        ).format(until=when(until)),
    )


async def unmute(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """End a mute now: what was held comes as one digest at the next check."""
    if not await _allowed(update, context):
        return
    d = deps(context)
    row = await d.db.run(subscribers.settings, CHANNEL, chat_address(update))
    until = from_iso(row.get("muted_until")) if row else None
    if until is None or until <= d.store.clock():
        await reply(update, _("This chat is not muted."))
        return
    await d.db.run(chat_prefs.set_mute, CHANNEL, chat_address(update), d.store.clock())
    log.info("chat %s: unmuted", chat_address(update))
    await reply(update, _("Mute ended: what was held comes in one message shortly, then alerts as before."))


async def quiet(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/quiet on: alerts arrive without a sound; /quiet off: with one again."""
    args = [a.lower() for a in context.args or []]
    if args not in (["on"], ["off"]):
        await reply(update, _("Write /quiet on (alerts without a sound) or /quiet off."))
        return
    if not await _allowed(update, context):
        return
    on = args == ["on"]
    await deps(context).db.run(chat_prefs.set_quiet, CHANNEL, chat_address(update), on)
    log.info("chat %s: quiet %s", chat_address(update), "on" if on else "off")
    await reply(update, _("Alerts now arrive without a sound.") if on else _("Alerts now arrive with a sound again."))


async def me(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """This chat's topics, own terms, delivery mode, mute, quiet and language, in one message."""
    d = deps(context)
    address = chat_address(update)
    row = await d.db.run(subscribers.settings, CHANNEL, address)
    active, mine = await d.db.subscription(CHANNEL, address)
    if row is None:
        await reply(update, _("This chat has no subscription; send /start."))
        return
    topics = ", ".join(esc(d.label(t)) for t in mine) or _("none")
    until = from_iso(row.get("muted_until"))
    lines = [
        _("<b>This chat</b>") if active else _("<b>This chat</b> (stopped: /start turns it back on)"),
        _("Topics: {topics}").format(topics=topics),
        await me_line(update, context),
        await follow.me_line(update, context),
        await mode_line(d, address),
        _("Muted until {until} UTC (/unmute)").format(until=when(until))
        if until and until > d.store.clock()
        else _("Muted: no (/mute 1d)"),
        _("Quiet: on, alerts without a sound (/quiet off)") if row.get("quiet") else _("Quiet: off (/quiet on)"),
        _("Language: {language} (/language)").format(language=i18n.LANGUAGES[i18n.current()]),
    ]
    await reply(update, "\n".join(lines))
