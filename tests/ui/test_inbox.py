from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtTest import QAbstractItemModelTester

from assistant.store import Store
from assistant.ui.mail.inbox import PAGE_SIZE, InboxView, ThreadListModel, format_when
from assistant.ui.workers import TaskManager
from tests.ui.conftest import BASE, add_principal, add_thread

UTC = UTC


@pytest.fixture
def big(tmp_path):
    store = Store(tmp_path / "ws")
    p, a = add_principal(store, "Ann", "America/New_York")
    other, other_account = add_principal(store, "Ken", "Asia/Tokyo")
    with store.transaction():
        for i in range(1000):
            add_thread(store, p, a, f"t{i}", f"Thread {i}", when=BASE - timedelta(minutes=i), unread=i % 3 == 0)
        add_thread(store, other, other_account, "k", "Ken only")
    yield store, p, other
    store.close()


def test_thread_list_reads_one_page_then_more_on_demand(qtbot, big):
    store, p, _ = big
    model = ThreadListModel(store)
    tester = QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)
    model.set_principal(p)
    assert model.rowCount() == PAGE_SIZE
    assert model.canFetchMore(QModelIndex())
    model.fetchMore(QModelIndex())
    assert model.rowCount() == 2 * PAGE_SIZE
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
    assert model.rowCount() == 1000
    assert model.index(0, ThreadListModel.SUBJECT).data() == "Thread 0"  # newest first
    assert model.index(999, ThreadListModel.SUBJECT).data() == "Thread 999"
    model.reload()  # keeps as many rows as were loaded
    assert model.rowCount() == 1000
    del tester


def test_thread_list_shows_only_its_principal(qtbot, big):
    store, p, other = big
    model = ThreadListModel(store)
    tester = QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)
    model.set_principal(other)
    subjects = [model.index(r, ThreadListModel.SUBJECT).data() for r in range(model.rowCount())]
    assert subjects == ["Ken only"]
    assert not model.canFetchMore(QModelIndex())
    del tester


def test_markers_and_unread_bold(qtbot, tmp_path):
    from assistant.domain import Attachment

    store = Store(tmp_path / "ws")
    p, a = add_principal(store, "Ann", "America/New_York")
    add_thread(store, p, a, "x", "With file", unread=True, attachments=[Attachment("a.pdf", "application/pdf", 10)],
               replies=2)
    add_thread(store, p, a, "y", "Read one", unread=False, when=BASE - timedelta(days=1))
    model = ThreadListModel(store)
    model.set_principal(p)
    marks = model.index(0, ThreadListModel.MARKERS).data()
    assert "\u25CF" in marks and "\U0001F4CE" in marks
    assert model.index(0, ThreadListModel.SUBJECT).data() == "With file  (3)"
    assert model.index(0, ThreadListModel.SUBJECT).data(Qt.ItemDataRole.FontRole).bold()
    assert model.index(1, ThreadListModel.SUBJECT).data(Qt.ItemDataRole.FontRole) is None
    assert model.index(1, ThreadListModel.MARKERS).data() == ""
    store.close()


def test_dates_are_shown_in_the_principals_zone():
    when = datetime(2026, 3, 1, 3, 30, tzinfo=UTC)
    now = datetime(2026, 6, 1, tzinfo=UTC)
    assert format_when(when, "America/New_York", now) == "28 Feb"
    assert format_when(when, "Asia/Tokyo", now) == "1 Mar"
    assert format_when(when, "Asia/Tokyo", when + timedelta(hours=1)) == "12:30"
    assert format_when(when, "UTC", datetime(2027, 1, 5, tzinfo=UTC)) == "2026-03-01"


def test_j_k_move_and_enter_opens(qtbot, big):
    store, p, _ = big
    tasks = TaskManager(store.dir)
    try:
        inbox = InboxView(store, tasks)
        qtbot.addWidget(inbox)
        inbox.show()
        inbox.set_principal(p)
        view = inbox.threads
        view.setFocus()
        assert view.currentIndex().row() == 0
        qtbot.keyClick(view, Qt.Key.Key_J)
        qtbot.keyClick(view, Qt.Key.Key_J)
        assert view.currentIndex().row() == 2
        qtbot.keyClick(view, Qt.Key.Key_K)
        assert view.currentIndex().row() == 1
        with qtbot.waitSignal(view.open_requested) as opened:
            qtbot.keyClick(view, Qt.Key.Key_Return)
        assert opened.args[0].row() == 1
        qtbot.waitUntil(lambda: inbox.reader.subject.text() == "Thread 1")
        # j at the end of the loaded page pages on instead of stopping
        loaded = inbox.model.rowCount()
        view.select_row(loaded - 1)
        qtbot.keyClick(view, Qt.Key.Key_J)
        assert view.currentIndex().row() == loaded
        assert inbox.model.rowCount() > loaded
        qtbot.waitUntil(lambda: not tasks.busy)
    finally:
        tasks.shutdown()
