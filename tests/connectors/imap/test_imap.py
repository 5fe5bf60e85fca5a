"""The IMAP connector against the real Dovecot and Postfix: sending once, moves and flags both ways, IDLE, UIDVALIDITY
changes, restarts and connections cut in the middle of a FETCH or an APPEND, and a kill -9 at every step of a send."""
from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from assistant.connectors.imap import ImapConnector
from assistant.connectors.imap.errors import fingerprint
from assistant.core.errors import NeedsSignIn, PermanentError, TransientError, UserError
from assistant.domain import Account, OutboxEntry, Principal
from assistant.store import Store
from assistant.store import mail as mail_store
from assistant.sync import actions
from assistant.sync.engine import sync_account
from tests.connectors.contract import make_raw
from tests.connectors.imap.imap_handle import ADDRESS, DovecotHandle, dovecot, imap_registered, servers  # noqa: F401
from tests.connectors.imap.mailserver import USERS

ZOE = "zoe@example.com"


@pytest.fixture
def account(workspace: Store, dovecot: DovecotHandle) -> Account:  # noqa: F811
    principal = workspace.add_principal(Principal("Dana Whitfield", "Europe/Dublin", [ADDRESS]))
    return workspace.add_account(Account(principal.id, "imap", ADDRESS, dovecot.settings()))


def sync(store: Store, handle: DovecotHandle, account: Account, connector: ImapConnector | None = None):
    report = sync_account(store, account.id, connector or handle.connector(store.account(account.id)))
    assert report.errors == [], report.errors
    return report


def header_ids(store: Store, account: Account) -> list[str]:
    return sorted(r[0] for r in store.db.execute("SELECT message_id_header FROM messages WHERE account_id=?",
                                                 (account.id,)))


def folder_of(store: Store, account: Account, message_id: str) -> list[str]:
    return mail_store.message_by_header_id(store.scope(account.principal_id), message_id).folders


# -- sending ----------------------------------------------------------------------------------------------------------
def test_a_reply_arrives_once_in_the_recipients_mailbox_and_once_in_sent(workspace, dovecot, account):
    dovecot.add_message(make_raw(1, sender=f"Zoë Ng <{ZOE}>"))
    sync(workspace, dovecot, account)
    entry = actions.send_message(workspace, account.principal_id, account.id, to=ZOE, subject="",
                                 body_text="Thursday works. Dana", in_reply_to="<contract-1@example.org>")
    message_id = entry.payload["message_id_header"]
    report = sync(workspace, dovecot, account)
    assert report.outbox["sent"] == 1
    assert dovecot.wait_for("INBOX", message_id, user=ZOE).count(message_id) == 1
    assert dovecot.sent_message_ids().count(message_id) == 1
    sync(workspace, dovecot, account)  # the Sent copy replaces the local stand-in: one row
    assert header_ids(workspace, account).count(message_id) == 1
    with dovecot.client() as client:  # no marker left on the copy
        client.select_folder("Sent", readonly=True)
        uid = client.search(["HEADER", "Message-ID", message_id])[0]
        assert client.get_flags([uid])[uid] == (b"\\Seen",)


KILLER = r"""
import os, signal, ssl, sys
from assistant.connectors.imap import ImapConnector
from assistant.store import Store
from assistant.sync.engine import sync_account
store = Store(sys.argv[1])
account = store.accounts()[0]
step = sys.argv[3]
def on_step(name):
    if name == step:
        os.kill(os.getpid(), signal.SIGKILL)
connector = ImapConnector(account, credentials=sys.argv[4], on_send_step=on_step,
                          ssl_context=ssl.create_default_context(cafile=sys.argv[2]))
sync_account(store, account.id, connector)
"""


@pytest.mark.parametrize("step", ["appended", "smtp-data", "accepted", "random"])
def test_kill_9_at_any_point_of_a_send_loses_nothing_and_sends_nothing_twice(workspace, dovecot, account, servers,
                                                                               step, tmp_path):
    """A loop of sends, each killed (SIGKILL) at ``step`` — after the Sent copy is appended, right before the message
    data goes to SMTP, right after SMTP accepted it, or at a random moment — then synced again by a fresh process."""
    rounds = 3 if step != "random" else 6
    delivered: dict[str, str] = {}
    for n in range(rounds):
        entry = actions.send_message(workspace, account.principal_id, account.id, to=ZOE,
                                     subject=f"Round {step} {n}", body_text="One copy only, please.")
        delivered[entry.payload["message_id_header"]] = entry.idempotency_key
        env = {**os.environ, "PYTHONPATH": os.getcwd()}
        args = [sys.executable, "-c", KILLER, str(workspace.dir), str(servers.dovecot.cert),
                step if step != "random" else "never", USERS[ADDRESS]]
        process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if step == "random":
            time.sleep(0.3 + 0.25 * n)
            process.kill()
        _out, err = process.communicate(timeout=60)
        if step != "random":
            assert process.returncode == -9, err.decode(errors="replace")
    # the app starts again and syncs until nothing is pending
    for _ in range(3):
        sync_account(workspace, account.id, dovecot.connector(workspace.account(account.id)))
    for message_id in delivered:
        inbox = dovecot.wait_for("INBOX", message_id, user=ZOE, timeout=5)
        sent = dovecot.sent_message_ids()
        entries = [e for e in workspace.outbox(account.id, states=("done", "failed", "pending", "in-flight"))
                   if e.payload.get("message_id_header") == message_id]
        assert len(entries) == 1
        state = entries[0].state
        assert inbox.count(message_id) <= 1, "sent twice"
        assert sent.count(message_id) == 1, "lost from Sent (or doubled)"
        if state == "done":
            assert inbox.count(message_id) == 1, "marked sent but never delivered"
        else:  # the uncertain window (the server may have taken it as the app died): visible, never resent blindly
            assert state == "failed" and step in ("accepted", "smtp-data", "random"), (state, entries[0].last_error)
            assert "may have gone out" in entries[0].last_error
    if step == "appended":
        assert all(e.state == "done" for e in workspace.outbox(account.id, states=("done",)))


def test_a_refused_recipient_fails_visibly_and_leaves_no_copy_in_sent(workspace, dovecot, account):
    entry = actions.send_message(workspace, account.principal_id, account.id, to="refused@example.com",
                                 subject="Lost?", body_text="This one cannot go.")
    report = sync_account(workspace, account.id, dovecot.connector(workspace.account(account.id)))
    assert report.outbox["failed"] == 1
    assert "refused the recipients" in report.errors[0]
    assert entry.payload["message_id_header"] not in dovecot.sent_message_ids()


# -- flags and moves, both ways --------------------------------------------------------------------------------------
def test_archive_here_moves_on_the_server_and_a_move_there_shows_here(workspace, dovecot, account):
    for n in range(3):
        dovecot.add_message(make_raw(n))
    sync(workspace, dovecot, account)
    scope = workspace.scope(account.principal_id)
    message = mail_store.message_by_header_id(scope, "<contract-0@example.org>")
    actions.move_message(workspace, message.id, account.principal_id, "archive")
    sync(workspace, dovecot, account)
    assert "<contract-0@example.org>" in dovecot.message_ids("Archive")
    assert "<contract-0@example.org>" not in dovecot.message_ids("INBOX")
    sync(workspace, dovecot, account)
    assert folder_of(workspace, account, "<contract-0@example.org>") == ["Archive"]
    assert header_ids(workspace, account).count("<contract-0@example.org>") == 1
    # another client moves one to Trash and makes a folder of its own
    with dovecot.client() as client:
        client.create_folder("Clients/Acme")
        client.select_folder("INBOX")
        client.move(client.search(["HEADER", "Message-ID", "<contract-1@example.org>"]), "Trash")
        client.move(client.search(["HEADER", "Message-ID", "<contract-2@example.org>"]), "Clients/Acme")
    report = sync(workspace, dovecot, account)
    assert folder_of(workspace, account, "<contract-1@example.org>") == ["Trash"]
    assert folder_of(workspace, account, "<contract-2@example.org>") == ["Clients/Acme"]
    assert report.mail["removed"] == 2 and report.mail["added"] == 2
    roles = {f.remote_id: f.role for f in mail_store.folders(scope)}
    assert roles["Trash"] == "trash" and roles["Archive"] == "archive" and roles["Clients/Acme"] == ""


def test_move_without_the_move_extension_copies_and_expunges(workspace, dovecot, account):
    dovecot.add_message(make_raw(7))
    sync(workspace, dovecot, account)
    connector = dovecot.connector(workspace.account(account.id))
    connector.imap()._cached_capabilities = tuple(c for c in connector.imap().capabilities() if c != b"MOVE")
    assert not connector.has_capability("MOVE")
    message = mail_store.message_by_header_id(workspace.scope(account.principal_id), "<contract-7@example.org>")
    actions.move_message(workspace, message.id, account.principal_id, "trash")
    sync(workspace, dovecot, account, connector)
    assert dovecot.message_ids("Trash") == ["<contract-7@example.org>"]
    assert dovecot.message_ids("INBOX") == []


# -- incremental sync -----------------------------------------------------------------------------------------------
def test_first_sync_is_newest_first_and_resumes_after_an_interruption(workspace, dovecot, account):
    for n in range(12):
        dovecot.add_message(make_raw(n))
    connector = ImapConnector(workspace.account(account.id), credentials=USERS[ADDRESS], page_size=5,
                              ssl_context=dovecot.servers.client_context())
    pages = connector.mail_changes(None)
    first = next(pages)
    assert [m.message_id_header for m, _ in first.upserted] == [f"<contract-{n}@example.org>"
                                                                 for n in range(11, 6, -1)]
    connector.close()
    # the app stopped after storing that page: the next sync brings the rest once
    scope = workspace.scope(account.principal_id)
    for folder in first.folders:
        mail_store.upsert_folder(scope, folder)
    for message, raw in first.upserted:
        mail_store.upsert_message(scope, message, raw)
    workspace.set_cursor(account.id, "mail", first.cursor)
    report = sync(workspace, dovecot, account)
    assert report.mail == {"added": 7, "updated": 0, "removed": 0}
    assert len(header_ids(workspace, account)) == 12


def test_a_changed_uidvalidity_resyncs_without_duplicates_or_losses(workspace, dovecot, account, servers):
    for n in range(4):
        dovecot.add_message(make_raw(n))
    sync(workspace, dovecot, account)
    before = header_ids(workspace, account)
    validity = workspace.get_cursor(account.id, "mail")
    doveadm = shutil.which("doveadm") or "/usr/bin/doveadm"
    subprocess.run([doveadm, "-c", str(servers.dovecot.config), "mailbox", "update", "-u", ADDRESS,
                    "--uid-validity", "4242", "INBOX"], check=True, capture_output=True)
    report = sync(workspace, dovecot, account)
    assert report.mail["added"] == 4 and report.mail["removed"] == 4
    assert header_ids(workspace, account) == before
    remote_ids = [r[0] for r in workspace.db.execute("SELECT remote_id FROM messages WHERE account_id=?",
                                                       (account.id,))]
    assert all(r.startswith("4242:") for r in remote_ids)
    assert workspace.get_cursor(account.id, "mail") != validity
    assert sync(workspace, dovecot, account).mail == {"added": 0, "updated": 0, "removed": 0}


def test_without_condstore_flags_come_from_a_flag_fetch(workspace, dovecot, account):
    for n in range(3):
        dovecot.add_message(make_raw(n))
    connector = dovecot.connector(workspace.account(account.id))
    connector.imap()._cached_capabilities = tuple(
        c for c in connector.imap().capabilities() if c not in (b"CONDSTORE", b"QRESYNC"))
    sync(workspace, dovecot, account, connector)
    dovecot.set_flags("<contract-2@example.org>", read=True)
    dovecot.remove_message("<contract-0@example.org>")
    report = sync(workspace, dovecot, account, connector)
    assert report.mail == {"added": 0, "updated": 1, "removed": 1}
    assert mail_store.message_by_header_id(workspace.scope(account.principal_id), "<contract-2@example.org>").is_read


def test_a_folder_deleted_on_the_server_takes_its_messages_away(workspace, dovecot, account):
    dovecot.add_message(make_raw(31))
    with dovecot.client() as client:
        client.create_folder("Projects")
        client.append("Projects", make_raw(30))
    sync(workspace, dovecot, account)
    assert "<contract-30@example.org>" in header_ids(workspace, account)
    with dovecot.client() as client:
        client.delete_folder("Projects")
    report = sync(workspace, dovecot, account)
    assert report.mail["removed"] == 1
    assert "<contract-30@example.org>" not in header_ids(workspace, account)


def test_moving_to_a_folder_deleted_on_the_server_fails_in_one_line(workspace, dovecot, account):
    dovecot.add_message(make_raw(3))
    with dovecot.client() as client:
        client.create_folder("Old")
    sync(workspace, dovecot, account)
    with dovecot.client() as client:
        client.delete_folder("Old")
    message = mail_store.message_by_header_id(workspace.scope(account.principal_id), "<contract-3@example.org>")
    actions.move_message(workspace, message.id, account.principal_id, "Old")
    report = sync_account(workspace, account.id, dovecot.connector(workspace.account(account.id)))
    assert report.outbox["failed"] == 1
    assert "does not exist" in report.errors[0] and "\n" not in report.errors[0]


# -- IDLE -----------------------------------------------------------------------------------------------------------
def test_idle_wakes_within_seconds_of_a_delivery_through_the_mta(workspace, dovecot, account, servers):
    import smtplib

    connector = dovecot.connector(workspace.account(account.id))
    connector.imap()

    def deliver() -> None:
        time.sleep(0.5)
        with smtplib.SMTP("127.0.0.1", servers.postfix.smtp_port) as smtp:
            smtp.sendmail("someone@example.org", [ADDRESS], make_raw(55))

    threading.Thread(target=deliver).start()
    started = time.monotonic()
    assert connector.wait_for_mail(20)
    assert time.monotonic() - started < 5
    sync(workspace, dovecot, account, connector)
    assert "<contract-55@example.org>" in header_ids(workspace, account)


# -- faults ---------------------------------------------------------------------------------------------------------
class CuttingProxy:
    """A TCP proxy on 127.0.0.1 that cuts both sides once ``limit`` bytes went in the watched direction."""

    def __init__(self, port: int):
        self.target = port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.limit: tuple[str, int] | None = None  # ("down" server→client | "up", bytes)
        self.cut = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target))
            counter = {"up": 0, "down": 0}
            for a, b, direction in ((client, server, "up"), (server, client, "down")):
                threading.Thread(target=self._pipe, args=(a, b, direction, counter, client, server),
                                 daemon=True).start()

    def _pipe(self, a, b, direction, counter, client, server) -> None:
        try:
            while data := a.recv(4096):
                if self.limit and self.limit[0] == direction and counter[direction] + len(data) > self.limit[1]:
                    self.limit = None
                    self.cut.set()
                    for s in (client, server):
                        s.shutdown(socket.SHUT_RDWR)
                        s.close()
                    return
                counter[direction] += len(data)
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.close()
                except OSError:
                    pass

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def proxy(servers):
    cutting = CuttingProxy(servers.dovecot.imap_port)
    yield cutting
    cutting.close()


def big_raw(n: int) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"] = "Zoë Ng <zoe@example.org>", ADDRESS
    msg["Subject"], msg["Message-ID"] = f"Scans {n}", f"<big-{n}@example.org>"
    msg.set_content("The scans, as promised.")
    msg.add_attachment(os.urandom(200_000), maintype="application", subtype="octet-stream", filename="scan.bin")
    return msg.as_bytes()


# imaplib leaves the TLS socket of a connection the peer cut to the garbage collector (a ResourceWarning when it is
# collected); the connector drops and replaces the connection, which is what these tests check.
CUT_SOCKET = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@CUT_SOCKET
def test_a_connection_cut_in_the_middle_of_a_fetch_loses_and_doubles_nothing(workspace, dovecot, account, proxy,
                                                                             monkeypatch):
    from assistant.connectors.imap import parts

    monkeypatch.setattr(parts, "ON_DEMAND_MIN_BYTES", 10_000_000)  # attachments read with the messages: big FETCHes
    for n in range(6):
        dovecot.add_message(big_raw(n))
    settings = {**dovecot.settings(), "imap_port": proxy.port}
    workspace.update_account_settings(account.id, settings)
    connector = ImapConnector(workspace.account(account.id), credentials=USERS[ADDRESS], page_size=2,
                              ssl_context=dovecot.servers.client_context())
    connector.imap()
    proxy.limit = ("down", 1_250_000)  # in the third page's FETCH (the engine reads a page ahead)
    report = sync_account(workspace, account.id, connector)
    assert proxy.cut.is_set()
    assert report.status == "offline" and "connection dropped" in report.errors[0]
    assert 0 < len(header_ids(workspace, account)) < 6
    report = sync_account(workspace, account.id, connector)  # the same connector reconnects
    assert report.errors == []
    assert header_ids(workspace, account) == sorted(f"<big-{n}@example.org>" for n in range(6))


@CUT_SOCKET
def test_a_connection_cut_in_the_middle_of_an_append_sends_once(workspace, dovecot, account, proxy):
    settings = {**dovecot.settings(), "imap_port": proxy.port}
    workspace.update_account_settings(account.id, settings)
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = ADDRESS, ZOE, "The signed contract"
    key = "append-cut-1"
    msg["Message-ID"] = f"<{key}@example.com>"
    msg.set_content("Attached.")
    msg.add_attachment(os.urandom(300_000), maintype="application", subtype="pdf", filename="contract.pdf")
    entry = OutboxEntry(account.principal_id, account.id, "send",
                        {"raw": base64.b64encode(msg.as_bytes()).decode(), "message_id_header": msg["Message-ID"]},
                        key, id=1)
    connector = ImapConnector(workspace.account(account.id), credentials=USERS[ADDRESS],
                              ssl_context=dovecot.servers.client_context())
    connector.folders()
    proxy.limit = ("up", 150_000)
    with pytest.raises(TransientError, match="connection dropped"):
        connector.apply(entry)
    assert proxy.cut.is_set()
    result = connector.apply(entry)  # the retry
    assert result["remote_id"]
    assert dovecot.sent_message_ids().count(msg["Message-ID"]) == 1
    assert dovecot.wait_for("INBOX", msg["Message-ID"], user=ZOE).count(msg["Message-ID"]) == 1


def test_a_server_restart_is_offline_for_one_call_then_syncs_again(workspace, dovecot, account, servers):
    dovecot.add_message(make_raw(1))
    connector = dovecot.connector(workspace.account(account.id))
    sync(workspace, dovecot, account, connector)
    servers.dovecot.restart()
    dovecot.add_message(make_raw(2))
    report = sync_account(workspace, account.id, connector)
    if report.errors:  # the old connection was dead: offline, retried by the next pass
        assert report.status == "offline"
        report = sync_account(workspace, account.id, connector)
    assert report.errors == []
    assert header_ids(workspace, account) == ["<contract-1@example.org>", "<contract-2@example.org>"]


# -- errors a user can act on ---------------------------------------------------------------------------------------
def test_a_wrong_password_asks_to_sign_in_again(workspace, dovecot, account, servers):
    connector = ImapConnector(workspace.account(account.id), credentials="not it",
                              ssl_context=servers.client_context())
    with pytest.raises(NeedsSignIn, match="refused the password for principal@example.com"):
        connector.mail_changes(None).__next__()
    report = sync_account(workspace, account.id, connector)
    assert report.status == "needs-sign-in"


def test_an_untrusted_certificate_names_its_fingerprint_and_a_pinned_one_works(workspace, dovecot, account, servers):
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    der = x509.load_pem_x509_certificate(Path(servers.dovecot.cert).read_bytes()).public_bytes(Encoding.DER)
    expected = fingerprint(der)
    untrusting = ImapConnector(workspace.account(account.id), credentials=USERS[ADDRESS])
    with pytest.raises(UserError) as failure:
        untrusting.folders()
    assert expected in str(failure.value) and "not trusted" in str(failure.value)
    assert "\n" not in str(failure.value)
    workspace.update_account_settings(account.id, {**dovecot.settings(), "tls_fingerprint": expected})
    pinned = ImapConnector(workspace.account(account.id), credentials=USERS[ADDRESS])
    assert pinned.health() == "ok"
    pinned.close()
    workspace.update_account_settings(account.id, {**dovecot.settings(), "tls_fingerprint": "AB" * 32})
    other = ImapConnector(workspace.account(account.id), credentials=USERS[ADDRESS])
    assert "not the one trusted before" in other.health()
    untrusting.close()
    other.close()


def test_an_unreachable_server_is_offline(workspace, account):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    workspace.update_account_settings(account.id, {**account.settings, "imap_port": closed})
    connector = ImapConnector(workspace.account(account.id), credentials="x")
    report = sync_account(workspace, account.id, connector)
    assert report.status == "offline"
    assert f"127.0.0.1:{closed} refused the connection" in report.errors[0]


def test_app_password_and_quota_messages(account):
    from assistant.connectors.imap import errors

    needs = errors.login_failure("[ALERT] Application-specific password required: https://support.google.com/x",
                                 "dana@gmail.com", "imap.gmail.com", "https://myaccount.google.com/apppasswords")
    assert "wants an app password" in str(needs) and "myaccount.google.com/apppasswords" in str(needs)
    import smtplib

    quota = errors.smtp_failure(smtplib.SMTPDataError(552, b"5.2.2 Mailbox full"), "u", "smtp.example.com", 587)
    assert isinstance(quota, PermanentError) and "over quota" in str(quota)


def test_the_pass_after_an_idle_wake_reads_only_the_watched_folder(workspace, dovecot, account):
    dovecot.add_message(make_raw(60))
    sync(workspace, dovecot, account)
    with dovecot.client() as client:  # another client files a message in Archive, then mail arrives in the INBOX
        client.append("Archive", make_raw(61))
    dovecot.add_message(make_raw(62))
    connector = dovecot.connector(workspace.account(account.id))
    selected: list[str] = []
    select = connector.select
    connector.select = lambda folder, readonly: (selected.append(folder), select(folder, readonly=readonly))[1]
    report = sync_account(workspace, account.id, connector, woken_folder="INBOX")
    assert report.errors == [], report.errors
    assert selected == ["INBOX"]
    assert "<contract-62@example.org>" in header_ids(workspace, account)
    assert "<contract-61@example.org>" not in header_ids(workspace, account)
    sync(workspace, dovecot, account)  # the next full pass still finds what the narrow one left
    assert "<contract-61@example.org>" in header_ids(workspace, account)
    assert "<contract-60@example.org>" in header_ids(workspace, account)


def test_watch_renews_idle_and_stops_when_told(workspace, dovecot, account):
    connector = dovecot.connector(workspace.account(account.id))
    stop = threading.Event()
    sent: list[str] = []
    client = connector.imap()
    idle = client.idle
    client.idle = lambda: (sent.append("IDLE"), idle())[1]  # type: ignore[method-assign]
    threading.Timer(1.5, stop.set).start()
    started = time.monotonic()
    assert connector.watch(stop, renew_after_s=0.4, tick_s=0.1) is False
    assert time.monotonic() - started < 2.5
    assert len(sent) >= 3  # IDLE ended and started again every 0.4 s
    dovecot.add_message(make_raw(63))  # the connection is still good for the next watch
    assert connector.watch(threading.Event(), tick_s=0.1) is True
