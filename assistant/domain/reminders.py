"""Reminders of every kind (free, follow-up, card, call-back, meeting). :class:`Reminder` is the one reminder type."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ReminderState(StrEnum):
    PENDING = "pending"
    FIRED = "fired"
    DISMISSED = "dismissed"
    CANCELLED = "cancelled"


@dataclass
class Reminder:
    principal_id: int
    kind: str  # task, follow-up, call-back, meeting, free (assistant.reminders.KINDS)
    text: str
    due_utc: datetime
    state: ReminderState = ReminderState.PENDING
    link: str = ""
    rrule: str = ""
    id: int = 0  # 0 until the store gives it one
    created_utc: datetime | None = None
    fired_utc: datetime | None = None
    missed: bool = False
    urgent: bool = False
    anchor_local: str = ""  # a recurrence's first wall-clock time in the principal's zone, ISO without offset
    message_header_id: str = ""  # a follow-up's sent message
    thread_id: int | None = None
