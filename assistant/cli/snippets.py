"""``assistant snippet list|set|delete``: a principal's snippets and the approval override each one gives a draft."""
from __future__ import annotations

import argparse
from typing import Any

from assistant.cli import format as fmt
from assistant.cli.format import Output
from assistant.core.errors import InvalidInput
from assistant.domain import ApprovalPolicy

CLEAR = "principal"  # --approval principal: no override, the principal's policy


def snippet_json(s: Any) -> dict[str, Any]:
    return {"name": s.name, "body": s.body, "approval": s.approval or None}


def cmd_snippet_list(args: argparse.Namespace, out: Output) -> int:
    from assistant.store import snippets as snippet_store

    with fmt.open_workspace(args) as store:
        p = fmt.principal_from(args, store)
        found = snippet_store.snippets(store.scope(p.id))
    out.emit({"principal": p.name, "snippets": [snippet_json(s) for s in found]},
             lambda: fmt.table(["NAME", "APPROVAL", "TEXT"],
                               [[s.name, s.approval or "(policy)", s.body] for s in found], {2: 60},
                               empty=f"{p.name} has no snippets."))
    return 0


def cmd_snippet_set(args: argparse.Namespace, out: Output) -> int:
    from assistant.store import snippets as snippet_store

    with fmt.open_workspace(args) as store:
        p = fmt.principal_from(args, store)
        scope = store.scope(p.id)
        existing = next((s for s in snippet_store.snippets(scope) if s.name == args.name.strip()), None)
        if args.body is not None:
            body = args.body
        elif existing is not None:
            body = existing.body
        else:
            raise InvalidInput("a new snippet needs its text: --body TEXT")
        if args.approval is None:
            approval = existing.approval if existing else ""
        else:
            approval = "" if args.approval == CLEAR else args.approval
        s = snippet_store.save_snippet(scope, args.name, body, approval)
    asks = s.approval or f"as {p.name}'s policy"
    out.emit({"principal": p.name, "snippet": snippet_json(s)},
             lambda: f"Snippet {s.name!r} for {p.name}: approval {asks}")
    return 0


def cmd_snippet_delete(args: argparse.Namespace, out: Output) -> int:
    from assistant.store import snippets as snippet_store

    with fmt.open_workspace(args) as store:
        p = fmt.principal_from(args, store)
        snippet_store.delete_snippet(store.scope(p.id), args.name)
    out.emit({"principal": p.name, "deleted": args.name}, lambda: f"Snippet {args.name!r} of {p.name} deleted")
    return 0


def register(commands: Any) -> None:
    from assistant.cli.format import Parser as _Parser

    snippet = commands.add_parser("snippet", help="a principal's snippets and the approval each gives a draft")
    sub = snippet.add_subparsers(metavar="ACTION", required=True, parser_class=_Parser)
    lst = sub.add_parser("list", help="list a principal's snippets")
    lst.add_argument("--principal", metavar="NAME", required=True)
    lst.set_defaults(handler=cmd_snippet_list)

    put = sub.add_parser("set", help="add a snippet, or change its text or approval override")
    put.add_argument("name", metavar="SNIPPET")
    put.add_argument("--principal", metavar="NAME", required=True)
    put.add_argument("--body", metavar="TEXT", help="its text; {{first_name}} {{principal}} {{my_name}} {{date}}")
    put.add_argument("--approval", choices=[p.value for p in ApprovalPolicy] + [CLEAR],
                     help="what a draft it is inserted into asks for ('principal': the principal's policy)")
    put.set_defaults(handler=cmd_snippet_set)

    delete = sub.add_parser("delete", help="delete a snippet")
    delete.add_argument("name", metavar="SNIPPET")
    delete.add_argument("--principal", metavar="NAME", required=True)
    delete.set_defaults(handler=cmd_snippet_delete)
