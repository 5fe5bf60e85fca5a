"""`assistant principal set`, `assistant draft …` and `assistant approvals …`: drafts that principals approve."""
from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from assistant.cli import format as fmt
from assistant.cli.format import Output
from assistant.cli.time import add_billing_options, set_billing
from assistant.core import timezones
from assistant.core.errors import InvalidInput
from assistant.domain import ApprovalPolicy, Draft

if TYPE_CHECKING:
    from assistant.store import Store

_T = TypeVar("_T")


def _draft_json(store: Store, d: Draft) -> dict[str, Any]:
    p = store.principal(d.principal_id)
    return {
        "id": d.id, "principal": p.name, "principal_id": d.principal_id, "account_id": d.account_id,
        "state": d.state, "version": d.version, "content_hash": d.content_hash,
        "approved": bool(d.approved_hash) and d.approved_hash == d.content_hash,
        "approved_hash": d.approved_hash, "approval_override": d.approval or None,
        "to": [str(a) for a in d.to], "cc": [str(a) for a in d.cc], "subject": d.subject, "body": d.body_text,
        "in_reply_to": d.in_reply_to or None, "attachments": [Path(a).name for a in d.attachments],
        "comment": d.comment or None, "send_at_utc": fmt.iso_utc(d.send_at_utc),
        "send_at_principal": fmt.iso_local(d.send_at_utc, p.timezone), "send_where": d.send_where or None,
        "updated_utc": fmt.iso_utc(d.updated_utc),
        "error": _failure(store, d) or None,
    }


def _failure(store: Store, d: Draft) -> str:
    from assistant.approvals import lifecycle

    return lifecycle.failure(store, d.principal_id, d.id)


def _principal_id(args: argparse.Namespace, store: Store) -> int | None:
    """The id of the principal ``--principal`` names; None without the option (every principal)."""
    return None if args.principal is None else fmt.principal_from(args, store).id


def _send_at(store: Store, d: Draft, args: argparse.Namespace) -> Any:
    if not getattr(args, "at", None):
        return None
    from assistant.approvals.schedule import parse_send_at, zone_for

    return parse_send_at(args.at, zone_for(store, d, args.zone), timezones.now_utc())


def cmd_principal_set(args: argparse.Namespace, out: Output) -> int:
    from assistant.store import drafts as sql

    with fmt.open_workspace(args) as store:
        p = fmt.principal_from(args, store, "name")
        if args.approval is not None:
            p.approval_policy = ApprovalPolicy(args.approval)
            store.update_principal(p)
            store.audit(p.id, "assistant", "approval-policy-set", p.name, policy=p.approval_policy.value, channel="cli")
        scope = store.scope(p.id)
        settings = sql.settings(scope)
        if args.short_forms is not None:
            settings.short_forms = args.short_forms == "yes"
        if args.usual_answer_minutes is not None:
            if args.usual_answer_minutes <= 0:
                raise InvalidInput("--usual-answer-minutes must be more than 0")
            settings.usual_answer_minutes = args.usual_answer_minutes
        if args.undo_seconds is not None:
            if args.undo_seconds < 0:
                raise InvalidInput("--undo-seconds cannot be negative")
            settings.undo_seconds = args.undo_seconds
        sql.save_settings(scope, settings)
        billing = set_billing(args, store, p.id)
        data = {"principal": {"id": p.id, "name": p.name, "approval_policy": p.approval_policy.value,
                              "short_forms": settings.short_forms, "undo_seconds": settings.undo_seconds,
                              "usual_answer_minutes": settings.usual_answer_minutes,
                              **({"billing": billing} if billing is not None else {})}}

    def human() -> str:
        text = (f"{p.name}: approval {p.approval_policy.value}, short forms "
                f"{'accepted' if settings.short_forms else 'not accepted'}, undo {settings.undo_seconds} s")
        if billing is not None:
            rate = f"{billing['rate']} {billing['currency']}/h" if billing["rate"] else "no rate"
            retainer = (f", retainer {billing['retainer_hours']:g} h per {billing['retainer_per']}"
                        if billing["retainer_hours"] else "")
            rounding = (f"rounded up to {billing['rounding_min']} min per {billing['rounding_per']}"
                        if billing["rounding_min"] else "exact")
            text += f"; billing {rate}{retainer}, {rounding}"
        return text

    out.emit(data, human)
    return 0


def cmd_draft_new(args: argparse.Namespace, out: Output) -> int:
    from assistant.approvals import drafts
    with fmt.open_workspace(args) as store:
        p = fmt.principal_from(args, store)
        d = drafts.save_draft(store, p.id, args.account, to=args.to, cc=args.cc or (), subject=args.subject,
                              body_text=args.body, in_reply_to=args.in_reply_to or "", attachments=args.attach or (),
                              approval=args.approval)
        data = {"draft": _draft_json(store, d)}
    out.emit(data, lambda: f"Draft {d.id} for {p.name}: {d.subject!r} (version {d.version}, {d.state})")
    return 0


def cmd_draft_edit(args: argparse.Namespace, out: Output) -> int:
    from assistant.approvals import drafts
    from assistant.approvals.lifecycle import find_draft

    with fmt.open_workspace(args) as store:
        pid = find_draft(store, args.id)
        d = drafts.get_draft(store, pid, args.id)
        d = drafts.save_draft(
            store, pid, d.account_id, to=args.to or d.to, cc=args.cc if args.cc is not None else d.cc,
            subject=args.subject if args.subject is not None else d.subject,
            body_text=args.body if args.body is not None else d.body_text, in_reply_to=d.in_reply_to,
            attachments=d.attachments, draft_id=d.id,
            approval="" if args.approval == "principal" else args.approval,
        )
        data = {"draft": _draft_json(store, d)}
    out.emit(data, lambda: f"Draft {d.id}: version {d.version}, {d.state}")
    return 0


def cmd_draft_list(args: argparse.Namespace, out: Output) -> int:
    from assistant.store import drafts as sql

    with fmt.open_workspace(args) as store:
        pid = _principal_id(args, store)
        states = [args.state] if args.state else None
        rows = []
        for p in store.principals():
            if pid is not None and p.id != pid:
                continue
            rows += sql.list_drafts(store.scope(p.id), states)
        data = {"drafts": [_draft_json(store, d) for d in rows]}
        names = {p.id: p.name for p in store.principals()}
    out.emit(data, lambda: fmt.table(
        ["ID", "PRINCIPAL", "STATE", "V", "TO", "SUBJECT"],
        [[d.id, names[d.principal_id], d.state, d.version, ", ".join(a.email for a in d.to), d.subject] for d in rows],
        clip={5: 50}, empty="No drafts.",
    ))
    return 0


def cmd_draft_show(args: argparse.Namespace, out: Output) -> int:
    from assistant.approvals import lifecycle
    from assistant.store import drafts as sql

    with fmt.open_workspace(args) as store:
        pid = lifecycle.find_draft(store, args.id)
        scope = store.scope(pid)
        d = sql.get_draft(scope, args.id)
        zone = store.principal(pid).timezone
        history = lifecycle.history(store, pid, args.id)
        error = lifecycle.failure(store, pid, args.id)
        data = {
            "draft": _draft_json(store, d),
            "versions": [{**v, "created_utc": fmt.iso_utc(v["created_utc"])} for v in sql.versions(scope, args.id)],
            "requests": [{"id": r.id, "channel": r.channel, "version": r.version, "state": r.state,
                          "created_utc": fmt.iso_utc(r.created_utc)} for r in sql.requests_for(scope, args.id)],
            "history": [{**h, "at_utc": fmt.iso_utc(h["at_utc"])} for h in history],
        }

    def human() -> str:
        lines = [f"Draft {d.id} — {d.state}, version {d.version}", f"To: {', '.join(map(str, d.to))}",
                 f"Subject: {d.subject}"]
        if d.comment:
            lines.append(f"Principal's comment: {d.comment}")
        if error:
            lines.append(f"Failed: {error}")
            lines.append(f"  retry with 'assistant draft retry {d.id}', or edit or delete the draft")
        if d.send_at_utc:
            lines.append(f"Send at: {fmt.shown(d.send_at_utc, zone)} ({d.send_where or 'app'})")
        lines += ["", d.body_text.rstrip(), "", "History:"]
        lines += [f"  {fmt.shown(h['at_utc'], zone)}  {h['action']:<28} {h.get('channel', ''):<14} v{h.get('version', '')}"
                  f"  {h['actor']}" for h in history]
        return "\n".join(lines)

    out.emit(data, human)
    return 0


def _with_draft(args: argparse.Namespace, fn: Callable[[Store, int], _T]) -> tuple[_T, dict[str, Any], Draft]:
    """``fn(store, principal_id)`` on the draft ``args.id``; its result, and the draft after it as JSON and as read."""
    from assistant.approvals import lifecycle
    from assistant.store import drafts as sql

    with fmt.open_workspace(args) as store:
        pid = lifecycle.find_draft(store, args.id)
        result = fn(store, pid)
        d = sql.get_draft(store.scope(pid), args.id)
        return result, _draft_json(store, d), d


def cmd_draft_submit(args: argparse.Namespace, out: Output) -> int:
    from assistant.approvals import drafts, guard

    def run(store, pid):
        d = drafts.get_draft(store, pid, args.id)
        warning = None if args.confirm_principal else guard.wrong_principal(store, pid, d)
        if warning:
            raise guard.WrongPrincipal(f"{warning} Run again with --confirm-principal to send it anyway.")
        return drafts.submit_draft(store, pid, args.id, send_at=_send_at(store, d, args),
                                   channels=[c.strip() for c in args.via.split(",") if c.strip()])

    state, data, d = _with_draft(args, run)
    out.emit({"state": state, "draft": data}, lambda: f"Draft {d.id}: {state}")
    return 0


def cmd_draft_schedule(args: argparse.Namespace, out: Output) -> int:
    from assistant.approvals import lifecycle

    def run(store, pid):
        d = lifecycle.sql.get_draft(store.scope(pid), args.id)
        return lifecycle.schedule(store, pid, args.id, _send_at(store, d, args))

    state, data, d = _with_draft(args, run)
    out.emit({"state": state, "draft": data}, lambda: f"Draft {d.id}: {state}, send at {data['send_at_principal']}")
    return 0


def cmd_draft_undo(args: argparse.Namespace, out: Output) -> int:
    from assistant.approvals import lifecycle

    undone, data, d = _with_draft(args, lambda store, pid: lifecycle.undo_send(store, pid, args.id))
    if not undone:
        raise InvalidInput(f"draft {args.id} is not within its undo window (it is {d.state})")
    out.emit({"undone": True, "draft": data}, lambda: f"Draft {d.id}: send undone")
    return 0


def cmd_draft_confirm(args: argparse.Namespace, out: Output) -> int:
    from assistant.approvals import lifecycle

    state, data, d = _with_draft(args, lambda store, pid: lifecycle.confirm_late_send(store, pid, args.id))
    out.emit({"state": state, "draft": data}, lambda: f"Draft {d.id}: {state}")
    return 0


def cmd_draft_retry(args: argparse.Namespace, out: Output) -> int:
    from assistant.approvals import lifecycle

    state, data, d = _with_draft(args, lambda store, pid: lifecycle.retry(store, pid, args.id))
    out.emit({"state": state, "draft": data}, lambda: f"Draft {d.id}: {state}; it goes with the next sync")
    return 0


def cmd_draft_delete(args: argparse.Namespace, out: Output) -> int:
    from assistant.approvals import drafts, lifecycle

    with fmt.open_workspace(args) as store:
        pid = lifecycle.find_draft(store, args.id)
        drafts.delete_draft(store, pid, args.id)
    out.emit({"deleted": args.id}, lambda: f"Draft {args.id} deleted")
    return 0


def cmd_approvals_list(args: argparse.Namespace, out: Output) -> int:
    from assistant.approvals import lifecycle
    from assistant.store import drafts as sql

    with fmt.open_workspace(args) as store:
        pid = _principal_id(args, store)
        now = timezones.now_utc()
        rows = lifecycle.queue(store, pid)
        flagged = []
        for p in store.principals():
            if pid is None or p.id == pid:
                flagged += [(p, f) for f in sql.flags(store.scope(p.id))]
        data = {
            "queue": [{
                "draft_id": r["draft"].id, "principal": r["principal"], "principal_id": r["principal_id"],
                "state": r["draft"].state, "subject": r["draft"].subject, "version": r["draft"].version,
                "to": [a.email for a in r["draft"].to], "channels": r["channels"], "comment": r["draft"].comment or None,
                "submitted_utc": fmt.iso_utc(r["submitted_utc"]), "error": r["error"] or None,
                "waiting_s": int((now - r["submitted_utc"]).total_seconds()) if r["submitted_utc"] else None,
            } for r in rows],
            "flagged": [{"principal": p.name, "id": f.id, "message_id": f.message_id, "sender": f.sender,
                         "reason": f.reason, "at_utc": fmt.iso_utc(f.at_utc)} for p, f in flagged],
        }

    def human() -> str:
        if not data["queue"] and not data["flagged"]:
            return "Nothing waiting for a principal."
        text = fmt.table(["DRAFT", "PRINCIPAL", "STATE", "WAITING", "SUBJECT"], [
            [q["draft_id"], q["principal"], q["state"], _waited(q["waiting_s"]), q["subject"]] for q in data["queue"]
        ], clip={4: 50}) if data["queue"] else "No drafts waiting."
        if data["flagged"]:
            text += "\n\nFlagged replies (not applied):\n" + "\n".join(
                f"  {f['principal']}: from {f['sender']}: {f['reason']}" for f in data["flagged"])
        return text

    out.emit(data, human)
    return 0


def _waited(seconds: int | None) -> str:
    if seconds is None:
        return ""
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


def cmd_approvals_decide(args: argparse.Namespace, out: Output) -> int:
    from assistant.approvals import lifecycle

    def run(store, pid):
        if args.decision == "reject" and not (args.comment or "").strip():
            raise InvalidInput("a rejection needs the principal's reason: --comment TEXT")
        return lifecycle.approve_in_person(store, pid, args.id, decision=args.decision, comment=args.comment or "",
                                           confirmed_by=args.confirmed_by)

    state, data, d = _with_draft(args, run)
    out.emit({"state": state, "draft": data}, lambda: f"Draft {d.id}: {args.decision}d in person, now {state}")
    return 0


def register(commands: Any, principal_commands: Any) -> None:
    from assistant.cli.format import Parser as _Parser

    p_set = principal_commands.add_parser("set", help="change a principal's approval settings")
    p_set.add_argument("name", metavar="NAME")
    p_set.add_argument("--approval", choices=[p.value for p in ApprovalPolicy],
                       help="which outgoing messages need the principal's approval")
    p_set.add_argument("--short-forms", choices=["yes", "no"],
                       help="accept yes/ok/👍… in e-mailed answers as approval")
    p_set.add_argument("--undo-seconds", type=int, metavar="N", help="undo-send window (default 10)")
    p_set.add_argument("--usual-answer-minutes", type=int, metavar="N",
                       help="after this long without an answer the app tells you (default 240)")
    add_billing_options(p_set)
    p_set.set_defaults(handler=cmd_principal_set)

    draft = commands.add_parser("draft", help="drafts written for a principal: new, list, show, submit…")
    sub = draft.add_subparsers(metavar="ACTION", required=True, parser_class=_Parser)
    new = sub.add_parser("new", help="write a draft")
    new.add_argument("--principal", metavar="NAME", required=True)
    new.add_argument("--to", metavar="ADDR", action="append", required=True)
    new.add_argument("--cc", metavar="ADDR", action="append")
    new.add_argument("--subject", metavar="TEXT", default="")
    new.add_argument("--body", metavar="TEXT", required=True)
    new.add_argument("--in-reply-to", metavar="MESSAGE-ID")
    new.add_argument("--attach", metavar="PATH", action="append")
    new.add_argument("--account", metavar="ID", type=int, help="the account to send from (default: the first)")
    new.add_argument("--approval", choices=[p.value for p in ApprovalPolicy], help="override the policy for this draft")
    new.set_defaults(handler=cmd_draft_new)

    edit = sub.add_parser("edit", help="change a draft (an approved one then needs approval again)")
    edit.add_argument("id", type=int, metavar="ID")
    edit.add_argument("--to", metavar="ADDR", action="append")
    edit.add_argument("--cc", metavar="ADDR", action="append")
    edit.add_argument("--subject", metavar="TEXT")
    edit.add_argument("--body", metavar="TEXT")
    edit.add_argument("--approval", choices=[p.value for p in ApprovalPolicy] + ["principal"],
                      help="override the policy for this draft ('principal': no override)")
    edit.set_defaults(handler=cmd_draft_edit)

    lst = sub.add_parser("list", help="list drafts")
    lst.add_argument("--principal", metavar="NAME")
    lst.add_argument("--state", metavar="STATE")
    lst.set_defaults(handler=cmd_draft_list)

    for name, handler, text in (("show", cmd_draft_show, "a draft with its versions and audit history"),
                                ("undo", cmd_draft_undo, "take back a send within its undo window"),
                                ("confirm", cmd_draft_confirm, "send a message whose time passed while closed"),
                                ("retry", cmd_draft_retry, "send again what the provider refused for a draft"),
                                ("delete", cmd_draft_delete, "discard a draft")):
        p = sub.add_parser(name, help=text)
        p.add_argument("id", type=int, metavar="ID")
        p.set_defaults(handler=handler)

    when_help = "'tomorrow 9:00', 'in 2 hours', 'YYYY-MM-DD HH:MM' or ISO 8601 with an offset"
    zone_help = "principal (default), assistant, recipient, or an IANA zone"
    submit = sub.add_parser("submit", help="ask for approval as the policy says, or send")
    submit.add_argument("id", type=int, metavar="ID")
    submit.add_argument("--at", metavar="WHEN", help=f"send later: {when_help}")
    submit.add_argument("--zone", default="principal", help=zone_help)
    submit.add_argument("--via", default="email", help="approval channels: email, drafts-folder (comma-separated)")
    submit.add_argument("--confirm-principal", action="store_true",
                        help="send even though a recipient or the thread belongs to another principal")
    submit.set_defaults(handler=cmd_draft_submit)

    sched = sub.add_parser("schedule", help="set or move the send time")
    sched.add_argument("id", type=int, metavar="ID")
    sched.add_argument("--at", metavar="WHEN", required=True, help=when_help)
    sched.add_argument("--zone", default="principal", help=zone_help)
    sched.set_defaults(handler=cmd_draft_schedule)

    approvals = commands.add_parser("approvals", help="drafts waiting for principals, and decisions in person")
    asub = approvals.add_subparsers(metavar="ACTION", required=True, parser_class=_Parser)
    alist = asub.add_parser("list", help="the queue (one principal's or everyone's) and flagged replies")
    alist.add_argument("--principal", metavar="NAME")
    alist.set_defaults(handler=cmd_approvals_list)
    decide = asub.add_parser("decide", help="record a decision the principal gave in person")
    decide.add_argument("id", type=int, metavar="ID")
    decide.add_argument("decision", choices=["approve", "reject"])
    decide.add_argument("--comment", metavar="TEXT")
    decide.add_argument("--confirmed-by", metavar="NAME", default="assistant",
                        help="who heard the principal say so (recorded in the audit)")
    decide.set_defaults(handler=cmd_approvals_decide)
