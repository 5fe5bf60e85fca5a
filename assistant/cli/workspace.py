"""``assistant workspace encrypt|decrypt``: the workspace database encrypted (SQLCipher) or plain, converted in place."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from assistant.cli.format import Output, ProgressLine


def cmd_workspace_convert(args: argparse.Namespace, out: Output) -> int:
    from assistant.store.convert import convert

    encrypt = args.action == "encrypt"
    with ProgressLine() as line:
        done = convert(Path(args.workspace), encrypt=encrypt, progress=line.show)
    data: dict[str, Any] = {"workspace": str(args.workspace), "encrypted": done.encrypted, "changed": done.changed,
                            "tables": done.tables, "rows": done.rows, "key": done.key_entry}

    def human() -> str:
        state = "encrypted" if done.encrypted else "not encrypted"
        if not done.changed:
            return f"The workspace at {args.workspace} is already {state}."
        text = (f"The workspace at {args.workspace} is now {state}: {done.rows:,} rows in {done.tables} tables copied"
                " and checked.")
        if done.encrypted:
            text += f" Its key is in this computer's credential store ({done.key_entry}) and nowhere else."
        return text

    out.emit(data, human)
    return 0


def register(commands: Any) -> None:
    workspace = commands.add_parser("workspace", help="encrypt or decrypt the workspace database")
    actions = workspace.add_subparsers(metavar="ACTION", required=True, parser_class=type(workspace))
    for action, text in (
        ("encrypt", "encrypt the workspace with a new key kept in the credential store (quit the app first)"),
        ("decrypt", "make the workspace a plain SQLite file again and forget its key (quit the app first)"),
    ):
        actions.add_parser(action, help=text).set_defaults(handler=cmd_workspace_convert, action=action)
