"""iCalendar reading: one :class:`~assistant.domain.CalendarEvent` per UID (master plus overrides), expanded at view
time with ``recurring_ical_events``. Bad input gives one-line errors; the rest of the file is kept.
"""
from __future__ import annotations

from datetime import date, datetime

from assistant.domain import CalendarEvent, EventOccurrence


def parse_calendar(
    data: bytes, *, principal_id: int, account_id: int, calendar_id: str = ""
) -> tuple[list[CalendarEvent], list[str]]:
    """Events grouped by UID, and one line per thing that could not be read."""
    raise NotImplementedError


def expand(event: CalendarEvent, start: datetime, end: datetime) -> list[EventOccurrence]:
    """Occurrences of ``event`` overlapping [start, end) (aware datetimes)."""
    raise NotImplementedError
