"""The domain: plain dataclasses, no Qt, no SQL.

Every instant is an aware ``datetime`` in UTC; the principal's and the assistant's zones are applied only for display and
for interpreting what a user typed ("9:00 principal time"). All-day things carry a ``date`` instead.
"""
from __future__ import annotations

from assistant.domain.board import BoardColumn, Card, ChecklistItem
from assistant.domain.calendar import CalendarEvent, EventOccurrence
from assistant.domain.calls import Call, CallDirection
from assistant.domain.contacts import Contact, RemoteContact
from assistant.domain.drafts import Draft, DraftState
from assistant.domain.mail import Address, Attachment, Folder, Message, Thread
from assistant.domain.reminders import Reminder, ReminderState
from assistant.domain.reports import ReportKind, ReportTemplate
from assistant.domain.time import Billing, TimeEntry, TimeSource
from assistant.domain.workspace import (
    Account,
    AccountStatus,
    ApprovalPolicy,
    AuditEntry,
    BusinessHours,
    OutboxEntry,
    Principal,
)

__all__ = [
    "ReportKind",
    "ReportTemplate",
    "Billing",
    "TimeEntry",
    "TimeSource",
    "ApprovalPolicy",
    "AccountStatus",
    "BusinessHours",
    "Principal",
    "Account",
    "AuditEntry",
    "OutboxEntry",
    "Address",
    "Attachment",
    "Folder",
    "Message",
    "Thread",
    "Draft",
    "DraftState",
    "CalendarEvent",
    "EventOccurrence",
    "CallDirection",
    "Call",
    "BoardColumn",
    "Card",
    "ChecklistItem",
    "Reminder",
    "ReminderState",
    "Contact",
    "RemoteContact",
]
