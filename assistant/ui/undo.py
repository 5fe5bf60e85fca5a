"""What the last actions can take back (UX.md, "Feedback and undo"): Ctrl+Z, and the notice's *Undo*, undo from here.

A feature that does something undoable pushes one entry, with the words for what it did and a callable that takes it
back::

    entry = window.undo.push("Archived 2 threads · Ann Lee", lambda: tasks.run(put_them_back, on_done=...))
    window.undo.undo_last()   # Ctrl+Z: takes back the newest entry and returns it (None when there is none)
    window.undo.undo(entry)   # a notice's Undo: takes back that entry, if it is still waiting

The callable runs on the GUI thread, once; its store work goes through ``window.tasks.run`` like any other write (the
inbox's undo moves the messages back and sets their flags back through ``assistant.sync.actions``, so the provider
hears of it with the next sync). ``pushed`` and ``undone`` carry the :class:`UndoEntry`, for a notice to show.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

LIMIT = 50  # older entries are dropped


@dataclass(eq=False)
class UndoEntry:
    text: str  # what was done, as the notice says it: "Archived 1 thread · Ann Lee"
    undo: Callable[[], object]
    quiet: bool = False  # what the user did by reading (a thread marked read): Ctrl+Z takes it back, no notice says it


class UndoStack(QObject):
    pushed = Signal(object)  # the UndoEntry
    undone = Signal(object)  # the UndoEntry, after its callable ran
    changed = Signal()  # an entry was pushed, undone or cleared

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._entries: list[UndoEntry] = []

    def push(self, text: str, undo: Callable[[], object], *, quiet: bool = False) -> UndoEntry:
        entry = UndoEntry(text, undo, quiet)
        self._entries.append(entry)
        del self._entries[:-LIMIT]
        self.pushed.emit(entry)
        self.changed.emit()
        return entry

    def undo_last(self) -> UndoEntry | None:
        """Take back the newest entry; None when there is nothing to undo."""
        if not self._entries:
            return None
        entry = self._entries[-1]
        self.undo(entry)
        return entry

    def undo(self, entry: UndoEntry) -> bool:
        """Take back ``entry`` if it is still waiting (not undone already, not dropped); whether it was."""
        if entry not in self._entries:
            return False
        self._entries.remove(entry)
        entry.undo()
        self.undone.emit(entry)
        self.changed.emit()
        return True

    def can_undo(self) -> bool:
        return bool(self._entries)

    def last(self) -> UndoEntry | None:
        return self._entries[-1] if self._entries else None

    def clear(self) -> None:
        self._entries.clear()
        self.changed.emit()
