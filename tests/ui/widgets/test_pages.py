from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from assistant.ui.widgets.pages import keep_hidden_pages_sized


class Recorder(QWidget):
    """Notes every resize event it gets, as a view that lays itself out in resizeEvent would."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.resizes: list[QSize] = []

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.resizes.append(event.size())
        super().resizeEvent(event)


def tabs_with_a_hidden_page(qtbot) -> tuple[QTabWidget, QWidget, Recorder]:
    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    keep_hidden_pages_sized(tabs)
    tabs.addTab(QLabel("front"), "Front")
    page = QWidget()
    recorder = Recorder(page)
    QVBoxLayout(page).addWidget(recorder)
    tabs.addTab(page, "Hidden")
    return tabs, page, recorder


def test_a_hidden_page_is_laid_out_at_the_stacks_size_before_it_is_shown(qtbot):
    tabs, page, recorder = tabs_with_a_hidden_page(qtbot)
    tabs.resize(700, 500)
    tabs.show()
    qtbot.waitExposed(tabs)
    front = tabs.currentWidget()
    assert not page.isVisible()
    assert page.size() == front.size()  # Qt's stack alone leaves it at 640×480 until shown
    assert recorder.resizes and recorder.resizes[-1] == recorder.size()
    assert recorder.width() > 600 and recorder.height() > 400  # laid out within the page, as shown
    laid_out = list(recorder.resizes)

    tabs.setCurrentIndex(1)
    qtbot.waitUntil(page.isVisible)
    qtbot.wait(20)
    assert recorder.resizes == laid_out  # the showing laid nothing out again


def test_a_resize_while_hidden_reaches_the_hidden_page_and_a_page_added_later(qtbot):
    tabs, page, recorder = tabs_with_a_hidden_page(qtbot)
    tabs.resize(700, 500)
    tabs.show()
    qtbot.waitExposed(tabs)
    tabs.resize(900, 600)
    qtbot.waitUntil(lambda: page.size() == tabs.currentWidget().size())
    assert recorder.resizes[-1] == recorder.size() and recorder.width() > 800
    late = Recorder()
    tabs.addTab(late, "Late")
    qtbot.waitUntil(lambda: late.size() == tabs.currentWidget().size())
    assert late.resizes[-1] == late.size()
