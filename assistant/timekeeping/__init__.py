"""Time per principal: the timer, entries typed in afterwards, and the timesheet that bills them.

A day is the *principal's* day: an entry belongs to the day, in their zone, on which it started (one that runs past
midnight or across a daylight-saving change stays whole on that day). Billable time is rounded up to the principal's
increment (6, 10 or 15 minutes; or exact) per entry or per day, and priced at their hourly rate to the cent of their
currency (rounded half up, line by line; the total is the sum of the lines, as on the invoice).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any

from assistant.core import currencies, timezones
from assistant.core.errors import InvalidInput, NotFound
from assistant.domain import Billing, Principal, TimeEntry, TimeSource
from assistant.store import Store
from assistant.store import board as board_store
from assistant.store import time as time_store

LONG_TIMER = timedelta(hours=10)  # a timer that ran longer than this was most likely forgotten: the stop says so


@dataclass
class Stopped:
    entry: TimeEntry
    principal: Principal
    warning: str = ""


def start_timer(store: Store, principal_id: int, *, note: str = "", card_id: int | None = None,
                now: datetime | None = None) -> TimeEntry:
    """Start the workspace's one timer for a principal (work done outside the app), optionally on one of their
    cards."""
    scope = store.scope(principal_id)
    item = title = ""
    if card_id is not None:
        card = board_store.card(scope, card_id)
        item, title = f"task:{card.id}", card.title
    billing = time_store.billing(scope)
    return time_store.add_entry(scope, TimeEntry(
        principal_id, (now or timezones.now_utc()).replace(microsecond=0), None, TimeSource.TIMER,
        billable=billing.billable_default, note=note, item=item, item_title=title))


def stop_timer(store: Store, *, now: datetime | None = None) -> Stopped:
    """Stop the running timer (whoever's it is) now."""
    running = time_store.running_timer(store)
    if running is None:
        raise NotFound("no timer is running")
    now = (now or timezones.now_utc()).replace(microsecond=0)
    principal = store.principal(running.principal_id)
    running.end_utc = max(now, running.start_utc + timedelta(seconds=1))
    time_store.update_entry(store.scope(running.principal_id), running, actor="assistant (timer stopped)")
    warning = ""
    if running.end_utc - running.start_utc > LONG_TIMER:
        warning = (f"the timer ran {_duration(running.seconds)}: if it was left running, correct entry {running.id}"
                   " with 'assistant time edit'")
    return Stopped(running, principal, warning)


def add_entry(store: Store, principal_id: int, start: datetime, end: datetime, *, note: str = "",
              billable: bool | None = None, source: TimeSource = TimeSource.MANUAL, item: str = "",
              item_title: str = "") -> TimeEntry:
    scope = store.scope(principal_id)
    if billable is None:
        billable = time_store.billing(scope).billable_default
    return time_store.add_entry(scope, TimeEntry(principal_id, start.replace(microsecond=0), end.replace(microsecond=0),
                                                 source, billable=billable, note=note, item=item,
                                                 item_title=item_title))


def _duration(seconds: int) -> str:
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


# -- periods ------------------------------------------------------------------------------------------------------
def day_period(day: date) -> tuple[date, date]:
    return day, day + timedelta(days=1)


def week_period(day: date) -> tuple[date, date]:
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=7)


def month_period(text: str) -> tuple[date, date]:
    try:
        year, month = (int(x) for x in text.split("-"))
        first = date(year, month, 1)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a month: give it as YYYY-MM") from None
    return first, (first.replace(year=year + 1, month=1) if month == 12 else first.replace(month=month + 1))


# -- the timesheet ------------------------------------------------------------------------------------------------
@dataclass
class Line:
    entry: TimeEntry
    day: date  # in the principal's zone
    billed_minutes: Decimal  # 0 for non-billable; rounded up per entry, or exact when rounding is per day
    amount: Decimal | None  # per entry (None when there is no rate, or rounding is per day)


@dataclass
class Day:
    day: date
    seconds: int = 0
    billable_seconds: int = 0
    billed_minutes: Decimal = Decimal(0)
    amount: Decimal | None = None


@dataclass
class Timesheet:
    principal: Principal
    billing: Billing
    first_day: date
    end_day: date  # exclusive
    lines: list[Line] = field(default_factory=list)
    days: list[Day] = field(default_factory=list)
    running: TimeEntry | None = None  # a timer still running in the period: not counted yet

    @property
    def billable_seconds(self) -> int:
        return sum(d.billable_seconds for d in self.days)

    @property
    def non_billable_seconds(self) -> int:
        return sum(d.seconds - d.billable_seconds for d in self.days)

    @property
    def billed_minutes(self) -> Decimal:
        return sum((d.billed_minutes for d in self.days), Decimal(0))

    @property
    def amount(self) -> Decimal | None:
        if self.billing.rate is None:
            return None
        return sum((d.amount or Decimal(0) for d in self.days), Decimal(0))


def _round_up(minutes: Decimal, increment: int) -> Decimal:
    if increment <= 0 or minutes <= 0:
        return minutes
    return (minutes / increment).to_integral_value(rounding=ROUND_CEILING) * increment


def _money(minutes: Decimal, billing: Billing) -> Decimal | None:
    if billing.rate is None:
        return None
    cents = Decimal(1).scaleb(-currencies.minor_units(billing.currency))
    return (minutes * billing.rate / 60).quantize(cents, rounding=ROUND_HALF_UP)


def timesheet(store: Store, principal_id: int, first_day: date, end_day: date) -> Timesheet:
    """The principal's entries that start on days [first_day, end_day) of their zone, with the rounding and the rate
    applied."""
    principal = store.principal(principal_id)
    scope = store.scope(principal_id)
    billing = time_store.billing(scope)
    zone = principal.timezone
    since, _ = timezones.day_bounds_utc(first_day, zone)
    until, _ = timezones.day_bounds_utc(end_day, zone)
    sheet = Timesheet(principal, billing, first_day, end_day)
    days: dict[date, Day] = {}
    for e in time_store.entries(scope, since, until):
        if e.end_utc is None:
            sheet.running = e
            continue
        day = timezones.in_zone(e.start_utc, zone).date()
        d = days.setdefault(day, Day(day))
        d.seconds += e.seconds
        exact = (Decimal(e.seconds) / 60).quantize(Decimal("0.01"))
        if not e.billable:
            sheet.lines.append(Line(e, day, Decimal(0), None))
            continue
        d.billable_seconds += e.seconds
        if billing.rounding_per == "day":
            sheet.lines.append(Line(e, day, exact, None))
        else:
            billed = _round_up(Decimal(e.seconds) / 60, billing.rounding_min).quantize(Decimal("0.01"))
            amount = _money(billed, billing)
            sheet.lines.append(Line(e, day, billed, amount))
            d.billed_minutes += billed
            if amount is not None:
                d.amount = (d.amount or Decimal(0)) + amount
    for d in days.values():
        if billing.rounding_per == "day":
            d.billed_minutes = _round_up(Decimal(d.billable_seconds) / 60, billing.rounding_min).quantize(
                Decimal("0.01"))
            d.amount = _money(d.billed_minutes, billing)
        elif billing.rate is not None and d.amount is None:
            d.amount = Decimal(0).quantize(Decimal(1).scaleb(-currencies.minor_units(billing.currency)))
    sheet.days = sorted(days.values(), key=lambda d: d.day)
    return sheet


def retainer_used(store: Store, principal_id: int, on: date) -> tuple[Decimal, int] | None:
    """(billed minutes so far, the retainer's minutes) in the retainer's period that holds ``on``; None without a
    retainer."""
    billing = time_store.billing(store.scope(principal_id))
    if billing.retainer_minutes is None:
        return None
    first, end = week_period(on) if billing.retainer_per == "week" else month_period(f"{on:%Y-%m}")
    return timesheet(store, principal_id, first, end).billed_minutes, billing.retainer_minutes


RETAINER_LEVELS = (80, 100)  # per cent of a retainer used at which the assistant is told, once per period


@dataclass
class Retainer:
    """How much of a principal's retainer the period holding a day has used: billed time (after rounding), as the
    invoice counts it."""

    per: str  # "month" | "week"
    first_day: date
    end_day: date  # exclusive
    minutes: int  # the retainer
    used_minutes: Decimal  # billed so far
    days: list[tuple[date, Decimal]] = field(default_factory=list)  # billed minutes of each day with time, in order

    @property
    def percent(self) -> int:
        """Whole per cent used, rounded down (79.9 % is not yet 80 %)."""
        return int(self.used_minutes * 100 / self.minutes) if self.minutes else 0

    @property
    def level(self) -> int:
        """The highest of :data:`RETAINER_LEVELS` reached, or 0."""
        return max((lvl for lvl in RETAINER_LEVELS if self.percent >= lvl), default=0)

    @property
    def left_minutes(self) -> Decimal:
        return Decimal(self.minutes) - self.used_minutes

    @property
    def period_text(self) -> str:
        return f"{self.first_day:%B %Y}" if self.per == "month" else f"the week of {self.first_day:%d %b %Y}"


def retainer_status(store: Store, principal_id: int, on: date) -> Retainer | None:
    """The retainer's period (month or week, the principal's) that holds ``on``, and how much of it is used; None
    without a retainer."""
    billing = time_store.billing(store.scope(principal_id))
    if billing.retainer_minutes is None:
        return None
    per = "week" if billing.retainer_per == "week" else "month"
    first, end = week_period(on) if per == "week" else month_period(f"{on:%Y-%m}")
    sheet = timesheet(store, principal_id, first, end)
    return Retainer(per, first, end, billing.retainer_minutes, sheet.billed_minutes,
                    [(d.day, d.billed_minutes) for d in sheet.days])


def retainer_text(principal: Principal, r: Retainer) -> str:
    """One line about a retainer at or past 80 %, naming the principal."""
    used, whole = hours_minutes(r.used_minutes), hours_minutes(Decimal(r.minutes))
    if r.level >= 100:
        over = -r.left_minutes
        return (f"{principal.name}'s retainer for {r.period_text} is used up: {used} of {whole} h"
                + (f", {hours_minutes(over)} h over" if over > 0 else ""))
    return (f"{principal.name}'s retainer for {r.period_text} is {r.percent} % used: {used} of {whole} h,"
            f" {hours_minutes(r.left_minutes)} h left")


def retainer_notice_due(store: Store, principal_id: int, now: datetime | None = None) -> str | None:
    """The notice to give about the principal's retainer now, or None: when the period holding their today has
    reached 80 % or 100 %, once per period and level (remembered in the store, so neither a reload nor a restart says
    it again). Reaching 100 % straight away gives the 100 % notice alone."""
    principal = store.principal(principal_id)
    today = timezones.in_zone(now or timezones.now_utc(), principal.timezone).date()
    status = retainer_status(store, principal_id, today)
    if status is None or not status.level:
        return None
    scope = store.scope(principal_id)
    with store.transaction():
        new = [lvl for lvl in RETAINER_LEVELS
               if lvl <= status.level and time_store.mark_retainer_notice(scope, status.first_day, lvl)]
    return retainer_text(principal, status) if status.level in new else None


def letter_paper(principal: Principal) -> bool:
    """US Letter paper for principals in the countries that use it, A4 for everyone else."""
    return (principal.region or "").upper() in ("US", "CA", "MX", "PH", "CL", "CO", "VE")


def _cell(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text: a note starting with = + - @ is not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def timesheet_csv(sheet: Timesheet) -> str:
    zone = sheet.principal.timezone
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    currency = sheet.billing.currency
    writer.writerow(["date", "start", "end", "time zone", "minutes", "billed minutes", "billable", "source", "item",
                     "note", f"amount {currency}".strip()])
    for line in sheet.lines:
        e = line.entry
        assert e.end_utc is not None
        writer.writerow([_cell(line.day.isoformat()), f"{timezones.in_zone(e.start_utc, zone):%H:%M}",
                         f"{timezones.in_zone(e.end_utc, zone):%H:%M}", zone,
                         f"{Decimal(e.seconds) / 60:.2f}", f"{line.billed_minutes:.2f}",
                         "yes" if e.billable else "no", e.source.value, _cell(e.item_title or e.item), _cell(e.note),
                         "" if line.amount is None else f"{line.amount}"])
    for d in sheet.days:
        if sheet.billing.rounding_per == "day":
            writer.writerow([d.day.isoformat(), "", "", zone, f"{Decimal(d.billable_seconds) / 60:.2f}",
                             f"{d.billed_minutes:.2f}", "yes", "day total", "", "",
                             "" if d.amount is None else f"{d.amount}"])
    amount = sheet.amount
    writer.writerow(["total", "", "", zone, f"{Decimal(sheet.billable_seconds + sheet.non_billable_seconds) / 60:.2f}",
                     f"{sheet.billed_minutes:.2f}", "", "", "", "", "" if amount is None else f"{amount}"])
    return out.getvalue()


# -- what goes on paper ---------------------------------------------------------------------------------------------
@dataclass
class InvoiceLine:
    description: str
    minutes: Decimal  # billed (after rounding)
    amount: Decimal | None


def invoice_lines(sheet: Timesheet, group: str = "day") -> list[InvoiceLine]:
    """The sheet's billable time as invoice lines: one per day, or one per work item (what was worked on, else the
    note, else "Other work"). Amounts are the sheet's own, so the lines add up to its total."""
    if group not in ("day", "item"):
        raise InvalidInput("invoice lines are grouped by day or by item")
    if group == "day":
        return [InvoiceLine(f"{d.day:%a %d %b %Y}", d.billed_minutes, d.amount) for d in sheet.days if d.billed_minutes]
    if sheet.billing.rounding_per == "day":
        raise InvalidInput("with rounding per day, an invoice is grouped by day (rounded time belongs to days)")
    grouped: dict[str, InvoiceLine] = {}
    for line in sheet.lines:
        if not line.entry.billable:
            continue
        what = line.entry.item_title or line.entry.note or "Other work"
        g = grouped.setdefault(what, InvoiceLine(what, Decimal(0), None if sheet.billing.rate is None else Decimal(0)))
        g.minutes += line.billed_minutes
        if g.amount is not None and line.amount is not None:
            g.amount += line.amount
    return list(grouped.values())


def _esc(text: object) -> str:
    import html

    return html.escape(str(text), quote=True)


def hours_minutes(minutes: Decimal) -> str:
    """Minutes as hours and minutes, ``187.5`` → ``3:08`` (half a minute up)."""
    whole = int(minutes.to_integral_value(rounding=ROUND_HALF_UP))
    return f"{whole // 60}:{whole % 60:02d}"


def _rounding_text(b: Billing) -> str:
    return f"rounded up to {b.rounding_min} min per {b.rounding_per}" if b.rounding_min else "exact minutes"


_STYLE = ("<style>body{font-family:sans-serif;font-size:10pt} h1{font-size:16pt} td,th{padding:3px 6px}"
          " th{text-align:left;border-bottom:1px solid #888} .n{text-align:right} .n,.k{white-space:nowrap} .total td{border-top:1px solid #888;"
          "font-weight:bold}</style>")


TIMESHEET_WORK_COLUMN = 2  # the timesheet table's Work: kept to one line in the PDF (the CSV has the whole title)


def timesheet_html(sheet: Timesheet) -> str:
    p, b = sheet.principal, sheet.billing
    money = b.rate is not None
    last = sheet.end_day - timedelta(days=1)
    rows = []
    for line in sheet.lines:
        e = line.entry
        assert e.end_utc is not None
        rows.append(
            f"<tr><td class='k'>{line.day:%a %d %b}</td><td class='k'>{timezones.in_zone(e.start_utc, p.timezone):%H:%M}–"
            f"{timezones.in_zone(e.end_utc, p.timezone):%H:%M}</td><td>{_esc(e.item_title or e.note or e.source.value)}"
            f"</td><td class='n'>{hours_minutes(Decimal(e.seconds) / 60)}</td><td class='n'>"
            f"{hours_minutes(line.billed_minutes) if e.billable else 'not billed'}</td>"
            + (f"<td class='n'>{'' if line.amount is None else _esc(line.amount)}</td>" if money else "") + "</tr>")
    total = sheet.amount
    head = "<th>Day</th><th>Time</th><th>Work</th><th class='n'>Worked</th><th class='n'>Billed</th>" + (
        f"<th class='n'>{_esc(b.currency)}</th>" if money else "")
    return (
        f"<html><head>{_STYLE}</head><body><h1>Timesheet — {_esc(p.name)}</h1>"
        f"<p>{sheet.first_day:%d %b %Y} to {last:%d %b %Y}, times in {_esc(p.timezone)}; billed time "
        f"{_rounding_text(b)}" + (f"; {_esc(b.rate)} {_esc(b.currency)} per hour" if money else "") + ".</p>"
        f"<table width='100%' cellspacing='0'><tr>{head}</tr>{''.join(rows)}"
        f"<tr class='total'><td colspan='3'>Total</td><td class='n'>"
        f"{hours_minutes(Decimal(sheet.billable_seconds + sheet.non_billable_seconds) / 60)}</td>"
        f"<td class='n'>{hours_minutes(sheet.billed_minutes)}</td>"
        + (f"<td class='n'>{_esc(total)}</td>" if money else "") + "</tr></table></body></html>")


def invoice_html(sheet: Timesheet, *, number: str, issued: date, issuer: str, group: str = "day") -> str:
    p, b = sheet.principal, sheet.billing
    if b.rate is None:
        raise InvalidInput(f"{p.name} has no hourly rate: set one with 'assistant principal set \"{p.name}\" --rate "
                           "AMOUNT --currency CODE'")
    lines = invoice_lines(sheet, group)
    last = sheet.end_day - timedelta(days=1)
    rows = "".join(f"<tr><td>{_esc(x.description)}</td><td class='n'>{hours_minutes(x.minutes)}</td>"
                   f"<td class='n'>{_esc(x.amount)}</td></tr>" for x in lines)
    issuer_html = "<br>".join(_esc(part.strip()) for part in issuer.split("\n") if part.strip())
    return (
        f"<html><head>{_STYLE}</head><body><h1>Invoice {_esc(number)}</h1>"
        f"<table width='100%'><tr><td><b>From</b><br>{issuer_html}</td>"
        f"<td><b>To</b><br>{_esc(p.name)}<br>{_esc(p.primary_address)}</td>"
        f"<td class='n'>Issued {issued:%d %b %Y}<br>Period {sheet.first_day:%d %b %Y} – {last:%d %b %Y}</td></tr>"
        f"</table><p>Hourly rate {_esc(b.rate)} {_esc(b.currency)}; time {_rounding_text(b)}.</p>"
        f"<table width='100%' cellspacing='0'><tr><th>{'Day' if group == 'day' else 'Work'}</th>"
        f"<th class='n'>Hours</th><th class='n'>{_esc(b.currency)}</th></tr>{rows}"
        f"<tr class='total'><td>Total</td><td class='n'>{hours_minutes(sheet.billed_minutes)}</td>"
        f"<td class='n'>{_esc(sheet.amount)} {_esc(b.currency)}</td></tr></table></body></html>")
