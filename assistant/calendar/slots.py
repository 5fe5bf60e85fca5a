"""Free time in a principal's business hours, read in their own zone so a DST change never shifts their working day."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from assistant.core import timezones
from assistant.core.errors import InvalidInput
from assistant.store import PrincipalScope
from assistant.store import calendar as calendar_store

STEP = timedelta(minutes=30)  # slots start on the half hour of the principal's working day
HORIZON_DAYS = 370
_CHUNK_DAYS = 14


def business_window(day: date, start: time, end: time, zone: str) -> tuple[datetime, datetime]:
    """The UTC instants of one business day; a start in a spring-forward gap moves forward like any wall time."""
    return (timezones.local_to_utc(datetime.combine(day, start), zone),
            timezones.local_to_utc(datetime.combine(day, end), zone))


def busy_intervals(scope: PrincipalScope, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Timed occurrences overlapping [start, end), merged. All-day events (holidays, birthdays) do not block time."""
    from assistant.calendar import ics

    spans = []
    for event in calendar_store.events_between(scope, start, end):
        for occurrence in ics.expand(event, start, end):
            if not occurrence.all_day and occurrence.end_utc > occurrence.start_utc:
                spans.append((occurrence.start_utc, occurrence.end_utc))
    spans.sort()
    merged: list[tuple[datetime, datetime]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def free_slots(scope: PrincipalScope, start_utc: datetime, count: int, duration: timedelta, *,
               now: datetime) -> list[tuple[datetime, datetime]]:
    """The principal's next ``count`` free slots of ``duration`` from ``max(start_utc, now)``, in UTC.

    Slots lie wholly inside business hours (``Principal.business_hours``, their zone, their working weekdays), start on
    the half hour of the working day, and overlap none of their expanded timed events.
    """
    if count <= 0:
        return []
    if duration <= timedelta(0):
        raise InvalidInput("a free slot needs a positive duration")
    principal = scope.principal
    hours, zone = principal.business_hours, principal.timezone
    if hours.end <= hours.start or not hours.days:
        raise InvalidInput(f"{principal.name} has no business hours to search")
    earliest = max(timezones.to_utc(start_utc), timezones.to_utc(now))
    first_day = timezones.in_zone(earliest, zone).date()
    found: list[tuple[datetime, datetime]] = []
    for chunk in range(0, HORIZON_DAYS, _CHUNK_DAYS):
        days = [first_day + timedelta(days=chunk + i) for i in range(_CHUNK_DAYS)]
        windows = [business_window(d, hours.start, hours.end, zone) for d in days if d.isoweekday() in hours.days]
        if not windows:
            continue
        busy = busy_intervals(scope, windows[0][0], windows[-1][1])
        for window_start, window_end in windows:
            t = window_start
            if t < earliest:
                t = window_start + -((window_start - earliest) // STEP) * STEP
            while t + duration <= window_end:
                clash = next((b for b in busy if b[0] < t + duration and b[1] > t), None)
                if clash is None:
                    found.append((t, t + duration))
                    if len(found) == count:
                        return found
                    t = window_start + -((window_start - (t + duration)) // STEP) * STEP
                else:
                    t = window_start + -((window_start - clash[1]) // STEP) * STEP
    return found
