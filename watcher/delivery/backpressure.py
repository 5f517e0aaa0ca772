"""Backpressure on the outbox: what tells the operators that the queue is falling behind, and what bounds it.

- **The late-queue warning.** Once a minute the age of the oldest alert owed to an instant-mode subscriber is
  compared with ``WATCHER_OUTBOX_ALERT_AGE`` (default 1 h). Past it, the operators get ONE message (through the
  operator-message queue, see :mod:`watcher.delivery.operators`) with the depth and the rates in and out; when the
  age is back under three quarters of the limit, ONE "caught up" message. The state is a row in the store, written
  in the same transaction as the message, so a restart neither repeats nor loses either message.
- **The per-chat cap.** A chat with more than ``WATCHER_OUTBOX_CHAT_CAP`` (default 50) undelivered instant alerts
  gets its oldest alerts beyond that number folded into digest-style messages (as many alerts per message as fit
  under Telegram's limit), instead of one message each. Nothing is dropped: the folded alerts are marked delivered
  when the message carrying them is accepted, exactly as a daily digest's. Alerts in flight are never folded, so
  none is sent twice. Only notifiers that can send a free text (Telegram) are folded.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
from datetime import datetime

from watcher.delivery.digest import DigestSender
from watcher.delivery.unrecorded import StoreErrors
from watcher.durations import parse_duration
from watcher.errors import ConfigError
from watcher.health import human_duration, stamp
from watcher.i18n import _, ngettext, speaking
from watcher.models import Alert
from watcher.notifiers import Notifier
from watcher.notifiers.fit import cut_plain, shorten_html
from watcher.notifiers.format import digest_messages
from watcher.store import health as healthdb
from watcher.store import subscribers
from watcher.store.aio import as_async
from watcher.store.subscribers import DRAIN_WINDOW_MINUTES

log = logging.getLogger(__name__)

DEFAULT_ALERT_AGE = 3600.0
DEFAULT_CHAT_CAP = 50
MAX_CHAT_CAP = 100_000  # a larger cap never folds in practice (and a number past SQLite's integers breaks the query)
RECOVER_RATIO = 0.75  # "caught up" below this share of the limit, so a queue hovering at it does not flap
CHECK_EVERY = 60.0
ROUND_SECONDS = 15.0  # longest fold round: of each 20 s between rounds, single sends keep at least a quarter
MAX_FOLD = 200  # alerts folded per chat per round (about a dozen messages)
MAX_CHATS = 1000  # chats folded per round, the longest queues first
EVENT_SOURCE = "outbox"


@dataclass(frozen=True)
class BackpressureRules:
    """``alert_age``: seconds before the late-queue warning (0: never); ``chat_cap``: undelivered instant alerts a
    chat may have before the rest is folded (0: never fold)."""

    alert_age: float = DEFAULT_ALERT_AGE
    chat_cap: int = DEFAULT_CHAT_CAP


def rules_from_env(env: Mapping[str, str] | None = None) -> BackpressureRules:
    """Read ``WATCHER_OUTBOX_ALERT_AGE`` and ``WATCHER_OUTBOX_CHAT_CAP``; raises ConfigError naming the fix.
    ``watcher run`` stops on a bad value and ``watcher check-config`` reports it."""
    env = os.environ if env is None else env
    problems: list[str] = []
    age, cap = DEFAULT_ALERT_AGE, DEFAULT_CHAT_CAP
    age_text = env.get("WATCHER_OUTBOX_ALERT_AGE", "").strip()
    if age_text:
        try:
            age = parse_duration(age_text)
        except ValueError as exc:
            problems.append(f'WATCHER_OUTBOX_ALERT_AGE: {exc} ("0s" turns the warning off)')
    cap_text = env.get("WATCHER_OUTBOX_CHAT_CAP", "").strip()
    if cap_text:
        if cap_text.isdigit() and int(cap_text) <= MAX_CHAT_CAP:
            cap = int(cap_text)
        elif cap_text.isdigit():
            problems.append(
                f"WATCHER_OUTBOX_CHAT_CAP: {cap_text} is more than {MAX_CHAT_CAP:,}; give a smaller number, "
                f"e.g. {DEFAULT_CHAT_CAP}, or 0 never to fold"
            )
        else:
            problems.append(
                f"WATCHER_OUTBOX_CHAT_CAP: {cap_text!r} is not a number; give how many undelivered "
                f"alerts a chat may have before the rest is folded, e.g. {DEFAULT_CHAT_CAP} (0: never)"
            )
    if problems:
        raise ConfigError(problems)
    return BackpressureRules(alert_age=age, chat_cap=cap)


# --- the figures and the late-queue warning ---------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxFigures:
    depth: int
    oldest_age: float | None  # seconds the oldest instant alert has waited; None when none waits
    delivered_per_minute: float
    queued_per_minute: float
    notified_at: datetime | None  # when the operators were told it is late; None while it is not

    def summary(self) -> str:
        """One plain line: the rates over the window, the oldest wait, and whether the queue shrinks."""
        oldest = human_duration(self.oldest_age) if self.oldest_age is not None else "none"
        return (
            f"delivered {self.delivered_per_minute:.1f}/min, queued {self.queued_per_minute:.1f}/min "
            f"(last {DRAIN_WINDOW_MINUTES} min); oldest instant alert waiting: {oldest}; {self.outlook()}"
        )

    def outlook(self) -> str:
        if not self.depth:
            return "nothing waits"
        net = self.delivered_per_minute - self.queued_per_minute
        if net <= 0:
            return "at this pace the queue does not shrink"
        return f"at this pace it empties in about {human_duration(self.depth / net * 60)}"


def figures(store, now: datetime | None = None) -> OutboxFigures:
    """The outbox's figures now, read from the store."""
    now = now or store.clock()
    oldest = subscribers.oldest_instant_pending_at(store)
    return OutboxFigures(
        depth=store.outbox_depth(),
        oldest_age=max(0.0, (now - oldest).total_seconds()) if oldest else None,
        delivered_per_minute=subscribers.delivered_per_minute(store, now),
        queued_per_minute=subscribers.queued_per_minute(store, now),
        notified_at=subscribers.backlog_notified_at(store),
    )


def decide(oldest_age: float | None, notified: bool, limit: float) -> str | None:
    """Which message one check calls for: "late", "caught_up", or None."""
    if limit <= 0:
        return None
    if not notified and oldest_age is not None and oldest_age > limit:
        return "late"
    if notified and (oldest_age is None or oldest_age < limit * RECOVER_RATIO):
        return "caught_up"
    return None


def message(kind: str, fig: OutboxFigures, rules: BackpressureRules) -> str:
    """The operators' message, plain text."""
    if kind == "late":
        fold = (
            f"Chats with more than {rules.chat_cap} waiting get the rest folded into fewer messages. "
            if rules.chat_cap
            else ""
        )
        return (
            f"⏳ watcher: alerts are late. The oldest undelivered alert (daily digests aside) has waited "
            f"{human_duration(fig.oldest_age or 0)} (limit {human_duration(rules.alert_age)}); alerts waiting: "
            f"{fig.depth}. Over the last {DRAIN_WINDOW_MINUTES} min {fig.delivered_per_minute:.1f} a minute were "
            f"delivered and {fig.queued_per_minute:.1f} a minute queued: {fig.outlook()}. {fold}See the "
            f'"delivery:" lines in the log for refusals and flood waits. One more message will follow when '
            f"the queue has caught up."
        )
    since = f" since {stamp(fig.notified_at)}" if fig.notified_at else ""
    oldest = (
        f"the oldest has waited {human_duration(fig.oldest_age)}" if fig.oldest_age is not None else "nothing waits"
    )
    return (
        f"✅ watcher: alerts are on time again (they had been late{since}): {fig.depth} waiting, {oldest}, "
        f"{fig.delivered_per_minute:.1f} a minute delivered."
    )


def check_backlog(store, rules: BackpressureRules) -> tuple[str | None, OutboxFigures]:
    """One check of the store, in one transaction with the message it queues: the kind queued (or None) and the
    figures it saw."""
    now = store.clock()
    fig = figures(store, now)
    with store.tx():  # the state is read again inside, so two checks never queue the same message
        notified = subscribers.backlog_notified_at(store) is not None
        kind = decide(fig.oldest_age, notified, rules.alert_age)
        if kind is not None:
            healthdb.enqueue_event(store, EVENT_SOURCE, kind, None, message(kind, fig, rules))
            subscribers.set_backlog_notified(store, now if kind == "late" else None)
    return kind, fig


class BacklogWatch:
    """Checks the outbox's age against the limit and queues the operators' late and caught-up messages."""

    def __init__(self, store, rules: BackpressureRules, wake: Callable[[], None] | None = None):
        self.db = as_async(store)
        self.rules = rules
        self.wake = wake

    async def check(self) -> str | None:
        """One check (on the database thread while the service runs); returns the kind queued, if any."""
        kind, fig = await self.db.run(check_backlog, self.rules)
        if kind is None:
            return None
        log.log(
            logging.WARNING if kind == "late" else logging.INFO, "outbox: %s: %s", kind.replace("_", " "), fig.summary()
        )
        if self.wake is not None:
            self.wake()
        return kind

    async def run_check(self) -> None:
        """The scheduler's job: a check, with a database that refuses work logged and tried again next time."""
        try:
            await self.check()
        except StoreErrors as exc:
            log.warning(
                "outbox: the backlog check could not read the database (%s); trying again in %.0fs", exc, CHECK_EVERY
            )


# --- the per-chat cap -------------------------------------------------------------------------------------------


def folded_messages(
    alerts: list[Alert], labels: Mapping[str, str], sources: Mapping[str, str] | None = None
) -> list[tuple[str, str, list[int]]]:
    """The alerts as digest messages (split between alerts under Telegram's limit), headed as a catch-up, each
    source by its label (``sources``: name -> label) and in the chat's language (the alerts are one chat's)."""
    parts = digest_messages(alerts, labels, sources=sources)
    out = []
    with speaking(alerts[0].language if alerts else "en"):
        title = _("Catching up")
        count = ngettext("{n} earlier alert", "{n} earlier alerts", len(alerts)).format(n=len(alerts))
        for number, (html_text, plain_text, ids) in enumerate(parts, 1):
            part = " " + _("(part {n} of {total})").format(n=number, total=len(parts)) if len(parts) > 1 else ""
            head_html = "🗞 " + _("{title}: {count}").format(title=f"<b>{title}</b>", count=count) + part
            head_text = _("{title}: {count}").format(title=title, count=count) + part
            out.append(
                (
                    shorten_html(f"{head_html}\n\n{_body(html_text)}"),
                    cut_plain(f"{head_text}\n\n{_body(plain_text)}"),
                    ids,
                )
            )
    return out


def _body(message_text: str) -> str:
    """A digest message without its heading line."""
    return message_text.split("\n\n", 1)[1] if "\n\n" in message_text else message_text


class OverflowFolder(DigestSender):
    """Folds each over-cap chat's oldest alerts beyond the cap into catch-up messages and sends them.

    It runs inside the delivery worker's loop, so no new single send starts meanwhile, and it leaves out the alerts
    in ``inflight``: an alert goes either alone or folded, never both."""

    def __init__(
        self,
        store,
        notifiers: Mapping[str, Notifier],
        pacer,
        count: Callable[[str, str], None],
        *,
        cap: int,
        inflight: Container[int],
    ):
        super().__init__(store, notifiers, pacer, lambda channel, kind: count(channel, "folded"))
        self.db = as_async(store)
        self.cap = cap
        self.inflight = inflight
        self.folded = 0

    async def run_due(self) -> int:
        """Send folded messages for the chats over the cap, one part per chat in turn, for at most ROUND_SECONDS;
        returns how many alerts were handed over."""
        if self.cap <= 0:
            return 0
        chats = await self.db.run(subscribers.overflowing, self.channels(), self.cap, MAX_CHATS)
        plans: list[tuple[Mapping, list | None]] = [(sub, None) for sub in chats]  # parts built at a chat's turn
        deadline = self.pacer.monotonic() + ROUND_SECONDS
        handed = sent = 0
        try:
            while any(parts is None or parts for _, parts in plans) and self.pacer.monotonic() < deadline:
                for n, (sub, parts) in enumerate(plans):
                    if parts == [] or self.pacer.monotonic() >= deadline:
                        continue
                    if parts is None:
                        plans[n] = (sub, parts := await self._parts(sub))
                    if not parts or not self._chat_free(sub):  # a group at its minute limit waits for the next round
                        parts.clear()
                        continue
                    folded = await self._send_folded(sub, parts)
                    handed, sent = handed + folded, sent + bool(folded)
        finally:
            await self.release_claimed()
        if handed:
            log.info(
                "delivery: %d alerts of %d chats over the cap of %d went out folded in %d messages",
                handed,
                len(chats),
                self.cap,
                sent,
            )
        self.folded += handed
        return handed

    async def _parts(self, sub: Mapping) -> list[tuple[str, str, list[int]]]:
        over = min(int(sub["waiting"]) - self.cap, MAX_FOLD)
        alerts = await self.claim_pending(sub["id"], over)
        if alerts:
            log.debug(
                "delivery: %s %s has %d alerts waiting (cap %d); folding %d",
                sub["channel"],
                sub["address"],
                sub["waiting"],
                self.cap,
                len(alerts),
            )
        notifier = self.notifiers[sub["channel"]]
        return folded_messages(alerts, notifier.labels, getattr(notifier, "source_labels", None)) if alerts else []

    def _chat_free(self, sub: Mapping) -> bool:
        """Whether the chat may get a message within its ordinary per-message interval."""
        notifier = self.notifiers[sub["channel"]]
        wait = self.pacer.chat_wait(
            f"{sub['channel']}:{sub['address']}", notifier.is_group(sub["address"]), notifier.chat_paced
        )
        return wait <= self.pacer.per_chat

    async def _send_folded(self, sub: Mapping, parts: list) -> int:
        """Send the next part; its alerts are marked delivered once it is accepted. A refusal stops this chat."""
        html_text, plain_text, ids = parts.pop(0)
        if not await self._send_part(self.notifiers[sub["channel"]], sub, html_text, plain_text, ids):
            parts.clear()
            return 0
        await self.handed(ids)
        return len(ids)
