from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.calendar.ics import expand, parse_calendar

ICS_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata" / "ics"
ALL_FILES = sorted(ICS_DIR.rglob("*.ics"))
UTC = UTC


def parse(text: str | bytes):
    data = text.encode() if isinstance(text, str) else text
    return parse_calendar(data, principal_id=1, account_id=2, calendar_id="cal")


def cal(*events: str, extra: str = "") -> str:
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + extra + "".join(events) + "END:VCALENDAR\r\n"


def vevent(*lines: str) -> str:
    return "BEGIN:VEVENT\r\n" + "".join(line + "\r\n" for line in lines) + "END:VEVENT\r\n"


def test_the_test_data_is_there():
    assert len(ALL_FILES) > 150


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_real_world_calendar_parses(path: Path):
    events, errors = parse(path.read_bytes())
    assert all("\n" not in e for e in errors)
    assert len({e.remote_id for e in events}) == len(events)
    for event in events:
        assert event.uid == event.remote_id and event.uid
        assert event.start_utc is not None and event.start_utc.tzinfo is not None
        assert event.end_utc >= event.start_utc
        assert event.ics.startswith("BEGIN:VCALENDAR")
        occurrences = expand(event, event.start_utc - timedelta(days=1), event.start_utc + timedelta(days=400))
        assert occurrences, event.summary
        assert all(o.start_utc.tzinfo is not None for o in occurrences)


def test_bom_and_reparse_is_stable():
    path = ICS_DIR / "collective_icalendar" / "calendars__bom_calendar.ics"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    events, errors = parse(path.read_bytes())
    assert errors == []
    body = cal(vevent("UID:a", "DTSTART:20240102T100000Z", "SUMMARY:x"))
    first, _ = parse(b"\xef\xbb\xbf" + body.encode())
    second, _ = parse(body)
    assert first[0].ics == second[0].ics and first[0].start_utc == datetime(2024, 1, 2, 10, tzinfo=UTC)


def test_unknown_tzid_is_read_as_utc_with_a_warning():
    path = ICS_DIR / "collective_icalendar" / "calendars__issue_722_missing_VTIMEZONE_custom.ics"
    events, errors = parse(path.read_bytes())
    assert len(events) == 1
    assert events[0].start_utc == datetime(2014, 8, 29, 8, 0, tzinfo=UTC)
    assert any("CUSTOM_tzid" in e and "UTC" in e for e in errors)


def test_tzid_defined_by_a_vtimezone_in_the_file_is_used():
    path = ICS_DIR / "collective_icalendar" / "calendars__issue_218_bad_tzid.ics"
    events, errors = parse(path.read_bytes())
    assert errors == []
    assert events[0].start_utc == datetime(2017, 2, 28, 12, 0, tzinfo=UTC)  # 23:00 at +11:00
    assert "BEGIN:VTIMEZONE" in events[0].ics


def test_bad_rrule_keeps_the_event_once_and_says_so():
    path = ICS_DIR / "collective_icalendar" / "calendars__issue_1081_invalid_rrule_freq.ics"
    events, errors = parse(path.read_bytes())
    assert [e.summary for e in events] == ["Test Event"]
    assert events[0].rrule == ""
    assert len(errors) == 1 and "recurrence" in errors[0]
    start = events[0].start_utc
    assert len(expand(events[0], start - timedelta(days=1), start + timedelta(days=30))) == 1


def test_broken_file_keeps_the_readable_events():
    text = cal(
        vevent("UID:good", "DTSTART:20240102T100000Z", "SUMMARY:good one"),
        "BEGIN:VTIMEZONE\r\nTZID:Broken\r\nBEGIN:STANDARD\r\nDTSTART:16010101T000000\r\nTZOFFSETFROM:+5744\r\n"
        "TZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n",
        vevent("UID:bad", "DTSTART:2024XX02T100000Z", "SUMMARY:bad one"),
    )
    events, errors = parse(text)
    assert [e.summary for e in events] == ["good one"]
    assert len(errors) >= 2
    assert any("bad one" in e for e in errors)


def test_garbage_gives_one_error_and_no_events():
    events, errors = parse(b"\x00\xff garbage \n not a calendar")
    assert events == [] and len(errors) == 1


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_never_raise(data):
    events, errors = parse(data)
    assert all("\n" not in e for e in errors)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from([
    "UID:x", "DTSTART:20240101T090000Z", "DTSTART;TZID=Nowhere/Land:20240101T090000", "DTSTART;VALUE=DATE:20240101",
    "DTEND:20231231T000000Z", "DURATION:PT1H", "DURATION:garbage", "RRULE:FREQ=WEEKLY;COUNT=3", "RRULE:FREQ=NOPE",
    "EXDATE:20240108T090000Z", "RECURRENCE-ID:20240108T090000Z", "RDATE:junk", "SUMMARY:s", "BEGIN:VALARM",
    "TRIGGER:-PT15M", "END:VALARM",
]), max_size=10))
def test_arbitrary_event_lines_never_raise(lines):
    events, errors = parse(cal(vevent(*lines)))
    for event in events:
        expand(event, datetime(2023, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC))


def test_missing_uid_gets_a_stable_derived_uid():
    text = cal(vevent("DTSTART:20240102T100000Z", "SUMMARY:no uid"))
    (first,), _ = parse(text)
    (second,), _ = parse(text)
    assert first.uid.startswith("generated-") and first.uid == second.uid
    (other,), _ = parse(cal(vevent("DTSTART:20240102T100000Z", "SUMMARY:another")))
    assert other.uid != first.uid


def test_fields_and_reminder():
    text = cal(vevent(
        "UID:f1", "DTSTART;TZID=Europe/Paris:20240610T140000", "DTEND;TZID=Europe/Paris:20240610T153000",
        "SUMMARY:Board meeting", "LOCATION:Room 4", "DESCRIPTION:Quarterly\\, with numbers",
        "BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT30M", "END:VALARM",
    ))
    (event,), errors = parse(text)
    assert errors == []
    assert (event.summary, event.location, event.description) == ("Board meeting", "Room 4", "Quarterly, with numbers")
    assert event.start_utc == datetime(2024, 6, 10, 12, 0, tzinfo=UTC)
    assert event.end_utc == datetime(2024, 6, 10, 13, 30, tzinfo=UTC)
    assert event.timezone == "Europe/Paris" and not event.all_day and event.reminder_minutes == 30
    assert event.calendar_id == "cal" and event.principal_id == 1 and event.account_id == 2


def _weekly(zone: str, first: str, hour: str = "090000") -> list:
    text = cal(vevent(
        "UID:w", f"DTSTART;TZID={zone}:{first}T{hour}", f"DTEND;TZID={zone}:{first}T{int(hour[:2]) + 1:02d}{hour[2:]}",
        "RRULE:FREQ=WEEKLY", "SUMMARY:weekly",
    ))
    (event,), errors = parse(text)
    assert errors == []
    assert event.rrule == "FREQ=WEEKLY"
    return [event]


def test_new_york_weekly_keeps_local_time_across_both_dst_switches():
    (event,) = _weekly("America/New_York", "20260302")
    zone = ZoneInfo("America/New_York")
    occ = expand(event, datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC))
    assert len(occ) == 38
    assert all(o.start_utc.astimezone(zone).hour == 9 for o in occ)
    assert all(o.end_utc - o.start_utc == timedelta(hours=1) for o in occ)
    by_day = {o.start_utc.astimezone(zone).date(): o.start_utc.hour for o in occ}
    assert by_day[date(2026, 3, 2)] == 14  # EST, before 8 March
    assert by_day[date(2026, 3, 9)] == 13  # EDT
    assert by_day[date(2026, 10, 26)] == 13  # still EDT
    assert by_day[date(2026, 11, 2)] == 14  # EST again after 1 November


def test_dublin_negative_dst():
    (event,) = _weekly("Europe/Dublin", "20260105", "100000")
    occ = expand(event, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC))
    zone = ZoneInfo("Europe/Dublin")
    assert all(o.start_utc.astimezone(zone).hour == 10 for o in occ)
    assert {o.start_utc.hour for o in occ} == {9, 10}  # 10:00 IST is 09:00 UTC; 10:00 GMT is 10:00 UTC


def test_lord_howe_half_hour_dst():
    (event,) = _weekly("Australia/Lord_Howe", "20260301", "090000")
    occ = expand(event, datetime(2026, 2, 28, tzinfo=UTC), datetime(2026, 10, 31, tzinfo=UTC))
    zone = ZoneInfo("Australia/Lord_Howe")
    assert all((o.start_utc.astimezone(zone).hour, o.start_utc.astimezone(zone).minute) == (9, 0) for o in occ)
    utc_times = {(o.start_utc.hour, o.start_utc.minute) for o in occ}
    assert utc_times == {(22, 0), (22, 30)}  # +11:00 in summer, +10:30 in winter (previous UTC day)


def test_exdate_and_override():
    text = cal(
        vevent(
            "UID:series", "DTSTART;TZID=America/New_York:20260105T090000", "DURATION:PT30M",
            "RRULE:FREQ=WEEKLY;COUNT=5", "EXDATE;TZID=America/New_York:20260112T090000", "SUMMARY:standup",
        ),
        vevent(
            "UID:series", "RECURRENCE-ID;TZID=America/New_York:20260119T090000",
            "DTSTART;TZID=America/New_York:20260120T150000", "DTEND;TZID=America/New_York:20260120T160000",
            "SUMMARY:standup (moved)", "LOCATION:Hall",
        ),
    )
    (event,), errors = parse(text)
    assert errors == []
    assert event.summary == "standup" and event.ics.count("BEGIN:VEVENT") == 2
    occ = expand(event, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))
    zone = ZoneInfo("America/New_York")
    local = [(o.start_utc.astimezone(zone).strftime("%m-%d %H:%M"), o.summary) for o in occ]
    assert local == [
        ("01-05 09:00", "standup"), ("01-20 15:00", "standup (moved)"), ("01-26 09:00", "standup"),
        ("02-02 09:00", "standup"),
    ]
    moved = occ[1]
    assert moved.end_utc - moved.start_utc == timedelta(hours=1) and moved.location == "Hall"


def test_all_day_event():
    text = cal(vevent("UID:holiday", "DTSTART;VALUE=DATE:20261225", "SUMMARY:Christmas", "RRULE:FREQ=YEARLY"))
    (event,), errors = parse(text)
    assert errors == []
    assert event.all_day and event.start_date == date(2026, 12, 25) and event.end_date == date(2026, 12, 26)
    assert event.start_utc == datetime(2026, 12, 25, tzinfo=UTC)
    occ = expand(event, datetime(2026, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))
    assert [o.start_date for o in occ] == [date(2026, 12, 25), date(2027, 12, 25)]
    assert all(o.all_day and o.end_utc - o.start_utc == timedelta(days=1) for o in occ)


def test_google_birthday_sample_keeps_what_it_can():
    events, errors = parse((ICS_DIR / "icaljs" / "samples__google_birthday.ics").read_bytes())
    assert len(events) >= 1 and all(e.all_day for e in events)
    assert all("\n" not in e for e in errors)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(ALL_FILES), st.data())
def test_damaged_real_calendars_never_raise(path, data):
    raw = bytearray(path.read_bytes()[:20000])
    cut = data.draw(st.integers(0, len(raw)))
    for _ in range(data.draw(st.integers(0, 8))):
        if raw:
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.sampled_from(b":;=\r\n,0Z-T\\\x00\xff"))
    events, errors = parse(bytes(raw[:cut]))
    assert all("\n" not in e for e in errors)
    for event in events:
        expand(event, event.start_utc - timedelta(days=1), event.start_utc + timedelta(days=60))


@pytest.mark.parametrize(
    "alarm, expected",
    [
        (["TRIGGER:-P1D"], 1440),
        (["TRIGGER;RELATED=END:-PT90M"], 30),  # 90 minutes before a one-hour event ends
        (["TRIGGER;VALUE=DATE-TIME:20260302T084500Z"], 75),
        (["TRIGGER:PT5M"], 0),  # after the start: not a reminder ahead of it
    ],
)
def test_reminder_from_valarm_trigger(alarm, expected):
    text = cal(vevent(
        "UID:r", "DTSTART:20260302T100000Z", "DURATION:PT1H", "SUMMARY:r",
        "BEGIN:VALARM", "ACTION:DISPLAY", *alarm, "END:VALARM",
    ))
    (event,), errors = parse(text)
    assert errors == []
    assert event.reminder_minutes == expected
    assert event.end_utc - event.start_utc == timedelta(hours=1)


def test_floating_time_is_read_as_utc_without_a_warning():
    (event,), errors = parse(cal(vevent("UID:f", "DTSTART:20260302T100000", "SUMMARY:floating")))
    assert errors == []
    assert event.start_utc == datetime(2026, 3, 2, 10, tzinfo=UTC) and event.timezone == ""
    assert event.reminder_minutes is None
