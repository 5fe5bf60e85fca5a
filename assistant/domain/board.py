"""The board's columns and cards. :class:`Card` is the one card type: the store reads and writes it, the board feature
(:mod:`assistant.board.service`) is its one write path, and every front end shows it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class BoardColumn:
    principal_id: int
    name: str
    position: int
    id: int = 0  # 0 until the store gives it one
@dataclass
class ChecklistItem:
    text: str
    done: bool = False


@dataclass
class Card:
    principal_id: int
    title: str
    column_id: int | None = None
    position: int = 0
    notes: str = ""
    due_utc: datetime | None = None
    priority: int = 0
    labels: list[str] = field(default_factory=list)
    rrule: str = ""
    link: str = ""  # "message:<id>", "thread:<id>", "event:<id>", "call:<id>"
    done_utc: datetime | None = None
    created_utc: datetime | None = None
    checklist: list[ChecklistItem] = field(default_factory=list)
    estimate_min: int | None = None
    archived_utc: datetime | None = None
    remind: bool = True  # a due time gets a reminder
    id: int = 0  # 0 until the store gives it one
