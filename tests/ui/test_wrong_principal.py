"""The compose window's Send asks before writing as one principal to another principal's correspondent (the real
window, compose and worker; the workspace made by the local connector's own sync)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from assistant.store import drafts as draft_sql
from assistant.ui.workers import TaskManager
from tests.ui.test_compose import build_workspace


@contextmanager
def shown(qtbot, ws, view_class, *, size: tuple[int, int] | None = None) -> Iterator[tuple[Any, TaskManager]]:
    """A view of the window's (Outgoing, Approvals) on a worker of its own, shown; the worker is stopped after."""
    tasks = TaskManager(ws)
    widget = view_class(tasks)
    qtbot.addWidget(widget)
    if size is not None:
        widget.resize(*size)
    widget.show()
    try:
        yield widget, tasks
    finally:
        qtbot.waitUntil(lambda: not tasks.busy)
        tasks.shutdown()


def new_message(qtbot, window, to: str):
    with qtbot.wait_signal(window.inbox_actions.compose_opened, timeout=5000) as opened:
        window.message_actions["new"].trigger()
    compose = opened.args[0]
    qtbot.addWidget(compose)
    compose.to_edit.setText(to)
    compose.subject_edit.setText("Hello")
    qtbot.keyClicks(compose.body, "A word.")
    return compose


def test_send_to_kens_correspondent_as_ann_asks_and_cancel_keeps_the_draft(qtbot, tmp_path, make_window):
    ws, _maildir, ann_id, _ken_id = build_workspace(tmp_path)
    window = make_window(ws)
    window.select_principal(ann_id)
    compose = new_message(qtbot, window, "Bobby <bobby@secret.example>")
    qtbot.mouseClick(compose.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: compose.principal_box is not None, timeout=5000)
    box = compose.principal_box
    assert box.text() == ("bobby@secret.example has corresponded only with Ken Sato, never with Ann Lee: "
                          "it would go from Ann Lee's account.")
    assert "\n" not in box.text()
    assert "Ann Lee" in box.windowTitle()
    assert sorted(b.text() for b in box.buttons()) == ["Cancel", "Send anyway"]
    with qtbot.assert_not_emitted(compose.submitted, wait=300):
        box.button(QMessageBox.StandardButton.Cancel).click()
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert compose.send_button.isEnabled() and compose.isVisible()
    [d] = draft_sql.list_drafts(window.store.scope(ann_id))
    assert d.state == "draft"

    qtbot.mouseClick(compose.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: compose.principal_box is not None, timeout=5000)
    send = next(b for b in compose.principal_box.buttons() if b.text() == "Send anyway")
    with qtbot.wait_signal(compose.submitted, timeout=5000) as submitted:
        send.click()
    assert submitted.args[1] == "sending"


def test_send_to_anns_own_correspondent_does_not_ask(qtbot, tmp_path, make_window):
    ws, _maildir, ann_id, _ken_id = build_workspace(tmp_path)
    window = make_window(ws)
    window.select_principal(ann_id)
    compose = new_message(qtbot, window, "Bob Stone <bob@client.example>")
    with qtbot.wait_signal(compose.submitted, timeout=5000) as submitted:
        qtbot.mouseClick(compose.send_button, Qt.MouseButton.LeftButton)
    assert submitted.args[1] == "sending" and compose.principal_box is None


def test_ask_approval_to_kens_correspondent_asks_too(qtbot, tmp_path, make_window):
    from tests.ui.test_approvals_compose import approval_buttons

    ws, _maildir, ann_id, _ken_id = build_workspace(tmp_path)
    window = make_window(ws)
    window.select_principal(ann_id)
    compose = new_message(qtbot, window, "bobby@secret.example")
    qtbot.mouseClick(approval_buttons(compose).ask_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: compose.principal_box is not None, timeout=5000)
    assert "never with Ann Lee" in compose.principal_box.text()
    with qtbot.assert_not_emitted(compose.submitted, wait=300):
        compose.principal_box.button(QMessageBox.StandardButton.Cancel).click()
    qtbot.waitUntil(lambda: not window.tasks.busy)
    [d] = draft_sql.list_drafts(window.store.scope(ann_id))
    assert d.state == "draft"
    compose._finished = True
    compose.close()


def draft_to_kens_correspondent(ws, ann_id: int, *, submit: bool = False) -> int:
    """A draft as Ann to an address that has only ever corresponded with Ken (saved as compose saves it)."""
    from assistant.approvals import drafts
    from assistant.store import Store

    store = Store(ws)
    try:
        [account] = store.accounts(ann_id)
        d = drafts.save_draft(store, ann_id, account.id, to="Bobby <bobby@secret.example>", subject="Hello",
                              body_text="A word.")
        if submit:
            drafts.submit_draft(store, ann_id, d.id)
        return d.id
    finally:
        store.close()


def draft_state(ws, ann_id: int, draft_id: int) -> str:
    from assistant.approvals import drafts
    from assistant.store import Store

    store = Store(ws)
    try:
        return drafts.get_draft(store, ann_id, draft_id).state
    finally:
        store.close()


def test_outgoing_send_now_to_kens_correspondent_as_ann_asks_and_cancel_sends_nothing(qtbot, tmp_path):
    from assistant.ui.outgoing.view import OutgoingView

    ws, _maildir, ann_id, _ken_id = build_workspace(tmp_path)
    draft_id = draft_to_kens_correspondent(ws, ann_id)
    with shown(qtbot, ws, OutgoingView, size=(1000, 700)) as (widget, tasks):
        with qtbot.waitSignal(widget.loaded):
            widget.set_principal_id(ann_id)
        with qtbot.waitSignal(widget.preview_loaded):
            widget.table.selectRow(0)
        assert widget.current_row().draft_id == draft_id
        with qtbot.assert_not_emitted(widget.acted, wait=300):
            qtbot.mouseClick(widget.send_now_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: widget.principal_box is not None, timeout=5000)
            box = widget.principal_box
            assert box.text() == ("bobby@secret.example has corresponded only with Ken Sato, never with Ann Lee: "
                                  "it would go from Ann Lee's account.")
            assert "Ann Lee" in box.windowTitle()
            assert sorted(b.text() for b in box.buttons()) == ["Cancel", "Send anyway"]
            box.button(QMessageBox.StandardButton.Cancel).click()
        qtbot.waitUntil(lambda: not tasks.busy)
        assert widget.principal_box is None
        assert draft_state(ws, ann_id, draft_id) == "draft"
        assert widget.status.text() == "Not sent: “Hello” is still a draft for Ann Lee."

        qtbot.mouseClick(widget.send_now_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: widget.principal_box is not None, timeout=5000)
        send = next(b for b in widget.principal_box.buttons() if b.text() == "Send anyway")
        with qtbot.waitSignal(widget.acted, timeout=5000) as acted:
            send.click()
        assert acted.args == [draft_id, "sending"]
        assert draft_state(ws, ann_id, draft_id) == "sending"


def test_outgoing_send_now_to_anns_own_correspondent_does_not_ask(qtbot, tmp_path):
    from assistant.approvals import drafts
    from assistant.store import Store
    from assistant.ui.outgoing.view import OutgoingView

    ws, _maildir, ann_id, _ken_id = build_workspace(tmp_path)
    store = Store(ws)
    [account] = store.accounts(ann_id)
    draft_id = drafts.save_draft(store, ann_id, account.id, to="bob@client.example", subject="Hi", body_text="x").id
    store.close()
    with shown(qtbot, ws, OutgoingView) as (widget, tasks):
        with qtbot.waitSignal(widget.loaded):
            widget.set_principal_id(ann_id)
        with qtbot.waitSignal(widget.preview_loaded):
            widget.table.selectRow(0)
        with qtbot.waitSignal(widget.acted, timeout=5000) as acted:
            qtbot.mouseClick(widget.send_now_button, Qt.MouseButton.LeftButton)
        assert acted.args == [draft_id, "sending"] and widget.principal_box is None


def test_approved_in_person_to_kens_correspondent_as_ann_says_so_and_cancel_sends_nothing(qtbot, tmp_path):
    from assistant.domain import ApprovalPolicy
    from assistant.ui.approvals.view import ApprovalsView

    ws, _maildir, ann_id, _ken_id = build_workspace(tmp_path, policy=ApprovalPolicy.ALWAYS)
    draft_id = draft_to_kens_correspondent(ws, ann_id, submit=True)
    assert draft_state(ws, ann_id, draft_id) == "awaiting-approval"
    with shown(qtbot, ws, ApprovalsView) as (widget, tasks):
        with qtbot.waitSignal(widget.queue_loaded):
            widget.set_principal_id(ann_id)
        with qtbot.waitSignal(widget.preview_loaded):
            widget.table.selectRow(0)
        widget.approve_button.click()
        qtbot.waitUntil(lambda: widget.confirm_box is not None and widget.confirm_box.isVisible(), timeout=5000)
        box = widget.confirm_box
        # the approval's one question carries the guard's one line, and its button says what the assistant does
        assert box.guard.text() == ("bobby@secret.example has corresponded only with Ken Sato, never with Ann Lee: "
                                    "it would go from Ann Lee's account.")
        assert box.guard.isVisible()
        assert box.send_button.text() == "Send anyway"
        assert box.cancel_button.isDefault() and not box.send_button.isDefault()  # Enter does not send it
        with qtbot.assert_not_emitted(widget.decision_recorded, wait=300):
            box.cancel_button.click()
        qtbot.waitUntil(lambda: not tasks.busy)
        assert draft_state(ws, ann_id, draft_id) == "awaiting-approval"

        widget.approve_button.click()
        qtbot.waitUntil(lambda: widget.confirm_box is not None and widget.confirm_box.isVisible(), timeout=5000)
        with qtbot.waitSignal(widget.decision_recorded, timeout=5000):
            widget.confirm_box.send_button.click()
        qtbot.waitUntil(lambda: not tasks.busy)
        assert draft_state(ws, ann_id, draft_id) == "sending"


def test_approvals_send_now_of_a_late_send_to_kens_correspondent_as_ann_asks(qtbot, tmp_path):
    from datetime import UTC, datetime, timedelta

    from assistant.approvals import drafts
    from assistant.store import Store
    from assistant.sync.engine import sync_account
    from assistant.ui.approvals.view import ApprovalsView

    ws, _maildir, ann_id, _ken_id = build_workspace(tmp_path)
    draft_id = draft_to_kens_correspondent(ws, ann_id)
    store = Store(ws)
    [account] = store.accounts(ann_id)
    now = datetime.now(UTC)
    assert drafts.submit_draft(store, ann_id, draft_id, send_at=now + timedelta(minutes=30)) == "scheduled"
    sync_account(store, account.id, now=now + timedelta(minutes=61))  # the app was closed when it was due
    store.close()
    assert draft_state(ws, ann_id, draft_id) == "needs-confirmation"
    with shown(qtbot, ws, ApprovalsView) as (widget, tasks):
        with qtbot.waitSignal(widget.queue_loaded):
            widget.set_principal_id(ann_id)
        with qtbot.waitSignal(widget.preview_loaded):
            widget.table.selectRow(0)
        assert widget.send_now_button.isEnabled()
        with qtbot.assert_not_emitted(widget.decision_recorded, wait=300):
            widget.send_now_button.click()
            qtbot.waitUntil(lambda: widget.principal_box is not None, timeout=5000)
            assert "never with Ann Lee" in widget.principal_box.text()
            widget.principal_box.button(QMessageBox.StandardButton.Cancel).click()
        qtbot.waitUntil(lambda: not tasks.busy)
        assert draft_state(ws, ann_id, draft_id) == "needs-confirmation"
        assert widget.status.text() == "Not sent: “Hello” is still waiting for Ann Lee."

        widget.send_now_button.click()
        qtbot.waitUntil(lambda: widget.principal_box is not None, timeout=5000)
        send = next(b for b in widget.principal_box.buttons() if b.text() == "Send anyway")
        with qtbot.waitSignal(widget.decision_recorded, timeout=5000):
            send.click()
        qtbot.waitUntil(lambda: not tasks.busy)
        assert draft_state(ws, ann_id, draft_id) == "sending"


def test_outgoing_send_later_of_a_draft_to_kens_correspondent_as_ann_asks_too(qtbot, tmp_path):
    from assistant.ui.outgoing.view import OutgoingView

    ws, _maildir, ann_id, _ken_id = build_workspace(tmp_path)
    draft_id = draft_to_kens_correspondent(ws, ann_id)
    with shown(qtbot, ws, OutgoingView) as (widget, tasks):
        with qtbot.waitSignal(widget.loaded):
            widget.set_principal_id(ann_id)
        with qtbot.waitSignal(widget.preview_loaded):
            widget.table.selectRow(0)
        dialog = widget.on_send_later()
        with qtbot.assert_not_emitted(widget.acted, wait=300):
            dialog.accept()
            qtbot.waitUntil(lambda: widget.principal_box is not None, timeout=5000)
            assert "never with Ann Lee" in widget.principal_box.text()
            widget.principal_box.button(QMessageBox.StandardButton.Cancel).click()
        qtbot.waitUntil(lambda: not tasks.busy)
        assert draft_state(ws, ann_id, draft_id) == "draft"
        dialog = widget.on_send_later()
        dialog.accept()
        qtbot.waitUntil(lambda: widget.principal_box is not None, timeout=5000)
        send = next(b for b in widget.principal_box.buttons() if b.text() == "Send anyway")
        with qtbot.waitSignal(widget.acted, timeout=5000) as acted:
            send.click()
        assert acted.args == [draft_id, "scheduled"]
