"""When something breaks in the window: the traceback goes to the app's log (``core/logs.py``, scrubbed) and the user
sees one dialog saying what failed, with *Copy details* for a support request. More failures while it is open are
logged and counted in it, not stacked as more dialogs. Exceptions in worker threads reach the dialog through a queued
signal; the window keeps running."""
from __future__ import annotations

import logging
import sys
import threading
import traceback
from collections.abc import Callable
from types import TracebackType

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from assistant import __version__
from assistant.core.logs import log_path, scrub

log = logging.getLogger("assistant.crash")
MAX_SUMMARY = 200


def summary(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    text = scrub(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)
    return text if len(text) <= MAX_SUMMARY else text[:MAX_SUMMARY] + "…"


class CrashDialog(QDialog):
    def __init__(self, what: str, details: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("crash-dialog")
        self.setWindowTitle("Assistant — something went wrong")
        self.details = details
        self.more = 0
        layout = QVBoxLayout(self)
        self.headline = QLabel(f"<b>Something went wrong:</b> {_escape(what)}")
        self.headline.setWordWrap(True)
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.headline)
        self.explanation = QLabel(
            "Your workspace is safe: what was saved stays saved. The app keeps running; if something looks wrong, "
            f"restart it. The details are in the log:\n{log_path()}")
        self.explanation.setWordWrap(True)
        self.explanation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.explanation)
        self.text = QPlainTextEdit(details)
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setMinimumSize(560, 180)
        layout.addWidget(self.text)
        self.more_label = QLabel("")
        self.more_label.hide()
        layout.addWidget(self.more_label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("&Copy details")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy_details)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def copy_details(self) -> None:
        QGuiApplication.clipboard().setText(self.details)
        self.copy_button.setText("Copied")

    def add_another(self) -> None:
        self.more += 1
        self.more_label.setText(f"{self.more} more error(s) since — each is in the log.")
        self.more_label.show()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class CrashReporter(QObject):
    """Install with :meth:`install` once the window exists; ``window()`` gives what the dialog is shown over (the
    window in use, which changes when the demo replaces it)."""

    failed = Signal(str, str)  # what, details: from any thread to the GUI thread

    def __init__(self, window: Callable[[], QWidget | None] = lambda: None):
        super().__init__()
        self.window = window
        self.dialog: CrashDialog | None = None
        self.failed.connect(self._show, Qt.ConnectionType.QueuedConnection)
        self._previous_hook = sys.excepthook
        self._previous_thread_hook = threading.excepthook

    def install(self) -> None:
        self._previous_hook = sys.excepthook
        self._previous_thread_hook = threading.excepthook
        sys.excepthook = self.on_exception
        threading.excepthook = self._on_thread_exception

    def uninstall(self) -> None:
        sys.excepthook = self._previous_hook
        threading.excepthook = self._previous_thread_hook

    def on_exception(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            self._previous_hook(exc_type, exc, tb)
            return
        log.error("unhandled exception in the window", exc_info=(exc_type, exc, tb))
        details = scrub(f"Assistant {__version__}, Python {sys.version.split()[0]}, {sys.platform}\n"
                        + "".join(traceback.format_exception(exc_type, exc, tb)))
        self.failed.emit(summary(exc), details)

    def _on_thread_exception(self, hook_args: threading.ExceptHookArgs) -> None:
        if hook_args.exc_value is None:
            return
        self.on_exception(hook_args.exc_type, hook_args.exc_value, hook_args.exc_traceback)

    def _show(self, what: str, details: str) -> None:
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.add_another()
            return
        try:
            parent = self.window()
            parent = parent if parent is not None and parent.isVisible() else None
        except RuntimeError:  # the window is gone (being replaced)
            parent = None
        self.dialog = CrashDialog(what, details, parent)
        self.dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog.destroyed.connect(self._forget)
        self.dialog.open()

    def _forget(self) -> None:
        self.dialog = None
