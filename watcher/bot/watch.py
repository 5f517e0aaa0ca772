"""/watch, /watching and /unwatch: a chat's own terms, alerted whatever its topics.

A term is written as in ``topics.toml`` and checked by the same rules (see ``watcher.matcher.personal``); a chat has
at most ``MAX_WATCHES`` of them. The alerts they raise say which term did, with the words as the text has them (see
``watcher.store.watches``).
"""

from __future__ import annotations

import logging
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from watcher.bot.replies import ADMIN_ONLY, CHANNEL, chat_address, deps, esc, excerpt, may_change, redraw, reply
from watcher.i18n import N_, _
from watcher.matcher.personal import MAX_TEXT, SYNTAX, fold_term, parse_watch
from watcher.store import watches
from watcher.store.watches import MAX_WATCHES

log = logging.getLogger("watcher.bot")

BUTTON_PATTERN = r"^uw:"
_BUTTON = re.compile(r"uw:(\d{1,12})")
STALE = N_("That button is out of date; /watching shows this chat's terms now.")
MAX_LABEL = 40  # characters of a term on its button


def _argument(context: ContextTypes.DEFAULT_TYPE) -> str:
    return " ".join(context.args or [])


async def watch(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Add one of the chat's own terms."""
    if not await may_change(update, context):
        await reply(update, _(ADMIN_ONLY))
        return
    text = _argument(context)
    found, problem = parse_watch(text)
    if found is None:
        # The reasons quote pieces of the argument only once it is known to be under MAX_TEXT, so they are short.
        await reply(
            update,
            _("I cannot watch {given}: {problem}").format(given=excerpt(text), problem=esc(problem.say(_)))
            if problem
            else _("Which term?") + " " + _(SYNTAX),
        )
        return
    address = chat_address(update)
    d = deps(context)
    outcome = await d.db.run(
        watches.add, CHANNEL, address, found.term_key, found.key, found.to_json(), found.text, MAX_WATCHES
    )
    log.info("chat %s: watch %r: %s", address, found.key, outcome)
    shown = esc(found.text)
    answers = {
        "added": _("Watching <b>{term}</b>: an item that has it reaches this chat, whatever its topics."),
        "changed": _("Now watching <b>{term}</b> (this term was watched with other words after the semicolon)."),
        "already": _("This chat already watches <b>{term}</b>."),
        "full": _("This chat watches {n} terms, the most it can; remove one with /watching first."),
    }
    active, _mine = await d.db.subscription(CHANNEL, address)
    stopped = (
        "" if active else " " + _("Alerts to this chat are stopped, so none comes until /start turns them on again.")
    )
    await reply(update, answers[outcome].format(term=shown, n=MAX_WATCHES) + stopped)


async def unwatch(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Remove one of the chat's own terms, named as it was written (its term alone is enough)."""
    if not await may_change(update, context):
        await reply(update, _(ADMIN_ONLY))
        return
    text = _argument(context)
    if not text.strip():
        await reply(update, _("Which term? Write /unwatch &lt;term&gt;; /watching lists them with buttons."))
        return
    if len(text) > MAX_TEXT:
        await reply(
            update,
            _("No term of this chat is that long (over {n} characters); /watching lists them.").format(n=MAX_TEXT),
        )
        return
    term = text.split(";", 1)[0]
    removed = await deps(context).db.run(watches.remove, CHANNEL, chat_address(update), fold_term(term))
    log.info("chat %s: unwatch %r: %s", chat_address(update), term, "removed" if removed else "not watched")
    await reply(
        update,
        _("No longer watching <b>{term}</b>.").format(term=esc(removed))
        if removed is not None
        else _("This chat does not watch {given}; /watching lists its terms.").format(given=excerpt(term)),
    )


async def _view(update: Update, context: ContextTypes.DEFAULT_TYPE) -> tuple[str, InlineKeyboardMarkup | None]:
    rows = await deps(context).db.run(watches.watching, CHANNEL, chat_address(update))
    if not rows:
        return _("This chat watches no term of its own.") + " " + _(SYNTAX), None
    buttons = [
        [InlineKeyboardButton(_("Remove {term}").format(term=_label(row.text)), callback_data=f"uw:{row.id}")]
        for row in rows
    ]
    lines = "\n".join(f"• {esc(row.text)}" for row in rows)
    head = _("This chat watches ({n} of {most}):").format(n=len(rows), most=MAX_WATCHES)
    return f"{head}\n{lines}\n" + _("Tap a button to remove a term."), InlineKeyboardMarkup(buttons)


def _label(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


async def watching(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The chat's own terms, with a button to remove each."""
    text, markup = await _view(update, context)
    await reply(update, text, markup)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A remove button of /watching: remove that term if it is this chat's, then redraw the list. Data that is not
    a button this bot drew for this chat changes nothing, and says so."""
    query = update.callback_query
    if query is None:
        return
    if not await may_change(update, context):
        await query.answer(_(ADMIN_ONLY), show_alert=True)
        return
    address = chat_address(update)
    data = query.data or ""
    found = _BUTTON.fullmatch(data)
    removed = await deps(context).db.run(watches.remove_id, CHANNEL, address, int(found.group(1))) if found else None
    if removed is None:
        log.warning("chat %s: a remove button that names no term of this chat: %r", address, data[:64])
        await query.answer(_(STALE), show_alert=True)
    else:
        log.info("chat %s: unwatch %r (button)", address, removed)
        await query.answer(_("Removed {term}.").format(term=_label(removed)))
    text, markup = await _view(update, context)
    await redraw(query, text, markup)


async def me_line(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """The /me line: this chat's own terms."""
    rows = await deps(context).db.run(watches.watching, CHANNEL, chat_address(update))
    if not rows:
        return _("Your terms: none (/watch pushbacks)")
    return _("Your terms: {terms} (/watching)").format(terms=", ".join(esc(_label(r.text)) for r in rows))


HANDLERS = {"watch": watch, "watching": watching, "unwatch": unwatch}
