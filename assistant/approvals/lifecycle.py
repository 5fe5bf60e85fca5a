"""The approval state machine. Every transition writes an audit entry: who, when (the audit row), channel, version.

States:
  draft → awaiting-approval → (approved) → scheduled → sending → sent
  awaiting-approval → rejected (with the principal's comment) → revised (the assistant edits) → awaiting-approval …
  any submitted state → revised when the content changes (an approval covers one content hash only)
  scheduled (by the app) whose time passed while the app was closed → needs-confirmation (never sent silently late)
  sending = in the outbox; until the undo window has passed the assistant can take it back (→ approved)
  scheduled | needs-confirmation | sending → approved when the assistant cancels the send (``cancel_send``)
  awaiting-approval → sent-by-principal (the principal sent the copy in their Drafts) | withdrawn (they deleted it)
  sending | scheduled | awaiting-approval → failed when the provider refuses the send or the approval request for good;
  failed → (retry) the state it failed in, the same outbox entry and Message-ID | revised (edited) | deleted

"approved" is a state only while there is nothing to do yet (e.g. a send was undone); a decision normally goes straight
on to scheduled or sending, with an "approved" audit entry between.
"""
from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from assistant import connectors
from assistant.approvals import outgoing, policy
from assistant.approvals.content import draft_hash
from assistant.connectors.base import Capability
from assistant.core import timezones
from assistant.core.errors import InvalidInput, NotFound
from assistant.domain import Draft, DraftState
from assistant.store import Store
from assistant.store import audit as audit_store
from assistant.store import drafts as sql
from assistant.store import mail as mail_store
from assistant.sync import actions

# A message scheduled by the app is sent if the app comes to it within this long after its time; later, it asks.
LATE_GRACE = timedelta(minutes=5)
SUBMITTABLE = {DraftState.DRAFT, DraftState.REVISED, DraftState.REJECTED, DraftState.APPROVED,
               DraftState.NEEDS_CONFIRMATION}
CHANNELS = ("email", "drafts-folder", "in-person")


def _audit(store: Store, d: Draft, actor: str, action: str, channel: str, **detail: Any) -> None:
    store.audit(d.principal_id, actor, action, d.subject, draft_id=d.id, version=d.version,
                content_hash=d.content_hash, channel=channel, **detail)


def _set_state(store: Store, d: Draft, state: DraftState, actor: str, action: str, channel: str,
               **detail: Any) -> None:
    before = d.state
    d.state = state
    with store.transaction():
        sql.update_draft(store.scope(d.principal_id), d)
        _audit(store, d, actor, action, channel, state_from=before, state_to=state, **detail)


def _server_schedules(store: Store, account_id: int) -> bool:
    try:
        return Capability.SERVER_SCHEDULED_SEND in connectors.load(store.account(account_id).kind).capabilities
    except Exception:  # an unregistered kind: the app schedules
        return False


def _send_key(store: Store, d: Draft) -> str:
    scope = store.scope(d.principal_id)
    key = sql.send_key(scope, d.id)
    if not key:
        key = f"draft-{uuid.uuid4().hex[:20]}"
        sql.set_send_key(scope, d.id, key)
    return key


def submit(store: Store, principal_id: int, draft_id: int, *, send_at: datetime | None, channels: tuple[str, ...],
           actor: str, now: datetime, require_approval: bool = False) -> DraftState:
    scope = store.scope(principal_id)
    d = sql.get_draft(scope, draft_id)
    if d.state == DraftState.AWAITING_APPROVAL:
        return d.state
    if d.state == DraftState.FAILED:
        raise InvalidInput(f"draft {draft_id} failed to send: retry it, or edit it and submit it again")
    if d.state not in SUBMITTABLE:
        raise InvalidInput(f"draft {draft_id} is {d.state}: there is nothing to submit")
    if not d.to and not d.cc:
        raise InvalidInput("a message needs at least one recipient")
    for channel in channels:
        if channel not in ("email", "drafts-folder"):
            raise InvalidInput(f"unknown approval channel {channel!r}: use email or drafts-folder")
    if send_at is not None:
        if send_at.tzinfo is None:
            raise InvalidInput("a send time needs a time zone")
        d.send_at_utc = timezones.to_utc(send_at)
    with store.transaction():
        sql.set_submitted(scope, draft_id)
        if d.approved_hash and d.approved_hash == d.content_hash:
            _audit(store, d, actor, "submitted", "app", note="this version is approved already")
            return _release(store, d, actor=actor, channel="app", now=now, undo=True)
        reasons = policy.approval_reasons(store, d)
        if require_approval and not reasons:
            reasons = ["the assistant asked for the principal's approval"]
        if not reasons:
            d.approved_hash = d.content_hash
            # "override": the draft's own setting (from a snippet, say) decided, not the principal's policy
            _audit(store, d, actor, "submitted", "app", note="no approval needed by the policy",
                   policy=policy.effective_policy(store, d).value, override=bool(d.approval))
            return _release(store, d, actor=actor, channel="app", now=now, undo=True)
        d.comment = ""
        _set_state(store, d, DraftState.AWAITING_APPROVAL, actor, "approval-requested", ",".join(channels),
                   reasons=reasons)
        for channel in channels:
            ask(store, d, channel, reasons, actor=actor, now=now)
    return d.state


def ask(store: Store, d: Draft, channel: str, reasons: list[str], *, actor: str = "assistant",
        now: datetime | None = None) -> sql.ApprovalRequest:
    """Open one approval request for the draft's current version through ``channel``."""
    scope = store.scope(d.principal_id)
    reference = secrets.token_urlsafe(18)
    with store.transaction():
        if channel == "email":
            entry, message_id = outgoing.enqueue_approval_request(store, d, reference, reasons, date=now)
            req = sql.add_request(scope, draft=d, channel=channel, reference=reference, message_id_header=message_id,
                                  outbox_key=entry.idempotency_key)
        elif channel == "drafts-folder":
            if not connectors.load(store.account(d.account_id).kind).capabilities & {Capability.DRAFTS}:
                raise InvalidInput("this account cannot hold drafts on the server")
            key = outgoing.new_key("draft")
            entry, message_id = outgoing.enqueue_principal_draft(store, d, key, date=now)
            req = sql.add_request(scope, draft=d, channel=channel, reference=reference, message_id_header=message_id,
                                  outbox_key=key)
        else:
            raise InvalidInput(f"unknown approval channel {channel!r}")
        _audit(store, d, actor, "approval-request-queued", channel, request_id=req.id)
    return req


def take_back_server_schedule(store: Store, d: Draft) -> None:
    """A draft the provider holds for deferred send cannot change any more; one still in our outbox is taken back."""
    if d.state != DraftState.SCHEDULED or d.send_where != "server":
        return
    scope = store.scope(d.principal_id)
    key = sql.send_key(scope, d.id)
    if not sql.remove_outbox_entry(scope, key):
        raise InvalidInput(f"draft {d.id} is already with the provider for sending at its time; it cannot be changed here")
    mail_store.remove_messages(scope, d.account_id, [f"outbox:{key}"])
    sql.set_send_key(scope, d.id, "")
    d.send_where = ""


def content_changed(store: Store, d: Draft, *, actor: str) -> None:
    """Called by ``drafts.save_draft`` (in its transaction) after a new version was written."""
    if d.state in (DraftState.DRAFT, DraftState.REVISED):
        _audit(store, d, actor, "edited", "app")
        return
    was_approved = bool(d.approved_hash)
    withdraw_requests(store, d, actor=actor, reason="the draft changed", state="superseded")
    if d.state == DraftState.FAILED:  # what failed carried the old content: it is not to be tried any more
        sql.discard_failed_entries(store.scope(d.principal_id), d.id)
    if d.state in (DraftState.SCHEDULED, DraftState.APPROVED, DraftState.NEEDS_CONFIRMATION, DraftState.FAILED):
        sql.set_send_key(store.scope(d.principal_id), d.id, "")
    _set_state(store, d, DraftState.REVISED, actor, "revised", "app",
               approval_invalidated=was_approved and d.approved_hash != d.content_hash)


def withdraw_requests(store: Store, d: Draft, *, actor: str, reason: str, state: str = "withdrawn") -> None:
    scope = store.scope(d.principal_id)
    for req in sql.requests_for(scope, d.id, states=("open",)):
        sql.close_request(scope, req.id, state)
        if req.channel == "drafts-folder":
            _remove_principal_copy(store, d, req)


def _remove_principal_copy(store: Store, d: Draft, req: sql.ApprovalRequest) -> None:
    """Take our copy out of the principal's Drafts folder (it must not be sent a second time from there)."""
    scope = store.scope(d.principal_id)
    saved = sql.outbox_by_key(scope, req.outbox_key)
    if saved is None:
        return
    if saved["state"] == "pending" and sql.remove_outbox_entry(scope, req.outbox_key):
        return
    remote = saved["result"].get("draft_remote_id")
    if remote:
        from assistant.domain import OutboxEntry

        store.enqueue(OutboxEntry(d.principal_id, d.account_id, "delete-draft", {"draft_remote_id": remote},
                                  f"{req.outbox_key}-delete"))


def decide(store: Store, principal_id: int, draft_id: int, decision: str, *, channel: str, actor: str,
           comment: str = "", edited_body: str | None = None, request_id: int | None = None,
           source_message_id: str = "", now: datetime | None = None) -> DraftState:
    """Apply a principal's decision ("approve", "reject", "edit"). Idempotent: a second decision for a draft that is no
    longer awaiting approval changes nothing and says so in the audit. Returns the draft's state afterwards."""
    now = now or timezones.now_utc()
    scope = store.scope(principal_id)
    d = sql.get_draft(scope, draft_id)
    if decision not in ("approve", "reject", "edit"):
        raise InvalidInput(f"unknown decision {decision!r}: use approve or reject")
    with store.transaction():
        if sql.decision_seen(scope, source_message_id):
            return d.state
        if request_id is not None:
            req = sql.request(scope, request_id)
            if req.state != "open" or req.content_hash != d.content_hash:
                _audit(store, d, actor, "decision-ignored", channel, decision=decision, request_id=request_id,
                       reason=f"request is {req.state}" if req.state != "open" else "the draft changed since")
                sql.add_decision(scope, draft_id=draft_id, request_id=request_id, version=req.version,
                                 decision=f"ignored-{decision}", comment=comment, channel=channel, actor=actor,
                                 source_message_id=source_message_id)
                return d.state
        if d.state != DraftState.AWAITING_APPROVAL:
            _audit(store, d, actor, "decision-ignored", channel, decision=decision,
                   reason=f"the draft is {d.state}, not awaiting approval")
            sql.add_decision(scope, draft_id=draft_id, request_id=request_id, version=d.version,
                             decision=f"ignored-{decision}", comment=comment, channel=channel, actor=actor,
                             source_message_id=source_message_id)
            return d.state
        sql.add_decision(scope, draft_id=draft_id, request_id=request_id, version=d.version, decision=decision,
                         comment=comment, channel=channel, actor=actor, source_message_id=source_message_id)
        withdraw_requests(store, d, actor=actor, reason="decided", state="decided")
        if decision == "reject":
            d.comment = comment
            _set_state(store, d, DraftState.REJECTED, actor, "rejected", channel, comment=comment,
                       request_id=request_id)
            return d.state
        if decision == "edit":
            d.body_text = edited_body or ""
            d.version += 1
            d.content_hash = draft_hash(store, d)
            sql.update_draft(scope, d)
            sql.add_version(scope, d, "principal")
            _audit(store, d, actor, "edited-by-principal", channel, request_id=request_id)
        d.approved_hash = d.content_hash
        d.comment = comment
        _audit(store, d, actor, "approved", channel, request_id=request_id, comment=comment)
        return _release(store, d, actor=actor, channel=channel, now=now, undo=channel in ("app", "in-person"))


def _release(store: Store, d: Draft, *, actor: str, channel: str, now: datetime, undo: bool) -> DraftState:
    """An approved draft goes on: to the server's deferred send, the app's schedule, or the outbox now."""
    if d.send_at_utc is not None and d.send_at_utc > now:
        if _server_schedules(store, d.account_id):
            d.send_where = "server"
            outgoing.enqueue_send(store, d, _send_key(store, d), server_send_at=d.send_at_utc)
        else:
            d.send_where = "app"
        _set_state(store, d, DraftState.SCHEDULED, actor, "scheduled", channel, send_at=d.send_at_utc.isoformat(),
                   where=d.send_where)
        return d.state
    if d.send_at_utc is not None and now - d.send_at_utc > LATE_GRACE:
        _set_state(store, d, DraftState.NEEDS_CONFIRMATION, actor, "send-time-passed", channel,
                   send_at=d.send_at_utc.isoformat())
        return d.state
    seconds = sql.settings(store.scope(d.principal_id)).undo_seconds if undo else 0
    due = outgoing.undo_deadline(now, seconds)
    outgoing.enqueue_send(store, d, _send_key(store, d), due=due)
    d.send_where = "app"
    _set_state(store, d, DraftState.SENDING, actor, "queued-for-sending", channel,
               undo_until=due.isoformat() if due else None)
    return d.state


def approve_in_person(store: Store, principal_id: int, draft_id: int, *, confirmed_by: str = "assistant",
                      decision: str = "approve", comment: str = "", now: datetime | None = None) -> DraftState:
    """Channel 3: the principal said so in person (or on the phone); the assistant confirms it here."""
    scope = store.scope(principal_id)
    d = sql.get_draft(scope, draft_id)
    if d.state != DraftState.AWAITING_APPROVAL:
        raise InvalidInput(f"draft {draft_id} is {d.state}, not awaiting approval")
    return decide(store, principal_id, draft_id, decision, channel="in-person",
                  actor=f"principal (in person, confirmed by {confirmed_by})", comment=comment, now=now)


def undo_send(store: Store, principal_id: int, draft_id: int, *, actor: str = "assistant") -> bool:
    """Take back a send still inside its undo window. False when it has gone (or started going) already."""
    scope = store.scope(principal_id)
    d = sql.get_draft(scope, draft_id)
    if d.state != DraftState.SENDING:
        return False
    key = sql.send_key(scope, draft_id)
    with store.transaction():
        if not sql.remove_outbox_entry(scope, key):
            return False
        mail_store.remove_messages(scope, d.account_id, [f"outbox:{key}"])
        _set_state(store, d, DraftState.APPROVED, actor, "send-undone", "app")
    return True


def schedule(store: Store, principal_id: int, draft_id: int, send_at: datetime, *, actor: str = "assistant",
             now: datetime | None = None) -> DraftState:
    """Set or move the send time. An approved draft keeps its approval (the content did not change)."""
    now = now or timezones.now_utc()
    scope = store.scope(principal_id)
    d = sql.get_draft(scope, draft_id)
    if send_at.tzinfo is None:
        raise InvalidInput("a send time needs a time zone")
    if d.state == DraftState.SENDING and not undo_send(store, principal_id, draft_id, actor=actor):
        raise InvalidInput(f"draft {draft_id} is being sent already")
    d = sql.get_draft(scope, draft_id)
    if d.state == DraftState.SCHEDULED and d.send_where == "server":
        if not sql.remove_outbox_entry(scope, sql.send_key(scope, draft_id)):
            raise InvalidInput(f"draft {draft_id} is at the server already; it cannot be moved from here")
        mail_store.remove_messages(scope, d.account_id, [f"outbox:{sql.send_key(scope, draft_id)}"])
    d.send_at_utc = timezones.to_utc(send_at)
    with store.transaction():
        sql.update_draft(scope, d)
        _audit(store, d, actor, "send-time-set", "app", send_at=d.send_at_utc.isoformat())
        if d.state in (DraftState.SCHEDULED, DraftState.APPROVED, DraftState.NEEDS_CONFIRMATION) \
                and d.approved_hash == d.content_hash:
            return _release(store, d, actor=actor, channel="app", now=now, undo=True)
    return d.state


def cancel_send(store: Store, principal_id: int, draft_id: int, *, actor: str = "assistant") -> DraftState:
    """Stop a scheduled, late or queued send and keep the draft, approved (its content did not change), to be sent,
    rescheduled, edited or deleted later. Refused when the send has gone, or the provider holds it already."""
    scope = store.scope(principal_id)
    d = sql.get_draft(scope, draft_id)
    if d.state == DraftState.SENDING:
        if not undo_send(store, principal_id, draft_id, actor=actor):
            raise InvalidInput(f"“{d.subject}” is being sent already: it can no longer be stopped")
        return sql.get_draft(scope, draft_id).state
    if d.state not in (DraftState.SCHEDULED, DraftState.NEEDS_CONFIRMATION):
        raise InvalidInput(f"draft {draft_id} is {d.state}: there is no send to cancel")
    with store.transaction():
        take_back_server_schedule(store, d)
        d.send_at_utc = None
        _set_state(store, d, DraftState.APPROVED, actor, "send-cancelled", "app")
    return d.state


def confirm_late_send(store: Store, principal_id: int, draft_id: int, *, actor: str = "assistant",
                      now: datetime | None = None) -> DraftState:
    """The assistant's yes to a message whose time passed while the app was closed: send it now."""
    now = now or timezones.now_utc()
    d = sql.get_draft(store.scope(principal_id), draft_id)
    if d.state != DraftState.NEEDS_CONFIRMATION:
        raise InvalidInput(f"draft {draft_id} is {d.state}, not waiting for a late-send confirmation")
    d.send_at_utc = None
    with store.transaction():
        _audit(store, d, actor, "late-send-confirmed", "app")
        return _release(store, d, actor=actor, channel="app", now=now, undo=True)


def run_due(store: Store, now: datetime, principal_id: int | None = None) -> list[tuple[int, DraftState]]:
    """The app's own send-later: scheduled drafts whose time has come are queued; those long past ask first."""
    changed: list[tuple[int, DraftState]] = []
    for pid, d in sql.cross_principal_queue(store, (DraftState.SCHEDULED,)):
        if principal_id is not None and pid != principal_id:
            continue
        if d.send_where != "app" or d.send_at_utc is None or d.send_at_utc > now:
            continue
        if now - d.send_at_utc > LATE_GRACE:
            _set_state(store, d, DraftState.NEEDS_CONFIRMATION, "app", "send-time-passed", "app",
                       send_at=d.send_at_utc.isoformat(), late_by_s=int((now - d.send_at_utc).total_seconds()))
        else:
            with store.transaction():
                outgoing.enqueue_send(store, d, _send_key(store, d))
                _set_state(store, d, DraftState.SENDING, "app", "queued-for-sending", "app", scheduled=True)
        changed.append((d.id, d.state))
    return changed


def reconcile(store: Store, principal_id: int, now: datetime) -> list[tuple[int, DraftState]]:
    """Drafts whose outbox entry went through are sent (server-scheduled ones once their time has passed); those
    whose send or approval request the provider refused for good are failed, with its reason, until the user acts."""
    scope = store.scope(principal_id)
    changed: list[tuple[int, DraftState]] = []
    for d in sql.list_drafts(scope, (DraftState.SENDING, DraftState.SCHEDULED, DraftState.AWAITING_APPROVAL)):
        failed = sql.failed_entries(scope, d.id)
        key = sql.send_key(scope, d.id)
        if d.state == DraftState.AWAITING_APPROVAL:
            open_keys = {r.outbox_key for r in sql.requests_for(scope, d.id, states=("open",))}
            refused = [f for f in failed if f["key"] in open_keys]
            if refused:
                _set_state(store, d, DraftState.FAILED, "app", "approval-request-failed", "app",
                           reason=refused[0]["last_error"])
                changed.append((d.id, d.state))
            continue
        refused = [f for f in failed if key and f["key"] == key]
        if refused:
            _set_state(store, d, DraftState.FAILED, "app", "send-failed", "app", reason=refused[0]["last_error"])
            changed.append((d.id, d.state))
            continue
        if d.state == DraftState.SCHEDULED and (d.send_where != "server" or d.send_at_utc is None
                                                or d.send_at_utc > now):
            continue
        entry = sql.outbox_by_key(scope, key)
        if entry is None:
            continue
        if entry["state"] == "done":
            _set_state(store, d, DraftState.SENT, "app", "sent", "app", remote_id=entry["result"].get("remote_id"))
            changed.append((d.id, d.state))
    return changed


def failure(store: Store, principal_id: int, draft_id: int) -> str:
    """Why the draft's send, approval request or confirmation did not go, in one sentence ("" when nothing failed)."""
    scope = store.scope(principal_id)
    failed = sql.failed_entries(scope, draft_id)
    if not failed:
        return ""
    key = sql.send_key(scope, draft_id)
    first = next((f for f in failed if key and f["key"] == key), failed[0])
    reason = first["last_error"] or "refused by the provider"
    if key and first["key"] == key:
        return reason
    if first["key"].startswith(outgoing.APPROVAL_KEY_PREFIX + "ok-"):
        return f"the confirmation to the principal could not be sent: {reason}"
    return f"the approval request could not be sent: {reason}"


def retry(store: Store, principal_id: int, draft_id: int, *, actor: str = "assistant") -> DraftState:
    """Send again what failed for the draft — the same outbox entries, so the same Message-IDs, and the provider's
    "already sent?" checks still hold — and put the draft back where it failed."""
    scope = store.scope(principal_id)
    d = sql.get_draft(scope, draft_id)
    failed = sql.failed_entries(scope, draft_id)
    if not failed:
        raise InvalidInput(f"draft {draft_id} has not failed (it is {d.state}): there is nothing to retry")
    key = sql.send_key(scope, draft_id)
    with store.transaction():
        for f in failed:
            actions.retry_outbox_entry(store, f["id"])
        if d.state == DraftState.FAILED:
            if any(key and f["key"] == key for f in failed):
                back = DraftState.SCHEDULED if d.send_where == "server" else DraftState.SENDING
            else:
                back = DraftState.AWAITING_APPROVAL
            _set_state(store, d, back, actor, "retried", "app", entries=[f["id"] for f in failed])
        else:
            _audit(store, d, actor, "retried", "app", entries=[f["id"] for f in failed])
    return d.state


def history(store: Store, principal_id: int, draft_id: int) -> list[dict[str, Any]]:
    """The audit entries of one draft, oldest first (they outlive the draft itself)."""
    return [
        {"at_utc": e.at_utc, "actor": e.actor, "action": e.action, **e.detail}
        for e in audit_store.entries(store.scope(principal_id)) if e.detail.get("draft_id") == draft_id
    ]


def queue(store: Store, principal_id: int | None = None) -> list[dict[str, Any]]:
    """Drafts waiting for someone — the principal's answer, or the assistant (a rejection, a late send to confirm, a
    send the provider refused: its ``error``) — one principal's, or explicitly across principals, each row labelled."""
    out: list[dict[str, Any]] = []
    names = {p.id: p for p in store.principals()}
    waiting = (DraftState.AWAITING_APPROVAL, DraftState.NEEDS_CONFIRMATION, DraftState.REJECTED, DraftState.FAILED)
    for pid, d in sql.cross_principal_queue(store, waiting):
        if principal_id is not None and pid != principal_id:
            continue
        submitted = sql.submitted_utc(store.scope(pid), d.id)
        channels = sorted({r.channel for r in sql.requests_for(store.scope(pid), d.id, states=("open",))})
        error = failure(store, pid, d.id) if d.state == DraftState.FAILED else ""
        out.append({"principal_id": pid, "principal": names[pid].name, "draft": d, "submitted_utc": submitted,
                    "channels": channels, "error": error})
    out.sort(key=lambda row: row["submitted_utc"] or row["draft"].updated_utc)
    return out


def find_draft(store: Store, draft_id: int) -> int:
    """The principal a draft id belongs to (for the CLI's ``approvals decide ID``, which names no principal)."""
    for p in store.principals():
        try:
            sql.get_draft(store.scope(p.id), draft_id)
            return p.id
        except NotFound:
            continue
    raise NotFound(f"no draft {draft_id}")
