"""HTML to PDF with what Qt ships (QTextDocument on a QPdfWriter): timesheets and invoices."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QMarginsF
from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter, QTextDocument
from PySide6.QtWidgets import QApplication


def _application() -> None:
    """An application for the fonts, also from the command line with no display (a full QApplication: whoever comes
    next in the process, the window or a test, needs one, and Qt allows a single application object)."""
    if QApplication.instance() is None:
        if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        QApplication(["assistant"])


def write_pdf(html: str, path: Path, *, title: str = "", letter: bool = False) -> None:
    _application()
    writer = QPdfWriter(str(path))
    writer.setTitle(title)
    writer.setCreator("Assistant")
    writer.setResolution(300)
    size = QPageSize(QPageSize.PageSizeId.Letter if letter else QPageSize.PageSizeId.A4)
    writer.setPageLayout(QPageLayout(size, QPageLayout.Orientation.Portrait, QMarginsF(18, 18, 18, 18),
                                     QPageLayout.Unit.Millimeter))
    document = QTextDocument()
    document.setHtml(html)
    document.print_(writer)  # laid out on the writer's pages
