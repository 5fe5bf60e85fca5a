"""Today's timeline as plain rows: each principal's business hours in the assistant's day (across midnight and DST
changes), their meetings at their instants, and every row Today lists in its principal's lane."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from assistant import reminders
from assistant.core import timezones
from assistant.domain import Account, BusinessHours, CalendarEvent, Principal
from assistant.reminders.timeline import day_timeline, working_spans
from assistant.store import calendar as calendar_store

EVERY_DAY = BusinessHours(time(9, 0), time(17, 0), (1, 2, 3, 4, 5, 6, 7))


def _add(workspace, name, zone, hours=None):
    p = workspace.add_principal(Principal(name, zone, [f"{name.lower()}@example.org"],
                                          business_hours=hours or BusinessHours()))
    a = workspace.add_account(Account(p.id, "local", f"{name.lower()}@example.org"))
    return p, a


def _clock(spans, zone):
    """Spans as wall-clock times on the assistant's clock, for reading the assertions."""
    return [(f"{timezones.in_zone(s, zone):%H:%M}", f"{timezones.in_zone(e, zone):%H:%M}") for s, e in spans]


def _lanes(timeline):
    return {lane.name: lane for lane in timeline.lanes}


def test_business_hours_of_tokyo_and_new_york_in_a_london_assistants_day(workspace):
    _add(workspace, "Ann", "America/New_York")
    _add(workspace, "Kenji", "Asia/Tokyo", BusinessHours(time(9, 30), time(18, 30)))
    now = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)  # a Tuesday; London on GMT, New York on EST
    timeline = day_timeline(workspace, now, "Europe/London")
    assert [lane.name for lane in timeline.lanes] == ["Ann", "Kenji"]
    lanes = _lanes(timeline)
    # Kenji's Tuesday 09:30-18:30 in Tokyo is 00:30-09:30 in London; his Wednesday starts after London's midnight
    assert _clock(lanes["Kenji"].working, "Europe/London") == [("00:30", "09:30")]
    assert _clock(lanes["Ann"].working, "Europe/London") == [("14:00", "22:00")]
    assert (timeline.start_utc, timeline.end_utc) == (datetime(2026, 3, 3, tzinfo=UTC), datetime(2026, 3, 4, tzinfo=UTC))
    # 06:00-22:00 by default, widened to the hour of anything on it
    assert _clock([timeline.shown_range()], "Europe/London") == [("06:00", "22:00")]


def test_business_hours_across_the_assistants_midnight_and_off_on_the_principals_weekend(workspace):
    _add(workspace, "Kenji", "Asia/Tokyo")
    # New York, Monday 2 March 2026: Kenji's Monday 14:00-17:00 is 00:00-03:00, his Tuesday from 09:00 is 19:00 on
    monday = day_timeline(workspace, datetime(2026, 3, 2, 17, 0, tzinfo=UTC), "America/New_York")
    assert _clock(monday.lanes[0].working, "America/New_York") == [("00:00", "03:00"), ("19:00", "00:00")]
    assert monday.lanes[0].working[-1][1] == monday.end_utc
    # Friday: his Saturday, which would begin at 19:00 New York time, is not a working day
    friday = day_timeline(workspace, datetime(2026, 3, 6, 17, 0, tzinfo=UTC), "America/New_York")
    assert _clock(friday.lanes[0].working, "America/New_York") == [("00:00", "03:00")]
    # hours that run over midnight on the principal's own clock (a night shift)
    night = working_spans(BusinessHours(time(22, 0), time(6, 0), (1,)), "Europe/London",
                          datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 4, tzinfo=UTC))
    assert night == [(datetime(2026, 3, 2, 22, 0, tzinfo=UTC), datetime(2026, 3, 3, 6, 0, tzinfo=UTC))]


def test_the_assistants_dst_day_is_23_hours_and_each_principal_keeps_their_own_clock(workspace):
    _add(workspace, "Ann", "America/New_York", EVERY_DAY)
    _add(workspace, "Kenji", "Asia/Tokyo", EVERY_DAY)
    # London springs forward at 01:00 UTC on Sunday 29 March 2026 (New York did on 8 March; Tokyo never does)
    timeline = day_timeline(workspace, datetime(2026, 3, 29, 12, 0, tzinfo=UTC), "Europe/London")
    assert timeline.end_utc - timeline.start_utc == timedelta(hours=23)
    lanes = _lanes(timeline)
    # Kenji's 09:00-17:00 is 00:00-08:00 UTC: 00:00 GMT to 09:00 BST on the assistant's clock, eight hours long
    (kenji,) = lanes["Kenji"].working
    assert kenji == (datetime(2026, 3, 29, 0, 0, tzinfo=UTC), datetime(2026, 3, 29, 8, 0, tzinfo=UTC))
    assert _clock([kenji], "Europe/London") == [("00:00", "09:00")]
    # Ann's 09:00-17:00 EDT is 14:00-22:00 BST today, 13:00-21:00 GMT yesterday
    assert _clock(lanes["Ann"].working, "Europe/London") == [("14:00", "22:00")]
    yesterday = day_timeline(workspace, datetime(2026, 3, 28, 12, 0, tzinfo=UTC), "Europe/London")
    assert _clock(_lanes(yesterday)["Ann"].working, "Europe/London") == [("13:00", "21:00")]
    # the shown hours are 06:00-22:00 BST: 16 hours
    start, end = timeline.shown_range()
    assert (start, end) == (datetime(2026, 3, 29, 5, 0, tzinfo=UTC), datetime(2026, 3, 29, 21, 0, tzinfo=UTC))


def test_a_principals_dst_day_in_a_new_york_assistants_day(workspace):
    _add(workspace, "Kenji", "Asia/Tokyo", EVERY_DAY)
    # New York springs forward at 02:00 on Sunday 8 March 2026: Kenji's Sunday ends at 08:00 UTC, 04:00 EDT, three
    # hours after New York's midnight; his Monday opens at 20:00 EDT (it would have been 19:00 EST the day before)
    timeline = day_timeline(workspace, datetime(2026, 3, 8, 17, 0, tzinfo=UTC), "America/New_York")
    first, second = timeline.lanes[0].working
    assert _clock([first, second], "America/New_York") == [("00:00", "04:00"), ("20:00", "00:00")]
    assert first[1] - first[0] == timedelta(hours=3)


def _weekly_new_york_meeting(workspace, principal, account):
    ics = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:weekly-1\r\n"
           "DTSTART;TZID=America/New_York:20260302T103000\r\nDTEND;TZID=America/New_York:20260302T113000\r\n"
           "RRULE:FREQ=WEEKLY;COUNT=6\r\nSUMMARY:Partners' meeting\r\nLOCATION:Boardroom\r\nEND:VEVENT\r\n"
           "END:VCALENDAR\r\n")
    start = timezones.local_to_utc(datetime(2026, 3, 2, 10, 30), "America/New_York")
    return calendar_store.upsert_event(workspace.scope(principal.id), CalendarEvent(
        principal_id=principal.id, account_id=account.id, remote_id="weekly-1", uid="weekly-1",
        summary="Partners' meeting", start_utc=start, end_utc=start + timedelta(hours=1), rrule="FREQ=WEEKLY;COUNT=6",
        ics=ics, location="Boardroom"))


def test_meetings_at_their_instants_across_the_principals_dst_change_and_items_in_their_lanes(workspace):
    ann, ann_account = _add(workspace, "Ann", "America/New_York")
    kenji, kenji_account = _add(workspace, "Kenji", "Asia/Tokyo")
    _weekly_new_york_meeting(workspace, ann, ann_account)
    all_day = CalendarEvent(principal_id=kenji.id, account_id=kenji_account.id, remote_id="d", uid="d",
                            summary="Holiday", all_day=True, start_date=datetime(2026, 3, 9).date(),
                            end_date=datetime(2026, 3, 10).date(),
                            start_utc=datetime(2026, 3, 9, tzinfo=UTC), end_utc=datetime(2026, 3, 10, tzinfo=UTC))
    calendar_store.upsert_event(workspace.scope(kenji.id), all_day)
    early = timezones.local_to_utc(datetime(2026, 3, 9, 13, 15), "Asia/Tokyo")  # 04:15 in London
    reminder = reminders.add_reminder(workspace, kenji.id, kind="free", text="Call the site", due_utc=early,
                                      now=datetime(2026, 3, 1, tzinfo=UTC))

    # Monday 2 March, both on standard time: 10:30 EST is 15:30 in London
    before = day_timeline(workspace, datetime(2026, 3, 2, 9, 0, tzinfo=UTC), "Europe/London")
    (meeting,) = _lanes(before)["Ann"].meetings
    assert meeting.start_utc == datetime(2026, 3, 2, 15, 30, tzinfo=UTC)
    # Monday 9 March, New York on EDT since Sunday: still 10:30 there, now 14:30 in London
    now = datetime(2026, 3, 9, 3, 0, tzinfo=UTC)
    after = day_timeline(workspace, now, "Europe/London")
    lanes = _lanes(after)
    (meeting,) = lanes["Ann"].meetings
    assert (meeting.start_utc, meeting.end_utc) == (datetime(2026, 3, 9, 14, 30, tzinfo=UTC),
                                                    datetime(2026, 3, 9, 15, 30, tzinfo=UTC))
    assert (meeting.summary, meeting.location) == ("Partners' meeting", "Boardroom")
    assert meeting.link == f"event:{meeting.event_id}@{timezones.to_epoch(meeting.start_utc)}"
    assert lanes["Kenji"].meetings == []  # an all-day event is not a meeting
    # Kenji's reminder is in his lane, and the day is shown from 03:00 (now) to hold it and now
    assert [row["reminder_id"] for row in lanes["Kenji"].items] == [reminder.id]
    assert lanes["Ann"].items == []
    assert _clock([after.shown_range()], "Europe/London") == [("03:00", "22:00")]
    # every row Today lists is in a lane: what the sidebar counts, the timeline shows
    assert sum(len(lane.items) for lane in after.lanes) == len(reminders.today_items(workspace, now))
    # a meeting that runs past the assistant's midnight shows the day to its end
    late = timezones.local_to_utc(datetime(2026, 3, 9, 19, 30), "America/New_York")  # 23:30 in London
    calendar_store.upsert_event(workspace.scope(ann.id), CalendarEvent(
        principal_id=ann.id, account_id=ann_account.id, remote_id="late", uid="late", summary="Late call",
        start_utc=late, end_utc=late + timedelta(hours=1)))
    assert _clock([day_timeline(workspace, now, "Europe/London").shown_range()], "Europe/London") == [("03:00", "00:00")]
    # without meetings, the calendars are not read
    assert all(lane.meetings == [] for lane in day_timeline(workspace, now, "Europe/London", meetings=False).lanes)
