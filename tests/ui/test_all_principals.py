"""Across principals (issue 16): the sidebar's *All principals* lists every principal's inbox in one paged list, each
row tagged with its principal's colour and name, searched from the window's search box; and everything done from it —
reading, replying, the single keys — acts as the thread's own principal, never the one the window showed before."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt
from PySide6.QtGui import QFont
from PySide6.QtTest import QAbstractItemModelTester
from PySide6.QtWidgets import QApplication

from assistant.domain import Address, Folder, Message
from assistant.store import Store
from assistant.store import board as board_store
from assistant.store import mail as mail_store
from assistant.ui.mail.inbox import PAGE_SIZE, PrincipalRole, ThreadListModel, ThreadRowDelegate, format_when
from assistant.ui.mail.reader import Reader
from assistant.ui.sidebar import ALL_PRINCIPALS, AllPrincipalsRole, UnreadRole
from tests.ui.conftest import BASE, add_principal

ANN_COLOUR, KEN_COLOUR = "#e11d48", "#16a34a"


def build(tmp_path: Path, per_principal: int = 3) -> tuple[Path, dict, dict]:
    """Ann (New York) and Ken (Tokyo), each with an inbox, an archive and a trash; their inbox threads alternate in
    time, Ken's newest; each also has one thread that is only in the archive."""
    ws = tmp_path / "ws"
    store = Store(ws)
    people = {}
    for name, zone, colour in (("Ann", "America/New_York", ANN_COLOUR), ("Ken", "Asia/Tokyo", KEN_COLOUR)):
        principal, account = add_principal(store, name, zone, colour)
        scope = store.scope(principal.id)
        for remote_id, role in (("INBOX", "inbox"), ("Archive", "archive"), ("Trash", "trash")):
            mail_store.upsert_folder(scope, Folder(account.id, remote_id, remote_id, role))
        people[name] = {"principal": principal, "account": account}
    with store.transaction():
        for n in range(per_principal):
            for offset, name in ((0, "Ken"), (1, "Ann")):
                add_message(store, people[name], f"{name} matter {n}", BASE - timedelta(hours=2 * n + offset))
        for name in ("Ann", "Ken"):
            add_message(store, people[name], f"{name} archived", BASE + timedelta(hours=1), folders=["Archive"])
    store.close()
    return ws, people["Ann"], people["Ken"]


def add_message(store: Store, who: dict, subject: str, when, folders=("INBOX",)) -> None:
    p, a = who["principal"], who["account"]
    key = subject.replace(" ", "-").lower()
    mail_store.upsert_message(store.scope(p.id), Message(
        principal_id=p.id, account_id=a.id, remote_id=key, subject=subject,
        sender=Address(f"Client of {p.name}", f"client@{p.name.lower()}-clients.example"),
        to=[Address(p.name, p.primary_address)], date_utc=when, message_id_header=f"<{key}@example.org>",
        body_text=f"About {subject}", snippet=f"About {subject}", folders=list(folders),
    ))


def subjects(window) -> list[str]:
    model = window.inbox.model
    return [model.thread_at(r).subject for r in range(model.rowCount())]


def settle(qtbot, window, ms: int = 0) -> None:
    if ms:
        qtbot.wait(ms)
    qtbot.waitUntil(lambda: not window.tasks.busy)


def click_all_principals(qtbot, window) -> None:
    switcher = window.switcher
    index = window.principals.index(0)
    assert index.data() == ALL_PRINCIPALS and index.data(AllPrincipalsRole)
    qtbot.mouseClick(switcher.viewport(), Qt.MouseButton.LeftButton, pos=switcher.visualRect(index).center())
    assert window.showing_all_principals
    settle(qtbot, window)


def click_row(qtbot, window, row: int) -> None:
    threads = window.inbox.threads
    rect = threads.visualRect(window.inbox.model.index(row, ThreadListModel.SUBJECT))
    qtbot.mouseClick(threads.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def row_of(window, subject: str) -> int:
    return subjects(window).index(subject)


def focus_list(qtbot, window) -> None:
    window.activateWindow()
    window.inbox.threads.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.inbox.threads)


def press(qtbot, window, key: str) -> None:
    focus_list(qtbot, window)
    with qtbot.wait_signal(window.inbox_actions.changed, timeout=5000):
        qtbot.keyClicks(window.inbox.threads, key)
    settle(qtbot, window)


def outbox(ws: Path) -> list[tuple[int, int, str, dict]]:
    store = Store(ws)
    try:
        return [(e.principal_id, e.account_id, e.op, e.payload) for e in store.outbox(states=["pending"])]
    finally:
        store.close()


def test_all_principals_lists_every_inbox_newest_first_each_row_tagged(make_window, tmp_path, qtbot):
    ws, ann, ken = build(tmp_path)
    window = make_window(ws)
    assert window.current_principal.name == "Ann"
    sidebar = window.principals
    qtbot.waitUntil(lambda: sidebar.index(0).data(UnreadRole) == 8)  # every principal's unread threads

    click_all_principals(qtbot, window)
    assert window.windowTitle() == "All principals — Assistant"
    assert window.inbox.folders.currentItem().text() == "Inbox"
    assert subjects(window) == ["Ken matter 0", "Ann matter 0", "Ken matter 1", "Ann matter 1", "Ken matter 2",
                                "Ann matter 2"]  # newest first across principals; the archived ones are not in
    model = window.inbox.model
    delegate = window.inbox.threads.itemDelegate()
    assert isinstance(delegate, ThreadRowDelegate)
    people = {ann["principal"].id: ann["principal"], ken["principal"].id: ken["principal"]}
    tag_rects = set()
    for row in range(model.rowCount()):
        thread = model.thread_at(row)
        owner = people[thread.principal_id]
        assert model.index(row, 0).data(PrincipalRole) == owner
        assert model.index(row, ThreadListModel.SUBJECT).data(Qt.ItemDataRole.AccessibleTextRole).startswith(owner.name)
        # the date in the thread's own principal's zone
        assert model.index(row, ThreadListModel.DATE).data() == format_when(thread.last_date_utc, owner.timezone)
        rect = window.inbox.threads.visualRect(model.index(row, ThreadListModel.SUBJECT))
        pieces = {p.kind: p for p in delegate.pieces(thread, rect, window.inbox.threads.font())}
        tag, who, subject = pieces["tag"], pieces["who"], pieces["subject"]
        assert (tag.text, tag.colour) == (owner.name, owner.colour)  # the chip and the name
        assert tag.rect.right() < who.rect.left() and who.text == f"Client of {owner.name}"
        assert subject.text == thread.subject  # the subject keeps the whole line
        tag_rects.add((tag.rect.left(), tag.rect.width()))
    assert len(tag_rects) == 1  # one column of tags, the correspondents lined up after it
    # the reader names whose thread it shows
    qtbot.waitUntil(lambda: window.inbox.reader.subject.text() == "Ken matter 0")
    assert window.inbox.reader.owner.isVisible() and "Ken" in window.inbox.reader.owner_name.text()

    window.inbox.select_folder(None)  # "All mail": every thread of every principal
    settle(qtbot, window)
    assert subjects(window)[:2] == ["Ann archived", "Ken archived"] or subjects(window)[:2] == ["Ken archived",
                                                                                               "Ann archived"]
    assert len(subjects(window)) == 8

    # a principal's own list has no tags, as before
    window.select_principal(ken["principal"].id)
    settle(qtbot, window)
    assert not window.showing_all_principals and window.windowTitle().startswith("Ken")
    thread = model.thread_at(0)
    rect = window.inbox.threads.visualRect(model.index(0, ThreadListModel.SUBJECT))
    assert "tag" not in {p.kind for p in delegate.pieces(thread, rect, QFont())}
    assert not window.inbox.reader.owner.isVisible()


def test_the_merged_list_reads_a_page_then_more_as_it_scrolls(make_window, tmp_path, qtbot):
    ws, _ann, _ken = build(tmp_path, per_principal=70)  # 140 inbox threads
    window = make_window(ws)
    tester = QAbstractItemModelTester(window.inbox.model, QAbstractItemModelTester.FailureReportingMode.Warning)
    statements: list[str] = []
    window.store.db.set_trace_callback(statements.append)
    click_all_principals(qtbot, window)
    window.store.db.set_trace_callback(None)
    model = window.inbox.model
    assert model.rowCount() == PAGE_SIZE and model.canFetchMore(QModelIndex())
    pages = [s for s in statements if "FROM threads" in s]
    assert pages and all(f"LIMIT {PAGE_SIZE}" in s or "LIMIT 100" in s for s in pages)
    window.inbox.threads.scrollToBottom()
    qtbot.waitUntil(lambda: model.rowCount() == 140)
    dates = [model.thread_at(r).last_date_utc for r in range(model.rowCount())]
    assert dates == sorted(dates, reverse=True)
    window.search.setText("matter")
    qtbot.keyClick(window.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: model.search_query == "matter")
    window.search.clear()
    assert model.rowCount() == 140  # as many as were read, again
    del tester


def test_replying_from_all_principals_writes_as_the_threads_principal(make_window, tmp_path, qtbot):
    ws, ann, ken = build(tmp_path)
    window = make_window(ws)
    assert window.current_principal.name == "Ann"  # the window showed Ann's mail before
    click_all_principals(qtbot, window)

    click_row(qtbot, window, row_of(window, "Ken matter 1"))
    qtbot.waitUntil(lambda: window.inbox.reader.subject.text() == "Ken matter 1")
    settle(qtbot, window)
    focus_list(qtbot, window)
    with qtbot.wait_signal(window.inbox_actions.compose_opened, timeout=5000) as opened:
        qtbot.keyClicks(window.inbox.threads, "r")
    reply = opened.args[0]
    qtbot.addWidget(reply)
    assert reply.principal.id == ken["principal"].id
    assert reply.writing_as.label.accessibleName().startswith("Writing as Ken <ken@ken.example> · ")
    assert "in Tokyo" in reply.writing_as.label.accessibleName()
    assert [reply.from_box.itemData(i) for i in range(reply.from_box.count())] == [ken["account"].id]
    assert reply.from_box.currentData() == ken["account"].id
    assert reply.subject_edit.text() == "Re: Ken matter 1" and "client@ken-clients.example" in reply.to_edit.text()
    assert "Ken" in reply.windowTitle()
    reply._finished = True
    reply.close()

    # the next thread is Ann's: answered as Ann, with no click in between (j moves, a replies to all)
    focus_list(qtbot, window)
    qtbot.keyClicks(window.inbox.threads, "j")
    qtbot.waitUntil(lambda: window.inbox.reader.subject.text() == "Ann matter 1")
    with qtbot.wait_signal(window.inbox_actions.compose_opened, timeout=5000) as opened:
        qtbot.keyClicks(window.inbox.threads, "a")
    reply_all = opened.args[0]
    qtbot.addWidget(reply_all)
    assert reply_all.principal.id == ann["principal"].id
    assert reply_all.writing_as.label.accessibleName().startswith("Writing as Ann <ann@ann.example> · ")
    assert reply_all.from_box.currentData() == ann["account"].id
    reply_all._finished = True
    reply_all.close()


def test_the_single_keys_act_as_each_threads_own_principal(make_window, tmp_path, qtbot):
    ws, ann, ken = build(tmp_path)
    ann_id, ken_id = ann["principal"].id, ken["principal"].id
    window = make_window(ws)
    click_all_principals(qtbot, window)

    click_row(qtbot, window, row_of(window, "Ken matter 1"))
    qtbot.waitUntil(lambda: window.inbox.reader.subject.text() == "Ken matter 1")
    settle(qtbot, window)
    before = len(outbox(ws))
    press(qtbot, window, "e")  # archive Ken's thread, as Ken
    assert "Ken matter 1" not in subjects(window)
    (principal_id, account_id, op, payload), = outbox(ws)[before:]
    assert (principal_id, account_id, op, payload["to"]) == (ken_id, ken["account"].id, "move", "archive")
    assert window.notice.text().startswith("Archived 1 thread · Ken")
    current = window.inbox.model.thread_at(window.inbox.threads.currentIndex().row())
    assert current.subject == "Ann matter 1"  # the one below comes next, whoever's it is
    qtbot.waitUntil(lambda: window.inbox.reader.subject.text() == "Ann matter 1")

    before = len(outbox(ws))
    press(qtbot, window, "s")  # flag Ann's, as Ann
    (principal_id, account_id, op, payload), = outbox(ws)[before:]
    assert (principal_id, account_id, op, payload.get("is_flagged")) == (ann_id, ann["account"].id, "set-flags", True)
    before = len(outbox(ws))
    press(qtbot, window, "u")
    (principal_id, account_id, op, payload), = outbox(ws)[before:]
    assert (principal_id, op) == (ann_id, "set-flags") and "is_read" in payload

    # one Ann and one Ken thread selected together: each moved to its own principal's trash
    window.inbox.threads.select_row(row_of(window, "Ken matter 2"))
    window.inbox.threads.selectionModel().select(
        window.inbox.model.index(row_of(window, "Ann matter 0"), 0),
        QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
    before = len(outbox(ws))
    press(qtbot, window, "#")
    moves = sorted((p, a, payload["to"]) for p, a, op, payload in outbox(ws)[before:] if op == "move")
    assert moves == sorted([(ann_id, ann["account"].id, "trash"), (ken_id, ken["account"].id, "trash")])
    assert "Ken matter 2" not in subjects(window) and "Ann matter 0" not in subjects(window)
    assert "Ann" in window.notice.text() and "Ken" in window.notice.text()
    # Ctrl+Z puts both back, each as its own principal
    before = len(outbox(ws))
    with qtbot.wait_signal(window.inbox_actions.changed, timeout=5000):
        qtbot.keyClick(window.inbox.threads, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, window)
    back = sorted((p, payload["to"]) for p, _a, op, payload in outbox(ws)[before:] if op == "move")
    assert back == sorted([(ann_id, "INBOX"), (ken_id, "INBOX")])
    assert {"Ken matter 2", "Ann matter 0"} <= set(subjects(window))
    store = Store(ws)
    try:  # nothing of one principal's went into the other's folders
        for who in (ann, ken):
            scope = store.scope(who["principal"].id)
            for t in mail_store.threads(scope, 0, 100):
                assert all(m.account_id == who["account"].id for m in mail_store.thread_messages(scope, t.id))
    finally:
        store.close()


def test_reading_in_all_principals_marks_read_as_the_threads_principal(make_window, tmp_path, qtbot):
    ws, ann, ken = build(tmp_path)
    window = make_window(ws)
    click_all_principals(qtbot, window)
    qtbot.waitUntil(lambda: window.inbox.reader.subject.text() == "Ken matter 0")
    settle(qtbot, window, 2 * Reader.MARK_READ_AFTER_MS)
    assert outbox(ws) == []  # the top thread is shown because the app chose it: not read
    row = row_of(window, "Ken matter 2")
    click_row(qtbot, window, row)
    qtbot.waitUntil(lambda: window.inbox.model.thread_at(row).unread_count == 0, timeout=5000)
    settle(qtbot, window)
    (principal_id, account_id, op, payload), = outbox(ws)
    assert (principal_id, account_id, op, payload["is_read"]) == (ken["principal"].id, ken["account"].id,
                                                                  "set-flags", True)
    assert window.current_principal.id == ken["principal"].id  # the Message menu now acts for Ken
    with qtbot.wait_signal(window.board.card_made, timeout=5000) as made:
        window.message_actions["make-task"].trigger()  # Ctrl+T: on Ken's board, not Ann's
    assert made.args[0].principal_id == ken["principal"].id and made.args[0].title
    store = Store(ws)
    try:
        assert [c.title for c in board_store.cards(store.scope(ann["principal"].id))] == []
    finally:
        store.close()


def test_search_across_principals_from_the_search_box(make_window, tmp_path, qtbot):
    ws, ann, ken = build(tmp_path)
    window = make_window(ws)
    window.search.setText("matter 1")
    qtbot.keyClick(window.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.inbox.model.search_query == "matter 1")
    assert subjects(window) == ["Ann matter 1"]  # one principal's search: theirs only

    click_all_principals(qtbot, window)
    assert window.search.text() == ""
    window.search.setText("matter 1")
    qtbot.keyClick(window.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.inbox.model.search_query == "matter 1")
    assert subjects(window) == ["Ken matter 1", "Ann matter 1"]
    model = window.inbox.model
    assert [model.index(r, 0).data(PrincipalRole).name for r in range(2)] == ["Ken", "Ann"]
    delegate = window.inbox.threads.itemDelegate()
    tags = [next(p for p in delegate.pieces(model.thread_at(r), window.inbox.threads.visualRect(model.index(r, 0)),
                                            window.inbox.threads.font()) if p.kind == "tag").text for r in range(2)]
    assert tags == ["Ken", "Ann"]
    window.search.setText("archived")  # every folder, as one principal's search does
    qtbot.keyClick(window.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.inbox.model.search_query == "archived")
    assert sorted(subjects(window)) == ["Ann archived", "Ken archived"]
    window.search.clear()
    settle(qtbot, window)
    assert len(subjects(window)) == 6 and window.showing_all_principals


def test_a_tab_of_one_principal_goes_back_to_the_principal_last_read(make_window, tmp_path, qtbot):
    ws, ann, ken = build(tmp_path)
    window = make_window(ws)
    click_all_principals(qtbot, window)
    click_row(qtbot, window, row_of(window, "Ken matter 1"))
    qtbot.waitUntil(lambda: window.inbox.reader.subject.text() == "Ken matter 1")
    window.views.setCurrentWidget(window.calendar)  # the calendar has an All-principals grid: it stays on everyone
    assert window.showing_all_principals and window.calendar.all_principals
    with qtbot.wait_signal(window.principal_changed) as changed:
        window.views.setCurrentWidget(window.board)  # one principal's board: Ken's, whose thread was read
    assert changed.args == [ken["principal"].id]
    assert not window.showing_all_principals and window.windowTitle().startswith("Ken")
    assert window.switcher.currentIndex().row() == window.principals.row_of(ken["principal"].id)
    settle(qtbot, window)
    assert sorted(subjects(window)) == ["Ken archived", "Ken matter 0", "Ken matter 1", "Ken matter 2"] or sorted(
        subjects(window)) == ["Ken matter 0", "Ken matter 1", "Ken matter 2"]

    # All principals is remembered across a restart
    click_all_principals(qtbot, window)
    window.close()
    again = make_window(ws, size=None)
    assert again.showing_all_principals and again.switcher.currentIndex().row() == 0
    assert subjects(again)[0] == "Ken matter 0"


def test_previous_principal_from_the_first_reaches_all_principals(make_window, tmp_path, qtbot):
    ws, ann, _ken = build(tmp_path)
    window = make_window(ws)
    window.select_principal(ann["principal"].id)
    window.previous_principal_action.trigger()
    assert window.showing_all_principals
    window.next_principal_action.trigger()
    assert not window.showing_all_principals and window.current_principal.id == ann["principal"].id


def test_one_principal_has_no_all_principals_row(make_window, tmp_path, qtbot):
    ws = tmp_path / "ws"
    store = Store(ws)
    add_principal(store, "Ann", "America/New_York", ANN_COLOUR)
    store.close()
    window = make_window(ws)
    assert window.principals.rowCount() == 1 and window.principals.all_row == -1
    assert window.principals.index(0).data() == "Ann"
    window.previous_principal_action.trigger()
    assert not window.showing_all_principals and window.current_principal.name == "Ann"
