"""IMAP and SMTP signed in with the principal's Google sign-in (SASL XOAUTH2) against the real Dovecot and Postfix.

Dovecot checks each bearer token at an introspection endpoint (its passdb ``oauth2``) that this module serves on
127.0.0.1 and that asks the fake Google whether the token is one it issued and still honours; Postfix takes
``AUTH XOAUTH2`` through Dovecot's SASL. The Google side is the fake of the Gmail connector's tests (its token
endpoint renews the sign-in): nothing here calls Google.
"""
from __future__ import annotations

import datetime
import io
import json
import ssl
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from assistant.cli.main import main
from assistant.connectors.gmail import auth as gmail_auth
from assistant.connectors.imap import ImapConnector
from assistant.connectors.imap.errors import fingerprint
from assistant.connectors.imap.signin import ImapSignIn, sign_in_oauth
from assistant.core.errors import NeedsSignIn, UsageError
from assistant.domain import Account, Principal
from assistant.store import Store
from assistant.sync import actions
from assistant.sync.engine import sync_account
from tests.connectors.contract import make_raw
from tests.connectors.imap.imap_handle import ADDRESS, DovecotHandle, dovecot, imap_registered  # noqa: F401
from tests.connectors.imap.mailserver import MailServers, mail_servers
from tests.fakes.google import FakeGoogle

ZOE = "zoe@example.com"


class Introspection:
    """RFC 7662 token introspection as Dovecot's ``introspection_mode = post`` asks it: active only for a token the
    fake Google issued and still honours, and only for its own address; ``refusing`` turns every token away."""

    def __init__(self, google: FakeGoogle):
        self.google = google
        self.refusing = False
        self.asked: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                token = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode())).get("token", "")
                outer.asked.append(token)
                with outer.google.lock:
                    active = token in outer.google.access_tokens and not outer.refusing
                body = json.dumps({"active": True, "username": outer.google.email_address} if active
                                  else {"active": False}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="introspection", daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/introspect"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def google() -> Iterator[FakeGoogle]:
    with FakeGoogle(email_address=ADDRESS) as fake:
        yield fake


@pytest.fixture(scope="module")
def introspection(google: FakeGoogle) -> Iterator[Introspection]:
    endpoint = Introspection(google)
    yield endpoint
    endpoint.close()


@pytest.fixture(scope="module")
def servers(introspection: Introspection) -> Iterator[MailServers]:  # the password servers' own, with OAuth2 too
    with mail_servers(oauth_introspection_url=introspection.url) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(introspection: Introspection) -> None:
    introspection.refusing = False


def gmail_sign_in(store: Store, google: FakeGoogle, principal_id: int, *, expired: bool = False) -> Account:
    """What a finished ``account add gmail`` leaves: the account, and its Google credentials in the keyring."""
    info = google.issue_credentials()
    expiry = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) + datetime.timedelta(hours=-1 if expired else 1)
    credentials = gmail_auth.credentials_from_json(json.dumps({**info, "expiry": expiry.isoformat() + "Z"}))
    account = store.add_account(Account(principal_id, "gmail", ADDRESS,
                                        {"credential_key": gmail_auth.credential_key(principal_id, ADDRESS)}))
    gmail_auth.save_credentials(account, credentials)
    if expired:
        google.access_tokens.discard(info["token"])  # timed out at Google as well
    return account


def connect(dovecot: DovecotHandle, account: Account) -> ImapConnector:  # noqa: F811
    """A connector logging in with the account's Google sign-in; the handle closes it after the test."""
    made = ImapConnector(account, ssl_context=dovecot.servers.client_context())
    dovecot.made.append(made)
    return made


def saved_token(account: Account) -> str:
    return str(gmail_auth.load_credentials(account).token)


def imap_settings(servers: MailServers) -> ImapSignIn:
    return ImapSignIn(ADDRESS, imap_host=f"127.0.0.1:{servers.dovecot.imap_port}",
                      smtp_host=f"127.0.0.1:{servers.postfix.submission_port}", security="starttls", oauth=True)


@pytest.fixture
def principal(workspace: Store) -> Principal:
    return workspace.add_principal(Principal("Dana Whitfield", "Europe/Dublin", [ADDRESS]))


def test_the_gmail_sign_in_logs_in_to_imap_syncs_and_sends_with_no_password(
        workspace, principal, google, introspection, servers, dovecot, memory_keyring):
    gmail = gmail_sign_in(workspace, google, principal.id)
    account = sign_in_oauth(workspace, principal.id, imap_settings(servers), ssl_context=servers.client_context())
    assert account.settings["oauth"]["provider"] == "gmail" and "credential_key" not in account.settings
    assert "caldav_url" not in account.settings  # the calendar comes through the Gmail account
    assert introspection.asked[-1] == saved_token(gmail)

    dovecot.add_message(make_raw(1, sender=f"Zoë Ng <{ZOE}>"))
    connector = connect(dovecot, account)
    report = sync_account(workspace, account.id, connector)
    assert report.errors == [] and report.mail["added"] == 1
    entry = actions.send_message(workspace, principal.id, account.id, to=ZOE, subject="Thursday",
                                 body_text="Thursday works. Dana")
    report = sync_account(workspace, account.id, connect(dovecot, account))
    assert report.errors == [] and report.outbox["sent"] == 1  # over SMTP AUTH XOAUTH2 through Postfix
    message_id = entry.payload["message_id_header"]
    assert dovecot.wait_for("INBOX", message_id, user=ZOE).count(message_id) == 1
    assert google.calls("POST", "^/token$") == 0  # the token was fresh: nothing renewed
    # nothing but the Google sign-in (and the workspace's key) in the credential store
    assert sorted(name for (_, name) in memory_keyring.secrets if not name.startswith("workspace:")) == [
        gmail.settings["credential_key"]]


def test_an_expired_token_is_renewed_once_through_the_token_endpoint_then_works(
        workspace, principal, google, introspection, servers, dovecot, memory_keyring):
    gmail = gmail_sign_in(workspace, google, principal.id)
    account = sign_in_oauth(workspace, principal.id, imap_settings(servers), ssl_context=servers.client_context())
    old = saved_token(gmail)
    credentials = gmail_auth.load_credentials(gmail)
    credentials.expiry = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) - datetime.timedelta(minutes=1)
    gmail_auth.save_credentials(gmail, credentials)
    google.access_tokens.discard(old)
    google.reset_log()

    dovecot.add_message(make_raw(2, sender=f"Zoë Ng <{ZOE}>"))
    report = sync_account(workspace, account.id, connect(dovecot, account))
    assert report.errors == [] and report.mail["added"] == 1
    assert google.calls("POST", "^/token$") == 1
    renewed = saved_token(gmail)
    assert renewed != old and introspection.asked[-1] == renewed  # saved where the Gmail connector reads it
    actions.send_message(workspace, principal.id, account.id, to=ZOE, subject="Re", body_text="Yes")
    report = sync_account(workspace, account.id, connect(dovecot, account))
    assert report.errors == [] and report.outbox["sent"] == 1
    assert google.calls("POST", "^/token$") == 1  # the renewed token served the next login and SMTP too


def test_a_token_the_server_refuses_is_renewed_once_then_asks_to_sign_in_again(
        workspace, principal, google, introspection, servers, dovecot, memory_keyring):
    gmail_sign_in(workspace, google, principal.id)
    account = sign_in_oauth(workspace, principal.id, imap_settings(servers), ssl_context=servers.client_context())
    introspection.refusing = True
    google.reset_log()
    connector = connect(dovecot, account)
    with pytest.raises(NeedsSignIn) as refused:
        connector.folders()
    assert "refused the Google sign-in of principal@example.com" in str(refused.value)
    assert str(refused.value).endswith("sign in to Gmail again") and "\n" not in str(refused.value)
    assert google.calls("POST", "^/token$") == 1
    with pytest.raises(NeedsSignIn, match="sign in to Gmail again$"):  # SMTP likewise
        connector._smtp_send(make_raw(3, sender=ADDRESS))
    assert google.calls("POST", "^/token$") == 2
    report = sync_account(workspace, account.id, connect(dovecot, account))
    assert workspace.account(account.id).status.value == "needs-sign-in", report.errors


def test_a_revoked_google_sign_in_asks_to_sign_in_again_in_one_line(
        workspace, principal, google, servers, dovecot, memory_keyring):
    gmail = gmail_sign_in(workspace, google, principal.id, expired=True)
    account = sign_in_oauth(workspace, principal.id, imap_settings(servers), ssl_context=servers.client_context())
    assert saved_token(gmail) in google.access_tokens  # the sign-in renewed the expired token before logging in
    google.revoke_grants()
    credentials = gmail_auth.load_credentials(gmail)
    credentials.expiry = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) - datetime.timedelta(minutes=1)
    gmail_auth.save_credentials(gmail, credentials)
    with pytest.raises(NeedsSignIn) as refused:
        connect(dovecot, account).folders()
    assert "no longer works: sign in to Gmail again" in str(refused.value) and "\n" not in str(refused.value)


def test_add_imap_with_oauth_from_the_command_line_asks_no_password(
        tmp_path, capsys, monkeypatch, google, servers, dovecot, memory_keyring):
    ws = tmp_path / "ws"
    monkeypatch.setenv(gmail_auth.API_ROOT_ENV, google.root)

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(""))  # nothing to read: no password is asked
        code = main(["--workspace", str(ws), *args])
        out = capsys.readouterr()
        return code, out.out, out.err

    assert run("principal", "add", "Dana Whitfield", "--timezone", "Europe/Dublin", "--email", ADDRESS)[0] == 0
    server_fp = fingerprint(ssl.PEM_cert_to_DER_cert(servers.dovecot.cert.read_text()))
    add = ("account", "add", "imap", "--principal", "Dana Whitfield", "--imap-host",
           f"127.0.0.1:{servers.dovecot.imap_port}", "--smtp-host", f"127.0.0.1:{servers.postfix.submission_port}",
           "--security", "starttls", "--trust-fingerprint", server_fp, "--user", ADDRESS, "--oauth")
    code, _out, err = run(*add)
    assert code != 0 and "no Gmail or Outlook account of principal@example.com" in err and err.count("\n") == 1
    store = Store(ws)
    try:
        gmail_sign_in(store, google, store.principals()[0].id)
    finally:
        store.close()
    code, out, err = run(*add)
    assert code == 0, err
    assert "with the Google sign-in" in out
    dovecot.add_message(make_raw(4, sender=f"Zoë Ng <{ZOE}>"))
    code, out, err = run("--json", "sync")
    assert code == 0, out + err
    imap = [a for a in json.loads(out)["accounts"] if a["kind"] == "imap"]
    assert imap and imap[0]["messages"]["added"] == 1, out


def test_oauth_goes_with_the_providers_that_have_it():
    with pytest.raises(UsageError, match="takes no password over IMAP"):
        ImapSignIn("dana@contoso.com", preset="outlook").settings()
    with pytest.raises(UsageError, match="--oauth goes with --preset gmail, outlook"):
        ImapSignIn("dana@icloud.com", preset="icloud", oauth=True).settings()
    settings = ImapSignIn("dana@contoso.com", preset="outlook", oauth=True).settings()
    assert (settings["imap_host"], settings["smtp_host"], settings["smtp_security"]) == (
        "outlook.office365.com", "smtp.office365.com", "starttls")
    assert "caldav_url" not in ImapSignIn("dana@gmail.com", preset="gmail", oauth=True).settings()
