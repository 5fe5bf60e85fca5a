"""Issue 16, point 4: one keyboard model, typed the way a user types — keys go to whatever has the focus.

Single keys work in the thread list and the reader only, never in a text field; the desktop keys work anywhere; the
command palette (Ctrl+K), the shortcut sheet (?) and the menus all read the one registry of commands."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QPlainTextEdit

from assistant.approvals.drafts import list_drafts
from assistant.store import Store
from assistant.store import mail as mail_store
from assistant.ui.mail.inbox import ThreadListModel
from tests.ui.test_inbox_actions import outbox_ops, subjects, three_threads

CTRL = Qt.KeyboardModifier.ControlModifier


def click_into(qtbot, window, widget) -> None:
    """The user clicks into ``widget``: its window comes to the front (offscreen, a closed compose window hands the
    activation back to nobody) and it has the focus."""
    window.activateWindow()
    widget.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is widget)


def _focus():
    widget = QApplication.focusWidget()
    assert widget is not None  # keys go to the focus widget; without one they go nowhere
    return widget


def press(qtbot, key: Qt.Key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """One key, to whatever has the focus."""
    qtbot.keyClick(_focus(), key, modifier)


def type_text(qtbot, text: str) -> None:
    """Typing: each character to whatever has the focus at that moment."""
    for character in text:
        qtbot.keyClicks(_focus(), character)


def read_workspace(tmp_path: Path):
    """Three threads, all read, so that the reader marking a thread read changes nothing and every change we see
    came from a key."""
    ws, maildir, ann_id = three_threads(tmp_path)
    store = Store(ws)
    scope = store.scope(ann_id)
    with store.transaction():
        for thread in mail_store.threads(scope):
            for message in mail_store.thread_messages(scope, thread.id):
                mail_store.set_message_flags(scope, message.id, is_read=True)
    store.close()
    return ws, maildir, ann_id


def inbox_window(make_window, qtbot, ws, principal_id):
    window = make_window(ws)
    window.select_principal(principal_id)
    qtbot.waitUntil(lambda: window.inbox.model.rowCount() == 3 and not window.tasks.busy)
    window.inbox.threads.select_row(0)
    click_into(qtbot, window, window.inbox.threads)
    return window


def drafts(ws: Path, principal_id: int):
    store = Store(ws)
    try:
        return list_drafts(store, principal_id)
    finally:
        store.close()


def test_typing_kamakura_where_search_is_meant_opens_nothing_and_changes_nothing(qtbot, tmp_path, make_window):
    ws, _maildir, ann_id = read_workspace(tmp_path)
    window = inbox_window(make_window, qtbot, ws, ann_id)
    opened = []
    window.inbox_actions.compose_opened.connect(opened.append)

    press(qtbot, Qt.Key.Key_F, CTRL)  # the focus is meant for search…
    type_text(qtbot, "Kamakura")  # …and the user types
    qtbot.wait(300)
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert QApplication.focusWidget() is window.search and window.search.text() == "Kamakura"
    assert opened == [] and window.inbox_actions.windows == []
    assert outbox_ops(ws) == []  # nothing archived, moved, or flipped to unread
    window.search.clear()  # the list searched as the user typed; emptied, the inbox is back
    qtbot.waitUntil(lambda: window.inbox.model.rowCount() == 3 and not window.tasks.busy)
    assert all(window.inbox.model.thread_at(r).unread_count == 0 for r in range(3))

    # A text field inside the reader (a quick reply, say) is typing too: the keys are text, not commands.
    field = QPlainTextEdit(window.inbox.reader)
    field.show()
    click_into(qtbot, window, field)
    type_text(qtbot, "e#urasf!")
    press(qtbot, Qt.Key.Key_Delete)
    line = QLineEdit(window.inbox.reader)
    line.setReadOnly(True)  # claims no key itself; still a text field
    line.show()
    click_into(qtbot, window, line)
    type_text(qtbot, "eu#")
    qtbot.wait(300)
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert field.toPlainText() == "e#urasf!"
    assert opened == [] and outbox_ops(ws) == [] and subjects(window.inbox.model) == [
        "Travel plans", "Board dinner", "Budget for Q3"]

    window.close()  # compose windows would save what they have now
    assert drafts(ws, ann_id) == []


def test_opening_a_reply_and_closing_it_untouched_saves_no_draft(qtbot, tmp_path, make_window):
    ws, _maildir, ann_id = read_workspace(tmp_path)
    window = inbox_window(make_window, qtbot, ws, ann_id)
    def open_and_close(key: str) -> None:
        click_into(qtbot, window, window.inbox.threads)
        with qtbot.wait_signal(window.inbox_actions.compose_opened, timeout=5000) as opened:
            type_text(qtbot, key)
        compose = opened.args[0]
        qtbot.addWidget(compose)
        compose.on_autosave_due()  # what the timer does every few seconds
        compose.close()
        qtbot.waitUntil(lambda: not window.tasks.busy)

    for key in ("r", "a", "f"):  # a reply's recipients, subject and quote are what it opened with, not typing
        open_and_close(key)
    assert drafts(ws, ann_id) == []
    open_and_close("c")  # c: a new message (UX.md), its signature untouched
    assert drafts(ws, ann_id) == []

    # One typed character is something to keep.
    click_into(qtbot, window, window.inbox.threads)
    with qtbot.wait_signal(window.inbox_actions.compose_opened, timeout=5000) as opened:
        type_text(qtbot, "r")
    compose = opened.args[0]
    qtbot.addWidget(compose)
    qtbot.keyClicks(compose.body, "K")
    compose.close()
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert [d.in_reply_to for d in drafts(ws, ann_id)] == ["<travel-1@client.example>"]


def test_ctrl_f_and_slash_reach_the_search_box(qtbot, tmp_path, make_window):
    ws, _maildir, ann_id = read_workspace(tmp_path)
    window = inbox_window(make_window, qtbot, ws, ann_id)
    press(qtbot, Qt.Key.Key_F, CTRL)
    assert QApplication.focusWidget() is window.search

    click_into(qtbot, window, window.inbox.threads)
    type_text(qtbot, "/")
    assert QApplication.focusWidget() is window.search
    type_text(qtbot, "from:bob/x")  # in the box, / is a character like any other
    assert window.search.text() == "from:bob/x"
    press(qtbot, Qt.Key.Key_K, CTRL)  # desktop keys still work from a text field
    qtbot.waitUntil(lambda: window.command_palette is not None and window.command_palette.isVisible())
    window.command_palette.reject()

    window.views.setCurrentWidget(window.calendar)  # Ctrl+F from another tab too
    click_into(qtbot, window, window.calendar.focusWidget() or window.calendar)
    press(qtbot, Qt.Key.Key_F, CTRL)
    assert QApplication.focusWidget() is window.search and window.search.selectedText() == "from:bob/x"


def test_ctrl_number_goes_to_each_tab(qtbot, tmp_path, make_window):
    ws, _maildir, ann_id = read_workspace(tmp_path)
    window = inbox_window(make_window, qtbot, ws, ann_id)
    count = window.views.count()
    assert count >= 6
    for index in reversed(range(min(count, 9))):
        press(qtbot, Qt.Key(Qt.Key.Key_1 + index), CTRL)
        assert window.views.currentIndex() == index
    view_menu_keys = [a.shortcut().toString() for a in window.view_menu.actions() if not a.shortcut().isEmpty()]
    assert [f"Ctrl+{n}" for n in range(1, min(count, 9) + 1)] == view_menu_keys[:min(count, 9)]


def test_j_and_k_move_through_the_threads_from_the_reader_too(qtbot, tmp_path, make_window):
    ws, _maildir, ann_id = read_workspace(tmp_path)
    window = inbox_window(make_window, qtbot, ws, ann_id)
    threads = window.inbox.threads
    type_text(qtbot, "j")
    assert threads.currentIndex().row() == 1
    with qtbot.wait_signal(threads.open_requested, timeout=2000):
        type_text(qtbot, "o")
    reading = QApplication.focusWidget()
    assert window.inbox.reader.isAncestorOf(reading)  # open: the reader has the focus
    type_text(qtbot, "jk")
    type_text(qtbot, "j")
    assert threads.currentIndex().row() == 2 and QApplication.focusWidget() is reading
    type_text(qtbot, "kk")
    assert threads.currentIndex().row() == 0


def test_delete_moves_the_selected_thread_to_trash(qtbot, tmp_path, make_window):
    ws, _maildir, ann_id = read_workspace(tmp_path)
    window = inbox_window(make_window, qtbot, ws, ann_id)
    with qtbot.wait_signal(window.inbox_actions.changed, timeout=5000):
        press(qtbot, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert subjects(window.inbox.model) == ["Board dinner", "Budget for Q3"]
    assert [(op, p["to"]) for op, p in outbox_ops(ws)] == [("move", "trash")]


def test_ctrl_r_replies_and_ctrl_shift_r_replies_to_all(qtbot, tmp_path, make_window):
    ws, _maildir, ann_id = read_workspace(tmp_path)
    window = inbox_window(make_window, qtbot, ws, ann_id)
    with qtbot.wait_signal(window.inbox_actions.compose_opened, timeout=5000) as opened:
        press(qtbot, Qt.Key.Key_R, CTRL)
    reply = opened.args[0]
    qtbot.addWidget(reply)
    assert reply.subject_edit.text() == "Re: Travel plans" and reply.cc_edit.text() == ""
    reply.close()
    click_into(qtbot, window, window.inbox.threads)
    with qtbot.wait_signal(window.inbox_actions.compose_opened, timeout=5000) as opened:
        press(qtbot, Qt.Key.Key_R, CTRL | Qt.KeyboardModifier.ShiftModifier)
    reply_all = opened.args[0]
    qtbot.addWidget(reply_all)
    assert reply_all.windowTitle().startswith("Reply to all") and "carol@client.example" in reply_all.cc_edit.text()
    reply_all.close()


def test_ctrl_k_palette_lists_every_command_filters_as_you_type_and_enter_runs(qtbot, tmp_path, make_window):
    ws, _maildir, ann_id = read_workspace(tmp_path)
    window = inbox_window(make_window, qtbot, ws, ann_id)
    press(qtbot, Qt.Key.Key_K, CTRL)
    palette = window.command_palette
    assert palette is not None and palette.isVisible()
    assert "Ann Lee" in palette.windowTitle()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is palette.filter)  # once the window system has shown it
    listed = {c.name: c.keys_text() for c in palette.shown_commands()}
    registry = {c.name: c.keys_text() for c in window.commands.commands() if c.is_enabled()}
    assert listed == registry
    assert listed["archive"] == "E" and listed["reply"] == "Ctrl+R, R" and listed["make-task"] == "Ctrl+T"

    type_text(qtbot, "arch")
    assert [c.name for c in palette.shown_commands()] == ["archive"]
    type_text(qtbot, "\b\b\b\b")
    type_text(qtbot, "ctrl+t")  # by key, too
    assert [c.name for c in palette.shown_commands()] == ["make-task"]
    palette.filter.clear()
    type_text(qtbot, "arch")
    with qtbot.wait_signal(window.inbox_actions.changed, timeout=5000):
        press(qtbot, Qt.Key.Key_Return)
    assert not palette.isVisible() and palette.ran is not None and palette.ran.name == "archive"
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert [(op, p["to"]) for op, p in outbox_ops(ws)] == [("move", "archive")]
    assert subjects(window.inbox.model) == ["Board dinner", "Budget for Q3"]


def test_question_mark_opens_the_sheet_with_the_registrys_keys_and_help_has_it(qtbot, tmp_path, make_window):
    ws, _maildir, ann_id = read_workspace(tmp_path)
    window = inbox_window(make_window, qtbot, ws, ann_id)
    type_text(qtbot, "?")
    sheet = window.shortcut_sheet
    assert sheet is not None and sheet.isVisible()
    assert sheet.listed() == {c.name: c.keys_text() for c in window.commands.commands() if c.keys()}
    assert sheet.listed()["delete"] == "Del, #" and sheet.listed()["search"] == "Ctrl+F, /"
    sheet.close()

    help_entries = [a.text() for a in window.help_menu.actions()]
    assert "&Keyboard shortcuts" in help_entries
    window.shortcut_sheet_action.trigger()  # Help → Keyboard shortcuts
    assert window.shortcut_sheet is not sheet and window.shortcut_sheet.isVisible()
    window.shortcut_sheet.close()
    # the menus show the registry's keys: what the sheet says is what the Message menu says
    menu = {a.objectName(): a for a in window.message_menu.actions() if a.objectName()}
    assert menu["archive"].shortcut().toString() == "E" and menu["reply"].shortcut().toString() == "Ctrl+R"


def test_archive_with_e_then_ctrl_z_brings_the_thread_back(qtbot, tmp_path, make_window):
    ws, maildir, ann_id = read_workspace(tmp_path)
    window = inbox_window(make_window, qtbot, ws, ann_id)
    inbox_folder = window.inbox.model.folder
    with qtbot.wait_signal(window.inbox_actions.changed, timeout=5000):
        type_text(qtbot, "e")
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert subjects(window.inbox.model) == ["Board dinner", "Budget for Q3"]
    assert window.undo.last().text == "Archived 1 thread · Ann Lee"
    assert "Archived 1 thread" in window.undo_action.text()

    with qtbot.wait_signal(window.inbox_actions.changed, timeout=5000):
        press(qtbot, Qt.Key.Key_Z, CTRL)
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert subjects(window.inbox.model) == ["Travel plans", "Board dinner", "Budget for Q3"]
    assert [(op, p["to"]) for op, p in outbox_ops(ws)] == [("move", "archive"), ("move", inbox_folder)]
    assert outbox_ops(ws)[0][1]["remote_id"] == outbox_ops(ws)[1][1]["remote_id"]  # the same message, back
    assert not window.undo.can_undo() and not window.undo_action.isEnabled()
    thread = window.inbox.model.thread_at(0)
    assert thread.id in window.inbox_actions.pending  # the move back waits for the sync like any change
    assert window.inbox.model.index(0, ThreadListModel.SUBJECT).data() is not None
    with qtbot.wait_signal(window.sync_finished, timeout=20000):
        window.on_sync_now()
    qtbot.waitUntil(lambda: not window.tasks.busy and not window.inbox_actions.pending)
    assert (maildir / ".Archive").is_dir()  # the archive went out, then the move back
    assert not [f for sub in ("cur", "new") for f in (maildir / ".Archive" / sub).glob("*")]  # the mailbox has it back
    assert len(list((maildir / "cur").glob("*")) + list((maildir / "new").glob("*"))) == 3
    assert subjects(window.inbox.model) == ["Travel plans", "Board dinner", "Budget for Q3"]
    click_into(qtbot, window, window.inbox.threads)

    # Marks undo too: u flips the thread to unread, Ctrl+Z flips it back.
    window.inbox.threads.select_row(0)
    click_into(qtbot, window, window.inbox.threads)
    with qtbot.wait_signal(window.inbox_actions.changed, timeout=5000):
        type_text(qtbot, "u")
    qtbot.waitUntil(lambda: not window.tasks.busy and window.inbox.model.thread_at(0).unread_count == 1)
    with qtbot.wait_signal(window.inbox_actions.changed, timeout=5000):
        press(qtbot, Qt.Key.Key_Z, CTRL)
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert window.inbox.model.thread_at(0).unread_count == 0
    assert [p.get("is_read") for op, p in outbox_ops(ws) if op == "set-flags"] == [False, True]

    # Nothing left: Ctrl+Z says so and changes nothing.
    press(qtbot, Qt.Key.Key_Z, CTRL)
    qtbot.wait(100)
    assert len(outbox_ops(ws)) == 2 and not window.tasks.busy


def test_ctrl_z_in_the_board_is_the_boards_own(qtbot, tmp_path, make_window, workspace):
    from assistant.board import service as board

    ws, ann, _ken = workspace
    store = Store(ws)
    card = board.make_task(store, ann.id, "Ann: book dentist", column="To do")
    store.close()
    window = make_window(ws)
    window.select_principal(ann.id)
    window.undo.push("Archived 1 thread · Ann", lambda: None)  # something the window could undo as well
    window.views.setCurrentWidget(window.board)
    view = window.board
    qtbot.waitUntil(lambda: view.snapshot is not None and view.snapshot.principal.id == ann.id
                    and not window.tasks.busy)
    assert view.select_card(card.id)
    window.activateWindow()
    qtbot.waitUntil(lambda: view.isAncestorOf(QApplication.focusWidget()))
    press(qtbot, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: view.column_of(card.id) is None and not window.tasks.busy)
    press(qtbot, Qt.Key.Key_Z, CTRL)
    qtbot.waitUntil(lambda: "Ann: book dentist" in view.titles()["To do"] and not window.tasks.busy)
    assert window.undo.can_undo()  # the window's entry is still there, for Ctrl+Z outside the board


def test_the_undo_stack_api(qtbot):
    from assistant.ui.undo import UndoStack

    stack = UndoStack()
    ran: list[str] = []
    first = stack.push("one", lambda: ran.append("one"))
    with qtbot.wait_signal(stack.pushed) as pushed:
        second = stack.push("two", lambda: ran.append("two"))
    assert pushed.args == [second] and stack.last() is second
    assert stack.undo(first) is True and ran == ["one"]  # a notice's Undo: that entry, not the newest
    assert stack.undo(first) is False and ran == ["one"]  # never twice
    with qtbot.wait_signal(stack.undone) as undone:
        assert stack.undo_last() is second
    assert undone.args == [second] and ran == ["one", "two"]
    assert stack.undo_last() is None and not stack.can_undo()


def test_esc_closes_the_compose_window_keeping_what_was_typed(qtbot, tmp_path, make_window):
    """UX.md: Esc closes the topmost window. In compose, what was typed stays as a draft; an untouched one leaves none."""
    ws, _maildir, ann_id = read_workspace(tmp_path)
    window = inbox_window(make_window, qtbot, ws, ann_id)
    for typed in ("", "Thursday works."):
        click_into(qtbot, window, window.inbox.threads)
        with qtbot.wait_signal(window.inbox_actions.compose_opened, timeout=5000) as opened:
            type_text(qtbot, "r")
        compose = opened.args[0]
        qtbot.addWidget(compose)
        compose.activateWindow()
        compose.body.setFocus()
        if typed:
            qtbot.keyClicks(compose.body, typed)
        with qtbot.wait_signal(compose.closed, timeout=5000):
            qtbot.keyClick(compose.body, Qt.Key.Key_Escape)
        qtbot.waitUntil(lambda: not window.tasks.busy)
        assert not compose.isVisible()
        assert len(drafts(ws, ann_id)) == (1 if typed else 0)
