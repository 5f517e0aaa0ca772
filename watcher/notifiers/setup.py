"""Turn the entries of ``notifiers.toml`` into notifiers, and into subscribers with their topics."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from watcher.http.guard import Guard
from watcher.notifiers.email import EmailNotifier
from watcher.notifiers.webhook import WebhookNotifier
from watcher.store import subscribers

log = logging.getLogger(__name__)


def _apprise_notifier(entries, labels: Mapping[str, str]):
    # loaded late: apprise is an optional extra, imported only when notifiers.toml has [[apprise]] entries
    from watcher.notifiers.apprise import AppriseNotifier

    return AppriseNotifier(entries, labels)


def configured_notifiers(entries, store, labels: Mapping[str, str], allow_private: bool = False) -> dict:
    """Webhook, email and apprise notifiers by channel. Each entry is an active subscriber (channel ``webhook``,
    ``email`` or ``apprise``, address = its name) with exactly its configured topics; entries removed from the file
    stop. ``allow_private`` lets webhooks post to names that resolve to private addresses, as it lets sources
    fetch them (``HttpOptions.allows_private``)."""

    def webhooks(entries, labels: Mapping[str, str]) -> WebhookNotifier:
        return WebhookNotifier(entries, labels, guard=Guard(allow_private))

    out: dict = {}
    for channel, cls in (("webhook", webhooks), ("email", EmailNotifier), ("apprise", _apprise_notifier)):
        mine = [e for e in entries if e.channel == channel]
        for entry in mine:
            subscribers.set_topics(store, channel, entry.name, entry.topics)
        for name in subscribers.deactivate_others(store, channel, [e.name for e in mine]):
            log.info("%s %s is no longer in notifiers.toml; it gets no more alerts", channel, name)
        if mine:
            out[channel] = cls(mine, labels)
            log.info("%s notifiers: %s", channel, ", ".join(e.name for e in mine))
    return out


async def close_notifiers(notifiers: dict) -> None:
    for notifier in notifiers.values():
        closer = getattr(notifier, "aclose", None)
        if closer is not None:
            try:
                await closer()
            except Exception:
                log.exception("%s notifier did not close cleanly", getattr(notifier, "channel", "?"))
