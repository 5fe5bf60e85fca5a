"""A flat table model over a list of rows, one object a row: the counts, headers, reset and lookup every list view needs,
so a model says only what its cells show."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

AnyIndex = QModelIndex | QPersistentModelIndex
RowT = TypeVar("RowT")


class RowTableModel(QAbstractTableModel, Generic[RowT]):
    """Rows of ``RowT`` under the column titles in :attr:`headers`.

    A subclass gives :meth:`display` (a cell's text) and, for tooltips, colours, alignment and its own roles,
    :meth:`cell_data`. State a row is shown with (a zone, the time now) changes with the rows inside
    :meth:`resetting`, so no view reads new rows with old state.
    """

    headers: tuple[str, ...] = ()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.rows: list[RowT] = []

    # -- rows ----------------------------------------------------------------------------------------------------
    @contextmanager
    def resetting(self) -> Iterator[None]:
        """One model reset around whatever the block changes."""
        self.beginResetModel()
        try:
            yield
        finally:
            self.endResetModel()

    def set_rows(self, rows: Iterable[RowT]) -> None:
        with self.resetting():
            self.rows = list(rows)

    def row_at(self, row: int) -> RowT | None:
        return self.rows[row] if 0 <= row < len(self.rows) else None

    # -- what a subclass says ------------------------------------------------------------------------------------
    def display(self, item: RowT, column: int) -> Any:
        """The text of ``item``'s cell in ``column`` (DisplayRole)."""
        return None

    def cell_data(self, item: RowT, column: int, role: int) -> Any:
        """Any role but DisplayRole for ``item``'s cell in ``column``: tooltip, colour, alignment, a user role."""
        return None

    def header_data(self, column: int, role: int) -> Any:
        """A column's header (horizontal only): by default its title in :attr:`headers`."""
        return self.headers[column] if role == Qt.ItemDataRole.DisplayRole else None

    # -- QAbstractTableModel -------------------------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.headers)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.headers):
            return None
        return self.header_data(section, role)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows) or not 0 <= index.column() < len(self.headers):
            return None
        item = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.display(item, index.column())
        return self.cell_data(item, index.column(), role)
