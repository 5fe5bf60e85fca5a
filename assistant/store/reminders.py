"""Reminder rows, notification settings and quiet hours. Every per-principal query goes through a ``PrincipalScope``.

The only cross-principal reads are :func:`pending_all` (what the scheduler loads at start) and :func:`due_between`
(the Today view); both return rows that carry their ``principal_id``.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time
from typing import TYPE_CHECKING

from assistant.core.timezones import from_epoch, from_epoch_required, to_epoch
from assistant.domain import Reminder, ReminderState
from assistant.store import inserted_id
from assistant.store.changes import Area
from assistant.store.db import sqlite

if TYPE_CHECKING:
    from assistant.store import PrincipalScope, Store

NOTIFY_CHOICES = ("on", "urgent", "off")


@dataclass
class NotificationSettings:
    principal_id: int
    notify: str = "on"
    quiet_start: time | None = None
    quiet_end: time | None = None


_COLUMNS = ("principal_id, kind, text, due_utc, state, link, rrule, created_utc, fired_utc, missed, urgent, anchor_local,"
            " message_header_id, thread_id")


def _row(r: sqlite.Row) -> Reminder:
    return Reminder(
        id=r["id"], principal_id=r["principal_id"], kind=r["kind"], text=r["text"],
        due_utc=from_epoch_required(r["due_utc"]),
        state=ReminderState(r["state"]), link=r["link"], rrule=r["rrule"], created_utc=from_epoch(r["created_utc"]),
        fired_utc=from_epoch(r["fired_utc"]), missed=bool(r["missed"]), urgent=bool(r["urgent"]),
        anchor_local=r["anchor_local"], message_header_id=r["message_header_id"], thread_id=r["thread_id"],
    )


def insert(scope: PrincipalScope, r: Reminder) -> Reminder:
    r.principal_id = scope.principal_id
    with scope.store.transaction():
        scope.store.changed(Area.REMINDERS, scope.principal_id)
        cur = scope.db.execute(
            f"INSERT INTO reminders({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (scope.principal_id, r.kind, r.text, to_epoch(r.due_utc), r.state, r.link, r.rrule, to_epoch(r.created_utc),
             to_epoch(r.fired_utc), int(r.missed), int(r.urgent), r.anchor_local, r.message_header_id, r.thread_id),
        )
        r.id = inserted_id(cur)
    return r


def get(scope: PrincipalScope, reminder_id: int) -> Reminder | None:
    row = scope.db.execute("SELECT * FROM reminders WHERE principal_id=? AND id=?",
                           (scope.principal_id, reminder_id)).fetchone()
    return _row(row) if row else None


def listed(scope: PrincipalScope, *, states: Iterable[ReminderState] | None = (ReminderState.PENDING,),
           due_before: datetime | None = None) -> list[Reminder]:
    sql = "SELECT * FROM reminders WHERE principal_id=?"
    params: list[object] = [scope.principal_id]
    if states is not None:
        states = list(states)
        sql += f" AND state IN ({','.join('?' * len(states))})"
        params += states
    if due_before is not None:
        sql += " AND due_utc<?"
        params.append(to_epoch(due_before))
    return [_row(r) for r in scope.db.execute(sql + " ORDER BY due_utc, id", params)]


def pending_with_link(scope: PrincipalScope, link: str) -> list[Reminder]:
    rows = scope.db.execute("SELECT * FROM reminders WHERE principal_id=? AND link=? AND state='pending'",
                            (scope.principal_id, link))
    return [_row(r) for r in rows]


def pending_follow_ups(scope: PrincipalScope) -> list[Reminder]:
    rows = scope.db.execute("SELECT * FROM reminders WHERE principal_id=? AND kind='follow-up' AND state='pending'",
                            (scope.principal_id,))
    return [_row(r) for r in rows]


def set_state(scope: PrincipalScope, reminder_id: int, state: ReminderState, *, fired_utc: datetime | None = None,
              missed: bool | None = None, leaving: Iterable[ReminderState] = (ReminderState.PENDING,)) -> bool:
    """Move a reminder to ``state`` from one of the states in ``leaving`` (by default only from pending, so nothing
    fires twice); ``False`` when it was in none of them."""
    leaving = list(leaving)
    with scope.store.transaction():
        cur = scope.db.execute(
            "UPDATE reminders SET state=?, fired_utc=COALESCE(?, fired_utc), missed=COALESCE(?, missed)"
            f" WHERE principal_id=? AND id=? AND state IN ({','.join('?' * len(leaving))})",
            (state, to_epoch(fired_utc), None if missed is None else int(missed), scope.principal_id, reminder_id,
             *leaving),
        )
        if cur.rowcount:
            scope.store.changed(Area.REMINDERS, scope.principal_id)
    return cur.rowcount == 1


def reschedule(scope: PrincipalScope, reminder_id: int, due_utc: datetime) -> bool:
    with scope.store.transaction():
        scope.store.changed(Area.REMINDERS, scope.principal_id)
        cur = scope.db.execute(
            "UPDATE reminders SET due_utc=?, state='pending', missed=0 WHERE principal_id=? AND id=?",
            (to_epoch(due_utc), scope.principal_id, reminder_id),
        )
    return cur.rowcount == 1


def pending_all(store: Store) -> list[Reminder]:
    """Every pending reminder of every principal, each carrying its ``principal_id`` (for the scheduler at start)."""
    return [_row(r) for r in store.db.execute("SELECT * FROM reminders WHERE state='pending' ORDER BY due_utc, id")]


def pending_before(store: Store, until: datetime) -> list[Reminder]:
    """Every principal's pending reminders due before ``until`` (the scheduler's horizon), each with its principal."""
    return [_row(r) for r in store.db.execute(
        "SELECT * FROM reminders WHERE state='pending' AND due_utc<? ORDER BY due_utc, id", (to_epoch(until),))]


def fired_unseen_missed(store: Store) -> list[Reminder]:
    return [_row(r) for r in store.db.execute(
        "SELECT * FROM reminders WHERE state='fired' AND missed=1 ORDER BY due_utc, id")]


def due_between(store: Store, start: datetime, end: datetime,
                states: Iterable[ReminderState] = (ReminderState.PENDING, ReminderState.FIRED)) -> list[Reminder]:
    states = list(states)
    rows = store.db.execute(
        f"SELECT * FROM reminders WHERE state IN ({','.join('?' * len(states))}) AND due_utc>=? AND due_utc<?"
        " ORDER BY due_utc, id", [*states, to_epoch(start), to_epoch(end)])
    return [_row(r) for r in rows]


# -- settings -----------------------------------------------------------------------------------------------------
def _time(text: str) -> time | None:
    return time.fromisoformat(text) if text else None


def settings(scope: PrincipalScope) -> NotificationSettings:
    row = scope.db.execute("SELECT * FROM reminder_settings WHERE principal_id=?", (scope.principal_id,)).fetchone()
    if row is None:
        return NotificationSettings(scope.principal_id)
    return NotificationSettings(scope.principal_id, row["notify"], _time(row["quiet_start"]), _time(row["quiet_end"]))


def save_settings(scope: PrincipalScope, s: NotificationSettings) -> None:
    with scope.store.transaction():
        scope.store.changed(Area.REMINDERS, scope.principal_id)
        scope.db.execute(
            "INSERT INTO reminder_settings(principal_id, notify, quiet_start, quiet_end) VALUES (?,?,?,?)"
            " ON CONFLICT(principal_id) DO UPDATE SET notify=excluded.notify, quiet_start=excluded.quiet_start,"
            " quiet_end=excluded.quiet_end",
            (scope.principal_id, s.notify, s.quiet_start.strftime("%H:%M") if s.quiet_start else "",
             s.quiet_end.strftime("%H:%M") if s.quiet_end else ""),
        )


def assistant_setting(store: Store, key: str, default: str = "") -> str:
    row = store.db.execute("SELECT value FROM assistant_settings WHERE key=?", (key,)).fetchone()
    return row[0] if row else default


def set_assistant_setting(store: Store, key: str, value: str) -> None:
    with store.transaction():
        store.changed(Area.REMINDERS)
        store.db.execute("INSERT INTO assistant_settings(key, value) VALUES (?,?)"
                         " ON CONFLICT(key) DO UPDATE SET value=excluded.value", (key, value))


def sent_without_reply(scope: PrincipalScope, addresses: list[str], limit: int = 1) -> list[int]:
    """Ids of the principal's newest own messages that nobody has answered (by In-Reply-To), newest first."""
    if not addresses:
        return []
    marks = ",".join("?" * len(addresses))
    rows = scope.db.execute(
        f"SELECT m.id FROM messages m WHERE m.principal_id=? AND lower(m.sender_email) IN ({marks})"
        " AND m.message_id_header<>'' AND NOT EXISTS (SELECT 1 FROM messages r WHERE r.principal_id=m.principal_id"
        " AND r.in_reply_to=m.message_id_header) ORDER BY m.date_utc DESC LIMIT ?",
        (scope.principal_id, *[a.lower() for a in addresses], limit))
    return [r[0] for r in rows]
