"""File → Offboard principal…: the dialog that names the principal, says what will happen and asks once; the run on the
worker with its progress in the dialog; the receipt shown at the end (``assistant.offboarding.service``)."""
from __future__ import annotations

import threading
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QStandardPaths, Qt, Signal
from PySide6.QtGui import QAction, QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from assistant.domain import Principal
from assistant.store import Store
from assistant.ui.widgets.identity import principal_title
from assistant.ui.workers import describe_error


def default_export_dir(principal: Principal) -> Path:
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation) or str(Path.home())
    return Path(documents) / f"{principal.name} – export {date.today().isoformat()}"


class OffboardDialog(QDialog):
    """Asks once, naming the principal; then shows the progress and, at the end, the receipt."""

    offboard = Signal(Path)  # the export folder, once the assistant confirmed
    progressed = Signal(str, int, int)  # what, done, total (emitted on the worker thread; queued here)

    def __init__(self, principal: Principal, parent: QWidget | None = None):
        super().__init__(parent)
        self.principal = principal
        principal_title(self, f"Offboard {principal.name}", principal)
        self.setMinimumWidth(620)
        layout = QVBoxLayout(self)
        self.explanation = QLabel(
            f"<p>Everything of <b>{principal.name}</b>'s — mail, calendars, contacts, calls, time, the board, drafts "
            "and the approval history — is exported to the folder below in open formats and checked against the "
            "workspace. Then their sign-ins are revoked at Google or Microsoft, and all of it is deleted from this "
            "workspace.</p><p><b>This cannot be undone.</b> Other principals are not touched. A receipt you can send "
            f"{principal.name} is shown at the end and saved in the folder.</p>", self)
        self.explanation.setWordWrap(True)
        layout.addWidget(self.explanation)
        row = QHBoxLayout()
        row.addWidget(QLabel("Export to:", self))
        self.folder = QLineEdit(str(default_export_dir(principal)), self)
        row.addWidget(self.folder, 1)
        self.browse = QPushButton("Choose…", self)
        self.browse.clicked.connect(self.on_browse)
        row.addWidget(self.browse)
        layout.addLayout(row)
        self.progress = QProgressBar(self)
        self.progress.hide()
        layout.addWidget(self.progress)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.receipt = QPlainTextEdit(self)
        self.receipt.setReadOnly(True)
        self.receipt.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.receipt.hide()
        layout.addWidget(self.receipt, 1)
        self.buttons = QDialogButtonBox(self)
        self.confirm_button = self.buttons.addButton(f"Offboard {principal.name}",
                                                     QDialogButtonBox.ButtonRole.DestructiveRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setDefault(True)
        self.confirm_button.clicked.connect(self.on_confirm)
        self.cancel_button.clicked.connect(self.reject)
        layout.addWidget(self.buttons)
        self.progressed.connect(self.on_progress, Qt.ConnectionType.QueuedConnection)
        self.running = False
        self.cancel_requested = threading.Event()  # read by the worker at each progress report
        self.adjustSize()

    def on_browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, f"Export {self.principal.name}'s data to", self.folder.text())
        if chosen:
            self.folder.setText(chosen)

    def on_confirm(self) -> None:
        text = self.folder.text().strip()
        if not text:
            self.status.setText("Choose a folder for the export first.")
            return
        self.running = True
        self.cancel_requested.clear()
        for widget in (self.confirm_button, self.folder, self.browse):
            widget.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.status.setText("Starting…")
        self.offboard.emit(Path(text).expanduser())

    def on_progress(self, what: str, done: int, total: int) -> None:
        if not what.startswith(("Exporting", "Verifying")):
            self.cancel_button.setEnabled(False)  # from revoking on, stopping would leave it half-told        if total > 1:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
            self.status.setText(f"{what}: {done:,} of {total:,}")
        else:
            self.progress.setRange(0, 0)
            self.status.setText(f"{what}…")

    def show_receipt(self, text: str) -> None:
        self.running = False
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.status.setText(f"{self.principal.name} is offboarded. The receipt below is also in the export folder.")
        self.explanation.hide()
        self.receipt.setPlainText(text)
        self.receipt.show()
        self.confirm_button.hide()
        self.cancel_button.hide()
        close = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.clicked.connect(self.accept)
        self.resize(max(self.width(), 760), max(self.height(), 520))

    def show_failure(self, text: str) -> None:
        """Stopped part-way: what is done stays done, and running it again into the same folder finishes it."""
        self.running = False
        self.progress.hide()
        self.status.setText(f"<b>Stopped:</b> {text}<br>Nothing else was changed. Offboard again into the same folder "
                            "to finish.")
        for widget in (self.confirm_button, self.cancel_button):
            widget.setEnabled(True)

    def reject(self) -> None:
        """Cancel: closes before the run; while exporting or verifying, stops the run there (nothing is revoked or
        deleted yet); after that, the run goes to its end."""
        if not self.running:
            super().reject()
        elif self.cancel_button.isEnabled():
            self.cancel_requested.set()
            self.cancel_button.setEnabled(False)
            self.status.setText("Stopping…")


class Offboarding(QObject):
    """The File menu's *Offboard principal…* and the run it starts."""

    finished = Signal(str)  # the receipt
    failed = Signal(str)

    def __init__(self, window: Any):
        super().__init__(window)
        self.window = window
        self.dialog: OffboardDialog | None = None
        self.action = QAction("Offboard principal…", window)
        self.action.setObjectName("offboard-principal")
        self.action.triggered.connect(lambda: self.open_dialog())
        window.add_file_action(self.action, principal=True)

    def open_dialog(self, principal: Principal | None = None) -> OffboardDialog | None:
        principal = principal or self.window.current_principal
        if principal is None:
            return None
        dialog = OffboardDialog(principal, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.offboard.connect(lambda folder: self.run(dialog, principal, folder))
        dialog.open()
        self.dialog = dialog
        return dialog

    def run(self, dialog: OffboardDialog, principal: Principal, folder: Path) -> None:
        def work(store: Store) -> str:
            from assistant.offboarding import service

            record = service.offboard(store, principal.name, folder, progress=dialog.progressed.emit,
                                      cancelled=dialog.cancel_requested.is_set)
            return service.receipt(record, folder)

        def done(receipt: str) -> None:
            dialog.show_receipt(receipt)
            self.window.refresh()
            self.window.show_status(f"Offboarded {principal.name}: export and receipt in {folder}")
            self.finished.emit(receipt)

        def failed(error: BaseException) -> None:
            text = describe_error(error)
            dialog.show_failure(text)
            self.window.refresh()
            self.failed.emit(text)

        self.window.tasks.run(work, on_done=done, on_error=failed)


def install(window: Any) -> Offboarding:
    return Offboarding(window)
