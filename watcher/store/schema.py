"""The database schema: the base tables, and the named migrations applied after them in order."""

from __future__ import annotations

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS source_state (
    source TEXT PRIMARY KEY,
    first_success_at TEXT,
    last_attempt_at TEXT,
    last_success_at TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_failure TEXT,
    last_failure_detail TEXT,
    paused INTEGER NOT NULL DEFAULT 0,
    cursor TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS items (
    source TEXT NOT NULL,
    item_id TEXT NOT NULL,
    title TEXT NOT NULL,
    url TEXT NOT NULL,
    published TEXT,
    summary TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL DEFAULT '',
    extra TEXT NOT NULL DEFAULT '{}',
    first_seen_at TEXT NOT NULL,
    PRIMARY KEY (source, item_id)
);
CREATE TABLE IF NOT EXISTS matches (
    source TEXT NOT NULL,
    item_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    terms TEXT NOT NULL,
    snippet TEXT NOT NULL DEFAULT '',
    field TEXT NOT NULL DEFAULT '',
    matched_at TEXT NOT NULL,
    PRIMARY KEY (source, item_id, topic)
);
CREATE INDEX IF NOT EXISTS matches_by_time ON matches (matched_at);
CREATE TABLE IF NOT EXISTS subscribers (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    address TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (channel, address)
);
CREATE TABLE IF NOT EXISTS subscriptions (
    subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
    topic TEXT NOT NULL,
    PRIMARY KEY (subscriber_id, topic)
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subscriber_id INTEGER NOT NULL REFERENCES subscribers(id),
    source TEXT NOT NULL,
    item_id TEXT NOT NULL,
    event TEXT NOT NULL DEFAULT 'new',
    topics TEXT NOT NULL,
    terms TEXT NOT NULL,
    snippet TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    delivered_at TEXT,
    dropped_at TEXT,
    UNIQUE (subscriber_id, source, item_id, event)
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND dropped_at IS NULL;
"""

# Named schema changes after the base schema, applied once each, in order, and recorded in ``migrations``.
# Append new ones at the end; never edit or reorder one that has shipped.
MIGRATIONS: list[tuple[str, str]] = [
    # Council documents: the family (reference without version) finds earlier versions, and the public flag lets
    # a document listed as not public alert again when it becomes public. NULL for kinds without these notions.
    ("items-family-and-public",
     "ALTER TABLE items ADD COLUMN family TEXT; ALTER TABLE items ADD COLUMN public INTEGER; "
     "CREATE INDEX IF NOT EXISTS items_by_family ON items (source, family) WHERE family IS NOT NULL"),
    ("http-validators", """
        CREATE TABLE IF NOT EXISTS http_validators (
            url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, updated_at TEXT NOT NULL)
    """),
    ("source-health", """
        ALTER TABLE source_state ADD COLUMN failing_since TEXT;
        ALTER TABLE source_state ADD COLUMN failure_notified_at TEXT;
        ALTER TABLE source_state ADD COLUMN stale_notified_at TEXT;
        ALTER TABLE source_state ADD COLUMN last_unchanged_at TEXT;
        CREATE INDEX IF NOT EXISTS items_by_source_seen ON items (source, first_seen_at);
        CREATE TABLE IF NOT EXISTS poll_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, at TEXT NOT NULL, outcome TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '', items INTEGER NOT NULL DEFAULT 0, new INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX IF NOT EXISTS poll_log_by_source ON poll_log (source, id);
        CREATE TABLE IF NOT EXISTS health_events (
            id INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, kind TEXT NOT NULL, failure TEXT,
            text TEXT NOT NULL, created_at TEXT NOT NULL, next_attempt_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0, sent_to TEXT NOT NULL DEFAULT '[]', delivered_at TEXT,
            last_error TEXT)
    """),
    ("subscriber-delivery-mode", """
        ALTER TABLE subscribers ADD COLUMN mode TEXT NOT NULL DEFAULT 'instant';
        ALTER TABLE subscribers ADD COLUMN digest_hour INTEGER;
        ALTER TABLE subscribers ADD COLUMN digest_tz TEXT;
        ALTER TABLE subscribers ADD COLUMN last_digest_at TEXT;
        CREATE INDEX IF NOT EXISTS outbox_pending_by_subscriber ON outbox (subscriber_id)
            WHERE delivered_at IS NULL AND dropped_at IS NULL
    """),
]
