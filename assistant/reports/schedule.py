"""When reports are made by themselves: at the time the principal's template gives, in their zone.

The end-of-day report is due at ``eod_at`` on each of the principal's working days, the weekly summary at
``weekly_at`` on the last working day of their week. An instant is the wall-clock time read in the principal's zone on
that day (:func:`assistant.core.timezones.local_to_utc`), so 17:30 stays 17:30 for them across their DST changes. A
report is made once per principal, kind and period (``reports_made``'s key, claimed in the same transaction as the
draft): the app started again after 17:30 makes the day's report if it was not made yet, and never a second one. A
report whose time passed on an earlier day is not made late (a report about yesterday, this morning, is news to
nobody). The UI's scheduler (``ui/reports/scheduler.py``) asks :func:`next_due` when to look and runs
:func:`make_due` on the worker; ``assistant report due`` runs the same :func:`make_due` without the window (for cron or a
systemd timer), and the claim keeps the two from making a report twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from assistant import reports
from assistant.core import timezones
from assistant.core.errors import UserError
from assistant.domain import Principal, ReportKind, ReportTemplate
from assistant.reports import templates
from assistant.store import Store
from assistant.store import reports as report_store

LOOK_AHEAD_DAYS = 8  # a week and a day: every kind comes round within it


@dataclass(frozen=True)
class Due:
    principal_id: int
    kind: ReportKind
    period: date  # the day, or the week's Monday
    day: date  # the principal's day it is made on
    at_utc: datetime


@dataclass(frozen=True)
class Made:
    principal_id: int
    principal_name: str
    kind: ReportKind
    period: date
    draft_id: int  # 0: it failed
    state: str
    error: str = ""


def _at(day: date, at: time, zone: str) -> datetime:
    return timezones.local_to_utc(datetime.combine(day, at), zone)


def instants(principal: Principal, t: ReportTemplate, first_day: date, days: int) -> list[Due]:
    """The reports due on the principal's days [first_day, first_day + days), in time order."""
    working = principal.business_hours.days or (1, 2, 3, 4, 5)
    out = []
    for n in range(days):
        day = first_day + timedelta(days=n)
        if t.eod_at is not None and day.isoweekday() in working:
            out.append(Due(principal.id, ReportKind.EOD, day, day, _at(day, t.eod_at, principal.timezone)))
        monday = reports.week_of(day)
        if t.weekly_at is not None and day == reports.last_working_day(principal, monday):
            out.append(Due(principal.id, ReportKind.WEEKLY, monday, day, _at(day, t.weekly_at, principal.timezone)))
    return sorted(out, key=lambda d: d.at_utc)


def next_due(store: Store, now: datetime) -> datetime | None:
    """The first instant after ``now`` at which some principal's report falls due (None: none is scheduled)."""
    soonest: datetime | None = None
    for p in store.principals():
        t = templates.template(store, p.id)
        if t.eod_at is None and t.weekly_at is None:
            continue
        today = timezones.in_zone(now, p.timezone).date()
        for due in instants(p, t, today, LOOK_AHEAD_DAYS):
            if due.at_utc > now:
                if soonest is None or due.at_utc < soonest:
                    soonest = due.at_utc
                break
    return soonest


def due_now(store: Store, now: datetime) -> list[Due]:
    """The reports due by ``now`` on each principal's today that were not made yet."""
    out = []
    for p in store.principals():
        t = templates.template(store, p.id)
        if t.eod_at is None and t.weekly_at is None:
            continue
        today = timezones.in_zone(now, p.timezone).date()
        scope = store.scope(p.id)
        out += [d for d in instants(p, t, today, 1) if d.at_utc <= now and not report_store.made(scope, d.kind, d.period)]
    return out


def describe(made: Made) -> str:
    """One line for a report just made (or that could not be), naming the principal: the window's notice, the CLI's."""
    what = "Weekly summary" if made.kind == ReportKind.WEEKLY else "End-of-day report"
    if not made.draft_id:
        return f"{what} for {made.principal_name} not made: {made.error}"
    if made.state == "awaiting-approval":
        return f"{what} for {made.principal_name} drafted · waiting for their approval"
    return f"{what} for {made.principal_name} drafted · {made.state.replace('-', ' ')}"


class _AlreadyMade(Exception):
    """Another process made this report first: roll ours back."""


def make_due(store: Store, now: datetime) -> list[Made]:
    """Make each report that is due: a draft to the principal, submitted under their approval policy, claimed in the
    same transaction. A report that cannot be made (no account, no address) is claimed with its reason, so it is told
    once and not tried every minute."""
    made = []
    for due in due_now(store, now):
        p = store.principal(due.principal_id)
        scope = store.scope(p.id)
        try:
            with store.transaction():
                draft, state = reports.report_draft(store, p.id, due.day, kind=due.kind, submit=True)
                if not report_store.claim(scope, due.kind, due.period, draft.id):
                    raise _AlreadyMade
            made.append(Made(p.id, p.name, due.kind, due.period, draft.id, state))
        except _AlreadyMade:
            continue
        except UserError as exc:
            if report_store.claim(scope, due.kind, due.period, 0, str(exc)):
                made.append(Made(p.id, p.name, due.kind, due.period, 0, "failed", str(exc)))
    return made
