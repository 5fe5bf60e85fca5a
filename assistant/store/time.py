"""Time entries and billing settings: the one write path of ``time_entries``, ``time_entry_history`` and ``billing``.

Its rules: an entry ends after it starts; no two of a principal's entries overlap (time is never counted twice — an
entry that would overlap is refused, saying with which one); at most one timer runs in the whole workspace (the
assistant works for one principal at a time); every change to an entry keeps what it was before, with who changed it.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from assistant.core import currencies, timezones
from assistant.core.errors import InvalidInput, NotFound
from assistant.core.timezones import from_epoch, from_epoch_required, to_epoch
from assistant.domain import Billing, TimeEntry, TimeSource
from assistant.domain.time import ROUNDING_MINUTES
from assistant.store import inserted_id
from assistant.store.changes import Area
from assistant.store.db import sqlite

if TYPE_CHECKING:
    from assistant.store import PrincipalScope, Store


def _entry(r: sqlite.Row) -> TimeEntry:
    return TimeEntry(
        id=r["id"], principal_id=r["principal_id"], start_utc=from_epoch_required(r["start_utc"]),
        end_utc=from_epoch(r["end_utc"]), source=TimeSource(r["source"]), billable=bool(r["billable"]),
        note=r["note"], item=r["item"], item_title=r["item_title"],
    )


def _shown(dt: datetime, zone: str) -> str:
    return f"{timezones.in_zone(dt, zone):%Y-%m-%d %H:%M}"


def _check(scope: PrincipalScope, e: TimeEntry) -> None:
    if e.start_utc.tzinfo is None or (e.end_utc is not None and e.end_utc.tzinfo is None):
        raise InvalidInput("times need a time zone")
    if e.end_utc is not None and e.end_utc <= e.start_utc:
        raise InvalidInput("an entry must end after it starts")
    end = to_epoch(e.end_utc) if e.end_utc is not None else 2**62
    clash = scope.db.execute(
        "SELECT * FROM time_entries WHERE principal_id=? AND id!=? AND start_utc<? AND COALESCE(end_utc, ?)>?"
        " ORDER BY start_utc LIMIT 1",
        (scope.principal_id, e.id, end, 2**62, to_epoch(e.start_utc)),
    ).fetchone()
    if clash is not None:
        other = _entry(clash)
        zone = scope.principal.timezone
        until = _shown(other.end_utc, zone) if other.end_utc else "now (a timer is running)"
        raise InvalidInput(f"it overlaps entry {other.id} ({_shown(other.start_utc, zone)} to {until}); time is never"
                           " counted twice: change or delete that one first")


def _history(scope: PrincipalScope, entry_id: int, actor: str, action: str, before: TimeEntry | None) -> None:
    data = {} if before is None else {
        "start_utc": to_epoch(before.start_utc), "end_utc": to_epoch(before.end_utc), "source": before.source.value,
        "billable": before.billable, "note": before.note, "item": before.item, "item_title": before.item_title}
    scope.db.execute(
        "INSERT INTO time_entry_history(entry_id, principal_id, at_utc, actor, action, before) VALUES (?,?,?,?,?,?)",
        (entry_id, scope.principal_id, to_epoch(timezones.now_utc()), actor, action, json.dumps(data)),
    )


def add_entry(scope: PrincipalScope, e: TimeEntry, *, actor: str = "assistant") -> TimeEntry:
    """Store a new entry (``end_utc`` None: a running timer, refused while another runs)."""
    if e.principal_id != scope.principal_id:
        raise NotFound("that entry is not this principal's")
    with scope.store.transaction():
        if e.end_utc is None:
            running = running_timer(scope.store)
            if running is not None:
                raise InvalidInput(f"a timer is already running (entry {running.id}): stop it first")
        _check(scope, e)
        scope.store.changed(Area.TIME, scope.principal_id)
        now = to_epoch(timezones.now_utc())
        cur = scope.db.execute(
            "INSERT INTO time_entries(principal_id, start_utc, end_utc, source, billable, note, item, item_title,"
            " created_utc, updated_utc) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (scope.principal_id, to_epoch(e.start_utc), to_epoch(e.end_utc), TimeSource(e.source).value,
             int(e.billable), e.note, e.item, e.item_title, now, now),
        )
        e.id = inserted_id(cur)
        _history(scope, e.id, actor, "added", None)
    return e


def update_entry(scope: PrincipalScope, e: TimeEntry, *, actor: str = "assistant") -> TimeEntry:
    """Change an entry; what it was before is kept in its history."""
    before = entry(scope, e.id)
    with scope.store.transaction():
        _check(scope, e)
        scope.store.changed(Area.TIME, scope.principal_id)
        scope.db.execute(
            "UPDATE time_entries SET start_utc=?, end_utc=?, source=?, billable=?, note=?, item=?, item_title=?,"
            " updated_utc=? WHERE id=? AND principal_id=?",
            (to_epoch(e.start_utc), to_epoch(e.end_utc), TimeSource(e.source).value, int(e.billable), e.note, e.item,
             e.item_title, to_epoch(timezones.now_utc()), e.id, scope.principal_id),
        )
        _history(scope, e.id, actor, "changed", before)
    return e


def delete_entry(scope: PrincipalScope, entry_id: int, *, actor: str = "assistant") -> None:
    before = entry(scope, entry_id)
    with scope.store.transaction():
        scope.store.changed(Area.TIME, scope.principal_id)
        scope.db.execute("DELETE FROM time_entries WHERE id=? AND principal_id=?", (entry_id, scope.principal_id))
        _history(scope, entry_id, actor, "deleted", before)


def entry(scope: PrincipalScope, entry_id: int) -> TimeEntry:
    r = scope.db.execute("SELECT * FROM time_entries WHERE id=? AND principal_id=?",
                         (entry_id, scope.principal_id)).fetchone()
    if r is None:
        raise NotFound(f"no time entry {entry_id} for this principal")
    return _entry(r)


def entries(scope: PrincipalScope, since_utc: datetime, until_utc: datetime) -> list[TimeEntry]:
    """The principal's entries that start in [since, until), oldest first (an entry belongs where it starts)."""
    rows = scope.db.execute(
        "SELECT * FROM time_entries WHERE principal_id=? AND start_utc>=? AND start_utc<? ORDER BY start_utc",
        (scope.principal_id, to_epoch(since_utc), to_epoch(until_utc)),
    )
    return [_entry(r) for r in rows]


def entries_on(scope: PrincipalScope, item: str, source: TimeSource | None = None) -> list[TimeEntry]:
    """The principal's entries on ``item`` (``call:7``), of one source or any, oldest first."""
    rows = scope.db.execute(
        "SELECT * FROM time_entries WHERE principal_id=? AND item=? AND (? IS NULL OR source=?) ORDER BY start_utc",
        (scope.principal_id, item, None if source is None else source.value, None if source is None else source.value),
    )
    return [_entry(r) for r in rows]


def history(scope: PrincipalScope, entry_id: int) -> list[dict[str, object]]:
    rows = scope.db.execute(
        "SELECT at_utc, actor, action, before FROM time_entry_history WHERE entry_id=? AND principal_id=? ORDER BY id",
        (entry_id, scope.principal_id),
    )
    return [{"at_utc": from_epoch(r["at_utc"]), "actor": r["actor"], "action": r["action"],
             "before": json.loads(r["before"])} for r in rows]


def running_timer(store: Store) -> TimeEntry | None:
    """Explicitly cross-principal: the one running timer, whoever's it is."""
    r = store.db.execute("SELECT * FROM time_entries WHERE end_utc IS NULL LIMIT 1").fetchone()
    return _entry(r) if r is not None else None


def mark_retainer_notice(scope: PrincipalScope, period_start: date, level: int) -> bool:
    """Remember that the notice at ``level`` % of the retainer was given for the period starting ``period_start``;
    whether it is new (False: it was given before). No view shows these rows, so no change is recorded."""
    with scope.store.transaction():
        cur = scope.db.execute(
            "INSERT OR IGNORE INTO retainer_notices(principal_id, period_start, level, at_utc) VALUES (?,?,?,?)",
            (scope.principal_id, period_start.isoformat(), level, to_epoch(timezones.now_utc())),
        )
    return cur.rowcount > 0


# -- billing ------------------------------------------------------------------------------------------------------
def billing(scope: PrincipalScope) -> Billing:
    r = scope.db.execute("SELECT * FROM billing WHERE principal_id=?", (scope.principal_id,)).fetchone()
    if r is None:
        return Billing()
    return Billing(rate=Decimal(r["rate"]) if r["rate"] else None, currency=r["currency"],
                   retainer_minutes=r["retainer_minutes"], retainer_per=r["retainer_per"],
                   rounding_min=r["rounding_min"], rounding_per=r["rounding_per"],
                   billable_default=bool(r["billable_default"]))


def parse_rate(text: str) -> Decimal:
    try:
        rate = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidInput(f"{text!r} is not an amount: give the hourly rate as a number, e.g. 45 or 37.50") from None
    if not rate.is_finite() or rate < 0 or rate > Decimal("1000000"):
        raise InvalidInput(f"{text!r} is not an hourly rate this app can bill")
    return rate


def save_billing(scope: PrincipalScope, b: Billing) -> Billing:
    """Check and store a principal's billing settings."""
    if b.rate is not None and not b.currency:
        raise InvalidInput("a rate needs its currency: --currency CODE (e.g. USD, EUR, NGN)")
    currency = currencies.validate(b.currency) if b.currency else ""
    if b.rounding_min not in ROUNDING_MINUTES:
        raise InvalidInput("rounding is 0 (exact), 6, 10 or 15 minutes")
    if b.rounding_per not in ("entry", "day"):
        raise InvalidInput("rounding applies per entry or per day")
    if b.retainer_minutes is not None and (b.retainer_minutes <= 0 or b.retainer_per not in ("month", "week")):
        raise InvalidInput("a retainer is a number of hours per month or per week")
    b.currency = currency
    with scope.store.transaction():
        scope.store.changed(Area.TIME, scope.principal_id)
        scope.db.execute(
            "INSERT INTO billing(principal_id, rate, currency, retainer_minutes, retainer_per, rounding_min,"
            " rounding_per, billable_default) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(principal_id) DO UPDATE SET"
            " rate=excluded.rate, currency=excluded.currency, retainer_minutes=excluded.retainer_minutes,"
            " retainer_per=excluded.retainer_per, rounding_min=excluded.rounding_min,"
            " rounding_per=excluded.rounding_per, billable_default=excluded.billable_default",
            (scope.principal_id, "" if b.rate is None else str(b.rate), currency, b.retainer_minutes,
             b.retainer_per if b.retainer_minutes is not None else "", b.rounding_min, b.rounding_per,
             int(b.billable_default)),
        )
    return b
