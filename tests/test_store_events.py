"""The store's events for documents seen before: new, new version, now public, unchanged; and the cursor saved with
the poll. Each test runs on SQLite and on PostgreSQL (``db_target``)."""

from __future__ import annotations

from watcher.models import Item, Match
from watcher.store.sqlite import Store

SMUGGLING = [Match("smuggling", ("migrant smuggling",), "[migrant smuggling]", "title")]


def doc(ref: str, public: bool = True, title: str = "A note", **extra) -> Item:
    family = " ".join(ref.split()[:3])
    return Item(
        source="reg",
        id=ref,
        title=title,
        url=f"https://e.org/{ref.replace(' ', '-')}",
        extra={"public": public, "family": family, **extra},
    )


def store_with_first_poll(target, items: list[Item], matches=None) -> Store:
    store = Store(target)
    store.subscribe("telegram", "1", ["smuggling"])
    assert store.record_poll("reg", items, matches or {}).first_poll
    return store


def test_migration_adds_family_and_public_columns(db_target):
    """The named migration adds the family and public columns, filled from the item's extra."""
    store = store_with_first_poll(
        db_target, [doc("ST 1 2026 INIT", public=False), Item(source="reg", id="feed-1", title="t", url="")]
    )
    rows = dict(
        store.db.execute(
            "SELECT item_id, family || '/' || coalesce(CAST(public AS TEXT), 'none') FROM items"
        ).fetchall()
    )
    assert rows == {"ST 1 2026 INIT": "ST 1 2026/0", "feed-1": None}
    assert "items-family-and-public" in [r[0] for r in store.db.execute("SELECT name FROM migrations")]


def test_changed_items_leaves_out_unchanged_and_keeps_changes(db_target):
    """Known unchanged items are left out; unknown ones and known ones now public are kept, once each."""
    store = store_with_first_poll(db_target, [doc("ST 1 2026 INIT", public=False), doc("ST 2 2026 INIT")])
    items = [doc("ST 1 2026 INIT"), doc("ST 2 2026 INIT"), doc("ST 3 2026 INIT"), doc("ST 3 2026 INIT", False)]
    changed = store.changed_items("reg", items)
    assert [(i.id, i.extra["public"]) for i in changed] == [("ST 1 2026 INIT", True), ("ST 3 2026 INIT", True)]
    assert store.changed_items("reg", [doc("ST 2 2026 INIT", public=False)]) == []


def test_events_and_their_alerts(db_target):
    """A new family is "new", a new member of a known family is "version", a known non-public item now public is
    "public"; each queues its own alert, and recording the same again queues nothing."""
    store = store_with_first_poll(db_target, [doc("ST 1 2026 INIT", public=False), doc("ST 2 2026 INIT")])
    items = [doc("ST 1 2026 INIT"), doc("ST 2 2026 REV 1"), doc("ST 3 2026 INIT")]
    rec = store.record_poll("reg", items, {i.key: SMUGGLING for i in items})
    assert [(i.id, e) for i, e in rec.events] == [
        ("ST 1 2026 INIT", "public"),
        ("ST 2 2026 REV 1", "version"),
        ("ST 3 2026 INIT", "new"),
    ]
    assert [i.id for i in rec.new] == ["ST 2 2026 REV 1", "ST 3 2026 INIT"] and rec.alerts == 3
    assert [(a.item_id, a.event) for a in store.due_alerts(["telegram"])] == [
        ("ST 1 2026 INIT", "public"),
        ("ST 2 2026 REV 1", "version"),
        ("ST 3 2026 INIT", "new"),
    ]
    again = store.record_poll("reg", items, {i.key: SMUGGLING for i in items})
    assert again.events == [] and again.alerts == 0 and store.outbox_depth() == 3


def test_now_public_updates_the_stored_item_and_reuses_earlier_matches(db_target):
    """The public version's title and link replace the listing's, and the earlier listing's topics alert."""
    store = store_with_first_poll(
        db_target,
        [doc("ST 1 2026 INIT", public=False, title="Migrant smuggling")],
        {("reg", "ST 1 2026 INIT"): SMUGGLING},
    )
    rec = store.record_poll("reg", [doc("ST 1 2026 INIT", title="Final text")], {})
    assert rec.alerts == 1
    [alert] = store.due_alerts(["telegram"])
    assert (alert.event, alert.title, alert.topics) == ("public", "Final text", ("smuggling",))
    assert store.public_states("reg", ["ST 1 2026 INIT"]) == {"ST 1 2026 INIT": 1}


def test_versions_found_together_with_their_family_are_new(db_target):
    """Two versions of a family met for the first time in the same poll are both "new", not "version"."""
    store = store_with_first_poll(db_target, [])
    rec = store.record_poll("reg", [doc("ST 5 2026 REV 1"), doc("ST 5 2026 INIT")], {})
    assert [e for _, e in rec.events] == ["new", "new"]


def test_backlog_items_are_recorded_without_alerting(db_target):
    """An item marked backlog is stored with its matches but queues no alert."""
    store = store_with_first_poll(db_target, [])
    item = doc("ST 9 2026 INIT", backlog=True)
    rec = store.record_poll("reg", [item], {item.key: SMUGGLING})
    assert rec.flagged and rec.alerts == 0 and store.outbox_depth() == 0


def test_cursor_is_saved_with_the_poll_only(db_target):
    """A cursor given to record_poll is saved with the poll's items; a poll recorded without one keeps it."""
    store = Store(db_target)
    store.record_poll("reg", [], {}, cursor={"highest": 5})
    assert store.get_cursor("reg") == {"highest": 5}
    store.record_poll("reg", [], {})
    assert store.get_cursor("reg") == {"highest": 5}


def test_later_versions_cite_only_versions_that_matched_themselves(db_target):
    """REV 2 inherits the topic from INIT, which matched, and not from REV 1, which only inherited it."""
    init = doc("ST 7 2026 INIT", title="Migrant smuggling")
    store = store_with_first_poll(db_target, [init], {init.key: SMUGGLING})
    store.record_poll("reg", [doc("ST 7 2026 REV 1", title="Revised")], {})
    store.record_poll("reg", [doc("ST 7 2026 REV 2", title="Revised again")], {})
    alerts = {a.item_id: a for a in store.due_alerts(["telegram"])}
    assert alerts["ST 7 2026 REV 1"].snippet == "matched an earlier version: ST 7 2026 INIT"
    assert alerts["ST 7 2026 REV 2"].snippet == "matched an earlier version: ST 7 2026 INIT"
    assert alerts["ST 7 2026 REV 2"].event == "version" and alerts["ST 7 2026 REV 2"].topics == ("smuggling",)
