"""*File → Desktop integration…*: the same three settings as ``assistant desktop install|remove`` — in the
applications menu, opens mailto: links, starts at login in the tray — read from the desktop when the dialog opens
and applied on the worker (files and ``xdg-mime``, never on the GUI thread) when the user presses Apply."""
from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from assistant.desktop import DesktopIntegration, DesktopState, for_platform
from assistant.ui.workers import describe_error


class DesktopDialog(QDialog):
    applied = Signal(object)  # the DesktopState now in place

    def __init__(self, integration: DesktopIntegration, tasks: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("desktop-dialog")
        self.setWindowTitle("Desktop integration")
        self.integration = integration
        self.tasks = tasks
        layout = QVBoxLayout(self)
        intro = QLabel("How Assistant fits into this computer's desktop:")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.menu = QCheckBox("Show Assistant in the &applications menu")
        self.mailto = QCheckBox("Open &mailto: links in Assistant (writing as the principal the address points at)")
        self.autostart = QCheckBox("Start Assistant at &login, in the tray, so reminders reach you")
        for box in (self.menu, self.mailto, self.autostart):
            box.setEnabled(False)  # until the current state is read
            layout.addWidget(box)
        self.menu.toggled.connect(self._on_menu_toggled)
        self.status = QLabel("Reading what is in place…")
        self.status.setWordWrap(True)
        self.status.setObjectName("desktop-status")
        layout.addWidget(self.status)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Apply | QDialogButtonBox.StandardButton.Close)
        self.apply_button = self.buttons.button(QDialogButtonBox.StandardButton.Apply)
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.tasks.run(lambda _store: integration.state(), on_done=self.show_state, on_error=self.show_error)

    def _on_menu_toggled(self, on: bool) -> None:
        self.mailto.setEnabled(on)  # the mailto: handler is the menu entry's
        if not on:
            self.mailto.setChecked(False)

    def wanted(self) -> DesktopState:
        return DesktopState(menu=self.menu.isChecked(), mailto=self.mailto.isChecked(),
                            autostart=self.autostart.isChecked())

    def show_state(self, state: DesktopState) -> None:
        self.menu.setChecked(state.menu)
        self.mailto.setChecked(state.mailto)
        self.autostart.setChecked(state.autostart)
        self.menu.setEnabled(True)
        self.autostart.setEnabled(True)
        self.mailto.setEnabled(state.menu)
        self.apply_button.setEnabled(True)
        self.status.setText("Starts as: " + " ".join(self.integration.command))

    def show_error(self, error: BaseException) -> None:
        self.status.setText(f"Could not change the desktop: {describe_error(error)}")
        self.apply_button.setEnabled(True)

    def apply(self) -> None:
        wanted = self.wanted()
        self.apply_button.setEnabled(False)
        self.status.setText("Applying…")

        def done(state: DesktopState) -> None:
            self.show_state(state)
            self.status.setText("Done. " + self.status.text())
            self.applied.emit(state)

        self.tasks.run(lambda _store: self.integration.apply(wanted), on_done=done, on_error=self.show_error)


def install(window: Any, integration: Callable[[], DesktopIntegration] = for_platform) -> QAction:
    """*Desktop integration…* in the File menu, before Quit."""
    action = QAction("&Desktop integration…", window)
    action.setObjectName("desktop-integration")
    action.setStatusTip("Assistant in the applications menu, as the mailto: handler, and at login")

    def open_dialog() -> DesktopDialog:
        dialog = DesktopDialog(integration(), window.tasks, window)
        dialog.applied.connect(lambda state: window.notify(
            "Desktop integration applied" + (" — Windows asks you to confirm the mailto: default in Settings"
                                            if sys.platform == "win32" and state.mailto else "")))
        window.desktop_dialog = dialog
        dialog.open()
        return dialog

    action.triggered.connect(open_dialog)
    window.file_menu.insertAction(window.quit_action, action)
    window.commands.add_action("desktop-integration", action, "File")
    window.open_desktop_dialog = open_dialog
    return action
