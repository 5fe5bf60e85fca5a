"""HTML to PDF with what Qt ships (QTextDocument on a QPdfWriter): timesheets and invoices.

A table column can be kept to one line (``one_line_column``): Qt's HTML has no ``text-overflow``, so the document is laid
out once as ``QTextDocument.print_`` lays it out (a clone on the writer, 2 cm margins, the page's size), and each cell of
that column that wraps is cut with "…" to the width it got; then it is printed as before."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QMarginsF, QSizeF, Qt
from PySide6.QtGui import (
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QPageLayout,
    QPageSize,
    QPdfWriter,
    QTextCursor,
    QTextDocument,
    QTextFrame,
    QTextLength,
    QTextTable,
)
from PySide6.QtWidgets import QApplication


def _application() -> None:
    """An application for the fonts, also from the command line with no display (a full QApplication: whoever comes
    next in the process, the window or a test, needs one, and Qt allows a single application object)."""
    if QApplication.instance() is None:
        if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        QApplication(["assistant"])


def _tables(frame: QTextFrame) -> list[QTextTable]:
    out = []
    for child in frame.childFrames():
        if isinstance(child, QTextTable):
            out.append(child)
        out += _tables(child)
    return out


def _source_dpi() -> tuple[int, int]:
    """The dpi ``QTextDocument.print_`` takes the document to be in (Qt's ``qt_defaultDpi``: the primary screen's)."""
    app = QGuiApplication.instance()
    screen = QGuiApplication.primaryScreen() if app is not None else None
    if app is not None and QGuiApplication.testAttribute(Qt.ApplicationAttribute.AA_Use96Dpi):
        return 96, 96
    if screen is None:
        return 100, 100
    return round(screen.logicalDotsPerInchX()), round(screen.logicalDotsPerInchY())


def _laid_out_as_printed(document: QTextDocument, writer: QPdfWriter) -> QTextDocument:
    """A copy of ``document`` laid out on ``writer`` the way ``QTextDocument.print_`` lays out an unpaginated one."""
    copy = document.clone()
    copy.documentLayout().setPaintDevice(writer)
    dpi_x, dpi_y = _source_dpi()
    frame = copy.rootFrame().frameFormat()
    frame.setLeftMargin(int((2 / 2.54) * dpi_x))  # print_'s 2 cm, in the source's dpi (Qt scales them to the device)
    frame.setRightMargin(int((2 / 2.54) * dpi_x))
    frame.setTopMargin(int((2 / 2.54) * dpi_y))
    frame.setBottomMargin(int((2 / 2.54) * dpi_y))
    copy.rootFrame().setFrameFormat(frame)
    copy.setPageSize(QSizeF(writer.width(), writer.height()))
    return copy


def _cut_to_one_line(document: QTextDocument, writer: QPdfWriter, column: int) -> None:
    """Each cell of ``column`` (below a table's header row) that would wrap on the page is cut with "…"."""
    for table in _tables(document.rootFrame()):
        # the others as narrow as their content lets them be (Qt widens a fixed column to its cells' minimum), this
        # one the rest of the table's width
        fmt = table.format()
        fmt.setColumnWidthConstraints([QTextLength(QTextLength.Type.VariableLength, 0) if c == column
                                       else QTextLength(QTextLength.Type.FixedLength, 0)
                                       for c in range(table.columns())])
        table.setFormat(fmt)
    for _ in range(3):  # a cut narrows what a column asks for, and the table may share its width out again
        laid = _laid_out_as_printed(document, writer)
        cuts: list[tuple[int, int, str]] = []
        for t, table in enumerate(_tables(laid.rootFrame())):
            for row in range(1, table.rows()):
                cell = table.cellAt(row, column)
                if cell.column() != column or cell.columnSpan() != 1:
                    continue
                block = cell.firstCursorPosition().block()
                layout = block.layout()
                several_blocks = cell.lastCursorPosition().block() != block
                if layout is None or (layout.lineCount() <= 1 and not several_blocks):
                    continue
                width = layout.lineAt(0).width() - 1
                cursor = cell.firstCursorPosition()
                cursor.setPosition(cell.lastPosition(), QTextCursor.MoveMode.KeepAnchor)
                text = " ".join(cursor.selectedText().split())
                first = cell.firstCursorPosition()
                first.movePosition(QTextCursor.MoveOperation.NextCharacter)  # the format of the first character
                font = QFont(first.charFormat().font())
                cuts.append((t, row, QFontMetricsF(font, writer).elidedText(text, Qt.TextElideMode.ElideRight, width)))
        if not cuts:
            return
        tables = _tables(document.rootFrame())
        for t, row, text in cuts:
            cell = tables[t].cellAt(row, column)
            cursor = cell.firstCursorPosition()
            cursor.setPosition(cell.lastPosition(), QTextCursor.MoveMode.KeepAnchor)
            cursor.insertText(text)


def write_pdf(html: str, path: Path, *, title: str = "", letter: bool = False,
              one_line_column: int | None = None) -> None:
    """``one_line_column``: in each table, that column's cells (below the header row) are cut to one line with "…"."""
    _application()
    writer = QPdfWriter(str(path))
    writer.setTitle(title)
    writer.setCreator("Assistant")
    writer.setResolution(300)
    size = QPageSize(QPageSize.PageSizeId.Letter if letter else QPageSize.PageSizeId.A4)
    # print_ lays the text out 2 cm inside the page's margins (and numbers the pages below it): with 2 mm here a page
    # has 22 mm of margin all round, where 18 mm here gave 38 mm and a table two thirds of the paper's width
    writer.setPageLayout(QPageLayout(size, QPageLayout.Orientation.Portrait, QMarginsF(2, 2, 2, 2),
                                     QPageLayout.Unit.Millimeter))
    document = QTextDocument()
    document.setHtml(html)
    if one_line_column is not None:
        _cut_to_one_line(document, writer, one_line_column)
    document.print_(writer)  # laid out on the writer's pages
