from datetime import UTC, date, datetime, timedelta

import pytest

from assistant.core import timezones
from assistant.core.errors import UnknownTimeZone

UTC = UTC


@pytest.fixture(autouse=True)
def _tzdata():
    timezones.configure()


def test_tzdata_package_is_used():
    assert timezones.tzdata_version()[:2] == "20"
    # the package's own data, not the OS's (read from its folder, or through importlib.resources when it is zipped)
    import zoneinfo

    assert timezones.uses_tzdata_package()
    assert all("tzdata" in path for path in zoneinfo.TZPATH)
    assert zoneinfo.ZoneInfo("Asia/Tokyo").key == "Asia/Tokyo"


def test_unknown_zone_is_a_clear_error():
    with pytest.raises(UnknownTimeZone, match="IANA"):
        timezones.get_zone("Europe/Atlantis")
    with pytest.raises(UnknownTimeZone):
        timezones.get_zone("../../etc/passwd")


def test_spring_forward_gap_moves_forward():
    # 2026-03-08 02:30 does not exist in New York; it is read as 03:30 EDT.
    got = timezones.local_to_utc(datetime(2026, 3, 8, 2, 30), "America/New_York")
    assert got == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert timezones.in_zone(got, "America/New_York").hour == 3


def test_fall_back_ambiguous_takes_first():
    # 2026-11-01 01:30 happens twice in New York; the first (EDT, UTC-4) is taken.
    got = timezones.local_to_utc(datetime(2026, 11, 1, 1, 30), "America/New_York")
    assert got == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


def test_day_lengths_across_transitions():
    start, end = timezones.day_bounds_utc(date(2026, 3, 8), "America/New_York")
    assert end - start == timedelta(hours=23)
    start, end = timezones.day_bounds_utc(date(2026, 11, 1), "America/New_York")
    assert end - start == timedelta(hours=25)
    # Lord Howe shifts by 30 minutes: back in April, forward in October
    start, end = timezones.day_bounds_utc(date(2026, 4, 5), "Australia/Lord_Howe")
    assert end - start == timedelta(hours=24, minutes=30)
    start, end = timezones.day_bounds_utc(date(2026, 10, 4), "Australia/Lord_Howe")
    assert end - start == timedelta(hours=23, minutes=30)


def test_dublin_negative_dst_is_still_summer_plus_one():
    summer = timezones.local_to_utc(datetime(2026, 7, 1, 12, 0), "Europe/Dublin")
    winter = timezones.local_to_utc(datetime(2026, 1, 1, 12, 0), "Europe/Dublin")
    assert summer == datetime(2026, 7, 1, 11, 0, tzinfo=UTC)
    assert winter == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def test_apia_skipped_day():
    # Samoa skipped 2011-12-30 entirely: midnight of the 30th does not exist and lands on the 31st.
    start, end = timezones.day_bounds_utc(date(2011, 12, 29), "Pacific/Apia")
    assert end - start == timedelta(hours=24)
    assert timezones.in_zone(end, "Pacific/Apia").date() == date(2011, 12, 31)


def test_parse_when():
    assert timezones.parse_when("2026-06-01 09:00", "Asia/Tokyo") == datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
    assert timezones.parse_when("2026-06-01T09:00:00-04:00", "Asia/Tokyo") == datetime(2026, 6, 1, 13, 0, tzinfo=UTC)
    assert timezones.parse_when("2026-06-01T09:00:00Z", "Asia/Tokyo") == datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    with pytest.raises(UnknownTimeZone, match="ISO 8601"):
        timezones.parse_when("next tuesday", "UTC")
