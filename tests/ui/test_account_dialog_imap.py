"""The window's Add account dialog, IMAP tab, through the real widgets against the real Dovecot: a self-signed
certificate shown with its fingerprint and trusted by a button, a wrong password said in one line with what was typed
kept, the sign-in on a thread of its own, the account added and a first sync bringing the mail."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from assistant.domain import Principal
from assistant.store import Store
from tests.connectors.imap.imap_handle import ADDRESS, DovecotHandle, dovecot, imap_registered, servers  # noqa: F401
from tests.connectors.imap.mailserver import USERS


@pytest.fixture
def dialog(qtbot, tmp_path):
    from assistant.ui.setup.account_dialog import AccountDialog
    from assistant.ui.workers import TaskManager

    store = Store(tmp_path / "ws")
    principal = store.add_principal(Principal("Dana Whitfield", "Europe/Dublin", [ADDRESS]))
    store.close()
    tasks = TaskManager(tmp_path / "ws")
    made = AccountDialog(tasks, principal)
    qtbot.addWidget(made)
    made.tabs.setCurrentWidget(made.imap)
    made.show()
    qtbot.waitExposed(made)
    yield made
    tasks.shutdown()


def sign_in(qtbot, dialog, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert not dialog.imap.button.isEnabled(), dialog.error.text()  # the sign-in runs off the GUI thread, the button waits for it
    qtbot.waitUntil(lambda: dialog.imap.button.isEnabled() or dialog.result() != 0, timeout=30000)


def test_imap_sign_in_through_the_dialog(qtbot, dialog, tmp_path, servers, dovecot, memory_keyring):
    imap = dialog.imap
    imap.preset.setCurrentIndex(imap.preset.findData("other"))
    assert imap.imap_host.isEnabled()
    imap.imap_host.setText(f"127.0.0.1:{servers.dovecot.imap_port}")
    imap.smtp_host.setText(f"127.0.0.1:{servers.postfix.submission_port}")
    imap.security.setCurrentIndex(imap.security.findData("starttls"))
    imap.user.setText(ADDRESS)
    imap.password.setText("guess")

    sign_in(qtbot, dialog, imap.button)  # Dovecot's certificate is its own: not trusted, said with its fingerprint
    assert "not trusted" in dialog.error.text() and "SHA-256 fingerprint" in dialog.error.text()
    assert "--trust-fingerprint" not in dialog.error.text() and imap.trust_button.isVisibleTo(dialog)

    sign_in(qtbot, dialog, imap.trust_button)  # trusted now; the password is wrong
    assert "refused the password" in dialog.error.text() and "\n" not in dialog.error.text()
    assert imap.password.text() == "guess" and imap.imap_host.text() == f"127.0.0.1:{servers.dovecot.imap_port}"
    assert not [key for _, key in memory_keyring.secrets if key.startswith("imap:")]  # nothing kept

    imap.password.setText(USERS[ADDRESS])
    with qtbot.waitSignal(dialog.account_added, timeout=30000) as added:
        qtbot.mouseClick(imap.button, Qt.MouseButton.LeftButton)
    account = added.args[0]
    assert account.kind == "imap" and account.settings["imap_port"] == servers.dovecot.imap_port
    assert [value for (_, key), value in memory_keyring.secrets.items() if key.startswith("imap:")] == [USERS[ADDRESS]]
    for path in (tmp_path / "ws").rglob("*"):  # the workspace never holds the password
        if path.is_file():
            assert USERS[ADDRESS].encode() not in path.read_bytes()

    from assistant.sync.engine import sync_all

    dovecot.add_message(b"From: z@example.org\r\nMessage-ID: <ui-1@example.org>\r\nSubject: From the dialog\r\n\r\nHi\r\n")
    store = Store(tmp_path / "ws")
    try:
        assert [a.id for a in store.accounts(account.principal_id)] == [account.id]
        reports = sync_all(store)
        assert reports[0].mail["added"] == 1, reports
    finally:
        store.close()


def test_plain_to_another_machine_and_an_empty_password_are_refused_before_trying(qtbot, dialog):
    imap = dialog.imap
    imap.preset.setCurrentIndex(imap.preset.findData("other"))
    imap.imap_host.setText("mail.example.net")
    imap.security.setCurrentIndex(imap.security.findData("plain"))
    imap.password.setText("secret")
    qtbot.mouseClick(imap.button, Qt.MouseButton.LeftButton)
    assert "only to this machine" in dialog.error.text() and dialog.imap.button.isEnabled()
    assert dialog.sign_in_thread is None
    imap.preset.setCurrentIndex(imap.preset.findData("fastmail"))
    assert imap.imap_host.text() == "imap.fastmail.com:993" and not imap.imap_host.isEnabled()
    assert "https://app.fastmail.com/settings/security/apps" in imap.help.text()
    imap.preset.setCurrentIndex(imap.preset.findData("other"))  # the preset's servers do not stay as the user's own
    assert imap.imap_host.text() == "" and imap.smtp_host.text() == ""
    imap.preset.setCurrentIndex(imap.preset.findData("fastmail"))
    imap.password.clear()
    qtbot.mouseClick(imap.button, Qt.MouseButton.LeftButton)
    assert "password" in dialog.error.text() and dialog.sign_in_thread is None


def test_an_unreachable_server_is_said_in_one_line_and_a_new_host_forgets_the_trust(qtbot, dialog):
    from tests.connectors.imap.mailserver import free_port

    imap = dialog.imap
    imap.preset.setCurrentIndex(imap.preset.findData("other"))
    imap.imap_host.setText(f"127.0.0.1:{free_port()}")  # nothing listens there
    imap.password.setText("secret")
    sign_in(qtbot, dialog, imap.button)
    assert "refused the connection" in dialog.error.text() and "\n" not in dialog.error.text()
    assert imap.password.text() == "secret" and not imap.trust_button.isVisibleTo(dialog)
    imap.offer_trust("the certificate of a:993 is not trusted; its SHA-256 fingerprint is " + ":".join(["AB"] * 32))
    assert imap.trust_button.isVisibleTo(dialog)
    qtbot.keyClicks(imap.imap_host, "0")  # another server: the fingerprint offered was the other one's
    assert not imap.trust_button.isVisibleTo(dialog) and imap.trust_fingerprint == ""
