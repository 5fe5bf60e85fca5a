"""The inbox's mail keys through the real widgets: each change is local at once and an outbox entry for the sync."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelectionModel
from PySide6.QtTest import QAbstractItemModelTester

from assistant.store import Store
from assistant.ui.inbox import PENDING_MARK, ThreadListModel
from tests.ui.test_compose import BOB_MAIL, build_workspace

SECOND = BOB_MAIL.replace("Budget for Q3", "Board dinner").replace("<budget-1@", "<dinner-1@").replace(
    "10:00:00", "11:00:00")
THIRD = BOB_MAIL.replace("Budget for Q3", "Travel plans").replace("<budget-1@", "<travel-1@").replace(
    "10:00:00", "12:00:00")


def three_threads(tmp_path: Path):
    ws, maildir, ann_id, ken_id = build_workspace(tmp_path)
    (maildir / "new" / "2.dinner:2,").write_text(SECOND)
    (maildir / "new" / "3.travel:2,").write_text(THIRD)
    from assistant.sync.engine import sync_all

    store = Store(ws)
    sync_all(store, ann_id)
    store.close()
    return ws, maildir, ann_id


def subjects(model: ThreadListModel) -> list[str]:
    return [model.thread_at(r).subject for r in range(model.rowCount())]


def outbox_ops(ws: Path) -> list[tuple[str, dict]]:
    store = Store(ws)
    try:
        return [(e.op, e.payload) for e in store.outbox(states=["pending"])]
    finally:
        store.close()


def test_archive_with_e_queues_a_move_and_the_thread_leaves_the_inbox(qtbot, tmp_path, make_window):
    ws, maildir, ann_id = three_threads(tmp_path)
    window = make_window(ws)
    window.select_principal(ann_id)
    inbox = window.inbox
    tester = QAbstractItemModelTester(inbox.model, QAbstractItemModelTester.FailureReportingMode.Warning)
    qtbot.waitUntil(lambda: inbox.model.rowCount() == 3)
    assert inbox.folders.currentItem().text() == "Inbox"
    assert subjects(inbox.model) == ["Travel plans", "Board dinner", "Budget for Q3"]
    inbox.threads.select_row(0)
    inbox.threads.setFocus()
    with qtbot.wait_signal(window.inbox_actions.changed, timeout=5000):
        qtbot.keyClicks(inbox.threads, "e")
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert subjects(inbox.model) == ["Board dinner", "Budget for Q3"]
    ops = outbox_ops(ws)
    assert [op for op, _ in ops] == ["move"] and ops[0][1]["to"] == "archive"

    # Shown under Archive, marked as waiting for the sync; the sync pushes it and the mark goes.
    inbox.select_folder(next(f.remote_id for f in window.store.scope(ann_id).folders() if f.role == "archive"))
    assert subjects(inbox.model) == ["Travel plans"]
    assert inbox.model.index(0, ThreadListModel.MARKERS).data().startswith(PENDING_MARK)
    with qtbot.wait_signal(window.sync_finished, timeout=20000):
        window.on_sync_now()
    qtbot.waitUntil(lambda: not window.tasks.busy and not window.inbox_actions.pending)
    assert not inbox.model.index(0, ThreadListModel.MARKERS).data().startswith(PENDING_MARK)
    assert any((maildir / ".Archive" / sub).glob("*") for sub in ("cur", "new"))
    del tester


def test_multi_select_delete_moves_every_selected_thread_to_trash(qtbot, tmp_path, make_window):
    ws, _maildir, ann_id = three_threads(tmp_path)
    window = make_window(ws)
    window.select_principal(ann_id)
    inbox = window.inbox
    qtbot.waitUntil(lambda: inbox.model.rowCount() == 3)
    inbox.threads.select_row(0)
    inbox.threads.selectionModel().select(
        inbox.model.index(2, 0), QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
    inbox.threads.setFocus()
    with qtbot.wait_signal(window.inbox_actions.changed, timeout=5000):
        qtbot.keyClicks(inbox.threads, "#")
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert subjects(inbox.model) == ["Board dinner"]
    ops = outbox_ops(ws)
    assert sorted(p["to"] for op, p in ops if op == "move") == ["trash", "trash"]


def test_u_and_s_toggle_read_and_flag_through_the_outbox(qtbot, tmp_path, make_window):
    ws, _maildir, ann_id = three_threads(tmp_path)
    window = make_window(ws)
    window.select_principal(ann_id)
    inbox = window.inbox
    qtbot.waitUntil(lambda: inbox.model.rowCount() == 3)
    inbox.threads.select_row(2)
    inbox.threads.setFocus()
    assert inbox.model.thread_at(2).unread_count == 1
    with qtbot.wait_signal(window.inbox_actions.changed, timeout=5000):
        qtbot.keyClicks(inbox.threads, "u")
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert inbox.model.thread_at(2).unread_count == 0
    with qtbot.wait_signal(window.inbox_actions.changed, timeout=5000):
        qtbot.keyClicks(inbox.threads, "s")
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert inbox.model.thread_at(2).is_flagged
    with qtbot.wait_signal(window.inbox_actions.changed, timeout=5000):
        qtbot.keyClicks(inbox.threads, "!")
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert not inbox.model.thread_at(2).is_flagged
    flags = [p for op, p in outbox_ops(ws) if op == "set-flags"]
    assert flags[0].get("is_read") is True
    assert [f.get("is_flagged") for f in flags[1:]] == [True, False]
