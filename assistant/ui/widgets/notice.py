"""The window's one place for feedback: a transient notice at the bottom, with *Undo* where the action can be undone.

Every action answers here (UX.md, "Feedback and undo"): "Archived · Dana Whitfield · Undo". A notice goes after a few
seconds; an error stays until the user closes it, so nothing that went wrong is missed. Only the latest notice shows;
a new one replaces it (its Undo too — the undo stack keeps older ones for Ctrl+Z).
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QToolButton, QWidget

INFO_MS = 6000


class NoticeBar(QFrame):
    """Shown in the status bar's stretch, left of the sync state; hidden when there is nothing to say."""

    undone = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("notice")
        self.setAccessibleName("Notice")
        self.label = QLabel()
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.label.setMinimumWidth(0)
        self.undo_button = QPushButton("Undo")
        self.undo_button.setAccessibleName("Undo the last action")
        self.undo_button.setToolTip("Undo (Ctrl+Z)")
        self.undo_button.clicked.connect(self._on_undo)
        self.close_button = QToolButton()
        self.close_button.setText("×")
        self.close_button.setAccessibleName("Dismiss the notice")
        self.close_button.setAutoRaise(True)
        self.close_button.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.setSpacing(8)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.undo_button)
        layout.addWidget(self.close_button)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.dismiss)
        self._undo: Callable[[], object] | None = None
        self.is_error = False
        self.hide()

    def text(self) -> str:
        return self.label.text()

    def show_notice(self, text: str, *, undo: Callable[[], object] | None = None, error: bool = False,
                    timeout_ms: int = INFO_MS) -> None:
        self.label.setText(text)
        self.label.setToolTip(text)
        self.is_error = error
        self._undo = undo
        self.undo_button.setVisible(undo is not None)
        palette = self.label.palette()
        role = QPalette.ColorRole.WindowText
        colour = self.palette().color(role)
        if error:
            colour = colour.fromRgb(0xB9, 0x1C, 0x1C) if colour.lightness() < 128 else colour.fromRgb(0xFC, 0xA5, 0xA5)
        palette.setColor(role, colour)
        self.label.setPalette(palette)
        self.show()
        self._timer.stop()
        if not error and timeout_ms > 0:
            self._timer.start(timeout_ms)

    def dismiss(self) -> None:
        self._timer.stop()
        self._undo = None
        self.hide()

    def _on_undo(self) -> None:
        undo, self._undo = self._undo, None
        self.undo_button.hide()
        if undo is not None:
            undo()
            self.undone.emit()
