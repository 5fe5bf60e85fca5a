"""A draft as it will go out — sender, recipients in full, subject, attachments, when (the principal's time and
yours), the body — with the principal's comment and what changed since the version they last saw. The Approvals tab
and the Outgoing tab show it; what they show is read by :func:`load_details` on the worker and written out by
:func:`preview_html`, neither of which touches a widget."""
from __future__ import annotations

import difflib
import html
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QTextBrowser, QWidget

from assistant.core import timezones
from assistant.domain import Address, Draft, DraftState
from assistant.store import Store

# The versions a principal has seen: asked about it, or answered it.
SEEN_ACTIONS = ("approval-requested", "rejected", "approved", "edited-by-principal")
WARNING = "#c2410c"
ADDED, REMOVED = "#16a34a", "#dc2626"  # readable on a light and a dark base alike


@dataclass
class DraftDetails:
    principal_id: int
    principal: str
    zone: str
    draft: Draft
    sender: str  # "Name <address>" of the account it goes from
    attachments: list[tuple[str, bool]] = field(default_factory=list)  # (file name, the file is still there)
    undo_seconds: int = 10
    error: str = ""  # why its send or approval request failed
    undo_until: datetime | None = None  # queued, and can still be taken back until then
    comment: str = ""  # the principal's last comment (a rejection's reason), kept when the draft is submitted again
    comment_version: int | None = None  # the version it was about
    comment_action: str = ""  # what they did with that version: rejected, approved, edited-by-principal
    seen_version: int | None = None  # the version the principal last saw, when it is not this one
    diff: list[str] = field(default_factory=list)  # unified diff from seen_version to this version


def message_text(content: dict[str, Any] | Draft) -> str:
    """One version as text, the way a diff compares it: the headers a principal approves, a blank line, the body."""
    if isinstance(content, Draft):
        to, cc, subject, body, attachments = content.to, content.cc, content.subject, content.body_text, \
            content.attachments
    else:
        to = [Address(name, email) for name, email in content.get("to", [])]  # as the store keeps a version
        cc = [Address(name, email) for name, email in content.get("cc", [])]
        subject, body, attachments = content.get("subject", ""), content.get("body_text", ""), \
            content.get("attachments", [])
    lines = [f"To: {', '.join(str(a) for a in to)}"]
    if cc:
        lines.append(f"Cc: {', '.join(str(a) for a in cc)}")
    lines.append(f"Subject: {subject}")
    if attachments:
        lines.append(f"Attachments: {', '.join(Path(a).name for a in attachments)}")
    return "\n".join(lines) + "\n\n" + body


def load_details(store: Store, principal_id: int, draft_id: int, now: datetime | None = None) -> DraftDetails:
    """Runs on the worker thread."""
    from assistant.approvals import lifecycle
    from assistant.approvals.content import attachment_data
    from assistant.store import drafts as sql

    now = now or timezones.now_utc()
    scope = store.scope(principal_id)
    p = scope.principal
    d = sql.get_draft(scope, draft_id)
    account = store.account(d.account_id)
    details = DraftDetails(
        principal_id=principal_id, principal=p.name, zone=p.timezone, draft=d,
        sender=str(Address(p.name, account.address or p.primary_address)),
        attachments=[(Path(a).name, attachment_data(store, principal_id, a) is not None) for a in d.attachments],
        undo_seconds=sql.settings(scope).undo_seconds, comment=d.comment,
    )
    if d.state == DraftState.FAILED:
        details.error = lifecycle.failure(store, principal_id, draft_id)
    if d.state == DraftState.SENDING:
        details.undo_until, details.error = send_progress(store, principal_id, draft_id, now)
    history = lifecycle.history(store, principal_id, draft_id)
    commented = [e for e in history if e.get("comment") and e["action"] in ("rejected", "approved",
                                                                           "edited-by-principal")]
    if commented:
        last = commented[-1]
        details.comment, details.comment_version, details.comment_action = \
            last["comment"], last.get("version"), last["action"]
    seen = [e["version"] for e in history if e["action"] in SEEN_ACTIONS and e.get("version", d.version) < d.version]
    if seen:
        details.seen_version = max(seen)
        versions = {v["version"]: v for v in sql.versions(scope, draft_id)}
        if details.seen_version in versions:
            details.diff = list(difflib.unified_diff(
                message_text(versions[details.seen_version]).splitlines(), message_text(d).splitlines(),
                fromfile=f"version {details.seen_version}", tofile=f"version {d.version}", lineterm="", n=2))
    return details


def send_progress(store: Store, principal_id: int, draft_id: int, now: datetime) -> tuple[datetime | None, str]:
    """A queued send: until when it can still be taken back (None: it is going, or has gone), and why it has not
    gone yet when a try failed and it waits to be tried again ("")."""
    from assistant.store import drafts as sql

    scope = store.scope(principal_id)
    key = sql.send_key(scope, draft_id)
    saved = sql.outbox_by_key(scope, key) if key else None
    if saved is None:
        return None, ""
    entry = store.outbox_entry(saved["id"])
    if entry.state == "pending" and entry.attempts == 0 and entry.next_attempt_utc and entry.next_attempt_utc > now:
        return entry.next_attempt_utc, ""
    if entry.state in ("pending", "in-flight") and entry.last_error:
        return None, f"not sent yet, will try again: {entry.last_error}"
    return None, ""


def both_times(at: datetime, zone: str, my_zone: str | None = None) -> tuple[str, str]:
    """``at`` in the principal's zone (with its date) and in yours (the weekday only when the day differs), each
    labelled with its zone's abbreviation."""
    my_zone = my_zone or timezones.assistant_zone_name()
    theirs, mine = timezones.in_zone(at, zone), timezones.in_zone(at, my_zone)
    mine_text = f"{mine:%H:%M %Z}" if mine.date() == theirs.date() else f"{mine:%a %H:%M %Z}"
    return f"{theirs:%a %d %b %H:%M %Z}", mine_text


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _addresses(addresses: list[Address]) -> str:
    return _esc(", ".join(str(a) for a in addresses))


def send_plan(details: DraftDetails, my_zone: str | None = None) -> str:
    """When it goes, in words: at its time (theirs and yours), or now after the undo window."""
    d = details.draft
    if d.send_at_utc is not None and d.send_at_utc > timezones.now_utc():
        theirs, mine = both_times(d.send_at_utc, details.zone, my_zone)
        return f"at {theirs} their time ({mine} yours)"
    if details.undo_seconds > 0:
        return f"now, after a {details.undo_seconds}-second undo window"
    return "now"


def preview_html(details: DraftDetails, my_zone: str | None = None) -> str:
    d = details.draft
    rows = [("From", _esc(details.sender)), ("To", _addresses(d.to) or "<i>nobody yet</i>")]
    if d.cc:
        rows.append(("Cc", _addresses(d.cc)))
    rows.append(("Subject", _esc(d.subject) or "<i>(no subject)</i>"))
    if details.attachments:
        rows.append(("Attachments", ", ".join(
            _esc(name) + ("" if present else f" <span style='color:{WARNING}'>(file missing)</span>")
            for name, present in details.attachments)))
    if d.send_at_utc is not None:
        theirs, mine = both_times(d.send_at_utc, details.zone, my_zone)
        late = d.state == DraftState.NEEDS_CONFIRMATION
        how = " — the time passed while the app was closed" if late else \
            " — the provider holds it until then" if d.send_where == "server" else \
            " — this app sends it: keep it running" if d.state == DraftState.SCHEDULED else ""
        rows.append(("Send at" if not late else "Was due", f"{_esc(theirs)} their time · {_esc(mine)} yours{how}"))
    if details.undo_until is not None:
        theirs, mine = both_times(details.undo_until, details.zone, my_zone)
        rows.append(("Goes out", f"{_esc(theirs)} their time · {_esc(mine)} yours (until then: Undo send)"))
    table = "".join(f"<tr><td style='padding-right:12px'><b>{label}</b></td><td>{value}</td></tr>"
                    for label, value in rows)
    parts = [f"<table cellspacing='0' cellpadding='2'>{table}</table>"]
    if details.error:
        parts.append(f"<p style='color:{WARNING}'><b>Failed:</b> {_esc(details.error)}</p>")
    if details.comment:
        did = {"rejected": "rejecting", "approved": "approving", "edited-by-principal": "editing"}.get(
            details.comment_action, "on")
        about = f" ({did} version {details.comment_version})" if details.comment_version else ""
        parts.append(f"<p><b>{_esc(details.principal)}’s comment{about}:</b> “{_esc(details.comment)}”</p>")
    parts.append("<hr>")
    parts.append(f"<div style='white-space: pre-wrap'>{_esc(d.body_text.rstrip())}</div>")
    if details.diff:
        parts.append(f"<hr><p><b>Changed since version {details.seen_version}, the one {_esc(details.principal)} "
                     f"last saw</b> (this is version {d.version})</p>")
        lines = []
        for line in details.diff[2:]:  # the ---/+++ file lines say what the heading says
            colour = ADDED if line.startswith("+") else REMOVED if line.startswith("-") else ""
            text = _esc(line) or "&nbsp;"
            lines.append(f"<span style='color:{colour}'>{text}</span>" if colour else text)
        parts.append("<div style='white-space: pre-wrap; font-family: monospace'>" + "<br>".join(lines) + "</div>")
    elif details.seen_version is None and d.state == DraftState.AWAITING_APPROVAL:
        parts.append(f"<hr><p><i>The first version {_esc(details.principal)} is asked about.</i></p>")
    return "".join(parts)


class DraftPreview(QTextBrowser):
    """Read-only: the selected draft as it will be sent."""

    PLACEHOLDER = "Select a draft to see the message as it will be sent."

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("draft-preview")
        self.setAccessibleName("The selected draft as it will be sent")
        self.setOpenLinks(False)
        self.details: DraftDetails | None = None
        self.show_details(None)

    def show_details(self, details: DraftDetails | None) -> None:
        self.details = details
        if details is None:
            self.setHtml(f"<p><i>{self.PLACEHOLDER}</i></p>")
        else:
            self.setHtml(preview_html(details))
