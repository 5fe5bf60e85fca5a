"""Events as stored and their expanded occurrences."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


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
    id: int = 0  # 0 until the store gives it one
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
