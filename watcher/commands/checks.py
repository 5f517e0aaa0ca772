"""What ``watcher check-config`` looks at beyond the files themselves: the database's subscriptions, read only."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

from watcher.errors import StoreError
from watcher.store.db import PostgresError, is_postgres, read_rows, safe_url

log = logging.getLogger(__name__)

SUBSCRIBED_TOPICS = (
    "SELECT s.topic, COUNT(*) FROM subscriptions s JOIN subscribers u ON u.id = s.subscriber_id "
    "WHERE u.active = 1 AND u.channel = 'telegram' GROUP BY s.topic ORDER BY s.topic"
)


def subscribed_topics(target: Path | str) -> dict[str, int]:
    """Topic id → active Telegram chats subscribed to it, read without writing; empty without a database."""
    if is_postgres(target):
        try:
            return {topic: int(count) for topic, count in read_rows(str(target), SUBSCRIBED_TOPICS)}
        except (StoreError, PostgresError) as exc:
            log.debug("check-config: subscriptions not read: %s", exc)
            return {}
    db_path = Path(target)
    if not db_path.exists():
        return {}
    try:
        with sqlite3.connect(f"file:{quote(str(db_path.resolve()))}?mode=ro", uri=True, timeout=2) as db:
            return {topic: int(count) for topic, count in db.execute(SUBSCRIBED_TOPICS)}
    except sqlite3.Error as exc:
        log.debug("check-config: subscriptions in %s not read: %s", db_path, exc)
        return {}


def vanished_topics(db_path: Path | str, topic_ids: Iterable[str], topics_file: Path) -> list[str]:
    """One warning per topic id that chats are subscribed to but ``topics_file`` no longer defines."""
    known = set(topic_ids)
    return [
        f"{topics_file}: topic {topic!r} is gone, but {count} chat{'s are' if count > 1 else ' is'} subscribed "
        f"to it in {safe_url(str(db_path))} and get{'' if count > 1 else 's'} nothing for it now; put the topic back "
        "under that id (rename it back), or tell the chats to pick new topics with /topics"
        for topic, count in subscribed_topics(db_path).items()
        if topic not in known
    ]


def shared_failure(failures: list[str | None]) -> str | None:
    """The failure class when two or more sources were polled and every one failed with it, else None."""
    if len(failures) < 2 or failures[0] is None or any(f != failures[0] for f in failures):
        return None
    return failures[0]


def shared_failure_hint(failure: str) -> str:
    """What to check when every source fails the same way: the trouble is likely on this side."""
    return (
        f"hint: every source failed the same way ({failure}); the trouble is likely here rather than at the "
        "sources: check the network (DNS, proxy, firewall) and the clock, then `watcher status` for each "
        "source's last success"
    )
