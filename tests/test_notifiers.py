"""Webhook and email notifiers, delivered through the outbox worker to a local webhook receiver and a local SMTP
server on 127.0.0.1."""

from __future__ import annotations

import socket
from datetime import timedelta
from email import message_from_bytes, policy
from email.utils import format_datetime

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tests.fakes.hooks import HookServer
from tests.fakes.telegram import queue_alert
from watcher.delivery.worker import DeliveryWorker
from watcher.notifiers.email import EmailNotifier
from watcher.notifiers.settings import EmailConfig, WebhookConfig
from watcher.notifiers.setup import configured_notifiers
from watcher.notifiers.webhook import WebhookNotifier
from watcher.store import subscribers

LABELS = {"smuggling": "Migrant smuggling", "borders": "Borders"}


@pytest.fixture
def hooks():
    with HookServer() as server:
        yield server


def hook(url: str, **kw) -> WebhookConfig:
    return WebhookConfig(name=kw.pop("name", "newsroom"), url=url, topics=kw.pop("topics", ("smuggling",)), **kw)


async def deliver(store, notifiers: dict) -> None:
    worker = DeliveryWorker(store, notifiers)
    await worker.drain()
    for n in notifiers.values():
        if hasattr(n, "aclose"):
            await n.aclose()


async def test_webhook_posts_json_with_text_alert_and_headers(store, hooks):
    """Each alert is one JSON POST with a text line and the alert's fields, and the configured headers."""
    cfg = hook(hooks.url(), headers={"Authorization": "Bearer s3cret", "X-Team": "news"})
    notifiers = configured_notifiers([cfg], store, LABELS)
    queue_alert(store, "council-press", "a", "Smugglers & <routes>")
    await deliver(store, notifiers)
    [post] = hooks.posts
    assert post["headers"]["Authorization"] == "Bearer s3cret" and post["headers"]["X-Team"] == "news"
    body = post["json"]
    assert body["text"].startswith("New: Smugglers & <routes>")
    assert body["alert"]["title"] == "Smugglers & <routes>" and body["alert"]["topics"] == ["smuggling"]
    assert body["alert"]["topic_labels"] == ["Migrant smuggling"] and body["alert"]["url"] == "https://e.org/a"
    assert store.outbox_depth() == 0


async def test_webhook_text_payload(store, hooks):
    """With payload = "text" the body is only {"text": ...} (for services that refuse other keys)."""
    notifiers = configured_notifiers([hook(hooks.url(), payload="text")], store, LABELS)
    queue_alert(store, "council-press", "a")
    await deliver(store, notifiers)
    assert list(hooks.posts[0]["json"]) == ["text"]


async def test_webhook_errors_retry_or_drop(store, hooks, clock):
    """A 5xx or 429 keeps the alert for later (429 after its Retry-After); a 404 is a refusal and drops it."""
    notifiers = {"webhook": WebhookNotifier([hook(hooks.url())], LABELS)}
    subscribers.set_topics(store, "webhook", "newsroom", ["smuggling"])
    queue_alert(store, "council-press", "a")
    hooks.answer(429, {"Retry-After": "120"})
    await DeliveryWorker(store, notifiers).drain()
    [(attempts, due)] = store.db.execute("SELECT attempts, next_attempt_at FROM outbox").fetchall()
    assert attempts == 1 and due >= subscribers.iso(clock.now() + timedelta(seconds=120))
    clock.advance(seconds=121)
    hooks.answer(503)
    await DeliveryWorker(store, notifiers).drain()
    assert store.outbox_depth() == 1
    clock.advance(hours=1)
    hooks.answer(404)
    await DeliveryWorker(store, notifiers).drain()
    assert store.outbox_depth() == 0 and subscribers.stats(store)["dropped_total"] == 1
    await notifiers["webhook"].aclose()


async def test_webhook_retry_after_as_an_http_date_is_honoured(store, hooks, clock):
    """A 429 whose Retry-After is an HTTP-date five minutes ahead keeps the alert for exactly those five minutes."""
    notifiers = {"webhook": WebhookNotifier([hook(hooks.url())], LABELS, clock=clock)}
    subscribers.set_topics(store, "webhook", "newsroom", ["smuggling"])
    queue_alert(store, "council-press", "a")
    hooks.answer(429, {"Retry-After": format_datetime(clock.now() + timedelta(minutes=5), usegmt=True)})
    await DeliveryWorker(store, notifiers).drain()
    [(attempts, due)] = store.db.execute("SELECT attempts, next_attempt_at FROM outbox").fetchall()
    assert attempts == 1 and due == subscribers.iso(clock.now() + timedelta(minutes=5))
    await notifiers["webhook"].aclose()


async def test_unreachable_webhook_is_retried(store):
    """A webhook that cannot be reached keeps the alert queued for a later attempt."""
    notifiers = configured_notifiers([hook("http://127.0.0.1:9/hook")], store, LABELS)
    queue_alert(store, "council-press", "a")
    await deliver(store, notifiers)
    assert store.outbox_depth() == 1


async def test_notifiers_become_subscribers_with_their_topics(store, hooks):
    """Each configured entry is a subscriber with exactly its topics; an entry removed from the file stops."""
    configured_notifiers([hook(hooks.url(), topics=("smuggling", "borders"))], store, LABELS)
    assert store.subscription("webhook", "newsroom") == (True, ["borders", "smuggling"])
    configured_notifiers([hook(hooks.url(), topics=("borders",))], store, LABELS)
    assert store.subscription("webhook", "newsroom") == (True, ["borders"])
    configured_notifiers([], store, LABELS)
    assert store.subscription("webhook", "newsroom")[0] is False


# ------------------------------------------------------------------------------------------------------ email


class Inbox:
    """aiosmtpd handler: keeps accepted messages; refuses recipients at refused.example."""

    def __init__(self):
        self.messages: list = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd naming)
        if address.endswith("@refused.example"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 Message accepted"


def check_login(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"watcher" and auth_data.password == b"right-password"
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=free_port(), authenticator=check_login, auth_require_tls=False
    )
    controller.start()
    yield controller, inbox
    controller.stop()


def mail(controller, **kw) -> EmailConfig:
    base = dict(
        name="research",
        to=("team@example.org",),
        sender="watcher@example.org",
        host="127.0.0.1",
        port=controller.port,
        security="none",
        username="watcher",
        password="right-password",
        topics=("smuggling",),
        timeout=5.0,
    )
    base.update(kw)
    return EmailConfig(**base)


async def test_email_is_sent_with_login_subject_and_body(store, smtp):
    """An alert becomes one email: logged in, subject with topic and title, body with the link and terms."""
    controller, inbox = smtp
    notifiers = configured_notifiers([mail(controller)], store, LABELS)
    queue_alert(store, "council-press", "a", "Smugglers & <routes>\nsecond line")
    await deliver(store, notifiers)
    [(sender, rcpts, message)] = inbox.messages
    assert sender == "watcher@example.org" and rcpts == ["team@example.org"]
    assert message["Subject"] == "[watcher] Migrant smuggling: Smugglers & <routes> second line"
    text = message.get_body(("plain",)).get_content()
    assert "https://e.org/a" in text and "migrant smuggling" in text
    assert "Smugglers &amp; &lt;routes&gt;" in message.get_body(("html",)).get_content()
    assert store.outbox_depth() == 0


async def test_email_wrong_password_keeps_the_alert(store, smtp):
    """A refused login is logged and retried later; the alert is not lost."""
    controller, inbox = smtp
    notifiers = {"email": EmailNotifier([mail(controller, password="wrong")], LABELS)}
    subscribers.set_topics(store, "email", "research", ["smuggling"])
    queue_alert(store, "council-press", "a")
    await deliver(store, notifiers)
    assert inbox.messages == [] and store.outbox_depth() == 1
    assert "login refused (535)" in store.db.execute("SELECT last_error FROM outbox").fetchone()[0]


async def test_email_refused_recipient_is_dropped(store, smtp):
    """A permanent refusal of every recipient drops the alert instead of retrying forever."""
    controller, inbox = smtp
    notifiers = configured_notifiers([mail(controller, to=("nobody@refused.example",))], store, LABELS)
    queue_alert(store, "council-press", "a")
    await deliver(store, notifiers)
    assert inbox.messages == [] and store.outbox_depth() == 0
    assert subscribers.stats(store)["dropped_total"] == 1


async def test_email_server_down_is_retried(store):
    """When the SMTP server cannot be reached the alert stays queued."""
    notifiers = configured_notifiers(
        [
            EmailConfig(
                name="research",
                to=("a@example.org",),
                sender="w@example.org",
                host="127.0.0.1",
                port=free_port(),
                security="none",
                topics=("smuggling",),
                timeout=2.0,
            )
        ],
        store,
        LABELS,
    )
    queue_alert(store, "council-press", "a")
    await deliver(store, notifiers)
    assert store.outbox_depth() == 1
