"""Principals, their accounts, and the workspace's own records (the outbox, the audit)."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, time
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
    colour: str = ""  # "": the store gives one far from the other principals' (core/colours.py)
    signature: str = ""
    approval_policy: ApprovalPolicy = ApprovalPolicy.ALWAYS
    notes: str = ""
    id: int = 0  # 0 until the store gives it one
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
    id: int = 0  # 0 until the store gives it one
@dataclass
class AuditEntry:
    principal_id: int
    at_utc: datetime
    actor: str
    action: str
    subject: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    id: int = 0  # 0 until the store gives it one
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
    id: int = 0  # 0 until the store gives it one
