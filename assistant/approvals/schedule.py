"""Reading a send-later time: "tomorrow 9:00", "today 17:30", "in 2 hours", "2026-11-24 09:00" or ISO 8601 with an
offset, in the principal's zone, the assistant's, or the recipient's ("their time")."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from assistant.core import timezones
from assistant.core.errors import InvalidInput
from assistant.domain import Draft
from assistant.store import Store

_RELATIVE_DAY = re.compile(r"^(today|tomorrow)\s+(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$", re.IGNORECASE)
_IN = re.compile(r"^in\s+(\d+)\s*(minutes?|mins?|hours?|h|days?)$", re.IGNORECASE)


def zone_for(store: Store, d: Draft, zone: str) -> str:
    """``principal`` (default), ``assistant``, ``recipient``/``their`` or an IANA name."""
    zone = (zone or "principal").strip()
    if zone == "principal":
        return store.principal(d.principal_id).timezone
    if zone == "assistant":
        return timezones.assistant_zone_name()
    if zone in ("recipient", "their", "theirs"):
        wanted = {a.email.lower() for a in d.to}
        for p in store.principals():
            if wanted & {a.lower() for a in p.addresses}:
                return p.timezone
        raise InvalidInput("the recipient's time zone is not known here: give it as an IANA name, e.g. Europe/Paris")
    return timezones.validate(zone)


def parse_send_at(text: str, zone_name: str, now: datetime) -> datetime:
    text = text.strip()
    m = _IN.match(text)
    if m:
        n, unit = int(m.group(1)), m.group(2).lower()
        delta = timedelta(days=n) if unit.startswith("d") else timedelta(hours=n) if unit.startswith("h") \
            else timedelta(minutes=n)
        return now + delta
    m = _RELATIVE_DAY.match(text)
    if m:
        hour, minute = int(m.group(2)), int(m.group(3) or 0)
        if m.group(4):
            hour = hour % 12 + (12 if m.group(4).lower() == "pm" else 0)
        if not (0 <= hour < 24 and 0 <= minute < 60):
            raise InvalidInput(f"cannot read the time {text!r}")
        day = timezones.in_zone(now, zone_name).date() + timedelta(days=1 if m.group(1).lower() == "tomorrow" else 0)
        return timezones.local_to_utc(datetime(day.year, day.month, day.day, hour, minute), zone_name)
    return timezones.parse_when(text, zone_name)
