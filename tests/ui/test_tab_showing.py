"""Issue 17, switch tab: a tab's page is laid out behind the others, so that showing it only paints."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QListView, QWidget

from assistant import reminders
from assistant.store import Store


class Resizes(QObject):
    """Counts the resize events delivered to the widgets inside one page."""

    def __init__(self, page: QWidget):
        super().__init__()
        self.page = page
        self.seen: list[str] = []

    def eventFilter(self, watched, event):  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Resize and isinstance(watched, QWidget) \
                and (watched is self.page or self.page.isAncestorOf(watched)) and not in_wrapped_list(watched):
            self.seen.append(f"{type(watched).__name__} {watched.objectName()}")
        return False


def in_wrapped_list(widget: QWidget) -> bool:
    """A list of wrapped rows (Today's notifications) is laid out at its showing as before: its rows' heights depend
    on its width, which its scroll bar, shown then, changes; laid out while hidden they would overlap."""
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QListView) and parent.wordWrap():
            return True
        parent = parent.parentWidget()
    return False


def test_showing_each_tab_for_the_first_time_lays_out_nothing(make_window, workspace, qtbot):
    """Qt's stack sized only the page in front: a tab never shown was at 640×480 and was laid out afresh at its
    first showing, every resize event in it (a timeline, a board's columns, a table's columns) between Ctrl+<n>
    and the paint. Now its page has the stack's size and is laid out behind the others when its content arrives."""
    ws, ann, _ken = workspace
    store = Store(ws)
    now = datetime.now(UTC)
    for n in range(12):
        reminders.add_reminder(store, ann.id, kind="free", text=f"Chase invoice number {n}",
                               due_utc=now - timedelta(hours=n))
    store.close()
    window = make_window(ws, size=(1280, 720))
    window.select_principal(ann.id)
    qtbot.waitUntil(lambda: not window.tasks.busy)
    qtbot.wait(100)  # each page's layout, queued behind its content
    pages = {"calendar": window.calendar, "board": window.board, "calls": window.calls, "today": window.today}
    for name, page in pages.items():
        if window.views.indexOf(page) < 0:
            page = page.parentWidget() if window.views.indexOf(page.parentWidget()) >= 0 else page
        assert window.views.indexOf(page) >= 0, name
        assert not page.isVisible()
        assert page.size() == window.views.currentWidget().size(), name
        watch = Resizes(page)
        app = QApplication.instance()
        app.installEventFilter(watch)
        try:
            window.views.setCurrentWidget(page)
            qtbot.waitUntil(page.isVisible)
            qtbot.wait(30)
        finally:
            app.removeEventFilter(watch)
        assert watch.seen == [], name
        window.views.setCurrentWidget(window.inbox)
