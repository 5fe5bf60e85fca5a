"""What the window imports before its first paint (issue 17: launch → first painted inbox). The credential store's
keyring, the calendar parser's icalendar and the phone numbers' phonenumbers are needed only by work the worker does
after the first paint; imported while the window was built they were about a quarter of the launch. Checked in a child process: this one has imported
everything already."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import assistant
from assistant.domain import Principal
from assistant.store import Store

CHECKOUT = Path(assistant.__file__).resolve().parents[1]
LATER = ("keyring", "icalendar", "recurring_ical_events", "phonenumbers")

# The window as the app builds it at launch (its worker held until the first paint), then the modules it imported
# before the event loop ran; then, once the worker ran, those again.
_BUILD = """
import sys
from PySide6.QtWidgets import QApplication
app = QApplication([])
from assistant.ui.main_window import MainWindow
window = MainWindow(sys.argv[1], hold_tasks_until_painted=True)
window.show()
print(*sorted(m for m in sys.modules if m.split(".")[0] in sys.argv[2:]), sep=",")
window.tasks.release()
while window.tasks.busy:
    app.processEvents()
print(*sorted(m for m in sys.modules if m.split(".")[0] in sys.argv[2:]), sep=",")
window.close()
window.tasks.shutdown()
"""


def _modules_before_and_after(tmp_path, script: str, names: tuple[str, ...]) -> tuple[str, str]:
    """Run ``script`` (one of the window builds above) in a child on a one-principal workspace: the listed modules
    imported at the first paint, and after the start-up work, each a comma-separated line."""
    store = Store(tmp_path / "ws", encrypt=False)
    try:
        store.add_principal(Principal(name="Ada", timezone="Europe/London", addresses=("ada@example.com",)))
    finally:
        store.close()
    env = dict(os.environ, PYTHONPATH=str(CHECKOUT), QT_QPA_PLATFORM="offscreen",
               XDG_CONFIG_HOME=str(tmp_path / "config"))
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "ws"), *names], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    before_paint, after_work = done.stdout.splitlines()[-2:]
    return before_paint, after_work


def test_the_window_is_built_without_what_the_worker_needs_after_the_first_paint(tmp_path):
    before_paint, after_work = _modules_before_and_after(tmp_path, _BUILD, LATER)
    assert before_paint == ""
    assert "keyring" in after_work.split(",")  # the worker asked the credential store (the list is real)


# The other tabs' modules: the app builds its window with defer_tabs, and installs them after the first paint.
TABS_LATER = ("assistant.ui.calls.view", "assistant.ui.board.view", "assistant.ui.approvals.view",
              "assistant.ui.outgoing.view", "assistant.ui.reminders.today", "assistant.ui.timekeeping.view",
              "assistant.ui.timekeeping.tracker", "assistant.ui.reports.scheduler", "assistant.reports",
              "apscheduler")
_BUILD_DEFERRED = """
import sys
from PySide6.QtWidgets import QApplication
app = QApplication([])
from assistant.ui.main_window import MainWindow
window = MainWindow(sys.argv[1], hold_tasks_until_painted=True, defer_tabs=True)
window.show()
print(*sorted(m for m in sys.modules if m in sys.argv[2:]), sep=",")
window.tasks.release()
window.install_next_feature()  # what the app does after the first paint
while window.starting or window.tasks.busy:
    app.processEvents()
print(*sorted(m for m in sys.modules if m in sys.argv[2:]), sep=",")
window.close()
window.tasks.shutdown()
"""


def test_the_other_tabs_modules_are_imported_after_the_first_paint(tmp_path):
    before_paint, after_work = _modules_before_and_after(tmp_path, _BUILD_DEFERRED, TABS_LATER)
    assert before_paint == ""
    assert set(after_work.split(",")) == set(TABS_LATER)  # then they are (the list is real)
