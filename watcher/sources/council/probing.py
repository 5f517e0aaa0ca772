"""Which document numbers to ask the document server for next: the memory of the ``council-documents`` source.

Numbers of a series run up within a year, and both public and non-public documents take them. The state keeps:

* ``highest``: the highest number found so far (a PDF was served);
* ``next``: where probing beyond ``highest`` goes on. Each run probes a bounded window of numbers after
  ``highest``, continuing where the last run stopped, and starts over from ``highest + 1`` once it has looked
  ``lookahead`` numbers ahead, so a run of non-public numbers cannot hide the documents after it;
* ``gaps``: numbers below ``highest`` that were not served, with when they were first missed and last probed.
  A few are probed again each run, least recently probed first, until they are older than a maximum age, since a
  document can become public later.

Pure: the source does the fetching and stores this as its cursor (JSON).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

MAX_GAPS = 5000


@dataclass
class ProbeState:
    series: str
    year: int
    highest: int
    next: int
    gaps: dict[int, tuple[str, str]] = field(default_factory=dict)  # number -> (first missed, last probed)
    probed: set[int] = field(default_factory=set)  # numbers asked for in this run (not saved)

    @classmethod
    def from_cursor(cls, cursor: dict, series: str, year: int, start: int) -> "ProbeState":
        """The saved state for this series and year. Without one, probing begins at ``start``; when the saved
        state is for an earlier year, a new year begins at number 1."""
        if cursor.get("series") == series and cursor.get("year") == year:
            gaps = {int(n): (str(v[0]), str(v[1])) for n, v in (cursor.get("gaps") or {}).items()}
            highest = int(cursor.get("highest", start - 1))
            return cls(series, year, highest, max(int(cursor.get("next", highest + 1)), highest + 1), gaps)
        first = 1 if cursor.get("series") == series and int(cursor.get("year") or 0) < year else start
        return cls(series, year, first - 1, first)

    def to_cursor(self) -> dict:
        return {"series": self.series, "year": self.year, "highest": self.highest, "next": self.next,
                "gaps": {str(n): list(v) for n, v in sorted(self.gaps.items())}}

    def due_gaps(self, now: datetime, count: int, max_age: float) -> list[int]:
        """Up to ``count`` gaps to probe again, least recently probed first; gaps older than ``max_age`` seconds
        are forgotten."""
        stamp = now.timestamp()
        for number, (first, _) in list(self.gaps.items()):
            if stamp - datetime.fromisoformat(first).timestamp() > max_age:
                del self.gaps[number]
        order = sorted(self.gaps, key=lambda n: (self.gaps[n][1], n))
        return order[:max(count, 0)]

    def gap_missed(self, number: int, now: datetime) -> None:
        first = self.gaps[number][0]
        self.gaps[number] = (first, now.isoformat(timespec="seconds"))
        self.probed.add(number)

    def gap_found(self, number: int) -> None:
        self.gaps.pop(number, None)
        self.probed.add(number)

    def next_number(self, lookahead: int) -> int | None:
        """The next number beyond ``highest`` to probe, or None when this run has probed them all."""
        number = self.next if self.highest < self.next <= self.highest + lookahead else self.highest + 1
        if number in self.probed:
            return None
        return number

    def missed(self, number: int) -> None:
        """A number beyond ``highest`` was not served."""
        self.probed.add(number)
        self.next = number + 1

    def found(self, number: int, now: datetime) -> list[int]:
        """A number was served. Returns the numbers it passes that were not served: the new gaps."""
        self.probed.add(number)
        self.next = max(self.next, number + 1)
        if number <= self.highest:
            return []
        stamp = now.isoformat(timespec="seconds")
        passed = [n for n in range(self.highest + 1, number) if n not in self.gaps]
        for n in passed:
            self.gaps[n] = (stamp, stamp)
        self.highest = number
        if len(self.gaps) > MAX_GAPS:
            for old in sorted(self.gaps)[: len(self.gaps) - MAX_GAPS]:
                del self.gaps[old]
        return passed
