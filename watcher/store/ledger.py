"""The Council ledger: what the store knows about each series and year of Council document numbers.

Built from the items the Council sources recorded (probed documents, placeholders for numbers passed but not
served, register entries): every item with a family is one version of one number. For each series and year the
ledger gives the numbers known and the highest, for each number when it was first seen and whether (and since
when) it is public, the versions of each family, the numbers known but never public (open gaps, with their first
and last probe when a probing source's cursor remembers them) and the numbers that became public later, with the
delay. Numbers above the highest known are not gaps: nothing says they were issued.

Read-only queries on the store's connection; ``summary`` and ``to_json`` shape the result for the command line,
``/stats`` and ``/metrics``.
"""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime

from watcher.clock import from_iso
from watcher.store.db import Connection
from watcher.store.sqlite import Store

REF = re.compile(r"^([A-Z]{2,4}) (\d{1,6}) (\d{4}) (.+)$")  # the canonical form: ``ST 13589 2026 REV 1``
LONGEST_GAPS = 10


@dataclass
class Number:
    """One document number: when first seen, when its first version became public (None: not public)."""

    number: int
    first_seen: datetime
    public: bool = False
    public_at: datetime | None = None
    released_later: bool = False
    versions: list[str] = field(default_factory=list)
    first_probe: datetime | None = None
    last_probe: datetime | None = None

    @property
    def delay(self) -> float | None:
        """Seconds from first seen to public, for a number that became public later."""
        if not self.released_later or self.public_at is None:
            return None
        return max(0.0, (self.public_at - self.first_seen).total_seconds())


@dataclass
class Series:
    """The numbers of one series and year."""

    series: str
    year: int
    numbers: dict[int, Number] = field(default_factory=dict)

    @property
    def highest(self) -> int:
        return max(self.numbers, default=0)

    @property
    def public(self) -> list[Number]:
        return [n for n in self.numbers.values() if n.public]

    @property
    def released_later(self) -> list[Number]:
        return [n for n in self.numbers.values() if n.released_later and n.public]

    @property
    def gaps(self) -> list[Number]:
        """Numbers known and not public, in order: all are at or below the highest known."""
        return [self.numbers[k] for k in sorted(self.numbers) if not self.numbers[k].public]

    def median_delay(self) -> float | None:
        delays = [d for n in self.released_later if (d := n.delay) is not None]
        return statistics.median(delays) if delays else None


def build(db: Connection, series: str | None = None, year: int | None = None) -> list[Series]:
    """The ledger of every series and year in the store (or the one asked for), in order."""
    released = {
        (r[0], r[1]): r[2]
        for r in db.execute(
            "SELECT source, item_id, min(at) FROM item_events WHERE event='public' GROUP BY source, item_id"
        )
    }
    out: dict[tuple[str, int], Series] = {}
    rows = db.execute(
        "SELECT source, item_id, public, first_seen_at FROM items WHERE family IS NOT NULL "
        "ORDER BY first_seen_at, rowid"
    )
    for source, item_id, public, seen in rows:
        m = REF.match(item_id)
        if m is None or (series and m[1] != series) or (year and int(m[3]) != year):
            continue
        entry = out.setdefault((m[1], int(m[3])), Series(m[1], int(m[3])))
        _add(entry, int(m[2]), m[4], public, seen, released.get((source, item_id)))
    for entry in out.values():
        _probes(db, entry)
    return [out[k] for k in sorted(out)]


def _add(entry: Series, number: int, version: str, public: int | None, seen: str, released: str | None) -> None:
    first = from_iso(seen)
    assert first is not None
    known = entry.numbers.get(number)
    if known is None:
        known = entry.numbers[number] = Number(number, first)
    known.first_seen = min(known.first_seen, first)
    if version != "INIT":
        if version not in known.versions:
            known.versions.append(version)
        return
    if public:
        known.public = True
        known.public_at = from_iso(released) if released else first
        known.released_later = released is not None


def _probes(db: Connection, entry: Series) -> None:
    """First and last probe of each open gap, from the cursor of a probing source of this series and year."""
    for (text,) in db.execute("SELECT cursor FROM source_state"):
        try:
            cursor = json.loads(text)
        except ValueError:
            continue
        if not isinstance(cursor, dict) or cursor.get("series") != entry.series or cursor.get("year") != entry.year:
            continue
        for key, value in (cursor.get("gaps") or {}).items():
            number = entry.numbers.get(int(key))
            if number is None or number.public or not isinstance(value, list) or len(value) < 2:
                continue
            number.first_probe = _stamp(value[0])
            number.last_probe = _stamp(value[1]) if value[1] else None


def _stamp(value: object) -> datetime | None:
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(float(value), tz=UTC)
    return from_iso(value) if isinstance(value, str) else None


def longest_gaps(entry: Series, now: datetime, limit: int = LONGEST_GAPS) -> list[Number]:
    """The open gaps known longest."""
    return sorted(entry.gaps, key=lambda n: (n.first_seen, n.number))[:limit]


def summary(entry: Series, now: datetime) -> dict:
    """Counts, the share public, the median delay to release and the longest open gaps of one series and year."""
    known, public = len(entry.numbers), len(entry.public)
    delay = entry.median_delay()
    return {
        "series": entry.series,
        "year": entry.year,
        "known": known,
        "highest": entry.highest,
        "public": public,
        "share_public": round(public / known, 4) if known else None,
        "released_later": len(entry.released_later),
        "never_public": known - public,
        "open_gaps": len(entry.gaps),
        "median_delay_days": round(delay / 86400, 2) if delay is not None else None,
        "versions": sum(len(n.versions) for n in entry.numbers.values()),
        "longest_gaps": [gap_json(n, now) for n in longest_gaps(entry, now)],
    }


def gap_json(n: Number, now: datetime) -> dict:
    return {
        "number": n.number,
        "first_seen": n.first_seen.isoformat(timespec="seconds"),
        "open_days": round((now - n.first_seen).total_seconds() / 86400, 1),
        "first_probe": n.first_probe.isoformat(timespec="seconds") if n.first_probe else None,
        "last_probe": n.last_probe.isoformat(timespec="seconds") if n.last_probe else None,
    }


def released_json(n: Number) -> dict:
    """A number that became public after it was first seen: when, and the delay in days."""
    delay = n.delay
    return {
        "number": n.number,
        "first_seen": n.first_seen.isoformat(timespec="seconds"),
        "public_since": n.public_at.isoformat(timespec="seconds") if n.public_at else None,
        "delay_days": round(delay / 86400, 2) if delay is not None else None,
    }


def families_json(entry: Series) -> dict[str, list[str]]:
    """The versions of each family that has more than its first one."""
    return {
        f"{entry.series} {n.number} {entry.year}": n.versions for k, n in sorted(entry.numbers.items()) if n.versions
    }


def summary_line(entry: Series, now: datetime) -> str:
    """One line for operators: ``ST 2026: 812 known (highest 840), 640 public (78.8%), 172 open gaps``."""
    s = summary(entry, now)
    share = f"{s['share_public']:.1%}" if s["share_public"] is not None else "-"
    delay = f", median {s['median_delay_days']} d to release" if s["median_delay_days"] is not None else ""
    return (
        f"{entry.series} {entry.year}: {s['known']} known (highest {s['highest']}), {s['public']} public "
        f"({share}), {s['released_later']} released later{delay}, {s['open_gaps']} open gaps"
    )


def operator_lines(store: Store) -> list[str]:
    """The one-line summary of each series and year, for /stats (run on the database thread)."""
    now = store.clock()
    return [summary_line(entry, now) for entry in build(store.db)]


def gauges(store: Store) -> list[tuple[str, int, int, int, int]]:
    """(series, year, known, public, open gaps) of each series and year, for /metrics."""
    return [(e.series, e.year, len(e.numbers), len(e.public), len(e.gaps)) for e in build(store.db)]
