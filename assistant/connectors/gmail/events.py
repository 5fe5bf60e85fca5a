"""Google Calendar events <-> :class:`~assistant.domain.CalendarEvent` (one per iCalendar UID).

Google lists a recurring series as its master (with ``recurrence`` lines) plus one resource per exception (with
``recurringEventId`` and ``originalStartTime``); a cancelled exception is an occurrence removed. We keep all of them as
one ``ics`` text per UID (master, RECURRENCE-ID overrides, EXDATEs, VTIMEZONEs) so the common expansion code shows them.
"""
from __future__ import annotations

import base64
import hashlib
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar

from assistant.core.errors import InvalidInput
from assistant.domain import CalendarEvent

PRODID = "-//Assistant//Google Calendar connector//EN"
RECURRENCE_PROPERTIES = ("RRULE", "EXRULE", "RDATE", "EXDATE")


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _when(value: dict[str, Any], default_zone: str) -> date | datetime:
    """A Google ``start``/``end``/``originalStartTime`` as a date or an aware datetime in the event's own zone."""
    if "date" in value and "dateTime" not in value:
        return date.fromisoformat(value["date"])
    moment = datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00"))
    zone = _zone(value.get("timeZone")) or _zone(default_zone)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone or UTC)
    return moment.astimezone(zone) if zone else moment


def _utc(value: date | datetime, zone_name: str) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.combine(value, time(0), _zone(zone_name) or UTC).astimezone(UTC)


def _vevent(resource: dict[str, Any], calendar_zone: str) -> icalendar.Event:
    component = icalendar.Event()
    component.add("uid", resource["iCalUID"])
    if resource.get("summary"):
        component.add("summary", resource["summary"])
    if resource.get("location"):
        component.add("location", resource["location"])
    if resource.get("description"):
        component.add("description", resource["description"])
    component.add("sequence", int(resource.get("sequence", 0)))
    component.add("dtstart", _when(resource["start"], calendar_zone))
    if resource.get("end"):
        component.add("dtend", _when(resource["end"], calendar_zone))
    if resource.get("status") in ("tentative", "confirmed", "cancelled"):
        component.add("status", resource["status"].upper())
    if resource.get("originalStartTime"):
        component.add("recurrence-id", _when(resource["originalStartTime"], calendar_zone))
    lines = [line for line in resource.get("recurrence", []) if line.upper().startswith(RECURRENCE_PROPERTIES)]
    if lines:
        parsed = icalendar.Event.from_ical("BEGIN:VEVENT\r\n" + "\r\n".join(lines) + "\r\nEND:VEVENT\r\n")
        for name, value in parsed.property_items(recursive=False):
            if name in RECURRENCE_PROPERTIES:
                component.add(name, value)
    return component


def to_calendar_event(components: list[dict[str, Any]], *, calendar_zone: str, principal_id: int, account_id: int,
                      calendar_id: str) -> CalendarEvent | None:
    """One CalendarEvent from every Google resource sharing an iCalUID; ``None`` when the series itself is gone."""
    master = next((c for c in components if not c.get("recurringEventId")), None)
    if master is None or master.get("status") == "cancelled":
        return None
    if "start" not in master:
        raise InvalidInput(f"event {master.get('id')!r} has no start time")
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    master_component = _vevent(master, calendar_zone)
    calendar.add_component(master_component)
    for exception in components:
        if exception is master or not exception.get("originalStartTime"):
            continue
        if exception.get("status") == "cancelled":
            master_component.add("exdate", _when(exception["originalStartTime"], calendar_zone))
        elif "start" in exception:
            calendar.add_component(_vevent(exception, calendar_zone))
    calendar.add_missing_timezones()

    zone = master["start"].get("timeZone") or calendar_zone
    start = _when(master["start"], calendar_zone)
    end = _when(master.get("end", master["start"]), calendar_zone)
    all_day = not isinstance(start, datetime)
    rrule = next((line.split(":", 1)[1] for line in master.get("recurrence", [])
                  if line.upper().startswith("RRULE")), "")
    overrides = (master.get("reminders") or {}).get("overrides") or []
    return CalendarEvent(
        principal_id=principal_id, account_id=account_id, remote_id=master["id"], uid=master["iCalUID"],
        summary=master.get("summary", ""), start_utc=_utc(start, zone), end_utc=_utc(end, zone), all_day=all_day,
        start_date=start if all_day else None, end_date=end if all_day else None, timezone=zone,
        location=master.get("location", ""), description=master.get("description", ""), rrule=rrule,
        ics=calendar.to_ical().decode("utf-8"), calendar_id=calendar_id,
        reminder_minutes=overrides[0].get("minutes") if overrides else None,
    )


def _google_when(value: Any, calendar_zone: str) -> dict[str, str]:
    if isinstance(value, datetime):
        if value.tzinfo is None:  # floating time: the calendar's own zone
            return {"dateTime": value.isoformat(), "timeZone": calendar_zone}
        key = getattr(value.tzinfo, "key", None)
        out = {"dateTime": value.isoformat()}
        if key:
            out["timeZone"] = key
        return out
    return {"date": value.isoformat()}


def to_google_event(ics_text: str, calendar_zone: str) -> dict[str, Any]:
    """The Google resource for the master VEVENT of an ``ics`` text with one UID (overrides are not sent)."""
    try:
        calendar = icalendar.Calendar.from_ical(ics_text)
    except ValueError as exc:
        raise InvalidInput(f"unreadable event: {exc}") from exc
    masters = [c for c in calendar.walk("VEVENT") if "RECURRENCE-ID" not in c]
    if not masters or "DTSTART" not in masters[0]:
        raise InvalidInput("the event has no VEVENT with a start time")
    master = masters[0]
    start = master.decoded("DTSTART")
    if "DTEND" in master:
        end = master.decoded("DTEND")
    elif "DURATION" in master:
        end = start + master.decoded("DURATION")
    else:
        end = start
    body: dict[str, Any] = {
        "summary": str(master.get("SUMMARY", "")),
        "start": _google_when(start, calendar_zone),
        "end": _google_when(end, calendar_zone),
    }
    if master.get("UID"):
        body["iCalUID"] = str(master["UID"])
    for name, target in (("LOCATION", "location"), ("DESCRIPTION", "description")):
        if master.get(name):
            body[target] = str(master[name])
    recurrence = [str(line) for line in master.content_lines() if str(line).upper().startswith(RECURRENCE_PROPERTIES)]
    if recurrence:
        body["recurrence"] = recurrence
    return body


def event_id_for(idempotency_key: str) -> str:
    """A Google event id (base32hex, a-v0-9) derived from the outbox key: inserting it twice gives 409, not a copy."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).digest()
    return base64.b32hexencode(digest).decode("ascii").rstrip("=").lower()
