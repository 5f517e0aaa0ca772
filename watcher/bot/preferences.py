"""A chat's own settings: topics switched on and off with buttons, and instant alerts or a daily digest."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from watcher.bot.replies import ADMIN_ONLY, CHANNEL, BotDeps, chat_address, deps, esc, excerpt, may_change, reply
from watcher.delivery.digest import next_digest_after, zone
from watcher.store import subscribers

log = logging.getLogger("watcher.bot")

BUTTON_PATTERN = r"^(t:|all:)"
_HOUR = re.compile(r"^(\d{1,2})(?::00)?(?:h)?$")


async def topics_view(d: BotDeps, address: str) -> tuple[str, InlineKeyboardMarkup]:
    """The /topics message: text and one button per topic (✅ on, ▫️ off), plus all on / all off."""
    active, mine = await d.db.subscription(CHANNEL, address)
    rows = [
        [InlineKeyboardButton(f"{'✅' if active and t in mine else '▫️'} {d.label(t)}", callback_data=f"t:{t}")]
        for t in d.topics
    ]
    rows.append(
        [
            InlineKeyboardButton("All on", callback_data="all:on"),
            InlineKeyboardButton("All off", callback_data="all:off"),
        ]
    )
    if not active:
        state = "This chat gets no alerts now; switching a topic on starts them."
    elif not mine:
        state = "No topic is on, so this chat gets no alerts."
    else:
        state = "This chat gets alerts about: " + ", ".join(esc(d.label(t)) for t in d.topics if t in mine) + "."
    return (
        f"<b>Topics</b> – tap one to switch it on or off.\n{state}\n{await mode_line(d, address)}",
        InlineKeyboardMarkup(rows),
    )


async def mode_line(d: BotDeps, address: str) -> str:
    row = await d.db.run(subscribers.settings, CHANNEL, address)
    if row and row.get("mode") == "digest":
        return (
            f"Delivery: a daily digest at {int(row['digest_hour']):02d}:00 {esc(row['digest_tz'])} "
            "(/instant to change)."
        )
    return "Delivery: each alert as it comes (/digest to get one message a day)."


async def topics(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show every topic as a button that switches it on or off for this chat."""
    text, markup = await topics_view(deps(context), chat_address(update))
    await reply(update, text, markup)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A topic button: switch that topic (or all of them) for the chat, then redraw the buttons."""
    query = update.callback_query
    if query is None:
        return
    d = deps(context)
    address = chat_address(update)
    if not await may_change(update, context):
        await query.answer(ADMIN_ONLY, show_alert=True)
        return
    data = query.data or ""
    active, mine = await d.db.subscription(CHANNEL, address)
    if data == "all:on":
        await d.db.subscribe(CHANNEL, address, list(d.topics))
        answer = "Every topic is on."
    elif data == "all:off":
        await d.db.unsubscribe(CHANNEL, address, list(d.topics))
        answer = "Every topic is off."
    elif data[2:] in d.topics:
        topic = data[2:]
        if active and topic in mine:
            await d.db.unsubscribe(CHANNEL, address, [topic])
            answer = f"{d.label(topic)}: off"
        else:
            if not active and mine:  # a stopped chat starts again with this topic, not its old ones
                await d.db.unsubscribe(CHANNEL, address, mine)
            await d.db.subscribe(CHANNEL, address, [topic])
            answer = f"{d.label(topic)}: on"
    else:
        answer = "That topic no longer exists."
    log.info("chat %s: button %s", address, data)
    await query.answer(answer)
    text, markup = await topics_view(d, address)
    try:
        await query.edit_message_text(text, parse_mode="HTML", reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise
        log.debug("chat %s: topics message already up to date", address)


def parse_digest_args(args: list[str], current_tz: str | None) -> tuple[int, str] | str:
    """``<hour> [time zone]`` to (hour, zone name), or the reason it is not valid."""
    if not args or len(args) > 2:
        return (
            "Write /digest &lt;hour&gt; &lt;time zone&gt;, e.g. <code>/digest 8 Europe/Brussels</code>: one "
            "message a day at 08:00 Brussels time. /instant goes back to each alert as it comes."
        )
    found = _HOUR.match(args[0].strip().lower())
    if not found or not 0 <= int(found.group(1)) <= 23:
        return (
            f"{excerpt(args[0])} is not an hour; give a whole hour from 0 to 23, e.g. "
            "<code>/digest 8 Europe/Brussels</code>."
        )
    name = args[1].strip() if len(args) == 2 else (current_tz or "UTC")
    if zone(name) is None:
        return (
            f"I do not know the time zone {excerpt(name)}. Use a name from the tz database such as "
            "<code>Europe/Brussels</code>, <code>Europe/Athens</code>, <code>Africa/Tunis</code> or "
            "<code>UTC</code>."
        )
    return int(found.group(1)), name


async def digest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Switch this chat to one digest message a day, at an hour in a time zone."""
    d = deps(context)
    address = chat_address(update)
    row = await d.db.run(subscribers.settings, CHANNEL, address)
    if not context.args:
        await reply(update, f"{await mode_line(d, address)}\n\n{parse_digest_args([], None)}")
        return
    if not await may_change(update, context):
        await reply(update, ADMIN_ONLY)
        return
    if row is None or not row["active"]:
        await reply(update, "This chat is not subscribed; send /start first.")
        return
    parsed = parse_digest_args(list(context.args), row.get("digest_tz"))
    if isinstance(parsed, str):
        await reply(update, parsed)
        return
    hour, name = parsed
    await d.db.run(subscribers.set_digest, CHANNEL, address, hour, name)
    now: datetime = d.store.clock()
    tz = zone(name) or ZoneInfo("UTC")  # parse_digest_args has checked the name already
    first = next_digest_after(now, hour, tz).astimezone(tz)
    log.info("chat %s: daily digest at %02d:00 %s", address, hour, name)
    await reply(
        update,
        f"From now on this chat gets one message a day at {hour:02d}:00 ({esc(name)}) with the "
        f"alerts found since the one before. The first comes {first:%a %d %b, %H:%M}. "
        "Send /instant to get each alert as it comes.",
    )


async def instant(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Switch this chat back to each alert as soon as it is found."""
    d = deps(context)
    address = chat_address(update)
    if not await may_change(update, context):
        await reply(update, ADMIN_ONLY)
        return
    row = await d.db.run(subscribers.settings, CHANNEL, address)
    if row is None or not row["active"]:
        await reply(update, "This chat is not subscribed; send /start first.")
        return
    await d.db.run(subscribers.set_instant, CHANNEL, address)
    log.info("chat %s: instant alerts", address)
    waiting = len(await d.db.run(subscribers.pending_for, row["id"]))
    extra = (
        " The alert waiting for the digest follows now."
        if waiting == 1
        else f" The {waiting} alerts waiting for the digest follow now."
        if waiting
        else ""
    )
    await reply(update, "From now on each alert comes as soon as it is found." + extra)
