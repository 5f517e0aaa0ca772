"""The buttons under an alert: 🔕 mute a topic for this chat, 🔎 more like this (/recent of the topic). The 📄
button is a plain link and never reaches the bot.

The callback data is built and read by ``watcher.notifiers.telegram`` (``alert:<action>:<topic id>``). Anything
else that starts with ``alert:`` (a forged button, or a stale one naming a topic that is no longer configured)
changes nothing, is answered saying so, and is logged with at most ``MAX_LOGGED`` characters of what it carried.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from watcher.bot.replies import ADMIN_ONLY, CHANNEL, BotDeps, chat_address, deps, may_change, send_recent
from watcher.i18n import N_, _
from watcher.notifiers.telegram import ALERT_BUTTON_PREFIX, MORE, MUTE, parse_alert_button

log = logging.getLogger(__name__)

BUTTON_PATTERN = rf"^{ALERT_BUTTON_PREFIX}"
MAX_LOGGED = 80  # characters of a refused button's data that reach the log
MAX_NAME = 40  # characters of a topic's label in an answer (Telegram shows at most 200 characters of one)
STALE = N_("This button is out of date: its topic is no longer offered. Nothing changed; /topics shows the topics.")
FORGED = N_("This button is not one I sent. Nothing changed.")


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button under an alert: check what it carries, then mute the topic or send its recent items."""
    query = update.callback_query
    if query is None:
        return
    d = deps(context)
    address = chat_address(update)
    data = query.data or ""
    parsed = parse_alert_button(data, d.topics)
    if parsed is None:
        stale = parse_alert_button(data, None) is not None
        log.warning(
            "chat %s: alert button refused (%s): %r",
            address,
            "topic not configured" if stale else "malformed",
            data[:MAX_LOGGED],
        )
        await query.answer(_(STALE) if stale else _(FORGED), show_alert=True)
        return
    action, topic = parsed
    if action == MUTE:
        await query.answer(await _mute(update, context, d, topic), show_alert=True)
    elif action == MORE:
        log.info("chat %s: alert button: recent items about %s", address, topic)
        await query.answer()
        await send_recent(update, d, [topic])


async def _mute(update: Update, context: ContextTypes.DEFAULT_TYPE, d: BotDeps, topic: str) -> str:
    """Switch the topic off for this chat; the answer says what was done and how to undo it (under Telegram's 200
    characters for an answer)."""
    address = chat_address(update)
    if not await may_change(update, context):
        return _(ADMIN_ONLY)
    name = d.label(topic)
    name = name if len(name) <= MAX_NAME else name[: MAX_NAME - 1] + "…"
    active, mine = await d.db.subscription(CHANNEL, address)
    if topic not in mine:
        return _("{topic} was already off for this chat. To get its alerts: /subscribe {id}").format(
            topic=name, id=topic
        )
    await d.db.unsubscribe(CHANNEL, address, [topic])
    log.info("chat %s: alert button: unsubscribed from %s", address, topic)
    rest = [t for t in mine if t != topic]
    after = "" if rest or not active else " " + _("No topic is on now.")
    return (
        "🔕 "
        + _("{topic} is off for this chat: no more alerts about it.").format(topic=name)
        + after
        + " "
        + _("To undo: /subscribe {id}").format(id=topic)
    )
