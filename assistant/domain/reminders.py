"""Reminders of every kind (free, follow-up, card, call-back)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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
