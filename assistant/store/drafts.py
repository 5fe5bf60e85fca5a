"""SQL for drafts, their versions, approval requests, decisions and flags. Every statement filters on the principal."""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from assistant.core import timezones
from assistant.core.errors import NotFound
from assistant.core.timezones import from_epoch, from_epoch_required, to_epoch
from assistant.domain import Address, Draft, DraftState
from assistant.store import PrincipalScope, Store, _addr_json, _addrs, inserted_id
from assistant.store.changes import Area
from assistant.store.db import sqlite


@dataclass
class ApprovalRequest:
    id: int
    principal_id: int
    draft_id: int
    version: int
    content_hash: str
    channel: str  # email, drafts-folder, in-person
    reference: str
    state: str  # open, decided, superseded, withdrawn
    message_id_header: str
    outbox_key: str
    created_utc: datetime
    closed_utc: datetime | None


@dataclass
class ApprovalFlag:
    id: int
    principal_id: int
    message_id: int | None
    source_message_id: str
    sender: str
    reason: str
    at_utc: datetime


@dataclass
class ApprovalSettings:
    principal_id: int
    short_forms: bool = False
    undo_seconds: int = 10
    usual_answer_minutes: int = 240


def _now() -> int:
    return to_epoch(timezones.now_utc())


def _draft(r: sqlite.Row) -> Draft:
    rec = json.loads(r["recipients"])
    return Draft(
        id=r["id"], principal_id=r["principal_id"], account_id=r["account_id"], to=_addrs(rec.get("to", [])),
        cc=_addrs(rec.get("cc", [])), subject=r["subject"], body_text=r["body_text"], in_reply_to=r["in_reply_to"],
        references=r["refs"].split(), attachments=json.loads(r["attachments"]), state=DraftState(r["state"]),
        created_utc=from_epoch(r["created_utc"]), updated_utc=from_epoch(r["updated_utc"]), version=r["version"],
        content_hash=r["content_hash"], approved_hash=r["approved_hash"], approval=r["approval"], comment=r["comment"],
        send_at_utc=from_epoch(r["send_at_utc"]), send_where=r["send_where"],
    )


def draft_content(d: Draft) -> dict[str, Any]:
    """What a version is: the fields a principal approves."""
    return {
        "to": _addr_json(d.to), "cc": _addr_json(d.cc), "subject": d.subject, "body_text": d.body_text,
        "in_reply_to": d.in_reply_to, "attachments": list(d.attachments),
    }


def insert_draft(scope: PrincipalScope, d: Draft) -> Draft:
    scope.own_account(d.account_id)
    now = _now()
    with scope.store.transaction():
        scope.store.changed(Area.DRAFTS, scope.principal_id)
        cur = scope.db.execute(
            "INSERT INTO drafts(principal_id, account_id, recipients, subject, body_text, in_reply_to, refs, attachments,"
            " state, created_utc, updated_utc, version, content_hash, approval) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                scope.principal_id, d.account_id, json.dumps({"to": _addr_json(d.to), "cc": _addr_json(d.cc)}),
                d.subject, d.body_text, d.in_reply_to, " ".join(d.references), json.dumps(list(d.attachments)),
                d.state, now, now, d.version, d.content_hash, d.approval,
            ),
        )
        d.id = inserted_id(cur)
    d.created_utc = d.updated_utc = from_epoch(now)
    return d


def update_draft(scope: PrincipalScope, d: Draft) -> None:
    """Writes every field of ``d`` (content and lifecycle)."""
    with scope.store.transaction():
        scope.store.changed(Area.DRAFTS, scope.principal_id)
        scope.db.execute(
            "UPDATE drafts SET account_id=?, recipients=?, subject=?, body_text=?, in_reply_to=?, refs=?, attachments=?,"
            " state=?, updated_utc=?, version=?, content_hash=?, approved_hash=?, approval=?, comment=?, send_at_utc=?,"
            " send_where=? WHERE id=? AND principal_id=?",
            (
                d.account_id, json.dumps({"to": _addr_json(d.to), "cc": _addr_json(d.cc)}), d.subject, d.body_text,
                d.in_reply_to, " ".join(d.references), json.dumps(list(d.attachments)), d.state, _now(), d.version,
                d.content_hash, d.approved_hash, d.approval, d.comment, to_epoch(d.send_at_utc), d.send_where, d.id,
                scope.principal_id,
            ),
        )


def get_draft(scope: PrincipalScope, draft_id: int) -> Draft:
    r = scope.db.execute(
        "SELECT * FROM drafts WHERE id=? AND principal_id=?", (draft_id, scope.principal_id)
    ).fetchone()
    if r is None:
        raise NotFound(f"no draft {draft_id} for this principal")
    return _draft(r)


def list_drafts(scope: PrincipalScope, states: Iterable[str] | None = None) -> list[Draft]:
    sql = "SELECT * FROM drafts WHERE principal_id=?"
    args: list[int | str] = [scope.principal_id]
    if states is not None:
        states = list(states)
        sql += f" AND state IN ({','.join('?' * len(states))})"
        args += states
    return [_draft(r) for r in scope.db.execute(sql + " ORDER BY updated_utc DESC, id DESC", args)]


def delete_draft(scope: PrincipalScope, draft_id: int) -> None:
    with scope.store.transaction():
        scope.store.changed(Area.DRAFTS, scope.principal_id)
        scope.db.execute("DELETE FROM drafts WHERE id=? AND principal_id=?", (draft_id, scope.principal_id))


def send_key(scope: PrincipalScope, draft_id: int) -> str:
    r = scope.db.execute(
        "SELECT send_key FROM drafts WHERE id=? AND principal_id=?", (draft_id, scope.principal_id)
    ).fetchone()
    return r[0] if r else ""


def set_send_key(scope: PrincipalScope, draft_id: int, key: str) -> None:
    with scope.store.transaction():
        scope.store.changed(Area.DRAFTS, scope.principal_id)
        scope.db.execute(
            "UPDATE drafts SET send_key=? WHERE id=? AND principal_id=?", (key, draft_id, scope.principal_id)
        )


def set_submitted(scope: PrincipalScope, draft_id: int) -> None:
    with scope.store.transaction():
        scope.store.changed(Area.DRAFTS, scope.principal_id)
        scope.db.execute(
            "UPDATE drafts SET submitted_utc=? WHERE id=? AND principal_id=?", (_now(), draft_id, scope.principal_id)
        )


def submitted_utc(scope: PrincipalScope, draft_id: int) -> datetime | None:
    r = scope.db.execute(
        "SELECT submitted_utc FROM drafts WHERE id=? AND principal_id=?", (draft_id, scope.principal_id)
    ).fetchone()
    return from_epoch(r[0]) if r else None


# -- versions -------------------------------------------------------------------------------------------------------
def add_version(scope: PrincipalScope, d: Draft, author: str) -> None:
    with scope.store.transaction():
        scope.store.changed(Area.DRAFTS, scope.principal_id)
        scope.db.execute(
            "INSERT OR IGNORE INTO draft_versions(principal_id, draft_id, version, content_hash, content, author,"
            " created_utc) VALUES (?,?,?,?,?,?,?)",
            (scope.principal_id, d.id, d.version, d.content_hash, json.dumps(draft_content(d)), author, _now()),
        )


def versions(scope: PrincipalScope, draft_id: int) -> list[dict[str, Any]]:
    rows = scope.db.execute(
        "SELECT * FROM draft_versions WHERE principal_id=? AND draft_id=? ORDER BY version",
        (scope.principal_id, draft_id),
    )
    return [
        {"version": r["version"], "content_hash": r["content_hash"], "author": r["author"],
         "created_utc": from_epoch(r["created_utc"]), **json.loads(r["content"])}
        for r in rows
    ]


# -- approval requests ----------------------------------------------------------------------------------------------
def _request(r: sqlite.Row) -> ApprovalRequest:
    return ApprovalRequest(
        id=r["id"], principal_id=r["principal_id"], draft_id=r["draft_id"], version=r["version"],
        content_hash=r["content_hash"], channel=r["channel"], reference=r["reference"], state=r["state"],
        message_id_header=r["message_id_header"], outbox_key=r["outbox_key"],
        created_utc=from_epoch_required(r["created_utc"]), closed_utc=from_epoch(r["closed_utc"]),
    )


def add_request(scope: PrincipalScope, *, draft: Draft, channel: str, reference: str, message_id_header: str = "",
                outbox_key: str = "") -> ApprovalRequest:
    with scope.store.transaction():
        scope.store.changed(Area.DRAFTS, scope.principal_id)
        cur = scope.db.execute(
            "INSERT INTO approval_requests(principal_id, draft_id, version, content_hash, channel, reference,"
            " message_id_header, outbox_key, created_utc) VALUES (?,?,?,?,?,?,?,?,?)",
            (scope.principal_id, draft.id, draft.version, draft.content_hash, channel, reference, message_id_header,
             outbox_key, _now()),
        )
        return request(scope, inserted_id(cur))


def request(scope: PrincipalScope, request_id: int) -> ApprovalRequest:
    r = scope.db.execute(
        "SELECT * FROM approval_requests WHERE id=? AND principal_id=?", (request_id, scope.principal_id)
    ).fetchone()
    if r is None:
        raise NotFound(f"no approval request {request_id} for this principal")
    return _request(r)


def requests_by_reference(scope: PrincipalScope, references: Iterable[str]) -> list[ApprovalRequest]:
    refs = sorted(set(references))
    if not refs:
        return []
    rows = scope.db.execute(
        f"SELECT * FROM approval_requests WHERE principal_id=? AND reference IN ({','.join('?' * len(refs))})",
        [scope.principal_id, *refs],
    )
    return [_request(r) for r in rows]


def requests_for(scope: PrincipalScope, draft_id: int | None = None, states: Iterable[str] | None = None,
                 channel: str | None = None) -> list[ApprovalRequest]:
    sql = "SELECT * FROM approval_requests WHERE principal_id=?"
    args: list[int | str] = [scope.principal_id]
    if draft_id is not None:
        sql += " AND draft_id=?"
        args.append(draft_id)
    if channel is not None:
        sql += " AND channel=?"
        args.append(channel)
    if states is not None:
        states = list(states)
        sql += f" AND state IN ({','.join('?' * len(states))})"
        args += states
    return [_request(r) for r in scope.db.execute(sql + " ORDER BY id", args)]


def close_request(scope: PrincipalScope, request_id: int, state: str) -> None:
    with scope.store.transaction():
        scope.store.changed(Area.DRAFTS, scope.principal_id)
        scope.db.execute(
            "UPDATE approval_requests SET state=?, closed_utc=? WHERE id=? AND principal_id=? AND state='open'",
            (state, _now(), request_id, scope.principal_id),
        )


# -- decisions and flags --------------------------------------------------------------------------------------------
def decision_seen(scope: PrincipalScope, source_message_id: str) -> bool:
    return bool(source_message_id) and scope.db.execute(
        "SELECT 1 FROM approval_decisions WHERE principal_id=? AND source_message_id=?",
        (scope.principal_id, source_message_id),
    ).fetchone() is not None


def add_decision(scope: PrincipalScope, *, draft_id: int, request_id: int | None, version: int, decision: str,
                 comment: str, channel: str, actor: str, source_message_id: str = "") -> None:
    with scope.store.transaction():
        scope.store.changed(Area.DRAFTS, scope.principal_id)
        scope.db.execute(
            "INSERT INTO approval_decisions(principal_id, draft_id, request_id, version, decision, comment, channel,"
            " actor, source_message_id, at_utc) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (scope.principal_id, draft_id, request_id, version, decision, comment, channel, actor, source_message_id,
             _now()),
        )


def add_flag(scope: PrincipalScope, *, message_id: int | None, source_message_id: str, sender: str,
             reason: str) -> bool:
    """Returns False when this message was flagged already (a second sync sees it again)."""
    with scope.store.transaction():
        scope.store.changed(Area.DRAFTS, scope.principal_id)
        cur = scope.db.execute(
            "INSERT OR IGNORE INTO approval_flags(principal_id, message_id, source_message_id, sender, reason, at_utc)"
            " VALUES (?,?,?,?,?,?)",
            (scope.principal_id, message_id, source_message_id, sender, reason, _now()),
        )
        return cur.rowcount > 0


def flags(scope: PrincipalScope) -> list[ApprovalFlag]:
    rows = scope.db.execute(
        "SELECT * FROM approval_flags WHERE principal_id=? ORDER BY at_utc DESC, id DESC", (scope.principal_id,)
    )
    return [ApprovalFlag(id=r["id"], principal_id=r["principal_id"], message_id=r["message_id"],
                         source_message_id=r["source_message_id"], sender=r["sender"], reason=r["reason"],
                         at_utc=from_epoch_required(r["at_utc"])) for r in rows]


# -- settings -------------------------------------------------------------------------------------------------------
def settings(scope: PrincipalScope) -> ApprovalSettings:
    r = scope.db.execute(
        "SELECT * FROM approval_settings WHERE principal_id=?", (scope.principal_id,)
    ).fetchone()
    if r is None:
        return ApprovalSettings(scope.principal_id)
    return ApprovalSettings(scope.principal_id, bool(r["short_forms"]), r["undo_seconds"], r["usual_answer_minutes"])


def save_settings(scope: PrincipalScope, s: ApprovalSettings) -> None:
    with scope.store.transaction():
        scope.store.changed(Area.DRAFTS, scope.principal_id)
        scope.db.execute(
            "INSERT INTO approval_settings(principal_id, short_forms, undo_seconds, usual_answer_minutes)"
            " VALUES (?,?,?,?) ON CONFLICT(principal_id) DO UPDATE SET short_forms=excluded.short_forms,"
            " undo_seconds=excluded.undo_seconds, usual_answer_minutes=excluded.usual_answer_minutes",
            (scope.principal_id, int(s.short_forms), s.undo_seconds, s.usual_answer_minutes),
        )


# -- mail lookups the channels need ---------------------------------------------------------------------------------
def knows_address(scope: PrincipalScope, address: str) -> bool:
    """Has this principal exchanged mail with ``address`` before (sender, or a recipient of any message)?"""
    addr = address.strip().lower()
    row = scope.db.execute(
        "SELECT 1 FROM messages WHERE principal_id=? AND (lower(sender_email)=? OR instr(lower(recipients), ?)>0)"
        " LIMIT 1",
        (scope.principal_id, addr, json.dumps(addr)),
    ).fetchone()
    return row is not None


def max_message_id(scope: PrincipalScope, account_id: int) -> int:
    r = scope.db.execute(
        "SELECT COALESCE(MAX(id), 0) FROM messages WHERE principal_id=? AND account_id=?",
        (scope.principal_id, account_id),
    ).fetchone()
    return cast(int, r[0])


def messages_with_header(scope: PrincipalScope, account_id: int, message_id_header: str) -> list[tuple[int, list[str]]]:
    """(message id, folders) of every copy of a Message-ID in one account."""
    return [(r[0], json.loads(r[1])) for r in scope.db.execute(
        "SELECT id, folders FROM messages WHERE principal_id=? AND account_id=? AND message_id_header=?",
        (scope.principal_id, account_id, message_id_header),
    )]


def remove_outbox_entry(scope: PrincipalScope, key: str) -> bool:
    """Take back a queued entry that has not started (undo send). False if it is in flight or done."""
    with scope.store.transaction():
        scope.store.changed(Area.OUTBOX, scope.principal_id)
        cur = scope.db.execute(
            "DELETE FROM outbox WHERE idempotency_key=? AND principal_id=? AND state='pending' AND attempts=0",
            (key, scope.principal_id),
        )
        return cur.rowcount > 0


def failed_entries(scope: PrincipalScope, draft_id: int) -> list[dict[str, Any]]:
    """The draft's outbox entries that failed for good (its send, approval requests, confirmations), oldest first:
    each {"id", "key", "op", "last_error"}."""
    return [{"id": r[0], "key": r[1], "op": r[2], "last_error": r[3]} for r in scope.db.execute(
        "SELECT id, idempotency_key, op, last_error FROM outbox WHERE principal_id=? AND state='failed'"
        " AND json_extract(payload, '$.draft_id')=? ORDER BY id", (scope.principal_id, draft_id),
    )]


def discard_failed_entries(scope: PrincipalScope, draft_id: int) -> int:
    """The user edited or discarded a draft whose send failed: what failed is not to be tried any more."""
    with scope.store.transaction():
        scope.store.changed(Area.OUTBOX, scope.principal_id)
        cur = scope.db.execute(
            "DELETE FROM outbox WHERE principal_id=? AND state='failed' AND json_extract(payload, '$.draft_id')=?",
            (scope.principal_id, draft_id),
        )
        return cur.rowcount


def outbox_by_key(scope: PrincipalScope, key: str) -> dict[str, Any] | None:
    r = scope.db.execute(
        "SELECT id, state, last_error, result FROM outbox WHERE idempotency_key=? AND principal_id=?",
        (key, scope.principal_id),
    ).fetchone()
    if r is None:
        return None
    return {"id": r["id"], "state": r["state"], "last_error": r["last_error"], "result": json.loads(r["result"])}


def cross_principal_queue(store: Store, states: Iterable[str]) -> list[tuple[int, Draft]]:
    """Explicitly cross-principal: drafts in ``states`` of every principal, each with its principal id."""
    states = list(states)
    rows = store.db.execute(
        f"SELECT * FROM drafts WHERE state IN ({','.join('?' * len(states))}) ORDER BY updated_utc", states
    )
    return [(r["principal_id"], _draft(r)) for r in rows]


__all__ = ["ApprovalRequest", "ApprovalFlag", "ApprovalSettings", "Address"]


NOTIFIED_ACTIONS = ("approved", "rejected", "approved-and-sent-by-principal", "withdrawn-by-principal",
                    "approval-reply-flagged", "send-time-passed")


def audit_since(store: Store, after_id: int, actions: Iterable[str] = NOTIFIED_ACTIONS) -> list[dict[str, Any]]:
    """Explicitly cross-principal: decisions recorded after audit row ``after_id``, each labelled with its principal."""
    actions = list(actions)
    rows = store.db.execute(
        f"SELECT a.id, a.principal_id, p.name, a.action, a.subject, a.actor, a.detail FROM audit a"
        f" JOIN principals p ON p.id=a.principal_id WHERE a.id>? AND a.action IN ({','.join('?' * len(actions))})"
        " ORDER BY a.id",
        [after_id, *actions],
    )
    return [{"id": r[0], "principal_id": r[1], "principal": r[2], "action": r[3], "subject": r[4], "actor": r[5],
             "detail": json.loads(r[6])} for r in rows]


def last_audit_id(store: Store) -> int:
    return cast(int, store.db.execute("SELECT COALESCE(MAX(id), 0) FROM audit").fetchone()[0])


def approval_candidates(scope: PrincipalScope, account_id: int, after_id: int) -> list[int]:
    """Messages newer than ``after_id`` that may carry an approval reference (``APR-`` in the subject or the text):
    a first sync of a large mailbox must not read every body to find none."""
    if scope.db.execute("SELECT 1 FROM approval_requests WHERE principal_id=? LIMIT 1",
                        (scope.principal_id,)).fetchone() is None:
        return []
    return [r[0] for r in scope.db.execute(
        "SELECT id FROM messages WHERE principal_id=? AND account_id=? AND id>? AND (subject LIKE '%APR-%'"
        " OR id IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'body:apr' AND rowid>?)) ORDER BY id",
        (scope.principal_id, account_id, after_id, after_id),
    )]


# -- files kept for drafts (a forwarded message's attachments) -------------------------------------------------------
FILE_PREFIX = "workspace-file:"


def is_file_ref(attachment: str) -> bool:
    """Whether a draft's attachment is a file kept in the workspace (:func:`add_file`) rather than a path."""
    return attachment.startswith(FILE_PREFIX)


def add_file(scope: PrincipalScope, name: str, data: bytes) -> str:
    """Keep ``data`` for a draft of the principal's; the reference to list in ``Draft.attachments``
    (``Path(ref).name`` is ``name``)."""
    name = name.replace("/", "_").replace("\\", "_") or "attachment"
    cur = scope.db.execute("INSERT INTO draft_files(principal_id, name, data, created_utc) VALUES (?,?,?,?)",
                           (scope.principal_id, name, data, to_epoch(timezones.now_utc())))
    return f"{FILE_PREFIX}{inserted_id(cur)}/{name}"


def file_data(scope: PrincipalScope, ref: str) -> bytes | None:
    """The bytes a reference from :func:`add_file` names, or None when it names nothing of this principal's."""
    number = ref[len(FILE_PREFIX):].split("/", 1)[0] if is_file_ref(ref) else ""
    if not number.isdigit():
        return None
    row = scope.db.execute("SELECT data FROM draft_files WHERE id=? AND principal_id=?",
                           (int(number), scope.principal_id)).fetchone()
    return bytes(row[0]) if row else None
