"""A flat table model over a list of rows, one object a row: the counts, headers, reset and lookup every list view needs,
so a model says only what its cells show."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QStyle, QTableView

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


FIT_SAMPLE = 60  # rows whose text sizes a column (fit_columns)


def fit_columns(table: QTableView, model: RowTableModel[Any], widest: Mapping[int, int], *,
                extra: Mapping[int, int] | None = None, sample: int = FIT_SAMPLE) -> None:
    """Each column of ``widest`` as wide as its header and the text of the first ``sample`` rows, at most
    ``widest[column]`` px (``extra[column]`` px more for a column that also shows a decoration).

    Measures the model's display text with the table's font, once per page: ``resizeColumnsToContents`` (and a
    header in ``ResizeToContents`` mode, on every showing) asks every role of every cell in view and beyond through
    the delegate — thousands of calls into Python, most of a tab's time from Ctrl+<n> to painted. A hidden table can
    be fitted this way too (Qt counts all its rows as in view)."""
    header = table.horizontalHeader()
    metrics = table.fontMetrics()
    # the delegate's text margins, the grid line, and a pixel for the fraction horizontalAdvance rounds away (as
    # QTableView.sizeHintForColumn gives)
    margin = 2 * (table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, table) + 1) + 1
    margin += 1 if table.showGrid() else 0
    rows = model.rows[:max(0, sample)]
    extra = extra or {}
    for column, most in widest.items():
        width = header.sectionSizeHint(column)
        texts = {model.display(row, column) for row in rows}
        for text in texts:
            if text is not None and text != "":
                width = max(width, metrics.horizontalAdvance(str(text)) + margin + extra.get(column, 0))
                if width >= most:
                    break
        table.setColumnWidth(column, min(width, most))
