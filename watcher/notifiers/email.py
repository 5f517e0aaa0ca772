"""Email notifier: one plain-text message (with an HTML alternative) per alert, over SMTP with the standard library.

smtplib blocks, so each send runs in a worker thread. Connection problems, temporary (4xx) SMTP answers and refused
logins are retried later (a login fixed in the environment lets the queue go on); a permanent (5xx) refusal of the
message or of every recipient is logged and not retried.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from collections.abc import Iterable, Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from watcher.errors import NotifyError, RecipientGone, RetryLater
from watcher.models import Alert
from watcher.notifiers.format import alert_html, alert_text
from watcher.notifiers.settings import EmailConfig

log = logging.getLogger(__name__)


def one_line(text: str, limit: int = 150) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def build_message(cfg: EmailConfig, alert: Alert, labels: Mapping[str, str]) -> EmailMessage:
    msg = EmailMessage()
    topics = ", ".join(labels.get(t, t) for t in alert.topics)
    msg["Subject"] = one_line(f"{cfg.subject_prefix} {topics}: {alert.title}".strip())
    msg["From"] = cfg.sender
    msg["To"] = ", ".join(cfg.to)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=cfg.sender.rsplit("@", 1)[-1])
    msg.set_content(alert_text(alert, labels))
    body = alert_html(alert, labels).replace("\n", "<br>\n")
    msg.add_alternative(f"<!doctype html><html><body><p>{body}</p></body></html>", subtype="html")
    return msg


def send_sync(cfg: EmailConfig, msg: EmailMessage) -> None:
    """Connect, secure, log in and send; raises a NotifyError subclass on failure."""
    context = ssl.create_default_context()
    try:
        if cfg.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=context)
        else:
            smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
        with smtp:
            if cfg.security == "starttls":
                smtp.starttls(context=context)
            if cfg.username:
                smtp.login(cfg.username, cfg.password)
            refused = smtp.send_message(msg)
    except smtplib.SMTPRecipientsRefused as exc:
        raise NotifyError(f"email {cfg.name}: every recipient was refused: {sorted(exc.recipients)}") from exc
    except smtplib.SMTPAuthenticationError as exc:
        raise RetryLater(
            f"email {cfg.name}: login refused ({exc.smtp_code}); check username and password_env", delay=300.0
        ) from exc
    except smtplib.SMTPResponseException as exc:
        if 400 <= exc.smtp_code < 500:
            raise RetryLater(f"email {cfg.name}: temporary refusal {exc.smtp_code}", delay=60.0) from exc
        raise NotifyError(f"email {cfg.name}: refused {exc.smtp_code}: {exc.smtp_error[:200]!r}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise RetryLater(f"email {cfg.name}: {type(exc).__name__}: {exc}", delay=30.0) from exc
    if refused:
        log.warning("email %s: some recipients were refused: %s", cfg.name, sorted(refused))


class EmailNotifier:
    channel = "email"
    chat_paced = False  # no per-chat limits outside Telegram

    def is_group(self, address: str) -> bool:
        return False

    def __init__(self, entries: Iterable[EmailConfig], labels: Mapping[str, str]):
        self.entries = {e.name: e for e in entries}
        self.labels = labels

    async def send(self, alert: Alert, *, plain: bool = False) -> None:
        cfg = self.entries.get(alert.address)
        if cfg is None:
            raise RecipientGone(f"email {alert.address!r} is no longer configured")
        await asyncio.to_thread(send_sync, cfg, build_message(cfg, alert, self.labels))
