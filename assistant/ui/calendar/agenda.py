"""The agenda: a principal's coming occurrences as a list, each in their zone and the assistant's; with *All
principals*, everyone's, each row in its principal's colour, named, in their zone and yours."""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeView, QWidget

from assistant.core import timezones
from assistant.domain import EventOccurrence, Principal
from assistant.ui.widgets.tables import RowTableModel

AnyIndex = QModelIndex | QPersistentModelIndex
OccurrenceRole = Qt.ItemDataRole.UserRole + 1


class AgendaModel(RowTableModel[EventOccurrence]):
    headers = ("Day", "Time", "Your time", "Event", "Location", "Status")

    def __init__(self, parent=None):
        super().__init__(parent)
        self._zone = "UTC"
        self._assistant_zone = "UTC"
        self._pending: set[int] = set()
        self._colour = "#3b82f6"
        self._palette = QPalette()
        self._owners: dict[int, Principal] = {}

    def set_occurrences(self, occurrences: list[EventOccurrence], zone: str, assistant_zone: str,
                        pending: set[int] | frozenset[int] = frozenset(), colour: str = "#3b82f6",
                        palette: QPalette | None = None, owners: dict[int, Principal] | None = None) -> None:
        """``owners`` (All principals): whose each occurrence is; its time is then in its principal's zone and its
        day in yours."""
        with self.resetting():
            self.rows = sorted(occurrences, key=lambda o: (o.start_utc, o.summary))
            self._zone, self._assistant_zone = zone, assistant_zone
            self._pending = set(pending)
            self._colour = colour
            self._palette = palette or QPalette()
            self._owners = dict(owners or {})

    def _zone_of(self, o: EventOccurrence) -> str:
        owner = self._owners.get(o.principal_id)
        return owner.timezone if owner is not None else self._zone

    def occurrence_at(self, row: int) -> EventOccurrence:
        return self.rows[row]

    def header_data(self, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and column == 1:
            return "Their time" if self._owners else f"Time ({self._zone})"
        if role == Qt.ItemDataRole.DisplayRole and column == 2:
            return f"Your time ({self._assistant_zone})"
        return super().header_data(column, role)

    def display(self, o: EventOccurrence, column: int) -> Any:
        zone = self._zone_of(o)
        theirs = timezones.in_zone(o.start_utc, zone)
        if column == 0:  # the day in the zone the list is in: the principal's, or yours for All principals
            day = o.start_date if o.all_day and o.start_date else timezones.in_zone(o.start_utc, self._zone).date()
            return f"{day:%a %d %b}"
        if column == 1:
            if o.all_day:
                return "all day"
            end = timezones.in_zone(o.end_utc, zone)
            return f"{theirs:%H:%M}–{end:%H:%M} {theirs.tzname()}"
        if column == 2:
            if o.all_day:
                return ""
            mine, mine_end = (timezones.in_zone(t, self._assistant_zone) for t in (o.start_utc, o.end_utc))
            weekday = "" if mine.date() == theirs.date() else f"{mine:%a} "
            return f"{weekday}{mine:%H:%M}–{mine_end:%H:%M} {mine.tzname()}"
        if column == 3:
            owner = self._owners.get(o.principal_id)
            return f"{owner.name} · {o.summary or '(no title)'}" if owner is not None else o.summary or "(no title)"
        if column == 4:
            return o.location
        if column == 5:
            return "waiting to sync" if o.event_id in self._pending else ""
        return None

    def cell_data(self, o: EventOccurrence, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DecorationRole and column == 3:
            owner = self._owners.get(o.principal_id)
            return QColor(owner.colour if owner is not None else self._colour)
        if role == Qt.ItemDataRole.ForegroundRole and column in (2, 5):
            return self._palette.color(QPalette.ColorRole.PlaceholderText)
        if role == OccurrenceRole:
            return o
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{o.summary}, {self.display(o, 0)} {self.display(o, 1)}"
        return None


class AgendaView(QTreeView):
    occurrence_activated = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model_ = AgendaModel(self)
        self.setModel(self.model_)
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAccessibleName("Agenda")
        self.header().setStretchLastSection(False)
        self.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.header().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.activated.connect(lambda index: self.occurrence_activated.emit(self.model_.occurrence_at(index.row())))

