"""Saving an IMAP attachment left on the server at sync, from the reader, through the real window against the real
Dovecot: the reader lists the attachment's name and size, the source is fetched on the first Save (off the GUI thread)
and the file is the one the sender attached."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QPushButton

from assistant.connectors.imap.errors import fingerprint
from assistant.core.credentials import CredentialStore
from assistant.domain import Account, Principal
from assistant.store import Store
from assistant.sync.engine import sync_account
from assistant.ui.mail import reader as reader_module
from tests.connectors.imap.imap_handle import ADDRESS, DovecotHandle, dovecot, imap_registered, servers  # noqa: F401
from tests.connectors.imap.mailserver import USERS
from tests.connectors.imap.test_imap_attachments import PDF, nested_message


@pytest.fixture
def imap_workspace(tmp_path, dovecot: DovecotHandle, servers):  # noqa: F811
    """One IMAP account as adding it in the app leaves it (password in the credential store, the test server's
    certificate trusted by its fingerprint), synced once with a message whose large attachments stayed on the server."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    der = x509.load_pem_x509_certificate(Path(servers.dovecot.cert).read_bytes()).public_bytes(Encoding.DER)
    CredentialStore().set("imap:test:reader", USERS[ADDRESS])
    ws = tmp_path / "ws"
    store = Store(ws)
    principal = store.add_principal(Principal("Dana Whitfield", "Europe/Dublin", [ADDRESS]))
    account = store.add_account(Account(principal.id, "imap", ADDRESS, {
        **dovecot.settings(), "credential_key": "imap:test:reader", "tls_fingerprint": fingerprint(der)}))
    dovecot.add_message(nested_message())
    report = sync_account(store, account.id)
    assert report.errors == [], report.errors
    store.close()
    return ws, account


def save_buttons(reader) -> list[QPushButton]:
    return [b for b in reader.attachment_actions.findChildren(QPushButton) if b.text().startswith("Save")]


def test_save_fetches_the_source_and_saves_the_attachment_left_on_the_server(qtbot, make_window, imap_workspace,
                                                                           dovecot, monkeypatch, tmp_path):  # noqa: F811
    ws, account = imap_workspace
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    monkeypatch.setattr(reader_module.QStandardPaths, "writableLocation", lambda _where: str(downloads))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda _p, _t, suggested: (suggested, ""))
    window = make_window(ws)
    window.select_principal(account.principal_id)
    qtbot.waitUntil(lambda: window.inbox.model.rowCount() == 1)
    window.inbox.threads.select_row(0)
    reader = window.inbox.reader
    qtbot.waitUntil(lambda: reader.attachment_actions.isVisible())
    assert "Plans, ground floor.pdf (390.6 KB) — downloaded when you save or open it" in reader.attachments.text()
    pdf = next(b for b in save_buttons(reader) if "Plans, ground floor.pdf" in b.text())
    with qtbot.wait_signal(reader.attachment_saved, timeout=15000) as saved:
        qtbot.mouseClick(pdf, Qt.MouseButton.LeftButton)
    assert Path(saved.args[0]).name == "Plans, ground floor.pdf"
    assert Path(saved.args[0]).read_bytes() == PDF
    assert not reader.attachment_status.isVisible()
    assert "downloaded when you save" not in reader.attachments.text()  # the list is the source's now
