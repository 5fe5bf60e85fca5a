"""The Add account dialog's IMAP tab offers the principal's existing Google sign-in (XOAUTH2) when they have a Gmail
account of the address typed, and adds the IMAP account with it against the real Dovecot: no password asked or kept."""
from __future__ import annotations

import ssl

import pytest
from PySide6.QtCore import Qt

from assistant.connectors.imap.errors import fingerprint
from assistant.domain import Principal
from assistant.store import Store
from tests.connectors.imap.imap_handle import ADDRESS, dovecot, imap_registered  # noqa: F401
from tests.connectors.imap.oauth_handle import fresh, gmail_sign_in, google, introspection, servers  # noqa: F401


@pytest.fixture
def dialog(qtbot, tmp_path, google, memory_keyring):  # noqa: F811
    from assistant.ui.setup.account_dialog import AccountDialog
    from assistant.ui.workers import TaskManager

    store = Store(tmp_path / "ws")
    principal = store.add_principal(Principal("Dana Whitfield", "Europe/Dublin", [ADDRESS]))
    gmail_sign_in(store, google, principal.id)
    store.close()
    tasks = TaskManager(tmp_path / "ws")
    made = AccountDialog(tasks, principal)
    qtbot.addWidget(made)
    made.tabs.setCurrentWidget(made.imap)
    made.show()
    qtbot.waitExposed(made)
    yield made
    tasks.shutdown()


def test_the_existing_google_sign_in_is_offered_and_used(qtbot, dialog, servers, dovecot, memory_keyring):  # noqa: F811
    imap = dialog.imap
    qtbot.waitUntil(lambda: imap.use_sign_in.isVisibleTo(dialog))  # the principal's accounts, read off the GUI thread
    assert "Google sign-in of principal@example.com" in imap.use_sign_in.text() and imap.use_sign_in.isChecked()
    assert not imap.password.isEnabled()
    imap.preset.setCurrentIndex(imap.preset.findData("icloud"))  # iCloud has no sign-in to share
    assert not imap.use_sign_in.isVisibleTo(dialog) and imap.password.isEnabled()
    imap.preset.setCurrentIndex(imap.preset.findData("outlook"))  # nor does this principal have an Outlook account
    assert not imap.use_sign_in.isVisibleTo(dialog) and "Microsoft accepts only its own sign-in" in imap.help.text()
    imap.preset.setCurrentIndex(imap.preset.findData("other"))
    imap.imap_host.setText(f"127.0.0.1:{servers.dovecot.imap_port}")
    imap.smtp_host.setText(f"127.0.0.1:{servers.postfix.submission_port}")
    imap.security.setCurrentIndex(imap.security.findData("starttls"))
    imap.user.setText("someone.else@example.com")
    assert not imap.use_sign_in.isVisibleTo(dialog)  # only for the address of that sign-in
    imap.user.setText(ADDRESS)
    assert imap.use_sign_in.isVisibleTo(dialog) and not imap.password.isEnabled()
    imap.trust_fingerprint = fingerprint(ssl.PEM_cert_to_DER_cert(servers.dovecot.cert.read_text()))

    with qtbot.waitSignal(dialog.account_added, timeout=30000) as added:
        qtbot.mouseClick(imap.button, Qt.MouseButton.LeftButton)
    account = added.args[0]
    assert account.kind == "imap" and account.settings["oauth"]["provider"] == "gmail"
    assert not [key for _, key in memory_keyring.secrets if key.startswith("imap:")]  # no password kept


def test_imap_access_for_outlook_is_asked_in_the_browser_only(qtbot, dialog):
    dialog.tabs.setCurrentWidget(dialog.outlook)
    dialog.client_id.setText("3f0c9a51-6b55-4d1e-8f1b-1d2f7b9e0c11")
    dialog.device_code.setChecked(True)
    dialog.outlook_imap.setChecked(True)
    qtbot.mouseClick(dialog.outlook.button, Qt.MouseButton.LeftButton)
    assert dialog.error.isVisible() and "browser sign-in only" in dialog.error.text()
    assert "\n" not in dialog.error.text() and dialog.outlook.button.isEnabled()  # nothing started


def test_a_dialog_closed_before_the_principals_accounts_arrive_ignores_them(qtbot, tmp_path):
    """The accounts are read on the worker; a dialog closed and deleted meanwhile must not be touched when they come
    (it raised 'Internal C++ object already deleted' from the worker's delivery)."""
    import shiboken6

    from assistant.ui.setup.account_dialog import AccountDialog
    from assistant.ui.workers import TaskManager

    store = Store(tmp_path / "ws")
    principal = store.add_principal(Principal("Dana Whitfield", "Europe/Dublin", [ADDRESS]))
    store.close()
    tasks = TaskManager(tmp_path / "ws")
    try:
        assert tasks.hold(at_most_s=30)  # the read waits until the dialog is gone
        made = AccountDialog(tasks, principal)
        made.close()
        shiboken6.delete(made)
        assert tasks.busy  # the read is queued behind the hold
        tasks.release()
        qtbot.waitUntil(lambda: not tasks.busy, timeout=10000)
    finally:
        tasks.shutdown()
