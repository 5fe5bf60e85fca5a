"""The end-of-day report a principal gets from their assistant: written from the day's facts, as an ordinary draft.

The day is the principal's (their zone). What it says: mail sent for them and archived, drafts waiting for their
approval, calls (made, taken, missed) and the call-backs set, tasks finished and due tomorrow, tomorrow's meetings in
their time, and the time spent. A section with nothing in it is left out. The draft goes to the principal's own address
from their account and follows their approval policy like any other (``--submit``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from assistant.approvals import drafts
from assistant.calendar.ics import expand
from assistant.core import timezones
from assistant.core.errors import InvalidInput
from assistant.domain import Address, Draft, DraftState, Principal
from assistant.store import Store
from assistant.store import board as board_store
from assistant.store import calendar as calendar_store
from assistant.store import calls as call_store
from assistant.store import drafts as draft_store
from assistant.store import reminders as reminder_store
from assistant.timekeeping import timesheet


@dataclass
class DayFacts:
    principal: Principal
    day: date
    sent: list[str] = field(default_factory=list)  # subjects
    archived: int = 0
    awaiting: list[str] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)  # direction -> count
    call_backs: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    due_tomorrow: list[str] = field(default_factory=list)
    meetings_tomorrow: list[str] = field(default_factory=list)  # "09:00–10:00 Title", their time
    minutes: int = 0


def _within(when: datetime | None, start: datetime, end: datetime) -> bool:
    return when is not None and start <= when < end


def facts(store: Store, principal_id: int, day: date) -> DayFacts:
    principal = store.principal(principal_id)
    scope = store.scope(principal_id)
    zone = principal.timezone
    start, end = timezones.day_bounds_utc(day, zone)
    tomorrow_start, tomorrow_end = timezones.day_bounds_utc(day + timedelta(days=1), zone)
    f = DayFacts(principal, day)
    for d in draft_store.list_drafts(scope, (DraftState.SENT, DraftState.SENT_BY_PRINCIPAL)):
        if _within(d.updated_utc, start, end):
            f.sent.append(d.subject or "(no subject)")
    f.awaiting = [d.subject or "(no subject)" for d in draft_store.list_drafts(scope, (DraftState.AWAITING_APPROVAL,))]
    for entry in store.outbox(states=("done",)):
        if entry.principal_id == principal_id and entry.op == "move" and entry.payload.get("to") == "archive" \
                and _within(entry.created_utc, start, end):
            f.archived += 1
    for call in call_store.calls_page(scope, call_store.CallFilter(since_utc=start, until_utc=end), limit=1000):
        f.calls[call.direction.value] = f.calls.get(call.direction.value, 0) + 1
    for r in reminder_store.listed(scope, states=None):
        if r.kind == "call-back" and _within(r.created_utc, start, end):
            f.call_backs.append(f"{r.text} ({timezones.in_zone(r.due_utc, zone):%a %H:%M})")
    for card in board_store.cards(scope, include_archived=True):
        if _within(card.done_utc, start, end):
            f.done.append(card.title)
        elif card.done_utc is None and _within(card.due_utc, tomorrow_start, tomorrow_end):
            f.due_tomorrow.append(card.title)
    meetings = []
    for event in calendar_store.events_between(scope, tomorrow_start, tomorrow_end):
        for o in expand(event, tomorrow_start, tomorrow_end):
            if o.all_day:
                meetings.append((o.start_utc, f"all day: {o.summary}"))
            else:
                s, e = timezones.in_zone(o.start_utc, zone), timezones.in_zone(o.end_utc, zone)
                meetings.append((o.start_utc, f"{s:%H:%M}–{e:%H:%M} {o.summary}"))
    f.meetings_tomorrow = [text for _when, text in sorted(meetings)]
    sheet = timesheet(store, principal_id, day, day + timedelta(days=1))
    f.minutes = round((sheet.billable_seconds + sheet.non_billable_seconds) / 60)
    return f


def _list(items: list[str], limit: int = 12) -> list[str]:
    shown = [f"  - {item}" for item in items[:limit]]
    if len(items) > limit:
        shown.append(f"  - and {len(items) - limit} more")
    return shown


def _hours(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d} min" if hours else f"{rest} min"


def report_text(f: DayFacts, *, signed: str, show_time: bool = True) -> tuple[str, str]:
    """(subject, body) of the report."""
    first = f.principal.name.split()[0] if f.principal.name.split() else f.principal.name
    subject = f"End of day — {f.day:%a %d %b %Y}"
    lines = [f"Hi {first},", "", f"Here is where things stand at the end of your {f.day:%A}."]
    sections: list[tuple[str, list[str]]] = []
    mail: list[str] = []
    if f.sent:
        mail.append(f"  Sent for you ({len(f.sent)}):")
        mail += ["  " + x for x in _list(f.sent)]
    if f.archived:
        mail.append(f"  Archived: {f.archived} message{'s' if f.archived != 1 else ''}")
    sections.append(("Mail", mail))
    sections.append((f"Waiting for your approval ({len(f.awaiting)})", _list(f.awaiting)))
    calls = []
    names = {"out": "made", "in": "taken", "missed": "missed", "voicemail": "voicemails"}
    said = [f"{n} {names[k]}" for k in ("out", "in", "missed", "voicemail") if (n := f.calls.get(k, 0))]
    if said:
        calls.append("  " + ", ".join(said))
    if f.call_backs:
        calls.append("  Call-backs set:")
        calls += ["  " + x for x in _list(f.call_backs)]
    sections.append(("Calls", calls))
    sections.append((f"Done today ({len(f.done)})", _list(f.done)))
    sections.append((f"Due tomorrow ({len(f.due_tomorrow)})", _list(f.due_tomorrow)))
    sections.append((f"Tomorrow's meetings, your time ({len(f.meetings_tomorrow)})", _list(f.meetings_tomorrow, 20)))
    if show_time and f.minutes:
        sections.append(("Time", [f"  {_hours(f.minutes)} on your work today"]))
    written = [(title, body) for title, body in sections if body]
    if not written:
        lines += ["", "A quiet day: nothing was sent, nothing is waiting for you, and tomorrow has no meetings."]
    for title, body in written:
        lines += ["", title + ":", *body]
    lines += ["", "Best,", signed]
    return subject, "\n".join(lines) + "\n"


def eod_draft(store: Store, principal_id: int, day: date, *, signed: str, show_time: bool = True,
              submit: bool = False, account_id: int | None = None) -> tuple[Draft, str]:
    """The report as a draft to the principal (and submitted when asked): (the draft, its state)."""
    principal = store.principal(principal_id)
    accounts = [a for a in store.accounts(principal_id) if a.kind != "import"]
    if account_id is not None:
        accounts = [a for a in accounts if a.id == account_id]
    if not accounts:
        raise InvalidInput(f"{principal.name} has no account to send the report from")
    if not principal.primary_address:
        raise InvalidInput(f"{principal.name} has no address to send the report to")
    subject, body = report_text(facts(store, principal_id, day), signed=signed, show_time=show_time)
    d = drafts.save_draft(store, principal_id, accounts[0].id, to=Address(principal.name, principal.primary_address),
                          subject=subject, body_text=body)
    state: Any = d.state
    if submit:
        state = drafts.submit_draft(store, principal_id, d.id)
    return drafts.get_draft(store, principal_id, d.id), str(state)
