"""``watcher ledger``: the Council ledger's summary per series and year, its open gaps, or all of it as JSON."""

from __future__ import annotations

import json
from datetime import datetime

from watcher.store import ledger
from watcher.store.sqlite import Store


def ledger_json(store: Store, series: str | None, year: int | None) -> list[dict]:
    """One object per series and year: the summary, every open gap, every number released later with its delay,
    and the versions of each family."""
    now = store.clock()
    out = []
    for entry in ledger.build(store.db, series, year):
        data = ledger.summary(entry, now)
        data["gaps"] = [ledger.gap_json(g, now) for g in entry.gaps]
        data["released"] = [ledger.released_json(n) for n in entry.released_later]
        data["families"] = ledger.families_json(entry)
        out.append(data)
    return out


def ledger_lines(store: Store, series: str | None, year: int | None, gaps: bool) -> list[str]:
    """The summary lines, or with ``gaps`` one line per open gap."""
    now = store.clock()
    entries = ledger.build(store.db, series, year)
    if not entries:
        return ["no Council document numbers recorded yet"]
    lines: list[str] = []
    for entry in entries:
        lines.append(ledger.summary_line(entry, now))
        shown = entry.gaps if gaps else ledger.longest_gaps(entry, now, 5)
        if shown and not gaps:
            lines.append("  longest open gaps:")
        lines.extend(_gap_line(entry, n, now) for n in shown)
    return lines


def _gap_line(entry: ledger.Series, n: ledger.Number, now: datetime) -> str:
    g = ledger.gap_json(n, now)
    probes = f", probed {g['first_probe']} .. {g['last_probe']}" if g["first_probe"] else ""
    name = f"{entry.series} {n.number}/{entry.year % 100:02d}"
    return f"  {name}: open {g['open_days']} d since {g['first_seen']}{probes}"


def print_ledger(store: Store, series: str | None, year: int | None, as_json: bool, gaps: bool) -> None:
    if as_json:
        print(json.dumps(ledger_json(store, series, year), ensure_ascii=False, indent=2))
    else:
        print("\n".join(ledger_lines(store, series, year, gaps)))
