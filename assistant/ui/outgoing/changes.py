"""The Outgoing tab's *Changes* section: every other change waiting for a provider — marks, moves, calendar writes, a
draft saved to or removed from the principal's Drafts folder — with what it does, for whom, from which account, its
state and the provider's reason when it failed. Sends and approval requests are the drafts' (the other sections).

What is listed is read by :func:`load_changes`, a plain function of the store run on the worker thread; a failed entry
is put back in the queue by :func:`assistant.sync.actions.retry_outbox_entry`, as the command line's retry does.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor

from assistant.core import timezones
from assistant.domain import OutboxEntry
from assistant.store import Store
from assistant.store import mail as mail_store
from assistant.ui.approvals.preview import both_times
from assistant.ui.widgets.tables import RowTableModel

WAITING_STATES = ("pending", "in-flight", "failed")
WARNING = "#c2410c"
FOLDER_WORDS = {"archive": "Archive", "trash": "Trash", "inbox": "Inbox", "spam": "Spam", "sent": "Sent",
                "drafts": "Drafts"}


@dataclass
class ChangeRow:
    entry_id: int
    principal_id: int
    principal: str
    colour: str
    zone: str
    account: str  # the address the change goes through
    op: str
    what: str  # "Mark read: “Budget”", "Create event: “Board call”"
    state: str  # pending, in-flight, failed
    error: str = ""
    attempts: int = 0
    queued_utc: datetime | None = None
    next_attempt_utc: datetime | None = None


def _event_summary(ics: str) -> str:
    import icalendar  # here: read on the worker; imported with the tab, it cost the launch before the first paint

    try:
        for component in icalendar.Calendar.from_ical(ics).walk("VEVENT"):
            return str(component.get("SUMMARY") or "")
    except (ValueError, KeyError, IndexError):
        pass
    return ""


def describe(store: Store, entry: OutboxEntry) -> str:
    """What the entry does, in words, naming the message or event it changes when the workspace still has it."""
    payload = entry.payload
    if entry.op in ("set-flags", "move"):
        message = mail_store.message_by_remote_id(store.scope(entry.principal_id), entry.account_id,
                                                  str(payload.get("remote_id", "")))
        subject = f": “{message.subject or '(no subject)'}”" if message is not None else ""
        if entry.op == "move":
            to = str(payload.get("to", ""))
            return f"Move to {FOLDER_WORDS.get(to, to)}{subject}"
        words = []
        if "is_read" in payload:
            words.append("Mark read" if payload["is_read"] else "Mark unread")
        if "is_flagged" in payload:
            words.append("Flag" if payload["is_flagged"] else "Unflag")
        return (", ".join(words) or "Change flags") + subject
    if entry.op in ("event-create", "event-update"):
        summary = _event_summary(str(payload.get("ics", "")))
        verb = "Create event" if entry.op == "event-create" else "Change event"
        return f"{verb}: “{summary}”" if summary else verb
    if entry.op == "event-delete":
        return "Delete an event"
    if entry.op == "save-draft":
        return "Save a draft in the principal's Drafts folder"
    if entry.op == "delete-draft":
        return "Remove a draft from the principal's Drafts folder"
    return entry.op


def load_changes(store: Store, principal_id: int | None) -> list[ChangeRow]:
    """The changes not yet done (waiting, being sent, failed) of one principal or of all (``None``), failed first,
    then oldest first. Entries that belong to a draft are left to the draft sections."""
    principals = {p.id: p for p in store.principals()}
    addresses: dict[int, str] = {}
    rows: list[ChangeRow] = []
    for entry in store.outbox(states=WAITING_STATES):
        if entry.payload.get("draft_id") or entry.op == "send":
            continue
        if principal_id is not None and entry.principal_id != principal_id:
            continue
        p = principals.get(entry.principal_id)
        if p is None:
            continue
        if entry.account_id not in addresses:
            addresses[entry.account_id] = store.account(entry.account_id).address or p.primary_address
        rows.append(ChangeRow(
            entry_id=entry.id, principal_id=entry.principal_id, principal=p.name, colour=p.colour, zone=p.timezone,
            account=addresses[entry.account_id], op=entry.op, what=describe(store, entry), state=entry.state,
            error=entry.last_error, attempts=entry.attempts, queued_utc=entry.created_utc,
            next_attempt_utc=entry.next_attempt_utc,
        ))
    rows.sort(key=lambda r: (r.state != "failed", r.queued_utc.timestamp() if r.queued_utc else 0.0, r.entry_id))
    return rows


def change_state_text(r: ChangeRow, now: datetime) -> str:
    if r.state == "failed":
        return f"failed: {r.error}" if r.error else "failed"
    if r.state == "in-flight":
        return "being sent"
    if r.next_attempt_utc is not None and r.next_attempt_utc > now:
        theirs, mine = both_times(r.next_attempt_utc, r.zone)
        return f"tried again at {mine}" + (f" ({r.error})" if r.error else "")
    return "waiting for the next sync"


class ChangesModel(RowTableModel[ChangeRow]):
    headers = ("Principal", "Change", "Account", "Queued (their time)", "Your time", "State")

    def __init__(self, parent: Any = None):
        super().__init__(parent)
        self.now = timezones.now_utc()

    def set_changes(self, rows: list[ChangeRow], now: datetime) -> None:
        with self.resetting():
            self.rows, self.now = list(rows), now

    def display(self, r: ChangeRow, column: int) -> Any:
        theirs, mine = both_times(r.queued_utc, r.zone) if r.queued_utc else ("", "")
        return [r.principal, r.what, r.account, theirs, mine, change_state_text(r, self.now)][column]

    def cell_data(self, r: ChangeRow, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            return QColor(r.colour)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == 5:
                tries = f" after {r.attempts} attempt{'s' if r.attempts != 1 else ''}" if r.attempts else ""
                if r.state == "failed":
                    return f"The provider refused it{tries}: {r.error or 'no reason given'}. Retry sends it again."
                return f"Goes to {r.account} with the next sync{tries}"
            if column in (1, 2):
                return f"{r.what} — {r.principal}, through {r.account}"
            return None
        if role == Qt.ItemDataRole.ForegroundRole and column == 5 and r.state == "failed":
            return QBrush(QColor(WARNING))
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{r.principal}: {r.what}, {change_state_text(r, self.now)}"
        return None
