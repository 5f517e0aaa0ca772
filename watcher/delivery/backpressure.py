"""Backpressure on the outbox: what tells the operators that the queue is falling behind.

- **The late-queue warning.** Once a minute the age of the oldest alert owed to an instant-mode subscriber is
  compared with ``WATCHER_OUTBOX_ALERT_AGE`` (default 1 h). Past it, the operators get ONE message (through the
  operator-message queue, see :mod:`watcher.delivery.operators`) with the depth and the rates in and out; when the
  age is back under three quarters of the limit, ONE "caught up" message. The state is a row in the store, written
  in the same transaction as the message, so a restart neither repeats nor loses either message.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from watcher.delivery.unrecorded import StoreErrors
from watcher.durations import parse_duration
from watcher.errors import ConfigError
from watcher.health import human_duration, stamp
from watcher.store import health as healthdb
from watcher.store import subscribers
from watcher.store.subscribers import DRAIN_WINDOW_MINUTES

log = logging.getLogger(__name__)

DEFAULT_ALERT_AGE = 3600.0
DEFAULT_CHAT_CAP = 50
RECOVER_RATIO = 0.75  # "caught up" below this share of the limit, so a queue hovering at it does not flap
CHECK_EVERY = 60.0
EVENT_SOURCE = "outbox"


@dataclass(frozen=True)
class BackpressureRules:
    """``alert_age``: seconds before the late-queue warning (0: never); ``chat_cap``: undelivered instant alerts a
    chat may have before the rest is folded (0: never fold)."""

    alert_age: float = DEFAULT_ALERT_AGE
    chat_cap: int = DEFAULT_CHAT_CAP


def rules_from_env(env: Mapping[str, str] | None = None) -> BackpressureRules:
    """Read ``WATCHER_OUTBOX_ALERT_AGE`` and ``WATCHER_OUTBOX_CHAT_CAP``; raises ConfigError naming the fix."""
    env = os.environ if env is None else env
    problems: list[str] = []
    age, cap = DEFAULT_ALERT_AGE, DEFAULT_CHAT_CAP
    age_text = env.get("WATCHER_OUTBOX_ALERT_AGE", "").strip()
    if age_text:
        try:
            age = parse_duration(age_text)
        except ValueError as exc:
            problems.append(f"WATCHER_OUTBOX_ALERT_AGE: {exc} (\"0s\" turns the warning off)")
    cap_text = env.get("WATCHER_OUTBOX_CHAT_CAP", "").strip()
    if cap_text:
        if cap_text.isdigit():
            cap = int(cap_text)
        else:
            problems.append(f"WATCHER_OUTBOX_CHAT_CAP: {cap_text!r} is not a number; give how many undelivered "
                            f"alerts a chat may have before the rest is folded, e.g. {DEFAULT_CHAT_CAP} (0: never)")
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
        return (f"delivered {self.delivered_per_minute:.1f}/min, queued {self.queued_per_minute:.1f}/min "
                f"(last {DRAIN_WINDOW_MINUTES} min); oldest instant alert waiting: {oldest}; {self.outlook()}")

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
    return OutboxFigures(depth=store.outbox_depth(),
                         oldest_age=max(0.0, (now - oldest).total_seconds()) if oldest else None,
                         delivered_per_minute=subscribers.delivered_per_minute(store, now),
                         queued_per_minute=subscribers.queued_per_minute(store, now),
                         notified_at=subscribers.backlog_notified_at(store))


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
        fold = (f"Chats with more than {rules.chat_cap} waiting get the rest folded into fewer messages. "
                if rules.chat_cap else "")
        return (f"⏳ watcher: alerts are late. The oldest undelivered alert (daily digests aside) has waited "
                f"{human_duration(fig.oldest_age or 0)} (limit {human_duration(rules.alert_age)}); alerts waiting: "
                f"{fig.depth}. Over the last {DRAIN_WINDOW_MINUTES} min {fig.delivered_per_minute:.1f} a minute were "
                f"delivered and {fig.queued_per_minute:.1f} a minute queued: {fig.outlook()}. {fold}See the "
                f"\"delivery:\" lines in the log for refusals and flood waits. One more message will follow when "
                f"the queue has caught up.")
    since = f" since {stamp(fig.notified_at)}" if fig.notified_at else ""
    oldest = f"the oldest has waited {human_duration(fig.oldest_age)}" if fig.oldest_age is not None else \
        "nothing waits"
    return (f"✅ watcher: alerts are on time again (they had been late{since}): {fig.depth} waiting, {oldest}, "
            f"{fig.delivered_per_minute:.1f} a minute delivered.")


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
        self.store = store
        self.rules = rules
        self.wake = wake

    async def check(self) -> str | None:
        """One check; returns the kind of message queued, if any."""
        kind, fig = check_backlog(self.store, self.rules)
        if kind is None:
            return None
        log.log(logging.WARNING if kind == "late" else logging.INFO, "outbox: %s: %s", kind.replace("_", " "),
                fig.summary())
        if self.wake is not None:
            self.wake()
        return kind

    async def run_check(self) -> None:
        """The scheduler's job: a check, with a database that refuses work logged and tried again next time."""
        try:
            await self.check()
        except StoreErrors as exc:
            log.warning("outbox: the backlog check could not read the database (%s); trying again in %.0fs", exc,
                        CHECK_EVERY)

