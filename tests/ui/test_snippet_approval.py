"""A snippet's approval override: set in the principal dialog, given to the draft in compose, shown there, cleared there.

Through the real main window, principal dialog and compose window, on a local-connector workspace.
"""
from __future__ import annotations

import email
import email.policy

from PySide6.QtCore import Qt

from assistant.approvals import drafts
from assistant.domain import ApprovalPolicy
from assistant.store import Store
from assistant.store import snippets as snippet_store
from assistant.ui.mail.compose import ComposeWindow
from tests.ui.test_compose import build_workspace, sent_files
from tests.ui.test_principal_dialog import save_button

SNIPPETS = {"confirm": ("Confirmed for Thursday.", "never"), "terms": ("Our fee is 2% of the sum.", "always"),
            "check": ("Sending the contract next.", "new-recipients"), "thanks": ("Thank you.", "")}


def workspace_with_snippets(tmp_path, policy: ApprovalPolicy):
    ws, maildir, ann_id, ken_id = build_workspace(tmp_path, policy=policy)
    store = Store(ws)
    try:
        for name, (body, approval) in SNIPPETS.items():
            snippet_store.save_snippet(store.scope(ann_id), name, body, approval)
    finally:
        store.close()
    return ws, maildir, ann_id


def new_message(qtbot, window) -> ComposeWindow:
    with qtbot.wait_signal(window.inbox_actions.compose_opened, timeout=5000) as opened:
        window.message_actions["new"].trigger()
    compose = opened.args[0]
    qtbot.addWidget(compose)
    qtbot.waitUntil(lambda: compose.snippet_box.count() == 1 + len(SNIPPETS))  # "Insert snippet…" and ours
    compose.to_edit.setText("Bob Stone <bob@client.example>")
    compose.subject_edit.setText("Thursday")
    return compose


def choose_snippet(compose: ComposeWindow, name: str) -> None:
    compose.snippet_box.activated.emit(compose.snippet_box.findText(name))


def send(qtbot, window, compose: ComposeWindow) -> str:
    with qtbot.wait_signal(compose.submitted, timeout=5000) as submitted:
        qtbot.mouseClick(compose.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.tasks.busy)
    return submitted.args[1]


def sync(qtbot, window) -> None:
    with qtbot.wait_signal(window.sync_finished, timeout=20000):
        window.on_sync_now()
    qtbot.waitUntil(lambda: not window.tasks.busy)


def subjects_sent(maildir) -> list[str]:
    return [email.message_from_bytes(f.read_bytes(), policy=email.policy.default)["Subject"] for f in sent_files(maildir)]


def test_set_a_snippets_approval_in_the_principal_dialog(qtbot, tmp_path, make_window):
    ws, _maildir, ann_id = workspace_with_snippets(tmp_path, ApprovalPolicy.ALWAYS)
    window = make_window(ws)
    window.select_principal(ann_id)
    window.principal_actions.edit_principal_action.trigger()
    qtbot.waitUntil(lambda: window.principal_actions.dialog is not None and window.principal_actions.dialog.isVisible())
    dialog = window.principal_actions.dialog
    dialog.tabs.setCurrentIndex(dialog.tabs.indexOf(dialog.snippet_list.parentWidget()))
    rows = {dialog.snippet_list.item(r).text(): r for r in range(dialog.snippet_list.count())}
    dialog.snippet_list.setCurrentRow(rows["confirm"])
    assert dialog.snippet_approval.currentText() == "Never ask"
    dialog.snippet_list.setCurrentRow(rows["thanks"])
    assert dialog.snippet_approval.currentText() == "As the principal's policy"
    dialog.snippet_approval.setFocus()
    qtbot.keyClick(dialog.snippet_approval, Qt.Key.Key_Down)  # the next choice: always ask
    assert dialog.snippet_approval.currentText() == "Always ask"
    qtbot.mouseClick(dialog.snippet_save, Qt.MouseButton.LeftButton)
    dialog.snippet_list.setCurrentRow(rows["confirm"])
    dialog.snippet_approval.setCurrentIndex(dialog.snippet_approval.findData(""))
    qtbot.mouseClick(dialog.snippet_save, Qt.MouseButton.LeftButton)
    dialog.snippet_name.setText("late")  # a new one, with its own override
    dialog.snippet_body.setPlainText("Running ten minutes late.")
    dialog.snippet_approval.setCurrentIndex(dialog.snippet_approval.findData("never"))
    qtbot.mouseClick(dialog.snippet_save, Qt.MouseButton.LeftButton)
    with qtbot.wait_signal(window.refreshed, timeout=5000):
        qtbot.mouseClick(save_button(dialog), Qt.MouseButton.LeftButton)
    store = Store(ws)
    try:
        assert {s.name: s.approval for s in snippet_store.snippets(store.scope(ann_id))} == {
            "check": "new-recipients", "confirm": "", "late": "never", "terms": "always", "thanks": "always"}
    finally:
        store.close()


def test_save_keeps_an_approval_changed_without_keep_snippet(qtbot, tmp_path, make_window):
    ws, _maildir, ann_id = workspace_with_snippets(tmp_path, ApprovalPolicy.ALWAYS)
    window = make_window(ws)
    window.select_principal(ann_id)
    window.principal_actions.edit_principal_action.trigger()
    qtbot.waitUntil(lambda: window.principal_actions.dialog is not None and window.principal_actions.dialog.isVisible())
    dialog = window.principal_actions.dialog
    dialog.snippet_list.setCurrentRow([dialog.snippet_list.item(r).text()
                                       for r in range(dialog.snippet_list.count())].index("terms"))
    dialog.snippet_approval.setCurrentIndex(dialog.snippet_approval.findData("never"))
    with qtbot.wait_signal(window.refreshed, timeout=5000):
        qtbot.mouseClick(save_button(dialog), Qt.MouseButton.LeftButton)  # no "Keep snippet" first
    store = Store(ws)
    try:
        assert {s.name: (s.body, s.approval) for s in snippet_store.snippets(store.scope(ann_id))} == {
            **SNIPPETS, "terms": ("Our fee is 2% of the sum.", "never")}
    finally:
        store.close()


def test_a_never_ask_snippet_sends_without_asking_and_says_so(qtbot, tmp_path, make_window):
    ws, maildir, ann_id = workspace_with_snippets(tmp_path, ApprovalPolicy.ALWAYS)
    window = make_window(ws)
    window.select_principal(ann_id)
    compose = new_message(qtbot, window)
    assert compose.approval_bar.isHidden()
    box = compose.snippet_box
    assert box.itemData(box.findText("confirm"), Qt.ItemDataRole.ToolTipRole) == "Approval: never asked"
    assert box.itemData(box.findText("thanks"), Qt.ItemDataRole.ToolTipRole) is None
    choose_snippet(compose, "thanks")  # no override of its own
    assert compose.approval_bar.isHidden()
    choose_snippet(compose, "confirm")
    assert compose.body.toPlainText().startswith("Thank you.Confirmed for Thursday.")
    assert compose.approval_bar.isVisibleTo(compose)
    assert compose.approval_label.text() == ("Approval: never asked (snippet “confirm”); "
                                             "Ann Lee's policy: always asked")
    assert send(qtbot, window, compose) == "sending"
    assert [(d.approval, d.subject) for d in drafts.list_drafts(window.store, ann_id)] == [("never", "Thursday")]
    sync(qtbot, window)
    assert subjects_sent(maildir) == ["Thursday"]  # the message itself, no approval request


def test_an_always_ask_snippet_asks_a_principal_who_approves_nothing(qtbot, tmp_path, make_window):
    ws, maildir, ann_id = workspace_with_snippets(tmp_path, ApprovalPolicy.NEVER)
    window = make_window(ws)
    window.select_principal(ann_id)
    compose = new_message(qtbot, window)
    choose_snippet(compose, "terms")
    assert compose.approval_label.text() == "Approval: always asked (snippet “terms”); Ann Lee's policy: never asked"
    assert send(qtbot, window, compose) == "awaiting-approval"
    sync(qtbot, window)
    [request] = subjects_sent(maildir)
    assert request.startswith("Approval needed [APR-")


def test_the_strictest_snippet_counts_whatever_the_order(qtbot, tmp_path, make_window):
    ws, _maildir, ann_id = workspace_with_snippets(tmp_path, ApprovalPolicy.NEVER)
    window = make_window(ws)
    window.select_principal(ann_id)
    compose = new_message(qtbot, window)
    choose_snippet(compose, "confirm")
    choose_snippet(compose, "check")
    assert compose.approval == "new-recipients"
    choose_snippet(compose, "terms")
    choose_snippet(compose, "confirm")  # a later "never ask" does not loosen it
    assert compose.approval == "always"
    assert compose.approval_label.text().startswith("Approval: always asked (snippet “terms”)")
    assert send(qtbot, window, compose) == "awaiting-approval"


def test_clearing_the_override_goes_back_to_the_principals_policy(qtbot, tmp_path, make_window):
    ws, _maildir, ann_id = workspace_with_snippets(tmp_path, ApprovalPolicy.ALWAYS)
    window = make_window(ws)
    window.select_principal(ann_id)
    compose = new_message(qtbot, window)
    choose_snippet(compose, "confirm")
    with qtbot.wait_signal(compose.draft_saved, timeout=5000) as saved:
        compose.on_autosave_due()
    draft_id = saved.args[0]
    assert drafts.get_draft(window.store, ann_id, draft_id).approval == "never"
    qtbot.mouseClick(compose.clear_approval_button, Qt.MouseButton.LeftButton)
    assert compose.approval_bar.isHidden() and compose.approval == ""
    with qtbot.wait_signal(compose.draft_saved, timeout=5000):
        compose.on_autosave_due()  # the change alone is worth saving
    assert drafts.get_draft(window.store, ann_id, draft_id).approval == ""
    assert send(qtbot, window, compose) == "awaiting-approval"


def test_a_saved_draft_reopens_with_its_override_shown(qtbot, tmp_path, make_window):
    ws, _maildir, ann_id = workspace_with_snippets(tmp_path, ApprovalPolicy.ALWAYS)
    window = make_window(ws)
    window.select_principal(ann_id)
    compose = new_message(qtbot, window)
    choose_snippet(compose, "confirm")
    with qtbot.wait_signal(compose.draft_saved, timeout=5000) as saved:
        compose.on_autosave_due()
    compose.close()
    with qtbot.wait_signal(window.inbox_actions.compose_opened, timeout=5000) as opened:
        window.inbox_actions.open_draft(ann_id, saved.args[0])
    again = opened.args[0]
    qtbot.addWidget(again)
    assert again.approval == "never"
    assert again.approval_label.text() == "Approval: never asked (set on this draft); Ann Lee's policy: always asked"
    assert send(qtbot, window, again) == "sending"
