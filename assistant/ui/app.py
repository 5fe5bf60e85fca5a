"""Starting the desktop app."""
from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from assistant import timezones

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


def run(workspace_dir: Path, argv: list[str] | None = None) -> int:
    from assistant.ui.main_window import MainWindow

    timezones.configure()
    app = QApplication.instance() or QApplication(list(argv) if argv is not None else sys.argv[:1])
    configure_application(app)
    window = MainWindow(Path(workspace_dir))
    window.show()
    return app.exec()
