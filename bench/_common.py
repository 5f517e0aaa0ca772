"""What several benches share: the common words their generated texts are made of, and a store's subscribers.

Not a bench itself (the name starts with ``_``: the smoke pass in .ci/run and tests/test_benches.py skip it). The
benches import it as ``bench._common`` once they have put the repository root on ``sys.path``.
"""

from __future__ import annotations

from watcher.store.sqlite import Store

# English function words and the words most Council documents use; generated texts start from these, in this order
# (the order matters: the benches draw from their lists with seeded generators, by rank or by position).
ENGLISH_WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "on",
    "with",
    "as",
    "by",
    "this",
    "be",
    "are",
    "from",
    "at",
    "or",
    "it",
    "an",
    "which",
    "Council",
    "Member",
    "States",
    "delegations",
    "Presidency",
    "document",
    "meeting",
    "agreement",
    "report",
]
# Words of Council policy texts, after the place names each bench adds before them.
POLICY_WORDS = ["ministers", "regulation", "directive", "proposal", "conclusions", "budget"]


def add_subscribers(store: Store, count: int, topic: str) -> None:
    """``count`` active Telegram private chats (addresses 1000, 1001, ...), all subscribed to ``topic``."""
    now = store.now()
    with store.tx():
        store.db.executemany(
            "INSERT INTO subscribers (channel, address, active, created_at, updated_at) "
            "VALUES ('telegram', ?, 1, ?, ?)",
            [(str(1000 + i), now, now) for i in range(count)],
        )
        store.db.execute("INSERT INTO subscriptions SELECT id, ? FROM subscribers", (topic,))
