"""``assistant report …``: a principal's end-of-day report and weekly summary (printed, saved as a draft, or
submitted), and their report template (what it shows, how it greets and signs, when it is made)."""
from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from assistant.cli import format as fmt
from assistant.cli.format import Output
from assistant.core import timezones
from assistant.core.errors import InvalidInput
from assistant.domain import ReportKind, ReportTemplate


def _day(text: str | None, zone: str) -> date:
    if not text:
        return timezones.in_zone(timezones.now_utc(), zone).date()
    try:
        if "-W" in text.upper():  # an ISO week, 2026-W50: its Monday
            return date.fromisocalendar(int(text[:4]), int(text.upper().split("-W")[1]), 1)
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a day: give it as YYYY-MM-DD (or a week as YYYY-Www)") from None


def _report(args: argparse.Namespace, out: Output, kind: ReportKind) -> int:
    from assistant import reports
    from assistant.cli.drafts import _draft_json
    from assistant.reports import templates

    with fmt.open_workspace(args) as store:
        p = fmt.principal_from(args, store)
        day = _day(args.week if kind == ReportKind.WEEKLY else args.date, p.timezone)
        show_time = False if args.no_time else None
        draft: dict[str, Any] | None = None
        state = None
        if args.save or args.submit:
            d, state = reports.report_draft(store, p.id, day, kind=kind, signed=args.signed or "", show_time=show_time,
                                            submit=args.submit)
            subject, body = d.subject, d.body_text
            draft = _draft_json(store, d)
        else:
            f = reports.week_facts(store, p.id, day) if kind == ReportKind.WEEKLY else reports.facts(store, p.id, day)
            subject, body = reports.report_text(f, signed=args.signed or "", show_time=show_time,
                                                template=templates.template(store, p.id), kind=kind)
    data = {"principal": p.name, "kind": kind.value, "date": day.isoformat(), "to": p.primary_address,
            "report": {"subject": subject, "body": body}, "draft": draft, "state": state}

    def human() -> str:
        text = f"To: {p.name} <{p.primary_address}>\nSubject: {subject}\n\n{body}"
        if draft is not None:
            text += f"\nDraft {draft['id']}: {state}"
        return text

    out.emit(data, human)
    return 0


def cmd_report_eod(args: argparse.Namespace, out: Output) -> int:
    return _report(args, out, ReportKind.EOD)


def cmd_report_weekly(args: argparse.Namespace, out: Output) -> int:
    return _report(args, out, ReportKind.WEEKLY)


def cmd_report_due(args: argparse.Namespace, out: Output) -> int:
    """Make every report that is due now and not made yet, as the open window would: for a cron job or a systemd timer
    while the window is closed. The same claim as the window's (``reports_made``), so neither makes one twice."""
    from assistant.reports import schedule

    now = timezones.now_utc()
    with fmt.open_workspace(args) as store:
        made = schedule.make_due(store, now)
        next_at = schedule.next_due(store, now)
    data = {"made": [{"principal": m.principal_name, "kind": m.kind.value, "period": m.period.isoformat(),
                      "draft_id": m.draft_id or None, "state": m.state, "error": m.error or None} for m in made],
            "next_due": next_at.isoformat() if next_at else None}

    def human() -> str:
        lines = [schedule.describe(m) for m in made] or ["No report is due now."]
        if next_at is not None:
            lines.append(f"Next: {fmt.shown(next_at, timezones.assistant_zone_name())}")
        return "\n".join(lines)

    out.emit(data, human)
    return 1 if any(not m.draft_id for m in made) else 0


def template_json(t: ReportTemplate) -> dict[str, Any]:
    return {"sections": list(t.sections), "greeting": t.greeting, "sign_off": t.sign_off, "signed": t.signed,
            "date_language": t.date_locale, "show_time": t.show_time,
            "eod_at": f"{t.eod_at:%H:%M}" if t.eod_at else None,
            "weekly_at": f"{t.weekly_at:%H:%M}" if t.weekly_at else None}


def cmd_report_template(args: argparse.Namespace, out: Output) -> int:
    from assistant.reports import templates

    with fmt.open_workspace(args) as store:
        p = fmt.principal_from(args, store)
        t = templates.template(store, p.id)
        changed = False
        if args.sections is not None:
            t.sections, changed = templates.parse_sections(args.sections), True
        for name in ("greeting", "sign_off", "signed"):
            if getattr(args, name) is not None:
                setattr(t, name, getattr(args, name))
                changed = True
        if args.date_language is not None:
            t.date_locale, changed = args.date_language, True
        if args.show_time is not None:
            t.show_time, changed = args.show_time == "yes", True
        if args.eod_at is not None:
            t.eod_at, changed = templates.parse_at(args.eod_at), True
        if args.weekly_at is not None:
            t.weekly_at, changed = templates.parse_at(args.weekly_at), True
        if changed:
            t = templates.save_template(store, p.id, t)
    j = template_json(t)
    data = {"principal": p.name, "timezone": p.timezone, "template": j}

    def human() -> str:
        return "\n".join([
            f"Reports to {p.name} (times in {p.timezone}):",
            f"  sections:       {', '.join(j['sections']) or '(none)'}; time spent {'shown' if t.show_time else 'not shown'}",
            f"  greeting:       {t.greeting or '(none)'}",
            f"  sign-off:       {t.sign_off or '(none)'} / {t.signed or '(your full name)'}",
            f"  date language:  {t.date_locale or '(English as in their region)'}",
            f"  end of day:     {j['eod_at'] or 'on demand only'}" + (" on their working days" if t.eod_at else ""),
            f"  weekly summary: {j['weekly_at'] or 'on demand only'}"
            + (" on the last working day of their week" if t.weekly_at else ""),
        ])

    out.emit(data, human)
    return 0


def register(commands: Any) -> None:
    from assistant.cli.format import Parser as _Parser

    report = commands.add_parser("report", help="reports to principals: end of day, the week, and their template")
    sub = report.add_subparsers(metavar="KIND", required=True, parser_class=_Parser)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--principal", metavar="NAME", required=True)
        p.add_argument("--save", action="store_true", help="save it as a draft to the principal")
        p.add_argument("--submit", action="store_true", help="save it and submit it (their approval policy applies)")
        p.add_argument("--no-time", action="store_true", help="leave the time spent out")
        p.add_argument("--signed", metavar="NAME", help="your name under it (default: the template's, else your "
                                                        "account's full name)")

    eod = sub.add_parser("eod", help="the end-of-day report: printed, or --save as a draft, or --submit it")
    common(eod)
    eod.add_argument("--date", metavar="YYYY-MM-DD", help="the principal's day (default: their today)")
    eod.set_defaults(handler=cmd_report_eod)

    weekly = sub.add_parser("weekly", help="the weekly summary: printed, or --save as a draft, or --submit it")
    common(weekly)
    weekly.add_argument("--week", metavar="YYYY-Www|YYYY-MM-DD", help="the week, or a day in it (default: this week)")
    weekly.set_defaults(handler=cmd_report_weekly)

    due = sub.add_parser("due", help="make every scheduled report that is due now and not made yet (for cron or a "
                                     "systemd timer while the window is closed)")
    due.set_defaults(handler=cmd_report_due)

    template = sub.add_parser("template", help="show or change a principal's report template and schedule")
    template.add_argument("--principal", metavar="NAME", required=True)
    template.add_argument("--sections", metavar="LIST",
                          help="comma-separated, of: mail, approvals, calls, done, due, meetings ('' for none)")
    template.add_argument("--greeting", metavar="TEXT", help="first line; {first} and {name} are theirs")
    template.add_argument("--sign-off", metavar="TEXT", help="the line above your name (e.g. 'Best,')")
    template.add_argument("--signed", metavar="NAME", help="your name under it ('' for your account's full name)")
    template.add_argument("--date-language", metavar="LOCALE", help="dates written as in en_GB, de, fr, ja …")
    template.add_argument("--show-time", choices=("yes", "no"), help="whether the time spent is in it")
    template.add_argument("--eod-at", metavar="HH:MM|off",
                          help="make the end-of-day report at this time, their zone, on their working days")
    template.add_argument("--weekly-at", metavar="HH:MM|off",
                          help="make the weekly summary at this time on the last working day of their week")
    template.set_defaults(handler=cmd_report_template)
