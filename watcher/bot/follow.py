"""/follow, /following and /unfollow: a chat follows a Council document family or a legislative procedure.

A family is given by any reference form ``parse_ref`` reads (``13589/23``, ``ST 13589 2023 REV 1``, ...), and is
followed whole: every new version, addendum or corrigendum, and each becoming public. A procedure
(``2023/0439(COD)``) is followed in every Council document whose header names it. The alerts come whatever the
chat's topics, and say why (see ``watcher.store.follows``).
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from watcher.bot.replies import ADMIN_ONLY, CHANNEL, chat_address, deps, esc, excerpt, may_change, redraw, reply
from watcher.i18n import N_, _
from watcher.sources.council.refs import DocRef, RefError, parse_ref
from watcher.store import follows

log = logging.getLogger(__name__)

BUTTON_PATTERN = r"^uf:"
MAX_ARG = 100
FORMS = N_(
    "Write a Council document reference, e.g. <code>/follow 13589/23</code>, <code>/follow ST 13589 2023"
    "</code> or <code>/follow 13589/1/23 REV 1</code> (the whole family is followed), or a procedure, e.g. "
    "<code>/follow 2023/0439(COD)</code>."
)


def parse_target(text: str) -> tuple[str, str, str] | None:
    """(kind, key, label) for a reference or a procedure number; None when it is neither."""
    text = text.strip()
    if not text or len(text) > MAX_ARG:
        return None
    key = follows.procedure_key(text)
    if key:
        return follows.PROCEDURE, key, key
    try:
        ref = parse_ref(text)
    except (RefError, ValueError):
        return None
    family = DocRef(ref.series, ref.number, ref.year)
    label = f"ST {family.short}" if ref.series == "ST" else family.short
    return follows.FAMILY, ref.family, label


async def _target(update: Update, context: ContextTypes.DEFAULT_TYPE, forms: str) -> tuple[str, str, str] | None:
    """The family or procedure named in the command, or None once the user has been told why not."""
    if not await may_change(update, context):
        await reply(update, _(ADMIN_ONLY))
        return None
    text = " ".join(context.args or [])
    target = parse_target(text)
    if target is None:
        head = _("{given} is not a reference I can read.").format(given=excerpt(text)) + " " if text else ""
        await reply(update, head + forms)
    return target


async def follow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Follow a document family or a procedure in this chat."""
    target = await _target(update, context, _(FORMS))
    if target is None:
        return
    kind, key, label = target
    address = chat_address(update)
    outcome = await deps(context).db.run(follows.follow, CHANNEL, address, kind, key, label)
    log.info("chat %s: follow %s %s: %s", address, kind, key, outcome)
    answers = {
        "added": (
            _(
                "Following {label}: you will hear of every new version and when any becomes public, whatever your "
                "topics."
            )
            if kind == follows.FAMILY
            else _("Following {label}: you will hear of every Council document that names it, whatever your topics.")
        ).format(label=esc(label)),
        "already": _("This chat already follows {label}.").format(label=esc(label)),
        "full": _(
            "This chat follows {n} documents and procedures, the most it can; stop one with /following first."
        ).format(n=follows.MAX_FOLLOWS),
    }
    active, _mine = await deps(context).db.subscription(CHANNEL, address)
    stopped = (
        "" if active else " " + _("Alerts to this chat are stopped, so none comes until /start turns them on again.")
    )
    await reply(update, answers[outcome] + stopped)


async def unfollow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop following a document family or a procedure."""
    target = await _target(
        update, context, _(FORMS).replace("/follow", "/unfollow") + " " + _("/following lists what you follow.")
    )
    if target is None:
        return
    kind, key, label = target
    stopped = await deps(context).db.run(follows.unfollow, CHANNEL, chat_address(update), kind, key)
    await reply(
        update,
        _("Stopped following {label}.").format(label=esc(label))
        if stopped
        else _("This chat does not follow {label}; /following lists what it does.").format(label=esc(label)),
    )


async def _view(update: Update, context: ContextTypes.DEFAULT_TYPE) -> tuple[str, InlineKeyboardMarkup | None]:
    rows = await deps(context).db.run(follows.following, CHANNEL, chat_address(update))
    if not rows:
        return _("This chat follows nothing.") + " " + _(FORMS), None
    buttons = [
        [InlineKeyboardButton(_("Stop {label}").format(label=label), callback_data=f"uf:{kind[0]}:{key}")]
        for kind, key, label in rows
    ]
    lines = "\n".join(f"• {esc(label)}" for _kind, _key, label in rows)
    head = _("This chat follows ({n} of {most}):").format(n=len(rows), most=follows.MAX_FOLLOWS)
    return f"{head}\n{lines}", InlineKeyboardMarkup(buttons)


async def me_line(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """The /me line: the documents and procedures this chat follows."""
    rows = await deps(context).db.run(follows.following, CHANNEL, chat_address(update))
    if not rows:
        return _("Following: nothing (/follow ST 9876/26)")
    return _("Following: {labels} (/following)").format(labels=", ".join(esc(label) for _kind, _key, label in rows))


async def following(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The families and procedures this chat follows, with a button to stop each."""
    text, markup = await _view(update, context)
    await reply(update, text, markup)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A stop button of /following: stop that follow and redraw the list."""
    query = update.callback_query
    if query is None:
        return
    if not await may_change(update, context):
        await query.answer(_(ADMIN_ONLY), show_alert=True)
        return
    _prefix, short, key = (query.data or "uf::").split(":", 2)
    kind = follows.FAMILY if short == "f" else follows.PROCEDURE
    stopped = await deps(context).db.run(follows.unfollow, CHANNEL, chat_address(update), kind, key)
    await query.answer(_("Stopped.") if stopped else _("That was already stopped."))
    text, markup = await _view(update, context)
    await redraw(query, text, markup)


HANDLERS = {"follow": follow, "following": following, "unfollow": unfollow}
