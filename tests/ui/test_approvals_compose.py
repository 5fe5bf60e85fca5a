"""The compose window's "Ask approval" and "Send later…" buttons, through the real main window and compose widgets."""
from __future__ import annotations

import email
import email.policy

from PySide6.QtCore import Qt

from assistant.domain import ApprovalPolicy
from tests.ui.test_compose import build_workspace, open_reply, sent_files


def approval_buttons(compose):
    from assistant.ui.approvals.view import ComposeApprovalButtons

    (buttons,) = [w for w in compose.extension_widgets if isinstance(w, ComposeApprovalButtons)]
    return buttons


def test_ask_approval_from_compose_sends_the_request_even_when_the_policy_would_not(qtbot, tmp_path, make_window):
    ws, maildir, ann_id, _ = build_workspace(tmp_path, policy=ApprovalPolicy.NEVER)
    window = make_window(ws)
    window.select_principal(ann_id)
    compose = open_reply(qtbot, window)
    assert approval_buttons(compose).ask_button.isVisibleTo(compose)
    qtbot.keyClicks(compose.body, "Figures on Friday.")
    with qtbot.wait_signal(compose.submitted, timeout=5000) as submitted:
        qtbot.mouseClick(approval_buttons(compose).ask_button, Qt.MouseButton.LeftButton)
    assert submitted.args[1] == "awaiting-approval"
    qtbot.waitUntil(lambda: not window.tasks.busy)
    with qtbot.wait_signal(window.sync_finished, timeout=20000):
        window.on_sync_now()
    qtbot.waitUntil(lambda: not window.tasks.busy)
    [request] = [email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in sent_files(maildir)]
    assert request["Subject"].startswith("Approval needed [APR-") and request["To"] == "Ann Lee <ann@ann.example>"
    assert "Figures on Friday." in request.get_body(("plain",)).get_content()
    window.views.setCurrentIndex(window.views.indexOf(window.approvals))
    qtbot.waitUntil(lambda: window.approvals.model.rowCount() == 1)
    assert window.approvals.model.index(0, 1).data() == "Re: Budget for Q3"


def test_send_later_from_compose_schedules_in_the_principals_time(qtbot, tmp_path, make_window):
    ws, maildir, ann_id, _ = build_workspace(tmp_path, policy=ApprovalPolicy.NEVER)
    window = make_window(ws)
    window.select_principal(ann_id)
    compose = open_reply(qtbot, window)
    dialog = approval_buttons(compose).on_send_later()
    dialog.when.setText("tomorrow 8:30")
    with qtbot.wait_signal(compose.submitted, timeout=5000) as submitted:
        dialog.accept()
    assert submitted.args[1] == "scheduled"
    qtbot.waitUntil(lambda: not window.tasks.busy)
    from assistant.approvals import drafts
    from assistant.core.timezones import in_zone

    d = drafts.get_draft(window.store, ann_id, submitted.args[0])
    local = in_zone(d.send_at_utc, "America/New_York")
    assert (local.hour, local.minute) == (8, 30) and d.send_where == "app"
    with qtbot.wait_signal(window.sync_finished, timeout=20000):
        window.on_sync_now()
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert sent_files(maildir) == []  # not before its time


def test_revise_a_rejected_draft_opens_it_in_compose_with_the_principals_comment(qtbot, tmp_path, make_window):
    from assistant.approvals import drafts, lifecycle
    from assistant.store import Store
    from assistant.ui.approvals.view import PrincipalCommentNote

    ws, _maildir, ann_id, _ = build_workspace(tmp_path, policy=ApprovalPolicy.ALWAYS)
    store = Store(ws)
    d = drafts.save_draft(store, ann_id, None, to="bob@client.example", subject="Re: Budget for Q3",
                          body_text="Figures on Friday.", in_reply_to="<budget-1@client.example>")
    drafts.submit_draft(store, ann_id, d.id)
    lifecycle.approve_in_person(store, ann_id, d.id, decision="reject", comment="say Thursday, not Friday")
    store.close()
    window = make_window(ws)
    window.select_principal(ann_id)
    window.views.setCurrentWidget(window.approvals)
    qtbot.waitUntil(lambda: window.approvals.model.rowCount() == 1)
    window.approvals.table.selectRow(0)
    assert window.approvals.revise_button.isEnabled()
    with qtbot.wait_signal(window.inbox_actions.compose_opened, timeout=5000) as opened:
        qtbot.mouseClick(window.approvals.revise_button, Qt.MouseButton.LeftButton)
    compose = opened.args[0]
    qtbot.addWidget(compose)
    assert compose.draft_id == d.id and compose.body.toPlainText() == "Figures on Friday."
    qtbot.waitUntil(lambda: compose.findChild(PrincipalCommentNote) is not None)
    note = compose.findChild(PrincipalCommentNote)
    assert note.text() == "Ann Lee rejected version 1: “say Thursday, not Friday”" and note.isVisibleTo(compose)
    assert not compose.restored_bar.isVisibleTo(compose)  # no "Start over": it would delete the draft and its history
    compose.body.selectAll()
    qtbot.keyClicks(compose.body, "Figures on Thursday.")
    with qtbot.wait_signal(compose.submitted, timeout=5000) as submitted:
        qtbot.mouseClick(compose.send_button, Qt.MouseButton.LeftButton)
    assert submitted.args == [d.id, "awaiting-approval"]  # version 2 goes to the principal
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert drafts.get_draft(window.store, ann_id, d.id).version == 2
