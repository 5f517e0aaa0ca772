"""The store's query modules (subscribers, health, follows, chat settings, provenance, ledger) on SQLite and on
PostgreSQL, through the same calls: each test runs once per backend (``db_target``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import watcher.store as store_pkg
from tests.fakes.clock import FakeClock
from tests.fakes.telegram import START, queue_alert
from watcher.models import Item
from watcher.store import chat_prefs, follows, health, ledger, provenance, subscribers, watches
from watcher.store.sqlite import Store


@pytest.fixture
def both(db_target):
    s = Store(db_target, clock=FakeClock(START))
    yield s
    s.close()


def test_outbox_by_mode_and_delivery_bookkeeping(both):
    """Instant alerts come due in outbox order; delivered ones leave the queue; postponed ones wait; stats count."""
    s = both
    s.subscribe("telegram", "1", ["smuggling"])
    s.subscribe("telegram", "2", ["smuggling"])
    assert queue_alert(s, "feed", "a") == 2
    assert queue_alert(s, "feed", "b") == 2
    due = subscribers.due_instant(s, ["telegram"])
    assert [(a.address, a.item_id) for a in due] == [("1", "a"), ("2", "a"), ("1", "b"), ("2", "b")]
    subscribers.mark_many_delivered(s, [due[0].id, due[1].id])
    subscribers.postpone(s, due[2].id, 60, "flood control")
    assert [a.id for a in subscribers.due_instant(s, ["telegram"])] == [due[3].id]
    assert subscribers.still_due(s, due[2].id) and not subscribers.still_due(s, due[0].id)
    figures = subscribers.stats(s)
    assert figures["subscribers"] == {"telegram": {"instant": 2}}
    assert (figures["sent_total"], figures["queue"]) == (2, 2)
    assert [r["address"] for r in subscribers.overflowing(s, ["telegram"], cap=0)] == ["1", "2"]


def test_digest_mute_and_quiet(both):
    s = both
    sub = s.subscribe("telegram", "1", ["smuggling"])
    subscribers.set_digest(s, "telegram", "1", 8, "Europe/Brussels")
    queue_alert(s, "feed", "a")
    assert subscribers.due_instant(s, ["telegram"]) == []
    assert [r["id"] for r in subscribers.digest_subscribers(s, ["telegram"])] == [sub]
    assert [a.item_id for a in subscribers.pending_for(s, sub)] == ["a"]
    assert chat_prefs.set_quiet(s, "telegram", "1", True) and not chat_prefs.set_quiet(s, "telegram", "9", True)
    chat_prefs.set_mute(s, "telegram", "1", START + timedelta(hours=2))
    assert [r["id"] for r in chat_prefs.muted_subscribers(s, ["telegram"])] == [sub]
    assert subscribers.pending_for(s, sub)[0].quiet


def test_chat_migration_merges_into_an_existing_chat(both):
    """The old chat's topics and pending alerts join the new one; an alert both had stays single."""
    s = both
    s.subscribe("telegram", "old", ["smuggling", "borders"])
    s.subscribe("telegram", "new", ["smuggling"])
    queue_alert(s, "feed", "a")
    subscribers.migrate_address(s, "telegram", "old", "new")
    assert s.subscription("telegram", "new") == (True, ["borders", "smuggling"])
    assert [(a.address, a.item_id) for a in subscribers.due_instant(s, ["telegram"])] == [("new", "a")]
    assert s.subscription("telegram", "old (migrated to new)")[0] is False


def test_chat_language_is_kept_and_follows_a_migrated_chat(both):
    """The language a chat chose is kept, changed in place, and moves with the chat to its new id unless the new
    chat chose one itself."""
    s = both
    assert chat_prefs.language(s, "telegram", "old") is None
    chat_prefs.set_language(s, "telegram", "old", "fr")
    chat_prefs.set_language(s, "telegram", "old", "de")
    assert chat_prefs.language(s, "telegram", "old") == "de"
    subscribers.migrate_address(s, "telegram", "old", "new")
    assert (chat_prefs.language(s, "telegram", "new"), chat_prefs.language(s, "telegram", "old")) == ("de", None)
    chat_prefs.set_language(s, "telegram", "other", "fr")
    subscribers.migrate_address(s, "telegram", "other", "new")
    assert chat_prefs.language(s, "telegram", "new") == "de"


def test_source_health_poll_log_and_operator_messages(both):
    s = both
    assert s.record_failure("feed", "timeout", "no answer") == 1
    assert s.record_failure("feed", "timeout", "no answer") == 2
    s.record_poll("feed", [Item(source="feed", id="1", title="t", url="u")], {})
    assert health.state_row(s, "feed")["consecutive_failures"] == 0
    health.set_health(s, "feed", {"failing_since": START})
    for n in range(health.POLL_LOG_KEEP + 5):
        health.log_poll(s, "feed", "ok", f"poll {n}", 1, 0)
    assert s.db.execute("SELECT count(*) FROM poll_log").fetchone()[0] == health.POLL_LOG_KEEP
    first = health.enqueue_event(s, "feed", "failing", "timeout", "feed is failing")
    second = health.enqueue_event(s, "feed", "recovered", None, "feed is back")
    assert second == first + 1
    health.mark_event(s, first, ["42"], done=True)
    assert [e["id"] for e in health.due_events(s)] == [second] and health.pending_events(s) == 1
    validators = health.StoredValidators(s)
    validators.put_validators("https://e.org/f", '"v1"', None)
    assert validators.get_validators("https://e.org/f") == ('"v1"', None)


def test_follows_queue_once_per_chat(both):
    s = both
    s.subscribe("telegram", "1", ["smuggling"])
    assert follows.follow(s, "telegram", "1", follows.FAMILY, "ST 5 2026", "ST 5 2026") == "added"
    assert follows.follow(s, "telegram", "1", follows.FAMILY, "ST 5 2026", "ST 5 2026") == "already"
    s.record_poll("reg", [Item(source="reg", id="seed", title="seed", url="u")], {})
    doc = Item(source="reg", id="ST 5 2026 INIT", title="a note", url="u", extra={"family": "ST 5 2026"})
    assert s.record_poll("reg", [doc], {}).alerts == 1
    assert follows.following(s, "telegram", "1") == [("family", "ST 5 2026", "ST 5 2026")]
    assert follows.unfollow(s, "telegram", "1", follows.FAMILY, "ST 5 2026")


def test_provenance_and_ledger(both):
    s = both
    s.record_poll(
        "reg",
        [Item(source="reg", id="ST 1 2026 INIT", title="a", url="u", extra={"family": "ST 1 2026", "public": True})],
        {},
    )
    answer = provenance.Fetched(
        url="https://e.org/doc.pdf",
        final_url="https://e.org/doc.pdf",
        status=200,
        sha256="ab" * 32,
        size=10,
        content_type="application/pdf",
        etag=None,
        last_modified=None,
        retrieved_at=datetime(2026, 1, 1, tzinfo=UTC),
        document=True,
    )
    doc = Item(
        source="reg",
        id="ST 2 2026 INIT",
        title="b",
        url="https://e.org/doc.pdf",
        extra={"family": "ST 2 2026", "public": False},
    )
    s.record_poll("reg", [doc], {}, fetched=[answer])
    assert [r["sha256"] for r in provenance.item_provenance(s.db, "reg", "ST 2 2026 INIT")] == ["ab" * 32]
    [series] = ledger.build(s.db)
    assert (series.series, series.year, sorted(series.numbers)) == ("ST", 2026, [1, 2])
    assert [n.number for n in series.gaps] == [2]


def test_watches_and_their_generation(both):
    """A chat's own terms: added once, changed in place, counted in the generation, removed."""
    s = both
    assert watches.generation(s) == 0
    assert watches.add(s, "telegram", "1", "greece", "greece", '{"t": 1}', "Greece") == "added"
    assert watches.add(s, "telegram", "1", "greece", "greece", '{"t": 1}', "Greece") == "already"
    assert watches.add(s, "telegram", "1", "greece", "greece -ferry", '{"t": 2}', "Greece -ferry") == "changed"
    assert watches.generation(s) == 2
    assert [w.text for w in watches.watching(s, "telegram", "1")] == ["Greece -ferry"]
    assert watches.keys(s) == {"greece -ferry"}
    assert [tuple(r) for r in watches.specs(s, ["greece -ferry"])] == [("greece -ferry", '{"t": 2}')]
    assert watches.remove(s, "telegram", "1", "greece") is not None and watches.watching(s, "telegram", "1") == []


SQLITE_ONLY = re.compile(
    r"\b(?:INSERT|UPDATE) OR (?:IGNORE|REPLACE)\b|\bREPLACE INTO\b|\.lastrowid\b|\bexecutescript\("
)


def test_the_store_writes_no_sqlite_only_statement():
    """The store's modules keep to SQL both backends run: ``ON CONFLICT`` rather than ``OR IGNORE``/``OR REPLACE``,
    ``RETURNING id`` rather than ``lastrowid`` (the SQLite-only migration path in sqlite.py is the one exception)."""
    found = []
    for path in sorted(Path(store_pkg.__file__).parent.glob("*.py")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if SQLITE_ONLY.search(line) and "SQLite-only" not in line:
                found.append(f"{path.name}:{n}: {line.strip()}")
    assert found == []
