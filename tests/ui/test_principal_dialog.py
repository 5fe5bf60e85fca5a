from __future__ import annotations

from PySide6.QtCore import Qt, QTime
from PySide6.QtWidgets import QDialogButtonBox

from assistant.domain import Account, ApprovalPolicy
from assistant.store import Store
from assistant.store import snippets as compose_store


def save_button(dialog):
    return dialog.buttons.button(QDialogButtonBox.StandardButton.Save)


def test_edit_principal_from_the_file_menu(qtbot, workspace, make_window):
    ws, ann, ken = workspace
    window = make_window(ws)
    window.select_principal(ann.id)
    window.principal_actions.edit_principal_action.trigger()
    qtbot.waitUntil(lambda: window.principal_actions.dialog is not None and window.principal_actions.dialog.isVisible())
    dialog = window.principal_actions.dialog
    assert dialog.name.text() == "Ann"
    dialog.addresses.setText("ann@ann.example, ann.private@home.example")
    dialog.zone.setCurrentText("Europe/Dublin")
    dialog.hours_start.setTime(QTime(8, 30))
    dialog.days[5].setChecked(True)  # Saturday
    dialog.policy.setCurrentIndex(dialog.policy.findData("new-recipients"))
    dialog.signature.setPlainText("Ann\nDirector")
    dialog.separate_reply.setChecked(True)
    dialog.reply_signature.setPlainText("A.")
    dialog.snippet_name.setText("thanks")
    dialog.snippet_body.setPlainText("Thank you, {{first_name}}")
    qtbot.mouseClick(dialog.snippet_save, Qt.MouseButton.LeftButton)
    dialog.notes.setPlainText("Never before 9.")
    with qtbot.wait_signal(window.refreshed, timeout=5000):
        qtbot.mouseClick(save_button(dialog), Qt.MouseButton.LeftButton)
    store = Store(ws)
    try:
        p = store.principal(ann.id)
        assert p.addresses == ["ann@ann.example", "ann.private@home.example"]
        assert p.timezone == "Europe/Dublin"
        assert p.business_hours.start.hour == 8 and p.business_hours.start.minute == 30
        assert p.business_hours.days == (1, 2, 3, 4, 5, 6)
        assert p.approval_policy == ApprovalPolicy.NEW_RECIPIENTS
        assert p.signature == "Ann\nDirector" and p.notes == "Never before 9."
        assert compose_store.reply_signature(store.scope(ann.id)) == "A."
        assert [(s.name, s.body) for s in compose_store.snippets(store.scope(ann.id))] == [
            ("thanks", "Thank you, {{first_name}}")]
        assert compose_store.snippets(store.scope(ken.id)) == []
        assert store.principal(ken.id).timezone == "Asia/Tokyo"
    finally:
        store.close()
    assert window.current_principal.timezone == "Europe/Dublin"


def test_bad_input_keeps_the_dialog_open_with_one_line(qtbot, workspace, make_window):
    ws, ann, _ = workspace
    window = make_window(ws)
    window.add_principal_action.trigger()
    dialog = window.principal_actions.dialog
    dialog.name.setText("Zed")
    dialog.addresses.setText("not an address")
    qtbot.mouseClick(save_button(dialog), Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert "does not look like an e-mail address" in dialog.error.text()
    dialog.addresses.setText("zed@zed.example")
    dialog.zone.setCurrentText("Mars/Olympus")
    qtbot.mouseClick(save_button(dialog), Qt.MouseButton.LeftButton)
    assert "Pick a time zone" in dialog.error.text()
    dialog.zone.setCurrentText("Africa/Lagos")
    with qtbot.wait_signal(window.refreshed, timeout=5000):
        qtbot.mouseClick(save_button(dialog), Qt.MouseButton.LeftButton)
    assert window.current_principal.name == "Zed"
    assert window.current_principal.timezone == "Africa/Lagos"


def test_account_dialog_attaches_a_local_maildir(qtbot, workspace, make_window, tmp_path):
    ws, ann, _ = workspace
    window = make_window(ws)
    window.select_principal(ann.id)
    window.principal_actions.add_account_action.trigger()
    dialog = window.principal_actions.account_dialog
    dialog.mail_path.setText(str(tmp_path / "missing"))
    qtbot.mouseClick(dialog.add_local_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.error.isVisible())
    assert "does not exist" in dialog.error.text()
    maildir = tmp_path / "maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    dialog.mail_path.setText(str(maildir))
    with qtbot.wait_signal(dialog.account_added, timeout=5000) as added:
        qtbot.mouseClick(dialog.add_local_button, Qt.MouseButton.LeftButton)
    account: Account = added.args[0]
    assert account.principal_id == ann.id and account.settings == {"maildir": str(maildir.resolve())}


def test_sign_in_runs_off_the_gui_thread_and_shows_the_device_code(qtbot, workspace, make_window):
    import threading

    ws, ann, _ = workspace
    window = make_window(ws)
    window.select_principal(ann.id)
    window.principal_actions.add_account_action.trigger()
    dialog = window.principal_actions.account_dialog
    go = threading.Event()
    threads = []

    def fake_sign_in(store, print_fn):
        threads.append(threading.current_thread() is threading.main_thread())
        print_fn("To sign in, open https://microsoft.com/devicelogin and enter the code ABCD-1234")
        go.wait(5)
        return store.add_account(Account(ann.id, "outlook", "ann@contoso.example"))

    dialog._start_sign_in(fake_sign_in, "Signing in with Microsoft…")
    qtbot.waitUntil(lambda: "ABCD-1234" in dialog.log.toPlainText())
    assert not dialog.outlook_button.isEnabled()  # the window is not frozen: we are here while it waits
    with qtbot.wait_signal(dialog.account_added, timeout=5000) as added:
        go.set()
    assert added.args[0].kind == "outlook"
    assert threads == [False]
    dialog.sign_in_thread.join(5)
