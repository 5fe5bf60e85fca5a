"""The sync hook: after a mail pull, apply the principal's e-mailed answers and watch their Drafts folder.

Channel 1 (e-mail): a new message that carries one of our ``APR-`` references is an answer only when
  - it comes From one of that principal's own addresses (the principal's addresses and their accounts' addresses),
  - the references in it name exactly one approval request of this principal, and
  - its source proves the principal sent it (``origin``: one From, no foreign Sender, the provider's
    Authentication-Results, a DKIM signature or a matching copy in the account's Sent folder vouching for it).
Otherwise it is flagged (an ``approval_flags`` row, shown in the Approvals view, and an audit entry) and nothing
happens. The same answer seen twice (Inbox and Sent copies, or a re-sync) is applied once: decisions are unique by the
answer's Message-ID, and a second "approve" for a draft that is no longer awaiting approval is recorded and ignored.

Channel 2 (Drafts folder): our copy in the principal's Drafts carries its own Message-ID. When a message with that
Message-ID shows up in the account's Sent folder, the principal sent it themselves ("approved and sent by principal");
when the copy is gone from Drafts and is not in Sent, they withdrew it.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from assistant import connectors
from assistant.approvals import lifecycle, origin, outgoing, replies
from assistant.connectors.base import Capability
from assistant.core.errors import UserError
from assistant.domain import Account, Draft, DraftState, Message
from assistant.store import Store
from assistant.store import drafts as sql
from assistant.store import mail as mail_store
from assistant.sync.hooks import MailPulled

log = logging.getLogger(__name__)
_REFERENCE = __import__("re").compile(r"APR-([A-Za-z0-9_-]{20,40})")


def mail_pull_hook(store: Store, account: Account) -> Callable[[MailPulled], list[str]]:
    """Registered in the sync engine's ``assistant.after_mail_pull`` hooks: answers that arrive in a pass are applied."""
    mark = sql.max_message_id(store.scope(account.principal_id), account.id)
    return lambda pulled: after_mail_pull(pulled.store, pulled.account, mark, pulled.now, pulled.push, pulled.source)


def after_mail_pull(store: Store, account: Account, mark: int, now: datetime, push: Callable[[], None],
                    source: Callable[[int], bytes]) -> list[str]:
    """Returns one line per thing the assistant should look at; never raises for bad mail."""
    notes: list[str] = []
    try:
        scope = store.scope(account.principal_id)
        for message_id in sql.approval_candidates(scope, account.id, mark):
            note = handle_message(store, account, message_id, now, source)
            if note:
                notes.append(note)
        watch_drafts_folder(store, account, now)
        lifecycle.run_due(store, now, account.principal_id)
        push()
        lifecycle.reconcile(store, account.principal_id, now)
    except UserError as exc:
        notes.append(f"approvals: {exc}")
    except Exception as exc:  # a bug here must not fail the mail sync that already landed; logged with its traceback
        log.exception("approval processing for account %s failed", account.id)
        notes.append(f"approvals: internal error: {type(exc).__name__}: {exc}")
    return notes


def own_addresses(store: Store, principal_id: int) -> set[str]:
    principal = store.principal(principal_id)
    return {a.lower() for a in principal.addresses} | {a.address.lower() for a in store.accounts(principal_id)
                                                       if a.address}


def _flag(store: Store, principal_id: int, message_id: int, header: str, sender: str, reason: str) -> str:
    scope = store.scope(principal_id)
    if sql.add_flag(scope, message_id=message_id, source_message_id=header or f"message:{message_id}", sender=sender,
                    reason=reason):
        store.audit(principal_id, "sync", "approval-reply-flagged", reason, message_id=message_id,
                    source_message_id=header, sender=sender, channel="email")
    return f"approval reply from {sender or 'unknown sender'} not applied: {reason}"


def _proof(store: Store, account: Account, m: Message, source: Callable[[int], bytes]) -> str:
    """Why the answer is not proven to be the principal's ("" when it is): see ``origin``. A copy of it in the
    account's Sent folder was sent by the signed-in account itself; that copy's source is the one read, and it must
    say what the answer says, so a forged message reusing the Message-ID of mail the principal sent gains nothing."""
    scope = store.scope(account.principal_id)
    sent = mail_store.folder_by_role(scope, account.id, "sent")
    copies = sql.messages_with_header(scope, account.id, m.message_id_header) if m.message_id_header else []
    in_sent = [mid for mid, folders in copies if sent is not None and sent.remote_id in folders]
    read = m.id if m.id in in_sent or not in_sent else in_sent[0]
    if read != m.id:
        kept = mail_store.message(scope, read, with_body=True)
        if (kept.subject.strip(), kept.body_text.strip()) != (m.subject.strip(), m.body_text.strip()):
            return "its Message-ID is that of another message in the principal's Sent folder"
    try:
        raw = source(read)
    except UserError as exc:
        return f"its source could not be read to check who sent it ({exc})"
    capabilities = connectors.load(account.kind).capabilities
    return origin.authenticity(raw, own_addresses(store, account.principal_id),
                               provider_vouches=Capability.VOUCHES_FOR_SENDERS in capabilities,
                               signature_required=Capability.SIGNATURES_REQUIRED in capabilities,
                               sent_by_account=bool(in_sent))


def handle_message(store: Store, account: Account, message_id: int, now: datetime,
                   source: Callable[[int], bytes]) -> str:
    scope = store.scope(account.principal_id)
    m = mail_store.message(scope, message_id, with_body=True)
    if outgoing.is_own_approval_mail(m.message_id_header):
        return ""
    refs = set(_REFERENCE.findall(f"{m.subject}\n{m.body_text}"))
    if not refs:
        return ""
    sender = m.sender.email.lower() if m.sender else ""
    requests = sql.requests_by_reference(scope, refs)
    if sender not in own_addresses(store, account.principal_id):
        return _flag(store, account.principal_id, message_id, m.message_id_header, sender,
                     "not from the principal's own address")
    if len(refs) != 1 or len(requests) != 1:
        reason = "the reference matches no approval request" if not requests else \
            "the references match more than one approval request"
        return _flag(store, account.principal_id, message_id, m.message_id_header, sender, reason)
    req = requests[0]
    if sql.decision_seen(scope, m.message_id_header):
        return ""
    doubt = _proof(store, account, m, source)
    if doubt:
        return _flag(store, account.principal_id, message_id, m.message_id_header, sender, doubt)
    settings = sql.settings(scope)
    answer = replies.parse_reply(m.body_text, html=m.body_html, short_forms=settings.short_forms)
    d = sql.get_draft(scope, req.draft_id)
    if answer.kind == "edit" and answer.body.strip() == d.body_text.strip():
        answer = replies.ReplyDecision("approve")
    if answer.kind == "unknown":
        reason = "the reply gives different answers in different places" if answer.conflict else \
            "a short answer, and this principal's settings do not accept short forms" if answer.short_form \
            else "no decision could be read from the reply"
        return _flag(store, account.principal_id, message_id, m.message_id_header, sender, reason)
    before, stale = d.state, req.state != "open" or req.content_hash != d.content_hash
    state = lifecycle.decide(
        store, account.principal_id, req.draft_id, answer.kind, channel="email", actor=f"principal <{sender}>",
        comment=answer.comment, edited_body=answer.body if answer.kind == "edit" else None, request_id=req.id,
        source_message_id=m.message_id_header, now=now,
    )
    if stale:
        return _flag(store, account.principal_id, message_id, m.message_id_header, sender,
                     "the request was answered already or replaced by a newer version; nothing changed")
    d = sql.get_draft(scope, req.draft_id)
    if before == DraftState.AWAITING_APPROVAL and state != before:
        outgoing.enqueue_confirmation(store, d, req.reference, _confirmation_text(answer.kind, d),
                                      in_reply_to=m.message_id_header)
    return ""


def _confirmation_text(kind: str, d: Draft) -> str:
    if kind == "reject":
        return f"Rejected: your assistant will revise it.\n\nYour comment: {d.comment}" if d.comment else \
            "Rejected: your assistant will revise it."
    what = "Approved with your edits" if kind == "edit" else "Approved"
    if d.state == DraftState.SCHEDULED:
        return f"{what}: it will be sent at {d.send_at_utc:%Y-%m-%d %H:%M} UTC."
    if d.state == DraftState.NEEDS_CONFIRMATION:
        return f"{what}: its send time has passed, so your assistant will confirm before sending."
    return f"{what}: it is being sent now."


def watch_drafts_folder(store: Store, account: Account, now: datetime) -> None:
    scope = store.scope(account.principal_id)
    present = mail_store.message_remote_ids(scope, account.id)
    sent_folder = mail_store.folder_by_role(scope, account.id, "sent")
    drafts_folder = mail_store.folder_by_role(scope, account.id, "drafts")
    for req in sql.requests_for(scope, states=("open",), channel="drafts-folder"):
        d = sql.get_draft(scope, req.draft_id)
        if d.account_id != account.id:
            continue
        saved = sql.outbox_by_key(scope, req.outbox_key)
        if saved is None or saved["state"] != "done":
            continue
        copies = sql.messages_with_header(scope, account.id, req.message_id_header)
        in_sent = [c for c in copies if sent_folder is not None and sent_folder.remote_id in c[1]]
        in_drafts = [c for c in copies if drafts_folder is None or drafts_folder.remote_id in c[1]]
        remote = saved["result"].get("draft_remote_id")
        if in_sent:
            with store.transaction():
                sql.close_request(scope, req.id, "decided")
                sql.add_decision(scope, draft_id=req.draft_id, request_id=req.id, version=req.version, decision="sent",
                                 comment="", channel="drafts-folder", actor="principal",
                                 source_message_id=req.message_id_header)
                lifecycle.withdraw_requests(store, d, actor="principal", reason="sent by principal", state="decided")
                d.approved_hash = d.content_hash
                lifecycle._set_state(store, d, DraftState.SENT_BY_PRINCIPAL, "principal",
                                     "approved-and-sent-by-principal", "drafts-folder", request_id=req.id)
        elif not in_drafts and remote and remote not in present and not copies:
            with store.transaction():
                sql.close_request(scope, req.id, "withdrawn")
                lifecycle.withdraw_requests(store, d, actor="principal", reason="deleted from Drafts")
                lifecycle._set_state(store, d, DraftState.WITHDRAWN, "principal", "withdrawn-by-principal",
                                     "drafts-folder", request_id=req.id)


def send_due(store: Store, now: datetime) -> list[int]:
    """What the running app does every few seconds: queue send-later drafts whose time has come (a long-missed one
    waits for confirmation instead), and sync the accounts whose queued sends are due (their undo window is over), so
    they go out without waiting for the next full sync. Returns the ids of the accounts synced."""
    from assistant.sync.engine import sync_account

    lifecycle.run_due(store, now)
    due_accounts: set[int] = set()
    for principal_id, d in sql.cross_principal_queue(store, (DraftState.SENDING,)):
        scope = store.scope(principal_id)
        entry = sql.outbox_by_key(scope, sql.send_key(scope, d.id))
        if entry is not None and entry["state"] in ("pending", "in-flight") and \
                any(e.id == entry["id"] for e in store.due_outbox(d.account_id, now)):
            due_accounts.add(d.account_id)
    for account_id in sorted(due_accounts):
        sync_account(store, account_id, now=now)
    return sorted(due_accounts)
