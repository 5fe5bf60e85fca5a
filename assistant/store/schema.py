"""Schema migrations, numbered by ``PRAGMA user_version`` (qutebrowser's misc/sql.py does the same).

Append a migration to ``MIGRATIONS``; never edit one that has shipped. A workspace whose version is newer than the last
entry here was written by a newer Assistant and is refused rather than damaged.
"""

MIGRATIONS: list[str] = [
    # 1: the first schema
    """
    CREATE TABLE principals (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        timezone TEXT NOT NULL,
        addresses TEXT NOT NULL DEFAULT '[]',
        region TEXT NOT NULL DEFAULT 'US',
        business_hours TEXT NOT NULL DEFAULT '09:00-17:00 1,2,3,4,5',
        colour TEXT NOT NULL DEFAULT '#3b82f6',
        signature TEXT NOT NULL DEFAULT '',
        approval_policy TEXT NOT NULL DEFAULT 'always',
        notes TEXT NOT NULL DEFAULT '',
        created_utc INTEGER NOT NULL
    );

    CREATE TABLE accounts (
        id INTEGER PRIMARY KEY,
        principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        address TEXT NOT NULL,
        settings TEXT NOT NULL DEFAULT '{}',
        status TEXT NOT NULL DEFAULT 'ok',
        last_error TEXT NOT NULL DEFAULT '',
        last_sync_utc INTEGER
    );
    CREATE INDEX accounts_principal ON accounts(principal_id);

    -- One cursor per account and resource ("mail", "calendar", "contacts"): history id, delta link, sync token, or the
    -- local connector's content-hash state.
    CREATE TABLE sync_state (
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        resource TEXT NOT NULL,
        cursor TEXT,
        updated_utc INTEGER NOT NULL,
        PRIMARY KEY (account_id, resource)
    );

    CREATE TABLE folders (
        id INTEGER PRIMARY KEY,
        principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        remote_id TEXT NOT NULL,
        name TEXT NOT NULL,
        role TEXT NOT NULL DEFAULT '',
        UNIQUE (account_id, remote_id)
    );

    CREATE TABLE threads (
        id INTEGER PRIMARY KEY,
        principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        subject TEXT NOT NULL DEFAULT '',
        last_date_utc INTEGER,
        message_count INTEGER NOT NULL DEFAULT 0,
        unread_count INTEGER NOT NULL DEFAULT 0,
        has_attachments INTEGER NOT NULL DEFAULT 0,
        is_flagged INTEGER NOT NULL DEFAULT 0,
        participants TEXT NOT NULL DEFAULT '',
        snippet TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX threads_principal_date ON threads(principal_id, last_date_utc DESC);

    -- Message-ID headers (and provider thread ids, prefixed) that lead to a thread, per principal.
    CREATE TABLE thread_keys (
        principal_id INTEGER NOT NULL,
        key TEXT NOT NULL,
        thread_id INTEGER NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
        PRIMARY KEY (principal_id, key)
    ) WITHOUT ROWID;

    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        remote_id TEXT NOT NULL,
        thread_id INTEGER REFERENCES threads(id) ON DELETE SET NULL,
        remote_thread_id TEXT NOT NULL DEFAULT '',
        message_id_header TEXT NOT NULL DEFAULT '',
        in_reply_to TEXT NOT NULL DEFAULT '',
        refs TEXT NOT NULL DEFAULT '',
        subject TEXT NOT NULL DEFAULT '',
        sender_name TEXT NOT NULL DEFAULT '',
        sender_email TEXT NOT NULL DEFAULT '',
        recipients TEXT NOT NULL DEFAULT '{}',
        date_utc INTEGER,
        folders TEXT NOT NULL DEFAULT '[]',
        is_read INTEGER NOT NULL DEFAULT 0,
        is_flagged INTEGER NOT NULL DEFAULT 0,
        has_attachments INTEGER NOT NULL DEFAULT 0,
        attachments TEXT NOT NULL DEFAULT '[]',
        snippet TEXT NOT NULL DEFAULT '',
        size INTEGER NOT NULL DEFAULT 0,
        parse_error TEXT NOT NULL DEFAULT '',
        content_hash TEXT NOT NULL DEFAULT '',
        UNIQUE (account_id, remote_id)
    );
    CREATE INDEX messages_thread ON messages(thread_id, date_utc);
    CREATE INDEX messages_principal_date ON messages(principal_id, date_utc DESC);
    CREATE INDEX messages_msgid ON messages(principal_id, message_id_header);

    -- Bodies live apart from the rows lists scan, zlib-compressed: the raw source and the parsed text/HTML.
    CREATE TABLE message_bodies (
        message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
        raw BLOB,
        body_text BLOB,
        body_html BLOB
    );

    CREATE VIRTUAL TABLE messages_fts USING fts5(
        subject, sender, recipients, body, tokenize = 'unicode61 remove_diacritics 2'
    );

    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        remote_id TEXT NOT NULL,
        uid TEXT NOT NULL DEFAULT '',
        calendar_id TEXT NOT NULL DEFAULT '',
        summary TEXT NOT NULL DEFAULT '',
        start_utc INTEGER,
        end_utc INTEGER,
        all_day INTEGER NOT NULL DEFAULT 0,
        start_date TEXT,
        end_date TEXT,
        timezone TEXT NOT NULL DEFAULT '',
        location TEXT NOT NULL DEFAULT '',
        description TEXT NOT NULL DEFAULT '',
        rrule TEXT NOT NULL DEFAULT '',
        ics TEXT NOT NULL DEFAULT '',
        reminder_minutes INTEGER,
        content_hash TEXT NOT NULL DEFAULT '',
        UNIQUE (account_id, remote_id)
    );
    CREATE INDEX events_principal_start ON events(principal_id, start_utc);
    CREATE VIRTUAL TABLE events_fts USING fts5(summary, location, description, tokenize = 'unicode61 remove_diacritics 2');

    CREATE TABLE calls (
        id INTEGER PRIMARY KEY,
        principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        direction TEXT NOT NULL,
        number_raw TEXT NOT NULL DEFAULT '',
        number_e164 TEXT NOT NULL DEFAULT '',
        number_valid INTEGER NOT NULL DEFAULT 0,
        caller_name TEXT NOT NULL DEFAULT '',
        started_utc INTEGER NOT NULL,
        duration_s INTEGER NOT NULL DEFAULT 0,
        outcome TEXT NOT NULL DEFAULT '',
        notes TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL DEFAULT 'manual',
        source_key TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX calls_principal_start ON calls(principal_id, started_utc DESC);
    CREATE UNIQUE INDEX calls_source_key ON calls(principal_id, source, source_key) WHERE source_key != '';
    CREATE VIRTUAL TABLE calls_fts USING fts5(caller_name, number, notes, tokenize = 'unicode61 remove_diacritics 2');

    CREATE TABLE board_columns (
        id INTEGER PRIMARY KEY,
        principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        position INTEGER NOT NULL
    );

    CREATE TABLE tasks (
        id INTEGER PRIMARY KEY,
        principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        column_id INTEGER REFERENCES board_columns(id) ON DELETE SET NULL,
        position INTEGER NOT NULL DEFAULT 0,
        title TEXT NOT NULL,
        notes TEXT NOT NULL DEFAULT '',
        due_utc INTEGER,
        priority INTEGER NOT NULL DEFAULT 0,
        labels TEXT NOT NULL DEFAULT '[]',
        rrule TEXT NOT NULL DEFAULT '',
        link TEXT NOT NULL DEFAULT '',
        done_utc INTEGER,
        created_utc INTEGER NOT NULL
    );
    CREATE INDEX tasks_principal ON tasks(principal_id, column_id, position);
    CREATE VIRTUAL TABLE tasks_fts USING fts5(title, notes, tokenize = 'unicode61 remove_diacritics 2');

    CREATE TABLE reminders (
        id INTEGER PRIMARY KEY,
        principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        text TEXT NOT NULL,
        due_utc INTEGER NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        link TEXT NOT NULL DEFAULT '',
        rrule TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX reminders_due ON reminders(state, due_utc);

    CREATE TABLE contacts (
        id INTEGER PRIMARY KEY,
        principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        name TEXT NOT NULL DEFAULT '',
        emails TEXT NOT NULL DEFAULT '[]',
        phones TEXT NOT NULL DEFAULT '[]',
        source TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX contacts_principal ON contacts(principal_id);

    CREATE TABLE drafts (
        id INTEGER PRIMARY KEY,
        principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        recipients TEXT NOT NULL DEFAULT '{}',
        subject TEXT NOT NULL DEFAULT '',
        body_text TEXT NOT NULL DEFAULT '',
        in_reply_to TEXT NOT NULL DEFAULT '',
        refs TEXT NOT NULL DEFAULT '',
        attachments TEXT NOT NULL DEFAULT '[]',
        state TEXT NOT NULL DEFAULT 'draft',
        created_utc INTEGER NOT NULL,
        updated_utc INTEGER NOT NULL
    );

    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        at_utc INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX audit_principal ON audit(principal_id, at_utc);

    -- Mailspring's persisted task: every remote change is written here first, in the same transaction as its local effect.
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        op TEXT NOT NULL,
        payload TEXT NOT NULL,
        idempotency_key TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT NOT NULL DEFAULT '',
        next_attempt_utc INTEGER,
        created_utc INTEGER NOT NULL,
        result TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX outbox_account_state ON outbox(account_id, state);
    """,
    # 2: drafts that principals approve (versions by content hash, approval requests with an unguessable reference,
    # decisions, send-later), see assistant/approvals/
    """
    ALTER TABLE drafts ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE drafts ADD COLUMN content_hash TEXT NOT NULL DEFAULT '';
    ALTER TABLE drafts ADD COLUMN approved_hash TEXT NOT NULL DEFAULT '';
    ALTER TABLE drafts ADD COLUMN approval TEXT NOT NULL DEFAULT '';
    ALTER TABLE drafts ADD COLUMN comment TEXT NOT NULL DEFAULT '';
    ALTER TABLE drafts ADD COLUMN send_at_utc INTEGER;
    ALTER TABLE drafts ADD COLUMN send_where TEXT NOT NULL DEFAULT '';
    ALTER TABLE drafts ADD COLUMN send_key TEXT NOT NULL DEFAULT '';
    ALTER TABLE drafts ADD COLUMN submitted_utc INTEGER;
    CREATE INDEX drafts_principal_state ON drafts(principal_id, state);

    CREATE TABLE draft_versions (
        id INTEGER PRIMARY KEY,
        principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        draft_id INTEGER NOT NULL REFERENCES drafts(id) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        content TEXT NOT NULL,
        author TEXT NOT NULL DEFAULT 'assistant',
        created_utc INTEGER NOT NULL,
        UNIQUE (draft_id, version)
    );

    CREATE TABLE approval_requests (
        id INTEGER PRIMARY KEY,
        principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        draft_id INTEGER NOT NULL REFERENCES drafts(id) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        channel TEXT NOT NULL,
        reference TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL DEFAULT 'open',
        message_id_header TEXT NOT NULL DEFAULT '',
        outbox_key TEXT NOT NULL DEFAULT '',
        created_utc INTEGER NOT NULL,
        closed_utc INTEGER
    );
    CREATE INDEX approval_requests_draft ON approval_requests(principal_id, draft_id, state);

    CREATE TABLE approval_decisions (
        id INTEGER PRIMARY KEY,
        principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        draft_id INTEGER NOT NULL REFERENCES drafts(id) ON DELETE CASCADE,
        request_id INTEGER REFERENCES approval_requests(id) ON DELETE SET NULL,
        version INTEGER NOT NULL,
        decision TEXT NOT NULL,
        comment TEXT NOT NULL DEFAULT '',
        channel TEXT NOT NULL,
        actor TEXT NOT NULL,
        source_message_id TEXT NOT NULL DEFAULT '',
        at_utc INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX approval_decisions_source ON approval_decisions(principal_id, source_message_id)
        WHERE source_message_id != '';

    -- Replies that looked like approvals but were not applied (wrong sender, unknown or ambiguous reference).
    CREATE TABLE approval_flags (
        id INTEGER PRIMARY KEY,
        principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        message_id INTEGER,
        source_message_id TEXT NOT NULL,
        sender TEXT NOT NULL DEFAULT '',
        reason TEXT NOT NULL,
        at_utc INTEGER NOT NULL,
        UNIQUE (principal_id, source_message_id)
    );

    CREATE TABLE approval_settings (
        principal_id INTEGER PRIMARY KEY REFERENCES principals(id) ON DELETE CASCADE,
        short_forms INTEGER NOT NULL DEFAULT 0,
        undo_seconds INTEGER NOT NULL DEFAULT 10,
        usual_answer_minutes INTEGER NOT NULL DEFAULT 240
    );
    """,
    # calls: the column mapping a user confirmed for a generic CSV call export, remembered by its header signature;
    # calls looked up by party for contact matching and the principal picker
    """
    CREATE TABLE call_csv_mappings (
        signature TEXT PRIMARY KEY,
        header TEXT NOT NULL,
        mapping TEXT NOT NULL,
        saved_utc INTEGER NOT NULL
    );
    CREATE INDEX calls_party ON calls(number_e164, principal_id);
    """,
    # compose: per-principal snippets with {{variables}}, the reply signature (the principal's own `signature` is the
    # one for new messages), and the senders whose remote images the principal's reader always loads
    """
    CREATE TABLE snippets (
        id INTEGER PRIMARY KEY,
        principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        body TEXT NOT NULL DEFAULT '',
        UNIQUE (principal_id, name)
    );
    CREATE TABLE compose_settings (
        principal_id INTEGER PRIMARY KEY REFERENCES principals(id) ON DELETE CASCADE,
        reply_signature TEXT
    );
    CREATE TABLE remote_image_senders (
        principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        sender_email TEXT NOT NULL,
        PRIMARY KEY (principal_id, sender_email)
    );
    """,
    # board: a card's checklist, estimate, archiving and whether its due time gets a reminder; per-principal board settings
    """
    ALTER TABLE tasks ADD COLUMN checklist TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE tasks ADD COLUMN estimate_min INTEGER;
    ALTER TABLE tasks ADD COLUMN archived_utc INTEGER;
    ALTER TABLE tasks ADD COLUMN remind INTEGER NOT NULL DEFAULT 1;
    CREATE TABLE board_settings (
        principal_id INTEGER PRIMARY KEY REFERENCES principals(id) ON DELETE CASCADE,
        archive_after_days INTEGER NOT NULL DEFAULT 7
    );
    """,
    # contacts synced from a provider's address book: which account and which remote contact (NULL for manual ones)
    """
    ALTER TABLE contacts ADD COLUMN account_id INTEGER REFERENCES accounts(id) ON DELETE CASCADE;
    ALTER TABLE contacts ADD COLUMN remote_id TEXT;
    CREATE UNIQUE INDEX contacts_remote ON contacts(account_id, remote_id);
    """,
    # reminders: when one was created/fired, a missed one seen at start, follow-up targets, a recurrence's wall-clock
    # anchor in the principal's zone, urgency; per-principal notification settings and quiet hours; the assistant's own
    """
    ALTER TABLE reminders ADD COLUMN created_utc INTEGER;
    ALTER TABLE reminders ADD COLUMN fired_utc INTEGER;
    ALTER TABLE reminders ADD COLUMN missed INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE reminders ADD COLUMN urgent INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE reminders ADD COLUMN anchor_local TEXT NOT NULL DEFAULT '';
    ALTER TABLE reminders ADD COLUMN message_header_id TEXT NOT NULL DEFAULT '';
    ALTER TABLE reminders ADD COLUMN thread_id INTEGER;
    CREATE INDEX reminders_link ON reminders(principal_id, link);
    CREATE TABLE reminder_settings (
        principal_id INTEGER PRIMARY KEY REFERENCES principals(id) ON DELETE CASCADE,
        notify TEXT NOT NULL DEFAULT 'on',
        quiet_start TEXT NOT NULL DEFAULT '',
        quiet_end TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE assistant_settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # a snippet's approval override, given to the draft it is inserted into ('' = the principal's policy)
    """
    ALTER TABLE snippets ADD COLUMN approval TEXT NOT NULL DEFAULT '';
    """,
    # search at 100k messages: the message index carries its principal's token ('p' || id), so one MATCH finds one
    # principal's hits without visiting the other principals' rows; and a message deleted any way (a cascade included)
    # leaves the index with it. Rebuilding takes ~30 s per 100,000 messages, once.
    """
    CREATE VIRTUAL TABLE messages_fts_new USING fts5(
        subject, sender, recipients, body, principal, tokenize = 'unicode61 remove_diacritics 2'
    );
    INSERT INTO messages_fts_new(rowid, subject, sender, recipients, body, principal)
        SELECT f.rowid, f.subject, f.sender, f.recipients, f.body, 'p' || m.principal_id
        FROM messages_fts f JOIN messages m ON m.id = f.rowid;
    DROP TABLE messages_fts;
    ALTER TABLE messages_fts_new RENAME TO messages_fts;
    CREATE TRIGGER messages_fts_gone AFTER DELETE ON messages BEGIN
        DELETE FROM messages_fts WHERE rowid = old.id;
    END;
    """,
    # who is syncing an account: the process id of the sync that runs (0: none). The status column keeps the last
    # outcome, so a sync killed midway leaves the account as it was, not "syncing" for ever.
    """
    ALTER TABLE accounts ADD COLUMN sync_pid INTEGER NOT NULL DEFAULT 0;
    UPDATE accounts SET status = 'ok' WHERE status = 'syncing';
    """,
    # time worked per principal, and how each principal is billed. An entry's edits keep what it was before (billing
    # evidence, as the approvals audit is). A running timer is the one entry with no end.
    """
    CREATE TABLE time_entries (
        id INTEGER PRIMARY KEY,
        principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        start_utc INTEGER NOT NULL,
        end_utc INTEGER,
        source TEXT NOT NULL,
        billable INTEGER NOT NULL DEFAULT 1,
        note TEXT NOT NULL DEFAULT '',
        item TEXT NOT NULL DEFAULT '',
        item_title TEXT NOT NULL DEFAULT '',
        created_utc INTEGER NOT NULL,
        updated_utc INTEGER NOT NULL
    );
    CREATE INDEX time_entries_principal_start ON time_entries(principal_id, start_utc);
    CREATE UNIQUE INDEX time_entries_one_timer ON time_entries((1)) WHERE end_utc IS NULL;
    CREATE TABLE time_entry_history (
        id INTEGER PRIMARY KEY,
        entry_id INTEGER NOT NULL,
        principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        at_utc INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        before TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE billing (
        principal_id INTEGER PRIMARY KEY REFERENCES principals(id) ON DELETE CASCADE,
        rate TEXT NOT NULL DEFAULT '',
        currency TEXT NOT NULL DEFAULT '',
        retainer_minutes INTEGER,
        retainer_per TEXT NOT NULL DEFAULT '',
        rounding_min INTEGER NOT NULL DEFAULT 0,
        rounding_per TEXT NOT NULL DEFAULT 'entry',
        billable_default INTEGER NOT NULL DEFAULT 1
    );
    """,
    # the retainer notices given: 80 % and 100 % are told once per retainer period (its first day, in the principal's
    # zone), also across restarts
    """
    CREATE TABLE retainer_notices (
        principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        period_start TEXT NOT NULL,
        level INTEGER NOT NULL,
        at_utc INTEGER NOT NULL,
        PRIMARY KEY (principal_id, period_start, level)
    );
    """,
    # the All-principals inbox: every principal's threads newest first, a page at a time (threads_across_principals)
    """
    CREATE INDEX threads_date ON threads(last_date_utc DESC, id DESC);
    """,
    # reports to principals: each principal's template (sections shown, greeting, sign-off, the language of dates,
    # time spent shown or not, and when the end-of-day report and the weekly summary are made, in their zone), and
    # the reports made, one per principal, kind and period (a day, a week's Monday), so none is made twice
    """
    CREATE TABLE report_templates (
        principal_id INTEGER PRIMARY KEY REFERENCES principals(id) ON DELETE CASCADE,
        sections TEXT NOT NULL,
        greeting TEXT NOT NULL DEFAULT '',
        sign_off TEXT NOT NULL DEFAULT '',
        signed TEXT NOT NULL DEFAULT '',
        date_locale TEXT NOT NULL DEFAULT '',
        show_time INTEGER NOT NULL DEFAULT 1,
        eod_at TEXT NOT NULL DEFAULT '',
        weekly_at TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE reports_made (
        principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        period TEXT NOT NULL,
        draft_id INTEGER NOT NULL DEFAULT 0,
        error TEXT NOT NULL DEFAULT '',
        at_utc INTEGER NOT NULL,
        PRIMARY KEY (principal_id, kind, period)
    );
    """,
    # files a draft carries that exist only in the workspace (a forwarded message's attachments): kept here, so an
    # encrypted workspace holds them encrypted, and a draft finds them after a restart (drafts.attachments names them
    # "workspace-file:<id>/<name>")
    """
    CREATE TABLE draft_files (
        id INTEGER PRIMARY KEY,
        principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        data BLOB NOT NULL,
        created_utc INTEGER NOT NULL
    );
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
