"""The ``assistant`` command: for scripting and support; the same store and engine the app uses.

Exit status: 0 on success, 2 on a usage error, 1 otherwise with one line on stderr (a traceback only with ``--debug``).
``--json`` prints exactly one JSON object on stdout; its shape per command is documented in README.md.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from assistant import __version__
from assistant.cli.format import PROG, Output
from assistant.cli.format import iso_local as _iso_local
from assistant.cli.format import iso_utc as _iso_utc
from assistant.cli.format import one_line as _one_line
from assistant.cli.format import open_workspace as _open_workspace
from assistant.cli.format import principal_from as _principal_from
from assistant.cli.format import principals_from as _principals_from
from assistant.cli.format import shown as _shown
from assistant.cli.format import table as _table
from assistant.core import timezones
from assistant.core.errors import InvalidInput, NotFound, UsageError, UserError
from assistant.store import mail as mail_store

if TYPE_CHECKING:
    import argparse


def _require_display(alternative: str = "") -> None:
    """Qt aborts the process without a display; say so in one line instead."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")
    ):
        raise UserError(f"no display to open the app on: set DISPLAY (or QT_QPA_PLATFORM=offscreen){alternative}")


def _principal_json(p) -> dict[str, Any]:
    now = timezones.now_utc()
    return {
        "id": p.id,
        "name": p.name,
        "addresses": list(p.addresses),
        "timezone": p.timezone,
        "region": p.region,
        "local_time": _iso_local(now, p.timezone),
    }


def _account_json(a, principal) -> dict[str, Any]:
    return {
        "id": a.id,
        "principal": principal.name,
        "principal_id": a.principal_id,
        "kind": a.kind,
        "address": a.address,
        "status": a.status.value,
        "last_error": a.last_error,
        "last_sync_utc": _iso_utc(a.last_sync_utc),
        "settings": a.settings,
    }


def default_demo_dir() -> Path:
    """``assistant demo`` without ``--workspace`` builds here, never over the user's real workspace."""
    from assistant.store import default_workspace_dir

    return default_workspace_dir().parent / "demo-workspace"


# -- commands ----------------------------------------------------------------------------------------------------------
def cmd_app(args: argparse.Namespace, out: Output) -> int:
    _require_display()
    from assistant.ui.app import run

    return run(Path(args.workspace), mailto=getattr(args, "mailto", None), tray=args.tray, quit_after=args.quit_after)


def cmd_demo(args: argparse.Namespace, out: Output) -> int:
    from assistant.demo.build import build_demo

    workspace = Path(args.workspace) if args.workspace_given else default_demo_dir()
    if not args.no_gui:
        _require_display(", or use --no-gui")
    from assistant.ui.single_instance import in_use

    if in_use(workspace):  # rebuilding would pull the workspace from under the app
        raise UserError(f"Assistant is open on {workspace}: quit it (File → Quit, or from the tray) and build again")
    build_demo(workspace)
    with _open_workspace(workspace, create=False) as store:
        principals = store.principals()
        counts = {p.id: mail_store.message_count(store.scope(p.id)) for p in principals}
    out.emit(
        {"workspace": str(workspace), "principals": [dict(_principal_json(p), messages=counts[p.id]) for p in principals]},
        lambda: f"Demo workspace built in {workspace}: "
        + ", ".join(f"{p.name} ({counts[p.id]} messages)" for p in principals),
    )
    if args.no_gui:
        return 0
    from assistant.ui.app import run

    return run(workspace, quit_after=args.quit_after)


def cmd_principal_add(args: argparse.Namespace, out: Output) -> int:
    from email.utils import parseaddr

    import phonenumbers

    from assistant.domain import Principal

    addresses = []
    for raw in args.email:
        _, address = parseaddr(raw)
        if "@" not in address or address.startswith("@") or address.endswith("@"):
            raise InvalidInput(f"{raw!r} is not an e-mail address")
        addresses.append(address)
    region = args.region.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput(f"unknown region {args.region!r}: use a two-letter country code such as US, JP or NG")
    timezones.validate(args.timezone)
    with _open_workspace(args) as store:
        p = store.add_principal(Principal(name=args.name, timezone=args.timezone, addresses=addresses, region=region))
    out.emit({"principal": _principal_json(p)}, lambda: f"Added principal {p.name} ({p.timezone}, {', '.join(addresses)})")
    return 0


def cmd_principal_list(args: argparse.Namespace, out: Output) -> int:
    with _open_workspace(args) as store:
        principals = store.principals()
    now = timezones.now_utc()
    out.emit(
        {"principals": [_principal_json(p) for p in principals]},
        lambda: _table(
            ["ID", "NAME", "TIME ZONE", "LOCAL TIME", "REGION", "ADDRESSES"],
            [[p.id, p.name, p.timezone, _shown(now, p.timezone), p.region, ", ".join(p.addresses)] for p in principals],
            empty="No principals yet: add one with 'assistant principal add'.",
        ),
    )
    return 0


def _existing(path_text: str, what: str, want_dir: bool | None) -> Path:
    path = Path(path_text).expanduser()
    if not path.exists():
        raise NotFound(f"{what} {path} does not exist")
    if want_dir is True and not path.is_dir():
        raise InvalidInput(f"{what} {path} is not a directory")
    if want_dir is False and not path.is_file():
        raise InvalidInput(f"{what} {path} is not a file")
    if not os.access(path, os.R_OK):
        raise InvalidInput(f"{what} {path} cannot be read")
    return path.resolve()


def cmd_account_add_local(args: argparse.Namespace, out: Output) -> int:
    from assistant.domain import Account
    from assistant.importing.base import check_calendar, check_mbox

    settings: dict[str, str] = {}
    if args.maildir:
        maildir = _existing(args.maildir, "maildir", True)
        if not ((maildir / "cur").is_dir() and (maildir / "new").is_dir()):
            raise InvalidInput(f"{maildir} is not a maildir: it has no cur/ and new/ folders")
        settings["maildir"] = str(maildir)
    else:
        mbox = _existing(args.mbox, "mbox", False)
        check_mbox(mbox)  # what it claims to be, as `assistant import` would read it
        settings["mbox"] = str(mbox)
    if args.calendar:
        calendar = _existing(args.calendar, "calendar", None)
        check_calendar(calendar)
        settings["calendar"] = str(calendar)
    with _open_workspace(args) as store:
        principal = _principal_from(args, store)
        account = store.add_account(
            Account(principal_id=principal.id, kind="local", address=principal.primary_address, settings=settings)
        )
    out.emit(
        {"account": _account_json(account, principal)},
        lambda: f"Added local account {account.id} for {principal.name}: "
        + ", ".join(f"{k} {v}" for k, v in settings.items()),
    )
    return 0


def _say(text: str) -> None:
    """Sign-in instructions go to stderr, so ``--json`` output on stdout stays one JSON object."""
    print(text, file=sys.stderr, flush=True)


def _signed_in(out: Output, account, principal) -> int:
    out.emit(
        {"account": _account_json(account, principal)},
        lambda: f"Signed in: {account.kind} account {account.id} ({account.address}) for {principal.name}.",
    )
    return 0


def cmd_account_add_gmail(args: argparse.Namespace, out: Output) -> int:
    from assistant.connectors.gmail.auth import sign_in

    secrets = _existing(args.client_secrets, "client secrets file", False)
    with _open_workspace(args) as store:
        principal = _principal_from(args, store)
        account = sign_in(store, principal.id, secrets, open_browser=not args.no_browser, print_fn=_say,
                          contacts=args.contacts, imap=args.imap)
    return _signed_in(out, account, principal)


def cmd_account_add_outlook(args: argparse.Namespace, out: Output) -> int:
    from assistant.connectors.outlook.auth import sign_in

    with _open_workspace(args) as store:
        principal = _principal_from(args, store)
        account = sign_in(store, principal.id, args.client_id, tenant=args.tenant, device_code=args.device_code,
                          print_fn=_say, contacts=args.contacts, imap=args.imap)
    return _signed_in(out, account, principal)


def cmd_account_list(args: argparse.Namespace, out: Output) -> int:
    with _open_workspace(args) as store:
        principals = {p.id: p for p in store.principals()}
        accounts = store.accounts()
        failed: dict[int, int] = {}
        for entry in store.outbox(states=("failed",)):  # changes the provider refused, waiting for the user
            failed[entry.account_id] = failed.get(entry.account_id, 0) + 1

    def human() -> str:
        rows = []
        for a in accounts:
            p = principals[a.principal_id]
            status = a.status.value + (f", {failed[a.id]} failed" if failed.get(a.id) else "")
            rows.append([a.id, p.name, a.kind, a.address, status,
                         _shown(a.last_sync_utc, p.timezone) or "never", a.last_error])
        return _table(["ID", "PRINCIPAL", "KIND", "ADDRESS", "STATUS", "LAST SYNC", "LAST ERROR"], rows, {6: 60},
                      empty="No accounts yet: add one with 'assistant account add'.")

    out.emit({"accounts": [{**_account_json(a, principals[a.principal_id]), "failed": failed.get(a.id, 0)}
                           for a in accounts]}, human)
    return 0


def _sync_json(report: Any) -> dict[str, Any]:
    """The documented per-account shape of ``assistant --json sync`` (README), whatever the engine adds later."""
    raw = report.to_json()
    zero = {"added": 0, "updated": 0, "removed": 0}
    return {
        "account_id": raw.get("account_id"),
        "principal": raw.get("principal", ""),
        "kind": raw.get("kind", ""),
        "address": raw.get("address", ""),
        "status": raw.get("status", ""),
        "messages": {k: int((raw.get("mail") or raw.get("messages") or zero).get(k, 0)) for k in zero},
        "events": {k: int((raw.get("events") or zero).get(k, 0)) for k in zero},
        "outbox": raw.get("outbox", {}),
        "requests": raw.get("requests", 0),
        "errors": [str(e) for e in report.errors],
        "warnings": [str(w) for w in raw.get("warnings", [])],
        "failed": list(raw.get("failed", [])),
    }


def _counts(part: dict[str, int]) -> str:
    return f"+{part['added']} ~{part['updated']} -{part['removed']}"


def cmd_sync(args: argparse.Namespace, out: Output) -> int:
    from assistant.sync.engine import sync_all

    with _open_workspace(args) as store:
        principal_id = _principal_from(args, store).id if args.principal else None
        reports = sync_all(store, principal_id=principal_id)
    data = [_sync_json(r) for r in reports]
    failed = [d for d in data if d["errors"]]

    def human() -> str:
        if not data:
            return "No accounts to sync."
        rows = [
            [d["account_id"], d["principal"], f"{d['kind']} {d['address']}", _counts(d["messages"]),
             _counts(d["events"]), d["requests"], "; ".join(d["errors"]) or "ok"]
            for d in data
        ]
        text = _table(["ACCOUNT", "PRINCIPAL", "SOURCE", "MESSAGES", "EVENTS", "REQUESTS", "ERRORS"], rows, {6: 80})
        retry = sorted({f["draft_id"] for d in data for f in d["failed"] if f.get("draft_id")})
        if retry:
            text += ("\nRefused by the provider, waiting for you: "
                     + ", ".join(f"'assistant draft retry {n}'" for n in retry) + " (or edit or delete the draft)")
        warnings = [f"  {d['principal']}, account {d['account_id']}: {w}" for d in data for w in d["warnings"]]
        if warnings:
            text += f"\n{len(warnings)} item(s) could not be read (the rest synced):\n" + "\n".join(warnings[:20])
            if len(warnings) > 20:
                text += f"\n  … and {len(warnings) - 20} more (see --json)"
        return text

    out.emit({"ok": not failed, "accounts": data}, human)
    refused = [f for d in data for f in d["failed"]]
    if refused and all(len(d["errors"]) == len(d["failed"]) for d in data):  # the sync itself went through
        raise UserError(f"{len(refused)} change(s) refused by the provider wait for you: "
                        f"{next(e for d in data for e in d['errors'])}")
    if failed:
        raise UserError(
            f"{len(failed)} of {len(data)} accounts failed to sync; account {failed[0]['account_id']}"
            f" ({failed[0]['principal']}): {failed[0]['errors'][0]}"
        )
    return 0


def cmd_search(args: argparse.Namespace, out: Output) -> int:
    if not args.query.strip():
        raise UsageError("search needs a query")
    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    from assistant.store.search import parse

    parse(args.query)  # a bad operator value is an error before any principal is searched
    if args.within != "messages":
        if args.count:
            raise UsageError("--count counts messages only")
        from assistant.cli.search import search_everything

        return search_everything(args, out)
    rows: list[tuple[Any, Any]] = []
    with _open_workspace(args) as store:
        principals = _principals_from(args, store)
        if args.count:
            total = sum(mail_store.count_messages(store.scope(p.id), args.query) for p in principals)
            out.emit({"query": args.query, "principal": args.principal, "count": total}, lambda: str(total))
            return 0
        by_id = {p.id: p for p in principals}
        found = (mail_store.search_messages(store.scope(principals[0].id), args.query, limit=args.limit)
                 if args.principal else mail_store.search_across_principals(store, args.query, args.limit))
        rows = [(by_id[m.principal_id], m) for m in found]
    results = [
        {
            "principal": p.name,
            "principal_id": p.id,
            "id": m.id,
            "thread_id": m.thread_id,
            "date_utc": _iso_utc(m.date_utc),
            "date_local": _iso_local(m.date_utc, p.timezone),
            "from": str(m.sender) if m.sender else "",
            "subject": m.subject,
            "has_attachments": m.has_attachments,
        }
        for p, m in rows
    ]
    out.emit(
        {"query": args.query, "principal": args.principal, "results": results},
        lambda: _table(
            ["PRINCIPAL", "DATE (PRINCIPAL'S ZONE)", "FROM", "SUBJECT"],
            [[p.name, _shown(m.date_utc, p.timezone), str(m.sender or ""), m.subject] for p, m in rows],
            {2: 36, 3: 70}, empty="No messages match.",
        ),
    )
    return 0


def _count(value: Any) -> int:
    return value if isinstance(value, int) else len(value)


def _pairs(entries: Any, second: str) -> list[dict[str, str]]:
    return [{"item": str(item), second: _one_line(str(text))} for item, text in entries or []]


def cmd_import(args: argparse.Namespace, out: Output) -> int:
    from assistant.importing.path import import_path

    path = Path(args.path).expanduser()
    if not path.exists():
        raise NotFound(f"{path} does not exist")
    if not os.access(path, os.R_OK):
        raise InvalidInput(f"{path} cannot be read")
    with _open_workspace(args) as store:
        principal = _principal_from(args, store)
        report = import_path(store, principal.id, path)
    data: dict[str, Any] = {
        "principal": principal.name,
        "path": str(path.resolve()),
        "kind": getattr(report, "kind", ""),
        "imported": _count(report.imported),
        "skipped": _count(report.skipped),
        "rejected": _pairs(report.rejected, "reason"),
        "warnings": _pairs(getattr(report, "warnings", []), "warning"),
    }

    def human() -> str:
        lines = [f"Imported {data['imported']}, skipped {data['skipped']} (duplicates), rejected"
                 f" {len(data['rejected'])} into {principal.name}."]
        lines += [f"  rejected {r['item']}: {r['reason']}" for r in data["rejected"]]
        lines += [f"  warning {w['item']}: {w['warning']}" for w in data["warnings"]]
        return "\n".join(lines)

    out.emit(data, human)
    return 0


def cmd_doctor(args: argparse.Namespace, out: Output) -> int:
    from assistant.cli.doctor import run_checks

    checks = run_checks(Path(args.workspace))
    failed = [c for c in checks if not c.ok]
    out.emit(
        {"ok": not failed, "workspace": str(args.workspace), "checks": [c.to_json() for c in checks]},
        lambda: f"Workspace: {args.workspace}\n"
        + _table(["CHECK", "", "DETAIL"], [[c.name, "ok" if c.ok else "FAIL", c.detail] for c in checks], {2: 400}),
    )
    if failed:
        raise UserError(f"{len(failed)} check(s) failed: {', '.join(c.name for c in failed)}")
    return 0


# -- parser ------------------------------------------------------------------------------------------------------------
def build_parser(extensions: bool = True) -> argparse.ArgumentParser:
    """All commands; ``extensions=False`` only ``search`` (scripts call it in loops: the other commands' modules and
    arguments cost it a third of its start)."""
    from assistant.cli.parser import Parser as _Parser

    parser = _Parser(prog=PROG, description="A workspace for virtual assistants. Without a command: open the app.")
    parser.add_argument("--workspace", metavar="DIR", help="workspace folder (default: the user data folder)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("--tray", action="store_true",
                        help="start with the window hidden in the tray (how Start at login starts it)")
    parser.add_argument("--quit-after", metavar="SECONDS", type=float, default=None,
                        help="quit that long after the window first shows (a start-up check)")
    parser.set_defaults(handler=cmd_app)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser, prog=PROG)
    if not extensions:  # each add_argument costs argparse a help formatter: build only what a search parses
        _add_search(commands)
        return parser

    demo = commands.add_parser("demo", help="build a fresh demo workspace and open the app on it")
    demo.add_argument("--no-gui", action="store_true", help="build only")
    demo.set_defaults(handler=cmd_demo)

    principal = commands.add_parser("principal", help="add or list principals")
    principal_commands = principal.add_subparsers(metavar="ACTION", required=True, parser_class=_Parser)
    p_add = principal_commands.add_parser("add", help="add a principal")
    p_add.add_argument("name", metavar="NAME")
    p_add.add_argument("--email", metavar="ADDR", action="append", required=True, help="repeat for several addresses")
    p_add.add_argument("--timezone", metavar="IANA", required=True, help="e.g. America/New_York")
    p_add.add_argument("--region", metavar="CC", default="US", help="phone region, two letters (default US)")
    p_add.set_defaults(handler=cmd_principal_add)
    principal_commands.add_parser("list", help="list principals").set_defaults(handler=cmd_principal_list)

    account = commands.add_parser("account", help="add or list accounts")
    account_commands = account.add_subparsers(metavar="ACTION", required=True, parser_class=_Parser)
    a_add = account_commands.add_parser("add", help="attach an account to a principal")
    kinds = a_add.add_subparsers(metavar="KIND", required=True, parser_class=_Parser)
    local = kinds.add_parser("local", help="a maildir or mbox, and optionally .ics calendars")
    local.add_argument("--principal", metavar="NAME", required=True)
    source = local.add_mutually_exclusive_group(required=True)
    source.add_argument("--maildir", metavar="DIR")
    source.add_argument("--mbox", metavar="FILE")
    local.add_argument("--calendar", metavar="PATH", help="one .ics file or a folder of them")
    local.set_defaults(handler=cmd_account_add_local)
    gmail = kinds.add_parser("gmail", help="a Google account: Gmail and Google Calendar (signs in)")
    gmail.add_argument("--principal", metavar="NAME", required=True)
    gmail.add_argument("--client-secrets", metavar="FILE", required=True,
                       help="the Desktop OAuth client's JSON downloaded from Google Cloud")
    gmail.add_argument("--no-browser", action="store_true",
                       help="print the consent URL instead of opening a browser (still waits for the redirect)")
    gmail.add_argument("--contacts", action="store_true",
                       help="also read the principal's Google contacts (asks for the contacts.readonly scope)")
    gmail.add_argument("--imap", action="store_true",
                       help="also let an IMAP account of this address sign in with it ('account add imap --oauth';"
                            " asks for full mail access, the only scope Google's IMAP takes)")
    gmail.set_defaults(handler=cmd_account_add_gmail)
    outlook = kinds.add_parser("outlook", help="a Microsoft 365 / Outlook.com account (signs in)")
    outlook.add_argument("--principal", metavar="NAME", required=True)
    outlook.add_argument("--client-id", metavar="ID", required=True, help="the app registration's client id in Entra ID")
    outlook.add_argument("--tenant", metavar="T", default="common", help="tenant id or domain (default: common)")
    outlook.add_argument("--device-code", action="store_true",
                         help="sign in with a code on another device instead of opening a browser")
    outlook.add_argument("--contacts", action="store_true",
                         help="also read the principal's Outlook contacts (asks for Contacts.Read)")
    outlook.add_argument("--imap", action="store_true",
                         help="also let an IMAP account of this address sign in with it ('account add imap --oauth';"
                              " asks consent for Outlook's IMAP and SMTP; browser sign-in only)")
    outlook.set_defaults(handler=cmd_account_add_outlook)
    from assistant.cli import imap_account

    imap_account.register(kinds)
    account_commands.add_parser("list", help="list accounts").set_defaults(handler=cmd_account_list)

    sync = commands.add_parser("sync", help="one sync pass over every account (or one principal's)")
    sync.add_argument("--principal", metavar="NAME")
    sync.set_defaults(handler=cmd_sync)

    _add_search(commands)

    importer = commands.add_parser("import", help="import an mbox, maildir, folder of .eml, or .ics into a principal")
    importer.add_argument("path", metavar="PATH")
    importer.add_argument("--principal", metavar="NAME", required=True)
    importer.set_defaults(handler=cmd_import)

    commands.add_parser("doctor", help="check Qt, the credential store, time zones, the database and accounts") \
        .set_defaults(handler=cmd_doctor)

    from assistant.cli import drafts as cli_drafts
    cli_drafts.register(commands, principal_commands)
    from assistant.cli import offboarding as cli_offboarding
    cli_offboarding.register(principal_commands)

    from assistant.cli import calls as cli_calls
    cli_calls.register(commands)

    from assistant.cli import tasks as cli_tasks
    cli_tasks.register(commands)

    from assistant.cli import reminders as cli_reminders
    cli_reminders.register(commands)

    from assistant.cli import snippets as cli_snippets
    cli_snippets.register(commands)

    from assistant.cli import time as cli_time
    cli_time.register(commands)

    from assistant.cli import reports as cli_reports
    cli_reports.register(commands)

    from assistant.cli import desktop as cli_desktop
    cli_desktop.register(commands)
    from assistant.cli import workspace as cli_workspace
    cli_workspace.register(commands)
    return parser


def _add_search(commands: Any) -> None:
    search = commands.add_parser(
        "search", help="search messages",
        description="Words and \"phrases\", from: to: subject: has:attachment is:unread is:flagged "
        "before:YYYY-MM-DD after:YYYY-MM-DD. Without --principal every principal is searched and each row is labelled.",
    )
    search.add_argument("query", metavar="QUERY")
    search.add_argument("--principal", metavar="NAME")
    search.add_argument("--limit", type=int, default=50, help="most results to show (default 50)")
    search.add_argument("--count", action="store_true", help="print only how many messages match")
    search.add_argument("--in", dest="within", choices=("messages", "tasks", "calls", "events", "all"),
                        default="messages", help="what to search (default: messages; tasks, calls and events by words)")
    search.set_defaults(handler=cmd_search)


def main(argv: Sequence[str] | None = None) -> int:
    timezones.configure()
    argv = sys.argv[1:] if argv is None else list(argv)
    # Scripts call `assistant search` in loops: it needs none of the other modules' commands, whose imports cost ~40 ms.
    command = _command_word(argv)
    mailto = None
    if command is not None and command[:7].lower() == "mailto:":  # `assistant mailto:…`: the desktop's mailto handler
        mailto = command
        argv.remove(command)
        command = _command_word(argv)
        if command is not None:
            print(f"{PROG}: a mailto: link opens the app; it takes no command ({command!r})", file=sys.stderr)
            return 2
    # The app (no command) needs only the global options: the other commands' modules are for --help and commands.
    plain = _plain_search(argv) if command == "search" else None
    if plain is not None:
        args: Any = plain
    else:
        lean = command == "search" or (command is None and not any(a in ("-h", "--help") for a in argv))
        parser = build_parser(extensions=not lean)
        try:
            args = parser.parse_args(argv)
        except SystemExit as exit_:  # argparse: --help (0) or a usage error (2), already printed
            return exit_.code if isinstance(exit_.code, int) else 2
    args.mailto = mailto
    args.workspace_given = args.workspace is not None
    if args.workspace is None:
        from assistant.store import default_workspace_dir

        args.workspace = str(default_workspace_dir())
    out = Output(args.json)
    if command != "search":  # sync and send errors, and bugs, go to the app's log (a search has none to keep)
        from assistant.core.logs import setup_logging

        setup_logging()
    try:
        return args.handler(args, out)
    except UsageError as exc:
        if args.debug:
            _print_traceback()
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    except UserError as exc:
        if args.debug:
            _print_traceback()
        print(f"{PROG}: {_one_line(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of our output went away (`assistant search x | head`): nothing to say
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except Exception as exc:  # a bug: one line unless asked for more
        if args.debug:
            _print_traceback()
        from assistant.core.errors import disk_full

        full = disk_full(exc, args.workspace)
        if full is not None:
            print(f"{PROG}: {full}", file=sys.stderr)
            return 1
        hint = "" if args.debug else " (run with --debug for the traceback)"
        print(f"{PROG}: {_one_line(f'{type(exc).__name__}: {exc}')}{hint}", file=sys.stderr)
        return 1


_SEARCH_VALUES = ("--principal", "--limit", "--in")
_SEARCH_IN = ("messages", "tasks", "calls", "events", "all")


def _plain_search(argv: Sequence[str]) -> SimpleNamespace | None:
    """The arguments of a plain ``search`` (``[--workspace DIR] [--json] [--debug] search QUERY [--principal NAME]
    [--limit N] [--count] [--in KIND]``) read without argparse, which with gettext, locale and shutil is a tenth of the
    command's own start; the same values ``build_parser`` gives them. None for anything else — help, an unknown or
    abbreviated or repeated option, a bad value, a second query, an argument that starts with a dash — which argparse
    then reads, with its usual messages."""
    values: dict[str, Any] = {"workspace": None, "json": False, "debug": False, "tray": False, "quit_after": None}
    tokens = iter(argv)
    seen: set[str] = set()
    for token in tokens:  # the global options, up to the command word
        name, eq, value = token.partition("=")
        if token == "search":
            break
        if token in seen or name in seen:
            return None
        if token in ("--json", "--debug"):
            values[token[2:]] = True
        elif name == "--workspace":
            if not eq:
                value = next(tokens, "-")
            if value.startswith("-"):
                return None
            values["workspace"] = value
        else:
            return None
        seen.add(name)
    query: str | None = None
    found: dict[str, str] = {}
    for token in tokens:
        name, eq, value = token.partition("=")
        if not token.startswith("-"):
            if query is not None:
                return None
            query = token
        elif name in found:
            return None
        elif token == "--count":
            found["--count"] = ""
        elif name in _SEARCH_VALUES:
            if not eq:
                value = next(tokens, "-")
            if value.startswith("-"):
                return None
            found[name] = value
        else:
            return None
    within = found.get("--in", "messages")
    try:
        limit = int(found.get("--limit", "50"))  # what argparse's type=int accepts
    except ValueError:
        return None
    if query is None or within not in _SEARCH_IN:
        return None
    return SimpleNamespace(**values, query=query, principal=found.get("--principal"), limit=limit,
                           count="--count" in found, within=within, handler=cmd_search)


def _command_word(argv: Sequence[str]) -> str | None:
    """The command named in ``argv``, past the global options (None for ``--help`` or no command)."""
    values = iter(argv)
    for token in values:
        if token in ("--workspace", "--quit-after"):
            next(values, None)
        elif not token.startswith("-"):
            return token
        elif token not in ("--json", "--debug", "--tray") and not token.startswith(("--workspace=", "--quit-after=")):
            return None
    return None


def _print_traceback() -> None:
    import traceback  # only with --debug: the module costs a few ms at every start

    traceback.print_exc()
