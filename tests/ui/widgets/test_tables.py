from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtTest import QAbstractItemModelTester

from assistant.ui.widgets.tables import RowTableModel


class PeopleModel(RowTableModel[tuple[str, int]]):
    headers = ("Name", "Age")

    def __init__(self) -> None:
        super().__init__()
        self.unit = "years"

    def set_people(self, people: list[tuple[str, int]], unit: str) -> None:
        with self.resetting():
            self.rows, self.unit = list(people), unit

    def header_data(self, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and column == 1:
            return f"Age ({self.unit})"
        return super().header_data(column, role)

    def display(self, item: tuple[str, int], column: int) -> Any:
        return item[column] if column == 0 else f"{item[1]} {self.unit}"

    def cell_data(self, item: tuple[str, int], column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole and column == 0:
            return f"{item[0]}, {item[1]}"
        return None


def test_a_row_model_shows_its_rows_through_its_hooks(qtbot):
    model = PeopleModel()
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)
    with qtbot.wait_signal(model.modelReset):
        model.set_rows([("Ada", 36), ("Ken", 52)])
    assert (model.rowCount(), model.columnCount()) == (2, 2)
    assert model.rowCount(model.index(0, 0)) == 0 and model.columnCount(model.index(0, 0)) == 0
    assert model.data(model.index(1, 0)) == "Ken"
    assert model.data(model.index(1, 1)) == "52 years"
    assert model.data(model.index(0, 0), Qt.ItemDataRole.ToolTipRole) == "Ada, 36"
    assert model.data(model.index(0, 1), Qt.ItemDataRole.ToolTipRole) is None
    assert model.data(QModelIndex()) is None
    assert model.row_at(1) == ("Ken", 52)
    assert model.row_at(2) is None and model.row_at(-1) is None


def test_headers_come_from_the_titles_and_the_header_hook(qtbot):
    model = PeopleModel()
    horizontal = Qt.Orientation.Horizontal
    assert [model.headerData(c, horizontal) for c in range(2)] == ["Name", "Age (years)"]
    assert model.headerData(2, horizontal) is None and model.headerData(-1, horizontal) is None
    assert model.headerData(0, Qt.Orientation.Vertical) is None
    assert model.headerData(0, horizontal, Qt.ItemDataRole.ToolTipRole) is None


def test_state_changed_with_the_rows_is_one_reset(qtbot):
    model = PeopleModel()
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)
    seen: list[tuple[int, str]] = []
    model.modelAboutToBeReset.connect(lambda: seen.append((model.rowCount(), model.unit)))
    model.modelReset.connect(lambda: seen.append((model.rowCount(), model.unit)))
    model.set_people([("Ada", 36)], "months")
    assert seen == [(0, "years"), (1, "months")]
    assert model.headerData(1, Qt.Orientation.Horizontal) == "Age (months)"
