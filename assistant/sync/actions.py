"""User actions that change a mailbox or calendar (Mailspring's tasks).

Each applies its local effect and persists the outbox entry in ONE transaction: the user sees the change at once, and the
sync engine carries it to the provider later, however often the network or the process dies in between.
"""
from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from assistant.core import timezones
from assistant.core.errors import InvalidInput, NotFound
from assistant.domain import Address, CalendarEvent, Folder, OutboxEntry
from assistant.mail import compose
from assistant.mail.mime import parse_message
from assistant.store import Store
from assistant.store import calendar as calendar_store
from assistant.store import mail as mail_store
from assistant.sync.engine import STAND_IN_PREFIX


def new_key() -> str:
    return uuid.uuid4().hex


def _enqueue(store: Store, principal_id: int, account_id: int, op: str, payload: dict[str, Any], key: str | None = None
             ) -> OutboxEntry:
    return store.enqueue(OutboxEntry(principal_id, account_id, op, payload, key or new_key()))


def mark_read(store: Store, message_id: int, principal_id: int, read: bool = True) -> OutboxEntry:
    return _set_flags(store, message_id, principal_id, is_read=read)


def set_flagged(store: Store, message_id: int, principal_id: int, flagged: bool = True) -> OutboxEntry:
    return _set_flags(store, message_id, principal_id, is_flagged=flagged)


def _set_flags(store: Store, message_id: int, principal_id: int, **flags: bool) -> OutboxEntry:
    scope = store.scope(principal_id)
    message = mail_store.message(scope, message_id, with_body=False)
    with store.transaction():
        mail_store.set_message_flags(scope, message_id, **flags)
        return _enqueue(store, principal_id, message.account_id, "set-flags", {"remote_id": message.remote_id, **flags})


def move_message(store: Store, message_id: int, principal_id: int, to: str) -> OutboxEntry:
    """Move to a folder (its remote id) or a role ("archive", "trash", "inbox", …)."""
    scope = store.scope(principal_id)
    message = mail_store.message(scope, message_id, with_body=True)
    folders = [f for f in mail_store.folders(scope) if f.account_id == message.account_id]
    target = next((f for f in folders if f.remote_id == to), None) or next((f for f in folders if f.role == to), None)
    if target is None:
        if to not in ("inbox", "archive", "trash", "sent", "drafts", "spam"):
            raise NotFound(f"no folder {to!r} in this account")
        target = Folder(message.account_id, to.capitalize() if to != "inbox" else "INBOX", to.capitalize(), to)
    with store.transaction():
        if not target.id:
            mail_store.upsert_folder(scope, target)
        message.folders = [target.remote_id]
        mail_store.upsert_message(scope, message)
        return _enqueue(store, principal_id, message.account_id, "move",
                        {"remote_id": message.remote_id, "to": to, "local_folder": target.remote_id})


def sent_folder(store: Store, principal_id: int, account_id: int) -> str:
    """The remote id of the account's Sent folder, where the local copy of a queued send goes; made if missing."""
    scope = store.scope(principal_id)
    folder = mail_store.folder_by_role(scope, account_id, "sent")
    if folder is None:
        folder = Folder(account_id, "Sent", "Sent", "sent")
        mail_store.upsert_folder(scope, folder)
    return folder.remote_id


def send_message(
    store: Store,
    principal_id: int,
    account_id: int,
    *,
    to: str | Address | Iterable[str | Address],
    cc: str | Address | Iterable[str | Address] = (),
    subject: str,
    body_text: str,
    in_reply_to: str | None = None,
    attachments: Iterable[str] = (),
) -> OutboxEntry:
    scope = store.scope(principal_id)
    principal = scope.principal
    account = store.account(account_id)
    if account.principal_id != principal_id:
        raise NotFound(f"no account {account_id} for this principal")
    key = new_key()
    parent = mail_store.message_by_header_id(scope, in_reply_to) if in_reply_to else None
    if in_reply_to:
        subject = compose.reply_subject(subject or (parent.subject if parent else ""))
    message_id = compose.message_id_for(key, account.address)
    msg = compose.build_message(
        sender=Address(principal.name, account.address or principal.primary_address),
        to=compose.parse_addresses(to), cc=compose.parse_addresses(cc), subject=subject, body_text=body_text,
        message_id=message_id, in_reply_to=in_reply_to or "",
        references=compose.references_for(parent, in_reply_to or ""), attachments=attachments,
    )
    raw = msg.as_bytes()
    stand_in = f"{STAND_IN_PREFIX}{key}"
    payload = {
        "raw": base64.b64encode(raw).decode("ascii"), "message_id_header": message_id, "local_remote_id": stand_in,
    }
    if parent is not None and parent.remote_thread_id:
        payload["remote_thread_id"] = parent.remote_thread_id
    with store.transaction():
        keep_local_copy(store, principal_id, account_id, raw, stand_in, payload.get("remote_thread_id", ""))
        return _enqueue(store, principal_id, account_id, "send", payload, key)


def keep_local_copy(store: Store, principal_id: int, account_id: int, raw: bytes, stand_in: str,
                    remote_thread_id: str = "") -> None:
    """A queued send's copy in the account's Sent folder, under its stand-in id until the provider names it."""
    local = parse_message(raw, principal_id=principal_id, account_id=account_id, remote_id=stand_in)
    local.is_read = True
    if remote_thread_id:
        local.remote_thread_id = remote_thread_id
    with store.transaction():
        local.folders = [sent_folder(store, principal_id, account_id)]
        mail_store.upsert_message(store.scope(principal_id), local, raw)


def _event_ics(uid: str, summary: str, start: datetime | date, end: datetime | date, location: str,
               description: str, rrule: str) -> str:
    import icalendar

    cal = icalendar.Calendar()
    cal.add("prodid", "-//Assistant//EN")
    cal.add("version", "2.0")
    ev = icalendar.Event()
    ev.add("uid", uid)
    ev.add("dtstamp", timezones.now_utc())
    ev.add("summary", summary)
    ev.add("dtstart", start)
    ev.add("dtend", end)
    if location:
        ev.add("location", location)
    if description:
        ev.add("description", description)
    if rrule:
        ev.add("rrule", icalendar.vRecur.from_ical(rrule.removeprefix("RRULE:")))
    cal.add_component(ev)
    if isinstance(start, datetime) and start.tzinfo is not timezones.UTC:
        cal.add_missing_timezones()  # a VTIMEZONE for the TZID, so every reader gets the same rules
    ics: str = cal.to_ical().decode("utf-8")
    return ics


def create_event(
    store: Store,
    principal_id: int,
    account_id: int,
    *,
    summary: str,
    start: datetime | date,
    end: datetime | date,
    location: str = "",
    description: str = "",
    rrule: str = "",
) -> OutboxEntry:
    """A timed event (aware datetimes) or an all-day one (dates; ``end`` exclusive).

    Timed events are written in the principal's own zone (TZID + VTIMEZONE), not UTC: a weekly 09:00 meeting must stay at
    09:00 their time across daylight-saving changes, which a UTC start cannot express.
    """
    scope = store.scope(principal_id)
    account = store.account(account_id)
    if account.principal_id != principal_id:
        raise NotFound(f"no account {account_id} for this principal")
    if isinstance(start, datetime) != isinstance(end, datetime):
        raise InvalidInput("an event starts and ends either both on dates (all day) or both at times")
    if isinstance(start, datetime) and isinstance(end, datetime) and (start.tzinfo is None or end.tzinfo is None):
        raise InvalidInput("event times need a time zone")
    if end <= start:
        raise InvalidInput("an event must end after it starts")
    key = new_key()
    uid = f"{key}@assistant"
    if isinstance(start, datetime) and isinstance(end, datetime):
        zone = timezones.get_zone(store.principal(principal_id).timezone)
        start, end = start.astimezone(zone), end.astimezone(zone)
    ics = _event_ics(uid, summary, start, end, location, description, rrule)
    stand_in = f"{STAND_IN_PREFIX}{key}"
    event = _parsed_event(ics, principal_id, account_id, stand_in)
    with store.transaction():
        calendar_store.upsert_event(scope, event)
        return _enqueue(store, principal_id, account_id, "event-create", {"ics": ics, "local_remote_id": stand_in}, key)


def _parsed_event(ics: str, principal_id: int, account_id: int, remote_id: str) -> CalendarEvent:
    """The event as a sync will read it back, so the local copy and the pulled one agree."""
    from assistant.calendar.ics import parse_calendar

    events, errors = parse_calendar(ics.encode("utf-8"), principal_id=principal_id, account_id=account_id)
    if len(events) != 1:
        raise InvalidInput(errors[0] if errors else "the event could not be written as iCalendar")
    events[0].remote_id = remote_id
    return events[0]


def update_event(
    store: Store,
    principal_id: int,
    event_id: int,
    *,
    summary: str | None = None,
    start: datetime | date | None = None,
    end: datetime | date | None = None,
    location: str | None = None,
    description: str | None = None,
) -> OutboxEntry:
    """Change the series master of an event; its overrides and time zones are kept as they are."""
    import icalendar

    scope = store.scope(principal_id)
    event = calendar_store.event(scope, event_id)
    cal = icalendar.Calendar.from_ical(event.ics)
    master = next((c for c in cal.walk("VEVENT") if "RECURRENCE-ID" not in c), None)
    if master is None:
        raise InvalidInput("this event has no series to edit")
    for name, value in (("SUMMARY", summary), ("LOCATION", location), ("DESCRIPTION", description)):
        if value is not None:
            master.pop(name, None)
            if value:
                master.add(name, value)
    # New times are written in the series' own zone (else the principal's), never UTC: a moved weekly 09:00 must stay at
    # 09:00 local across daylight-saving changes.
    current = master.get("DTSTART").dt if master.get("DTSTART") is not None else None
    if isinstance(current, datetime) and current.tzinfo is not None and current.utcoffset() is not None \
            and current.tzinfo is not timezones.UTC and getattr(current.tzinfo, "key", "") != "UTC":
        series_zone = current.tzinfo
    else:
        series_zone = timezones.get_zone(store.principal(principal_id).timezone)
    for name, when in (("DTSTART", start), ("DTEND", end)):
        if when is not None:
            if isinstance(when, datetime):
                if when.tzinfo is None:
                    raise InvalidInput("event times need a time zone")
                when = when.astimezone(series_zone)
            master.pop(name, None)
            if name == "DTEND":
                master.pop("DURATION", None)
            master.add(name, when)
    if isinstance(start, datetime) or isinstance(end, datetime):
        cal.add_missing_timezones()
    ics = cal.to_ical().decode("utf-8")
    updated = _parsed_event(ics, principal_id, event.account_id, event.remote_id)
    updated.calendar_id = event.calendar_id
    with store.transaction():
        calendar_store.upsert_event(scope, updated)
        return _enqueue(store, principal_id, event.account_id, "event-update", {"ics": ics, "remote_id": event.remote_id})


def delete_event(store: Store, principal_id: int, event_id: int) -> OutboxEntry:
    scope = store.scope(principal_id)
    event = calendar_store.event(scope, event_id)
    with store.transaction():
        calendar_store.remove_events(scope, event.account_id, [event.remote_id])
        return _enqueue(store, principal_id, event.account_id, "event-delete", {"remote_id": event.remote_id})


def retry_outbox_entry(store: Store, entry_id: int) -> bool:
    """Put a failed entry back in the queue, due now (the user fixed what was wrong); a send's copy goes back into
    Sent while it waits. False when the entry had not failed."""
    entry = store.outbox_entry(entry_id)
    if entry.state != "failed":
        return False
    with store.transaction():
        store.mark_outbox(entry_id, "pending", error=entry.last_error)
        stand_in = entry.payload.get("local_remote_id")
        if entry.op == "send" and stand_in and entry.payload.get("raw"):
            keep_local_copy(store, entry.principal_id, entry.account_id, base64.b64decode(entry.payload["raw"]),
                            stand_in, entry.payload.get("remote_thread_id", ""))
    return True
