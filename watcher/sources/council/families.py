"""The document families the ``council-documents`` source follows, and which of their next versions to ask for.

A family is a number of a series and year (``ST 13589 2026``); its documents are INIT and later versions, which
appear under the same number: ``REV n``, ``ADD n``, ``COR n`` and combinations such as ``ADD 1 REV 1``. For each
family found, the next version of each kind is asked for: ``REV n+1`` after the highest REV, ``ADD n+1``,
``COR n+1``, and ``REV n+1`` of the highest addendum.

A family is asked for again when the time since it was last asked reaches a share of its age (the time since
it, or its latest version, was found), up to a cap: often while it is young, rarely when it is old. Families
followed *closely* (the source decides which: those whose subject codes are the ones the watched topics use) are
asked for four times as often, and first when the per-run budget cannot take every family that is due. Families
older than the source's ``follow_age`` are dropped.

Pure: saved in the source's cursor as ``{number: [found, last asked, versions, language, close]}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from watcher.sources.council.refs import Version

CLOSE_SHARE, CLOSE_CAP = 0.25, 86400.0
OTHER_SHARE, OTHER_CAP = 0.5, 4 * 86400.0
MAX_FAMILIES = 5000


def version_text(version: Version) -> str:
    return " ".join(f"{kind} {n}" for kind, n in version) or "INIT"


def parse_version(text: str) -> Version:
    """``ADD 1 REV 2`` -> (("ADD", 1), ("REV", 2)); ``INIT`` -> ()."""
    words = text.split()
    if words == ["INIT"]:
        return ()
    return tuple((words[i], int(words[i + 1])) for i in range(0, len(words) - 1, 2))


def _highest(versions: list[Version], prefix: Version, kind: str) -> int:
    """The highest n of ``prefix + (kind, n)`` among the known versions (0 when none)."""
    size = len(prefix) + 1
    return max((v[-1][1] for v in versions if len(v) == size and v[:-1] == prefix and v[-1][0] == kind), default=0)


@dataclass
class Family:
    found: float
    last: float = 0.0
    versions: list[Version] = field(default_factory=list)  # known versions other than INIT
    language: str = ""  # the language its documents answered in ("" for the first configured one)
    close: bool = False

    def due(self, now: float) -> bool:
        share, cap = (CLOSE_SHARE, CLOSE_CAP) if self.close else (OTHER_SHARE, OTHER_CAP)
        return now > self.last and now - self.last >= min(cap, (now - self.found) * share)

    def candidates(self) -> list[Version]:
        """The next version of each kind: REV, ADD and COR after the highest known, and the addendum's next REV."""
        out: list[Version] = [((kind, _highest(self.versions, (), kind) + 1),) for kind in ("REV", "ADD", "COR")]
        addendum = _highest(self.versions, (), "ADD")
        if addendum:
            part: Version = (("ADD", addendum),)
            out.append(part + (("REV", _highest(self.versions, part, "REV") + 1),))
        return out


@dataclass
class Follow:
    families: dict[int, Family] = field(default_factory=dict)

    @classmethod
    def from_cursor(cls, saved: dict) -> Follow:
        families = {}
        for number, v in saved.items():
            versions = [parse_version(text) for text in (v[2].split(",") if v[2] else [])]
            families[int(number)] = Family(float(v[0]), float(v[1]), versions, str(v[3]), bool(v[4]))
        return cls(families)

    def to_cursor(self) -> dict:
        return {
            str(n): [int(f.found), int(f.last), ",".join(version_text(v) for v in f.versions), f.language, int(f.close)]
            for n, f in sorted(self.families.items())
        }

    def add(self, number: int, version: Version, now: float, language: str = "", close: bool = False) -> None:
        """A document of this family was found: follow the family, and start its schedule over."""
        family = self.families.get(number)
        if family is None:
            family = self.families[number] = Family(now, now, language=language)
        family.found = now
        family.close = family.close or close
        if version and version not in family.versions:
            family.versions.append(version)
        if len(self.families) > MAX_FAMILIES:
            for old in sorted(self.families, key=lambda n: self.families[n].found)[: len(self.families) - MAX_FAMILIES]:
                del self.families[old]

    def due(self, now: float, max_age: float) -> list[int]:
        """Families due to be asked for, close ones first, then the least recently asked; families found longer
        than ``max_age`` seconds ago are dropped."""
        for number, family in list(self.families.items()):
            if now - family.found > max_age:
                del self.families[number]
        due = [n for n, f in self.families.items() if f.due(now)]
        return sorted(due, key=lambda n: (not self.families[n].close, self.families[n].last, n))

    def asked(self, number: int, now: float) -> None:
        self.families[number].last = now
