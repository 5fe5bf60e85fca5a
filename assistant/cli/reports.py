"""``assistant report eod``: a principal's end-of-day report, printed, saved as a draft, or submitted."""
from __future__ import annotations

import argparse
import getpass
from datetime import date
from typing import Any

from assistant.cli import format as fmt
from assistant.cli.format import Output
from assistant.core import timezones
from assistant.core.errors import InvalidInput


def _signed(args: argparse.Namespace) -> str:
    if args.signed:
        return str(args.signed)
    try:
        import pwd  # POSIX only

        gecos = str(pwd.getpwuid(__import__("os").getuid()).pw_gecos).split(",")[0].strip()
    except (ImportError, KeyError, OSError):
        gecos = ""
    return gecos or getpass.getuser()


def cmd_report_eod(args: argparse.Namespace, out: Output) -> int:
    from assistant import reports
    from assistant.cli.drafts import _draft_json

    with fmt.open_workspace(args) as store:
        p = fmt.principal_from(args, store)
        if args.date:
            try:
                day = date.fromisoformat(args.date)
            except ValueError:
                raise InvalidInput(f"{args.date!r} is not a day: give it as YYYY-MM-DD") from None
        else:
            day = timezones.in_zone(timezones.now_utc(), p.timezone).date()
        draft: dict[str, Any] | None = None
        state = None
        if args.save or args.submit:
            d, state = reports.eod_draft(store, p.id, day, signed=_signed(args), show_time=not args.no_time,
                                         submit=args.submit)
            subject, body = d.subject, d.body_text
            draft = _draft_json(store, d)
        else:
            subject, body = reports.report_text(reports.facts(store, p.id, day), signed=_signed(args),
                                                show_time=not args.no_time)
    data = {"principal": p.name, "date": day.isoformat(), "to": p.primary_address,
            "report": {"subject": subject, "body": body}, "draft": draft, "state": state}

    def human() -> str:
        text = f"To: {p.name} <{p.primary_address}>\nSubject: {subject}\n\n{body}"
        if draft is not None:
            text += f"\nDraft {draft['id']}: {state}"
        return text

    out.emit(data, human)
    return 0


def register(commands: Any) -> None:
    from assistant.cli.format import Parser as _Parser

    report = commands.add_parser("report", help="reports to principals: the end-of-day report")
    sub = report.add_subparsers(metavar="KIND", required=True, parser_class=_Parser)
    eod = sub.add_parser("eod", help="the end-of-day report: printed, or --save as a draft, or --submit it")
    eod.add_argument("--principal", metavar="NAME", required=True)
    eod.add_argument("--date", metavar="YYYY-MM-DD", help="the principal's day (default: their today)")
    eod.add_argument("--save", action="store_true", help="save it as a draft to the principal")
    eod.add_argument("--submit", action="store_true", help="save it and submit it (their approval policy applies)")
    eod.add_argument("--no-time", action="store_true", help="leave the time spent out")
    eod.add_argument("--signed", metavar="NAME", help="your name under it (default: your account's full name)")
    eod.set_defaults(handler=cmd_report_eod)
