"""Webhooks post under the sources' destination rule: a webhook URL that names an internal address is posted to
as configured, but a host name that resolves to a private or loopback address is refused (before the request, and
again when the connection opens) unless private destinations are allowed. The receiver is a local server on
127.0.0.1; the made-up names are known only to the resolver each test gives the guard."""

from __future__ import annotations

import pytest

from tests.fakes.hooks import HookServer
from watcher.errors import NotifyError
from watcher.http.guard import Guard
from watcher.models import Alert
from watcher.notifiers.settings import WebhookConfig
from watcher.notifiers.setup import configured_notifiers
from watcher.notifiers.webhook import WebhookNotifier

LABELS = {"smuggling": "Migrant smuggling"}
PUBLIC = "93.184.216.34"
SECRET = "/hooks/T0KEN-s3cret"


@pytest.fixture
def hooks():
    with HookServer() as server:
        yield server


def answers(*replies: list[str]):
    """A resolver answering ``replies[0]`` first, then ``replies[1]``, ... (the last repeats)."""
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return replies[min(len(asked), len(replies)) - 1]

    return resolve, asked


def alert() -> Alert:
    return Alert(
        id=1,
        subscriber_id=1,
        channel="webhook",
        address="newsroom",
        source="council-press",
        item_id="a",
        title="Smugglers' routes",
        url="https://e.org/a",
        published=None,
        topics=("smuggling",),
        terms=("smuggl*",),
    )


def notifier(url: str, guard: Guard) -> WebhookNotifier:
    return WebhookNotifier([WebhookConfig(name="newsroom", url=url, topics=("smuggling",))], LABELS, guard=guard)


def named(hooks: HookServer, host: str) -> str:
    """The receiver's URL with ``host`` in place of 127.0.0.1, and a secret in its path."""
    return hooks.url(SECRET).replace("127.0.0.1", host)


async def test_a_webhook_name_resolving_to_loopback_is_refused_and_its_url_not_shown(hooks):
    resolve, asked = answers(["127.0.0.1"])
    webhook = notifier(named(hooks, "hooks.example"), Guard(resolve=resolve))
    try:
        with pytest.raises(NotifyError) as refused:
            await webhook.send(alert())
    finally:
        await webhook.aclose()
    message = str(refused.value)
    assert message.startswith("webhook newsroom: refused to post to hooks.example: hooks.example resolves to 127.0.0.1")
    assert "loopback" in message and "WATCHER_ALLOW_PRIVATE_NETWORKS" in message
    assert "T0KEN" not in message and hooks.posts == [] and asked == ["hooks.example"]


async def test_a_webhook_name_rebinding_to_loopback_at_connect_time_is_refused(hooks):
    """Public when checked, loopback when connecting: the connection refuses, nothing is posted."""
    resolve, asked = answers([PUBLIC], ["127.0.0.1"])
    webhook = notifier(named(hooks, "rebind.example"), Guard(resolve=resolve))
    try:
        with pytest.raises(NotifyError) as refused:
            await webhook.send(alert())
    finally:
        await webhook.aclose()
    assert "refused to connect to rebind.example: it resolves to 127.0.0.1, a loopback address" in str(refused.value)
    assert "T0KEN" not in str(refused.value)
    assert hooks.posts == [] and asked == ["rebind.example", "rebind.example"]


async def test_a_webhook_on_a_literal_internal_address_is_posted_to(hooks):
    """An internal address written in the URL on purpose stays allowed, as for a source."""
    webhook = notifier(hooks.url(SECRET), Guard())
    try:
        await webhook.send(alert())
    finally:
        await webhook.aclose()
    [post] = hooks.posts
    assert post["path"] == SECRET and post["json"]["text"]


async def test_with_private_destinations_allowed_the_named_webhook_is_posted_to(hooks):
    """Allowed, the name is posted to, at the address the guard's resolver gave."""
    resolve, _ = answers(["127.0.0.1"])
    webhook = notifier(named(hooks, "hooks.example"), Guard(allow_private=True, resolve=resolve))
    try:
        await webhook.send(alert())
    finally:
        await webhook.aclose()
    assert [p["path"] for p in hooks.posts] == [SECRET]


def test_configured_webhooks_follow_the_private_destinations_setting(store):
    """The service's webhooks are guarded by default and allowed private destinations only when the [http]
    setting or the environment allows them."""
    entry = WebhookConfig(name="newsroom", url="https://hooks.example/x", topics=("smuggling",))
    assert configured_notifiers([entry], store, LABELS)["webhook"].guard.allow_private is False
    assert configured_notifiers([entry], store, LABELS, allow_private=True)["webhook"].guard.allow_private is True
