"""``assistant task …``: add, list, move and finish cards on a principal's board."""
from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from assistant.cli import format as fmt
from assistant.cli.format import Output
from assistant.core import timezones
from assistant.core.errors import UsageError

if TYPE_CHECKING:
    from assistant.domain import Principal
    from assistant.store import Store


def card_json(card: Any, column_names: dict[int, str], zone: str) -> dict[str, Any]:
    return {
        "id": card.id,
        "principal_id": card.principal_id,
        "title": card.title,
        "column": column_names.get(card.column_id),
        "position": card.position,
        "notes": card.notes,
        "due_utc": fmt.iso_utc(card.due_utc),
        "due_local": fmt.iso_local(card.due_utc, zone),
        "due_assistant": fmt.iso_local(card.due_utc, timezones.assistant_zone_name()),
        "priority": card.priority,
        "labels": card.labels,
        "checklist": [{"text": i.text, "done": i.done} for i in card.checklist],
        "estimate_min": card.estimate_min,
        "repeat": card.rrule,
        "link": card.link,
        "done_utc": fmt.iso_utc(card.done_utc),
        "remind": card.remind,
    }


def _owner(store: Store, card_id: int) -> Principal:
    """The principal on whose board card ``card_id`` is."""
    from assistant.store import board as board_store

    return store.principal(board_store.principal_of_card(store, card_id))


def _columns(store: Store, principal_id: int) -> dict[int, str]:
    from assistant.store import board as board_store

    return {c.id: c.name for c in board_store.columns(store.scope(principal_id)) if c.id}


def cmd_task_add(args: argparse.Namespace, out: Output) -> int:
    from assistant.board import service as board
    with fmt.open_workspace(args) as store:
        principal = fmt.principal_from(args, store)
        due = timezones.parse_when(args.due, principal.timezone) if args.due else None
        options: dict[str, Any] = {"column": args.column, "due_utc": due, "repeat": args.repeat or "",
                                   "notes": args.notes or "",
                                   "labels": [x.strip() for x in (args.label or []) if x.strip()]}
        if args.source:  # the same card and title rules as Ctrl+T in the inbox and "Make a task" on a call
            source = board.parse_link(args.source)
            if source is None or source[0] not in board.VERBS:
                raise UsageError(f"--from takes message:ID, thread:ID, event:ID or call:ID, not {args.source!r}")
            card = board.make_task_from(store, principal.id, source[0], source[1], args.title or "", **options)
        else:
            card = board.make_task(store, principal.id, args.title or "", **options)
        data: dict[str, Any] = {"principal": principal.name,
                                "task": card_json(card, _columns(store, principal.id), principal.timezone)}
    out.emit(data, lambda: f"Added task {card.id} to {data['task']['column']} for {principal.name}.")
    return 0


def cmd_task_list(args: argparse.Namespace, out: Output) -> int:
    from assistant.board import service as board
    from assistant.store import board as board_store

    with fmt.open_workspace(args) as store:
        principal = fmt.principal_from(args, store)
        scope = store.scope(principal.id)
        columns = _columns(store, principal.id)
        cards = board.filter_cards(store, principal.id, board_store.cards(scope, include_archived=args.archived),
                                   board.CardFilter(label=args.label or "", due=args.due or "", text=args.text or ""))
        tasks = [card_json(c, columns, principal.timezone) for c in cards]
    data = {"principal": principal.name, "columns": list(columns.values()), "tasks": tasks}

    def human() -> str:
        rows = [[t["id"], t["column"] or "", t["title"], _due_shown(t), ",".join(t["labels"])] for t in tasks]
        return fmt.table(["ID", "COLUMN", "TITLE", "DUE (" + principal.timezone + ")", "LABELS"], rows, {2: 50})

    out.emit(data, human)
    return 0


def _due_shown(task: dict[str, Any]) -> str:
    return (task["due_local"] or "")[:16].replace("T", " ")


def cmd_task_move(args: argparse.Namespace, out: Output) -> int:
    from assistant.board import service as board
    from assistant.store import board as board_store

    with fmt.open_workspace(args) as store:
        principal = _owner(store, args.id)
        scope = store.scope(principal.id)
        column = board_store.column_by_name(scope, args.column)
        following = board.move_task(store, principal.id, args.id, column.id, args.position)
        columns = _columns(store, principal.id)
        data = {"principal": principal.name,
                "task": card_json(board_store.card(scope, args.id), columns, principal.timezone),
                "next": card_json(following, columns, principal.timezone) if following else None}
    out.emit(data, lambda: f"Moved task {args.id} to {column.name}." + _next_text(data))
    return 0


def _next_text(data: dict[str, Any]) -> str:
    nxt = data["next"]
    return f" It repeats: task {nxt['id']} is due {_due_shown(nxt)}." if nxt else ""


def cmd_task_done(args: argparse.Namespace, out: Output) -> int:
    from assistant.board import service as board
    from assistant.store import board as board_store

    with fmt.open_workspace(args) as store:
        principal = _owner(store, args.id)
        following = board.complete_task(store, principal.id, args.id)
        columns = _columns(store, principal.id)
        data = {"principal": principal.name,
                "task": card_json(board_store.card(store.scope(principal.id), args.id), columns, principal.timezone),
                "next": card_json(following, columns, principal.timezone) if following else None}
    out.emit(data, lambda: f"Task {args.id} is done." + _next_text(data))
    return 0


def cmd_task_export(args: argparse.Namespace, out: Output) -> int:
    import io

    from assistant.importing import board as board_io
    with fmt.open_workspace(args) as store:
        principal = fmt.principal_from(args, store)
        buffer = io.StringIO()
        count = board_io.export_csv(store, principal.id, buffer, include_archived=args.archived)
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="") as f:
            f.write(buffer.getvalue())
        out.emit({"principal": principal.name, "tasks": count, "path": args.output},
                 lambda: f"Wrote {count} tasks of {principal.name}'s board to {args.output}.")
    elif out.as_json:
        out.emit({"principal": principal.name, "tasks": count, "csv": buffer.getvalue()}, lambda: "")
    else:
        sys.stdout.write(buffer.getvalue())
    return 0


def cmd_task_archive(args: argparse.Namespace, out: Output) -> int:
    from assistant.store import board as board_store

    with fmt.open_workspace(args) as store:
        principal = fmt.principal_from(args, store)
        scope = store.scope(principal.id)
        if args.after_days is not None:
            board_store.set_archive_after_days(scope, args.after_days)
        days = board_store.archive_after_days(scope)
        archived = board_store.archive_done(scope)
    out.emit({"principal": principal.name, "archive_after_days": days, "archived": archived},
             lambda: f"Archived {archived} done tasks of {principal.name} (done more than {days} days ago).")
    return 0


def register(commands: Any) -> None:
    parser_class = commands._parser_class
    task = commands.add_parser("task", help="add, list, move and finish tasks on a principal's board")
    actions = task.add_subparsers(metavar="ACTION", required=True, parser_class=parser_class)

    add = actions.add_parser("add", help="add a card to a principal's board")
    add.add_argument("title", metavar="TITLE", nargs="?", default="",
                     help="the card's title (with --from, default: the title made from what it comes from)")
    add.add_argument("--from", dest="source", metavar="KIND:ID",
                     help="make it from a message, thread, event or call (message:12): linked back to it, titled by it")
    add.add_argument("--principal", metavar="NAME", required=True)
    add.add_argument("--due", metavar="WHEN", help="ISO 8601 with an offset, or 'YYYY-MM-DD HH:MM' in the principal's zone")
    add.add_argument("--column", metavar="C", help="column name (default: the first, Inbox)")
    add.add_argument("--repeat", metavar="RRULE", help="e.g. FREQ=WEEKLY;BYDAY=MO, 'every weekday', "
                                                       "'first Monday of the month'")
    add.add_argument("--notes", metavar="TEXT")
    add.add_argument("--label", metavar="LABEL", action="append")
    add.set_defaults(handler=cmd_task_add)

    listing = actions.add_parser("list", help="list a principal's cards, column by column")
    listing.add_argument("--principal", metavar="NAME", required=True)
    listing.add_argument("--label", metavar="LABEL")
    listing.add_argument("--due", choices=("overdue", "today", "week"))
    listing.add_argument("--text", metavar="WORDS")
    listing.add_argument("--archived", action="store_true", help="include archived cards")
    listing.set_defaults(handler=cmd_task_list)

    move = actions.add_parser("move", help="move a card to another column (one transaction)")
    move.add_argument("id", metavar="ID", type=int)
    move.add_argument("column", metavar="COLUMN")
    move.add_argument("--position", type=int, help="index in the column (default: the end)")
    move.set_defaults(handler=cmd_task_move)

    done = actions.add_parser("done", help="mark a card done (into Done; a repeating card makes the next one)")
    done.add_argument("id", metavar="ID", type=int)
    done.set_defaults(handler=cmd_task_done)

    export = actions.add_parser("export", help="write a principal's board as CSV (the format 'assistant import' reads)")
    export.add_argument("--principal", metavar="NAME", required=True)
    export.add_argument("-o", "--output", metavar="FILE", help="default: standard output")
    export.add_argument("--archived", action="store_true", help="include archived cards")
    export.set_defaults(handler=cmd_task_export)

    archive = actions.add_parser("archive", help="archive cards done more than N days ago (the board's setting)")
    archive.add_argument("--principal", metavar="NAME", required=True)
    archive.add_argument("--after-days", metavar="N", type=int, help="change the board's N (default 7) first")
    archive.set_defaults(handler=cmd_task_archive)
