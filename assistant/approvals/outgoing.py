"""What the approval feature sends, as outbox entries through the principal's own account.

Each message carries a Message-ID derived from its outbox key, so the connectors recognise a retry (no double send),
and the app's own approval mails carry Message-IDs starting with ``<approval-`` so the reply matcher never mistakes
the app's request, seen again in Sent, for the principal's answer.
"""
from __future__ import annotations

import base64
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from assistant.approvals.content import attachment_files
from assistant.domain import Address, Draft, OutboxEntry
from assistant.mail import compose
from assistant.store import Store
from assistant.store import mail as mail_store
from assistant.sync.actions import keep_local_copy
from assistant.sync.engine import STAND_IN_PREFIX

APPROVAL_KEY_PREFIX = "approval-"
REFERENCE_PREFIX = "APR-"
REPLY_ABOVE = "--- Reply above this line ---"
REQUEST_ENDS = "(Keep this reference in your reply; it only works from your own address.)"  # the request's last line
DRAFT_BEGINS = "----- draft begins -----"
DRAFT_ENDS = "----- draft ends -----"


def is_own_approval_mail(message_id_header: str) -> bool:
    return message_id_header.strip().startswith("<" + APPROVAL_KEY_PREFIX)


def _sender(store: Store, d: Draft) -> Address:
    principal = store.principal(d.principal_id)
    account = store.account(d.account_id)
    return Address(principal.name, account.address or principal.primary_address)


def _enqueue(store: Store, d: Draft, op: str, raw: bytes, key: str, message_id: str, *,
             local_copy: bool, due: datetime | None = None, extra: dict | None = None) -> OutboxEntry:
    """Every entry names its draft (``draft_id``), so a failure can be shown on the draft and retried from it."""
    principal_id, account_id = d.principal_id, d.account_id
    payload = {"raw": base64.b64encode(raw).decode("ascii"), "message_id_header": message_id, "draft_id": d.id,
               **(extra or {})}
    with store.transaction():
        existing = store.outbox(account_id)
        for e in existing:
            if e.idempotency_key == key:
                return e
        if local_copy:
            stand_in = f"{STAND_IN_PREFIX}{key}"
            keep_local_copy(store, principal_id, account_id, raw, stand_in)
            payload["local_remote_id"] = stand_in
        entry = store.enqueue(OutboxEntry(principal_id, account_id, op, payload, key))
        if due is not None:
            store.mark_outbox(entry.id, "pending", next_attempt=due)
    return entry


def draft_message(store: Store, d: Draft, key: str, date: datetime | None = None) -> tuple[bytes, str]:
    sender = _sender(store, d)
    message_id = compose.message_id_for(key, sender.email)
    msg = compose.build_message(
        sender=sender, to=d.to, cc=d.cc, subject=d.subject, body_text=d.body_text, message_id=message_id,
        in_reply_to=d.in_reply_to, references=d.references,
        attachments=attachment_files(store, d.principal_id, d.attachments), date=date,
    )
    return msg.as_bytes(), message_id


def enqueue_send(store: Store, d: Draft, key: str, *, due: datetime | None = None,
                 server_send_at: datetime | None = None) -> OutboxEntry:
    """The draft itself, to its recipients. ``server_send_at``: the provider holds it until then (deferred send)."""
    raw, message_id = draft_message(store, d, key)
    extra: dict = {}
    if server_send_at is not None:
        extra["send_at"] = server_send_at.isoformat()
    parent = mail_store.message_by_header_id(store.scope(d.principal_id), d.in_reply_to) if d.in_reply_to else None
    if parent is not None and parent.remote_thread_id:
        extra["remote_thread_id"] = parent.remote_thread_id
    return _enqueue(store, d, "send", raw, key, message_id, local_copy=True, due=due,
                    extra=extra)


def enqueue_principal_draft(store: Store, d: Draft, key: str, date: datetime | None = None
                            ) -> tuple[OutboxEntry, str]:
    """Channel 2: the draft as a real draft in the principal's own Drafts folder."""
    raw, message_id = draft_message(store, d, key, date)
    return _enqueue(store, d, "save-draft", raw, key, message_id, local_copy=False), \
        message_id


def new_key(kind: str) -> str:
    """Short enough that the Message-ID made from it stays on one header line (a folded one is harder to match)."""
    return f"{APPROVAL_KEY_PREFIX}{kind}-{uuid.uuid4().hex[:20]}"


def _principal_address(store: Store, d: Draft) -> Address:
    principal = store.principal(d.principal_id)
    return Address(principal.name, principal.primary_address or store.account(d.account_id).address)


def _draft_text(d: Draft) -> str:
    lines = [f"To: {', '.join(str(a) for a in d.to)}"]
    if d.cc:
        lines.append(f"Cc: {', '.join(str(a) for a in d.cc)}")
    lines.append(f"Subject: {d.subject}")
    if d.attachments:
        lines.append(f"Attachments: {', '.join(Path(a).name for a in d.attachments)}")
    if d.in_reply_to:
        lines.append(f"In reply to: {d.in_reply_to}")
    if d.send_at_utc is not None:
        lines.append(f"To be sent at: {d.send_at_utc:%Y-%m-%d %H:%M} UTC")
    return "\n".join(lines) + "\n\n" + DRAFT_BEGINS + "\n" + d.body_text.rstrip("\n") + "\n" + DRAFT_ENDS


def enqueue_approval_request(store: Store, d: Draft, reference: str, reasons: list[str], *,
                             date: datetime | None = None) -> tuple[OutboxEntry, str]:
    """Channel 1: ask the principal by e-mail, from their own account to their own address."""
    key = new_key("ask")
    sender = _sender(store, d)
    message_id = compose.message_id_for(key, sender.email)
    code = REFERENCE_PREFIX + reference
    why = "; ".join(reasons)
    body = (
        f"{REPLY_ABOVE}\n\n"
        f"Your assistant drafted this message and asks for your approval (version {d.version}"
        + (f"; {why}" if why else "") + ").\n\n"
        "Reply with one of:\n"
        "  approve\n"
        "  reject: <what to change>\n"
        "  edit: <the text to send instead, on the following lines>\n\n"
        + _draft_text(d)
        + f"\n\nReference: {code}\n{REQUEST_ENDS}\n"
    )
    msg = compose.build_message(
        sender=sender, to=[_principal_address(store, d)], subject=f"Approval needed [{code}]: {d.subject}",
        body_text=body, message_id=message_id, date=date,
    )
    return _enqueue(store, d, "send", msg.as_bytes(), key, message_id,
                    local_copy=True), message_id


def enqueue_confirmation(store: Store, d: Draft, reference: str, text: str, *, in_reply_to: str = "",
                         when: datetime | None = None) -> OutboxEntry:
    """Tell the principal what was done with their answer."""
    key = new_key("ok")
    sender = _sender(store, d)
    message_id = compose.message_id_for(key, sender.email)
    code = REFERENCE_PREFIX + reference
    msg = compose.build_message(
        sender=sender, to=[_principal_address(store, d)], subject=f"[{code}] {text.partition(':')[0]}: {d.subject}",
        body_text=f"{text}\n\nReference: {code}\n", message_id=message_id, in_reply_to=in_reply_to,
        references=[in_reply_to] if in_reply_to else [],
    )
    return _enqueue(store, d, "send", msg.as_bytes(), key, message_id, local_copy=True,
                    due=when)


def undo_deadline(now: datetime, seconds: int) -> datetime | None:
    return now + timedelta(seconds=seconds) if seconds > 0 else None
