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

# Derived columns of an item for the archive, from its ``new`` or ``old`` row (see the triggers below).
_EXTRA = "CASE WHEN json_valid({r}.extra) THEN {r}.extra ELSE '{{}}' END"
_FACTS = (
    "substr(coalesce({r}.published, {r}.first_seen_at), 1, 10), "
    "CASE WHEN {r}.family IS NOT NULL AND instr({r}.item_id, ' ') > 1 "
    "THEN substr({r}.item_id, 1, instr({r}.item_id, ' ') - 1) ELSE '' END, "
    "coalesce(json_extract(" + _EXTRA + ", '$.doc_type'), ''), "
    "coalesce(json_extract(" + _EXTRA + ", '$.marking'), '')"
)
_DOC = "(SELECT id FROM archive_docs WHERE source={r}.source AND item_id={r}.item_id)"
_CODES = (
    "INSERT INTO archive_codes (doc_id, code) SELECT "
    + _DOC
    + ", upper(j.value) FROM json_each("
    + _EXTRA
    + ", '$.subjects') j WHERE j.type = 'text' ON CONFLICT DO NOTHING;"
)
_INDEX = (
    "INSERT INTO archive_fts (rowid, ref, title, summary, snippets, body) SELECT d.id, i.item_id, i.title, "
    "i.summary, d.snippets, i.body FROM archive_docs d JOIN items i ON i.source = d.source AND "
    "i.item_id = d.item_id WHERE d.source = {r}.source AND d.item_id = {r}.item_id;"
)
_UNINDEX = (
    "INSERT INTO archive_fts (archive_fts, rowid, ref, title, summary, snippets, body) SELECT 'delete', "
    "d.id, {r}.item_id, {r}.title, {r}.summary, d.snippets, {r}.body FROM archive_docs d "
    "WHERE d.source = {r}.source AND d.item_id = {r}.item_id;"
)
_UNINDEX_STORED = (
    _UNINDEX.replace("{r}.title", "i.title")
    .replace("{r}.summary", "i.summary")
    .replace("{r}.body", "i.body")
    .replace("FROM archive_docs d", "FROM archive_docs d JOIN items i ON i.source = d.source AND i.item_id = d.item_id")
)

ARCHIVE_SEARCH = f"""
    CREATE TABLE IF NOT EXISTS archive_docs (
        id INTEGER PRIMARY KEY, source TEXT NOT NULL, item_id TEXT NOT NULL, day TEXT NOT NULL DEFAULT '',
        series TEXT NOT NULL DEFAULT '', doc_type TEXT NOT NULL DEFAULT '', marking TEXT NOT NULL DEFAULT '',
        snippets TEXT NOT NULL DEFAULT '', UNIQUE (source, item_id));
    CREATE INDEX IF NOT EXISTS archive_docs_by_source ON archive_docs (source, id);
    CREATE INDEX IF NOT EXISTS archive_docs_by_day ON archive_docs (day, id);
    CREATE TABLE IF NOT EXISTS archive_codes (
        code TEXT NOT NULL, doc_id INTEGER NOT NULL, PRIMARY KEY (code, doc_id)) WITHOUT ROWID;
    CREATE VIEW IF NOT EXISTS archive_text AS SELECT d.id AS id, i.item_id AS ref, i.title AS title,
        i.summary AS summary, d.snippets AS snippets, i.body AS body
        FROM archive_docs d JOIN items i ON i.source = d.source AND i.item_id = d.item_id;
    CREATE VIRTUAL TABLE IF NOT EXISTS archive_fts USING fts5(ref, title, summary, snippets, body,
        content='archive_text', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
    INSERT INTO archive_docs (source, item_id, day, series, doc_type, marking, snippets)
        SELECT i.source, i.item_id, {_FACTS.format(r="i")},
        coalesce((SELECT group_concat(m.snippet, char(10)) FROM matches m WHERE m.source = i.source AND
                  m.item_id = i.item_id AND m.snippet <> ''), '')
        FROM items i ORDER BY i.first_seen_at, i.rowid;
    INSERT INTO archive_codes (doc_id, code) SELECT d.id, upper(j.value) FROM archive_docs d
        JOIN items i ON i.source = d.source AND i.item_id = d.item_id, json_each({_EXTRA.format(r="i")},
        '$.subjects') j WHERE j.type = 'text' ON CONFLICT DO NOTHING;
    INSERT INTO archive_fts (archive_fts) VALUES ('rebuild');
    CREATE TRIGGER IF NOT EXISTS archive_item_added AFTER INSERT ON items BEGIN
        INSERT INTO archive_docs (source, item_id, day, series, doc_type, marking)
            VALUES (new.source, new.item_id, {_FACTS.format(r="new")}) ON CONFLICT DO NOTHING;
        {_CODES.format(r="new")}
        {_INDEX.format(r="new")}
    END;
    CREATE TRIGGER IF NOT EXISTS archive_text_changing BEFORE UPDATE OF title, summary, body ON items BEGIN
        {_UNINDEX.format(r="old")}
    END;
    CREATE TRIGGER IF NOT EXISTS archive_text_changed AFTER UPDATE OF title, summary, body ON items BEGIN
        {_INDEX.format(r="new")}
    END;
    CREATE TRIGGER IF NOT EXISTS archive_facts_changed AFTER UPDATE OF published, extra ON items BEGIN
        UPDATE archive_docs SET (day, series, doc_type, marking) = (SELECT {_FACTS.format(r="new")})
            WHERE source = new.source AND item_id = new.item_id;
        DELETE FROM archive_codes WHERE doc_id = {_DOC.format(r="new")};
        {_CODES.format(r="new")}
    END;
    CREATE TRIGGER IF NOT EXISTS archive_item_removed AFTER DELETE ON items BEGIN
        {_UNINDEX.format(r="old")}
        DELETE FROM archive_codes WHERE doc_id = {_DOC.format(r="old")};
        DELETE FROM archive_docs WHERE source = old.source AND item_id = old.item_id;
    END;
    CREATE TRIGGER IF NOT EXISTS archive_snippet_added AFTER INSERT ON matches WHEN new.snippet <> '' BEGIN
        {_UNINDEX_STORED.format(r="new")}
        UPDATE archive_docs SET snippets = CASE WHEN snippets = '' THEN new.snippet
            ELSE snippets || char(10) || new.snippet END WHERE source = new.source AND item_id = new.item_id;
        {_INDEX.format(r="new")}
    END
"""

EVENTS_AND_PROVENANCE = """
    CREATE TABLE IF NOT EXISTS item_events (
        id INTEGER PRIMARY KEY, source TEXT NOT NULL, item_id TEXT NOT NULL, event TEXT NOT NULL, at TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS item_events_by_item ON item_events (source, item_id, event);
    INSERT INTO item_events (source, item_id, event, at)
        SELECT i.source, i.item_id, CASE WHEN i.family IS NOT NULL AND EXISTS (SELECT 1 FROM items f
            WHERE f.source = i.source AND f.family = i.family AND f.first_seen_at < i.first_seen_at)
            THEN 'version' ELSE 'new' END, i.first_seen_at FROM items i ORDER BY i.first_seen_at, i.rowid;
    INSERT INTO item_events (source, item_id, event, at)
        SELECT source, item_id, 'public', min(created_at) FROM outbox WHERE event = 'public' GROUP BY source, item_id;
    CREATE TABLE IF NOT EXISTS fetches (
        id INTEGER PRIMARY KEY, url TEXT NOT NULL, final_url TEXT NOT NULL, status INTEGER NOT NULL,
        sha256 TEXT NOT NULL, size INTEGER NOT NULL, content_type TEXT NOT NULL DEFAULT '', etag TEXT,
        last_modified TEXT, retrieved_at TEXT NOT NULL, kept INTEGER NOT NULL DEFAULT 0);
    CREATE INDEX IF NOT EXISTS fetches_by_hash ON fetches (sha256);
    CREATE TABLE IF NOT EXISTS item_fetches (
        source TEXT NOT NULL, item_id TEXT NOT NULL, fetch_id INTEGER NOT NULL REFERENCES fetches(id),
        role TEXT NOT NULL, event TEXT NOT NULL, PRIMARY KEY (source, item_id, fetch_id))
"""

FOLLOWS = """
    CREATE TABLE IF NOT EXISTS follows (
        subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
        kind TEXT NOT NULL, key TEXT NOT NULL, label TEXT NOT NULL, created_at TEXT NOT NULL,
        PRIMARY KEY (subscriber_id, kind, key));
    CREATE INDEX IF NOT EXISTS follows_by_key ON follows (kind, key)
"""

WATCHES = """
    CREATE TABLE IF NOT EXISTS watches (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
        term_key TEXT NOT NULL, key TEXT NOT NULL, spec TEXT NOT NULL, text TEXT NOT NULL, created_at TEXT NOT NULL,
        UNIQUE (subscriber_id, term_key));
    CREATE INDEX IF NOT EXISTS watches_by_key ON watches (key);
    ALTER TABLE outbox ADD COLUMN personal TEXT NOT NULL DEFAULT '[]'
"""

# Named schema changes after the base schema, applied once each, in order, and recorded in ``migrations``.
# Append new ones at the end; never edit or reorder one that has shipped.
MIGRATIONS: list[tuple[str, str]] = [
    # Council documents: the family (reference without version) finds earlier versions, and the public flag lets
    # a document listed as not public alert again when it becomes public. NULL for kinds without these notions.
    (
        "items-family-and-public",
        "ALTER TABLE items ADD COLUMN family TEXT; ALTER TABLE items ADD COLUMN public INTEGER; "
        "CREATE INDEX IF NOT EXISTS items_by_family ON items (source, family) WHERE family IS NOT NULL",
    ),
    (
        "http-validators",
        """
        CREATE TABLE IF NOT EXISTS http_validators (
            url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, updated_at TEXT NOT NULL)
    """,
    ),
    (
        "source-health",
        """
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
    """,
    ),
    (
        "subscriber-delivery-mode",
        """
        ALTER TABLE subscribers ADD COLUMN mode TEXT NOT NULL DEFAULT 'instant';
        ALTER TABLE subscribers ADD COLUMN digest_hour INTEGER;
        ALTER TABLE subscribers ADD COLUMN digest_tz TEXT;
        ALTER TABLE subscribers ADD COLUMN last_digest_at TEXT;
        CREATE INDEX IF NOT EXISTS outbox_pending_by_subscriber ON outbox (subscriber_id)
            WHERE delivered_at IS NULL AND dropped_at IS NULL
    """,
    ),
    # The archive's search: one row per item with a stable number (the full-text index's rowid, which VACUUM
    # cannot renumber), the Council facts the filters read, and the matcher's snippets; the FTS5 index reads its
    # text from items through a view, and triggers keep it in step with every insert and change. Built here for
    # the items already stored.
    ("archive-search", ARCHIVE_SEARCH),
    # What happened to each item and when (new, version, public), and what was fetched to learn it: the URL,
    # SHA-256, size, status and validators of every PDF read and of the feed or page answers that gave a new item.
    ("item-events-and-provenance", EVENTS_AND_PROVENANCE),
    # What each chat follows: a Council document family or a legislative procedure (see ``follows``).
    ("follows", FOLLOWS),
    # A chat's own quiet hours: no alert before ``muted_until`` (then one digest of what was held), and ``quiet``
    # alerts that arrive without a sound.
    (
        "subscriber-mute-and-quiet",
        "ALTER TABLE subscribers ADD COLUMN muted_until TEXT; "
        "ALTER TABLE subscribers ADD COLUMN quiet INTEGER NOT NULL DEFAULT 0",
    ),
    # A chat's own terms (/watch, see ``watches``), and on each outbox row the ones that raised it.
    ("personal-terms", WATCHES),
    # The words the terms matched, as the text writes them ("smuggling" for ``smuggl*``), for the alert to show;
    # rows queued before this have none and show their terms.
    ("outbox-matched-words", "ALTER TABLE outbox ADD COLUMN words TEXT NOT NULL DEFAULT '[]'"),
    # The language a chat chose with /language (en, fr, de); a chat that never chose is spoken to in its user's
    # Telegram language. Kept apart from subscribers: a chat may choose before it subscribes.
    (
        "chat-language",
        "CREATE TABLE IF NOT EXISTS chat_language (channel TEXT NOT NULL, address TEXT NOT NULL, "
        "language TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (channel, address))",
    ),
    # The language last seen from the user of a private chat that never chose one (Telegram's language_code), so
    # that its alerts, sent when no one is writing, come in that language too.
    (
        "chat-seen-language",
        "CREATE TABLE IF NOT EXISTS chat_seen_language (channel TEXT NOT NULL, address TEXT NOT NULL, "
        "language TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (channel, address))",
    ),
    # Who polls each source now and when its last poll started (see ``claims``): replicas poll a due source once.
    (
        "source-claims",
        "CREATE TABLE IF NOT EXISTS source_claims (source TEXT PRIMARY KEY, owner TEXT, lease_until TEXT, "
        "started_at TEXT NOT NULL)",
    ),
    # Leases on queued work (see ``leases``): who is sending an outbox row or an operator message, and until when
    # that claim holds; a process that dies loses its claims when they expire.
    (
        "outbox-leases",
        """
        ALTER TABLE outbox ADD COLUMN lease_owner TEXT;
        ALTER TABLE outbox ADD COLUMN lease_until TEXT;
        CREATE INDEX IF NOT EXISTS outbox_leased ON outbox (lease_owner) WHERE lease_owner IS NOT NULL;
        ALTER TABLE health_events ADD COLUMN lease_owner TEXT;
        ALTER TABLE health_events ADD COLUMN lease_until TEXT
    """,
    ),
]

# The archive's search on PostgreSQL: the same ``archive_docs`` and ``archive_codes`` rows, kept by PL/pgSQL
# triggers instead of SQLite's, and a ``words`` tsvector (the 'simple' configuration: no stemming, like FTS5's
# unicode61) with a GIN index in place of the FTS5 table. The PDF text counts up to its first WORDS_BODY_CHARS
# characters (a tsvector holds at most 1 MB).
WORDS_BODY_CHARS = 400_000
ARCHIVE_SEARCH_POSTGRES = f"""
    CREATE TABLE IF NOT EXISTS archive_docs (
        id INTEGER PRIMARY KEY, source TEXT NOT NULL, item_id TEXT NOT NULL, day TEXT NOT NULL DEFAULT '',
        series TEXT NOT NULL DEFAULT '', doc_type TEXT NOT NULL DEFAULT '', marking TEXT NOT NULL DEFAULT '',
        snippets TEXT NOT NULL DEFAULT '', UNIQUE (source, item_id));
    ALTER TABLE archive_docs ADD COLUMN IF NOT EXISTS words tsvector;
    CREATE INDEX IF NOT EXISTS archive_docs_by_source ON archive_docs (source, id);
    CREATE INDEX IF NOT EXISTS archive_docs_by_day ON archive_docs (day, id);
    CREATE INDEX IF NOT EXISTS archive_docs_words ON archive_docs USING GIN (words);
    CREATE TABLE IF NOT EXISTS archive_codes (code TEXT NOT NULL, doc_id INTEGER NOT NULL, PRIMARY KEY (code, doc_id));
    CREATE OR REPLACE FUNCTION watcher_archive_item() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        extra jsonb;
        doc integer;
    BEGIN
        IF TG_OP = 'DELETE' THEN
            DELETE FROM archive_codes WHERE doc_id IN
                (SELECT id FROM archive_docs WHERE source = OLD.source AND item_id = OLD.item_id);
            DELETE FROM archive_docs WHERE source = OLD.source AND item_id = OLD.item_id;
            RETURN OLD;
        END IF;
        BEGIN
            extra := NEW.extra::jsonb;
        EXCEPTION WHEN others THEN
            extra := '{{}}'::jsonb;
        END;
        IF jsonb_typeof(extra) <> 'object' THEN
            extra := '{{}}'::jsonb;
        END IF;
        INSERT INTO archive_docs (source, item_id) VALUES (NEW.source, NEW.item_id) ON CONFLICT DO NOTHING;
        UPDATE archive_docs SET
            day = substr(coalesce(NEW.published, NEW.first_seen_at), 1, 10),
            series = CASE WHEN NEW.family IS NOT NULL AND strpos(NEW.item_id, ' ') > 1
                THEN split_part(NEW.item_id, ' ', 1) ELSE '' END,
            doc_type = coalesce(extra->>'doc_type', ''),
            marking = coalesce(extra->>'marking', ''),
            words = to_tsvector('simple', concat_ws(' ', NEW.item_id, NEW.title, NEW.summary, snippets,
                left(NEW.body, {WORDS_BODY_CHARS})))
            WHERE source = NEW.source AND item_id = NEW.item_id RETURNING id INTO doc;
        DELETE FROM archive_codes WHERE doc_id = doc;
        IF jsonb_typeof(extra->'subjects') = 'array' THEN
            INSERT INTO archive_codes (doc_id, code) SELECT doc, upper(v #>> '{{}}')
                FROM jsonb_array_elements(extra->'subjects') v WHERE jsonb_typeof(v) = 'string'
                ON CONFLICT DO NOTHING;
        END IF;
        RETURN NEW;
    END $$;
    CREATE OR REPLACE FUNCTION watcher_archive_snippet() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE archive_docs d SET
            snippets = CASE WHEN d.snippets = '' THEN NEW.snippet ELSE d.snippets || chr(10) || NEW.snippet END,
            words = to_tsvector('simple', concat_ws(' ', i.item_id, i.title, i.summary,
                CASE WHEN d.snippets = '' THEN NEW.snippet ELSE d.snippets || chr(10) || NEW.snippet END,
                left(i.body, {WORDS_BODY_CHARS})))
            FROM items i WHERE i.source = d.source AND i.item_id = d.item_id
            AND d.source = NEW.source AND d.item_id = NEW.item_id;
        RETURN NEW;
    END $$;
    DROP TRIGGER IF EXISTS archive_item_changed ON items;
    CREATE TRIGGER archive_item_changed AFTER INSERT OR DELETE OR UPDATE OF title, summary, body, published, extra
        ON items FOR EACH ROW EXECUTE FUNCTION watcher_archive_item();
    DROP TRIGGER IF EXISTS archive_snippet_added ON matches;
    CREATE TRIGGER archive_snippet_added AFTER INSERT ON matches FOR EACH ROW WHEN (NEW.snippet <> '')
        EXECUTE FUNCTION watcher_archive_snippet();
    INSERT INTO archive_docs (source, item_id) SELECT source, item_id FROM items ORDER BY first_seen_at, rowid;
    UPDATE items SET title = title
"""

# Migrations whose SQLite text PostgreSQL cannot run; the same name, the same tables and rows, another body.
POSTGRES_MIGRATIONS: dict[str, str] = {"archive-search": ARCHIVE_SEARCH_POSTGRES}
