"""An unhandled exception in the window: logged with its traceback (scrubbed), one dialog with Copy details."""
from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget

from assistant.core import logs
from assistant.ui.crash import CrashDialog, CrashReporter


@pytest.fixture
def reporter(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_LOG_DIR", str(tmp_path / "logs"))
    logs.setup_logging()
    window = QWidget()
    qtbot.addWidget(window)
    window.show()
    crashes = CrashReporter(lambda: window)
    crashes.install()
    yield crashes
    crashes.uninstall()


def dialogs() -> list[CrashDialog]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, CrashDialog) and w.isVisible()]


def broken_slot() -> None:
    raise ValueError("cannot read the reply: Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.sig")


def test_an_exception_in_a_slot_is_logged_and_shown_once(qtbot, reporter, tmp_path):
    QTimer.singleShot(0, broken_slot)  # a real slot called by Qt's event loop, as a button's would be
    qtbot.waitUntil(lambda: len(dialogs()) == 1)
    dialog = dialogs()[0]
    assert "Something went wrong:" in dialog.headline.text()
    assert "ValueError: cannot read the reply" in dialog.headline.text()
    assert str(tmp_path / "logs" / "assistant.log") in dialog.explanation.text()

    logged = (tmp_path / "logs" / "assistant.log").read_text(encoding="utf-8")
    assert "unhandled exception in the window" in logged and "in broken_slot" in logged
    assert "eyJhbGciOiJSUzI1NiJ9" not in logged and "[scrubbed]" in logged
    assert "eyJhbGciOiJSUzI1NiJ9" not in dialog.details and "eyJhbGciOiJSUzI1NiJ9" not in dialog.headline.text()

    dialog.copy_button.click()
    copied = QGuiApplication.clipboard().text()
    assert copied == dialog.details
    assert "Traceback (most recent call last)" in copied and "in broken_slot" in copied

    QTimer.singleShot(0, broken_slot)  # another while the dialog is open: counted in it, not a second dialog
    qtbot.waitUntil(lambda: dialog.more == 1)
    assert len(dialogs()) == 1
    assert "1 more error(s)" in dialog.more_label.text()
    dialog.reject()
    qtbot.waitUntil(lambda: not dialogs())


def test_an_exception_in_a_worker_thread_reaches_the_dialog(qtbot, reporter):
    def work() -> None:
        raise RuntimeError("the worker broke")

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: len(dialogs()) == 1)
    assert "RuntimeError: the worker broke" in dialogs()[0].headline.text()
    dialogs()[0].reject()
