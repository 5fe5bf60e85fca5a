"""Issue 17, launch → first painted inbox: at launch the window paints with what it shows (the sidebar, the inbox, the
calendar, the menus and keys), and the other features' tabs are installed after that first paint, one per turn of the
event loop — or all at once as soon as the user reaches one first (a key with Ctrl, a menu, the palette, a link)."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from assistant.ui.app import ReleaseTasksWhenPainted
from assistant.ui.main_window import MainWindow

CTRL = Qt.KeyboardModifier.ControlModifier
TABS = ["&Inbox", "&Calendar", "Ca&lls", "&Board", "A&pprovals", "&Outgoing", "&Today", "Time"]


class TabsAtFirstPaint(QObject):
    """The window's tab titles when its first Paint event arrives."""

    def __init__(self, window: MainWindow):
        super().__init__()
        self.window, self.titles = window, None
        window.installEventFilter(self)

    def eventFilter(self, watched, event):  # noqa: N802 (Qt's name)
        if watched is self.window and event.type() == QEvent.Type.Paint and self.titles is None:
            self.titles = tab_titles(self.window)
        return False


def tab_titles(window: MainWindow) -> list[str]:
    return [window.views.tabText(i) for i in range(window.views.count())]


def launch_window(qtbot, ws, *, start_after_paint: bool = True) -> MainWindow:
    """The window as ``assistant.ui.app.run`` makes it; ``start_after_paint``: with the app's first-paint hook, which
    lets the worker go and starts installing the other tabs (without it, nothing installs them unasked)."""
    window = MainWindow(ws, hold_tasks_until_painted=True, defer_tabs=True)
    qtbot.addWidget(window)
    window.resize(1200, 800)
    if start_after_paint:
        window._release = ReleaseTasksWhenPainted(window)  # kept as long as the window
    else:
        window.tasks.release()
    return window


def test_the_first_paint_has_the_inbox_and_the_other_tabs_follow_one_a_turn(qtbot, workspace):
    ws, ann, _ken = workspace
    window = launch_window(qtbot, ws)
    at_paint = TabsAtFirstPaint(window)
    installed: list[int] = []
    assert tab_titles(window) == ["&Inbox", "&Calendar"] and window.starting
    assert "offboarding" not in window.__dict__ and "board" not in window.__dict__
    window.show()
    qtbot.waitUntil(lambda: at_paint.titles is not None)
    assert at_paint.titles == ["&Inbox", "&Calendar"]

    def count_tabs() -> None:  # the tabs there are at each turn of the loop while they are being installed
        if window.starting:
            installed.append(window.views.count())

    ticker = QTimer(window)
    ticker.setInterval(0)
    ticker.timeout.connect(count_tabs)
    ticker.start()
    qtbot.waitUntil(lambda: not window.starting and not window.tasks.busy, timeout=15000)
    ticker.stop()
    assert tab_titles(window) == TABS  # the same tabs, in the same order, as a window built in one go
    for index in range(window.views.count()):  # styled already, as tabs built before the window showed are
        page = window.views.widget(index)
        unpolished = [w for w in [page, *page.findChildren(QWidget)]
                      if not w.testAttribute(Qt.WidgetAttribute.WA_WState_Polished)]
        assert not unpolished, window.views.tabText(index)
    assert len(set(installed)) > 2  # not all at once: several turns of the loop saw a different number of tabs
    # the features installed late caught up with the principal shown
    assert window.calls.principal is not None and window.calls.principal.id == ann.id
    assert window.board.principal is not None and window.board.principal.id == ann.id
    assert "tab-4" in window.commands and "time_tracker" in window.__dict__


def test_a_ctrl_number_pressed_before_the_tabs_are_installed_reaches_its_tab(qtbot, workspace):
    ws, _ann, _ken = workspace
    window = launch_window(qtbot, ws, start_after_paint=False)
    window.show()
    qtbot.waitUntil(lambda: window.inbox.model.rowCount() > 0)
    window.activateWindow()
    window.inbox.threads.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.inbox.threads)
    assert window.starting and window.views.count() == 2
    qtbot.keyClick(window.inbox.threads, Qt.Key.Key_4, CTRL)
    assert not window.starting
    assert window.views.tabText(window.views.currentIndex()) == "&Board"


def test_opening_a_menu_the_palette_or_a_link_installs_the_rest_first(qtbot, workspace):
    ws, ann, _ken = workspace
    window = launch_window(qtbot, ws, start_after_paint=False)
    window.show()
    qtbot.waitUntil(lambda: not window.tasks.busy)
    # the View menu, opened (what Qt says just before it shows a menu; a popup cannot grab the offscreen keyboard)
    window.view_menu.aboutToShow.emit()
    assert not window.starting
    assert "&Board" in [a.text() for a in window.view_menu.actions()]  # with Ctrl+3…9 for the tabs

    window = launch_window(qtbot, ws, start_after_paint=False)
    window.show()
    window.open_command_palette()
    assert not window.starting
    assert {"tab-3", "tab-8"} <= {c.name for c in window.commands.commands()}
    window.command_palette.close()

    window = launch_window(qtbot, ws, start_after_paint=False)
    window.show()
    window.open_link(ann.id, "call:")
    assert window.views.currentWidget() is window.calls


def test_a_feature_asked_for_by_name_is_there(qtbot, workspace):
    ws, _ann, _ken = workspace
    window = launch_window(qtbot, ws, start_after_paint=False)
    assert window.starting
    assert window.reminders.view is window.today  # the app asks for the tray at once when it starts in the tray
    assert not window.starting and tab_titles(window) == TABS


def test_the_message_already_open_is_known_to_the_features_installed_after_it(qtbot, workspace):
    ws, _ann, _ken = workspace
    window = launch_window(qtbot, ws, start_after_paint=False)
    window.show()
    qtbot.waitUntil(lambda: window.inbox.model.rowCount() > 0)
    window.inbox.threads.select_row(0)
    qtbot.waitUntil(lambda: window.inbox.reader.message_id is not None)
    assert window.starting
    window.finish_start_up()
    assert window.follow_up.shown_message == window.inbox.reader.message_id  # "Follow up…" acts on it


def test_a_window_closed_during_its_launch_installs_nothing_more(qtbot, workspace):
    ws, _ann, _ken = workspace
    window = launch_window(qtbot, ws)
    window.show()
    qtbot.waitUntil(lambda: window.views.count() > 2, timeout=10000)
    window.close()
    count = window.views.count()
    window.finish_start_up()
    window.install_next_feature()
    qtbot.wait(50)
    assert window.views.count() == count and not window.starting
