"""The compose window's Send asks before writing as one principal to another principal's correspondent (the real
window, compose and worker; the workspace made by the local connector's own sync)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from assistant.store import drafts as draft_sql
from tests.ui.test_compose import build_workspace


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
