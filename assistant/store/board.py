"""A principal's board in the store: columns, cards and their order. Every query is filtered on the scope's principal."""
from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from assistant.core import timezones
from assistant.core.errors import InvalidInput, NotFound
from assistant.core.timezones import from_epoch, to_epoch
from assistant.domain import BoardColumn, Card, ChecklistItem
from assistant.store import PrincipalScope, Store, fts, fts_query, inserted_id
from assistant.store.changes import Area
from assistant.store.db import sqlite

DEFAULT_ARCHIVE_AFTER_DAYS = 7


_EDITABLE = {"title", "notes", "due_utc", "priority", "labels", "rrule", "link", "checklist", "estimate_min", "remind",
             "done_utc", "archived_utc"}


def _card(r: sqlite.Row) -> Card:
    return Card(
        id=r["id"], principal_id=r["principal_id"], title=r["title"], column_id=r["column_id"], position=r["position"],
        notes=r["notes"], due_utc=from_epoch(r["due_utc"]), priority=r["priority"], labels=json.loads(r["labels"]),
        rrule=r["rrule"], link=r["link"], done_utc=from_epoch(r["done_utc"]), created_utc=from_epoch(r["created_utc"]),
        checklist=[ChecklistItem(i["text"], bool(i.get("done"))) for i in json.loads(r["checklist"])],
        estimate_min=r["estimate_min"], archived_utc=from_epoch(r["archived_utc"]), remind=bool(r["remind"]),
    )


def _value(name: str, value: Any) -> Any:
    if name in ("due_utc", "done_utc", "archived_utc"):
        return to_epoch(value)
    if name == "labels":
        return json.dumps(list(value))
    if name == "checklist":
        return json.dumps([{"text": i.text, "done": i.done} for i in value])
    if name == "remind":
        return int(bool(value))
    return value


# -- columns ----------------------------------------------------------------------------------------------------------
def _own_column(scope: PrincipalScope, column_id: int) -> None:
    row = scope.db.execute("SELECT 1 FROM board_columns WHERE id=? AND principal_id=?",
                           (column_id, scope.principal_id)).fetchone()
    if row is None:
        raise NotFound(f"no column {column_id} on this principal's board")


def column_by_name(scope: PrincipalScope, name: str) -> BoardColumn:
    wanted = name.strip().casefold()
    for column in columns(scope):
        if column.name.casefold() == wanted or str(column.id) == wanted:
            return column
    names = ", ".join(c.name for c in columns(scope))
    raise NotFound(f"no column {name!r} on {scope.principal.name}'s board (columns: {names})")


def add_column(scope: PrincipalScope, name: str, index: int | None = None) -> int:
    name = name.strip()
    if not name:
        raise InvalidInput("a column needs a name")
    with scope.store.transaction():
        scope.store.changed(Area.BOARD, scope.principal_id)
        count = scope.db.execute("SELECT COUNT(*) FROM board_columns WHERE principal_id=?",
                                 (scope.principal_id,)).fetchone()[0]
        column_id = inserted_id(scope.db.execute(
            "INSERT INTO board_columns(principal_id, name, position) VALUES (?,?,?)", (scope.principal_id, name, count)))
        if index is not None:
            move_column(scope, column_id, index)
    return column_id


def rename_column(scope: PrincipalScope, column_id: int, name: str) -> None:
    if not name.strip():
        raise InvalidInput("a column needs a name")
    with scope.store.transaction():
        scope.store.changed(Area.BOARD, scope.principal_id)
        _own_column(scope, column_id)
        scope.db.execute("UPDATE board_columns SET name=? WHERE id=? AND principal_id=?",
                         (name.strip(), column_id, scope.principal_id))


def move_column(scope: PrincipalScope, column_id: int, index: int) -> None:
    with scope.store.transaction():
        scope.store.changed(Area.BOARD, scope.principal_id)
        _own_column(scope, column_id)
        ids = [c.id for c in columns(scope) if c.id != column_id]
        ids.insert(max(0, min(index, len(ids))), column_id)
        for position, cid in enumerate(ids):
            scope.db.execute("UPDATE board_columns SET position=? WHERE id=? AND principal_id=?",
                             (position, cid, scope.principal_id))


def remove_column(scope: PrincipalScope, column_id: int) -> None:
    """Remove a column; its cards go to the end of the first remaining column (a board keeps at least one)."""
    with scope.store.transaction():
        scope.store.changed(Area.BOARD, scope.principal_id)
        _own_column(scope, column_id)
        others = [c.id for c in columns(scope) if c.id and c.id != column_id]
        if not others:
            raise InvalidInput("a board keeps at least one column")
        for card_id, in scope.db.execute("SELECT id FROM tasks WHERE column_id=? AND principal_id=? ORDER BY position",
                                          (column_id, scope.principal_id)).fetchall():
            move_card(scope, card_id, others[0], None)
        scope.db.execute("DELETE FROM board_columns WHERE id=? AND principal_id=?", (column_id, scope.principal_id))
        _renumber_columns(scope)


def _renumber_columns(scope: PrincipalScope) -> None:
    for position, column in enumerate(columns(scope)):
        scope.db.execute("UPDATE board_columns SET position=? WHERE id=?", (position, column.id))


# -- cards ------------------------------------------------------------------------------------------------------------
def cards(scope: PrincipalScope, *, include_archived: bool = False, ids: Iterable[int] | None = None) -> list[Card]:
    sql = ("SELECT t.* FROM tasks t LEFT JOIN board_columns c ON c.id=t.column_id WHERE t.principal_id=?"
           + ("" if include_archived else " AND t.archived_utc IS NULL"))
    params: list[Any] = [scope.principal_id]
    if ids is not None:
        wanted = list(ids)
        sql += f" AND t.id IN ({','.join('?' * len(wanted))})"
        params += wanted
    rows = scope.db.execute(sql + " ORDER BY c.position, t.position, t.id", params)
    return [_card(r) for r in rows]


def card(scope: PrincipalScope, card_id: int) -> Card:
    row = scope.db.execute("SELECT * FROM tasks WHERE id=? AND principal_id=?", (card_id, scope.principal_id)).fetchone()
    if row is None:
        raise NotFound(f"no task {card_id} for {scope.principal.name}")
    return _card(row)


def principal_of_card(store: Store, card_id: int) -> int:
    """Which principal a card belongs to (the CLI's ``task move ID`` names no principal); everything after goes through
    that principal's scope."""
    row = store.db.execute("SELECT principal_id FROM tasks WHERE id=?", (card_id,)).fetchone()
    if row is None:
        raise NotFound(f"no task {card_id}")
    return cast(int, row[0])


def add_card(scope: PrincipalScope, c: Card, index: int | None = None) -> Card:
    """Insert a card at the end of its column (the first column when it names none), or at ``index``. The board
    feature's :func:`~assistant.board.service.make_task` is the write path that applies the card rules around it."""
    board = columns(scope)
    if c.column_id is None:
        c.column_id = board[0].id if board else None
    elif c.column_id not in {col.id for col in board}:
        raise NotFound(f"no column {c.column_id} on this principal's board")
    c.principal_id = scope.principal_id
    with scope.store.transaction():
        position = scope.db.execute(
            "SELECT COALESCE(MAX(position)+1, 0) FROM tasks WHERE principal_id=? AND column_id IS ?",
            (scope.principal_id, c.column_id),
        ).fetchone()[0]
        c.created_utc = timezones.now_utc()
        cur = scope.db.execute(
            "INSERT INTO tasks(principal_id, column_id, position, title, notes, due_utc, priority, labels, rrule, link,"
            " created_utc, checklist, estimate_min, remind, done_utc, archived_utc)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                scope.principal_id, c.column_id, position, c.title, c.notes, to_epoch(c.due_utc), c.priority,
                json.dumps(c.labels), c.rrule, c.link, to_epoch(c.created_utc), _value("checklist", c.checklist),
                c.estimate_min, int(c.remind), to_epoch(c.done_utc), to_epoch(c.archived_utc),
            ),
        )
        c.id, c.position = inserted_id(cur), position
        scope.db.execute(
            "INSERT INTO tasks_fts(rowid, title, notes) VALUES (?,?,?)",
            (c.id, fts.index_text(c.title), fts.index_text(c.notes)),
        )
        scope.store.changed(Area.BOARD, scope.principal_id)
        if index is not None:
            assert c.column_id is not None  # a board keeps at least one column
            move_card(scope, c.id, c.column_id, index)
            c.position = card(scope, c.id).position
    return c


def update_card(scope: PrincipalScope, card_id: int, **changes: Any) -> None:
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if "title" in changes and not str(changes["title"]).strip():
        raise InvalidInput("a task needs a title")
    if not changes:
        return
    with scope.store.transaction():
        scope.store.changed(Area.BOARD, scope.principal_id)
        card(scope, card_id)
        assignments = ", ".join(f"{name}=?" for name in changes)
        scope.db.execute(f"UPDATE tasks SET {assignments} WHERE id=? AND principal_id=?",
                         [_value(n, v) for n, v in changes.items()] + [card_id, scope.principal_id])
        if "title" in changes or "notes" in changes:
            row = scope.db.execute("SELECT title, notes FROM tasks WHERE id=?", (card_id,)).fetchone()
            scope.db.execute("DELETE FROM tasks_fts WHERE rowid=?", (card_id,))
            scope.db.execute("INSERT INTO tasks_fts(rowid, title, notes) VALUES (?,?,?)",
                             (card_id, fts.index_text(row["title"]), fts.index_text(row["notes"])))


def move_card(scope: PrincipalScope, card_id: int, column_id: int, index: int | None) -> None:
    """Put a card at ``index`` (None: the end) of a column and renumber both columns, in one transaction."""
    with scope.store.transaction():
        scope.store.changed(Area.BOARD, scope.principal_id)
        current = card(scope, card_id)
        _own_column(scope, column_id)
        ids = [r[0] for r in scope.db.execute(
            "SELECT id FROM tasks WHERE principal_id=? AND column_id=? AND id<>? AND archived_utc IS NULL"
            " ORDER BY position, id", (scope.principal_id, column_id, card_id))]
        ids.insert(len(ids) if index is None else max(0, min(index, len(ids))), card_id)
        scope.db.execute("UPDATE tasks SET column_id=? WHERE id=? AND principal_id=?",
                         (column_id, card_id, scope.principal_id))
        for position, cid in enumerate(ids):
            scope.db.execute("UPDATE tasks SET position=? WHERE id=? AND principal_id=?",
                             (position, cid, scope.principal_id))
        if current.column_id is not None and current.column_id != column_id:
            rest = [r[0] for r in scope.db.execute(
                "SELECT id FROM tasks WHERE principal_id=? AND column_id=? AND archived_utc IS NULL ORDER BY position, id",
                (scope.principal_id, current.column_id))]
            for position, cid in enumerate(rest):
                scope.db.execute("UPDATE tasks SET position=? WHERE id=?", (position, cid))


def delete_card(scope: PrincipalScope, card_id: int) -> Card:
    """Delete a card and return it whole, so that :func:`restore_card` can put it back (undo)."""
    with scope.store.transaction():
        scope.store.changed(Area.BOARD, scope.principal_id)
        gone = card(scope, card_id)
        scope.db.execute("DELETE FROM tasks WHERE id=? AND principal_id=?", (card_id, scope.principal_id))
        scope.db.execute("DELETE FROM tasks_fts WHERE rowid=?", (card_id,))
    return gone


def restore_card(scope: PrincipalScope, gone: Card) -> Card:
    column_ids = {c.id for c in columns(scope)}
    column_id = gone.column_id if gone.column_id in column_ids else None
    with scope.store.transaction():
        scope.store.changed(Area.BOARD, scope.principal_id)
        position = gone.position
        restored = Card(**{**gone.__dict__, "id": None, "column_id": column_id})
        add_card(scope, restored, index=position)
        scope.db.execute("UPDATE tasks SET created_utc=? WHERE id=?", (to_epoch(gone.created_utc), restored.id))
    return restored


def search_ids(scope: PrincipalScope, text: str) -> set[int]:
    query = fts_query(text)
    if not query:
        return {c.id for c in cards(scope) if c.id}
    rows = scope.db.execute(  # CROSS JOIN: the index first; SQLite would run the MATCH once per card of the principal
        "SELECT t.id FROM tasks_fts f CROSS JOIN tasks t ON t.id=f.rowid WHERE tasks_fts MATCH ? AND t.principal_id=?",
        (query, scope.principal_id))
    return {r[0] for r in rows}


def archive_after_days(scope: PrincipalScope) -> int:
    row = scope.db.execute("SELECT archive_after_days FROM board_settings WHERE principal_id=?",
                           (scope.principal_id,)).fetchone()
    return row[0] if row else DEFAULT_ARCHIVE_AFTER_DAYS


def set_archive_after_days(scope: PrincipalScope, days: int) -> None:
    if days < 0:
        raise InvalidInput("archive after 0 or more days")
    with scope.store.transaction():
        scope.store.changed(Area.BOARD, scope.principal_id)
        scope.db.execute("INSERT INTO board_settings(principal_id, archive_after_days) VALUES (?,?)"
                         " ON CONFLICT(principal_id) DO UPDATE SET archive_after_days=excluded.archive_after_days",
                         (scope.principal_id, days))


def archive_done(scope: PrincipalScope, now: datetime | None = None) -> int:
    """Archive the cards done more than N days ago (the board's setting); returns how many."""
    now = now or timezones.now_utc()
    cutoff = to_epoch(now) - archive_after_days(scope) * 86400
    with scope.store.transaction():
        cur = scope.db.execute(
            "UPDATE tasks SET archived_utc=? WHERE principal_id=? AND archived_utc IS NULL AND done_utc IS NOT NULL"
            " AND done_utc<=?", (to_epoch(now), scope.principal_id, cutoff))
        if cur.rowcount:  # the board's loader archives on every read: nothing archived is nothing changed
            scope.store.changed(Area.BOARD, scope.principal_id)
    return cur.rowcount


def columns(scope: PrincipalScope) -> list[BoardColumn]:
    rows = scope.db.execute(
        "SELECT * FROM board_columns WHERE principal_id=? ORDER BY position", (scope.principal_id,)
    )
    return [BoardColumn(id=r["id"], principal_id=r["principal_id"], name=r["name"], position=r["position"])
            for r in rows]
