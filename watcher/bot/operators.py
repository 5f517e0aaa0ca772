"""Operators' commands. They answer only in the chats listed in WATCHER_ADMIN_CHAT_IDS; anywhere else they reply
with one polite line that gives away nothing about the service."""

from __future__ import annotations

import logging
from functools import wraps

from telegram import Update
from telegram.ext import ContextTypes

from watcher.bot.replies import (
    CHANNEL,
    OPERATORS_ONLY,
    chat_address,
    deps,
    esc,
    excerpt,
    is_operator,
    reply,
    reply_lines,
)
from watcher.delivery import backpressure
from watcher.errors import NotifyError
from watcher.health import ago, line_of, source_health
from watcher.logs import redact
from watcher.notifiers.format import sample_alert
from watcher.notifiers.telegram import TelegramNotifier
from watcher.store import ledger, subscribers

log = logging.getLogger("watcher.bot")


def operators_only(handler):
    """Run the handler only in an operators' chat; elsewhere reply with a refusal and log the attempt."""

    @wraps(handler)
    async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not is_operator(update, deps(context)):
            text = update.effective_message.text if update.effective_message else None
            log.warning(
                "chat %s: refused operators' command %s", chat_address(update), ((text or "").split() or ["?"])[0][:40]
            )
            await reply(update, OPERATORS_ONLY)
            return
        await handler(update, context)

    return guarded


@operators_only
async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Subscribers, alerts sent, the queue and its failures."""
    d = deps(context)
    now = d.store.clock()
    s = await d.db.run(subscribers.stats, now)
    subs = (
        "; ".join(
            f"{esc(channel)} {sum(modes.values())}"
            + (f" ({', '.join(f'{n} {esc(m)}' for m, n in sorted(modes.items()))})" if len(modes) > 1 else "")
            for channel, modes in sorted(s["subscribers"].items())
        )
        or "none"
    )
    paused = [name for name, st in (await d.db.source_states()).items() if st.get("paused")]
    outbox = await d.db.run(backpressure.figures, now)
    lines = [
        f"Subscribers: {subs}; inactive {s['inactive']}",
        f"Alerts sent: {s['sent_total']} (last 24 h: {s['sent_24h']})",
        f"Queue: {s['queue']} waiting, {s['retrying']} being retried; oldest {ago(s['oldest_pending'], now)}"
        if s["queue"]
        else "Queue: empty",
        f"Drain: {esc(outbox.summary())}"
        + (f"; operators told alerts are late {ago(outbox.notified_at, now)}" if outbox.notified_at else ""),
        f"Dropped: {s['dropped_total']} (last 24 h: {s['dropped_24h']})",
    ]
    if s["last_errors"]:
        lines.append("Last errors: " + "; ".join(esc(redact(e)[:120]) for e in s["last_errors"]))
    lines.append("Paused sources: " + (esc(", ".join(paused)) if paused else "none"))
    lines.extend(f"Ledger {esc(line)}" for line in await d.db.run(ledger.operator_lines))
    await reply_lines(update, "<b>Statistics</b>", lines)


@operators_only
async def sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every configured source with its kind, interval, address and state."""
    d = deps(context)
    now = d.store.clock()
    lines = []
    for src, row in zip(d.sources, await d.db.run(source_health, d.sources, d.rules, now)):
        lines.append(
            f"{esc(line_of(row, now))}\n   {esc(src.kind)}, every {_every(src.every)}: <code>{esc(src.url)}</code>"
        )
    await reply_lines(
        update,
        f"<b>{len(lines)} sources</b> (/pause &lt;source&gt;, /resume &lt;source&gt;)",
        lines or ["none configured"],
    )


def _every(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


async def _set_paused(update: Update, context: ContextTypes.DEFAULT_TYPE, paused: bool) -> None:
    d = deps(context)
    names = [s.name for s in d.sources]
    verb = "pause" if paused else "resume"
    if not context.args or context.args[0] not in names:
        given = f"Unknown source {excerpt(context.args[0])}. " if context.args else ""
        await reply(
            update,
            f"{given}Write /{verb} &lt;source&gt; with one of: " + ", ".join(f"<code>{esc(n)}</code>" for n in names),
        )
        return
    name = context.args[0]
    if bool((await d.db.source_states()).get(name, {}).get("paused")) == paused:
        await reply(update, f"<code>{esc(name)}</code> is already {'paused' if paused else 'polled'}; nothing changed.")
        return
    await d.db.run(subscribers.set_paused, name, paused)
    log.info("chat %s: source %s %s by an operator", chat_address(update), name, "paused" if paused else "resumed")
    if paused:
        await reply(update, f"Paused <code>{esc(name)}</code>: it is not polled until /resume {esc(name)}.")
    else:
        await reply(update, f"Resumed <code>{esc(name)}</code>: it is polled again on its schedule.")


@operators_only
async def pause(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop polling a source until it is resumed."""
    await _set_paused(update, context, True)


@operators_only
async def resume(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Poll a paused source again."""
    await _set_paused(update, context, False)


@operators_only
async def test(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send a sample alert to this chat through the same formatting and sending path as real alerts."""
    d = deps(context)
    topic = next(iter(d.topics), "test")
    alert = sample_alert(CHANNEL, chat_address(update), topic)
    try:
        await TelegramNotifier(context.bot, d.labels).send(alert)
    except NotifyError as exc:
        log.error("chat %s: the test alert was refused: %s", chat_address(update), exc)
        await reply(update, f"The test alert was refused: {esc(exc)}")


HANDLERS = {"stats": stats, "sources": sources, "pause": pause, "resume": resume, "test": test}
