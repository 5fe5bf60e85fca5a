"""A principal's call log in the store: adding a call (once per import key), the recent calls, pages with filters, one
party's history, talk-time totals, who a number belongs to, and the remembered column mappings of generic CSV call
exports.

Every function that reads a principal's rows takes a :class:`PrincipalScope` and filters on its id. The only
workspace-wide question is :func:`principals_knowing`, which answers with principal ids and nothing else.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from assistant.core import timezones
from assistant.core.errors import NotFound
from assistant.core.timezones import from_epoch, from_epoch_required, to_epoch
from assistant.domain import Call, CallDirection
from assistant.store import contacts as contact_store
from assistant.store import fts, inserted_id
from assistant.store.changes import Area
from assistant.store.db import sqlite

if TYPE_CHECKING:
    from assistant.store import PrincipalScope, Store


@dataclass
class CallFilter:
    direction: str = ""  # "", "in", "out", "missed", "voicemail"
    since_utc: datetime | None = None
    until_utc: datetime | None = None
    party_key: str = ""  # E.164 number, SIP address or client identity
    text: str = ""  # full-text over name, number and notes
    also_keys: list[str] = field(default_factory=list)  # with ``text``: calls with these parties match as well


def _call(r: sqlite.Row) -> Call:
    return Call(
        id=r["id"], principal_id=r["principal_id"], direction=CallDirection(r["direction"]),
        number_raw=r["number_raw"], number_e164=r["number_e164"], number_valid=bool(r["number_valid"]),
        caller_name=r["caller_name"], started_utc=from_epoch_required(r["started_utc"]), duration_s=r["duration_s"],
        outcome=r["outcome"], notes=r["notes"], source=r["source"], source_key=r["source_key"],
    )


def _where(scope: PrincipalScope, f: CallFilter) -> tuple[str, list[Any]]:
    clauses = ["c.principal_id=?"]
    params: list[Any] = [scope.principal_id]
    if f.direction:
        clauses.append("c.direction=?")
        params.append(CallDirection(f.direction).value)
    if f.since_utc is not None:
        clauses.append("c.started_utc>=?")
        params.append(to_epoch(f.since_utc))
    if f.until_utc is not None:
        clauses.append("c.started_utc<?")
        params.append(to_epoch(f.until_utc))
    if f.party_key:
        clauses.append("(c.number_e164=? OR (c.number_e164='' AND lower(trim(c.number_raw))=?))")
        params += [f.party_key, f.party_key.lower()]
    if f.text.strip():
        from assistant.store import fts_query

        text_clause = "c.id IN (SELECT rowid FROM calls_fts WHERE calls_fts MATCH ?)"
        params.append(fts_query(f.text))
        keys = [k for k in f.also_keys if k]
        if keys:
            text_clause = f"({text_clause} OR c.number_e164 IN ({','.join('?' * len(keys))}))"
            params += keys
        clauses.append(text_clause)
    return " AND ".join(clauses), params


def count_calls(scope: PrincipalScope, f: CallFilter | None = None) -> int:
    where, params = _where(scope, f or CallFilter())
    return cast(int, scope.db.execute(f"SELECT COUNT(*) FROM calls c WHERE {where}", params).fetchone()[0])


def calls_page(scope: PrincipalScope, f: CallFilter | None = None, *, offset: int = 0, limit: int = 200) -> list[Call]:
    where, params = _where(scope, f or CallFilter())
    rows = scope.db.execute(
        f"SELECT c.* FROM calls c WHERE {where} ORDER BY c.started_utc DESC, c.id DESC LIMIT ? OFFSET ?",
        params + [limit, offset],
    )
    return [_call(r) for r in rows]


def get_call(scope: PrincipalScope, call_id: int) -> Call:
    row = scope.db.execute("SELECT * FROM calls WHERE id=? AND principal_id=?", (call_id, scope.principal_id)).fetchone()
    if row is None:
        raise NotFound(f"no call {call_id} for this principal")
    return _call(row)


def update_call(scope: PrincipalScope, call_id: int, *, caller_name: str | None = None, outcome: str | None = None,
                notes: str | None = None, duration_s: int | None = None) -> Call:
    """Change what becomes known after a call. Its time entry follows a new duration only through
    :func:`assistant.calls.manual.edit_call`, which calls this."""
    call = get_call(scope, call_id)
    call.caller_name = call.caller_name if caller_name is None else caller_name
    call.outcome = call.outcome if outcome is None else outcome
    call.notes = call.notes if notes is None else notes
    call.duration_s = call.duration_s if duration_s is None else max(0, int(duration_s))
    from assistant.store import fts

    with scope.store.transaction():
        scope.store.changed(Area.CALLS, scope.principal_id)
        scope.db.execute(
            "UPDATE calls SET caller_name=?, outcome=?, notes=?, duration_s=? WHERE id=? AND principal_id=?",
            (call.caller_name, call.outcome, call.notes, call.duration_s, call_id, scope.principal_id),
        )
        scope.db.execute("DELETE FROM calls_fts WHERE rowid=?", (call_id,))
        scope.db.execute(
            "INSERT INTO calls_fts(rowid, caller_name, number, notes) VALUES (?,?,?,?)",
            (call_id, fts.index_text(call.caller_name), f"{call.number_raw} {call.number_e164}",
             fts.index_text(call.notes)),
        )
    return call


def contact_by_phone(scope: PrincipalScope, key: str) -> tuple[str, list[str]] | None:
    """(name, e-mail addresses) of the principal's contact with this number (phones are stored as E.164)."""
    row = scope.db.execute(
        "SELECT name, emails FROM contacts WHERE principal_id=? AND instr(phones, ?) > 0 ORDER BY id LIMIT 1",
        (scope.principal_id, json.dumps(key)),
    ).fetchone()
    return (row["name"], json.loads(row["emails"])) if row else None


def latest_name(scope: PrincipalScope, key: str) -> str:
    """The caller name of the principal's latest named call with this party."""
    if key.startswith("+") and key[1:].isdigit():
        where, params = "number_e164=?", [key]
    else:
        where, params = "number_e164='' AND lower(trim(number_raw))=?", [key.lower()]
    row = scope.db.execute(
        f"SELECT caller_name FROM calls WHERE {where} AND principal_id=? AND caller_name!=''"
        " ORDER BY started_utc DESC LIMIT 1",
        (*params, scope.principal_id),
    ).fetchone()
    return row[0] if row else ""


def principals_knowing(store: Store, key: str) -> list[int]:
    """Ids of the principals that have this party in their contacts or their call log (workspace-wide on purpose:
    the quick log picks the principal from it). Returns ids only, never another principal's rows."""
    if not key:
        return []
    if key.startswith("+") and key[1:].isdigit():  # E.164: the calls_party index answers
        calls_sql, params = "SELECT principal_id FROM calls WHERE number_e164=?", [key]
    else:
        calls_sql, params = "SELECT principal_id FROM calls WHERE number_e164='' AND lower(trim(number_raw))=?", [key.lower()]
    rows = store.db.execute(
        f"{calls_sql} UNION SELECT principal_id FROM contacts WHERE instr(phones, ?) > 0", (*params, json.dumps(key)),
    )
    return sorted({r[0] for r in rows})


def talk_time(scope: PrincipalScope, zone: str, *, by: str = "day", since_utc: datetime | None = None,
              until_utc: datetime | None = None) -> list[dict[str, Any]]:
    """Talk time per day or ISO week in ``zone``, newest first: ``{"period", "calls", "seconds"}``."""
    if by not in ("day", "week"):
        raise ValueError(by)
    rows = scope.db.execute(
        "SELECT started_utc, duration_s FROM calls WHERE principal_id=? AND (? IS NULL OR started_utc>=?)"
        " AND (? IS NULL OR started_utc<?)",
        (scope.principal_id, to_epoch(since_utc), to_epoch(since_utc), to_epoch(until_utc), to_epoch(until_utc)),
    )
    totals: dict[str, list[int]] = {}
    for r in rows:
        local = timezones.in_zone(from_epoch_required(r["started_utc"]), zone).date()
        if by == "week":
            year, week, _ = local.isocalendar()
            period = f"{year}-W{week:02d}"
        else:
            period = local.isoformat()
        entry = totals.setdefault(period, [0, 0])
        entry[0] += 1
        entry[1] += max(0, r["duration_s"])
    return [{"period": p, "calls": c, "seconds": s} for p, (c, s) in sorted(totals.items(), reverse=True)]


def today_bounds(zone: str, now: datetime | None = None) -> tuple[datetime, datetime]:
    now = now or timezones.now_utc()
    return timezones.day_bounds_utc(timezones.in_zone(now, zone).date(), zone)


def threads_with(scope: PrincipalScope, emails: list[str], limit: int = 20) -> list[dict[str, Any]]:
    """Threads where one of ``emails`` wrote or was written to, newest first."""
    emails = [e.lower() for e in emails if e]
    if not emails:
        return []
    like = " OR ".join(["instr(lower(m.recipients), ?) > 0"] * len(emails))
    rows = scope.db.execute(
        "SELECT t.id, t.subject, t.last_date_utc, t.message_count FROM threads t WHERE t.principal_id=? AND t.id IN"
        f" (SELECT m.thread_id FROM messages m WHERE m.principal_id=? AND (lower(m.sender_email) IN"
        f" ({','.join('?' * len(emails))}) OR {like})) ORDER BY t.last_date_utc DESC LIMIT ?",
        [scope.principal_id, scope.principal_id, *emails, *[json.dumps(e)[1:-1] for e in emails], limit],
    )
    return [{"thread_id": r["id"], "subject": r["subject"], "last_date_utc": from_epoch(r["last_date_utc"]),
             "messages": r["message_count"]} for r in rows]


def sender_mentioning(scope: PrincipalScope, digit_groups: list[list[str]],
                      own_addresses: list[str]) -> tuple[str, str] | None:
    """(name, address) of the correspondent whose mail most often carries a number, e.g. in a signature.

    ``digit_groups`` are the number as the full-text index sees it (``["212", "555", "0147"]``), one list per way of
    writing it (national, international); one indexed phrase query each, so this stays cheap on a large mailbox.
    """
    own = {a.lower() for a in own_addresses}
    counts: dict[tuple[str, str], int] = {}
    for groups in digit_groups:
        if not groups:
            continue
        rows = scope.db.execute(  # CROSS JOIN: the index first; SQLite would run the MATCH once per message instead
            "SELECT m.sender_name, lower(m.sender_email) AS email FROM messages_fts CROSS JOIN messages m"
            " ON m.id=messages_fts.rowid WHERE messages_fts MATCH ? AND m.principal_id=? LIMIT 200",
            ('body : "' + " ".join(groups) + '"', scope.principal_id),
        )
        for r in rows:
            if r["email"] and r["email"] not in own:
                key = (r["sender_name"], r["email"])
                counts[key] = counts.get(key, 0) + 1
    if not counts:
        return None
    return max(counts.items(), key=lambda item: item[1])[0]


def contact_keys_named(scope: PrincipalScope, text: str, region: str) -> list[str]:
    """E.164 numbers of the principal's contacts whose name contains ``text`` (so "by contact" finds their calls
    even when a call was logged without a name)."""
    from assistant.core.phones import normalise

    needle = text.strip().casefold()
    if not needle:
        return []
    return sorted({normalise(phone, region).e164 for c in contact_store.contacts(scope) if needle in c.name.casefold()
                   for phone in c.phones} - {""})


def emails_for_name(scope: PrincipalScope, name: str) -> list[str]:
    """Addresses a correspondent of this principal used under ``name`` (how a call's caller is found in the mail)."""
    if not name.strip():
        return []
    rows = scope.db.execute(
        "SELECT DISTINCT lower(sender_email) FROM messages WHERE principal_id=? AND sender_name=? COLLATE NOCASE"
        " AND sender_email!='' LIMIT 5",
        (scope.principal_id, name.strip()),
    )
    return [r[0] for r in rows]


# -- remembered column mappings for generic CSV exports -----------------------------------------------------------------
def saved_mapping(store: Store, signature: str) -> dict[str, str] | None:
    row = store.db.execute("SELECT mapping FROM call_csv_mappings WHERE signature=?", (signature,)).fetchone()
    return json.loads(row[0]) if row else None


def save_mapping(store: Store, signature: str, header: list[str], mapping: dict[str, str]) -> None:
    with store.transaction():
        store.db.execute(
            "INSERT INTO call_csv_mappings(signature, header, mapping, saved_utc) VALUES (?,?,?,?)"
            " ON CONFLICT(signature) DO UPDATE SET mapping=excluded.mapping, saved_utc=excluded.saved_utc",
            (signature, json.dumps(header), json.dumps(mapping), to_epoch(timezones.now_utc())),
        )


def week_start(day: datetime) -> datetime:
    return day - timedelta(days=day.weekday())


def add_call(scope: PrincipalScope, c: Call) -> tuple[int, bool]:
    """Returns (id, added). A call whose (source, source_key) is already here is not added twice."""
    with scope.store.transaction():
        scope.store.changed(Area.CALLS, scope.principal_id)
        if c.source_key:
            # "source_key != ''" is the partial unique index's own condition: SQLite uses a partial index only for a
            # query that states it (a bound parameter proves nothing), and without it this walked every call of the
            # principal, which made an import quadratic (issue 15, point 7).
            row = scope.db.execute(
                "SELECT id FROM calls WHERE principal_id=? AND source=? AND source_key=? AND source_key != ''",
                (scope.principal_id, c.source, c.source_key),
            ).fetchone()
            if row:
                c.id = row[0]
                return row[0], False
        cur = scope.db.execute(
            "INSERT INTO calls(principal_id, direction, number_raw, number_e164, number_valid, caller_name,"
            " started_utc, duration_s, outcome, notes, source, source_key) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                scope.principal_id, CallDirection(c.direction).value, c.number_raw, c.number_e164, int(c.number_valid),
                c.caller_name, to_epoch(c.started_utc), c.duration_s, c.outcome, c.notes, c.source, c.source_key,
            ),
        )
        c.id = call_id = inserted_id(cur)
        scope.db.execute(
            "INSERT INTO calls_fts(rowid, caller_name, number, notes) VALUES (?,?,?,?)",
            (c.id, fts.index_text(c.caller_name), f"{c.number_raw} {c.number_e164}", fts.index_text(c.notes)),
        )
    return call_id, True


def recent_calls(scope: PrincipalScope, limit: int = 500) -> list[Call]:
    rows = scope.db.execute(
        "SELECT * FROM calls WHERE principal_id=? ORDER BY started_utc DESC LIMIT ?", (scope.principal_id, limit)
    )
    return [
        Call(
            id=r["id"], principal_id=r["principal_id"], direction=CallDirection(r["direction"]),
            number_raw=r["number_raw"], number_e164=r["number_e164"], number_valid=bool(r["number_valid"]),
            caller_name=r["caller_name"], started_utc=from_epoch_required(r["started_utc"]),
            duration_s=r["duration_s"], outcome=r["outcome"], notes=r["notes"], source=r["source"],
            source_key=r["source_key"],
        )
        for r in rows
    ]
