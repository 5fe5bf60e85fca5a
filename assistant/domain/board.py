"""The board's columns and cards."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class BoardColumn:
    principal_id: int
    name: str
    position: int
    id: int | None = None


@dataclass
class Task:
    principal_id: int
    title: str
    column_id: int | None = None
    position: int = 0
    notes: str = ""
    due_utc: datetime | None = None
    priority: int = 0
    labels: list[str] = field(default_factory=list)
    rrule: str = ""
    link: str = ""  # "message:<id>", "event:<id>", "call:<id>"
    done_utc: datetime | None = None
    created_utc: datetime | None = None
    id: int | None = None
