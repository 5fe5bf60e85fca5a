"""Graph JSON <-> the domain: messages straight from their JSON fields (no MIME download), events as one iCalendar
text per UID (series master, its exceptions as RECURRENCE-ID overrides, cancelled occurrences as EXDATE) so the shared
recurrence expansion works on Outlook series as on any ``.ics``.
"""
from __future__ import annotations

import base64
import email
import email.policy
import email.utils
import zoneinfo
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from assistant.core.errors import InvalidInput
from assistant.domain import Address, Attachment, CalendarEvent, Message

UTC = UTC

# Selected on message delta: everything a list and the reader need, so a first sync needs no per-message request.
MESSAGE_FIELDS = (
    "subject,from,sender,toRecipients,ccRecipients,receivedDateTime,isRead,flag,hasAttachments,internetMessageId,"
    "conversationId,body,bodyPreview,parentFolderId,isDraft"
)
ROLE_BY_WELL_KNOWN = {
    "inbox": "inbox",
    "sentitems": "sent",
    "drafts": "drafts",
    "deleteditems": "trash",
    "archive": "archive",
    "junkemail": "spam",
}
WELL_KNOWN_BY_ROLE = {role: name for name, role in ROLE_BY_WELL_KNOWN.items()}
ON_DEMAND = Attachment(filename="", content_type="", size=0, part_id="outlook:on-demand")


def truthy(value: Any) -> bool:
    """Graph samples carry ``"isRead": "true"`` as a string now and then."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def parse_graph_time(value: str | None) -> datetime | None:
    """``2016-12-09T20:30:00.0000000`` (seven fraction digits, no zone: UTC here) or ``2018-09-09T03:15:08Z``."""
    if not value:
        return None
    text = value.strip().replace("Z", "")
    if "." in text:
        head, frac = text.split(".", 1)
        text = f"{head}.{frac[:6]}"
    parsed = datetime.fromisoformat(text)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def graph_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _address(value: dict[str, Any] | None) -> Address | None:
    if not value or not isinstance(value.get("emailAddress"), dict):
        return None
    inner = value["emailAddress"]
    return Address(inner.get("name") or "", inner.get("address") or "")


def _addresses(values: list[dict[str, Any]] | None) -> list[Address]:
    return [a for a in (_address(v) for v in values or []) if a is not None]


def message_from_graph(item: dict[str, Any], *, principal_id: int, account_id: int) -> Message:
    body = item.get("body") or {}
    content = body.get("content") or ""
    is_html = (body.get("contentType") or "").lower() == "html"
    flag = item.get("flag") or {}
    return Message(
        principal_id=principal_id,
        account_id=account_id,
        remote_id=item["id"],
        subject=item.get("subject") or "",
        sender=_address(item.get("from")) or _address(item.get("sender")),
        to=_addresses(item.get("toRecipients")),
        cc=_addresses(item.get("ccRecipients")),
        date_utc=parse_graph_time(item.get("receivedDateTime") or item.get("sentDateTime")),
        message_id_header=item.get("internetMessageId") or "",
        folders=[item["parentFolderId"]] if item.get("parentFolderId") else [],
        is_read=truthy(item.get("isRead")),
        is_flagged=flag.get("flagStatus") == "flagged",
        snippet=(item.get("bodyPreview") or "")[:200],
        body_text="" if is_html else content,
        body_html=content if is_html else "",
        attachments=[ON_DEMAND] if truthy(item.get("hasAttachments")) else [],
        remote_thread_id=item.get("conversationId") or "",
    )


def _recipients(header: str | None) -> list[dict[str, Any]]:
    return [
        {"emailAddress": {"name": name, "address": addr}}
        for name, addr in email.utils.getaddresses([header or ""])
        if addr
    ]


def message_to_graph(raw_b64: str) -> tuple[dict[str, Any], str]:
    """A Graph message body for a draft built from base64 RFC 5322 source, and its In-Reply-To."""
    try:
        parsed = email.message_from_bytes(base64.urlsafe_b64decode(raw_b64 + "=" * (-len(raw_b64) % 4)),
                                          policy=email.policy.default)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"the message to send is not valid base64 RFC 5322: {exc}") from exc
    html = parsed.get_body(("html",))
    text = parsed.get_body(("plain",))
    body = {"contentType": "html", "content": html.get_content()} if html is not None else {
        "contentType": "text", "content": text.get_content() if text is not None else ""}
    graph: dict[str, Any] = {
        "subject": str(parsed.get("Subject", "")),
        "body": body,
        "toRecipients": _recipients(parsed.get("To")),
        "ccRecipients": _recipients(parsed.get("Cc")),
        "bccRecipients": _recipients(parsed.get("Bcc")),
    }
    attachments = []
    for part in parsed.iter_attachments():
        payload = part.get_payload(decode=True)  # the decoded bytes, or None
        if not isinstance(payload, bytes):
            payload = b""
        attachments.append({
            "@odata.type": "#microsoft.graph.fileAttachment",
            "name": part.get_filename() or "attachment",
            "contentType": part.get_content_type(),
            "contentBytes": base64.b64encode(payload).decode(),
        })
    if attachments:
        graph["attachments"] = attachments
    return graph, str(parsed.get("In-Reply-To", "") or "").strip()


# -- calendar ---------------------------------------------------------------------------------------------------------
def iana_zone(name: str | None) -> str:
    """An IANA name for a Graph time-zone name (Windows names such as ``Pacific Standard Time`` included)."""
    if not name:
        return "UTC"
    name = name.strip()
    if name in WINDOWS_TO_OLSON:
        return WINDOWS_TO_OLSON[name]
    try:
        zoneinfo.ZoneInfo(name)
        return name
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return "UTC"


_DAYS = {"sunday": "SU", "monday": "MO", "tuesday": "TU", "wednesday": "WE", "thursday": "TH", "friday": "FR",
         "saturday": "SA"}
_WEEK_INDEX = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}


def rrule_from_graph(recurrence: dict[str, Any] | None, zone: zoneinfo.ZoneInfo, start: datetime) -> str:
    if not recurrence:
        return ""
    pattern, rng = recurrence.get("pattern") or {}, recurrence.get("range") or {}
    kind = pattern.get("type", "")
    parts: dict[str, Any] = {}
    interval = int(pattern.get("interval") or 1)
    days = [_DAYS[d.lower()] for d in pattern.get("daysOfWeek") or [] if d.lower() in _DAYS]
    if kind == "daily":
        parts["FREQ"] = "DAILY"
    elif kind == "weekly":
        parts["FREQ"] = "WEEKLY"
        parts["BYDAY"] = ",".join(days)
        if pattern.get("firstDayOfWeek"):
            parts["WKST"] = _DAYS.get(pattern["firstDayOfWeek"].lower(), "SU")
    elif kind in ("absoluteMonthly", "absoluteYearly"):
        parts["FREQ"] = "MONTHLY" if kind == "absoluteMonthly" else "YEARLY"
        parts["BYMONTHDAY"] = str(pattern.get("dayOfMonth") or start.astimezone(zone).day)
        if kind == "absoluteYearly":
            parts["BYMONTH"] = str(pattern.get("month") or start.astimezone(zone).month)
    elif kind in ("relativeMonthly", "relativeYearly"):
        parts["FREQ"] = "MONTHLY" if kind == "relativeMonthly" else "YEARLY"
        index = _WEEK_INDEX.get((pattern.get("index") or "first").lower(), 1)
        parts["BYDAY"] = ",".join(f"{index}{d}" for d in days)
        if kind == "relativeYearly":
            parts["BYMONTH"] = str(pattern.get("month") or start.astimezone(zone).month)
    else:
        return ""
    if interval > 1:
        parts["INTERVAL"] = str(interval)
    if rng.get("type") == "numbered" and rng.get("numberOfOccurrences"):
        parts["COUNT"] = str(rng["numberOfOccurrences"])
    elif rng.get("type") == "endDate" and rng.get("endDate"):
        last_day = date.fromisoformat(rng["endDate"])
        local_start = start.astimezone(zone)
        until = datetime.combine(last_day, local_start.timetz().replace(tzinfo=None), tzinfo=zone).astimezone(UTC)
        parts["UNTIL"] = until.strftime("%Y%m%dT%H%M%SZ")
    order = ["FREQ", "UNTIL", "COUNT", "INTERVAL", "BYMONTH", "BYMONTHDAY", "BYDAY", "WKST"]
    return ";".join(f"{k}={parts[k]}" for k in order if parts.get(k))


def zoned_time(value: dict[str, Any] | None) -> datetime | None:
    """A Graph ``dateTimeTimeZone`` ({"dateTime", "timeZone"}, Windows or IANA zone names) as an aware UTC time."""
    if not value or not value.get("dateTime"):
        return None
    parsed = parse_graph_time(value["dateTime"])
    if parsed is None:  # not reached: the value is not empty
        return None
    naive = parsed.replace(tzinfo=None)
    return naive.replace(tzinfo=zoneinfo.ZoneInfo(iana_zone(value.get("timeZone")))).astimezone(UTC)


def _event_times(item: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    start = parse_graph_time((item.get("start") or {}).get("dateTime"))
    end = parse_graph_time((item.get("end") or {}).get("dateTime"))
    return start, end


def _vevent(item: dict[str, Any], uid: str, zone: zoneinfo.ZoneInfo) -> icalendar.Event:
    start, end = _event_times(item)
    vevent = icalendar.Event()
    vevent.add("uid", uid)
    vevent.add("summary", item.get("subject") or "")
    if truthy(item.get("isAllDay")) and start is not None:
        vevent.add("dtstart", start.date())
        vevent.add("dtend", (end or start + timedelta(days=1)).date())
    else:
        if start is not None:
            vevent.add("dtstart", start.astimezone(zone))
        if end is not None:
            vevent.add("dtend", end.astimezone(zone))
    location = (item.get("location") or {}).get("displayName") or ""
    if location:
        vevent.add("location", location)
    body = item.get("body") or {}
    if body.get("content") and (body.get("contentType") or "").lower() == "text":
        vevent.add("description", body["content"])
    if item.get("lastModifiedDateTime"):
        vevent.add("dtstamp", parse_graph_time(item["lastModifiedDateTime"]))
    else:
        vevent.add("dtstamp", datetime(2000, 1, 1, tzinfo=UTC))
    return vevent


def event_from_graph(
    item: dict[str, Any],
    *,
    principal_id: int,
    account_id: int,
    exceptions: list[dict[str, Any]] | None = None,
    cancelled: list[datetime] | None = None,
) -> CalendarEvent:
    """One CalendarEvent for a single event or a series master (with its exceptions and cancelled occurrences)."""
    zone_name = iana_zone(
        ((item.get("recurrence") or {}).get("range") or {}).get("recurrenceTimeZone") or item.get("originalStartTimeZone")
    )
    zone = zoneinfo.ZoneInfo(zone_name)
    uid = item.get("iCalUId") or item["id"]
    start, end = _event_times(item)
    master = _vevent(item, uid, zone)
    rrule = ""
    if item.get("type") == "seriesMaster" and start is not None:
        rrule = rrule_from_graph(item.get("recurrence"), zone, start)
        if rrule:
            master.add("rrule", icalendar.vRecur.from_ical(rrule))
            for when in cancelled or []:
                master.add("exdate", when.astimezone(zone) if not truthy(item.get("isAllDay")) else when.date())
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Assistant//Outlook connector//EN")
    calendar.add("version", "2.0")
    calendar.add_component(master)
    for exception in exceptions or []:
        override = _vevent(exception, uid, zone)
        original = parse_graph_time(exception.get("originalStart"))
        if original is not None:
            override.add("recurrence-id", original.astimezone(zone) if not truthy(item.get("isAllDay")) else original.date())
            calendar.add_component(override)
    calendar.add_missing_timezones()
    all_day = truthy(item.get("isAllDay"))
    reminder = item.get("reminderMinutesBeforeStart") if truthy(item.get("isReminderOn")) else None
    body = item.get("body") or {}
    return CalendarEvent(
        principal_id=principal_id,
        account_id=account_id,
        remote_id=item["id"],
        uid=uid,
        summary=item.get("subject") or "",
        start_utc=None if all_day else start,
        end_utc=None if all_day else end,
        all_day=all_day,
        start_date=start.date() if all_day and start else None,
        end_date=end.date() if all_day and end else None,
        timezone=zone_name,
        location=(item.get("location") or {}).get("displayName") or "",
        description=body.get("content") or "" if (body.get("contentType") or "").lower() == "text" else "",
        rrule=rrule,
        ics=calendar.to_ical().decode(),
        reminder_minutes=reminder if isinstance(reminder, int) else None,
    )


def event_to_graph(ics_text: str) -> dict[str, Any]:
    """A Graph event body from VCALENDAR text with one UID (the master, or the only VEVENT)."""
    try:
        calendar = icalendar.Calendar.from_ical(ics_text)
    except ValueError as exc:
        raise InvalidInput(f"the event is not valid iCalendar: {' '.join(str(exc).split())}") from exc
    events = [c for c in calendar.walk("VEVENT") if "RECURRENCE-ID" not in c]
    if not events:
        raise InvalidInput("the event has no VEVENT")
    vevent = events[0]
    start = vevent.decoded("dtstart")
    end = vevent.decoded("dtend") if "DTEND" in vevent else None
    body: dict[str, Any] = {"subject": str(vevent.get("summary", ""))}
    if isinstance(start, datetime):
        body["start"] = _graph_datetime(start)
        body["end"] = _graph_datetime(end if isinstance(end, datetime) else start + timedelta(hours=1))
        body["isAllDay"] = False
    else:
        end = end or start + timedelta(days=1)
        body["start"] = {"dateTime": f"{start.isoformat()}T00:00:00", "timeZone": "UTC"}
        body["end"] = {"dateTime": f"{end.isoformat()}T00:00:00", "timeZone": "UTC"}
        body["isAllDay"] = True
    if vevent.get("location"):
        body["location"] = {"displayName": str(vevent.get("location"))}
    if vevent.get("description"):
        body["body"] = {"contentType": "text", "content": str(vevent.get("description"))}
    if "RRULE" in vevent:
        recurrence = _graph_recurrence(vevent, start)
        if recurrence:
            body["recurrence"] = recurrence
    return body


def _graph_datetime(value: datetime) -> dict[str, str]:
    """Wall-clock time in its IANA zone when it has one (Graph keeps DST right for series); floating times as UTC."""
    key = getattr(value.tzinfo, "key", None)
    if value.tzinfo is None:
        return {"dateTime": value.isoformat(), "timeZone": "UTC"}
    if key:
        return {"dateTime": value.replace(tzinfo=None).isoformat(), "timeZone": key}
    return {"dateTime": value.astimezone(UTC).replace(tzinfo=None).isoformat(), "timeZone": "UTC"}


_DAY_NAMES = {v: k for k, v in _DAYS.items()}


def _graph_recurrence(vevent: Any, start: date | datetime) -> dict[str, Any] | None:
    rule = vevent["RRULE"]
    freq = (rule.get("FREQ") or [""])[0]
    interval = int((rule.get("INTERVAL") or [1])[0])
    days = [_DAY_NAMES.get(str(d)[-2:], "monday") for d in rule.get("BYDAY") or []]
    start_day = start.date() if isinstance(start, datetime) else start
    pattern: dict[str, Any] = {"interval": interval}
    if freq == "DAILY":
        pattern["type"] = "daily"
    elif freq == "WEEKLY":
        pattern.update(type="weekly", daysOfWeek=days or [start_day.strftime("%A").lower()])
    elif freq == "MONTHLY":
        pattern.update(type="absoluteMonthly", dayOfMonth=int((rule.get("BYMONTHDAY") or [start_day.day])[0]))
    elif freq == "YEARLY":
        pattern.update(type="absoluteYearly", dayOfMonth=start_day.day, month=start_day.month)
    else:
        return None
    rng: dict[str, Any] = {"type": "noEnd", "startDate": start_day.isoformat()}
    if rule.get("COUNT"):
        rng.update(type="numbered", numberOfOccurrences=int(rule["COUNT"][0]))
    elif rule.get("UNTIL"):
        until = rule["UNTIL"][0]
        rng.update(type="endDate", endDate=(until.date() if isinstance(until, datetime) else until).isoformat())
    return {"pattern": pattern, "range": rng}
