"""The language a chat is spoken to in, and /language to choose it.

A chat that never chose is spoken to in the language of whoever wrote (Telegram's ``language_code``: fr* French,
de* German, anything else English); once it chooses with /language (or its buttons), that choice is kept in the
store and wins. ``choose`` runs before every other handler and sets the language for the rest of the update. For a
private chat that never chose, it also keeps the language its user was last seen writing in, for the alerts (sent
when no one writes, so with no ``language_code`` to read); alerts to a group that never chose are in English.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from watcher import i18n
from watcher.bot.replies import ADMIN_ONLY, CHANNEL, chat_address, deps, excerpt, may_change, redraw, reply
from watcher.i18n import _
from watcher.store import chat_prefs

log = logging.getLogger("watcher.bot")

BUTTON_PATTERN = r"^lang:"


async def choose(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Set the language of every text written while this update is handled."""
    if not isinstance(update, Update):
        return
    chat, user = update.effective_chat, update.effective_user
    if chat is None:
        i18n.use(i18n.from_telegram(user.language_code if user else None))
        return
    d = deps(context)
    chosen, seen = await d.db.run(chat_prefs.languages, CHANNEL, chat_address(update))
    if chosen:
        i18n.use(chosen)
        return
    language = i18n.from_telegram(user.language_code if user else None)
    i18n.use(language)
    if user is not None and user.id == chat.id and seen != language:  # a private chat: its alerts follow its user
        await d.db.run(chat_prefs.set_seen_language, CHANNEL, chat_address(update), language)


def _view() -> tuple[str, InlineKeyboardMarkup]:
    codes = ", ".join(f"<code>{code}</code>" for code in i18n.LANGUAGES)
    text = _("This chat's language: {language}. Tap another, or write /language with one of {codes}.").format(
        language=i18n.LANGUAGES[i18n.current()], codes=codes
    )
    buttons = [
        InlineKeyboardButton(("✅ " if code == i18n.current() else "") + name, callback_data=f"lang:{code}")
        for code, name in i18n.LANGUAGES.items()
    ]
    return text, InlineKeyboardMarkup([buttons])


async def _set(update: Update, context: ContextTypes.DEFAULT_TYPE, code: str) -> str:
    """Keep the chat's choice and write in it from now on; returns the confirmation, in the new language."""
    await deps(context).db.run(chat_prefs.set_language, CHANNEL, chat_address(update), code)
    log.info("chat %s: language %s", chat_address(update), code)
    i18n.use(code)
    return _("From now on I write to this chat in English.")


async def language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/language fr|de|en sets the chat's language; /language alone shows it with a button per language."""
    args = [a.strip().lower() for a in context.args or []]
    if not args:
        text, markup = _view()
        await reply(update, text, markup)
        return
    if len(args) != 1 or args[0] not in i18n.LANGUAGES:
        codes = ", ".join(f"/language {code}" for code in i18n.LANGUAGES)
        await reply(
            update,
            _("I do not speak {given}. Write {codes} (English, French, German).").format(
                given=excerpt(" ".join(context.args or [])), codes=codes
            ),
        )
        return
    if not await may_change(update, context):
        await reply(update, _(ADMIN_ONLY))
        return
    await reply(update, await _set(update, context, args[0]))


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A language button: set that language and redraw the buttons; forged data changes nothing."""
    query = update.callback_query
    if query is None:
        return
    code = (query.data or "")[len("lang:") :]
    if code not in i18n.LANGUAGES:
        log.warning("chat %s: refused a language button with data %r", chat_address(update), (query.data or "")[:64])
        await query.answer(_("That button is not one I sent: nothing changed. Send /language."))
        return
    if not await may_change(update, context):
        await query.answer(_(ADMIN_ONLY), show_alert=True)
        return
    await query.answer(await _set(update, context, code))
    text, markup = _view()
    await redraw(query, text, markup)


HANDLERS = {"language": language}
