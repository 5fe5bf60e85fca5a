"""Reports a principal gets from their assistant, written from the facts of a period, as ordinary drafts: the
end-of-day report (one of their days) and the weekly summary (their week up to its last working day).

The period is the principal's (their zone). What a report says: mail sent for them and archived, drafts waiting for
their approval, calls (made, taken, missed) and the call-backs set, tasks finished and due on their next working day,
that day's meetings in their time, and the time spent. A section with nothing in it is left out, and the principal's
template (:mod:`assistant.reports.templates`) says which sections they want, how it greets and signs, the language of
its dates and whether time is shown. The draft goes to the principal's own address from their account and follows
their approval policy like any other (``submit``).
"""
from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from assistant.approvals import drafts
from assistant.calendar.ics import expand
from assistant.core import timezones
from assistant.core.errors import InvalidInput
from assistant.domain import Address, Draft, DraftState, Principal, ReportKind, ReportTemplate
from assistant.reports import templates
from assistant.store import Store
from assistant.store import board as board_store
from assistant.store import calendar as calendar_store
from assistant.store import calls as call_store
from assistant.store import drafts as draft_store
from assistant.store import reminders as reminder_store
from assistant.store import reports as report_store
from assistant.timekeeping import timesheet


@dataclass
class Facts:
    """What happened for a principal in [first_day, end_day) of their days, and what comes on ``next_day`` (their next
    working day after it)."""

    principal: Principal
    first_day: date
    end_day: date
    next_day: date
    sent: list[str] = field(default_factory=list)  # subjects
    archived: int = 0
    awaiting: list[str] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)  # direction -> count
    call_backs: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    due_next: list[str] = field(default_factory=list)
    meetings_next: list[str] = field(default_factory=list)  # "09:00–10:00 Title", their time
    minutes: int = 0

    @property
    def day(self) -> date:
        return self.first_day


DayFacts = Facts  # the end-of-day report's facts: a period of one day


def _within(when: datetime | None, start: datetime, end: datetime) -> bool:
    return when is not None and start <= when < end


def next_working_day(principal: Principal, after: date) -> date:
    days = principal.business_hours.days or (1, 2, 3, 4, 5)
    day = after + timedelta(days=1)
    while day.isoweekday() not in days:
        day += timedelta(days=1)
    return day


def facts(store: Store, principal_id: int, day: date, end_day: date | None = None) -> Facts:
    """The facts of the principal's ``day`` (or of [day, end_day))."""
    principal = store.principal(principal_id)
    scope = store.scope(principal_id)
    zone = principal.timezone
    end_day = end_day or day + timedelta(days=1)
    start, _ = timezones.day_bounds_utc(day, zone)
    end, _ = timezones.day_bounds_utc(end_day, zone)
    next_day = next_working_day(principal, end_day - timedelta(days=1))
    next_start, next_end = timezones.day_bounds_utc(next_day, zone)
    f = Facts(principal, day, end_day, next_day)
    reports_before = report_store.report_draft_ids(scope)
    for d in draft_store.list_drafts(scope, (DraftState.SENT, DraftState.SENT_BY_PRINCIPAL)):
        if _within(d.updated_utc, start, end) and d.id not in reports_before:
            f.sent.append(d.subject or "(no subject)")
    f.awaiting = [d.subject or "(no subject)" for d in draft_store.list_drafts(scope, (DraftState.AWAITING_APPROVAL,))
                  if d.id not in reports_before]
    for entry in store.outbox(states=("done",)):
        if entry.principal_id == principal_id and entry.op == "move" and entry.payload.get("to") == "archive" \
                and _within(entry.created_utc, start, end):
            f.archived += 1
    for call in call_store.calls_page(scope, call_store.CallFilter(since_utc=start, until_utc=end), limit=5000):
        f.calls[call.direction.value] = f.calls.get(call.direction.value, 0) + 1
    for r in reminder_store.listed(scope, states=None):
        if r.kind == "call-back" and _within(r.created_utc, start, end):
            f.call_backs.append(f"{r.text} ({timezones.in_zone(r.due_utc, zone):%a %H:%M})")
    for card in board_store.cards(scope, include_archived=True):
        if _within(card.done_utc, start, end):
            f.done.append(card.title)
        elif card.done_utc is None and _within(card.due_utc, next_start, next_end):
            f.due_next.append(card.title)
    meetings = []
    for event in calendar_store.events_between(scope, next_start, next_end):
        for o in expand(event, next_start, next_end):
            if o.all_day:
                meetings.append((o.start_utc, f"all day: {o.summary}"))
            else:
                s, e = timezones.in_zone(o.start_utc, zone), timezones.in_zone(o.end_utc, zone)
                meetings.append((o.start_utc, f"{s:%H:%M}–{e:%H:%M} {o.summary}"))
    f.meetings_next = [text for _when, text in sorted(meetings)]
    sheet = timesheet(store, principal_id, day, end_day)
    f.minutes = round((sheet.billable_seconds + sheet.non_billable_seconds) / 60)
    return f


def week_of(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.isoweekday() - 1)


def last_working_day(principal: Principal, monday: date) -> date:
    days = principal.business_hours.days or (1, 2, 3, 4, 5)
    return monday + timedelta(days=max(days) - 1)


def week_facts(store: Store, principal_id: int, any_day: date) -> Facts:
    """The facts of the principal's week that holds ``any_day``, Monday to its last working day."""
    principal = store.principal(principal_id)
    monday = week_of(any_day)
    return facts(store, principal_id, monday, last_working_day(principal, monday) + timedelta(days=1))


def default_signer() -> str:
    """The assistant's full name as the system knows it (the account's GECOS name), else their user name."""
    try:
        import pwd  # POSIX only

        name = str(pwd.getpwuid(os.getuid()).pw_gecos).split(",")[0].strip()
    except (ImportError, KeyError, OSError, AttributeError):
        name = ""
    return name or getpass.getuser()


def _list(items: list[str], limit: int = 12) -> list[str]:
    shown = [f"  - {item}" for item in items[:limit]]
    if len(items) > limit:
        shown.append(f"  - and {len(items) - limit} more")
    return shown


def _hours(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d} min" if hours else f"{rest} min"


def report_text(f: Facts, *, signed: str = "", show_time: bool | None = None,
                template: ReportTemplate | None = None, kind: ReportKind = ReportKind.EOD) -> tuple[str, str]:
    """(subject, body) of the report, written as the template says (``show_time`` and ``signed`` override it)."""
    t = template or ReportTemplate()
    show_time = t.show_time if show_time is None else show_time
    signed = signed or t.signed or default_signer()
    last = f.end_day - timedelta(days=1)
    loc = templates.date_locale(t, f.principal.region)
    if kind == ReportKind.WEEKLY:
        subject = f"Your week — {templates.short_date(f.first_day, loc)} to {templates.long_date(last, loc)}"
        opening = f"Here is your week, {templates.short_date(f.first_day, loc)} to {templates.short_date(last, loc)}."
        period = "this week"
    else:
        subject = f"End of day — {templates.long_date(f.first_day, loc)}"
        opening = f"Here is where things stand at the end of your {templates.weekday(f.first_day, loc)}."
        period = "today"
    if f.next_day == f.end_day:
        next_name = "tomorrow"
    else:
        next_name = templates.short_date(f.next_day, loc)
    lines = [templates.greeting(t, f.principal.name), "", opening]
    sections: dict[str, tuple[str, list[str]]] = {}
    mail: list[str] = []
    if f.sent:
        mail.append(f"  Sent for you ({len(f.sent)}):")
        mail += ["  " + x for x in _list(f.sent)]
    if f.archived:
        mail.append(f"  Archived: {f.archived} message{'s' if f.archived != 1 else ''}")
    sections["mail"] = ("Mail", mail)
    sections["approvals"] = (f"Waiting for your approval ({len(f.awaiting)})", _list(f.awaiting))
    calls = []
    names = {"out": "made", "in": "taken", "missed": "missed", "voicemail": "voicemails"}
    said = [f"{n} {names[k]}" for k in ("out", "in", "missed", "voicemail") if (n := f.calls.get(k, 0))]
    if said:
        calls.append("  " + ", ".join(said))
    if f.call_backs:
        calls.append("  Call-backs set:")
        calls += ["  " + x for x in _list(f.call_backs)]
    sections["calls"] = ("Calls", calls)
    sections["done"] = (f"Done {period} ({len(f.done)})", _list(f.done, 12 if kind == ReportKind.EOD else 25))
    sections["due"] = (f"Due {next_name} ({len(f.due_next)})", _list(f.due_next))
    when = "Tomorrow's meetings" if next_name == "tomorrow" else f"Meetings on {next_name}"
    sections["meetings"] = (f"{when}, your time ({len(f.meetings_next)})", _list(f.meetings_next, 20))
    written = [sections[name] for name in t.sections if sections[name][1]]
    if show_time and f.minutes:
        written.append(("Time", [f"  {_hours(f.minutes)} on your work {period}"]))
    if not written:
        lines += ["", f"A quiet {'week' if kind == ReportKind.WEEKLY else 'day'}: nothing to report."]
    for title, body in written:
        lines += ["", title + ":", *body]
    lines += ["", *([t.sign_off] if t.sign_off else []), signed]
    return subject, "\n".join(lines) + "\n"


def report_draft(store: Store, principal_id: int, day: date, *, kind: ReportKind = ReportKind.EOD, signed: str = "",
                 show_time: bool | None = None, submit: bool = False,
                 account_id: int | None = None) -> tuple[Draft, str]:
    """The report (of ``day``, or of the week that holds it) as a draft to the principal, submitted when asked under
    their approval policy: (the draft, its state)."""
    principal = store.principal(principal_id)
    accounts = [a for a in store.accounts(principal_id) if a.kind != "import"]
    if account_id is not None:
        accounts = [a for a in accounts if a.id == account_id]
    if not accounts:
        raise InvalidInput(f"{principal.name} has no account to send the report from")
    if not principal.primary_address:
        raise InvalidInput(f"{principal.name} has no address to send the report to")
    t = templates.template(store, principal_id)
    f = week_facts(store, principal_id, day) if kind == ReportKind.WEEKLY else facts(store, principal_id, day)
    subject, body = report_text(f, signed=signed, show_time=show_time, template=t, kind=kind)
    with store.transaction():
        d = drafts.save_draft(store, principal_id, accounts[0].id, to=Address(principal.name, principal.primary_address),
                              subject=subject, body_text=body)
        state: Any = d.state
        if submit:
            state = drafts.submit_draft(store, principal_id, d.id)
    return drafts.get_draft(store, principal_id, d.id), str(state)


def eod_draft(store: Store, principal_id: int, day: date, *, signed: str = "", show_time: bool | None = None,
              submit: bool = False, account_id: int | None = None) -> tuple[Draft, str]:
    """The end-of-day report as a draft (see :func:`report_draft`)."""
    return report_draft(store, principal_id, day, signed=signed, show_time=show_time, submit=submit,
                        account_id=account_id)
