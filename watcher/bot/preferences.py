"""A chat's own settings: topics switched on and off with buttons, and instant alerts or a daily digest."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from watcher.bot.replies import (
    ADMIN_ONLY,
    CHANNEL,
    NOT_SUBSCRIBED,
    BotDeps,
    chat_address,
    deps,
    esc,
    excerpt,
    may_change,
    redraw,
    reply,
)
from watcher.delivery.digest import is_fixed, next_digest_after, resolve_zone, zone
from watcher.i18n import N_, _, ngettext, when
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
            InlineKeyboardButton(_("All on"), callback_data="all:on"),
            InlineKeyboardButton(_("All off"), callback_data="all:off"),
        ]
    )
    if not active:
        state = _("This chat gets no alerts now; switching a topic on starts them.")
    elif not mine:
        state = _("No topic is on, so this chat gets no alerts.")
    else:
        state = _("This chat gets alerts about: {topics}.").format(
            topics=", ".join(esc(d.label(t)) for t in d.topics if t in mine)
        )
    return (
        _("<b>Topics</b> – tap one to switch it on or off.") + f"\n{state}\n{await mode_line(d, address)}",
        InlineKeyboardMarkup(rows),
    )


async def mode_line(d: BotDeps, address: str) -> str:
    row = await d.db.run(subscribers.settings, CHANNEL, address)
    if row and row.get("mode") == "digest":
        return _("Delivery: a daily digest at {hour:02d}:00 {zone} (/instant to change).").format(
            hour=int(row["digest_hour"]), zone=esc(row["digest_tz"])
        )
    return _("Delivery: each alert as it comes (/digest to get one message a day).")


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
        await query.answer(_(ADMIN_ONLY), show_alert=True)
        return
    data = query.data or ""
    active, mine = await d.db.subscription(CHANNEL, address)
    if data == "all:on":
        await d.db.subscribe(CHANNEL, address, list(d.topics))
        answer = _("Every topic is on.")
    elif data == "all:off":
        await d.db.unsubscribe(CHANNEL, address, list(d.topics))
        answer = _("Every topic is off.")
    elif data[2:] in d.topics:
        topic = data[2:]
        if active and topic in mine:
            await d.db.unsubscribe(CHANNEL, address, [topic])
            answer = _("{topic}: off").format(topic=d.label(topic))
        else:
            if not active and mine:  # a stopped chat starts again with this topic, not its old ones
                await d.db.unsubscribe(CHANNEL, address, mine)
            await d.db.subscribe(CHANNEL, address, [topic])
            answer = _("{topic}: on").format(topic=d.label(topic))
    else:
        answer = _("That topic no longer exists.")
    log.info("chat %s: button %s", address, data)
    await query.answer(answer)
    text, markup = await topics_view(d, address)
    if not await redraw(query, text, markup):
        log.debug("chat %s: topics message already up to date", address)


DIGEST_USAGE = N_(
    "Write /digest &lt;hour&gt; &lt;time zone&gt;, e.g. <code>/digest 8 Europe/Brussels</code> (any case) or "
    "<code>/digest 8 +2</code> (a UTC offset), or /digest alone to pick the hour with buttons. "
    "/instant goes back to each alert as it comes."
)
DEFAULT_ZONE = "UTC"
DIGEST_PATTERN = r"^dg:"
HOURS_PER_ROW = 6


def _hour(text: str) -> int | None:
    found = _HOUR.match(text.strip().lower())
    return int(found.group(1)) if found and 0 <= int(found.group(1)) <= 23 else None


def _zone_error(text: str) -> str:
    return _(
        "I do not know the time zone {given}. Use a tz database name such as <code>Europe/Brussels</code>, "
        "<code>Europe/Athens</code> or <code>Africa/Tunis</code> (any case), or a UTC offset such as "
        "<code>+2</code>, <code>-5</code>, <code>+5:30</code> or <code>UTC+2</code>."
    ).format(given=excerpt(text))


def parse_digest_args(args: list[str], current_tz: str | None) -> tuple[int | None, str] | str:
    """``[hour] [time zone]`` (either order) to (hour or None when only a zone was given, zone name to store), or
    the reason it is not valid. The zone is a tz database name in any case or a UTC offset; without one, the chat's
    own zone (or UTC)."""
    if not args or len(args) > 3:
        return _(DIGEST_USAGE)
    hour = _hour(args[0])
    if hour is None and re.fullmatch(r"\d+(?::\d+)?h?", args[0].strip().lower()):
        return _(
            "{given} is not an hour; give a whole hour from 0 to 23, e.g. <code>/digest 8 Europe/Brussels</code>."
        ).format(given=excerpt(args[0]))
    rest = args[1:]
    if hour is None and len(args) == 2 and _hour(args[1]) is not None:  # /digest Europe/Brussels 8
        hour, rest = _hour(args[1]), args[:1]
    elif hour is None:
        rest = args
    if rest:
        text = "".join(rest)  # "UTC +2" is one zone
        found = resolve_zone(text)
        if found is None:
            if hour is None and len(args) == 1:
                return (
                    _("{given} is neither an hour (a whole hour from 0 to 23) nor a time zone I know.").format(
                        given=excerpt(args[0])
                    )
                    + " "
                    + _(DIGEST_USAGE)
                )
            return _zone_error(text)
        return hour, found[0]
    found = resolve_zone(current_tz or DEFAULT_ZONE)
    return hour, found[0] if found else DEFAULT_ZONE


def fixed_note(name: str) -> str:
    """What a fixed offset means for the digest hour, or nothing for a zone name."""
    if not is_fixed(name):
        return ""
    return " " + _(
        "{zone} is a fixed offset: it does not follow daylight saving, so the hour moves against your clock when "
        "it changes; a zone name such as <code>Europe/Athens</code> follows it."
    ).format(zone=esc(name))


def hour_keyboard(name: str) -> InlineKeyboardMarkup:
    """One button per hour of the day; each sets the digest at that hour in the zone ``name``."""
    hours = [InlineKeyboardButton(f"{h:02d}:00", callback_data=f"dg:{h:02d}:{name}") for h in range(24)]
    return InlineKeyboardMarkup([hours[i : i + HOURS_PER_ROW] for i in range(0, 24, HOURS_PER_ROW)])


def keyboard_text(name: str) -> str:
    return _("At what hour ({zone}) should the daily digest come? Tap one.").format(zone=esc(name)) + fixed_note(name)


async def _set_digest(d: BotDeps, address: str, hour: int, name: str) -> str:
    """Switch the chat to its digest and return the confirmation."""
    await d.db.run(subscribers.set_digest, CHANNEL, address, hour, name)
    now: datetime = d.store.clock()
    tz = zone(name) or ZoneInfo("UTC")  # the name was resolved already
    first = next_digest_after(now, hour, tz).astimezone(tz)
    log.info("chat %s: daily digest at %02d:00 %s", address, hour, name)
    return (
        _(
            "From now on this chat gets one message a day at {hour:02d}:00 ({zone}) with the alerts found since "
            "the one before. The first comes {first}."
        ).format(hour=hour, zone=esc(name), first=when(first))
        + fixed_note(name)
        + " "
        + _("Send /instant to get each alert as it comes.")
    )


async def digest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Switch this chat to one digest message a day, at an hour in a time zone; without an hour, buttons for the
    hours."""
    d = deps(context)
    address = chat_address(update)
    row = await d.db.run(subscribers.settings, CHANNEL, address)
    args = list(context.args or [])
    parsed = parse_digest_args(args, row.get("digest_tz") if row else None) if args else (None, "")
    if isinstance(parsed, str):
        await reply(update, parsed)
        return
    if not await may_change(update, context):
        await reply(update, _(ADMIN_ONLY))
        return
    if row is None or not row["active"]:
        await reply(update, _("This chat is not subscribed; send /start first, then /digest."))
        return
    hour, name = parsed
    if hour is None:
        name = name or (resolve_zone(row.get("digest_tz") or DEFAULT_ZONE) or (DEFAULT_ZONE,))[0]
        await reply(update, f"{await mode_line(d, address)}\n\n{keyboard_text(name)}", hour_keyboard(name))
        return
    await reply(update, await _set_digest(d, address, hour, name))


def parse_hour_button(data: str) -> tuple[int, str] | None:
    """(hour, zone) of an hour button's data ``dg:HH:<zone>``, or None when no button of ours carries it: the hour
    is two digits from 00 to 23 and the zone is spelt exactly as we store it."""
    if len(data) > 64:  # Telegram's own limit for callback data
        return None
    parts = data.split(":", 2)
    if len(parts) != 3 or parts[0] != "dg" or not re.fullmatch(r"[0-2][0-9]", parts[1]) or int(parts[1]) > 23:
        return None
    found = resolve_zone(parts[2])
    if found is None or found[0] != parts[2]:
        return None
    return int(parts[1]), parts[2]


async def on_hour_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An hour button of /digest: set the digest at that hour, or say why not (a forged or stale button changes
    nothing)."""
    query = update.callback_query
    if query is None:
        return
    d = deps(context)
    address = chat_address(update)
    parsed = parse_hour_button(query.data or "")
    if parsed is None:
        log.warning("chat %s: refused an hour button with data %r", address, (query.data or "")[:64])
        await query.answer(_("That button is not one I sent, or it is out of date: nothing changed. Send /digest."))
        return
    if not await may_change(update, context):
        await query.answer(_(ADMIN_ONLY), show_alert=True)
        return
    row = await d.db.run(subscribers.settings, CHANNEL, address)
    if row is None or not row["active"]:
        log.info("chat %s: hour button pressed while not subscribed", address)
        await query.answer(_("This chat is not subscribed: nothing changed. Send /start first."), show_alert=True)
        return
    hour, name = parsed
    text = await _set_digest(d, address, hour, name)
    await query.answer(_("Daily digest at {hour:02d}:00 ({zone}).").format(hour=hour, zone=name))
    await redraw(query, text)


async def instant(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Switch this chat back to each alert as soon as it is found."""
    d = deps(context)
    address = chat_address(update)
    if not await may_change(update, context):
        await reply(update, _(ADMIN_ONLY))
        return
    row = await d.db.run(subscribers.settings, CHANNEL, address)
    if row is None or not row["active"]:
        await reply(update, _(NOT_SUBSCRIBED))
        return
    await d.db.run(subscribers.set_instant, CHANNEL, address)
    log.info("chat %s: instant alerts", address)
    waiting = len(await d.db.run(subscribers.pending_for, row["id"]))
    extra = (
        " "
        + ngettext(
            "The alert waiting for the digest follows now.",
            "The {n} alerts waiting for the digest follow now.",
            waiting,
        ).format(n=waiting)
        if waiting
        else ""
    )
    await reply(update, _("From now on each alert comes as soon as it is found.") + extra)
