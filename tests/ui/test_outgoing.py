"""The Outgoing tab with real widgets: drafts, scheduled sends and the outbox, per principal and across principals;
Undo send, Send now, Reschedule, Cancel send, Retry send, Delete and Edit, as a user clicks them."""
from __future__ import annotations

import mailbox
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QAbstractItemModelTester
from PySide6.QtWidgets import QMessageBox

from assistant.approvals import drafts, lifecycle
from assistant.connectors.local import LocalConnector
from assistant.core.errors import PermanentError
from assistant.core.timezones import in_zone, now_utc
from assistant.domain import Account, ApprovalPolicy, Principal
from assistant.store import Store
from assistant.store import drafts as sql
from assistant.sync.engine import sync_account
from assistant.ui.outgoing.view import OutgoingView, load_outgoing
from assistant.ui.workers import TaskManager


class RefusingSends(LocalConnector):
    """The local connector, but the provider refuses every send for good (as Gmail's 400 does)."""

    def apply(self, entry):
        if entry.op == "send":
            raise PermanentError("550 5.1.1 mailbox unavailable")
        return super().apply(entry)


@pytest.fixture
def outgoing(tmp_path, monkeypatch):
    """Ann (New York, never asked): a draft, a send tomorrow at 9 her time, a send in its undo window and a send the
    provider refused. Kenji (Tokyo, always asked): a draft he rejected."""
    monkeypatch.setenv("TZ", "Europe/Berlin")  # the assistant's own zone
    ws = tmp_path / "ws"
    store = Store(ws)
    ids: dict[str, int] = {}
    accounts = {}
    for name, zone, colour, policy in (("Ann", "America/New_York", "#e11d48", ApprovalPolicy.NEVER),
                                       ("Kenji", "Asia/Tokyo", "#16a34a", ApprovalPolicy.ALWAYS)):
        maildir = tmp_path / f"{name}-mail"
        mailbox.Maildir(maildir, create=True)
        p = store.add_principal(Principal(name, zone, [f"{name.lower()}@example.com"], colour=colour,
                                          approval_policy=policy))
        accounts[name] = store.add_account(Account(p.id, "local", f"{name.lower()}@example.com",
                                                   settings={"maildir": str(maildir)}))
        ids[name] = p.id
    ann, account = ids["Ann"], accounts["Ann"]
    scope = store.scope(ann)
    sql.save_settings(scope, sql.ApprovalSettings(ann, undo_seconds=0))
    refused = drafts.save_draft(store, ann, account.id, to="gone@example.org", subject="Refused", body_text="Hi")
    drafts.submit_draft(store, ann, refused.id)
    sync_account(store, account.id, RefusingSends(account))
    assert drafts.get_draft(store, ann, refused.id).state == "failed"
    sql.save_settings(scope, sql.ApprovalSettings(ann, undo_seconds=60))
    plain = drafts.save_draft(store, ann, account.id, to="bob@example.org", subject="Plain", body_text="Not yet")
    later = drafts.save_draft(store, ann, account.id, to="Bob <bob@example.org>", cc="carol@example.org",
                              subject="Later", body_text="Tomorrow it goes")
    tomorrow_nine = in_zone(now_utc(), "America/New_York").replace(hour=9, minute=0, second=0, microsecond=0) \
        + timedelta(days=1)
    assert drafts.submit_draft(store, ann, later.id, send_at=tomorrow_nine) == "scheduled"
    queued = drafts.save_draft(store, ann, account.id, to="bob@example.org", subject="Queued", body_text="Now")
    assert drafts.submit_draft(store, ann, queued.id) == "sending"
    rejected = drafts.save_draft(store, ids["Kenji"], accounts["Kenji"].id, to="yuki@example.jp", subject="Offer",
                                 body_text="Yes")
    drafts.submit_draft(store, ids["Kenji"], rejected.id)
    lifecycle.approve_in_person(store, ids["Kenji"], rejected.id, decision="reject", comment="not so fast")
    store.close()
    ids.update(refused=refused.id, plain=plain.id, later=later.id, queued=queued.id, rejected=rejected.id)
    return ws, ids


@pytest.fixture
def view(qtbot, outgoing):
    ws, ids = outgoing
    tasks = TaskManager(ws)
    widget = OutgoingView(tasks)
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    QAbstractItemModelTester(widget.model, QAbstractItemModelTester.FailureReportingMode.Warning)
    with qtbot.waitSignal(widget.loaded):
        widget.set_principal_id(ids["Ann"])
    yield widget, ids, ws
    qtbot.waitUntil(lambda: not tasks.busy)
    tasks.shutdown()


def shown(widget):
    return [[widget.model.index(r, c).data() for c in (0, 1, 5)] for r in range(widget.model.rowCount())]


def select(qtbot, widget, subject):
    row = next(r for r in range(widget.model.rowCount()) if widget.model.row_at(r).subject == subject)
    with qtbot.waitSignal(widget.preview_loaded):
        widget.table.selectRow(row)


def state_of(ws, principal_id, draft_id):
    store = Store(ws)
    try:
        return drafts.get_draft(store, principal_id, draft_id)
    finally:
        store.close()


def test_load_outgoing_says_what_goes_out_from_where_to_whom_and_when(outgoing):
    ws, ids = outgoing
    store = Store(ws)
    try:
        rows = load_outgoing(store, ids["Ann"])
        assert [(r.section, r.subject, r.state) for r in rows] == [
            ("drafts", "Plain", "draft"), ("scheduled", "Later", "scheduled"), ("outbox", "Refused", "failed"),
            ("outbox", "Queued", "sending")]
        later = rows[1]
        assert later.sender == "Ann <ann@example.com>" and later.to == "Bob <bob@example.org>, carol@example.org"
        assert (in_zone(later.when_utc, "America/New_York").hour, later.send_where) == (9, "app")
        assert rows[2].error == "550 5.1.1 mailbox unavailable"
        assert 50 < (rows[3].undo_until - now_utc()).total_seconds() <= 60
        everyone = load_outgoing(store, None)
        kenji = next(r for r in everyone if r.principal == "Kenji")
        assert (kenji.section, kenji.state, kenji.comment, kenji.colour) == ("drafts", "rejected", "not so fast",
                                                                             "#16a34a")
        assert {r.principal for r in everyone} == {"Ann", "Kenji"}
    finally:
        store.close()


def test_sections_per_principal_and_across_each_row_tagged_with_its_principal(qtbot, view):
    widget, ids, _ = view
    assert [widget.sections.tabText(i) for i in range(3)] == ["Drafts (1)", "Scheduled (1)", "Outbox (2)"]
    assert shown(widget) == [["Ann", "Plain", "draft"]]
    widget.sections.setCurrentIndex(1)
    assert widget.model.headerData(3, Qt.Orientation.Horizontal) == "Sends (their time)"
    assert widget.model.headerData(4, Qt.Orientation.Horizontal) == "Your time"
    theirs, mine = widget.model.index(0, 3).data(), widget.model.index(0, 4).data()
    assert "09:00 E" in theirs and theirs.endswith(("EST", "EDT"))  # Ann's zone, labelled
    assert mine.endswith(("CET", "CEST"))  # and the assistant's
    assert widget.model.index(0, 5).data() == "scheduled"
    assert "it must be running then" in widget.model.index(0, 5).data(Qt.ItemDataRole.ToolTipRole)
    assert widget.model.index(0, 2).data() == "Bob, carol@example.org"  # names; in full in the tooltip
    assert widget.model.index(0, 2).data(Qt.ItemDataRole.ToolTipRole) == "Bob <bob@example.org>, carol@example.org"
    assert widget.later_button.text() == "Reschedule…" and widget.cancel_button.isVisible()
    select(qtbot, widget, "Later")
    text = widget.preview.toPlainText()
    assert "From\nAnn <ann@example.com>" in text and "To\nBob <bob@example.org>" in text
    assert "Cc\ncarol@example.org" in text and "Tomorrow it goes" in text
    assert "their time ·" in text and "yours — this app sends it: keep it running" in text

    with qtbot.waitSignal(widget.loaded):
        widget.all_principals.setChecked(True)
    assert widget.sections.tabText(0) == "Drafts (2)"
    widget.sections.setCurrentIndex(0)
    assert sorted(shown(widget)) == [["Ann", "Plain", "draft"], ["Kenji", "Offer", "rejected: “not so fast”"]]
    kenji = next(r for r in range(widget.model.rowCount()) if widget.model.row_at(r).principal == "Kenji")
    assert widget.model.index(kenji, 0).data(Qt.ItemDataRole.DecorationRole) == QColor("#16a34a")
    assert widget.summary.text() == "2 drafts · 1 scheduled · 2 in the outbox (1 failed) — all principals"


def test_undo_send_takes_it_back_and_send_now_queues_it_again(qtbot, view):
    widget, ids, ws = view
    widget.sections.setCurrentIndex(2)
    assert shown(widget)[0][2] == "failed: 550 5.1.1 mailbox unavailable"  # failed first
    assert shown(widget)[1][1] == "Queued" and shown(widget)[1][2].startswith("sending in ")
    assert not widget.undo_button.isEnabled()
    select(qtbot, widget, "Queued")
    assert widget.undo_button.isEnabled() and widget.undo_button.text().startswith("Undo send (")
    assert "(until then: Undo send)" in widget.preview.toPlainText()
    with qtbot.waitSignal(widget.acted), qtbot.waitSignal(widget.loaded):
        qtbot.mouseClick(widget.undo_button, Qt.MouseButton.LeftButton)
    assert state_of(ws, ids["Ann"], ids["queued"]).state == "approved"
    assert "Send undone" in widget.status.text()
    # it is followed to Drafts, selected, where it can be sent again
    assert widget.current_section() == "drafts" and widget.current_row().subject == "Queued"
    assert widget.model.index(widget.table.currentIndex().row(), 5).data() == "approved, not sent"
    with qtbot.waitSignal(widget.acted), qtbot.waitSignal(widget.loaded):
        qtbot.mouseClick(widget.send_now_button, Qt.MouseButton.LeftButton)
    assert state_of(ws, ids["Ann"], ids["queued"]).state == "sending"
    assert widget.current_section() == "outbox" and widget.current_row().subject == "Queued"
    assert widget.undo_button.isEnabled()


def test_reschedule_cancel_and_send_now_a_scheduled_send(qtbot, view):
    widget, ids, ws = view
    widget.sections.setCurrentIndex(1)
    select(qtbot, widget, "Later")
    dialog = widget.on_send_later()
    assert dialog.windowTitle() == "Reschedule — for Ann" and dialog.when.text().endswith("09:00")
    dialog.when.setText("tomorrow 10:30")
    with qtbot.waitSignal(widget.acted), qtbot.waitSignal(widget.loaded):
        dialog.accept()
    moved = state_of(ws, ids["Ann"], ids["later"])
    assert moved.state == "scheduled"
    assert (in_zone(moved.send_at_utc, "America/New_York").hour, in_zone(moved.send_at_utc, "America/New_York")
            .minute) == (10, 30)
    assert "10:30" in widget.model.index(0, 3).data()

    with qtbot.waitSignal(widget.acted), qtbot.waitSignal(widget.loaded):
        qtbot.mouseClick(widget.cancel_button, Qt.MouseButton.LeftButton)
    assert state_of(ws, ids["Ann"], ids["later"]).state == "approved"
    assert widget.current_section() == "drafts" and widget.current_row().subject == "Later"
    assert "will not be sent" in widget.status.text()

    dialog = widget.on_send_later()  # from Drafts: Send later… schedules it again
    assert dialog.windowTitle() == "Send later — for Ann"
    dialog.when.setText("in 2 hours")
    with qtbot.waitSignal(widget.acted), qtbot.waitSignal(widget.loaded):
        dialog.accept()
    assert state_of(ws, ids["Ann"], ids["later"]).state == "scheduled"
    assert widget.current_section() == "scheduled"
    with qtbot.waitSignal(widget.acted), qtbot.waitSignal(widget.loaded):
        qtbot.mouseClick(widget.send_now_button, Qt.MouseButton.LeftButton)
    assert state_of(ws, ids["Ann"], ids["later"]).state == "sending"
    assert widget.current_section() == "outbox"


def test_retry_a_refused_send(qtbot, view):
    widget, ids, ws = view
    widget.sections.setCurrentIndex(2)
    select(qtbot, widget, "Refused")
    assert "Failed: 550 5.1.1 mailbox unavailable" in widget.preview.toPlainText()
    assert widget.retry_button.isEnabled() and not widget.undo_button.isEnabled()
    with qtbot.waitSignal(widget.retried), qtbot.waitSignal(widget.loaded):
        qtbot.mouseClick(widget.retry_button, Qt.MouseButton.LeftButton)
    assert state_of(ws, ids["Ann"], ids["refused"]).state == "sending"
    assert "sent again" in widget.status.text()


def test_delete_asks_once_and_the_delete_key_does_it_too(qtbot, view):
    widget, ids, ws = view
    select(qtbot, widget, "Plain")
    widget.table.setFocus()
    qtbot.keyClick(widget.table, Qt.Key.Key_Delete)
    box = widget.confirm_box
    assert box is not None and box.isVisible() and box.windowTitle() == "Delete draft — Ann"
    assert "“Plain” to bob@example.org" in box.text()
    box.button(QMessageBox.StandardButton.Cancel).click()
    qtbot.waitUntil(lambda: not widget.tasks.busy)
    assert state_of(ws, ids["Ann"], ids["plain"]).state == "draft"
    box = widget.on_delete()
    (delete,) = [b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.DestructiveRole]
    with qtbot.waitSignal(widget.acted), qtbot.waitSignal(widget.loaded):
        delete.click()
    assert shown(widget) == []
    assert "No drafts" in widget.preview.toPlainText()


def test_edit_opens_the_draft_in_compose_through_the_window(qtbot, outgoing, make_window):
    ws, ids = outgoing
    window = make_window(ws)
    window.select_principal(ids["Ann"])
    window.views.setCurrentWidget(window.outgoing)
    qtbot.waitUntil(lambda: window.outgoing.model.rowCount() == 1)
    window.outgoing.sections.setCurrentIndex(1)
    window.outgoing.table.selectRow(0)
    with qtbot.wait_signal(window.inbox_actions.compose_opened, timeout=5000) as opened:
        qtbot.mouseClick(window.outgoing.edit_button, Qt.MouseButton.LeftButton)
    compose = opened.args[0]
    qtbot.addWidget(compose)
    assert compose.draft_id == ids["later"] and compose.subject_edit.text() == "Later"
    assert compose.body.toPlainText() == "Tomorrow it goes"
    compose.close()
    qtbot.waitUntil(lambda: not window.tasks.busy)


def test_the_undo_window_counts_down_and_closes(qtbot, view):
    widget, ids, ws = view
    store = Store(ws)
    try:
        account = store.accounts(ids["Ann"])[0]
        sql.save_settings(store.scope(ids["Ann"]), sql.ApprovalSettings(ids["Ann"], undo_seconds=2))
        d = drafts.save_draft(store, ids["Ann"], account.id, to="bob@example.org", subject="Quick", body_text="Hi")
        drafts.submit_draft(store, ids["Ann"], d.id)
    finally:
        store.close()
    widget.show_section("outbox")
    with qtbot.waitSignal(widget.loaded):
        widget.reload()
    select(qtbot, widget, "Quick")
    assert widget.undo_button.isEnabled() and widget.undo_button.text() in ("Undo send (2 s)", "Undo send (1 s)")
    qtbot.waitUntil(lambda: not widget.undo_button.isEnabled(), timeout=5000)
    qtbot.waitUntil(lambda: widget.current_row() is not None and widget.current_row().undo_until is None)
    row = widget.table.currentIndex().row()
    assert widget.model.index(row, 5).data() == "sending" and widget.undo_button.text() == "Undo send"


# -- the other changes: marks, moves, calendar writes --------------------------------------------------------------------
class RefusingMoves(LocalConnector):
    """The local connector, but the provider refuses every move for good."""

    def apply(self, entry):
        if entry.op == "move":
            raise PermanentError("403 folder is read-only")
        return super().apply(entry)


@pytest.fixture
def changes(outgoing, tmp_path):
    """On top of the drafts: Ann's message marked read and archived (the archive refused by the provider), and an
    event made for Kenji; none of them sent yet."""
    from datetime import UTC, datetime
    from email.message import EmailMessage

    from assistant.store import mail as mail_store
    from assistant.sync import actions

    ws, ids = outgoing
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Bob <bob@example.org>", "ann@example.com", "Budget figures"
    message["Message-ID"] = "<budget@example.org>"
    message.set_content("The numbers.")
    mailbox.Maildir(tmp_path / "Ann-mail").add(message)
    store = Store(ws)
    try:
        ann_account = next(a for a in store.accounts() if a.principal_id == ids["Ann"])
        kenji_account = next(a for a in store.accounts() if a.principal_id == ids["Kenji"])
        sync_account(store, ann_account.id, LocalConnector(ann_account))
        budget = next(m for m in mail_store.search_messages(store.scope(ids["Ann"]), "Budget"))
        actions.move_message(store, budget.id, ids["Ann"], "archive")
        sync_account(store, ann_account.id, RefusingMoves(ann_account))  # the move fails for good; the sends go
        actions.mark_read(store, budget.id, ids["Ann"])
        start = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
        actions.create_event(store, ids["Kenji"], kenji_account.id, summary="Board call", start=start,
                             end=start + timedelta(hours=1))
        ids.update(ann_account=ann_account.id)
    finally:
        store.close()
    return ws, ids


def test_other_changes_are_listed_in_a_section_of_their_own_with_retry_for_failed_ones(qtbot, changes):
    ws, ids = changes
    tasks = TaskManager(ws)
    widget = OutgoingView(tasks)
    qtbot.addWidget(widget)
    widget.resize(1280, 700)
    widget.show()
    QAbstractItemModelTester(widget.changes_model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    try:
        with qtbot.waitSignal(widget.loaded):
            widget.set_principal_id(ids["Ann"])
        assert widget.sections.tabText(3) == "Changes (2)"
        assert widget.sections.tabTextColor(3) == QColor("#c2410c")  # one of them failed
        assert "2 other changes (1 failed)" in widget.summary.text()
        with qtbot.waitSignal(widget.changes_loaded):
            widget.show_section("changes")
        assert widget.changes_table.isVisible() and not widget.table.isVisible() and not widget.preview.isVisible()
        rows = [[widget.changes_model.index(r, c).data() for c in (0, 1, 2, 5)]
                for r in range(widget.changes_model.rowCount())]
        assert rows == [["Ann", "Move to Archive: “Budget figures”", "ann@example.com",
                         "failed: 403 folder is read-only"],
                        ["Ann", "Mark read: “Budget figures”", "ann@example.com", "waiting for the next sync"]]
        assert widget.changes_model.index(0, 3).data()  # queued: in her time, and in yours beside it
        assert widget.changes_model.index(0, 4).data()
        assert widget.retry_change_button.isVisible() and not widget.retry_change_button.isEnabled()
        assert not widget.edit_button.isVisible() and not widget.delete_button.isVisible()

        widget.changes_table.selectRow(1)  # waiting: nothing to retry
        assert not widget.retry_change_button.isEnabled()
        widget.changes_table.selectRow(0)
        assert widget.retry_change_button.isEnabled()
        with qtbot.waitSignal(widget.change_retried) as retried, qtbot.waitSignal(widget.changes_loaded):
            qtbot.mouseClick(widget.retry_change_button, Qt.MouseButton.LeftButton)
        store = Store(ws)
        try:
            assert store.outbox_entry(retried.args[0]).state == "pending"
        finally:
            store.close()
        assert "queued again" in widget.status.text()
        assert [widget.changes_model.index(r, 5).data() for r in range(2)] == ["waiting for the next sync"] * 2
        assert widget.sections.tabText(3) == "Changes (2)" and widget.sections.tabTextColor(3) != QColor("#c2410c")

        with qtbot.waitSignal(widget.changes_loaded):
            widget.all_principals.setChecked(True)  # everyone's: Kenji's event too, tagged with his name
        assert [(widget.changes_model.index(r, 0).data(), widget.changes_model.index(r, 1).data())
                for r in range(widget.changes_model.rowCount())][-1] == ("Kenji", "Create event: “Board call”")
        assert widget.changes_model.index(2, 0).data(Qt.ItemDataRole.DecorationRole) == QColor("#16a34a")

        # A sync sends them: the list empties by itself (the outbox changed).
        def sync_ann(store):
            account = store.account(ids["ann_account"])
            return sync_account(store, account.id, LocalConnector(account))

        with qtbot.waitSignal(widget.changes_loaded, timeout=10000):
            tasks.run(sync_ann)
        assert [widget.changes_model.index(r, 0).data() for r in range(widget.changes_model.rowCount())] == ["Kenji"]
        with qtbot.waitSignal(widget.changes_loaded):
            widget.all_principals.setChecked(False)  # Ann's alone: nothing left, and it says so
        assert widget.changes_model.rowCount() == 0 and widget.changes_empty.isVisible()
        assert not widget.changes_table.isVisible()
        widget.show_section("outbox")
        assert widget.table.isVisible() and widget.preview.isVisible()
        assert all(r.subject != "Budget figures" for r in widget.rows)  # marks and moves are not drafts
    finally:
        qtbot.waitUntil(lambda: not tasks.busy)
        tasks.shutdown()
