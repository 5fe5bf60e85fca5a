"""A malformed alarm costs the alarm, never the event (a calendar app keeps the event, and repairs or drops the alarm).

Reported with a real train-ticket export: TRIGGER:PT-2H (for -PT2H) lost both of its events."""
from __future__ import annotations

from datetime import UTC, datetime

from assistant.calendar.ics import parse_calendar

TICKETS = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Rail tickets//EN
BEGIN:VEVENT
UID:train-1@example.com
DTSTAMP:20261201T100000Z
DTSTART:20261210T080000Z
DTEND:20261210T110000Z
SUMMARY:Train to Paris
BEGIN:VALARM
ACTION:DISPLAY
DESCRIPTION:Reminder
TRIGGER:PT-2H
END:VALARM
END:VEVENT
BEGIN:VEVENT
UID:train-2@example.com
DTSTAMP:20261201T100000Z
DTSTART:20261212T160000Z
DTEND:20261212T190000Z
SUMMARY:Train back
BEGIN:VALARM
ACTION:DISPLAY
TRIGGER:soon
END:VALARM
END:VEVENT
END:VCALENDAR
"""


def test_a_misplaced_sign_is_repaired_and_an_unreadable_trigger_drops_only_the_alarm():
    events, problems = parse_calendar(TICKETS, principal_id=1, account_id=1, calendar_id="tickets")
    by_summary = {e.summary: e for e in events}
    assert set(by_summary) == {"Train to Paris", "Train back"}
    paris, back = by_summary["Train to Paris"], by_summary["Train back"]
    assert paris.start_utc == datetime(2026, 12, 10, 8, 0, tzinfo=UTC) and paris.reminder_minutes == 120
    assert back.start_utc == datetime(2026, 12, 12, 16, 0, tzinfo=UTC) and back.reminder_minutes is None
    assert len(problems) == 2
    assert "'Train to Paris'" in problems[0] and "PT-2H" in problems[0] and "-PT2H" in problems[0]
    assert "'Train back'" in problems[1] and "alarm" in problems[1] and "dropped" in problems[1]
