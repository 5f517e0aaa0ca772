"""Source health: the rules that decide when the operator is told something, and how health reads.

The rules, per source:

- after ``failure_threshold`` consecutive failed polls: ONE "failing" message naming the failure class;
- at the first successful poll after that: ONE "recovered" message;
- when polls succeed but no new item has been recorded for longer than the source's ``quiet`` period (and the
  source has had items, so it normally yields some): ONE "stale" warning, then nothing until a new item arrives
  and the source goes quiet again;
- nothing else in between. Every poll is also written to the poll log.

``decide`` is the pure core; ``observe`` applies it to the store after each poll, in one transaction with the
message it queues, so no message is lost or doubled across a restart. ``source_health`` and the renderers feed
``watcher status`` and the bot's ``/status``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from watcher.clock import from_iso, iso
from watcher.durations import doubling, parse_duration
from watcher.i18n import N_
from watcher.store import health as healthdb

log = logging.getLogger(__name__)

DAY = 86400.0
# What each failure class means, in English for the operators; marked so that /status can say it in a chat's
# language (watcher.bot.status).
FAILURE_LABELS = {
    "blocked": N_("blocked by bot protection"),
    "rate_limited": N_("rate limited"),
    "server_error": N_("server error"),
    "client_error": N_("the request was refused (4xx)"),
    "timeout": N_("timed out"),
    "too_large": N_("answer too large"),
    "network": N_("network error"),
    "unparseable": N_("could not be parsed"),
    "empty": N_("no items where items were expected"),
    "redirect_loop": N_("redirect loop"),
    "disallowed": N_("disallowed by robots.txt"),
    "store": N_("the database refused to record the poll"),
}


@dataclass(frozen=True)
class HealthRules:
    """Defaults from ``[health]`` in sources.toml; a source may override threshold and quiet period."""

    failure_threshold: int = 3
    quiet: float = 7 * DAY
    backoff_cap: float = 6 * 3600.0
    items_window: float = 7 * DAY

    def threshold_for(self, source) -> int:
        return getattr(source, "failure_threshold", 0) or self.failure_threshold

    def quiet_for(self, source) -> float:
        own = getattr(source, "quiet", -1.0)
        return own if own is not None and own >= 0 else self.quiet


HEALTH_KEYS = ("failure_threshold", "quiet", "backoff_cap", "items_window")


def rules_from_toml(table: Any, filename: str) -> tuple[HealthRules, list[str]]:
    """Read the optional ``[health]`` table; every problem names the key and the fix."""
    if table is None:
        return HealthRules(), []
    if not isinstance(table, dict):
        return HealthRules(), [f"{filename}: [health] must be a table"]
    problems: list[str] = []
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in HEALTH_KEYS:
            problems.append(f"{filename}: [health]: unknown key {key!r}; allowed: {', '.join(HEALTH_KEYS)}")
        elif key == "failure_threshold":
            if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
                values[key] = value
            else:
                problems.append(
                    f"{filename}: [health]: 'failure_threshold' must be a whole number of at least 1, got {value!r}"
                )
        else:
            try:
                values[key] = parse_duration(value)
            except ValueError as exc:
                problems.append(f"{filename}: [health]: {key!r}: {exc}")
    return HealthRules(**values), problems


def next_delay(every: float, consecutive_failures: int, cap: float) -> float:
    """Seconds until a source's next poll: its interval while healthy or after one failure, then doubling with
    each further consecutive failure, never more than ``cap`` (nor less than the interval)."""
    if consecutive_failures <= 1:
        return every
    return doubling(consecutive_failures - 1, every, max(cap, every))


# --- the rules ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """What the rules look at, read after the poll was recorded."""

    consecutive_failures: int = 0
    failing_since: datetime | None = None
    failure_notified_at: datetime | None = None
    stale_notified_at: datetime | None = None
    last_new_at: datetime | None = None


def decide(
    snap: Snapshot, failure: str | None, now: datetime, threshold: int, quiet: float
) -> tuple[list[str], dict[str, datetime | None]]:
    """The messages one poll calls for ("failing", "recovered", "stale") and the health columns to write."""
    kinds: list[str] = []
    updates: dict[str, datetime | None] = {}
    if failure is not None:
        if snap.failing_since is None:
            updates["failing_since"] = now
        if snap.failure_notified_at is None and snap.consecutive_failures >= threshold:
            kinds.append("failing")
            updates["failure_notified_at"] = now
        return kinds, updates
    if snap.failure_notified_at is not None:
        kinds.append("recovered")
    if snap.failing_since is not None or snap.failure_notified_at is not None:
        updates.update(failing_since=None, failure_notified_at=None)
    last = snap.last_new_at
    if (
        last is not None
        and quiet > 0
        and (now - last).total_seconds() > quiet
        and (snap.stale_notified_at is None or snap.stale_notified_at < last)
    ):
        kinds.append("stale")
        updates["stale_notified_at"] = now
    return kinds, updates


def human_duration(seconds: float) -> str:
    seconds = int(max(0, seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m" if minutes else f"{seconds}s"


def stamp(dt: datetime | None) -> str:
    return dt.strftime("%Y-%m-%d %H:%M UTC") if dt else "never"


def event_text(kind: str, source, snap: Snapshot, failure: str | None, detail: str, now: datetime, quiet: float) -> str:
    """The operator's message, as plain text (it is never sent with a parse mode)."""
    name = source.name
    if kind == "failing":
        since = snap.failing_since or now
        # A kind may say more about one failure class (the Council register when it is blocked, say).
        own = getattr(source, "failing_message", None)
        text = own(failure, snap.consecutive_failures, stamp(since), detail[:300]) if callable(own) else None
        if text:
            return text
        label = FAILURE_LABELS.get(failure or "", failure or "error")
        return (
            f"⚠️ watcher: source {name} is failing: {failure} ({label}). "
            f"{snap.consecutive_failures} polls in a row have failed, since {stamp(since)}. "
            f"Last error: {detail[:300]}. One more message will follow when it works again."
        )
    if kind == "recovered":
        began = snap.failing_since
        down = f" since {stamp(began)} ({human_duration((now - began).total_seconds())})" if began else ""
        return f"✅ watcher: source {name} works again (it had been failing{down})."
    last = snap.last_new_at or now
    return (
        f"💤 watcher: source {name} has recorded nothing new for {human_duration((now - last).total_seconds())} "
        f"(last new item {stamp(last)}; its quiet period is {human_duration(quiet)}). Its polls succeed, so "
        f"either it is simply quiet or its page changed so that new items are missed: {source.url}"
    )


def snapshot(store, source: str) -> Snapshot:
    row = healthdb.state_row(store, source)
    return Snapshot(
        consecutive_failures=int(row.get("consecutive_failures") or 0),
        failing_since=from_iso(row.get("failing_since")),
        failure_notified_at=from_iso(row.get("failure_notified_at")),
        stale_notified_at=from_iso(row.get("stale_notified_at")),
        last_new_at=healthdb.last_new_at(store, source),
    )


def observe(store, source, result, rules: HealthRules) -> list[tuple[str, str]]:
    """After a recorded poll: log it, apply the rules, and queue the operator messages they call for (one
    transaction). Returns (kind, text) for each message queued."""
    now = store.clock()
    outcome = result.failure or ("unchanged" if getattr(result, "unchanged", False) else "ok")
    queued: list[tuple[str, str]] = []
    with store.tx():
        healthdb.log_poll(store, source.name, outcome, result.detail, len(result.items), len(result.new))
        snap = snapshot(store, source.name)
        quiet = rules.quiet_for(source)
        kinds, updates = decide(snap, result.failure, now, rules.threshold_for(source), quiet)
        if outcome == "unchanged":
            updates["last_unchanged_at"] = now
        healthdb.set_health(store, source.name, updates)
        for kind in kinds:
            text = event_text(kind, source, snap, result.failure, result.detail, now, quiet)
            healthdb.enqueue_event(store, source.name, kind, result.failure, text)
            queued.append((kind, text))
    for kind, _text in queued:
        log.info("source %s: health: queued %s message for the operators", source.name, kind)
    return queued


# --- what operators read ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceHealth:
    name: str
    kind: str
    enabled: bool
    status: str
    last_success_at: str | None
    last_attempt_at: str | None
    consecutive_failures: int
    last_failure: str | None
    last_failure_detail: str | None
    failing_since: str | None
    last_new_at: str | None
    last_unchanged_at: str | None
    new_items: int
    window_days: float
    quiet_seconds: float
    threshold: int
    label: str = ""  # the source's human name from sources.toml ("" when it has none)


def status_of(enabled: bool, row: dict, snap: Snapshot, threshold: int, quiet: float, now: datetime) -> str:
    """The one word for a source's state. "failing" means at least ``threshold`` failed polls in a row (when the
    operator is told), "blocked" the same when the last of them met bot protection; fewer is "degraded"."""
    if not enabled:
        return "disabled"
    if row.get("paused"):
        return "paused"
    if not row.get("last_attempt_at"):
        return "never polled"
    if snap.consecutive_failures >= threshold:
        return "blocked" if row.get("last_failure") == "blocked" else "failing"
    if snap.consecutive_failures:
        return "degraded"
    last = snap.last_new_at
    if quiet > 0 and last is not None and (now - last).total_seconds() > quiet:
        return "stale"
    return "ok"


def source_health(store, sources: Iterable, rules: HealthRules, now: datetime | None = None) -> list[SourceHealth]:
    """Health of each configured source, read from the store."""
    now = now or store.clock()
    out = []
    for src in sources:
        row = healthdb.state_row(store, src.name)
        snap = snapshot(store, src.name)
        threshold, quiet = rules.threshold_for(src), rules.quiet_for(src)
        window_start = now - timedelta(seconds=rules.items_window)
        out.append(
            SourceHealth(
                name=src.name,
                kind=getattr(src, "kind", ""),
                enabled=bool(src.enabled),
                status=status_of(src.enabled, row, snap, threshold, quiet, now),
                last_success_at=row.get("last_success_at"),
                last_attempt_at=row.get("last_attempt_at"),
                consecutive_failures=snap.consecutive_failures,
                last_failure=row.get("last_failure"),
                last_failure_detail=row.get("last_failure_detail"),
                failing_since=iso(snap.failing_since),
                last_new_at=iso(snap.last_new_at),
                last_unchanged_at=row.get("last_unchanged_at"),
                new_items=healthdb.new_items_since(store, src.name, window_start) if row else 0,
                window_days=rules.items_window / DAY,
                quiet_seconds=quiet,
                threshold=threshold,
                label=str(getattr(src, "label", "") or ""),
            )
        )
    return out


def to_json(rows: list[SourceHealth]) -> list[dict]:
    return [asdict(r) for r in rows]


def ago(when: datetime | str | None, now: datetime) -> str:
    """'never', 'just now', or how long ago: '12m ago', '3h 5m ago', '2d 4h ago'."""
    if isinstance(when, str):
        when = from_iso(when)
    if when is None:
        return "never"
    seconds = (now - when).total_seconds()
    return "just now" if seconds < 60 else f"{human_duration(seconds)} ago"


def render_table(rows: list[SourceHealth], now: datetime) -> str:
    """A fixed-width table for the terminal."""
    window = f"new/{rows[0].window_days:g}d" if rows else "new"
    header = ("source", "status", "last success", "fails", "last failure", window, "last new item")
    lines = [header]
    for r in rows:
        lines.append(
            (
                r.name,
                r.status,
                ago(r.last_success_at, now),
                str(r.consecutive_failures),
                r.last_failure or "-",
                str(r.new_items),
                ago(r.last_new_at, now),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines]
    for r in rows:
        if r.status in TROUBLE and r.last_failure_detail:
            text.append(f"{r.name}: {r.last_failure}: {r.last_failure_detail}")
    return "\n".join(text)


STATUS_MARKS = {
    "ok": "✅",
    "failing": "⚠️",
    "blocked": "🛡",
    "degraded": "🟡",
    "stale": "💤",
    "never polled": "⏳",
    "disabled": "⏹",
    "paused": "⏸",
}
TROUBLE = ("failing", "blocked", "degraded")
STATUS_WORDS = {"blocked": FAILURE_LABELS["blocked"]}  # how a chat line says a status, where not its one word


def line_of(r: SourceHealth, now: datetime, by_label: bool = False) -> str:
    """One source as a short plain-text line, for a chat (by its label with ``by_label``); escape before sending as
    HTML."""
    name = (r.label or r.name) if by_label else r.name
    text = f"{STATUS_MARKS.get(r.status, '•')} {name}: {STATUS_WORDS.get(r.status, r.status)}"
    if r.status == "disabled":
        return text + " in sources.toml"
    if r.consecutive_failures:
        polls = "1 poll" if r.consecutive_failures == 1 else f"{r.consecutive_failures} polls in a row"
        text += f" ({polls})" if r.status == "blocked" else f" ({r.last_failure or 'error'}, {polls})"
    text += f"; last success {ago(r.last_success_at, now)}"
    if r.status not in ("never polled", "paused"):
        text += f"; {r.new_items} new in {r.window_days:g}d"
    return text


def summary_of(rows: list[SourceHealth]) -> str:
    """'5 sources polled, 1 failing, 1 blocked by bot protection, 1 degraded' (paused and disabled sources are not
    counted as polled)."""
    polled = sum(1 for r in rows if r.status not in ("disabled", "paused"))
    counts = {s: sum(1 for r in rows if r.status == s) for s in TROUBLE}
    extra = "".join(f", {n} {STATUS_WORDS.get(s, s)}" for s, n in counts.items() if n and s != "failing")
    return f"{polled} source{'s' if polled != 1 else ''} polled, {counts['failing']} failing{extra}"


def render_lines(rows: list[SourceHealth], now: datetime, by_label: bool = False) -> list[str]:
    """The chat view (``/status`` by label, ``/sources`` by name): a summary, then one line per source, trouble
    first."""
    ordered = sorted(rows, key=lambda r: TROUBLE.index(r.status) if r.status in TROUBLE else len(TROUBLE))
    return [summary_of(rows), *(line_of(r, now, by_label) for r in ordered)]
