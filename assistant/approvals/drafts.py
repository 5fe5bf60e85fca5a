"""Drafts of outgoing mail, written by the assistant for a principal: the API the compose window and the CLI call.

A draft is saved (autosave) as often as the user types; every save whose content differs gets a new version number and
content hash. Once a draft has been submitted, what happens next (approval by the principal, sending, send-later) is
``assistant.approvals.lifecycle``; an edit after approval invalidates that approval, and the approved version stays on
record in ``draft_versions``.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from assistant.approvals import lifecycle
from assistant.approvals.content import attachment_data, draft_hash
from assistant.core import timezones
from assistant.core.errors import InvalidInput, NotFound
from assistant.domain import Address, ApprovalPolicy, Draft, DraftState
from assistant.mail import compose
from assistant.store import Store
from assistant.store import drafts as sql
from assistant.store import mail as mail_store

# States in which the content may still change without anything being taken back.
EDITABLE = {DraftState.DRAFT, DraftState.REVISED, DraftState.REJECTED, DraftState.AWAITING_APPROVAL,
            DraftState.APPROVED, DraftState.SCHEDULED, DraftState.NEEDS_CONFIRMATION}
FINAL = {DraftState.SENT, DraftState.SENT_BY_PRINCIPAL, DraftState.WITHDRAWN}


def _account_for(store: Store, principal_id: int, account_id: int | None) -> int:
    accounts = [a for a in store.accounts(principal_id) if a.kind != "import"]
    if account_id is None:
        if not accounts:
            raise NotFound(f"{store.principal(principal_id).name} has no account to send from: add one first")
        first = accounts[0].id
        assert first is not None  # read from the store
        return first
    if account_id not in {a.id for a in accounts}:
        raise NotFound(f"no account {account_id} for this principal")
    return account_id


def save_draft(
    store: Store,
    principal_id: int,
    account_id: int | None,
    *,
    to: str | Address | Iterable[str | Address],
    cc: str | Address | Iterable[str | Address] = (),
    subject: str,
    body_text: str,
    in_reply_to: str = "",
    attachments: Iterable[str] = (),
    draft_id: int | None = None,
    approval: str | None = None,
    actor: str = "assistant",
) -> Draft:
    """Create a draft, or update ``draft_id``. Saving unchanged content is a no-op (autosave calls this freely).

    ``approval`` overrides the principal's policy for this draft ("always", "new-recipients", "never"; "" = the
    principal's). Changing the content of a draft that was submitted, approved or scheduled takes that back: it
    becomes "revised" and needs approval again.
    """
    scope = store.scope(principal_id)
    account_id = _account_for(store, principal_id, account_id)
    to_list, cc_list = compose.parse_addresses(to), compose.parse_addresses(cc)
    for a in attachments:
        if attachment_data(store, principal_id, str(a)) is None:
            raise InvalidInput(f"cannot attach {a}: no such file")
    if approval not in (None, ""):
        approval = ApprovalPolicy(approval).value
    references: list[str] = []
    if in_reply_to:
        parent = mail_store.message_by_header_id(scope, in_reply_to)
        references = compose.references_for(parent, in_reply_to)
        if parent is not None and not subject:
            subject = compose.reply_subject(parent.subject)
    if draft_id is None:
        d = Draft(principal_id, account_id, to_list, subject, body_text, cc=cc_list, in_reply_to=in_reply_to,
                  references=references, attachments=[str(a) for a in attachments], approval=approval or "")
        d.content_hash = draft_hash(store, d)
        with store.transaction():
            sql.insert_draft(scope, d)
            sql.add_version(scope, d, actor)
            store.audit(principal_id, actor, "draft-created", d.subject, draft_id=d.id, version=d.version,
                        content_hash=d.content_hash, channel="app")
        return d
    d = sql.get_draft(scope, draft_id)
    new = Draft(principal_id, account_id, to_list, subject, body_text, cc=cc_list, in_reply_to=in_reply_to,
                references=references, attachments=[str(a) for a in attachments])
    new_hash = draft_hash(store, new)
    approval_changed = approval is not None and approval != d.approval
    if new_hash == d.content_hash and account_id == d.account_id and not approval_changed:
        return d
    if d.state in FINAL or d.state == DraftState.SENDING:
        if d.state == DraftState.SENDING and lifecycle.undo_send(store, principal_id, draft_id, actor=actor):
            d = sql.get_draft(scope, draft_id)
        else:
            raise InvalidInput(f"draft {draft_id} is {d.state}: it can no longer be changed")
    with store.transaction():
        lifecycle.take_back_server_schedule(store, d)
        d.account_id = account_id
        if approval is not None:
            d.approval = approval
        if new_hash != d.content_hash:
            d.to, d.cc, d.subject, d.body_text = to_list, cc_list, subject, body_text
            d.in_reply_to, d.references, d.attachments = in_reply_to, references, list(new.attachments)
            d.version += 1
            d.content_hash = new_hash
            sql.update_draft(scope, d)
            sql.add_version(scope, d, actor)
            lifecycle.content_changed(store, d, actor=actor)
        else:
            sql.update_draft(scope, d)
    return sql.get_draft(scope, draft_id)


def get_draft(store: Store, principal_id: int, draft_id: int) -> Draft:
    return sql.get_draft(store.scope(principal_id), draft_id)


def list_drafts(store: Store, principal_id: int, states: Iterable[str] | None = None) -> list[Draft]:
    return sql.list_drafts(store.scope(principal_id), states)


def delete_draft(store: Store, principal_id: int, draft_id: int, *, actor: str = "assistant") -> None:
    """Discard a draft. One already handed to the outbox for sending is taken back first if it has not gone yet."""
    scope = store.scope(principal_id)
    d = sql.get_draft(scope, draft_id)
    if d.state == DraftState.SENDING and not lifecycle.undo_send(store, principal_id, draft_id, actor=actor):
        raise InvalidInput(f"draft {draft_id} is being sent already and cannot be discarded")
    with store.transaction():
        lifecycle.take_back_server_schedule(store, d)
        lifecycle.withdraw_requests(store, d, actor=actor, reason="draft discarded")
        sql.discard_failed_entries(scope, draft_id)  # what failed for it is not to be tried any more
        # the audit history outlives the draft row
        store.audit(principal_id, actor, "draft-deleted", d.subject, draft_id=d.id, version=d.version,
                    content_hash=d.content_hash, channel="app", state=d.state)
        sql.delete_draft(scope, draft_id)


def submit_draft(
    store: Store,
    principal_id: int,
    draft_id: int,
    *,
    send_at: datetime | None = None,
    channels: Iterable[str] = ("email",),
    actor: str = "assistant",
    now: datetime | None = None,
    require_approval: bool = False,
) -> DraftState:
    """Ask for approval if the policy says so, else send (or schedule). Returns the draft's new state:
    "awaiting-approval", "scheduled", "sending" (in the outbox, within the undo window) or "needs-confirmation".
    ``require_approval`` asks the principal even when the policy would not."""
    return lifecycle.submit(store, principal_id, draft_id, send_at=send_at, channels=tuple(channels), actor=actor,
                            now=now or timezones.now_utc(), require_approval=require_approval)


__all__ = ["save_draft", "get_draft", "list_drafts", "delete_draft", "submit_draft", "draft_hash", "Draft"]
