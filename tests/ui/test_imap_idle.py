"""New mail while the window is open, through the real window against the real Dovecot + Postfix: the window's IDLE
watch wakes on a delivery and the narrow sync that follows puts the message in the thread list with no user action."""
from __future__ import annotations

import smtplib
import time
from pathlib import Path

import pytest

from assistant.connectors.imap.errors import fingerprint
from assistant.core.credentials import CredentialStore
from assistant.domain import Account, Principal
from assistant.store import Store
from assistant.sync.engine import sync_account
from assistant.ui.mail.inbox import ThreadListModel
from tests.connectors.contract import make_raw
from tests.connectors.imap.imap_handle import ADDRESS, DovecotHandle, dovecot, imap_registered, servers  # noqa: F401
from tests.connectors.imap.mailserver import USERS


@pytest.fixture
def imap_workspace(tmp_path, dovecot: DovecotHandle, servers):  # noqa: F811
    """A workspace with one IMAP account as adding it in the app leaves it: its password in the credential store and
    the test server's certificate pinned (the user trusted it), synced once."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    der = x509.load_pem_x509_certificate(Path(servers.dovecot.cert).read_bytes()).public_bytes(Encoding.DER)
    CredentialStore().set("imap:test:idle", USERS[ADDRESS])
    ws = tmp_path / "ws"
    store = Store(ws)
    principal = store.add_principal(Principal("Dana Whitfield", "Europe/Dublin", [ADDRESS]))
    account = store.add_account(Account(principal.id, "imap", ADDRESS, {
        **dovecot.settings(), "credential_key": "imap:test:idle", "tls_fingerprint": fingerprint(der)}))
    dovecot.add_message(make_raw(1, subject="Already there"))
    report = sync_account(store, account.id)
    assert report.errors == [], report.errors
    store.close()
    return ws, account


def subjects(window) -> list[str]:
    model = window.inbox.model
    return [model.index(r, ThreadListModel.SUBJECT).data() for r in range(model.rowCount())]


def deliver(servers, n: int, subject: str) -> None:  # noqa: F811
    with smtplib.SMTP("127.0.0.1", servers.postfix.smtp_port) as smtp:
        smtp.sendmail("someone@example.org", [ADDRESS], make_raw(n, subject=subject))


def test_mail_delivered_through_postfix_is_in_the_thread_list_within_5_s(qtbot, make_window, imap_workspace,
                                                                          servers):  # noqa: F811
    ws, account = imap_workspace
    window = make_window(ws)
    qtbot.waitUntil(lambda: "Already there" in subjects(window), timeout=5000)
    qtbot.waitUntil(lambda: account.id in window.idle.watched, timeout=5000)
    time.sleep(1.0)  # the watch is in IDLE (it selects the INBOX first)
    started = time.monotonic()
    deliver(servers, 2, "Arrived while open")
    qtbot.waitUntil(lambda: "Arrived while open" in subjects(window), timeout=5000)
    assert time.monotonic() - started < 5
    # and again: the watch went back to IDLE after its wake
    deliver(servers, 3, "And another")
    qtbot.waitUntil(lambda: "And another" in subjects(window), timeout=5000)
    assert subjects(window).count("Arrived while open") == 1


def test_closing_the_window_ends_the_watch(qtbot, make_window, imap_workspace):
    ws, account = imap_workspace
    window = make_window(ws)
    qtbot.waitUntil(lambda: account.id in window.idle.watched, timeout=5000)
    threads = [t for t, _stop in window.idle._watches.values()]
    started = time.monotonic()
    window.close()
    assert time.monotonic() - started < 3
    assert not any(t.is_alive() for t in threads)

