from datetime import UTC, datetime, time, timedelta

import pytest

from assistant.calendar.slots import free_slots
from assistant.core import timezones
from assistant.core.errors import InvalidInput
from assistant.domain import Account, BusinessHours, Principal
from assistant.store import Store
from assistant.store import calendar as calendar_store
from assistant.sync import actions

UTC = UTC


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "ws")
    yield s
    s.close()


def principal(store, name, zone, hours=BusinessHours()):
    p = store.add_principal(Principal(name=name, timezone=zone, addresses=[f"{name}@x.example"], business_hours=hours))
    a = store.add_account(Account(principal_id=p.id, kind="local", address=f"{name}@x.example"))
    return p, a


def local(slot, zone):
    return tuple(timezones.in_zone(t, zone) for t in slot)


def assert_inside_business_hours(slots, p):
    for slot in slots:
        s, e = local(slot, p.timezone)
        assert s.isoweekday() in p.business_hours.days
        assert s.date() == e.date() or e.time() == time(0)
        assert p.business_hours.start <= s.time() and e.time() <= p.business_hours.end, (s, e)


def test_slots_skip_events_and_weekends(store):
    p, a = principal(store, "ann", "America/New_York")
    zone = timezones.get_zone(p.timezone)
    friday = datetime(2026, 3, 6, 9, tzinfo=zone)
    actions.create_event(store, p.id, a.id, summary="Busy morning", start=friday, end=friday.replace(hour=16))
    now = datetime(2026, 3, 6, 8, tzinfo=zone)
    slots = free_slots(store.scope(p.id), now, 4, timedelta(hours=1), now=now)
    assert [local(s, p.timezone)[0].strftime("%a %H:%M") for s in slots] == [
        "Fri 16:00", "Mon 09:00", "Mon 10:00", "Mon 11:00"]
    assert_inside_business_hours(slots, p)


def test_spring_forward_week_keeps_nine_o_clock_local(store):
    p, _ = principal(store, "ann", "America/New_York")
    # Friday 6 March 2026, 16:30 New York: the next slots are on Monday 9 March, after the switch to EDT on the 8th.
    now = datetime(2026, 3, 6, 21, 30, tzinfo=UTC)
    slots = free_slots(store.scope(p.id), now, 2, timedelta(minutes=30), now=now)
    assert slots[0] == (datetime(2026, 3, 6, 21, 30, tzinfo=UTC), datetime(2026, 3, 6, 22, tzinfo=UTC))  # 16:30 EST
    assert slots[1][0] == datetime(2026, 3, 9, 13, tzinfo=UTC)  # 09:00 EDT is 13:00 UTC, not 14:00
    assert_inside_business_hours(slots, p)


def test_fall_back_week_and_a_repeated_hour_in_business_hours(store):
    hours = BusinessHours(time(0, 30), time(3, 0), (7,))  # a Sunday night shift spanning the repeated hour
    p, _ = principal(store, "ann", "America/New_York", hours)
    now = datetime(2026, 10, 31, 12, tzinfo=UTC)
    slots = free_slots(store.scope(p.id), now, 10, timedelta(minutes=30), now=now)
    # 1 November 2026 00:30 EDT = 04:30 UTC; 03:00 EST = 08:00 UTC: the night is 3.5 hours long, 7 slots
    assert len([s for s in slots if s[0].date() == datetime(2026, 11, 1).date()]) == 7
    assert slots[0][0] == datetime(2026, 11, 1, 4, 30, tzinfo=UTC)
    assert all(b[0] >= a[1] for a, b in zip(slots, slots[1:], strict=False))


def test_tokyo_and_new_york_get_their_own_working_days(store):
    ann, _ = principal(store, "ann", "America/New_York")
    ken, _ = principal(store, "ken", "Asia/Tokyo")
    now = datetime(2026, 3, 9, 0, tzinfo=UTC)  # Monday 09:00 in Tokyo, Sunday 20:00 in New York
    tokyo = free_slots(store.scope(ken.id), now, 20, timedelta(hours=1), now=now)
    new_york = free_slots(store.scope(ann.id), now, 20, timedelta(hours=1), now=now)
    assert tokyo[0][0] == now
    assert new_york[0][0] == datetime(2026, 3, 9, 13, tzinfo=UTC)
    assert_inside_business_hours(tokyo, ken)
    assert_inside_business_hours(new_york, ann)
    assert not set(tokyo) & set(new_york)  # Tokyo's day is New York's night


def test_a_weekly_series_blocks_every_week_and_its_exception_frees_one(store):
    p, a = principal(store, "ann", "America/New_York")
    source = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:w@t\r\nDTSTAMP:20260101T000000Z\r\n"
        b"DTSTART;TZID=America/New_York:20260302T090000\r\nDTEND;TZID=America/New_York:20260302T170000\r\n"
        b"RRULE:FREQ=DAILY\r\nEXDATE;TZID=America/New_York:20260310T090000\r\nSUMMARY:Booked\r\n"
        b"END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    from assistant.calendar import ics

    events, problems = ics.parse_calendar(source, principal_id=p.id, account_id=a.id)
    assert problems == []
    events[0].remote_id = "w"
    calendar_store.upsert_event(store.scope(p.id), events[0])
    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    slots = free_slots(store.scope(p.id), now, 3, timedelta(hours=2), now=now)
    assert {local(s, p.timezone)[0].date().isoformat() for s in slots} == {"2026-03-10"}


def test_bad_requests_are_user_errors(store):
    p, _ = principal(store, "ann", "America/New_York", BusinessHours(time(9), time(9)))
    now = datetime(2026, 3, 2, tzinfo=UTC)
    with pytest.raises(InvalidInput):
        free_slots(store.scope(p.id), now, 1, timedelta(hours=1), now=now)
    with pytest.raises(InvalidInput):
        free_slots(store.scope(p.id), now, 1, timedelta(0), now=now)
    assert free_slots(store.scope(p.id), now, 0, timedelta(hours=1), now=now) == []
