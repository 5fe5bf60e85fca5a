"""``assistant call …``: log, list, import, export, totals and follow-ups of a principal's calls."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.calls.export import call_json, write_csv
from assistant.cli import format as fmt
from assistant.cli.format import Output
from assistant.core import timezones
from assistant.core.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from assistant.domain import Principal
    from assistant.importing.base import ImportProgress
    from assistant.store import Store
    from assistant.store.calls import CallFilter

DIRECTIONS = ("in", "out", "missed", "voicemail")


def cmd_call_log(args: argparse.Namespace, out: Output) -> int:
    from assistant.calls.manual import log_call

    if args.duration is not None and args.duration < 0:
        raise InvalidInput("--duration must be 0 or more seconds")
    with fmt.open_workspace(args) as store:
        principal = fmt.principal_from(args, store)
        started = timezones.parse_when(args.at, principal.timezone) if args.at else timezones.now_utc()
        call = log_call(store, principal.id, number=args.number, direction=args.direction, started_utc=started,
                        duration_s=args.duration or 0, caller_name=args.name or "", outcome=args.outcome or "",
                        notes=args.notes or "")
    data = {"principal": principal.name, "call": call_json(call, principal.timezone)}
    who = call.caller_name or call.number_e164 or call.number_raw or "withheld"
    out.emit(data, lambda: f"Logged call {call.id} ({call.direction.value}, {who}) for {principal.name}.")
    return 0


def cmd_call_edit(args: argparse.Namespace, out: Output) -> int:
    from assistant.calls.manual import edit_call

    with fmt.open_workspace(args) as store:
        principal = fmt.principal_from(args, store)
        call = edit_call(store, principal.id, args.id, caller_name=args.name, outcome=args.outcome, notes=args.notes,
                         duration_s=args.duration)
    out.emit({"principal": principal.name, "call": call_json(call, principal.timezone)},
             lambda: f"Call {call.id} of {principal.name} updated ({_duration(call.duration_s)}).")
    return 0


def _filter(args: argparse.Namespace, store: Store, principal: Principal) -> CallFilter:
    from assistant.core.phones import normalise
    from assistant.store.calls import CallFilter, contact_keys_named, today_bounds

    f = CallFilter(direction="missed" if args.missed else (args.direction or ""))
    if args.today:
        f.since_utc, f.until_utc = today_bounds(principal.timezone)
    if args.number:
        f.party_key = normalise(args.number, principal.region).key
    if args.contact:
        f.text = args.contact
        f.also_keys = contact_keys_named(store.scope(principal.id), args.contact, principal.region)
    return f


def cmd_call_list(args: argparse.Namespace, out: Output) -> int:
    from assistant.store.calls import calls_page

    with fmt.open_workspace(args) as store:
        principal = fmt.principal_from(args, store)
        calls = calls_page(store.scope(principal.id), _filter(args, store, principal), limit=args.limit)
    zone = principal.timezone
    rows = [call_json(c, zone) for c in calls]
    out.emit(
        {"principal": principal.name, "timezone": zone, "calls": rows},
        lambda: fmt.table(
            ["ID", "WHEN (" + zone + ")", "DIR", "NUMBER AS TYPED", "E.164", "NAME", "DURATION", "NOTES"],
            [[c.id, fmt.shown(c.started_utc, zone), c.direction.value, c.number_raw or "—",
              c.number_e164 or ("(invalid)" if r["number_kind"] == "invalid" else f"({r['number_kind']})"),
              c.caller_name, _duration(c.duration_s), c.notes] for c, r in zip(calls, rows, strict=False)],
            {5: 30, 7: 40}, empty=f"No calls for {principal.name}.",
        ),
    )
    return 0


def _duration(seconds: int) -> str:
    hours, rest = divmod(max(0, seconds), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def cmd_call_import(args: argparse.Namespace, out: Output) -> int:
    from assistant.importing.calls import import_calls, parse_mapping

    path = Path(args.path).expanduser()
    if not path.exists():
        raise NotFound(f"{path} does not exist")
    mapping = parse_mapping(args.map) if args.map else None
    with fmt.open_workspace(args) as store, fmt.ProgressLine() as line:
        principal = fmt.principal_from(args, store)

        def progress(p: ImportProgress) -> None:  # after each committed batch
            line.show(f"{p.items:,} read: {p.imported:,} imported, {p.skipped:,} skipped, {p.rejected:,} rejected")

        report = import_calls(store, principal.id, path, mapping=mapping, progress=progress)
    data = {"principal": principal.name, "path": str(path.resolve()), **report.to_json()}
    out.emit(data, lambda: "\n".join(
        [f"Imported {report.imported} calls, skipped {report.skipped} (duplicates and texts), rejected "
         f"{len(report.rejected)} into {principal.name}."]
        + [f"  rejected {item}: {reason}" for item, reason in report.rejected]
    ))
    return 0


def cmd_call_export(args: argparse.Namespace, out: Output) -> int:
    from assistant.store.calls import calls_page, count_calls

    with fmt.open_workspace(args) as store:
        principal = fmt.principal_from(args, store)
        scope = store.scope(principal.id)
        f = _filter(args, store, principal)
        total = count_calls(scope, f)
        calls = calls_page(scope, f, limit=max(total, 1))
    target = open(args.output, "w", newline="", encoding="utf-8") if args.output != "-" else sys.stdout
    try:
        write_csv(target, calls, principal.timezone)
    finally:
        if target is not sys.stdout:
            target.close()
    if args.output != "-":
        out.emit({"principal": principal.name, "path": str(Path(args.output).resolve()), "exported": len(calls)},
                 lambda: f"Exported {len(calls)} calls of {principal.name} to {args.output}.")
    return 0


def cmd_call_totals(args: argparse.Namespace, out: Output) -> int:
    from assistant.store.calls import talk_time

    with fmt.open_workspace(args) as store:
        principal = fmt.principal_from(args, store)
        totals = talk_time(store.scope(principal.id), principal.timezone, by=args.by)
    out.emit({"principal": principal.name, "by": args.by, "timezone": principal.timezone, "totals": totals},
             lambda: fmt.table([args.by.upper(), "CALLS", "TALK TIME"],
                               [[t["period"], t["calls"], _duration(t["seconds"])] for t in totals],
                               empty=f"No calls for {principal.name}."))
    return 0


def cmd_call_back(args: argparse.Namespace, out: Output) -> int:
    from assistant.calls.manual import call_back
    from assistant.store.calls import get_call

    with fmt.open_workspace(args) as store:
        principal = fmt.principal_from(args, store)
        call = get_call(store.scope(principal.id), args.id)
        due = timezones.parse_when(args.at, principal.timezone)
        reminder = call_back(store, principal.id, call, due, args.text or "")
    data = {"principal": principal.name, "call_id": call.id, "reminder_id": getattr(reminder, "id", None),
            "text": getattr(reminder, "text", ""), "due_utc": fmt.iso_utc(due),
            "due_local": fmt.iso_local(due, principal.timezone),
            "due_assistant": fmt.iso_local(due, timezones.assistant_zone_name())}
    out.emit(data, lambda: f"Reminder to call back at {fmt.shown(due, principal.timezone)} "
                           f"({fmt.shown(due, timezones.assistant_zone_name())} your time).")
    return 0


def cmd_call_task(args: argparse.Namespace, out: Output) -> int:
    from assistant.board.service import make_task_from
    from assistant.store.calls import get_call

    with fmt.open_workspace(args) as store:
        principal = fmt.principal_from(args, store)
        call = get_call(store.scope(principal.id), args.id)
        task = make_task_from(store, principal.id, "call", call.id, args.title or "")
    out.emit({"principal": principal.name, "task": {"id": task.id, "title": task.title, "link": task.link}},
             lambda: f"Task {task.id} '{task.title}' made from call {call.id}.")
    return 0


def register(commands: Any) -> None:
    parser_class = commands._parser_class
    call = commands.add_parser("call", help="log, list, import and export a principal's calls")
    actions = call.add_subparsers(metavar="ACTION", required=True, parser_class=parser_class)

    log = actions.add_parser("log", help="log one call")
    log.add_argument("--principal", metavar="NAME", required=True)
    log.add_argument("--number", metavar="N", required=True, help="as typed; E.164 is worked out in the principal's region")
    log.add_argument("--direction", choices=DIRECTIONS, required=True)
    log.add_argument("--duration", metavar="SECONDS", type=int)
    log.add_argument("--at", metavar="WHEN", help="ISO 8601 with an offset, or 'YYYY-MM-DD HH:MM' in the principal's zone")
    log.add_argument("--name", metavar="TEXT", help="caller name (default: from the contacts)")
    log.add_argument("--outcome", metavar="TEXT")
    log.add_argument("--notes", metavar="TEXT")
    log.set_defaults(handler=cmd_call_log)

    edit = actions.add_parser("edit", help="change a call's name, outcome, notes or duration (its time follows)")
    edit.add_argument("id", type=int, metavar="CALL_ID")
    edit.add_argument("--principal", metavar="NAME", required=True)
    edit.add_argument("--duration", metavar="SECONDS", type=int)
    edit.add_argument("--name", metavar="TEXT")
    edit.add_argument("--outcome", metavar="TEXT")
    edit.add_argument("--notes", metavar="TEXT")
    edit.set_defaults(handler=cmd_call_edit)

    def filters(p: argparse.ArgumentParser) -> None:
        p.add_argument("--principal", metavar="NAME", required=True)
        p.add_argument("--missed", action="store_true", help="missed calls only")
        p.add_argument("--direction", choices=DIRECTIONS)
        p.add_argument("--today", action="store_true", help="today in the principal's zone")
        p.add_argument("--number", metavar="N", help="calls with this number")
        p.add_argument("--contact", metavar="TEXT", help="calls whose name, number or notes match")

    listing = actions.add_parser("list", help="list a principal's calls, newest first")
    filters(listing)
    listing.add_argument("--limit", type=int, default=200)
    listing.set_defaults(handler=cmd_call_list)

    importer = actions.add_parser("import", help="import a call-log export (format read from the content)")
    importer.add_argument("path", metavar="PATH")
    importer.add_argument("--principal", metavar="NAME", required=True)
    importer.add_argument("--map", metavar="FIELD=COLUMN,…",
                          help="columns of a generic CSV (start, number, direction, duration, name, notes, outcome, "
                               "time, id); remembered for CSVs with the same header")
    importer.set_defaults(handler=cmd_call_import)

    export = actions.add_parser("export", help="write a principal's calls as CSV")
    filters(export)
    export.add_argument("--output", "-o", metavar="FILE", default="-", help="default: standard output")
    export.set_defaults(handler=cmd_call_export)

    totals = actions.add_parser("totals", help="talk time per day or week in the principal's zone")
    totals.add_argument("--principal", metavar="NAME", required=True)
    totals.add_argument("--by", choices=("day", "week"), default="day")
    totals.set_defaults(handler=cmd_call_totals)

    back = actions.add_parser("back", help="a reminder to call back, at a time in the principal's zone")
    back.add_argument("id", type=int, metavar="CALL_ID")
    back.add_argument("--principal", metavar="NAME", required=True)
    back.add_argument("--at", metavar="WHEN", required=True)
    back.add_argument("--text", metavar="TEXT")
    back.set_defaults(handler=cmd_call_back)

    task = actions.add_parser("task", help="make a task from a call")
    task.add_argument("id", type=int, metavar="CALL_ID")
    task.add_argument("--principal", metavar="NAME", required=True)
    task.add_argument("--title", metavar="TEXT")
    task.set_defaults(handler=cmd_call_task)
