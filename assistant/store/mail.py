"""A principal's mail in the store: folders, messages, their bodies and the threads they make. Every statement filters
on the scope's principal, and every write checks that the account is the principal's; the only exceptions are the two
reads marked explicitly cross-principal (``threads_across_principals``, ``search_across_principals``). The search
language is :mod:`assistant.store.search`; the actions a user takes on mail (a local effect and an outbox entry) are
:mod:`assistant.sync.actions`."""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from functools import lru_cache
from operator import itemgetter
from typing import cast

from assistant.core.compression import compress_source, compress_text, compressed_bodies, decompress
from assistant.core.errors import NotFound
from assistant.core.timezones import from_epoch, to_epoch
from assistant.domain import (
    Address,
    Attachment,
    Folder,
    Message,
    Thread,
)
from assistant.store import (
    PrincipalScope,
    Store,
    _addr_json,
    _addrs,
    adopt_remote_id,
    content_hash,
    fts,
    inserted_id,
)
from assistant.store.changes import Area
from assistant.store.db import sqlite


def upsert_folder(scope: PrincipalScope, f: Folder) -> None:
    scope.own_account(f.account_id)
    with scope.store.transaction():
        scope.store.changed(Area.MAIL, scope.principal_id)
        scope.db.execute(
            "INSERT INTO folders(principal_id, account_id, remote_id, name, role) VALUES (?,?,?,?,?)"
            " ON CONFLICT(account_id, remote_id) DO UPDATE SET name=excluded.name, role=excluded.role",
            (scope.principal_id, f.account_id, f.remote_id, f.name, f.role),
        )


def folders(scope: PrincipalScope) -> list[Folder]:
    rows = scope.db.execute(
        "SELECT * FROM folders WHERE principal_id=? ORDER BY account_id, CASE role WHEN 'inbox' THEN 0 WHEN '' THEN 2"
        " ELSE 1 END, name",
        (scope.principal_id,),
    )
    return [Folder(id=r["id"], account_id=r["account_id"], remote_id=r["remote_id"], name=r["name"], role=r["role"])
            for r in rows]


def folder_by_role(scope: PrincipalScope, account_id: int, role: str) -> Folder | None:
    for f in folders(scope):
        if f.account_id == account_id and f.role == role:
            return f
    return None


def upsert_message(scope: PrincipalScope, m: Message, raw: bytes | None = None, *,
                   bodies: tuple[bytes | None, bytes | None, bytes | None] | None = None) -> tuple[int, str]:
    """Insert or update by (account, remote id). Returns (message id, "added" | "updated" | "unchanged").

    ``bodies``: ``compressed_bodies(raw, m.body_text, m.body_html)`` when the caller made them already (then ``raw`` is not needed)."""
    scope.own_account(m.account_id)
    recipients = json.dumps({"to": _addr_json(m.to), "cc": _addr_json(m.cc)})
    attachments = json.dumps([a.__dict__ for a in m.attachments])
    digest = content_hash(
        m.subject, m.message_id_header, recipients, m.folders, m.is_read, m.is_flagged, attachments,
        m.body_text, m.body_html, to_epoch(m.date_utc), m.parse_error,
    )
    with scope.store.transaction():
        scope.store.changed(Area.MAIL, scope.principal_id)
        row = scope.db.execute(
            "SELECT id, content_hash, thread_id FROM messages WHERE account_id=? AND remote_id=?",
            (m.account_id, m.remote_id),
        ).fetchone()
        if row and row["content_hash"] == digest:
            m.id = row["id"]
            return row["id"], "unchanged"
        thread_id = row["thread_id"] if row and row["thread_id"] else _thread_for(scope, m)
        values = (
            scope.principal_id, m.account_id, m.remote_id, thread_id, m.remote_thread_id, m.message_id_header,
            m.in_reply_to, " ".join(m.references), m.subject, m.sender.name if m.sender else "",
            m.sender.email if m.sender else "", recipients, to_epoch(m.date_utc), json.dumps(m.folders),
            int(m.is_read), int(m.is_flagged), int(bool(m.attachments)), attachments, m.snippet, m.size,
            m.parse_error, digest,
        )
        if row:
            message_id = row["id"]
            scope.db.execute(
                "UPDATE messages SET principal_id=?, account_id=?, remote_id=?, thread_id=?, remote_thread_id=?,"
                " message_id_header=?, in_reply_to=?, refs=?, subject=?, sender_name=?, sender_email=?, recipients=?,"
                " date_utc=?, folders=?, is_read=?, is_flagged=?, has_attachments=?, attachments=?, snippet=?, size=?,"
                " parse_error=?, content_hash=? WHERE id=?",
                values + (message_id,),
            )
            scope.db.execute("DELETE FROM messages_fts WHERE rowid=?", (message_id,))
            outcome = "updated"
        else:
            cur = scope.db.execute(
                "INSERT INTO messages(principal_id, account_id, remote_id, thread_id, remote_thread_id,"
                " message_id_header, in_reply_to, refs, subject, sender_name, sender_email, recipients, date_utc,"
                " folders, is_read, is_flagged, has_attachments, attachments, snippet, size, parse_error,"
                " content_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                values,
            )
            message_id = inserted_id(cur)
            outcome = "added"
        scope.db.execute(
            "INSERT INTO messages_fts(rowid, subject, sender, recipients, body, principal) VALUES (?,?,?,?,?,?)",
            (
                message_id, fts.index_text(m.subject), fts.index_text(str(m.sender or "")),
                fts.index_text(" ".join(str(a) for a in m.to + m.cc)), fts.index_text(m.body_text),
                fts.principal_token(scope.principal_id),
            ),
        )
        scope.db.execute(
            "INSERT INTO message_bodies(message_id, raw, body_text, body_html) VALUES (?,?,?,?)"
            " ON CONFLICT(message_id) DO UPDATE SET raw=COALESCE(excluded.raw, raw), body_text=excluded.body_text,"
            " body_html=excluded.body_html",
            (message_id, *(bodies or compressed_bodies(raw, m.body_text, m.body_html))),
        )
        _register_thread_keys(scope, m, thread_id)
        _refresh_thread(scope, thread_id)
    m.id, m.thread_id = message_id, thread_id
    return message_id, outcome


def _thread_for(scope: PrincipalScope, m: Message) -> int:
    keys = [k for k in [m.in_reply_to, *reversed(m.references)] if k]
    if m.remote_thread_id:
        keys.insert(0, f"remote:{m.account_id}:{m.remote_thread_id}")
    if m.message_id_header:
        keys.append(m.message_id_header)  # a reply that arrived before its parent registered this id
    for key in keys:
        row = scope.db.execute(
            "SELECT thread_id FROM thread_keys WHERE principal_id=? AND key=?", (scope.principal_id, key)
        ).fetchone()
        if row:
            return cast(int, row[0])
    cur = scope.db.execute(
        "INSERT INTO threads(principal_id, subject) VALUES (?,?)", (scope.principal_id, m.subject)
    )
    return inserted_id(cur)


def _register_thread_keys(scope: PrincipalScope, m: Message, thread_id: int) -> None:
    keys = [k for k in [m.message_id_header, m.in_reply_to, *m.references] if k]
    if m.remote_thread_id:
        keys.append(f"remote:{m.account_id}:{m.remote_thread_id}")
    scope.db.executemany(
        "INSERT OR IGNORE INTO thread_keys(principal_id, key, thread_id) VALUES (?,?,?)",
        [(scope.principal_id, k, thread_id) for k in keys],
    )


def _refresh_thread(scope: PrincipalScope, thread_id: int | None) -> None:
    if thread_id is None:
        return
    agg = scope.db.execute(
        "SELECT COUNT(*) n, SUM(1-is_read) unread, MAX(has_attachments) att, MAX(is_flagged) flag, MAX(date_utc) last"
        " FROM messages WHERE thread_id=?",
        (thread_id,),
    ).fetchone()
    if agg["n"] == 0:
        scope.db.execute("DELETE FROM threads WHERE id=?", (thread_id,))
        return
    first = scope.db.execute(
        "SELECT subject FROM messages WHERE thread_id=? ORDER BY date_utc LIMIT 1", (thread_id,)
    ).fetchone()
    latest = scope.db.execute(
        "SELECT snippet FROM messages WHERE thread_id=? ORDER BY date_utc DESC LIMIT 1", (thread_id,)
    ).fetchone()
    names = [
        r[0] for r in scope.db.execute(
            "SELECT COALESCE(NULLIF(sender_name,''), sender_email) FROM messages WHERE thread_id=?"
            " GROUP BY 1 ORDER BY MIN(date_utc) LIMIT 4",
            (thread_id,),
        )
    ]
    scope.db.execute(
        "UPDATE threads SET subject=?, last_date_utc=?, message_count=?, unread_count=?, has_attachments=?,"
        " is_flagged=?, participants=?, snippet=? WHERE id=?",
        (
            first["subject"], agg["last"], agg["n"], agg["unread"] or 0, agg["att"] or 0, agg["flag"] or 0,
            ", ".join(n for n in names if n), latest["snippet"], thread_id,
        ),
    )


def remove_messages(scope: PrincipalScope, account_id: int, remote_ids: Iterable[str]) -> int:
    scope.own_account(account_id)
    removed = 0
    with scope.store.transaction():
        scope.store.changed(Area.MAIL, scope.principal_id)
        for rid in remote_ids:
            row = scope.db.execute(
                "SELECT id, thread_id FROM messages WHERE account_id=? AND remote_id=? AND principal_id=?",
                (account_id, rid, scope.principal_id),
            ).fetchone()
            if not row:
                continue
            scope.db.execute("DELETE FROM messages_fts WHERE rowid=?", (row["id"],))
            scope.db.execute("DELETE FROM messages WHERE id=?", (row["id"],))
            _refresh_thread(scope, row["thread_id"])
            removed += 1
    return removed


def message_remote_ids(scope: PrincipalScope, account_id: int) -> set[str]:
    return {
        r[0] for r in scope.db.execute(
            "SELECT remote_id FROM messages WHERE account_id=? AND principal_id=?", (account_id, scope.principal_id)
        )
    }


@lru_cache(maxsize=512)
def _folders(text: str) -> tuple[str, ...]:
    """A message's folders as stored (JSON): a mailbox has few distinct sets, and a search page builds up to 500
    messages, where decoding the same ``["INBOX"]`` each time was a fifth of the time."""
    return tuple(json.loads(text))


def _message(scope: PrincipalScope, r: sqlite.Row, with_body: bool = False) -> Message:
    rec = json.loads(r["recipients"])
    attachments = r["attachments"]
    m = Message(
        id=r["id"], principal_id=r["principal_id"], account_id=r["account_id"], remote_id=r["remote_id"],
        thread_id=r["thread_id"], remote_thread_id=r["remote_thread_id"], message_id_header=r["message_id_header"],
        in_reply_to=r["in_reply_to"], references=r["refs"].split(), subject=r["subject"],
        sender=Address(r["sender_name"], r["sender_email"]) if (r["sender_name"] or r["sender_email"]) else None,
        to=_addrs(rec.get("to", [])), cc=_addrs(rec.get("cc", [])), date_utc=from_epoch(r["date_utc"]),
        folders=list(_folders(r["folders"])), is_read=bool(r["is_read"]), is_flagged=bool(r["is_flagged"]),
        attachments=[Attachment(**a) for a in json.loads(attachments)] if attachments != "[]" else [],
        snippet=r["snippet"], size=r["size"],
        parse_error=r["parse_error"],
    )
    if with_body:
        b = scope.db.execute(
            "SELECT body_text, body_html FROM message_bodies WHERE message_id=?", (m.id,)
        ).fetchone()
        if b:
            m.body_text = decompress(b["body_text"]).decode("utf-8", "replace")
            m.body_html = decompress(b["body_html"]).decode("utf-8", "replace")
    return m


def message(scope: PrincipalScope, message_id: int, with_body: bool = True) -> Message:
    r = scope.db.execute(
        "SELECT * FROM messages WHERE id=? AND principal_id=?", (message_id, scope.principal_id)
    ).fetchone()
    if r is None:
        raise NotFound(f"no message {message_id} for this principal")
    return _message(scope, r, with_body)


def message_by_header_id(scope: PrincipalScope, message_id_header: str) -> Message | None:
    r = scope.db.execute(
        "SELECT * FROM messages WHERE principal_id=? AND message_id_header=? LIMIT 1",
        (scope.principal_id, message_id_header),
    ).fetchone()
    return _message(scope, r, True) if r else None


def message_by_remote_id(scope: PrincipalScope, account_id: int, remote_id: str) -> Message | None:
    """The message an outbox entry changes (its payload names it by the account's remote id), without its body."""
    r = scope.db.execute(
        "SELECT * FROM messages WHERE principal_id=? AND account_id=? AND remote_id=? LIMIT 1",
        (scope.principal_id, account_id, remote_id),
    ).fetchone()
    return _message(scope, r) if r else None


def raw_message(scope: PrincipalScope, message_id: int) -> bytes:
    message(scope, message_id, with_body=False)
    row = scope.db.execute("SELECT raw FROM message_bodies WHERE message_id=?", (message_id,)).fetchone()
    return decompress(row["raw"]) if row else b""


def threads_waiting_to_sync(scope: PrincipalScope) -> dict[int, set[int]]:
    """Thread id -> outbox entries not yet done (pending, in flight or failed) that change one of its messages:
    what the inbox marks as waiting, also after a restart."""
    # Two lookups by index, one per way an entry names its message: with the two in one OR, SQLite read every message
    # of the principal for each entry (10 s for a few dozen entries at 10,000 messages, on the worker at each switch).
    waiting = "o.principal_id=? AND o.state IN ('pending', 'in-flight', 'failed')"
    rows = scope.db.execute(
        "SELECT o.id, m.thread_id FROM outbox o CROSS JOIN messages m ON m.account_id=o.account_id"
        " AND m.remote_id=json_extract(o.payload, '$.remote_id')"
        f" WHERE {waiting} AND m.principal_id=o.principal_id AND m.thread_id IS NOT NULL"
        " UNION SELECT o.id, m.thread_id FROM outbox o CROSS JOIN messages m ON m.principal_id=o.principal_id"
        " AND m.message_id_header=json_extract(o.payload, '$.message_id_header')"
        f" WHERE {waiting} AND json_extract(o.payload, '$.message_id_header') <> '' AND m.account_id=o.account_id"
        " AND m.thread_id IS NOT NULL",
        (scope.principal_id, scope.principal_id),
    )
    out: dict[int, set[int]] = {}
    for entry_id, thread_id in rows:
        out.setdefault(thread_id, set()).add(entry_id)
    return out


def store_raw_message(scope: PrincipalScope, message_id: int, raw: bytes, attachments: list[Attachment]) -> None:
    """Keep a source fetched on demand, and the real attachment list parsed from it in place of a placeholder.

    Flags, folders, thread and the content hash stay as they are, so the next unchanged sync leaves the list alone.
    """
    message(scope, message_id, with_body=False)
    with scope.store.transaction():
        scope.store.changed(Area.MAIL, scope.principal_id)
        scope.db.execute(
            "UPDATE messages SET attachments=?, has_attachments=? WHERE id=? AND principal_id=?",
            (json.dumps([a.__dict__ for a in attachments]), int(bool(attachments)), message_id, scope.principal_id),
        )
        scope.db.execute(
            "INSERT INTO message_bodies(message_id, raw, body_text, body_html) VALUES (?,?,?,?)"
            " ON CONFLICT(message_id) DO UPDATE SET raw=excluded.raw",
            (message_id, compress_source(raw), compress_text(""), compress_text("")),
        )
        row = scope.db.execute("SELECT thread_id FROM messages WHERE id=?", (message_id,)).fetchone()
        _refresh_thread(scope, row["thread_id"])


def thread_messages(scope: PrincipalScope, thread_id: int) -> list[Message]:
    rows = scope.db.execute(
        "SELECT * FROM messages WHERE thread_id=? AND principal_id=? ORDER BY date_utc, id",
        (thread_id, scope.principal_id),
    )
    return [_message(scope, r, with_body=True) for r in rows]


def message_count(scope: PrincipalScope) -> int:
    return cast(int, scope.db.execute(
        "SELECT COUNT(*) FROM messages WHERE principal_id=?", (scope.principal_id,)
    ).fetchone()[0])


def thread_count(scope: PrincipalScope, folder: str | None = None) -> int:
    if folder is None:
        return cast(int, scope.db.execute(
            "SELECT COUNT(*) FROM threads WHERE principal_id=?", (scope.principal_id,)
        ).fetchone()[0])
    return cast(int, scope.db.execute(
        "SELECT COUNT(DISTINCT thread_id) FROM messages, json_each(messages.folders) f"
        " WHERE principal_id=? AND f.value=?",
        (scope.principal_id, folder),
    ).fetchone()[0])


def threads(scope: PrincipalScope, offset: int = 0, limit: int = 100, folder: str | None = None) -> list[Thread]:
    """A page of threads, newest first; ``folder`` is a remote folder/label id."""
    if folder is None:
        rows = scope.db.execute(
            "SELECT * FROM threads WHERE principal_id=? ORDER BY last_date_utc DESC, id DESC LIMIT ? OFFSET ?",
            (scope.principal_id, limit, offset),
        )
    else:
        # Newest threads first, each asked whether one of its messages is in the folder, until the page is full:
        # a page costs about its own rows (1.6 ms for 10,000 messages) instead of reading every message's folders
        # (29 ms, on the GUI thread at each switch, reload and scroll). Without INDEXED BY, SQLite looks the
        # thread's messages up through the principal's index, i.e. all of them, once per thread.
        rows = scope.db.execute(
            "SELECT * FROM threads t WHERE t.principal_id=? AND EXISTS (SELECT 1 FROM messages m INDEXED BY"
            " messages_thread, json_each(m.folders) f WHERE m.thread_id=t.id AND m.principal_id=? AND f.value=?)"
            " ORDER BY t.last_date_utc DESC, t.id DESC LIMIT ? OFFSET ?",
            (scope.principal_id, scope.principal_id, folder, limit, offset),
        )
    return [_thread(r) for r in rows]


def _thread(r: sqlite.Row) -> Thread:
    return Thread(
        id=r["id"], principal_id=r["principal_id"], subject=r["subject"],
        last_date_utc=from_epoch(r["last_date_utc"]), message_count=r["message_count"],
        unread_count=r["unread_count"], has_attachments=bool(r["has_attachments"]),
        is_flagged=bool(r["is_flagged"]), participants=r["participants"].split(", ") if r["participants"] else [],
        snippet=r["snippet"],
    )


# -- explicitly cross-principal ------------------------------------------------------------------------------------------
# Every other function here takes one principal's scope. These read every principal's mail at once, for the views that
# are cross-principal on purpose (the All-principals inbox and its search, ``assistant search`` without --principal);
# each Thread and Message carries its ``principal_id``, and those views label every row with its principal.

def threads_across_principals(store: Store, offset: int = 0, limit: int = 100, *, inbox_only: bool = True
                              ) -> list[Thread]:
    """A page of every principal's threads, newest first (``offset``/``limit`` as :func:`threads`), each with its
    ``principal_id``. ``inbox_only``: only threads with a message in an inbox folder of that message's own account.

    Explicitly cross-principal. It walks the threads' date index (``threads_date``) newest first and asks each thread
    whether it is in an inbox until the page is full, so a page costs about its own rows at any mailbox size, like one
    principal's folder page."""
    if not inbox_only:
        rows = store.db.execute(
            "SELECT * FROM threads INDEXED BY threads_date ORDER BY last_date_utc DESC, id DESC LIMIT ? OFFSET ?",
            (limit, offset),
        )
    else:
        rows = store.db.execute(
            # CROSS JOIN keeps the order: the thread's messages, each one's folders, then that folder's role by
            # (account, remote id): an inbox is an inbox of the message's own account, whatever the others call theirs.
            "SELECT * FROM threads t INDEXED BY threads_date WHERE EXISTS (SELECT 1 FROM messages m INDEXED BY"
            " messages_thread CROSS JOIN json_each(m.folders) f CROSS JOIN folders fo ON fo.account_id=m.account_id"
            " AND fo.remote_id=f.value WHERE m.thread_id=t.id AND m.principal_id=t.principal_id AND fo.role='inbox')"
            " ORDER BY t.last_date_utc DESC, t.id DESC LIMIT ? OFFSET ?",
            (limit, offset),
        )
    return [_thread(r) for r in rows]


def _newest_hit_ids(store: Store, query: str, limit: int) -> list[int]:
    """The ids of the ``limit`` newest messages of every principal that match ``query``, newest first (the order of
    :func:`search_across_principals`)."""
    from assistant.store.search import message_rows

    found: list[tuple[int, int]] = []  # (date, id), newest first
    for p in store.principals():
        assert p.id is not None
        newer_than = found[-1][0] if len(found) == limit and found[-1][0] > 0 else None
        found += [(r["date_utc"] or 0, r["id"])
                  for r in message_rows(store.db, query, p.id, limit, newer_than, columns="m.id, m.date_utc")]
        found.sort(key=itemgetter(0), reverse=True)  # stable: a principal's own order among equal dates
        del found[limit:]
    return [message_id for _date, message_id in found]


def _rows_by_id(store: Store, ids: list[int], columns: str) -> list[sqlite.Row]:
    """The ``messages`` rows of ``ids``, in that order (ids no longer there left out)."""
    if not ids:
        return []
    rows = {r["id"]: r for r in store.db.execute(
        f"SELECT {columns} FROM messages WHERE id IN ({','.join('?' * len(ids))})", ids)}
    return [rows[i] for i in ids if i in rows]


def search_across_principals(store: Store, query: str, limit: int = 100) -> list[Message]:
    """The ``limit`` newest messages of every principal that match ``query`` (see :mod:`assistant.store.search`),
    newest first, each with its ``principal_id``.

    Explicitly cross-principal: one principal at a time through the same per-principal search, and once a full page is
    held the next principal is asked only for messages newer than its oldest. Each principal's search reads only its
    hits' ids and dates; the messages are read (and built) once, for the ``limit`` newest of all, not a page a
    principal."""
    rows = _rows_by_id(store, _newest_hit_ids(store, query, limit), "*")
    scopes = {p_id: store.scope(p_id) for p_id in {r["principal_id"] for r in rows}}
    return [_message(scopes[r["principal_id"]], r) for r in rows]


# What a search's thread row needs of each matching message: no JSON column, nothing built but the threads.
_HIT_COLUMNS = ("id, principal_id, thread_id, date_utc, subject, sender_name, sender_email, is_read, is_flagged,"
                " has_attachments, snippet")


def search_threads(scope: PrincipalScope, query: str, limit: int = 100) -> list[Thread]:
    """The threads of the ``limit`` newest messages of this principal that match ``query``, newest first: what
    :func:`threads_of_hits` makes of :func:`search_messages`'s page, read without building a :class:`Message`."""
    from assistant.store.search import message_rows

    columns = ", ".join(f"m.{c.strip()}" for c in _HIT_COLUMNS.split(","))
    return threads_of_hits(message_rows(scope.db, query, scope.principal_id, limit, columns=columns))


def thread_summary(scope: PrincipalScope, thread_id: int) -> Thread | None:
    """One thread of this principal as a list row shows it (:func:`threads_of_hits` of all its messages), read
    without building a :class:`Message`; None when it has no message."""
    columns = ", ".join(f"m.{c.strip()}" for c in _HIT_COLUMNS.split(","))
    rows = scope.db.execute(
        f"SELECT {columns} FROM messages m WHERE m.thread_id=? AND m.principal_id=? ORDER BY m.date_utc DESC, m.id DESC",
        (thread_id, scope.principal_id))
    threads = threads_of_hits(rows)
    return threads[0] if threads else None


def search_threads_across_principals(store: Store, query: str, limit: int = 100) -> list[Thread]:
    """Explicitly cross-principal: the threads of :func:`search_across_principals`'s messages, each its principal's,
    read without building a :class:`Message`."""
    return threads_of_hits(_rows_by_id(store, _newest_hit_ids(store, query, limit), _HIT_COLUMNS))


def threads_of_hits(hits: Iterable[sqlite.Row]) -> list[Thread]:
    """Search hits (``messages`` rows of :data:`_HIT_COLUMNS`, in that order, newest first) grouped by thread, newest
    first; the counts are of the hits. A thread takes its oldest hit's subject and its newest hit's snippet (the first
    and the last of the hits at their date) and its first four senders, newest first. Each thread is its hits'
    principal's (a thread id is one principal's)."""
    grouped: dict[int, list[tuple[int, int | None, str, str, int, int, int, str]]] = {}
    for _id, principal_id, thread_id, date, subject, sender_name, sender_email, read, flagged, attached, snippet in hits:
        if thread_id is not None:
            grouped.setdefault(thread_id, []).append(
                (principal_id, date, subject, sender_name or sender_email, read, flagged, attached, snippet))
    threads: list[tuple[tuple[bool, int], Thread]] = []
    for thread_id, rows in grouped.items():
        oldest = newest = rows[0]
        last = oldest[1]
        for row in rows[1:]:
            date = row[1]
            if date is not None and (last is None or date > last):
                last = date
            if _undated_first(date, oldest[1]) < 0:
                oldest = row
            if _undated_first(date, newest[1]) >= 0:
                newest = row
        senders = list(dict.fromkeys(row[3] for row in rows if row[3]))
        threads.append(((last is not None, last or 0), Thread(
            id=thread_id, principal_id=oldest[0], subject=oldest[2], last_date_utc=from_epoch(last),
            message_count=len(rows), unread_count=sum(not row[4] for row in rows),
            has_attachments=any(row[6] for row in rows), is_flagged=any(row[5] for row in rows),
            participants=senders[:4], snippet=newest[7],
        )))
    threads.sort(key=lambda dated: dated[0], reverse=True)  # stable: among equal dates, the order of the hits
    return [thread for _date, thread in threads]


def _undated_first(a: int | None, b: int | None) -> int:
    """-1, 0 or 1 as date ``a`` comes before, with or after ``b``, no date before any date."""
    if a is None or b is None:
        return (a is not None) - (b is not None)
    return (a > b) - (a < b)


def set_message_flags(scope: PrincipalScope, message_id: int, *, is_read: bool | None = None, is_flagged: bool | None = None) -> None:
    """Local effect only; callers pair it with an outbox entry (see ``assistant.sync.actions``)."""
    m = message(scope, message_id, with_body=False)
    with scope.store.transaction():
        scope.store.changed(Area.MAIL, scope.principal_id)
        scope.db.execute(
            "UPDATE messages SET is_read=COALESCE(?, is_read), is_flagged=COALESCE(?, is_flagged), content_hash=''"
            " WHERE id=? AND principal_id=?",
            (
                None if is_read is None else int(is_read), None if is_flagged is None else int(is_flagged),
                message_id, scope.principal_id,
            ),
        )
        _refresh_thread(scope, m.thread_id)


def correspondents(scope: PrincipalScope, prefix: str = "", limit: int = 20) -> list[Address]:
    """Addresses this principal has exchanged mail with, most frequent first (address completion)."""
    like = prefix.lower() + "%"
    rows = scope.db.execute(
        "SELECT sender_name, sender_email, COUNT(*) n FROM messages WHERE principal_id=? AND sender_email!=''"
        " AND (lower(sender_email) LIKE ? OR lower(sender_name) LIKE ?) GROUP BY lower(sender_email)"
        " ORDER BY n DESC LIMIT ?",
        (scope.principal_id, like, like, limit),
    )
    return [Address(r[0], r[1]) for r in rows]


def search_messages(scope: PrincipalScope, query: str, limit: int = 100, *, newer_than: datetime | None = None) -> list[Message]:
    from assistant.store.search import message_rows

    rows = message_rows(scope.db, query, scope.principal_id, limit, None if newer_than is None else to_epoch(newer_than))
    return [_message(scope, r) for r in rows]


def count_messages(scope: PrincipalScope, query: str) -> int:
    """How many of this principal's messages match ``query`` (``search_messages`` returns one page of them)."""
    from assistant.store.search import message_count

    return message_count(scope.db, query, scope.principal_id)


def rename_remote_id(scope: PrincipalScope, account_id: int, old: str, new: str) -> bool:
    """Give a locally created message the id the provider assigned it (or drop it if the provider's copy is here)."""
    return adopt_remote_id(scope, "messages", Area.MAIL, account_id, old, new, remove_messages)


# -- deliberately cross-principal: whose mail an address or a thread is (the wrong-principal guard) -------------------
def principals_corresponding_with(store: Store, address: str) -> set[int]:
    """The principals whose mail has ``address`` as its sender or among its recipients, or in whose address book it
    is. A scan of the message rows (no index on addresses): run it on a worker, once per send."""
    addr = address.strip().lower()
    if not addr:
        return set()
    found = {r[0] for r in store.db.execute(
        "SELECT DISTINCT principal_id FROM messages WHERE lower(sender_email)=? OR instr(lower(recipients), ?)>0",
        (addr, json.dumps(addr)),
    )}
    found |= {r[0] for r in store.db.execute(
        "SELECT DISTINCT principal_id FROM contacts WHERE instr(lower(emails), ?)>0", (json.dumps(addr),)
    )}
    return found


def principals_with_message(store: Store, message_id_header: str) -> set[int]:
    """The principals who hold a message with this Message-ID (the one a reply answers)."""
    header = message_id_header.strip()
    if not header:
        return set()
    return {r[0] for r in store.db.execute(
        "SELECT DISTINCT principal_id FROM messages WHERE message_id_header=?", (header,)
    )}


def messages_with_source(scope: PrincipalScope, batch: int = 200) -> Iterator[tuple[Message, bytes]]:
    """Every message of the principal with its raw source (``b""`` when only its parsed parts are stored), in id order,
    read ``batch`` rows at a time so a big mailbox is never in memory at once (an export reads it all)."""
    after = 0
    while True:
        rows = scope.db.execute(
            "SELECT * FROM messages WHERE principal_id=? AND id>? ORDER BY id LIMIT ?",
            (scope.principal_id, after, batch),
        ).fetchall()
        if not rows:
            return
        for r in rows:
            m = _message(scope, r, with_body=True)
            b = scope.db.execute("SELECT raw FROM message_bodies WHERE message_id=?", (m.id,)).fetchone()
            yield m, decompress(b["raw"]) if b and b["raw"] is not None else b""
        after = rows[-1]["id"]
