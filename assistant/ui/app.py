"""Starting the desktop app."""
from __future__ import annotations

import gc
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMessageBox

from assistant.core import private_files, timezones
from assistant.core.errors import WorkspaceLocked
from assistant.core.logs import setup_logging
from assistant.ui.crash import CrashReporter

if TYPE_CHECKING:
    from assistant.ui.main_window import MainWindow

log = logging.getLogger(__name__)
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


def run(workspace_dir: Path, argv: list[str] | None = None, *, mailto: str | None = None, tray: bool = False,
        quit_after: float | None = None) -> int:
    """The app on ``workspace_dir``; when one runs on it already, the request (come forward, open ``mailto``) goes to
    that one and this returns 0 at once. ``tray``: start with the window hidden in the tray (login autostart).
    ``quit_after``: quit that many seconds after the first paint, as File → Quit does (the bundle's start check)."""
    from assistant.ui.main_window import MainWindow
    from assistant.ui.single_instance import AlreadyRunningNotAnswering, SingleInstance, hand_over

    timezones.configure()
    setup_logging(app=True)
    # instance() is typed as the QCoreApplication it is declared on; in a widgets app it is a QApplication.
    existing = cast("QApplication | None", QApplication.instance())
    app = existing or QApplication(list(argv) if argv is not None else sys.argv[:1])
    configure_application(app)
    instance = SingleInstance(Path(workspace_dir))
    if not instance.acquire():
        if hand_over(Path(workspace_dir), {"show": not tray, "mailto": mailto}):
            return 0
        raise AlreadyRunningNotAnswering(
            f"Assistant is already running on {workspace_dir} but does not answer: close it (or end its process) "
            "and start again")
    private_files.sweep()  # what a crashed run left
    app.aboutToQuit.connect(private_files.clear)
    try:
        window = MainWindow(Path(workspace_dir), hold_tasks_until_painted=True, defer_tabs=True)
    except WorkspaceLocked as exc:  # started from a menu there is no terminal to print the reason on
        instance.release()
        QMessageBox.critical(None, APP_NAME, str(exc))
        raise
    instance.request_received.connect(lambda request: on_request(current_window(window), request))
    window.features_installed.connect(gc.freeze)  # as at the first paint (ReleaseTasksWhenPainted)

    def follow(replacement: MainWindow) -> None:
        """The first-run page opened the demo: this app now holds the demo's workspace, not the first one."""
        nonlocal instance
        moved = SingleInstance(replacement.workspace_dir)
        if moved.acquire():
            instance.release()
            instance = moved
            moved.request_received.connect(lambda request: on_request(current_window(window), request))
        else:
            log.warning("another app holds %s: this one keeps answering for %s", replacement.workspace_dir,
                        instance.workspace_dir)
        replacement.workspace_opened.connect(follow)

    window.workspace_opened.connect(follow)
    crashes = CrashReporter(lambda: current_window(window))
    crashes.install()
    release = None
    if tray and window.reminders.tray.has_tray:
        window.tasks.release()  # no first paint to wait for: the window stays hidden until asked for
        log.info("started in the tray: the window shows when asked for")
    else:
        release = ReleaseTasksWhenPainted(window)
        if quit_after is not None:
            release.painted.connect(lambda: QTimer.singleShot(int(quit_after * 1000), lambda: quit_app(window)))
        window.show()
    if mailto:
        from assistant.ui.mail.mailto import open_mailto  # only then: its parser is not needed for the first paint

        QTimer.singleShot(0, lambda: open_mailto(window, mailto))
    try:
        return app.exec()
    finally:
        crashes.uninstall()
        instance.release()
        del release


def quit_app(window: MainWindow) -> None:
    """What *Quit* does: the window closes for real (not into the tray), its worker finishes, the app ends."""
    current = current_window(window)
    log.info("quitting as asked at start")
    current.reminders.quit()


def on_request(window: MainWindow, request: dict) -> None:
    """Another launch's request (``ui/single_instance.py``): come forward, and open its mailto: link."""
    from assistant.ui.mail.mailto import open_mailto
    from assistant.ui.reminders.today import bring_up

    log.info("another launch handed over: %s", "a mailto: link" if request.get("mailto") else
             ("come forward" if request.get("show", True) else "stay in the tray"))
    if request.get("show", True) or request.get("mailto"):
        bring_up(window)
        log.info("the window is %s", "shown" if window.isVisible() else "still hidden")
    mailto = request.get("mailto")
    if isinstance(mailto, str) and mailto:
        open_mailto(window, mailto)


def current_window(window: MainWindow) -> MainWindow:
    """The window in use: the first one, or the one that replaced it (opening the demo from the first-run page)."""
    while window.replaced_by is not None:
        window = window.replaced_by
    return window


class ReleaseTasksWhenPainted(QObject):
    """Lets the window's background tasks start once it has been painted the first time (children paint right after
    their window, in the same pass; the queued call runs after that pass)."""

    painted = Signal()

    def __init__(self, window: MainWindow):
        super().__init__()
        self.window = window
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if watched is self.window and event.type() == QEvent.Type.Paint:
            self.window.removeEventFilter(self)
            QTimer.singleShot(0, self.window.tasks.release)
            QTimer.singleShot(0, self.window.install_next_feature)  # the tabs the first paint did not show, one a turn
            # What the launch built (modules, Qt's wrappers, the window: ~80,000 objects) lives as long as the app: out
            # of the collector's sight, its full collections stop costing the GUI thread ~80 ms each (issue 17).
            gc.freeze()
            log.info("first paint")
            self.painted.emit()
        return False
