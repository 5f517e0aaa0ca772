"""The ``/status`` lines a subscriber reads, in the chat's language.

The facts come from :func:`watcher.health.source_health`; this module only says them, by each source's label, with
the words marked for the catalogues. The operators' ``/sources`` and the ``watcher status`` command keep the English
lines of :mod:`watcher.health` (by source name, with the failure classes as the logs write them).
"""

from __future__ import annotations

from datetime import datetime

from watcher.clock import from_iso
from watcher.health import FAILURE_LABELS, STATUS_MARKS, TROUBLE, SourceHealth
from watcher.i18n import N_, _, ngettext

WORDS = {  # how a chat line says each status
    "ok": N_("ok"),
    "failing": N_("failing"),
    "blocked": FAILURE_LABELS["blocked"],
    "degraded": N_("degraded"),
    "stale": N_("nothing new for a while"),
    "never polled": N_("never polled"),
    "disabled": N_("disabled in sources.toml"),
    "paused": N_("paused"),
}


def duration(seconds: float) -> str:
    """A length of time in at most two units: ``2d 4h``, ``2 j 4 h``, ``2 T. 4 Std.``."""
    seconds = int(max(0, seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    units = [
        (days, _("{n}d")),
        (hours, _("{n}h")),
        (minutes, _("{n}m")),
    ]
    shown = [unit.format(n=n) for n, unit in units if n][:2]
    if days and not hours:
        shown = shown[:1]
    return " ".join(shown) if shown else _("{n}s").format(n=seconds)


def ago(when: str | None, now: datetime) -> str:
    """``never``, ``just now`` or how long ago, in the current language."""
    moment = from_iso(when)
    if moment is None:
        return _("never")
    seconds = (now - moment).total_seconds()
    return _("just now") if seconds < 60 else _("{duration} ago").format(duration=duration(seconds))


def line(r: SourceHealth, now: datetime) -> str:
    """One source, by its label, as plain text (escape it before sending it as HTML)."""
    state = _(WORDS.get(r.status, r.status))
    head = f"{STATUS_MARKS.get(r.status, '•')} " + _("{source}: {state}").format(source=r.label or r.name, state=state)
    if r.status == "disabled":
        return head
    if r.consecutive_failures:
        n = r.consecutive_failures
        polls = ngettext("{n} failed poll", "{n} failed polls in a row", n).format(n=n)
        reason = _(FAILURE_LABELS[r.last_failure]) if r.last_failure in FAILURE_LABELS else r.last_failure
        head += f" ({polls})" if r.status == "blocked" or not reason else f" ({reason}, {polls})"
    parts = [head, _("last success {ago}").format(ago=ago(r.last_success_at, now))]
    if r.status not in ("never polled", "paused"):
        days = f"{r.window_days:g}"
        parts.append(
            ngettext("{n} new in {days} days", "{n} new in {days} days", r.new_items).format(n=r.new_items, days=days)
        )
    return _("; ").join(parts)


def summary(rows: list[SourceHealth]) -> str:
    """``5 sources polled, 1 failing, 1 blocked by bot protection, 1 degraded`` (paused and disabled sources are
    not counted as polled)."""
    polled = sum(1 for r in rows if r.status not in ("disabled", "paused"))
    counts = {s: sum(1 for r in rows if r.status == s) for s in TROUBLE}
    text = ngettext("{n} source polled, {failing} failing", "{n} sources polled, {failing} failing", polled).format(
        n=polled, failing=counts["failing"]
    )
    if counts["blocked"]:
        text += ", " + ngettext(
            "{n} blocked by bot protection", "{n} blocked by bot protection", counts["blocked"]
        ).format(n=counts["blocked"])
    if counts["degraded"]:
        text += ", " + ngettext("{n} degraded", "{n} degraded", counts["degraded"]).format(n=counts["degraded"])
    return text


def lines(rows: list[SourceHealth], now: datetime) -> list[str]:
    """The summary, then one line per source, trouble first."""
    ordered = sorted(rows, key=lambda r: TROUBLE.index(r.status) if r.status in TROUBLE else len(TROUBLE))
    return [summary(rows), *(line(r, now) for r in ordered)]
