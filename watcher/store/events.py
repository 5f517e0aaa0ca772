"""What changed about a document since the store last saw it: the queries behind ``Store.record_poll``'s events.

An item recorded once can change in two ways users care about: a new id in a family the source already had is a
new **version** (REV, ADD, COR ...), and a known id recorded as not public that is public now is **public**. Both
alert again, and both also alert the topics that the earlier versions or the earlier listing matched, so a user
who follows a file hears about its next version even when that version's own title says little.

The functions take the store's open connection and run inside its transaction.
"""

from __future__ import annotations

import json

from watcher.models import Item, Match
from watcher.store.db import Connection

FAMILY_FIELD = "family"


def known_families(db: Connection, source: str, items: list[Item]) -> set[str]:
    """Families that already had a member in this source before this poll."""
    names = sorted({f for item in items if isinstance(f := item.extra.get("family"), str)})
    found: set[str] = set()
    for i in range(0, len(names), 500):
        chunk = names[i : i + 500]
        rows = db.execute(
            f"SELECT DISTINCT family FROM items WHERE source=? AND family IN ({','.join('?' * len(chunk))})",
            [source, *chunk],
        )
        found.update(r[0] for r in rows)
    return found


def mark_public(db: Connection, item: Item, published: str | None) -> bool:
    """A known item recorded as not public is public now: keep what the public version says. False when the item
    was not recorded as not public."""
    cur = db.execute(
        "UPDATE items SET title=?, url=?, published=coalesce(?, published), summary=?, body=?, extra=?, public=1 "
        "WHERE source=? AND item_id=? AND public=0",
        (
            item.title,
            item.url,
            published,
            item.summary,
            item.body,
            json.dumps(item.extra, default=str),
            item.source,
            item.id,
        ),
    )
    return cur.rowcount == 1


def earlier_matches(db: Connection, item: Item, event: str) -> list[Match]:
    """What the item's earlier listing (``public``) or its family's other versions (``version``) matched; a
    version cites only the versions that matched on their own, not ones that inherited a topic."""
    if event == "public":
        rows = db.execute(
            "SELECT topic, terms, snippet, field FROM matches WHERE source=? AND item_id=?", (item.source, item.id)
        ).fetchall()
        return [Match(r[0], tuple(json.loads(r[1])), r[2], r[3]) for r in rows]
    if event != "version":
        return []
    rows = db.execute(
        "SELECT m.topic, m.terms, m.item_id FROM matches m JOIN items i ON i.source=m.source AND i.item_id=m.item_id "
        "WHERE i.source=? AND i.family=? AND i.item_id<>? AND m.field<>? ORDER BY i.rowid",
        (item.source, item.extra.get("family"), item.id, FAMILY_FIELD),
    ).fetchall()
    by_topic: dict[str, tuple[list[str], list[str]]] = {}
    for topic, terms, other in rows:
        seen_terms, refs = by_topic.setdefault(topic, ([], []))
        seen_terms.extend(t for t in json.loads(terms) if t not in seen_terms)
        if other not in refs:
            refs.append(other)
    return [
        Match(topic, tuple(terms), f"matched an earlier version: {', '.join(refs)}", FAMILY_FIELD)
        for topic, (terms, refs) in by_topic.items()
    ]


def merge_matches(fresh: list[Match], earlier: list[Match]) -> list[Match]:
    """The fresh matches, plus earlier ones for topics the fresh ones lack."""
    topics = {m.topic for m in fresh}
    return [*fresh, *(m for m in earlier if m.topic not in topics)]
