"""The domain: plain dataclasses, no Qt, no SQL.

Every instant is an aware ``datetime`` in UTC; the principal's and the assistant's zones are applied only for display and
for interpreting what a user typed ("9:00 principal time"). All-day things carry a ``date`` instead.
"""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Each area's module is imported when one of its names is first asked for (PEP 562): a command that reads mail only
# (`assistant search`) builds the dataclasses of mail and the workspace, not those of every area (a quarter of its start).
_MODULE_OF = {
    "BoardColumn": "board", "Card": "board", "ChecklistItem": "board",
    "CalendarEvent": "calendar", "EventOccurrence": "calendar",
    "Call": "calls", "CallDirection": "calls",
    "Contact": "contacts", "RemoteContact": "contacts",
    "Draft": "drafts", "DraftState": "drafts",
    "Address": "mail", "Attachment": "mail", "Folder": "mail", "Message": "mail", "Thread": "mail",
    "Reminder": "reminders", "ReminderState": "reminders",
    "ReportKind": "reports", "ReportTemplate": "reports",
    "Billing": "time", "TimeEntry": "time", "TimeSource": "time",
    "Account": "workspace", "AccountStatus": "workspace", "ApprovalPolicy": "workspace", "AuditEntry": "workspace",
    "BusinessHours": "workspace", "OutboxEntry": "workspace", "Principal": "workspace",
}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_MODULE_OF])
