"""Time-zone handling: one place that decides which zone database is used and how user input is read.

The OS database can be years behind; the ``tzdata`` package is kept current, so we prefer it (API-NOTES: time-zone rules).
"""
from __future__ import annotations

import os
import zoneinfo
from datetime import UTC as UTC  # re-exported: ``from assistant.core.timezones import UTC``
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import overload

from assistant.core.errors import UnknownTimeZone

_configured = False


def configure() -> None:
    """Make zoneinfo read the ``tzdata`` package rather than a possibly stale system database."""
    global _configured
    if _configured:
        return
    try:
        import tzdata  # noqa: F401

        # Read the package's files directly when it is unpacked (pip installs it so): zoneinfo's own route to tzdata,
        # importlib.resources, costs ~20 ms of imports at the start of every command. Same files, same zones.
        folder = os.path.join(os.path.dirname(tzdata.__file__), "zoneinfo")
        zoneinfo.reset_tzpath(to=[folder] if os.path.isdir(folder) else [])
    except ImportError:  # pragma: no cover - tzdata is a dependency
        pass
    get_zone.cache_clear()
    _configured = True


def uses_tzdata_package() -> bool:
    """Whether zones come from the ``tzdata`` package (its folder, or importlib.resources), not the OS's database."""
    try:
        import tzdata
    except ImportError:  # pragma: no cover - tzdata is a dependency
        return False
    return zoneinfo.TZPATH in ((), (os.path.join(os.path.dirname(tzdata.__file__), "zoneinfo"),))


def tzdata_version() -> str:
    try:
        import tzdata

        return getattr(tzdata, "IANA_VERSION", "unknown")
    except ImportError:  # pragma: no cover
        return "system"


@lru_cache(maxsize=256)
def get_zone(name: str) -> zoneinfo.ZoneInfo:
    if not name or "\x00" in name:
        raise UnknownTimeZone(f"unknown time zone {name!r}: use an IANA name such as 'America/New_York'")
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise UnknownTimeZone(f"unknown time zone {name!r}: use an IANA name such as 'America/New_York'") from None


def validate(name: str) -> str:
    get_zone(name)
    return name


def now_utc() -> datetime:
    return datetime.now(UTC)


def to_utc(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        raise ValueError("naive datetime")
    return dt.astimezone(UTC)


def from_epoch(seconds: int | float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def from_epoch_required(seconds: int | float) -> datetime:
    """``from_epoch`` for a value that is never NULL (a ``NOT NULL`` column)."""
    return datetime.fromtimestamp(seconds, UTC)


@overload
def to_epoch(dt: datetime) -> int: ...
@overload
def to_epoch(dt: None) -> None: ...
@overload
def to_epoch(dt: datetime | None) -> int | None: ...
def to_epoch(dt: datetime | None) -> int | None:
    return None if dt is None else int(to_utc(dt).timestamp())


def local_to_utc(naive: datetime, zone_name: str) -> datetime:
    """Read a wall-clock time in a zone.

    A time in the spring-forward gap does not exist; we move it forward by the gap (09:30 in a skipped 09:00-10:00 hour
    becomes 10:30), as calendar apps do. A time in the autumn repeat is ambiguous; we take the first occurrence (fold=0).
    """
    # PEP 495: fold=0 applies the offset from before a transition, which does both of the above.
    return naive.replace(tzinfo=get_zone(zone_name), fold=0).astimezone(UTC)


def parse_when(text: str, zone_name: str) -> datetime:
    """Parse ``WHEN``: ISO 8601 with an offset, or ``YYYY-MM-DD HH:MM`` meaning the given zone."""
    text = text.strip()
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UnknownTimeZone(
            f"cannot read the time {text!r}: use ISO 8601 with an offset, or 'YYYY-MM-DD HH:MM' in the principal's zone"
        ) from None
    if dt.tzinfo is None:
        return local_to_utc(dt, zone_name)
    return dt.astimezone(UTC)


def in_zone(dt: datetime, zone_name: str) -> datetime:
    return dt.astimezone(get_zone(zone_name))


def day_bounds_utc(day: date, zone_name: str) -> tuple[datetime, datetime]:
    """The UTC instants at which ``day`` starts and ends in a zone (23 or 25 hours long across DST; Apia skipped a day)."""
    start = local_to_utc(datetime.combine(day, time(0, 0)), zone_name)
    end = local_to_utc(datetime.combine(day + timedelta(days=1), time(0, 0)), zone_name)
    return start, end


def assistant_zone_name() -> str:
    """The laptop's zone as an IANA name when we can tell, else UTC."""
    import os

    tz = os.environ.get("TZ")
    if tz:
        try:
            get_zone(tz.lstrip(":"))
            return tz.lstrip(":")
        except UnknownTimeZone:
            pass
    try:
        link = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in link:
            name = link.split("zoneinfo/", 1)[1]
            get_zone(name)
            return name
    except (OSError, UnknownTimeZone):
        pass
    return "UTC"


def iso_utc(dt: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, as every ``*_utc`` field of the JSON output and the CSV exports."""
    return None if dt is None else to_utc(dt).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_local(dt: datetime | None, zone: str) -> str | None:
    """ISO 8601 with the zone's offset, as every ``*_local`` field."""
    return None if dt is None else in_zone(dt, zone).isoformat(timespec="seconds")
