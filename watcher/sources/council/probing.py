"""Which document numbers to ask the document server for next: the memory of the ``council-documents`` source.

Numbers of a series run up within a year, and both public and non-public documents take them. The state keeps:

* ``highest``: the highest number found so far (a PDF was served). Each run asks for the numbers after it, one by
  one, until a few in a row are not served (they are not issued yet, or not public);
* ``sweep``: where the *sweep* goes on. A run of non-public numbers longer than that stop would hide the documents
  after it, so each run also asks for a few numbers further out: 1, 2, 3, 5, 8, 13, ... beyond where the scan
  stopped (up to ``lookahead`` beyond ``highest``), going on where the last run stopped and from the start again
  after the farthest. The nearest come round most often, since a run of non-public numbers is most likely short;
  a number the sweep skips is found as a gap once a higher one is found. Finding a document starts it over;
* ``gaps``: numbers below ``highest`` that were not served, since a document can become public after its number was
  passed. Each gap is asked for again with a back-off: when the time since it was last asked is at least a quarter
  of its age (at most ``GAP_INTERVAL_CAP``), so a new gap is asked for on the next runs and an old one about every
  two days. Its first round, and every ``OTHER_LANGUAGES_EVERY``-th, tries every configured language, so that a
  document that exists only in its original language is found; the other rounds ask for the first language only;
* ``edge``: the first ``EDGE_NUMBERS`` numbers after ``highest``, each asked for in the other languages with the
  same back-off as a gap while it stays among them, so that a document only in its original language is found
  before a higher number makes it a gap;
* ``families``: the document families found, whose next versions are asked for (``watcher.sources.council.families``).

Pure: the source does the fetching and stores this as its cursor (JSON; times are whole epoch seconds).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from watcher.sources.council.families import Follow

MAX_GAPS = 5000
GAP_BACKOFF = 4.0  # a gap is due again once the time since it was last asked is a quarter of its age
GAP_INTERVAL_CAP = 2 * 86400.0
OTHER_LANGUAGES_EVERY = 4
EDGE_NUMBERS = 2
SWEEP_OFFSETS = (1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144)


@dataclass
class Gap:
    """A number passed by a higher one and not served: when it was first missed, last asked, and how often."""

    first: float
    last: float = 0.0
    rounds: int = 0

    def due(self, now: float) -> bool:
        return self.rounds == 0 or now - self.last >= min(GAP_INTERVAL_CAP, (now - self.first) / GAP_BACKOFF)

    def languages(self, configured: tuple[str, ...]) -> tuple[str, ...]:
        """Every language on the first round and every few rounds after; the first language otherwise."""
        return configured if self.rounds % OTHER_LANGUAGES_EVERY == 0 else configured[:1]


def _epoch(value) -> float:
    """Whole epoch seconds from a saved value (a number, or an ISO time from older cursors)."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).timestamp()
    return float(value or 0)


@dataclass
class ProbeState:
    series: str
    year: int
    highest: int
    sweep: int = 0
    gaps: dict[int, Gap] = field(default_factory=dict)
    families: Follow = field(default_factory=Follow)
    edge: dict[int, Gap] = field(default_factory=dict)

    @classmethod
    def from_cursor(cls, cursor: dict, series: str, year: int, start: int) -> ProbeState:
        """The saved state for this series and year. Without one, probing begins at ``start``; when the saved
        state is for an earlier year, a new year begins at number 1."""
        if cursor.get("series") == series and cursor.get("year") == year:
            gaps = {}
            for n, v in (cursor.get("gaps") or {}).items():
                rounds = int(v[2]) if len(v) > 2 else 1
                gaps[int(n)] = Gap(_epoch(v[0]), _epoch(v[1]), rounds)
            highest = int(cursor.get("highest", start - 1))
            edge = {int(n): Gap(float(v[0]), float(v[1]), int(v[2])) for n, v in (cursor.get("edge") or {}).items()}
            return cls(
                series,
                year,
                highest,
                int(cursor.get("sweep", 0)),
                gaps,
                Follow.from_cursor(cursor.get("families") or {}),
                edge,
            )
        first = 1 if cursor.get("series") == series and int(cursor.get("year") or 0) < year else start
        return cls(series, year, first - 1)

    def to_cursor(self) -> dict:
        return {
            "series": self.series,
            "year": self.year,
            "highest": self.highest,
            "sweep": self.sweep,
            "gaps": {str(n): [int(g.first), int(g.last), g.rounds] for n, g in sorted(self.gaps.items())},
            "families": self.families.to_cursor(),
            "edge": {str(n): [int(g.first), int(g.last), g.rounds] for n, g in sorted(self.edge.items())},
        }

    # --- beyond the highest number found ----------------------------------------------------------------------

    def sweep_number(
        self, after: int, lookahead: int, *, nearest: bool = False, skip_nearest: bool = False
    ) -> int | None:
        """The next number for the sweep, beyond ``after`` (where this run's scan stopped) and at most
        ``lookahead`` beyond ``highest``: the number just after it when ``nearest``, else the next in turn (of the
        farther ones when ``skip_nearest``); None when there is no such number."""
        numbers = [after + step for step in SWEEP_OFFSETS if after + step <= self.highest + lookahead]
        if nearest or not numbers:
            return numbers[0] if numbers else None
        turn = numbers[1:] if skip_nearest and len(numbers) > 1 else numbers
        return turn[self.sweep % len(turn)]

    def swept(self) -> None:
        """The sweep asked for its next number in turn and it was not served: go on to the one after."""
        self.sweep += 1

    def edge_due(self, now: datetime) -> list[int]:
        """The first numbers after ``highest`` that are due to be asked for in the other languages."""
        stamp = now.timestamp()
        numbers = range(self.highest + 1, self.highest + 1 + EDGE_NUMBERS)
        self.edge = {n: self.edge.get(n) or Gap(stamp) for n in numbers}
        return [n for n in numbers if self.edge[n].due(stamp)]

    def edge_asked(self, number: int, now: datetime) -> None:
        gap = self.edge.get(number)
        if gap is not None:
            gap.last, gap.rounds = now.timestamp(), gap.rounds + 1

    def found(self, number: int, now: datetime) -> list[int]:
        """A number was served. Returns the numbers it passes that were not served: the new gaps."""
        self.gaps.pop(number, None)
        if number <= self.highest:
            return []
        stamp = now.timestamp()
        passed = [n for n in range(self.highest + 1, number) if n not in self.gaps]
        for n in passed:
            self.gaps[n] = Gap(stamp)
        self.highest = number
        self.sweep = 0
        self.edge.clear()
        if len(self.gaps) > MAX_GAPS:
            for old in sorted(self.gaps)[: len(self.gaps) - MAX_GAPS]:
                del self.gaps[old]
        return passed

    # --- gaps -------------------------------------------------------------------------------------------------

    def due_gaps(self, now: datetime, max_age: float) -> list[int]:
        """The gaps due to be asked for again, new ones first, then the least recently asked; gaps older than
        ``max_age`` seconds are forgotten."""
        stamp = now.timestamp()
        for number, gap in list(self.gaps.items()):
            if stamp - gap.first > max_age:
                del self.gaps[number]
        due = [n for n, gap in self.gaps.items() if gap.due(stamp)]
        return sorted(due, key=lambda n: (self.gaps[n].rounds > 0, self.gaps[n].last, n))

    def gap_missed(self, number: int, now: datetime) -> None:
        gap = self.gaps[number]
        gap.last, gap.rounds = now.timestamp(), gap.rounds + 1
