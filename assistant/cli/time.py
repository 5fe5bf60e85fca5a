"""``assistant time …``: the timer, entries typed in afterwards, the list and the timesheet export; and a principal's
billing settings (``assistant principal set NAME --rate … --currency … --retainer-hours … --rounding …``)."""
from __future__ import annotations

import argparse
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.cli import format as fmt
from assistant.cli.format import Output
from assistant.core import timezones
from assistant.core.errors import InvalidInput, UsageError

if TYPE_CHECKING:
    from assistant.domain import TimeEntry
    from assistant.timekeeping import Timesheet


def _when(text: str, zone: str) -> Any:
    from assistant.approvals.schedule import parse_send_at

    return parse_send_at(text, zone, timezones.now_utc())


def _entry_json(e: TimeEntry, zone: str, billed: Decimal | None = None, amount: Decimal | None = None
                ) -> dict[str, Any]:
    return {
        "id": e.id, "principal_id": e.principal_id, "start_utc": fmt.iso_utc(e.start_utc),
        "end_utc": fmt.iso_utc(e.end_utc), "start_local": fmt.iso_local(e.start_utc, zone),
        "end_local": fmt.iso_local(e.end_utc, zone), "minutes": round(e.seconds / 60, 2),
        "billed_minutes": None if billed is None else float(billed), "amount": None if amount is None else str(amount),
        "billable": e.billable, "source": e.source.value, "item": e.item or None, "item_title": e.item_title or None,
        "note": e.note,
    }


def _sheet_json(sheet: Timesheet) -> dict[str, Any]:
    zone = sheet.principal.timezone
    b = sheet.billing
    amount = sheet.amount
    return {
        "principal": sheet.principal.name, "timezone": zone, "from": sheet.first_day.isoformat(),
        "to": sheet.end_day.isoformat(),
        "billing": {"rate": None if b.rate is None else str(b.rate), "currency": b.currency or None,
                    "rounding_min": b.rounding_min, "rounding_per": b.rounding_per},
        "entries": [_entry_json(line.entry, zone, line.billed_minutes, line.amount) for line in sheet.lines],
        "days": [{"date": d.day.isoformat(), "minutes": round(d.seconds / 60, 2),
                  "billable_minutes": round(d.billable_seconds / 60, 2), "billed_minutes": float(d.billed_minutes),
                  "amount": None if d.amount is None else str(d.amount)} for d in sheet.days],
        "running": None if sheet.running is None else _entry_json(sheet.running, zone),
        "totals": {"billable_minutes": round(sheet.billable_seconds / 60, 2),
                   "non_billable_minutes": round(sheet.non_billable_seconds / 60, 2),
                   "billed_minutes": float(sheet.billed_minutes), "amount": None if amount is None else str(amount),
                   "currency": b.currency or None},
    }


def _period(args: argparse.Namespace, zone: str) -> tuple[date, date]:
    from assistant import timekeeping

    chosen = [n for n in ("day", "week", "month") if getattr(args, n, None)] + (["from"] if args.since else [])
    if len(chosen) > 1:
        raise UsageError("give one of --day, --week, --month or --from/--to")
    today = timezones.in_zone(timezones.now_utc(), zone).date()
    if args.month:
        return timekeeping.month_period(args.month)
    if args.week:
        return timekeeping.week_period(today)
    if args.day:
        try:
            return timekeeping.day_period(date.fromisoformat(args.day))
        except ValueError:
            raise InvalidInput(f"{args.day!r} is not a day: give it as YYYY-MM-DD") from None
    if args.since:
        first = timezones.in_zone(_when(args.since, zone), zone).date()
        end = timezones.in_zone(_when(args.until, zone), zone).date() if args.until else today
        return first, end + (date.resolution if end >= first else -date.resolution)
    return timekeeping.day_period(today)


def cmd_time_start(args: argparse.Namespace, out: Output) -> int:
    from assistant import timekeeping

    with fmt.open_workspace(args) as store:
        p = fmt.principal_from(args, store)
        e = timekeeping.start_timer(store, p.id, note=args.note or "", card_id=args.card)
    out.emit({"entry": _entry_json(e, p.timezone)},
             lambda: f"Timer started for {p.name} at {fmt.shown(e.start_utc, p.timezone)}"
                     + (f" on “{e.item_title}”" if e.item_title else ""))
    return 0


def cmd_time_stop(args: argparse.Namespace, out: Output) -> int:
    from assistant import timekeeping

    with fmt.open_workspace(args) as store:
        stopped = timekeeping.stop_timer(store)
    e, p = stopped.entry, stopped.principal
    out.emit({"entry": _entry_json(e, p.timezone), "principal": p.name, "warning": stopped.warning or None},
             lambda: f"Timer stopped for {p.name}: {round(e.seconds / 60)} min"
                     + (f"\nCheck it: {stopped.warning}" if stopped.warning else ""))
    return 0


def cmd_time_add(args: argparse.Namespace, out: Output) -> int:
    from assistant import timekeeping

    with fmt.open_workspace(args) as store:
        p = fmt.principal_from(args, store)
        start, end = _when(args.since, p.timezone), _when(args.until, p.timezone)
        e = timekeeping.add_entry(store, p.id, start, end, note=args.note or "",
                                  billable=False if args.non_billable else None)
    out.emit({"entry": _entry_json(e, p.timezone)},
             lambda: f"Added {round(e.seconds / 60)} min for {p.name} ({fmt.shown(e.start_utc, p.timezone)})")
    return 0


def cmd_time_list(args: argparse.Namespace, out: Output) -> int:
    from assistant import timekeeping

    with fmt.open_workspace(args) as store:
        p = fmt.principal_from(args, store)
        first, end = _period(args, p.timezone)
        sheet = timekeeping.timesheet(store, p.id, first, end)
    data = _sheet_json(sheet)

    def human() -> str:
        rows = [[e["id"], e["start_local"][:16].replace("T", " "), e["end_local"][11:16] if e["end_local"] else "",
                 f"{e['minutes']:.0f}", f"{e['billed_minutes']:.0f}" if e["billable"] else "-", e["source"],
                 e["item_title"] or e["note"]] for e in data["entries"]]
        text = fmt.table(["ID", f"START ({p.timezone})", "END", "MIN", "BILLED", "SOURCE", "WHAT"], rows, {6: 50},
                         empty=f"No time for {p.name} from {first} to {end - date.resolution}.")
        t = data["totals"]
        text += (f"\nBillable {t['billable_minutes']:.0f} min, billed {t['billed_minutes']:.0f} min"
                 + (f", {t['amount']} {t['currency']}" if t["amount"] is not None else "")
                 + f"; not billable {t['non_billable_minutes']:.0f} min")
        if data["running"]:
            text += f"\nA timer is running since {data['running']['start_local'][11:16]}."
        return text

    out.emit(data, human)
    return 0


def cmd_time_export(args: argparse.Namespace, out: Output) -> int:
    from assistant import timekeeping

    with fmt.open_workspace(args) as store:
        p = fmt.principal_from(args, store)
        first, end = timekeeping.month_period(args.month)
        sheet = timekeeping.timesheet(store, p.id, first, end)
    target = Path(args.output)
    if args.format == "pdf":
        from assistant.ui.pdf import write_pdf

        write_pdf(timekeeping.timesheet_html(sheet), target, title=f"Timesheet {p.name} {args.month}",
                  letter=_letter(p), one_line_column=timekeeping.TIMESHEET_WORK_COLUMN)
    else:
        target.write_text(timekeeping.timesheet_csv(sheet), encoding="utf-8")
    out.emit({"path": str(target), "entries": len(sheet.lines), "billed_minutes": float(sheet.billed_minutes),
              "amount": None if sheet.amount is None else str(sheet.amount)},
             lambda: f"Wrote {target} ({len(sheet.lines)} entries)")
    return 0


def _letter(p: Any) -> bool:
    from assistant.timekeeping import letter_paper

    return letter_paper(p)


def cmd_invoice(args: argparse.Namespace, out: Output) -> int:
    from assistant import timekeeping
    from assistant.ui.pdf import write_pdf

    with fmt.open_workspace(args) as store:
        p = fmt.principal_from(args, store)
        first, end = timekeeping.month_period(args.month)
        sheet = timekeeping.timesheet(store, p.id, first, end)
    number = args.number or f"{args.month}-{p.id:03d}"
    issued = timezones.in_zone(timezones.now_utc(), timezones.assistant_zone_name()).date()
    html = timekeeping.invoice_html(sheet, number=number, issued=issued, issuer=(args.issuer or "Your assistant").replace("\\n", "\n"),
                                    group=args.group)
    target = Path(args.output)
    write_pdf(html, target, title=f"Invoice {number}", letter=_letter(p))
    out.emit({"path": str(target), "number": number, "billed_minutes": float(sheet.billed_minutes),
              "amount": str(sheet.amount), "currency": sheet.billing.currency},
             lambda: f"Wrote invoice {number} to {target}: {sheet.amount} {sheet.billing.currency}")
    return 0


def set_billing(args: argparse.Namespace, store: Any, principal_id: int) -> dict[str, Any] | None:
    """The billing part of ``principal set``; None when no billing option was given."""
    from assistant.store import time as time_store

    given = [args.rate, args.currency, args.retainer_hours, args.rounding, args.rounding_per, args.per]
    if all(v is None for v in given):
        return None
    scope = store.scope(principal_id)
    b = time_store.billing(scope)
    if args.rate is not None:
        b.rate = None if args.rate.strip().lower() in ("", "none") else time_store.parse_rate(args.rate)
    if args.currency is not None:
        b.currency = args.currency
    if args.retainer_hours is not None:
        b.retainer_minutes = None if args.retainer_hours <= 0 else round(args.retainer_hours * 60)
        b.retainer_per = args.per or b.retainer_per or "month"
    elif args.per is not None:
        b.retainer_per = args.per
    if args.rounding is not None:
        b.rounding_min = args.rounding
    if args.rounding_per is not None:
        b.rounding_per = args.rounding_per
    b = time_store.save_billing(scope, b)
    return {"rate": None if b.rate is None else str(b.rate), "currency": b.currency or None,
            "retainer_hours": None if b.retainer_minutes is None else b.retainer_minutes / 60,
            "retainer_per": b.retainer_per or None, "rounding_min": b.rounding_min, "rounding_per": b.rounding_per}


def add_billing_options(p_set: argparse.ArgumentParser) -> None:
    p_set.add_argument("--rate", metavar="AMOUNT", help="hourly rate ('none' removes it)")
    p_set.add_argument("--currency", metavar="CODE", help="ISO 4217 currency of the rate, e.g. USD, EUR, NGN")
    p_set.add_argument("--retainer-hours", type=float, metavar="H", help="hours included per --per (0 removes it)")
    p_set.add_argument("--per", choices=["month", "week"], help="the retainer's period (default month)")
    p_set.add_argument("--rounding", type=int, choices=[0, 6, 10, 15], metavar="MIN",
                       help="round billable time up to 0 (exact), 6, 10 or 15 minutes")
    p_set.add_argument("--rounding-per", choices=["entry", "day"], help="round each entry (default) or each day")


def register(commands: Any) -> None:
    from assistant.cli.format import Parser as _Parser

    time = commands.add_parser("time", help="time worked per principal: timer, entries, list, timesheet export")
    sub = time.add_subparsers(metavar="ACTION", required=True, parser_class=_Parser)
    start = sub.add_parser("start", help="start the timer for a principal (work outside the app)")
    start.add_argument("--principal", metavar="NAME", required=True)
    start.add_argument("--card", type=int, metavar="ID", help="the card worked on")
    start.add_argument("--note", metavar="TEXT")
    start.set_defaults(handler=cmd_time_start)
    sub.add_parser("stop", help="stop the running timer").set_defaults(handler=cmd_time_stop)
    add = sub.add_parser("add", help="add time worked, afterwards")
    add.add_argument("--principal", metavar="NAME", required=True)
    add.add_argument("--from", dest="since", metavar="WHEN", required=True,
                     help="'YYYY-MM-DD HH:MM' in the principal's zone, 'today 9:00', or ISO 8601 with an offset")
    add.add_argument("--to", dest="until", metavar="WHEN", required=True)
    add.add_argument("--note", metavar="TEXT")
    add.add_argument("--non-billable", action="store_true")
    add.set_defaults(handler=cmd_time_add)
    lst = sub.add_parser("list", help="a principal's time, with totals after rounding (default: their today)")
    lst.add_argument("--principal", metavar="NAME", required=True)
    lst.add_argument("--from", dest="since", metavar="WHEN")
    lst.add_argument("--to", dest="until", metavar="WHEN")
    lst.add_argument("--day", metavar="YYYY-MM-DD")
    lst.add_argument("--week", action="store_true", help="this week (Monday to Sunday, the principal's)")
    lst.add_argument("--month", metavar="YYYY-MM")
    lst.set_defaults(handler=cmd_time_list)
    export = sub.add_parser("export", help="a month's timesheet as CSV or PDF")
    export.add_argument("--principal", metavar="NAME", required=True)
    export.add_argument("--month", metavar="YYYY-MM", required=True)
    export.add_argument("--format", choices=["csv", "pdf"], default="csv")
    export.add_argument("-o", "--output", metavar="FILE", required=True)
    export.set_defaults(handler=cmd_time_export)

    invoice = commands.add_parser("invoice", help="a month's invoice to a principal, as PDF")
    invoice.add_argument("--principal", metavar="NAME", required=True)
    invoice.add_argument("--month", metavar="YYYY-MM", required=True)
    invoice.add_argument("-o", "--output", metavar="FILE.pdf", required=True)
    invoice.add_argument("--number", metavar="N", help="the invoice number (default YYYY-MM-principal id)")
    invoice.add_argument("--group", choices=["day", "item"], default="day", help="one line per day or per work item")
    invoice.add_argument("--issuer", metavar="TEXT", help="your name and address, lines separated by \\n")
    invoice.set_defaults(handler=cmd_invoice)
