"""The inbox's mail keys through the real widgets: each change is local at once and an outbox entry for the sync."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtTest import QAbstractItemModelTester

from assistant.core.errors import InvalidInput
from assistant.store import Store
from assistant.store import mail as mail_store
from assistant.ui.mail.inbox import PENDING_MARK, ThreadListModel
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
    inbox.select_folder(next(f.remote_id for f in mail_store.folders(window.store.scope(ann_id)) if f.role == "archive"))
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


EVIL_ATTACHMENT = """From: Bob Stone <bob@client.example>
To: Ann Lee <ann@ann.example>
Subject: Contract
Date: Mon, 02 Mar 2026 13:00:00 -0500
Message-ID: <contract-1@client.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain; charset=utf-8

The contract, signed.
--b
Content-Type: application/octet-stream
Content-Disposition: attachment; filename="../../etc/passwd"
Content-Transfer-Encoding: base64

c2lnbmVkIGNvbnRyYWN0
--b--
"""


def test_attachment_save_never_leaves_the_chosen_folder(qtbot, tmp_path, make_window, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from assistant.ui.mail import reader as reader_module
    ws, maildir, ann_id = three_threads(tmp_path)
    (maildir / "new" / "4.contract:2,").write_text(EVIL_ATTACHMENT)
    from assistant.sync.engine import sync_all

    store = Store(ws)
    sync_all(store, ann_id)
    store.close()
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    (downloads / "passwd").write_text("mine")
    monkeypatch.setattr(reader_module.QStandardPaths, "writableLocation", lambda _where: str(downloads))
    asked = []

    def fake_dialog(_parent, _title, suggested):
        asked.append(suggested)
        return str(Path(suggested).with_name("contract.bin")), ""  # the user picks another name

    monkeypatch.setattr(QFileDialog, "getSaveFileName", fake_dialog)
    window = make_window(ws)
    window.select_principal(ann_id)
    reader = window.inbox.reader
    qtbot.waitUntil(lambda: window.inbox.model.rowCount() == 4)
    window.inbox.threads.select_row(0)
    qtbot.waitUntil(lambda: reader.attachment_actions.isVisible())
    save = reader.attachment_actions.findChildren(reader_module.QPushButton)[0]
    assert save.text() == "Save passwd…"
    with qtbot.wait_signal(reader.attachment_saved, timeout=5000) as saved:
        qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert asked == [str(downloads / "passwd")]
    assert Path(saved.args[0]) == downloads / "contract.bin"
    assert (downloads / "contract.bin").read_bytes() == b"signed contract"
    assert (downloads / "passwd").read_text() == "mine"

    # Written without a dialog (Open): a fresh name, never over an existing file, never outside the folder.
    with pytest.raises(InvalidInput):
        reader_module.write_attachment(window.store, ann_id, reader._message.id, reader._message.attachments[0],
                                       downloads / "passwd")
    assert reader_module.unique_target(downloads, "../../etc/passwd") == downloads / "passwd (2)"
    assert reader_module.attachment_target(downloads, "..\\..\\boot.ini") == downloads / "boot.ini"


HTML_NEWSLETTER = """From: News <news@letter.example>
To: Ann Lee <ann@ann.example>
Subject: Weekly news
Date: Mon, 02 Mar 2026 14:00:00 -0500
Message-ID: <news-1@letter.example>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<p>Hello<img src="http://127.0.0.1:9/pixel.png"></p>
"""


def test_always_load_remote_images_is_remembered_per_principal(qtbot, tmp_path, make_window, monkeypatch):
    from assistant.store import snippets as compose_store
    from assistant.ui.mail.reader import Reader

    loads = []
    monkeypatch.setattr(Reader, "on_load_remote_requested", lambda self: loads.append(self._message.subject))
    ws, maildir, ann_id = three_threads(tmp_path)
    (maildir / "new" / "5.news:2,").write_text(HTML_NEWSLETTER)
    from assistant.sync.engine import sync_all

    store = Store(ws)
    sync_all(store, ann_id)
    store.close()
    window = make_window(ws)
    window.select_principal(ann_id)
    reader = window.inbox.reader
    qtbot.waitUntil(lambda: window.inbox.model.rowCount() == 4)
    window.inbox.threads.select_row(0)
    qtbot.waitUntil(lambda: reader.remote_bar.isVisible())
    assert loads == []  # blocked until asked
    qtbot.mouseClick(reader.remote_bar.always_button, Qt.MouseButton.LeftButton)
    assert loads == ["Weekly news"]
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert compose_store.loads_remote_images_from(window.store.scope(ann_id), "news@letter.example")
    window.inbox.threads.select_row(1)
    qtbot.waitUntil(lambda: reader._message is not None and reader._message.subject != "Weekly news")
    window.inbox.threads.select_row(0)
    qtbot.waitUntil(lambda: len(loads) == 2)  # loaded by itself this time


def test_changes_queued_before_a_restart_still_show_as_waiting(qtbot, tmp_path, make_window):
    from assistant.sync.actions import mark_read, move_message

    ws, _maildir, ann_id = three_threads(tmp_path)
    store = Store(ws)
    try:  # queued from the command line, or by a session that quit before syncing
        scope = store.scope(ann_id)
        budget = next(t for t in mail_store.threads(scope) if t.subject == "Budget for Q3")
        message = mail_store.thread_messages(scope, budget.id)[0]
        mark_read(store, message.id, ann_id, True)
        failed = move_message(store, message.id, ann_id, "inbox")
        store.mark_outbox(failed.id, "failed", error="HTTP 400")  # failed still waits for the user's attention
    finally:
        store.close()
    window = make_window(ws)
    window.select_principal(ann_id)
    inbox = window.inbox
    qtbot.waitUntil(lambda: inbox.model.rowCount() == 3 and bool(window.inbox_actions.pending))
    marks = {inbox.model.index(r, ThreadListModel.SUBJECT).data(): inbox.model.index(r, ThreadListModel.MARKERS).data()
             for r in range(3)}
    assert marks["Budget for Q3"].startswith(PENDING_MARK)
    assert not marks["Travel plans"].startswith(PENDING_MARK) and not marks["Board dinner"].startswith(PENDING_MARK)
    assert list(window.inbox_actions.pending) == [budget.id] and len(window.inbox_actions.pending[budget.id]) == 2
