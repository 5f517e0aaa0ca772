"""Tools for maintainers: what the topics say about a text, and what a topic edit changes on stored items."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from watcher.models import Item, Match


def match_json(found: list[Match]) -> dict:
    """The JSON form of a match result: topic ids, the terms that fired, and the evidence per topic."""
    return {
        "topics": [m.topic for m in found],
        "terms": list(dict.fromkeys(t for m in found for t in m.terms)),
        "matches": [{"topic": m.topic, "terms": list(m.terms), "snippet": m.snippet, "field": m.field} for m in found],
    }


def match_lines(found: list[Match]) -> list[str]:
    if not found:
        return ["no topic matched"]
    lines = []
    for m in found:
        lines.append(f"{m.topic}: {', '.join(m.terms)}")
        if m.snippet:
            lines.append(f"  {m.snippet}")
    return lines


@dataclass
class Change:
    item: Item
    gained: list[str]
    lost: list[str]
    matches: list[Match] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "source": self.item.source,
            "id": self.item.id,
            "title": self.item.title,
            "url": self.item.url,
            "published": self.item.published.isoformat() if self.item.published else None,
            "topics": [m.topic for m in self.matches],
            "terms": list(dict.fromkeys(t for m in self.matches for t in m.terms)),
            "gained": self.gained,
            "lost": self.lost,
        }


@dataclass
class ReplayResult:
    replayed: int = 0
    changes: list[Change] = field(default_factory=list)

    @property
    def gained(self) -> int:
        return sum(1 for c in self.changes if c.gained)

    @property
    def lost(self) -> int:
        return sum(1 for c in self.changes if c.lost)


def replay(store, matcher, since: datetime | None = None) -> ReplayResult:
    """Run the current topics over stored items and list those whose topics would change. Writes nothing."""
    result = ReplayResult()
    for item, old in store.iter_items(since):
        result.replayed += 1
        found = matcher.match(item)
        new = [m.topic for m in found]
        gained = [t for t in new if t not in old]
        lost = sorted(t for t in old if t not in new)
        if gained or lost:
            result.changes.append(Change(item, gained, lost, found))
    return result


def replay_lines(result: ReplayResult) -> list[str]:
    lines = []
    for c in result.changes:
        where = f"{c.item.source}: {c.item.title}"
        if c.gained:
            terms = ", ".join(dict.fromkeys(t for m in c.matches if m.topic in c.gained for t in m.terms))
            lines.append(f"+ [{', '.join(c.gained)}] {where}\n    {c.item.url}\n    matched: {terms}")
        if c.lost:
            lines.append(f"- [{', '.join(c.lost)}] {where}\n    {c.item.url}")
    lines.append(
        f"{result.replayed} stored items replayed: {result.gained} would now be flagged for a topic they "
        f"were not, {result.lost} would no longer be flagged for a topic they were."
    )
    return lines
