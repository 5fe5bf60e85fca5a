"""What a piece of work changed, so views refresh from it instead of being told by hand (Anki's ``OpChanges``).

Each write path in the store records the area it wrote and whose it was (:meth:`Store.changed`); what a transaction
recorded counts only once it commits. The UI's task manager takes the changes after each task and emits them once, on
the GUI thread; each view asks :meth:`Changes.touches` whether it shows anything that changed.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Area(StrEnum):
    """The parts of a workspace a view can show; each table belongs to one."""

    PRINCIPALS = "principals"  # principals and their settings
    ACCOUNTS = "accounts"  # accounts, their sync state
    MAIL = "mail"  # folders, messages, threads
    CALENDAR = "calendar"
    CALLS = "calls"
    BOARD = "board"  # columns and cards
    REMINDERS = "reminders"
    DRAFTS = "drafts"  # drafts, approvals, their history
    OUTBOX = "outbox"
    CONTACTS = "contacts"
    SNIPPETS = "snippets"
    TIME = "time"  # time entries and billing settings
    AUDIT = "audit"


@dataclass(frozen=True)
class Changes:
    """A set of (area, principal id) pairs; a principal id of ``None`` means the change is not one principal's (or is
    every principal's), and touches every view of that area."""

    pairs: frozenset[tuple[Area, int | None]] = frozenset()

    @classmethod
    def of(cls, pairs: Iterable[tuple[Area, int | None]]) -> Changes:
        return cls(frozenset(pairs))

    def __bool__(self) -> bool:
        return bool(self.pairs)

    def __or__(self, other: Changes) -> Changes:
        return Changes(self.pairs | other.pairs)

    @property
    def areas(self) -> frozenset[Area]:
        return frozenset(area for area, _ in self.pairs)

    def touches(self, *areas: Area, principal_id: int | None = None) -> bool:
        """Whether anything in ``areas`` changed for ``principal_id`` (or for any principal, when it is ``None``)."""
        for area, pid in self.pairs:
            if area in areas and (principal_id is None or pid is None or pid == principal_id):
                return True
        return False

    def __repr__(self) -> str:
        return "Changes(" + ", ".join(sorted(f"{a.value}:{'*' if p is None else p}" for a, p in self.pairs)) + ")"
