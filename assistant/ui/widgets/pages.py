"""Hidden tab pages kept at the size they will be shown at.

Qt's stacked layout sizes only the page in front: a page never shown stays at the default 640×480 and is laid out
afresh, at the stack's size, in the same turn of the event loop as the Ctrl+<n> that shows it (every resize event,
every column fitted and every timeline laid out again before the first paint). :class:`HiddenPagesSized` gives
each hidden page the stack's size as the stack gets it (and a page as it is added), so the view can lay itself out
and prepare its paint while hidden, and the showing only paints."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QApplication, QListView, QStackedWidget, QTabWidget, QWidget


class HiddenPagesSized(QObject):
    """Watches a :class:`QTabWidget`'s page stack; see the module's text."""

    def __init__(self, tabs: QTabWidget):
        super().__init__(tabs)
        stack = tabs.findChild(QStackedWidget)
        assert stack is not None  # every QTabWidget has its stack
        self.stack = stack
        stack.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        kind = event.type()
        if kind == QEvent.Type.Resize:
            self.size_pages()
        elif kind == QEvent.Type.ChildAdded:
            QTimer.singleShot(0, self, self.size_pages)  # the page is added to the stack's layout after this event
        return False

    def size_pages(self) -> None:
        rect = self.stack.contentsRect()
        if rect.isEmpty():
            return
        for index in range(self.stack.count()):
            page = self.stack.widget(index)
            if page is not None and page is not self.stack.currentWidget() and page.geometry() != rect:
                page.setGeometry(rect)
                lay_out_hidden(page)


def lay_out_hidden(widget: QWidget) -> None:
    """What Qt does for a hidden widget as it shows it, done now: its layout places its children, and each resize
    held back while it was hidden is delivered, from the widget down, so they lay out their contents (a scroll area
    sizes its content, a view fits its columns or lays out its items). What was delivered is not delivered again at
    the showing. Qt itself lays out a hidden widget only when it shows it; call this again when a hidden view's
    content changed its widgets (some shown, some added)."""
    if widget.isWindow() and widget.parentWidget() is not None:
        return
    layout = widget.layout()
    if layout is not None:
        layout.activate()
    if widget.testAttribute(Qt.WidgetAttribute.WA_PendingResizeEvent):
        widget.setAttribute(Qt.WidgetAttribute.WA_PendingResizeEvent, False)
        QApplication.sendEvent(widget, QResizeEvent(widget.size(), QSize()))
    if isinstance(widget, QAbstractItemView) and not (isinstance(widget, QListView) and widget.wordWrap()):
        # its rows placed and its scroll bars shown as they will be (Qt waits for the showing); not a list of wrapped
        # rows: their heights depend on the width, which a scroll bar shown at the showing changes
        widget.doItemsLayout()
    for child in widget.children():
        if isinstance(child, QWidget) and not child.isWindow() and not child.isHidden():
            lay_out_hidden(child)


def keep_hidden_pages_sized(tabs: QTabWidget) -> HiddenPagesSized:
    return HiddenPagesSized(tabs)
