"""Starting the desktop app."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from assistant.core import private_files, timezones
from assistant.core.errors import WorkspaceLocked

if TYPE_CHECKING:
    from assistant.ui.main_window import MainWindow

APP_NAME = "Assistant"
ORGANISATION = "Assistant"
ORGANISATION_DOMAIN = "assistant.invalid"


def configure_application(app: QApplication) -> None:
    """Names QSettings uses for where it keeps the window's geometry and splitter positions."""
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName(ORGANISATION)
    app.setOrganizationDomain(ORGANISATION_DOMAIN)
    app.setDesktopFileName("assistant")
    from assistant.ui.style import app_icon

    app.setWindowIcon(app_icon())  # the window's, and the tray's (a tray icon without one is not drawn at all)


def run(workspace_dir: Path, argv: list[str] | None = None) -> int:
    from assistant.ui.main_window import MainWindow

    timezones.configure()
    # instance() is typed as the QCoreApplication it is declared on; in a widgets app it is a QApplication.
    existing = cast("QApplication | None", QApplication.instance())
    app = existing or QApplication(list(argv) if argv is not None else sys.argv[:1])
    configure_application(app)
    private_files.sweep()  # what a crashed run left
    app.aboutToQuit.connect(private_files.clear)
    try:
        window = MainWindow(Path(workspace_dir), hold_tasks_until_painted=True)
    except WorkspaceLocked as exc:  # started from a menu there is no terminal to print the reason on
        QMessageBox.critical(None, APP_NAME, str(exc))
        raise
    release = ReleaseTasksWhenPainted(window)
    window.show()
    code = app.exec()
    del release
    return code


class ReleaseTasksWhenPainted(QObject):
    """Lets the window's background tasks start once it has been painted the first time (children paint right after
    their window, in the same pass; the queued call runs after that pass)."""

    def __init__(self, window: MainWindow):
        super().__init__()
        self.window = window
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if watched is self.window and event.type() == QEvent.Type.Paint:
            self.window.removeEventFilter(self)
            QTimer.singleShot(0, self.window.tasks.release)
        return False
