"""How the sources are doing, as short plain-text lines: for the ``/status`` command (and anything else that wants
the same summary). Richer source health can replace ``source_line`` without changing its callers."""

from __future__ import annotations

from datetime import datetime
from typing import Iterable, Mapping

from watcher.clock import from_iso


def ago(then: datetime | None, now: datetime) -> str:
    """'just now', '12 min ago', '3 h ago', '2 d ago', or 'never'."""
    if then is None:
        return "never"
    seconds = max(0, int((now - then).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} d ago"


def source_line(source, state: Mapping | None, now: datetime) -> tuple[str, bool]:
    """One source as a line, and whether it is failing."""
    state = state or {}
    last_ok = from_iso(state.get("last_success_at"))
    failures = int(state.get("consecutive_failures") or 0)
    if not source.enabled:
        return f"⏹ {source.name}: disabled in sources.toml", False
    if state.get("paused"):
        return f"⏸ {source.name}: paused by an operator; last successful poll {ago(last_ok, now)}", False
    if failures:
        polls = "poll" if failures == 1 else f"{failures} polls in a row"
        reason = state.get("last_failure") or "error"
        return f"⚠️ {source.name}: failing ({reason}, {polls}); last successful poll {ago(last_ok, now)}", True
    if last_ok is None:
        return f"… {source.name}: not polled yet", False
    return f"✅ {source.name}: last successful poll {ago(last_ok, now)}", False


def status_lines(store, sources: Iterable, now: datetime) -> list[str]:
    """A summary line, then one line per configured source, failing ones first."""
    sources = list(sources)
    states = store.source_states()
    failing, others = [], []
    for source in sources:
        line, bad = source_line(source, states.get(source.name), now)
        (failing if bad else others).append(line)
    active = sum(1 for s in sources if s.enabled and not (states.get(s.name) or {}).get("paused"))
    summary = f"{active} source{'s' if active != 1 else ''} polled, {len(failing)} failing"
    return [summary, *failing, *others]
