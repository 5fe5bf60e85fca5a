"""Meeting reminders come from the synced calendars: the event's own reminder minutes, else the default."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from assistant import reminders
from assistant.domain import CalendarEvent
from assistant.store import calendar as calendar_store
from assistant.store import reminders as rstore

UTC = UTC
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _event(workspace, principal, account, remote_id, start, minutes=None, summary="Board call", rrule=""):
    ics = ""
    if rrule:
        ics = (f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:{remote_id}\r\nDTSTART:{start:%Y%m%dT%H%M%SZ}\r\n"
               f"DTEND:{start + timedelta(hours=1):%Y%m%dT%H%M%SZ}\r\nRRULE:{rrule}\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    calendar_store.upsert_event(workspace.scope(principal.id), CalendarEvent(
        principal_id=principal.id, account_id=account.id, remote_id=remote_id, uid=remote_id, summary=summary,
        start_utc=start, end_utc=start + timedelta(hours=1), reminder_minutes=minutes, rrule=rrule, ics=ics,
        location="Room 4"))


def test_own_minutes_else_default_once_per_occurrence(workspace, ann, ann_local):
    _event(workspace, ann, ann_local, "e1", NOW + timedelta(hours=3), minutes=30)
    _event(workspace, ann, ann_local, "e2", NOW + timedelta(hours=5), summary="Dentist")
    _event(workspace, ann, ann_local, "e3", NOW + timedelta(days=5), summary="Too far")
    assert reminders.sync_meeting_reminders(workspace, ann.id, NOW) == 2
    rows = {r.text.split(" at ")[0]: r for r in rstore.listed(workspace.scope(ann.id))}
    assert rows["Board call"].due_utc == NOW + timedelta(hours=3) - timedelta(minutes=30)
    assert rows["Dentist"].due_utc == NOW + timedelta(hours=5) - timedelta(minutes=reminders.DEFAULT_MEETING_MINUTES)
    assert rows["Board call"].text == "Board call at 10:00 — Room 4"  # 15:00 UTC in New York (EST)
    assert "Too far" not in rows
    # again: nothing new, and a fired one is not made again
    assert reminders.sync_meeting_reminders(workspace, ann.id, NOW) == 0
    reminders.fire(workspace, ann.id, rows["Board call"].id, now=rows["Board call"].due_utc)
    assert reminders.sync_meeting_reminders(workspace, ann.id, rows["Board call"].due_utc) == 0


def test_moved_meeting_cancels_the_old_reminder(workspace, ann, ann_local):
    _event(workspace, ann, ann_local, "e1", NOW + timedelta(hours=3))
    reminders.sync_meeting_reminders(workspace, ann.id, NOW)
    (old,) = rstore.listed(workspace.scope(ann.id))
    _event(workspace, ann, ann_local, "e1", NOW + timedelta(hours=4))
    assert reminders.sync_meeting_reminders(workspace, ann.id, NOW) == 1
    assert rstore.get(workspace.scope(ann.id), old.id).state == "cancelled"
    (new,) = rstore.listed(workspace.scope(ann.id))
    assert new.due_utc == NOW + timedelta(hours=4) - timedelta(minutes=reminders.DEFAULT_MEETING_MINUTES)


def test_recurring_meeting_each_occurrence_in_the_horizon(workspace, ann, ann_local):
    _event(workspace, ann, ann_local, "daily", NOW + timedelta(hours=1), minutes=5, rrule="FREQ=DAILY")
    assert reminders.sync_meeting_reminders(workspace, ann.id, NOW, horizon=timedelta(days=3)) == 3
