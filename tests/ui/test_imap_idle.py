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



@pytest.mark.parametrize("drop", ["kick", "crash"])
def test_the_watch_reconnects_after_the_server_drops_it_and_mail_still_shows(qtbot, make_window, imap_workspace,
                                                                           servers, drop):  # noqa: F811
    """The IMAP session ended on the server (`doveadm kick`: BYE, then closed; or Dovecot's imap process killed): the
    watch opens a new connection after a short pause and mail delivered after the drop shows within seconds."""
    ws, account = imap_workspace
    window = make_window(ws)
    qtbot.waitUntil(lambda: account.id in window.idle.watched, timeout=5000)
    time.sleep(1.0)
    if drop == "kick":
        servers.dovecot.kick(ADDRESS)
    else:
        servers.dovecot.kill_imap_processes()
    time.sleep(0.5)
    started = time.monotonic()
    deliver(servers, 4, "After the drop")
    qtbot.waitUntil(lambda: "After the drop" in subjects(window), timeout=10000)
    assert time.monotonic() - started < 8
    assert not window.notice.isVisible() or "watch" not in window.notice.label.text()
    # the new connection is in IDLE again: the next delivery wakes it as before
    time.sleep(1.0)
    deliver(servers, 5, "Second after the drop")
    qtbot.waitUntil(lambda: "Second after the drop" in subjects(window), timeout=5000)


def test_the_watch_comes_back_after_the_server_restarts(qtbot, make_window, imap_workspace, servers):  # noqa: F811
    ws, account = imap_workspace
    window = make_window(ws)
    qtbot.waitUntil(lambda: account.id in window.idle.watched, timeout=5000)
    time.sleep(1.0)
    servers.dovecot.restart()
    started = time.monotonic()
    deliver(servers, 6, "After the restart")
    qtbot.waitUntil(lambda: "After the restart" in subjects(window), timeout=12000)
    assert time.monotonic() - started < 10


def test_a_refused_password_ends_the_watch_with_one_visible_line(qtbot, make_window, imap_workspace):
    ws, account = imap_workspace
    CredentialStore().set("imap:test:idle", "not-the-password")
    window = make_window(ws)
    qtbot.waitUntil(lambda: window.notice.isVisible() and "password" in window.notice.label.text(), timeout=10000)
    text = window.notice.label.text()
    assert "\n" not in text and ADDRESS in text
    qtbot.waitUntil(lambda: account.id not in window.idle.watched, timeout=5000)
    # not a silent loop: the watch stays ended, also after the window reloads its accounts
    window.idle.follow(window._accounts)
    qtbot.wait(1000)
    assert account.id not in window.idle.watched


def test_a_server_gone_for_good_is_said_in_one_line_and_tried_again_slowly(qtbot, imap_workspace):
    """Nothing listens where the account's server was: after a few quick tries the watch says so once (the window
    shows it as an error notice) and keeps trying at a growing interval, never faster than the last."""
    from assistant.connectors.imap import ImapConnector
    from assistant.ui.idle import IdleWatches
    from tests.connectors.imap.mailserver import free_port

    ws, account = imap_workspace
    store = Store(ws)
    gone = store.account(account.id)
    store.close()
    gone.settings = {**gone.settings, "imap_port": free_port()}
    attempts: list[float] = []

    def connect(acc: Account) -> ImapConnector:
        attempts.append(time.monotonic())
        return ImapConnector(acc, credentials=USERS[ADDRESS], timeout=5)

    watches = IdleWatches(connect=connect, tick_s=0.1)
    failed: list[tuple[int, str]] = []
    watches.failed.connect(lambda account_id, text: failed.append((account_id, text)))
    watches.follow([gone])
    try:
        qtbot.waitUntil(lambda: bool(failed), timeout=15000)
        assert failed[0][0] == account.id
        assert "refused the connection" in failed[0][1] and "\n" not in failed[0][1]
        count = len(attempts)
        qtbot.wait(2000)
        assert len(failed) == 1  # said once, not at every try
        assert len(attempts) <= count + 1
        gaps = [b - a for a, b in zip(attempts, attempts[1:], strict=False)]
        assert gaps == sorted(gaps) or max(gaps) - min(gaps) < 0.5
    finally:
        watches.stop()
