"""The apprise channel (optional extra) behind the outbox: an alert to a `json://` destination on 127.0.0.1 is
delivered through the delivery worker, a failure is retried by watcher's own backoff (apprise's retries are off),
and a refusal is dropped once, not retried."""

from __future__ import annotations

import pytest

from tests.fakes.hooks import HookServer
from tests.fakes.telegram import queue_alert
from watcher.delivery.worker import DeliveryWorker
from watcher.notifiers.settings import AppriseConfig, notifiers_from_toml
from watcher.notifiers.setup import configured_notifiers
from watcher.store import subscribers

apprise = pytest.importorskip(
    "apprise", reason="apprise is not installed: pip install 'eu-council-watcher[apprise]' (the test extra includes it)"
)

LABELS = {"smuggling": "Migrant smuggling"}


@pytest.fixture
def hooks():
    with HookServer() as server:
        yield server


def destination(hooks: HookServer, query: str = "") -> AppriseConfig:
    url = hooks.url("/apprise").replace("http://", "json://") + query
    return AppriseConfig(name="team-ntfy", url=url, topics=("smuggling",), timeout=10.0)


async def drain(store, notifiers: dict) -> None:
    await DeliveryWorker(store, notifiers).drain()


async def test_an_alert_reaches_a_json_destination_through_the_outbox(store, hooks):
    """The alert is posted once to the json:// receiver, with its heading as title, and leaves the outbox."""
    notifiers = configured_notifiers([destination(hooks)], store, LABELS)
    queue_alert(store, "council-press", "a", "Smugglers & <routes>")
    await drain(store, notifiers)
    [post] = hooks.posts
    assert post["path"] == "/apprise"
    assert post["json"]["title"] == "New: Smugglers & <routes>"
    assert "Link: https://e.org/a" in post["json"]["message"]
    assert store.outbox_depth() == 0


async def test_a_failure_is_retried_by_watcher_not_by_apprise(store, hooks, clock):
    """A 503 is one attempt (apprise does not retry, even with ?retry=3 in the URL); the alert waits for the
    worker's backoff and is delivered on the next round."""
    notifiers = configured_notifiers([destination(hooks, "?retry=3")], store, LABELS)
    queue_alert(store, "council-press", "a")
    hooks.answer(503)
    await drain(store, notifiers)
    assert len(hooks.posts) == 1
    [(attempts, due, error)] = store.db.execute("SELECT attempts, next_attempt_at, last_error FROM outbox").fetchall()
    assert attempts == 1 and due > subscribers.iso(clock.now()) and "team-ntfy" in error
    await drain(store, notifiers)  # not due yet: nothing is sent
    assert len(hooks.posts) == 1
    clock.advance(minutes=10)
    await drain(store, notifiers)
    assert len(hooks.posts) == 2 and store.outbox_depth() == 0


async def test_a_refusal_is_dropped_once_and_not_retried(store, hooks, clock, caplog):
    """A 401 is a refusal: the alert is dropped with one error line and never sent again."""
    notifiers = configured_notifiers([destination(hooks)], store, LABELS)
    queue_alert(store, "council-press", "a")
    hooks.answer(401)
    await drain(store, notifiers)
    clock.advance(hours=2)
    await drain(store, notifiers)
    assert len(hooks.posts) == 1 and store.outbox_depth() == 0
    assert subscribers.stats(store)["dropped_total"] == 1
    refused = [r for r in caplog.records if "refused alert" in r.getMessage()]
    assert len(refused) == 1 and "HTTP 401" in refused[0].getMessage()


def test_notifiers_toml_takes_apprise_entries_with_the_url_from_the_environment():
    """[[apprise]] reads its URL from the named variable; an unknown scheme is a one-line error."""
    data = {
        "apprise": [
            {"name": "ops", "url_env": "WATCHER_APPRISE_OPS", "topics": ["smuggling"]},
            {"name": "bad", "url": "nosuchscheme://x"},
        ]
    }
    entries, problems = notifiers_from_toml(
        data, "notifiers.toml", ("smuggling",), {"WATCHER_APPRISE_OPS": "json://127.0.0.1:9/hook"}
    )
    assert entries[0].url == "json://127.0.0.1:9/hook" and entries[0].topics == ("smuggling",)
    assert problems == [
        "notifiers.toml: apprise 'bad': apprise does not take this URL (scheme 'nosuchscheme'); see "
        "the apprise documentation for the URL of each service, e.g. json://host/path or ntfy://topic"
    ]
