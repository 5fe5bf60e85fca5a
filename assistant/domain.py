"""The domain: plain dataclasses, no Qt, no SQL.

Every instant is an aware ``datetime`` in UTC; the principal's and the assistant's zones are applied only for display and
for interpreting what a user typed ("9:00 principal time"). All-day things carry a ``date`` instead.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any


class ApprovalPolicy(str, enum.Enum):
    ALWAYS = "always"
    NEW_RECIPIENTS = "new-recipients"
    NEVER = "never"


class AccountStatus(str, enum.Enum):
    OK = "ok"
    SYNCING = "syncing"
    NEEDS_SIGN_IN = "needs-sign-in"
    OFFLINE = "offline"
    ERROR = "error"


@dataclass(frozen=True)
class BusinessHours:
    """Working hours in the principal's own zone; ``days`` are ISO weekdays (1 = Monday)."""

    start: time = time(9, 0)
    end: time = time(17, 0)
    days: tuple[int, ...] = (1, 2, 3, 4, 5)

    def to_text(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M} {','.join(map(str, self.days))}"

    @classmethod
    def from_text(cls, text: str) -> BusinessHours:
        hours, _, days = text.strip().partition(" ")
        start, _, end = hours.partition("-")
        return cls(
            time.fromisoformat(start),
            time.fromisoformat(end),
            tuple(int(d) for d in days.split(",")) if days else (1, 2, 3, 4, 5),
        )


@dataclass
class Principal:
    name: str
    timezone: str
    addresses: list[str] = field(default_factory=list)
    region: str = "US"
    business_hours: BusinessHours = field(default_factory=BusinessHours)
    colour: str = "#3b82f6"
    signature: str = ""
    approval_policy: ApprovalPolicy = ApprovalPolicy.ALWAYS
    notes: str = ""
    id: int | None = None

    @property
    def primary_address(self) -> str:
        return self.addresses[0] if self.addresses else ""


@dataclass
class Account:
    principal_id: int
    kind: str
    address: str
    settings: dict[str, Any] = field(default_factory=dict)
    status: AccountStatus = AccountStatus.OK
    last_error: str = ""
    last_sync_utc: datetime | None = None
    id: int | None = None


@dataclass(frozen=True)
class Address:
    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


@dataclass
class Attachment:
    filename: str
    content_type: str
    size: int
    content_id: str = ""
    part_id: str = ""  # where to find it again: MIME part path, or the provider's attachment id


@dataclass
class Folder:
    account_id: int
    remote_id: str
    name: str
    role: str = ""  # inbox, sent, drafts, trash, archive, spam, or "" for a user folder/label
    id: int | None = None


@dataclass
class Message:
    """One message as the store keeps it. ``raw`` is the RFC 5322 source when we have it."""

    principal_id: int
    account_id: int
    remote_id: str
    subject: str
    sender: Address | None
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    date_utc: datetime | None = None
    message_id_header: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)  # remote folder/label ids
    is_read: bool = False
    is_flagged: bool = False
    snippet: str = ""
    body_text: str = ""
    body_html: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    size: int = 0
    thread_id: int | None = None
    remote_thread_id: str = ""
    parse_error: str = ""
    id: int | None = None

    @property
    def has_attachments(self) -> bool:
        return bool(self.attachments)


@dataclass
class Thread:
    principal_id: int
    subject: str
    last_date_utc: datetime | None
    message_count: int
    unread_count: int
    has_attachments: bool
    is_flagged: bool
    participants: list[str] = field(default_factory=list)
    snippet: str = ""
    id: int | None = None


@dataclass
class Draft:
    principal_id: int
    account_id: int
    to: list[Address]
    subject: str
    body_text: str
    cc: list[Address] = field(default_factory=list)
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)  # local file paths
    state: str = "draft"
    created_utc: datetime | None = None
    updated_utc: datetime | None = None
    id: int | None = None
    version: int = 1
    content_hash: str = ""
    approved_hash: str = ""  # the content hash the principal approved; an edit since then needs approval again
    approval: str = ""  # per-draft override of the principal's ApprovalPolicy ("" = the principal's)
    comment: str = ""  # the principal's last comment (a rejection's reason)
    send_at_utc: datetime | None = None
    send_where: str = ""  # "server" (provider sends later) or "app"


@dataclass
class CalendarEvent:
    """An event series (or a single event) as one iCalendar UID.

    ``ics`` keeps every component of that UID (master and overrides) plus the VTIMEZONEs they use, so recurrences are
    expanded from the source of truth at view time.
    """

    principal_id: int
    account_id: int
    remote_id: str
    uid: str
    summary: str
    start_utc: datetime | None
    end_utc: datetime | None
    all_day: bool = False
    start_date: date | None = None
    end_date: date | None = None
    timezone: str = ""
    location: str = ""
    description: str = ""
    rrule: str = ""
    ics: str = ""
    calendar_id: str = ""
    reminder_minutes: int | None = None
    id: int | None = None

    @property
    def is_recurring(self) -> bool:
        return bool(self.rrule)


@dataclass
class EventOccurrence:
    event_id: int
    principal_id: int
    summary: str
    start_utc: datetime
    end_utc: datetime
    all_day: bool
    location: str = ""
    start_date: date | None = None


class CallDirection(str, enum.Enum):
    INCOMING = "in"
    OUTGOING = "out"
    MISSED = "missed"
    VOICEMAIL = "voicemail"


@dataclass
class Call:
    principal_id: int
    direction: CallDirection
    number_raw: str
    started_utc: datetime
    duration_s: int = 0
    number_e164: str = ""
    number_valid: bool = False
    caller_name: str = ""
    outcome: str = ""
    notes: str = ""
    source: str = "manual"
    source_key: str = ""  # stable key from an import, so re-imports add nothing twice
    id: int | None = None


@dataclass
class BoardColumn:
    principal_id: int
    name: str
    position: int
    id: int | None = None


@dataclass
class Task:
    principal_id: int
    title: str
    column_id: int | None = None
    position: int = 0
    notes: str = ""
    due_utc: datetime | None = None
    priority: int = 0
    labels: list[str] = field(default_factory=list)
    rrule: str = ""
    link: str = ""  # "message:<id>", "event:<id>", "call:<id>"
    done_utc: datetime | None = None
    created_utc: datetime | None = None
    id: int | None = None


@dataclass
class Reminder:
    principal_id: int
    kind: str  # task, follow-up, call-back, meeting, free
    text: str
    due_utc: datetime
    state: str = "pending"  # pending, fired, dismissed, cancelled
    link: str = ""
    rrule: str = ""
    id: int | None = None


@dataclass
class Contact:
    principal_id: int
    name: str
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)  # E.164 where valid
    source: str = ""
    id: int | None = None


@dataclass
class AuditEntry:
    principal_id: int
    at_utc: datetime
    actor: str
    action: str
    subject: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    id: int | None = None


@dataclass
class OutboxEntry:
    """A local change waiting to reach the provider (Mailspring's task): state and last error are user-visible."""

    principal_id: int
    account_id: int
    op: str  # set-flags, move, save-draft, delete-draft, send, event-create, event-update, event-delete
    payload: dict[str, Any]
    idempotency_key: str
    state: str = "pending"  # pending, in-flight, done, failed
    attempts: int = 0
    last_error: str = ""
    next_attempt_utc: datetime | None = None
    created_utc: datetime | None = None
    result: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
