"""IMAP and SMTP signed in with the principal's Google sign-in (SASL XOAUTH2) against the real Dovecot and Postfix
(``oauth_handle``: Dovecot checks tokens at an introspection endpoint that asks the fake Google; nothing calls Google):
no password kept, an expired token renewed once, a refused or revoked one said in one line."""
from __future__ import annotations

import datetime
import io
import json
import re
import ssl

import pytest

from assistant.cli.main import main
from assistant.connectors.gmail import auth as gmail_auth
from assistant.connectors.imap.errors import fingerprint
from assistant.connectors.imap.signin import ImapSignIn, sign_in_oauth
from assistant.connectors.outlook import auth as outlook_auth
from assistant.core.errors import NeedsSignIn, UsageError, UserError
from assistant.domain import Principal
from assistant.store import Store
from assistant.sync import actions
from assistant.sync.engine import sync_account
from tests.connectors.contract import make_raw
from tests.connectors.imap.imap_handle import ADDRESS, dovecot, imap_registered  # noqa: F401
from tests.connectors.imap.oauth_handle import (  # noqa: F401
    connect,
    fresh,
    gmail_sign_in,
    google,
    imap_settings,
    introspection,
    saved_token,
    servers,
)
from tests.fakes.microsoft import FakeMicrosoft, make_self_signed_cert

ZOE = "zoe@example.com"


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


def test_a_google_sign_in_without_imap_access_says_how_to_get_it(workspace, principal, google, memory_keyring):
    gmail = gmail_sign_in(workspace, google, principal.id)
    credentials = gmail_auth.load_credentials(gmail)
    narrow = gmail_auth.credentials_from_json(json.dumps({**json.loads(credentials.to_json()),
                                                          "scopes": gmail_auth.scopes_for()}))
    gmail_auth.save_credentials(gmail, narrow)  # signed in without --imap
    google.reset_log()
    request = ImapSignIn(ADDRESS, imap_host="127.0.0.1:9", security="plain", oauth=True)
    with pytest.raises(NeedsSignIn, match=r"does not cover IMAP: sign in to Gmail again with IMAP access "
                                          r"\(account add gmail --imap\)$"):
        sign_in_oauth(workspace, principal.id, request)
    assert google.calls() == 0 and [a.kind for a in workspace.accounts(principal.id)] == ["gmail"]
    assert gmail_auth.IMAP_SCOPE in gmail_auth.scopes_for(imap=True)
    assert gmail_auth.IMAP_SCOPE not in gmail_auth.scopes_for(contacts=True)


@pytest.fixture
def microsoft(tmp_path, monkeypatch, introspection):  # noqa: F811
    cert, key = make_self_signed_cert(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    with FakeMicrosoft(cert, key, user=ADDRESS) as ms:
        monkeypatch.setenv("ASSISTANT_MS_AUTHORITY", ms.authority)
        introspection.microsoft = ms
        yield ms
        introspection.microsoft = None


def test_the_outlook_sign_in_logs_in_with_a_token_for_outlooks_own_imap_and_smtp(
        workspace, principal, microsoft, introspection, servers, dovecot, memory_keyring):  # noqa: F811
    def approve(message: str) -> None:  # the principal enters the device code at the (fake) verification page
        microsoft.approve(re.search(r"enter the code (\w+)", message).group(1))

    outlook = outlook_auth.sign_in(workspace, principal.id, "3f0c9a51-6b55-4d1e-8f1b-1d2f7b9e0c11", device_code=True,
                                   print_fn=approve)
    account = sign_in_oauth(workspace, principal.id, imap_settings(servers), ssl_context=servers.client_context())
    assert account.settings["oauth"]["provider"] == "outlook"
    assert account.settings["oauth"]["account_id"] == outlook.id
    renewals = [r for r in microsoft.token_requests if r["grant_type"] == "refresh_token"]
    assert len(renewals) == 1 and set(renewals[0]["scope"].split()) >= set(outlook_auth.IMAP_SCOPES)
    assert introspection.asked[-1] in microsoft.access_tokens

    dovecot.add_message(make_raw(5, sender=f"Zoë Ng <{ZOE}>"))
    entry = actions.send_message(workspace, principal.id, account.id, to=ZOE, subject="Outlook", body_text="Sent.")
    report = sync_account(workspace, account.id, connect(dovecot, account))
    assert report.errors == [] and report.outbox["sent"] == 1 and report.mail["added"] >= 1
    message_id = entry.payload["message_id_header"]
    assert dovecot.wait_for("INBOX", message_id, user=ZOE).count(message_id) == 1
    assert len([r for r in microsoft.token_requests if r["grant_type"] == "refresh_token"]) == 1  # msal's cache
    assert sorted(name for (_, name) in memory_keyring.secrets if not name.startswith("workspace:")) == [
        outlook_auth.account_key(outlook.id)]
    with pytest.raises(UserError, match="browser sign-in only: leave out --device-code"):
        outlook_auth.sign_in(workspace, principal.id, "3f0c9a51-6b55-4d1e-8f1b-1d2f7b9e0c11", device_code=True,
                             imap=True, print_fn=approve)


def test_an_account_that_had_a_password_forgets_it_when_it_takes_the_sign_in(
        workspace, principal, google, servers, dovecot, memory_keyring):  # noqa: F811
    from assistant.connectors.imap.signin import sign_in
    from tests.connectors.imap.mailserver import USERS

    with_password = sign_in(workspace, principal.id, ImapSignIn(
        ADDRESS, imap_host=f"127.0.0.1:{servers.dovecot.imap_port}", security="starttls"), USERS[ADDRESS],
        ssl_context=servers.client_context())
    assert memory_keyring.get_password("assistant", with_password.settings["credential_key"]) == USERS[ADDRESS]
    gmail_sign_in(workspace, google, principal.id)
    shared = sign_in_oauth(workspace, principal.id, imap_settings(servers), ssl_context=servers.client_context())
    assert shared.id == with_password.id and "credential_key" not in shared.settings
    assert memory_keyring.get_password("assistant", with_password.settings["credential_key"]) is None
