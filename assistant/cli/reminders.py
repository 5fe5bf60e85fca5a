"""``assistant remind …`` and ``assistant reminders list``: set, snooze, configure and list reminders."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from assistant import reminders
from assistant.cli import format as fmt
from assistant.cli.format import Output
from assistant.core import timezones
from assistant.core.errors import NotFound, UsageError
from assistant.domain import ReminderState
from assistant.store import mail as mail_store
from assistant.store.reminders import NOTIFY_CHOICES

if TYPE_CHECKING:
    from assistant.domain import Principal, Reminder

WHEN_HELP = "ISO 8601 with an offset, or 'YYYY-MM-DD HH:MM' in the principal's zone"


def reminder_json(r: Reminder, principal: Principal, assistant_zone: str) -> dict[str, Any]:
    return {
        "id": r.id,
        "principal": principal.name,
        "kind": r.kind,
        "text": r.text,
        "state": r.state,
        "missed": bool(getattr(r, "missed", False)),
        "urgent": bool(getattr(r, "urgent", False)),
        "link": r.link,
        "rrule": r.rrule,
        "due_utc": fmt.iso_utc(r.due_utc),
        "due_principal": fmt.iso_local(r.due_utc, principal.timezone),
        "principal_timezone": principal.timezone,
        "due_assistant": fmt.iso_local(r.due_utc, assistant_zone),
        "assistant_timezone": assistant_zone,
    }


def cmd_remind_add(args: argparse.Namespace, out: Output) -> int:
    with fmt.open_workspace(args) as store:
        principal = fmt.principal_from(args, store)
        due = timezones.parse_when(args.at, principal.timezone)
        r = reminders.add_reminder(store, principal.id, kind=args.kind, text=args.text, due_utc=due,
                                   rrule=args.repeat or "", urgent=args.urgent)
    zone = timezones.assistant_zone_name()
    data = reminder_json(r, principal, zone)
    out.emit(data, lambda: f"Reminder {r.id} for {principal.name} at {fmt.shown(r.due_utc, principal.timezone)}"
                           f" ({fmt.shown(r.due_utc, zone)} here).")
    return 0


def cmd_remind_follow_up(args: argparse.Namespace, out: Output) -> int:
    with fmt.open_workspace(args) as store:
        principal = fmt.principal_from(args, store)
        scope = store.scope(principal.id)
        if args.message.isdigit():
            message_id = int(args.message)
        else:
            found = mail_store.message_by_header_id(scope, args.message if args.message.startswith("<") else f"<{args.message}>")
            if found is None:
                raise NotFound(f"no message {args.message!r} for {principal.name}")
            message_id = found.id
        due = timezones.parse_when(args.at, principal.timezone)
        r = reminders.follow_up_if_no_reply(store, principal.id, message_id, due, text=args.text or "")
    data = reminder_json(r, principal, timezones.assistant_zone_name())
    out.emit(data, lambda: f"Follow-up {r.id} for {principal.name} at {fmt.shown(r.due_utc, principal.timezone)}"
                           " unless a reply arrives first.")
    return 0


def cmd_remind_snooze(args: argparse.Namespace, out: Output) -> int:
    with fmt.open_workspace(args) as store:
        principal = fmt.principal_from(args, store)
        if args.until:
            r = reminders.snooze(store, principal.id, args.id, timezones.parse_when(args.until, principal.timezone))
        else:
            r = reminders.snooze_to_business_morning(store, principal.id, args.id)
    data = reminder_json(r, principal, timezones.assistant_zone_name())
    out.emit(data, lambda: f"Reminder {r.id} snoozed until {fmt.shown(r.due_utc, principal.timezone)}.")
    return 0


def cmd_remind_settings(args: argparse.Namespace, out: Output) -> int:
    with fmt.open_workspace(args) as store:
        if args.principal:
            principal = fmt.principal_from(args, store)
            s = reminders.set_notification_settings(store, principal.id, notify=args.notify, quiet_hours=args.quiet)
            quiet = f"{s.quiet_start:%H:%M}-{s.quiet_end:%H:%M}" if s.quiet_start and s.quiet_end else ""
            data: dict[str, str | None] = {"principal": principal.name, "notify": s.notify, "quiet_hours": quiet}
        else:
            if args.notify is not None:
                raise UsageError("--notify is set per principal: give --principal NAME")
            if args.quiet is not None:
                reminders.set_assistant_quiet_hours(store, args.quiet)
            start, end = reminders.assistant_quiet_hours(store)
            quiet = f"{start:%H:%M}-{end:%H:%M}" if start and end else ""
            data = {"principal": None, "quiet_hours": quiet, "timezone": timezones.assistant_zone_name()}
    who = data["principal"] or "the assistant"
    out.emit(data, lambda: f"Notifications for {who}: {data.get('notify', 'on')}; quiet hours {quiet or 'none'}.")
    return 0


def cmd_reminders_list(args: argparse.Namespace, out: Output) -> int:
    with fmt.open_workspace(args) as store:
        zone = timezones.assistant_zone_name()
        principals = fmt.principals_from(args, store)
        before = None
        if args.due_before:
            before = timezones.parse_when(args.due_before, principals[0].timezone if args.principal else zone)
        states = None if args.all else (ReminderState.PENDING,)
        rows = []
        from assistant.store import reminders as rstore

        for p in principals:
            for r in rstore.listed(store.scope(p.id), states=states, due_before=before):
                rows.append((r, p))
    rows.sort(key=lambda t: (t[0].due_utc, t[0].id))
    data = {"assistant_timezone": zone, "reminders": [reminder_json(r, p, zone) for r, p in rows]}

    def human() -> str:
        return fmt.table(
            ["id", "principal", "kind", "due (UTC)", "due (principal)", f"due ({zone})", "state", "text"],
            [[r.id, p.name, r.kind, f"{timezones.to_utc(r.due_utc):%Y-%m-%d %H:%M}",
              fmt.shown(r.due_utc, p.timezone), fmt.shown(r.due_utc, zone),
              r.state + (" (missed)" if r.missed else ""), r.text] for r, p in rows],
            clip={7: 50}, empty="No reminders.")

    out.emit(data, human)
    return 0


def register(commands: Any) -> None:
    parser_class = commands._parser_class
    remind = commands.add_parser("remind", help="set, snooze and configure reminders")
    actions = remind.add_subparsers(metavar="ACTION", required=True, parser_class=parser_class)

    add = actions.add_parser("add", help="a reminder for a principal at a time")
    add.add_argument("text", metavar="TEXT")
    add.add_argument("--principal", metavar="NAME", required=True)
    add.add_argument("--at", metavar="WHEN", required=True, help=WHEN_HELP)
    add.add_argument("--repeat", metavar="RRULE", help="e.g. FREQ=WEEKLY;BYDAY=MO, read in the principal's zone")
    add.add_argument("--kind", choices=reminders.KINDS, default="free")
    add.add_argument("--urgent", action="store_true", help="pops up even in quiet hours and with 'only urgent'")
    add.set_defaults(handler=cmd_remind_add)

    follow = actions.add_parser("follow-up", help="remind unless a reply to a message arrives through sync first")
    follow.add_argument("message", metavar="MESSAGE", help="the message's id in the workspace, or its Message-ID")
    follow.add_argument("--principal", metavar="NAME", required=True)
    follow.add_argument("--at", metavar="WHEN", required=True, help=WHEN_HELP)
    follow.add_argument("--text", metavar="TEXT")
    follow.set_defaults(handler=cmd_remind_follow_up)

    snooze = actions.add_parser("snooze", help="move a reminder later (default: the principal's next business morning)")
    snooze.add_argument("id", metavar="ID", type=int)
    snooze.add_argument("--principal", metavar="NAME", required=True)
    snooze.add_argument("--until", metavar="WHEN", help=WHEN_HELP)
    snooze.set_defaults(handler=cmd_remind_snooze)

    settings = actions.add_parser("settings", help="notifications (on, urgent, off) and quiet hours")
    settings.add_argument("--principal", metavar="NAME", help="without it: the assistant's own quiet hours")
    settings.add_argument("--notify", choices=NOTIFY_CHOICES)
    settings.add_argument("--quiet", metavar="HH:MM-HH:MM", help="quiet hours ('' to clear), in that person's zone")
    settings.set_defaults(handler=cmd_remind_settings)

    listing_group = commands.add_parser("reminders", help="list reminders")
    listing_actions = listing_group.add_subparsers(metavar="ACTION", required=True, parser_class=parser_class)
    listing = listing_actions.add_parser("list", help="pending reminders, in UTC, the principal's zone and yours")
    listing.add_argument("--principal", metavar="NAME")
    listing.add_argument("--due-before", metavar="WHEN", help=WHEN_HELP + " (yours without --principal)")
    listing.add_argument("--all", action="store_true", help="also fired, dismissed and cancelled ones")
    listing.set_defaults(handler=cmd_reminders_list)
