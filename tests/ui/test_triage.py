"""Triage through the real widgets: the two-line thread list, read state that follows the user, auto-advance after
archive and delete, and the reader's conversation view (issue 16, points 5 and 6)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtTest import QAbstractItemModelTester

from assistant.domain import Address, Attachment, Message
from assistant.store import Store
from assistant.store import mail as mail_store
from assistant.ui.mail.inbox import ThreadListModel, ThreadRowDelegate, format_when
from assistant.ui.mail.reader import Reader
from assistant.ui.workers import TaskManager
from tests.ui.conftest import BASE, add_principal, add_thread
from tests.ui.test_inbox_actions import outbox_ops, three_threads


def click_row(qtbot, inbox, row: int) -> None:
    rect = inbox.threads.visualRect(inbox.model.index(row, ThreadListModel.SUBJECT))
    qtbot.mouseClick(inbox.threads.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def unread_in_store(ws: Path, principal_id: int, subject: str) -> int:
    store = Store(ws)
    try:
        return next(t.unread_count for t in mail_store.threads(store.scope(principal_id)) if t.subject == subject)
    finally:
        store.close()


def settle(qtbot, window, ms: int = 0) -> None:
    if ms:
        qtbot.wait(ms)
    qtbot.waitUntil(lambda: not window.tasks.busy)


# -- read state ----------------------------------------------------------------------------------------------------------
def test_switching_principal_shows_the_top_thread_without_marking_it_read(make_window, workspace, qtbot):
    ws, _ann, ken = workspace
    window = make_window(ws)
    window.select_principal(ken.id)
    inbox = window.inbox
    qtbot.waitUntil(lambda: inbox.reader.subject.text() == "Ken matter 0")
    settle(qtbot, window, 2 * Reader.MARK_READ_AFTER_MS)
    assert inbox.model.thread_at(0).unread_count == 1  # shown because the app chose it, not read
    assert unread_in_store(ws, ken.id, "Ken matter 0") == 1

    click_row(qtbot, inbox, 1)  # skimmed past: not read
    qtbot.wait(Reader.MARK_READ_AFTER_MS // 4)
    click_row(qtbot, inbox, 0)  # the user picks it and stays: read after a moment
    qtbot.waitUntil(lambda: inbox.model.thread_at(0).unread_count == 0, timeout=5000)
    settle(qtbot, window)
    assert unread_in_store(ws, ken.id, "Ken matter 0") == 0
    assert inbox.model.thread_at(1).unread_count == 1


def test_switching_principal_paints_the_list_before_the_worker_runs_what_the_switch_set_off(make_window, workspace,
                                                                                            qtbot):
    """The reader's thread and the other tabs' pages are read once the new list is on screen, not beside its
    painting (where they take turns at the interpreter with the GUI thread)."""
    ws, ann, ken = workspace
    window = make_window(ws)
    window.select_principal(ann.id)
    qtbot.waitUntil(lambda: window.inbox.model.rowCount() > 0)
    settle(qtbot, window)
    viewport = window.inbox.threads.viewport()
    paints: list[int] = []

    class Count(QObject):
        def eventFilter(self, watched, event):  # noqa: N802
            if watched is viewport and event.type() == QEvent.Type.Paint:
                paints.append(1)
            return False

    counter = Count()
    viewport.installEventFilter(counter)
    window.select_principal(ken.id)
    ran_after: list[int] = []
    window.tasks.run(lambda _store: ran_after.append(len(paints)))  # queued behind what the switch set off
    qtbot.waitUntil(lambda: bool(ran_after), timeout=3000)
    assert ran_after[0] >= 1  # the list was painted before the worker took it up
    assert inbox_subjects(window)[0] == "Ken matter 0"
    qtbot.waitUntil(lambda: window.inbox.reader.subject.text() == "Ken matter 0")
    assert not window.tasks.held
    viewport.removeEventFilter(counter)


def inbox_subjects(window) -> list[str]:
    return [t.subject for t in window.inbox.model.rows]


def test_u_on_the_open_thread_is_not_undone_by_the_reader(make_window, workspace, qtbot):
    ws, _ann, ken = workspace
    window = make_window(ws)
    window.select_principal(ken.id)
    inbox = window.inbox
    qtbot.waitUntil(lambda: inbox.model.rowCount() == 3)
    click_row(qtbot, inbox, 1)
    qtbot.waitUntil(lambda: inbox.model.thread_at(1).unread_count == 0, timeout=5000)
    settle(qtbot, window)
    inbox.threads.setFocus()
    with qtbot.wait_signal(window.inbox_actions.changed, timeout=5000):
        qtbot.keyClicks(inbox.threads, "u")
    settle(qtbot, window)
    assert inbox.model.thread_at(1).unread_count == 1
    settle(qtbot, window, 2 * Reader.MARK_READ_AFTER_MS + 500)  # still open in the reader
    assert inbox.reader.subject.text() == "Ken matter 1"
    assert inbox.model.thread_at(1).unread_count == 1
    assert unread_in_store(ws, ken.id, "Ken matter 1") == 1


def test_reading_a_thread_marks_its_collapsed_messages_read_too_and_ctrl_z_takes_it_back(make_window, workspace,
                                                                                         qtbot):
    """Gmail and Outlook mark a conversation read when it is read, not only its open message; each through the
    outbox. The read is undoable (Ctrl+Z, no notice), and what Ctrl+Z made unread stays unread while it is open."""
    from tests.ui.test_inbox_actions import outbox_ops

    ws, ann, _ken = workspace
    window = make_window(ws)
    window.select_principal(ann.id)
    inbox = window.inbox
    qtbot.waitUntil(lambda: inbox.model.rowCount() == 5 and not window.tasks.busy)
    assert inbox.model.thread_at(1).subject == "Ann matter 1" and inbox.model.thread_at(1).unread_count == 2
    click_row(qtbot, inbox, 1)
    qtbot.waitUntil(lambda: inbox.reader.subject.text() == "Ann matter 1")
    assert inbox.reader.later_list.isVisible()  # the first unread is open, the newer one a collapsed line
    qtbot.waitUntil(lambda: inbox.model.thread_at(1).unread_count == 0, timeout=5000)
    settle(qtbot, window)
    assert unread_in_store(ws, ann.id, "Ann matter 1") == 0
    reader_messages = [inbox.reader.messages.message_at(r) for r in range(inbox.reader.messages.rowCount())]
    assert [m.is_read for m in reader_messages] == [True, True]
    assert sorted((op, p["remote_id"], p["is_read"]) for op, p in outbox_ops(ws)) == [
        ("set-flags", "ann1-0", True), ("set-flags", "ann1-1", True)]
    assert window.undo.last().text == "Marked read “Ann matter 1” · Ann"
    assert "Marked read" not in window.notice.text()  # reading is not announced

    inbox.threads.setFocus()
    qtbot.waitUntil(lambda: inbox.threads.hasFocus())
    with qtbot.wait_signal(window.inbox_actions.changed, timeout=5000):
        qtbot.keyClick(inbox.threads, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, window)
    assert unread_in_store(ws, ann.id, "Ann matter 1") == 2
    settle(qtbot, window, 2 * Reader.MARK_READ_AFTER_MS + 500)  # still open in the reader: it stays as the user set it
    assert inbox.reader.subject.text() == "Ann matter 1"
    assert unread_in_store(ws, ann.id, "Ann matter 1") == 2
    assert inbox.model.thread_at(1).unread_count == 2
    assert [p["is_read"] for op, p in outbox_ops(ws) if p["remote_id"] == "ann1-1"] == [True, False]


# -- auto-advance --------------------------------------------------------------------------------------------------------
def test_archive_and_delete_move_the_selection_to_the_next_thread(qtbot, tmp_path, make_window):
    ws, _maildir, ann_id = three_threads(tmp_path)
    window = make_window(ws)
    window.select_principal(ann_id)
    inbox = window.inbox
    qtbot.waitUntil(lambda: inbox.model.rowCount() == 3)
    click_row(qtbot, inbox, 1)
    qtbot.waitUntil(lambda: inbox.reader.subject.text() == "Board dinner")

    def press(key: str) -> None:
        inbox.threads.setFocus()
        with qtbot.wait_signal(window.inbox_actions.changed, timeout=5000):
            qtbot.keyClicks(inbox.threads, key)
        settle(qtbot, window)

    def current() -> str:
        thread = inbox.model.thread_at(inbox.threads.currentIndex().row())
        return thread.subject if thread else ""

    press("e")  # the one below comes next
    assert [inbox.model.thread_at(r).subject for r in range(inbox.model.rowCount())] == ["Travel plans",
                                                                                          "Budget for Q3"]
    assert current() == "Budget for Q3"
    qtbot.waitUntil(lambda: inbox.reader.subject.text() == "Budget for Q3")
    press("e")  # nothing below: the one above
    assert current() == "Travel plans"
    qtbot.waitUntil(lambda: inbox.reader.subject.text() == "Travel plans")
    press("#")
    assert inbox.model.rowCount() == 0 and not inbox.threads.currentIndex().isValid()
    assert inbox.reader.placeholder.isVisible()


def test_archive_takes_the_thread_out_and_opens_the_next_before_the_worker_writes(qtbot, tmp_path, make_window):
    """``e`` answers at once: the row leaves and the one below opens while the worker is still held; the worker's
    write then updates the list in place (no reset) and the store has the move."""
    ws, _maildir, ann_id = three_threads(tmp_path)
    window = make_window(ws)
    window.select_principal(ann_id)
    inbox = window.inbox
    tester = QAbstractItemModelTester(inbox.model, QAbstractItemModelTester.FailureReportingMode.Warning)
    qtbot.waitUntil(lambda: inbox.model.rowCount() == 3)
    click_row(qtbot, inbox, 0)
    qtbot.waitUntil(lambda: inbox.reader.subject.text() == "Travel plans")
    settle(qtbot, window)
    resets = []
    inbox.model.modelReset.connect(lambda: resets.append(1))
    window.tasks.hold(at_most_s=5)  # nothing the key sets off runs on the worker yet
    inbox.threads.setFocus()
    qtbot.keyClicks(inbox.threads, "e")
    assert [t.subject for t in inbox.model.rows] == ["Board dinner", "Budget for Q3"]
    assert inbox.model.thread_at(inbox.threads.currentIndex().row()).subject == "Board dinner"
    assert inbox.reader.thread_id == inbox.model.thread_at(0).id
    assert [op for op, _ in outbox_ops(ws)] == []  # not written yet
    with qtbot.wait_signal(window.inbox_actions.changed, timeout=5000):
        window.tasks.release()
    settle(qtbot, window)
    assert [op for op, _ in outbox_ops(ws)] == ["move"]
    assert [t.subject for t in inbox.model.rows] == ["Board dinner", "Budget for Q3"]
    assert inbox.model.thread_at(inbox.threads.currentIndex().row()).subject == "Board dinner"
    assert not resets  # the store's answer was the list already shown: rows updated, not reset
    qtbot.waitUntil(lambda: inbox.reader.subject.text() == "Board dinner")
    del tester


def test_a_reread_with_the_same_threads_updates_rows_in_place_and_shows_the_open_thread_again(make_window, workspace,
                                                                                               qtbot):
    """A new message in the thread being read, at the top already: the list is updated, not reset, and the reader
    reads the thread again."""
    ws, ann, _ken = workspace
    window = make_window(ws)
    window.select_principal(ann.id)
    inbox = window.inbox
    qtbot.waitUntil(lambda: inbox.reader.subject.text() == "Ann matter 0")
    settle(qtbot, window)
    store = Store(ws)
    account = next(a for a in store.accounts() if a.principal_id == ann.id)
    mail_store.upsert_message(store.scope(ann.id), Message(
        principal_id=ann.id, account_id=account.id, remote_id="ann0-late", subject="Re: Ann matter 0",
        sender=Address("Late", "late@example.org"), date_utc=BASE + timedelta(minutes=30),
        message_id_header="<ann0-late@example.org>", in_reply_to="<ann0-0@example.org>", body_text="One more",
    ))
    store.close()
    resets, refreshed = [], []
    inbox.model.modelReset.connect(lambda: resets.append(1))
    real = inbox.reader.refresh_thread
    inbox.reader.refresh_thread = lambda thread: refreshed.append(thread.id) or real(thread)
    top = inbox.model.thread_at(0)
    inbox.model.reload()
    assert not resets
    assert inbox.model.thread_at(0).id == top.id and inbox.model.thread_at(0).message_count == top.message_count + 1
    assert refreshed == [top.id]
    settle(qtbot, window)


def test_a_move_that_fails_brings_the_thread_back(qtbot, tmp_path, make_window, monkeypatch):
    from assistant.core.errors import InvalidInput
    from assistant.ui.mail import actions

    def refuse(*_args, **_kwargs):
        raise InvalidInput("no archive folder")

    monkeypatch.setattr(actions, "_move", refuse)
    ws, _maildir, ann_id = three_threads(tmp_path)
    window = make_window(ws)
    window.select_principal(ann_id)
    inbox = window.inbox
    qtbot.waitUntil(lambda: inbox.model.rowCount() == 3)
    inbox.threads.select_row(0)
    inbox.threads.setFocus()
    with qtbot.wait_signal(window.inbox_actions.changed, timeout=5000):
        qtbot.keyClicks(inbox.threads, "e")
    settle(qtbot, window)
    assert [t.subject for t in inbox.model.rows] == ["Travel plans", "Board dinner", "Budget for Q3"]
    assert "no archive folder" in window.notice.text()


def test_archive_in_all_mail_leaves_the_thread_listed(qtbot, tmp_path, make_window):
    ws, _maildir, ann_id = three_threads(tmp_path)
    window = make_window(ws)
    window.select_principal(ann_id)
    inbox = window.inbox
    qtbot.waitUntil(lambda: inbox.model.rowCount() == 3)
    inbox.select_folder(None)  # All mail: archived threads stay in it
    inbox.threads.select_row(0)
    inbox.threads.setFocus()
    window.tasks.hold(at_most_s=5)
    qtbot.keyClicks(inbox.threads, "e")
    assert inbox.model.rowCount() == 3
    with qtbot.wait_signal(window.inbox_actions.changed, timeout=5000):
        window.tasks.release()
    settle(qtbot, window)
    assert [t.subject for t in inbox.model.rows] == ["Travel plans", "Board dinner", "Budget for Q3"]


# -- the thread list -----------------------------------------------------------------------------------------------------
def test_a_thread_row_says_who_what_when_and_its_state_in_two_lines(make_window, tmp_path, qtbot):
    from assistant.ui.mail.inbox import ThreadRowDelegate

    ws = tmp_path / "ws"
    store = Store(ws)
    ann, account = add_principal(store, "Ann Lee", "America/New_York")
    now = datetime.now(UTC).replace(microsecond=0)
    subject = "Signed engagement letter for the Harlow matter"
    scope = store.scope(ann.id)
    for i, (sender, minutes) in enumerate(((Address("Bob Stone", "bob@client.example"), 40),
                                           (Address("Ann Lee", ann.primary_address), 12))):
        mail_store.upsert_message(scope, Message(
            principal_id=ann.id, account_id=account.id, remote_id=f"m{i}", subject=subject if not i else f"Re: {subject}",
            sender=sender, to=[Address("x", "x@example.org")], date_utc=now - timedelta(minutes=minutes),
            message_id_header=f"<m{i}@example.org>", in_reply_to=f"<m{i - 1}@example.org>" if i else "",
            is_read=False, is_flagged=i == 1, body_text="Attached are the signed pages", snippet="Attached are the "
            "signed pages", attachments=[Attachment("letter.pdf", "application/pdf", 10)] if i else [],
        ))
    store.close()
    window = make_window(ws, size=(1280, 720))
    inbox = window.inbox
    qtbot.waitUntil(lambda: inbox.model.rowCount() == 1)
    view = inbox.threads
    assert view.rowHeight(0) >= 2 * view.fontMetrics().height()
    delegate = view.itemDelegate()
    assert isinstance(delegate, ThreadRowDelegate)
    thread = inbox.model.thread_at(0)
    pieces = {p.kind: p for p in delegate.pieces(thread, view.visualRect(inbox.model.index(0, 0)), view.font())}
    assert pieces["who"].text == "Bob Stone"  # not the principal's own name
    assert pieces["count"].text == " (2)"
    assert pieces["subject"].text == subject  # whole at 1280 px
    assert pieces["snippet"].text.startswith("Att")  # the rest of the line, in grey
    assert pieces["date"].text == "12 min ago"
    assert {"flag", "attachment"} <= set(pieces) and "pending" not in pieces
    assert pieces["subject"].rect.top() > pieces["who"].rect.bottom()  # a second line
    assert "Bob Stone" in inbox.model.index(0, ThreadListModel.SUBJECT).data(Qt.ItemDataRole.AccessibleTextRole)


def test_a_repaint_lays_out_no_row_again_but_a_changed_row_is_laid_out_afresh(make_window, workspace, qtbot,
                                                                              monkeypatch):
    ws, ann, _ken = workspace
    window = make_window(ws)
    window.select_principal(ann.id)
    inbox = window.inbox
    qtbot.waitUntil(lambda: inbox.model.rowCount() > 1)
    view, delegate = inbox.threads, inbox.threads.itemDelegate()
    assert isinstance(delegate, ThreadRowDelegate)
    laid_out: list[int] = []
    real = delegate.pieces
    monkeypatch.setattr(delegate, "pieces", lambda thread, rect, font: laid_out.append(thread.id) or real(thread, rect,
                                                                                                           font))
    view.viewport().repaint()
    assert laid_out == []  # the rows shown were laid out when first painted: nothing measured or elided again
    view.select_row(1)
    view.viewport().repaint()
    assert laid_out == []  # the selection moved: the same pieces, other colours
    changed = inbox.model.thread_at(0)
    assert changed is not None and changed.unread_count
    inbox.model.note_message_read(changed.id)  # the row's weight changes: laid out again
    view.viewport().repaint()
    assert laid_out == [changed.id]
    fresh = ThreadRowDelegate(inbox.model)
    rect = view.visualRect(inbox.model.index(0, 0))
    assert [(p.kind, p.text, p.rect) for p in fresh.laid_out(changed, rect, view.font())] == [
        (p.kind, p.text, p.rect) for p in real(changed, rect, view.font())]  # kept pieces are where the row is


def test_dates_today_are_relative():
    now = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # 15:00 in Tokyo
    assert format_when(now - timedelta(seconds=20), "Asia/Tokyo", now) == "now"
    assert format_when(now - timedelta(minutes=12), "Asia/Tokyo", now) == "12 min ago"
    assert format_when(now - timedelta(hours=2), "Asia/Tokyo", now) == "13:00"
    assert format_when(now - timedelta(hours=16), "Asia/Tokyo", now) == "1 Mar"


def test_the_remote_images_bar_does_not_move_the_panes(make_window, tmp_path, qtbot):
    ws = tmp_path / "ws"
    store = Store(ws)
    ann, account = add_principal(store, "Ann", "America/New_York")
    add_thread(store, ann, account, "plain", "Plain", when=BASE)
    add_thread(store, ann, account, "news", "Newsletter", when=BASE - timedelta(hours=1), unread=False,
               html='<p>News <img src="https://tracker.example/p.gif"> <img src="https://cdn.example/a.png"></p>')
    store.close()
    window = make_window(ws, size=(1280, 720))
    inbox = window.inbox
    qtbot.waitUntil(lambda: inbox.reader.subject.text() == "Plain")
    settle(qtbot, window, 100)
    before = (window.splitter.sizes(), inbox.splitter.sizes())
    click_row(qtbot, inbox, 1)
    qtbot.waitUntil(lambda: inbox.reader.remote_bar.isVisible())
    settle(qtbot, window, 100)
    assert (window.splitter.sizes(), inbox.splitter.sizes()) == before


# -- the conversation ----------------------------------------------------------------------------------------------------
def test_the_conversation_stacks_older_messages_as_lines_above_the_open_one(qtbot, tmp_path):
    store = Store(tmp_path / "ws")
    p, a = add_principal(store, "Ann", "America/New_York")
    add_thread(store, p, a, "t", "Budget", replies=2, unread=False, text="Figures attached")
    thread = mail_store.threads(store.scope(p.id))[0]
    tasks = TaskManager(store.dir)
    try:
        reader = Reader(tasks)
        qtbot.addWidget(reader)
        reader.resize(700, 600)
        reader.show()
        with qtbot.waitSignal(reader.message_shown, timeout=5000):
            reader.show_thread(p, thread)
        earlier, later = reader.message_list, reader.later_list
        assert "Sender 2" in reader.header.text()  # the newest is open
        assert earlier.isVisible() and not later.isVisible()
        assert [earlier.isRowHidden(r) for r in range(3)] == [False, False, True]
        first = earlier.visualRect(reader.messages.index(0))
        assert 0 < first.height() < 2 * earlier.fontMetrics().height()  # one line
        with qtbot.waitSignal(reader.message_shown, timeout=5000):
            qtbot.mouseClick(earlier.viewport(), Qt.MouseButton.LeftButton, pos=first.center())
        assert "Sender 0" in reader.header.text()  # opened in place
        assert not earlier.isVisible() and later.isVisible()
        assert [later.isRowHidden(r) for r in range(3)] == [True, False, False]
    finally:
        tasks.shutdown()
        store.close()


def reply(body_text: str = "", body_html: str = "") -> Message:
    return Message(principal_id=1, account_id=1, remote_id="r1", subject="Re: Numbers",
                   sender=Address("Bob", "bob@x.org"), to=[Address("Ann", "ann@a.example")], date_utc=BASE, id=9,
                   body_text=body_text, body_html=body_html)


def test_quoted_history_is_folded_until_the_user_asks(qtbot, tmp_path):
    tasks = TaskManager(tmp_path / "ws")
    try:
        reader = Reader(tasks)
        qtbot.addWidget(reader)
        reader.resize(700, 600)
        reader.show()
        reader.show_message(reply("Done, they are in the folder.\n\nBob\n\n"
                                  "On Mon, 2 Mar 2026 at 10:00, Ann <ann@a.example> wrote:\n"
                                  "> Could you send the figures by Friday?\n"), "UTC")
        assert "Done, they are in the folder." in reader.browser.toPlainText()
        assert "figures by Friday" not in reader.browser.toPlainText()
        assert reader.quoted_button.isVisible()
        qtbot.mouseClick(reader.quoted_button, Qt.MouseButton.LeftButton)
        assert "> Could you send the figures by Friday?" in reader.browser.toPlainText()
        assert reader.quoted_button.text() == "Hide quoted text"

        reader.show_message(reply(body_html='<div>Looks right.</div><div class="gmail_quote"><div class="gmail_attr">'
                                            'On Mon, Ann wrote:</div><blockquote>Old figures</blockquote></div>'), "UTC")
        assert "Looks right." in reader.browser.toPlainText() and "Old figures" not in reader.browser.toPlainText()
        qtbot.mouseClick(reader.quoted_button, Qt.MouseButton.LeftButton)
        assert "Old figures" in reader.browser.toPlainText()

        reader.show_message(reply("Nothing quoted here."), "UTC")
        assert not reader.quoted_button.isVisible()
    finally:
        tasks.shutdown()

