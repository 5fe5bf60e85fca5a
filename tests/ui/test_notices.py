"""Issue 16, point 1: every action answers where the user can see it. The status bar's message area had no width (the
sync label took it all), so "task added", "sync finished" and every import error from the Calls tab were never seen."""
from __future__ import annotations

from PySide6.QtCore import Qt


def test_a_notice_is_shown_wide_enough_to_read_and_goes_after_a_while(make_window, workspace, qtbot):
    ws, ann, _ken = workspace
    window = make_window(ws, size=(1280, 720))
    window.show_status("Task “Send the deck” added to Ann's board.", 300)
    notice = window.notice
    assert notice.isVisible() and notice.text() == "Task “Send the deck” added to Ann's board."
    assert notice.label.width() >= notice.label.fontMetrics().horizontalAdvance(notice.text())  # all of it readable
    top_left = notice.mapTo(window, notice.rect().topLeft())
    assert 0 <= top_left.y() and top_left.y() + notice.height() <= window.height()
    qtbot.waitUntil(lambda: not notice.isVisible(), timeout=3000)


def test_an_error_stays_until_dismissed(make_window, workspace, qtbot):
    ws, _ann, _ken = workspace
    window = make_window(ws, size=(1280, 720))
    window.show_error("the disk is full: free some space and try again")
    qtbot.wait(400)
    assert window.notice.isVisible() and window.notice.is_error
    qtbot.mouseClick(window.notice.close_button, Qt.MouseButton.LeftButton)
    assert not window.notice.isVisible()


def test_undo_in_the_notice_undoes(make_window, workspace, qtbot):
    ws, _ann, _ken = workspace
    window = make_window(ws, size=(1280, 720))
    undone = []
    window.notify("Archived · Ann", undo=lambda: undone.append(True))
    assert window.notice.undo_button.isVisible()
    qtbot.mouseClick(window.notice.undo_button, Qt.MouseButton.LeftButton)
    assert undone == [True] and not window.notice.undo_button.isVisible()


def test_a_garbage_call_log_from_the_calls_tab_says_why_and_stays(make_window, workspace, qtbot, tmp_path):
    ws, ann, _ken = workspace
    window = make_window(ws, size=(1280, 720))
    junk = tmp_path / "calls.csv"
    junk.write_bytes(bytes(range(256)) * 40)
    window.calls.import_path(junk)
    qtbot.waitUntil(lambda: window.notice.isVisible() and window.notice.is_error, timeout=10000)
    assert "calls.csv" in window.notice.text() or "call log" in window.notice.text().lower()


def test_archiving_says_so_in_the_notice_and_its_undo_brings_the_thread_back(qtbot, tmp_path, make_window):
    """Issue 16: "Archived · Ann Lee · Undo" — the notice's Undo is the same as Ctrl+Z, and runs once."""
    from tests.ui.test_keys import inbox_window, read_workspace, subjects, type_text

    ws, _maildir, ann_id = read_workspace(tmp_path)
    window = inbox_window(make_window, qtbot, ws, ann_id)
    with qtbot.wait_signal(window.inbox_actions.changed, timeout=5000):
        type_text(qtbot, "e")
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert window.notice.isVisible() and window.notice.text() == "Archived 1 thread · Ann Lee"
    assert window.notice.undo_button.isVisible()
    with qtbot.wait_signal(window.inbox_actions.changed, timeout=5000):
        qtbot.mouseClick(window.notice.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert subjects(window.inbox.model) == ["Travel plans", "Board dinner", "Budget for Q3"]
    assert not window.undo.can_undo()  # Ctrl+Z now has nothing left to take back twice


def test_a_queued_send_can_be_undone_from_the_notice(qtbot, make_window, workspace):
    from assistant.approvals import drafts
    from assistant.store import Store

    ws, ann, _ken = workspace
    store = Store(ws)
    (account,) = store.accounts(ann.id)
    d = drafts.save_draft(store, ann.id, account.id, to="bob@example.org", subject="Lunch", body_text="Hi Bob")
    store.close()
    window = make_window(ws, size=(1280, 720))
    window.inbox_actions.on_submitted(d.id, "sending")
    assert "Undo" in window.notice.undo_button.text() and window.notice.undo_button.isVisible()
    assert "Outgoing" in window.notice.text() and window.undo.last().text.startswith("Message queued · Ann")
