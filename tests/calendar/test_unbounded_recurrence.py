"""A recurrence that never ends and repeats every second is read in bounded time and memory (reported: a 12-line
.ics with RRULE:FREQ=SECONDLY took 265 s and 7.7 GB to import; a week view 41 s; a reminders pass 172,800 rows).
Budgets here are generous ceilings that only an unbounded expansion crosses; the speed targets live in benchmarks."""
from __future__ import annotations

import time
import tracemalloc
from datetime import UTC, datetime, timedelta

from assistant.calendar.ics import expand, parse_calendar

EVERY_SECOND = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Hostile//EN
BEGIN:VEVENT
UID:seconds@example.com
DTSTAMP:20261201T000000Z
DTSTART:20261201T090000Z
DTEND:20261201T090001Z
SUMMARY:Every second, forever
RRULE:FREQ=SECONDLY
END:VEVENT
END:VCALENDAR
"""


def test_a_recurrence_every_second_is_kept_as_one_event_with_a_reason_in_bounded_work():
    tracemalloc.start()
    started = time.monotonic()
    events, problems = parse_calendar(EVERY_SECOND, principal_id=1, account_id=1, calendar_id="c")
    (event,) = events
    week = expand(event, datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC))
    elapsed = time.monotonic() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 20 and peak < 100 * 1024 * 1024  # unbounded, this is minutes and gigabytes
    assert event.rrule == "" and [o.start_utc for o in week] == [datetime(2026, 12, 1, 9, 0, tzinfo=UTC)]
    (problem,) = problems
    assert "'Every second, forever'" in problem and "every second" in problem and "single event" in problem


def test_an_hourly_series_still_expands_in_a_week_view():
    hourly = EVERY_SECOND.replace(b"FREQ=SECONDLY", b"FREQ=HOURLY").replace(b"090001Z", b"091500Z")
    (event,), problems = parse_calendar(hourly, principal_id=1, account_id=1, calendar_id="c")
    assert problems == [] and event.rrule == "FREQ=HOURLY"
    day = expand(event, datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC))
    assert len(day) == 15 and day[0].start_utc == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert day[-1].start_utc - day[0].start_utc == timedelta(hours=14)
