"""A board as CSV (export and import) and Trello's JSON board export (import).

Bad rows are rejected one by one with their line number and a one-line reason; the rest imports.
"""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from assistant.board import service as board
from assistant.core import timezones
from assistant.core.errors import InvalidInput, UserError
from assistant.domain import ChecklistItem
from assistant.importing.base import ImportReport
from assistant.store import PrincipalScope, Store
from assistant.store import board as board_store

CSV_COLUMNS = ["title", "column", "position", "notes", "due", "priority", "labels", "checklist", "estimate_min",
               "repeat", "link", "done"]
TITLE_HEADERS = {"title", "task", "name", "card"}


def _report(kind: str) -> Any:
    return ImportReport(kind=kind)


# -- CSV --------------------------------------------------------------------------------------------------------------
def _checklist_text(items: list[ChecklistItem]) -> str:
    return "; ".join(f"[{'x' if i.done else ' '}] {i.text}" for i in items)


def _parse_checklist(text: str) -> list[ChecklistItem]:
    items = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        done = part[:3].lower() == "[x]"
        if part[:3].lower() in ("[x]", "[ ]"):
            part = part[3:].strip()
        items.append(ChecklistItem(part, done))
    return items


def export_csv(store: Store, principal_id: int, out: TextIO, *, include_archived: bool = False) -> int:
    """Write the board column by column; due times in the principal's zone with their offset. Returns the card count."""
    scope = store.scope(principal_id)
    zone = scope.principal.timezone
    names: dict[int | None, str] = {c.id: c.name for c in board_store.columns(scope)}
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    cards = board_store.cards(scope, include_archived=include_archived)
    for c in cards:
        writer.writerow([
            c.title, names.get(c.column_id, ""), c.position, c.notes,
            timezones.in_zone(c.due_utc, zone).isoformat(timespec="minutes") if c.due_utc else "",
            c.priority, "; ".join(c.labels), _checklist_text(c.checklist),
            "" if c.estimate_min is None else c.estimate_min, c.rrule, c.link,
            timezones.to_utc(c.done_utc).strftime("%Y-%m-%dT%H:%M:%SZ") if c.done_utc else "",
        ])
    return len(cards)


def _header_map(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, name in enumerate(header):
        key = name.strip().lstrip("\ufeff").casefold().replace(" ", "_")
        if key in TITLE_HEADERS:
            key = "title"
        elif key in ("list", "status", "stage"):
            key = "column"
        elif key in ("due_date", "due_at", "deadline"):
            key = "due"
        elif key in ("description", "desc"):
            key = "notes"
        elif key in ("estimate", "estimate_minutes"):
            key = "estimate_min"
        elif key in ("rrule", "recurrence"):
            key = "repeat"
        found.setdefault(key, i)
    return found


def is_board_csv(head: bytes) -> bool:
    try:
        first = head.decode("utf-8-sig").splitlines()[0]
        header = next(csv.reader([first]))
    except (UnicodeDecodeError, IndexError, csv.Error, StopIteration):
        return False
    return "title" in _header_map(header)


def import_csv(store: Store, principal_id: int, source: str | Path | TextIO) -> Any:
    report = _report("board-csv")
    text = Path(source).read_text(encoding="utf-8-sig") if isinstance(source, (str, Path)) else source.read()
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput("the CSV is empty") from None
    cols = _header_map(header)
    if "title" not in cols:
        raise InvalidInput("the CSV has no title column (expected a header such as: " + ",".join(CSV_COLUMNS) + ")")
    zone = store.principal(principal_id).timezone
    board.ensure_board(store, principal_id)
    scope = store.scope(principal_id)
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue

        def get(name: str) -> str:
            i = cols.get(name)
            return row[i].strip() if i is not None and i < len(row) else ""

        item = f"line {line}"
        try:
            with store.transaction():  # a row lands whole or not at all
                card = _card_from_row(store, principal_id, scope, get, zone)
        except UserError as exc:
            report.rejected.append((item, str(exc)))
            continue
        except (ValueError, csv.Error) as exc:
            report.rejected.append((item, f"{type(exc).__name__}: {exc}"))
            continue
        report.imported += 1 if card else 0
    return report


def _card_from_row(store: Store, principal_id: int, scope: PrincipalScope, get: Any, zone: str) -> Any:
    title = get("title")
    if not title:
        raise InvalidInput("no title")
    column = None
    if get("column"):
        try:
            column = board_store.column_by_name(scope, get("column")).id
        except UserError:
            column = board_store.add_column(scope, get("column"))
    due = None
    if get("due"):
        due = timezones.parse_when(get("due"), zone)
    priority = 0
    if get("priority"):
        try:
            priority = int(get("priority"))
        except ValueError:
            raise InvalidInput(f"priority {get('priority')!r} is not a whole number") from None
    estimate = None
    if get("estimate_min"):
        try:
            estimate = int(get("estimate_min"))
        except ValueError:
            raise InvalidInput(f"estimate {get('estimate_min')!r} is not a number of minutes") from None
    done = timezones.parse_when(get("done"), zone) if get("done") else None
    labels = [x.strip() for x in get("labels").replace(",", ";").split(";") if x.strip()]
    card = board.make_task(store, principal_id, title, column=column, due_utc=due, repeat=get("repeat"),
                           link=get("link"), notes=get("notes").replace("\\n", "\n"), labels=labels, priority=priority,
                           checklist=_parse_checklist(get("checklist")), estimate_min=estimate)
    if done is not None:
        board_store.update_card(scope, card.id, done_utc=done)
    return card


# -- Trello -----------------------------------------------------------------------------------------------------------
def is_trello(head: bytes) -> bool:
    text = head.lstrip()
    return text.startswith(b"{") and b'"lists"' in head and b'"cards"' in head or (
        text.startswith(b"{") and b'"idBoard"' in head)


def _trello_due(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"due {value!r} is not an ISO 8601 time") from None
    if dt.tzinfo is None:
        raise InvalidInput(f"due {value!r} has no offset")
    return timezones.to_utc(dt)


def import_trello(store: Store, principal_id: int, path: str | Path) -> Any:
    """Trello's board export (Board menu → Print, export and share → Export as JSON): lists become columns (closed
    lists skipped), open cards become cards in list order with their labels, checklists, due and description; archived
    cards (``closed``) are skipped and counted."""
    report = _report("trello")
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{Path(path).name} is not a Trello JSON export: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("lists"), list) or not isinstance(data.get("cards"), list):
        raise InvalidInput(f"{Path(path).name} is not a Trello board export (no lists and cards)")
    board.ensure_board(store, principal_id)
    scope = store.scope(principal_id)
    labels = {}
    for label in data.get("labels") or []:
        if isinstance(label, dict) and label.get("id"):
            labels[label["id"]] = label.get("name") or label.get("color") or ""
    checklists: dict[str | None, list[ChecklistItem]] = {}  # by Trello's card id
    for checklist in data.get("checklists") or []:
        if not isinstance(checklist, dict):
            continue
        items = sorted((i for i in checklist.get("checkItems") or [] if isinstance(i, dict)),
                       key=lambda i: i.get("pos") or 0)
        checklists.setdefault(checklist.get("idCard", ""), []).extend(
            ChecklistItem(str(i.get("name", "")), i.get("state") == "complete") for i in items)
    columns: dict[str | None, int] = {}  # by Trello's list id
    for i, lst in enumerate(sorted((x for x in data["lists"] if isinstance(x, dict)), key=lambda x: x.get("pos") or 0)):
        if lst.get("closed"):
            continue
        name = str(lst.get("name") or "").strip() or f"List {i + 1}"
        try:
            column_id = board_store.column_by_name(scope, name).id
        except UserError:
            column_id = board_store.add_column(scope, name)
        assert column_id is not None  # read from the store
        columns[lst.get("id")] = column_id
    done_id = board.done_column(store, principal_id).id
    numbered = sorted(enumerate(data["cards"], 1),  # numbered as in the file, imported in each list's order
                      key=lambda nc: (nc[1].get("pos") or 0) if isinstance(nc[1], dict) else 0)
    for n, raw in numbered:
        if not isinstance(raw, dict):
            report.rejected.append((f"card {n}", "not a JSON object"))
            continue
        item = f"card {n} ({raw.get('name') or raw.get('id') or '?'})"
        if raw.get("closed"):
            report.skipped += 1
            continue
        try:
            column = columns.get(raw.get("idList"))
            if column is None:
                raise InvalidInput(f"its list {raw.get('idList')!r} is not on the board or is archived")
            due = _trello_due(raw.get("due"))
            names = [labels[i] for i in raw.get("idLabels") or [] if labels.get(i)]
            names += [str(x.get("name")) for x in raw.get("labels") or [] if isinstance(x, dict) and x.get("name")
                      and str(x.get("name")) not in names]
            with store.transaction():
                card = board.make_task(store, principal_id, str(raw.get("name") or ""), column=column, due_utc=due,
                                       notes=str(raw.get("desc") or ""), labels=names,
                                       checklist=checklists.get(raw.get("id"), []))
                if raw.get("dueComplete") and card.column_id != done_id and card.done_utc is None:
                    board_store.update_card(scope, card.id, done_utc=due or timezones.now_utc())
        except UserError as exc:
            report.rejected.append((item, str(exc)))
            continue
        report.imported += 1
    return report


def detect(path: Path) -> str:
    """``trello`` for a JSON object with lists and cards, ``board-csv`` for a CSV whose header has a title column."""
    if not path.is_file():
        return ""
    try:
        with open(path, "rb") as f:
            head = f.read(65536)
    except OSError:
        return ""
    if head.lstrip().startswith(b"{"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return ""
        return "trello" if isinstance(data, dict) and "lists" in data and "cards" in data else ""
    if path.suffix.lower() in (".csv", ".txt", "") and is_board_csv(head):
        return "board-csv"
    return ""


def import_board(store: Store, principal_id: int, path: Path, kind: str) -> Any:
    return import_trello(store, principal_id, path) if kind == "trello" else import_csv(store, principal_id, path)
