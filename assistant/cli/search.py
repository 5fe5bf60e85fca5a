"""`assistant search --in tasks|calls|events|all`: the workspace's full-text search beyond messages.

Tasks, calls and events are matched on their own full-text indexes (title and notes; caller, number and notes; summary,
location and description) with plain words and "phrases"; the operators (from:, before:…) belong to messages. Each row
names its principal, as every cross-principal view does.
"""
from __future__ import annotations

import argparse
from datetime import datetime
from typing import TYPE_CHECKING, Any

from assistant.cli import format as fmt
from assistant.cli.format import Output
from assistant.core.errors import UsageError
from assistant.store import calendar as calendar_store
from assistant.store import mail as mail_store

if TYPE_CHECKING:
    from assistant.domain import Principal
    from assistant.store import Store

KINDS = ("messages", "tasks", "calls", "events", "all")


def _when(moment: datetime | None, zone: str) -> tuple[str | None, str | None, str]:
    return fmt.iso_utc(moment), fmt.iso_local(moment, zone), fmt.shown(moment, zone) if moment else ""


def rows_for(store: Store, principal: Principal, kind: str, query: str, limit: int) -> list[dict[str, Any]]:
    """One principal's matches of one kind, newest first, as the rows `search --in` prints."""
    from assistant.store import board as board_store
    from assistant.store import calls as call_store

    scope, zone = store.scope(principal.id), principal.timezone
    out: list[dict[str, Any]] = []
    if kind == "tasks":
        ids = board_store.search_ids(scope, query)
        cards = board_store.cards(scope, include_archived=True, ids=ids) if ids else []
        for card in cards:
            utc, local, shown = _when(card.due_utc, zone)
            out.append({"kind": "task", "id": card.id, "when_utc": utc, "when_local": local, "shown": shown,
                        "title": card.title, "detail": fmt.one_line(card.notes)[:120], "sort": card.due_utc})
    elif kind == "calls":
        for call in call_store.calls_page(scope, call_store.CallFilter(text=query), limit=limit):
            utc, local, shown = _when(call.started_utc, zone)
            out.append({"kind": "call", "id": call.id, "when_utc": utc, "when_local": local, "shown": shown,
                        "title": call.caller_name or call.number_e164 or call.number_raw,
                        "detail": fmt.one_line(call.notes)[:120], "sort": call.started_utc})
    elif kind == "events":
        for e in calendar_store.search_events(scope, query, limit=limit):
            utc, local, shown = _when(e.start_utc, zone)
            out.append({"kind": "event", "id": e.id, "when_utc": utc, "when_local": local, "shown": shown,
                        "title": e.summary, "detail": e.location, "sort": e.start_utc})
    for row in out:
        row["principal"], row["principal_id"] = principal.name, principal.id
    return out


def search_everything(args: argparse.Namespace, out: Output) -> int:
    from assistant.store.search import parse

    kinds = ["tasks", "calls", "events"] if args.within == "all" else [args.within]
    parsed = parse(args.query)
    if any((parsed.sender, parsed.recipient, parsed.subject, parsed.has_attachment, parsed.unread, parsed.flagged,
            parsed.before, parsed.after)) and args.within != "all":
        raise UsageError(f"from:, to:, subject:, has:, is:, before: and after: search messages, not {args.within}")
    with fmt.open_workspace(args) as store:
        principals = fmt.principals_from(args, store)
        rows: list[dict[str, Any]] = []
        messages: list[dict[str, Any]] = []
        for p in principals:
            for kind in kinds:
                rows += rows_for(store, p, kind, " ".join(parsed.words) if args.within == "all" else args.query,
                                 args.limit)
            if args.within == "all":
                for m in mail_store.search_messages(store.scope(p.id), args.query, limit=args.limit):
                    utc, local, shown = _when(m.date_utc, p.timezone)
                    messages.append({"kind": "message", "id": m.id, "when_utc": utc, "when_local": local,
                                     "shown": shown, "title": m.subject, "detail": str(m.sender or ""),
                                     "sort": m.date_utc, "principal": p.name, "principal_id": p.id})
    if args.within == "all" and not parsed.words:
        rows = []  # operators only: nothing but messages can match them
    rows += messages
    rows.sort(key=lambda r: r["sort"].timestamp() if r["sort"] else 0, reverse=True)
    rows = rows[: args.limit]
    for row in rows:
        row.pop("sort")
    human_rows = [[r["kind"], r["principal"], r.pop("shown"), r["title"], r["detail"]] for r in rows]
    out.emit(
        {"query": args.query, "principal": args.principal, "in": args.within, "results": rows},
        lambda: fmt.table(["KIND", "PRINCIPAL", "WHEN (PRINCIPAL'S ZONE)", "WHAT", "DETAIL"], human_rows,
                          {3: 50, 4: 40}, empty="Nothing matches."),
    )
    return 0
