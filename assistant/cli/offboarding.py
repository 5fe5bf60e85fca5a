"""`assistant principal offboard NAME --export DIR`: export, verify, revoke, delete, compact, and print the receipt."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from assistant.cli import format as fmt
from assistant.cli.format import Output


def cmd_principal_offboard(args: argparse.Namespace, out: Output) -> int:
    from assistant.offboarding import service

    def progress(what: str, done: int, total: int) -> None:
        if not args.json and sys.stderr.isatty():
            print(f"\r{what}… {done}/{total}" if total > 1 else f"\r{what}…", end="", file=sys.stderr, flush=True)

    if sys.stdin.isatty() and not args.yes:
        # at a terminal, a person: what cannot be undone is asked once (a script passes --yes, or pipes its input)
        answer = input(f"Offboard {args.name}: export, revoke their sign-ins and delete everything of theirs from this "
                       f"workspace. This cannot be undone. Type their name to go on: ")
        if answer.strip().casefold() != args.name.strip().casefold():
            print("Nothing was changed.", file=sys.stderr)
            return 1
    with fmt.open_workspace(args) as store:
        record = service.offboard(store, args.name, Path(args.export), progress=progress)
    if not args.json and sys.stderr.isatty():
        print(file=sys.stderr)
    root = Path(args.export).expanduser()
    text = service.receipt(record, root)
    out.emit({"offboarding": service.describe(record), "receipt": str(root / service.RECEIPT), "export": str(root)},
             lambda: text.rstrip("\n"))
    return 0


def register(principal_commands: Any) -> None:
    off = principal_commands.add_parser(
        "offboard", help="export everything of a principal's, revoke their sign-ins, delete them, print a receipt")
    off.add_argument("name", metavar="NAME")
    off.add_argument("--export", metavar="DIR", required=True,
                     help="a new or empty folder for the export (or the folder of an offboarding to finish)")
    off.add_argument("--yes", action="store_true", help="do not ask at a terminal (the offboarding is not undoable)")
    off.set_defaults(handler=cmd_principal_offboard)
