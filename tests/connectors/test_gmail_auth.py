"""Signing in to Google with the real google-auth-oauthlib loopback flow; the test plays the browser."""
from __future__ import annotations

import json
import queue
import re
import threading
import urllib.parse

import keyring
import pytest
import requests
from keyring.backends import fail

from assistant.connectors.gmail import SCOPES, GmailConnector, sign_in
from assistant.connectors.gmail.auth import load_credentials
from assistant.core.errors import CredentialStoreUnavailable, InvalidInput, UserError
from assistant.domain import AccountStatus, Principal
from assistant.sync.engine import sync_account
from tests.connectors.contract import make_raw
from tests.fakes.google import FakeGoogle


@pytest.fixture
def google(monkeypatch):
    fake = FakeGoogle(email_address="ada@example.com").start()
    monkeypatch.setenv("ASSISTANT_GOOGLE_API_ROOT", fake.root)
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the fake's token endpoint is plain http on 127.0.0.1
    yield fake
    fake.stop()


@pytest.fixture
def principal(workspace):
    return workspace.add_principal(Principal("Ada", "Europe/London", ["ada@example.com"]))


class Browser(threading.Thread):
    """The user: waits for the address ``sign_in`` prints, opens it, and lets the redirect reach the loopback server."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.printed: queue.Queue[str] = queue.Queue()
        self.url = ""
        self.answer: requests.Response | None = None
        self.start()

    def run(self) -> None:
        line = self.printed.get(timeout=30)
        self.url = re.search(r"https?://\S+", line).group(0)
        with requests.Session() as session:
            self.answer = session.get(self.url, timeout=30)  # the fake consents at once and redirects to localhost


def signed_in(workspace, principal, secrets_path):
    browser = Browser()
    account = sign_in(workspace, principal.id, secrets_path, open_browser=False, print_fn=browser.printed.put,
                      timeout_seconds=30)
    browser.join(30)
    return account, browser


def test_sign_in_without_a_browser_stores_the_grant_only_in_the_keyring(workspace, google, principal, tmp_path,
                                                                         memory_keyring):
    secrets_path = google.write_client_secrets(tmp_path / "client_secret.json")
    account, browser = signed_in(workspace, principal, secrets_path)
    url, answer = browser.url, browser.answer
    assert answer.status_code == 200 and "Signed in" in answer.text

    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert url.startswith(google.root + "o/oauth2/auth")  # the auth_uri of the client-secrets file
    assert query["code_challenge_method"] == "S256" and query["access_type"] == "offline"
    assert query["scope"].split() == SCOPES
    assert re.match(r"http://localhost:\d+/$", query["redirect_uri"])

    assert (account.kind, account.address, account.principal_id) == ("gmail", "ada@example.com", principal.id)
    assert workspace.accounts(principal.id) == [account]
    # the grant, beside the workspace's own encryption key
    (stored,) = [secret for (_, name), secret in memory_keyring.secrets.items() if not name.startswith("workspace:")]
    grant = json.loads(stored)
    assert grant["refresh_token"] and grant["token_uri"] == google.root + "token"
    # No secret in the account settings or anywhere in the workspace files.
    assert "refresh" not in json.dumps(account.settings) and "secret" not in json.dumps(account.settings)
    workspace.db.execute("PRAGMA wal_checkpoint(FULL)")
    for path in workspace.dir.rglob("*"):
        if path.is_file() and path != secrets_path:
            assert grant["refresh_token"].encode() not in path.read_bytes(), path

    # The stored grant works: the mailbox comes in.
    google.add_message(make_raw(1))
    connector = GmailConnector(account, sleep=lambda s: None)
    report = sync_account(workspace, account.id, connector)
    connector.close()
    assert report.errors == [] and report.mail["added"] == 1


def test_signing_in_again_reuses_the_account_and_clears_needs_sign_in(workspace, google, principal, tmp_path):
    secrets_path = google.write_client_secrets(tmp_path / "client_secret.json")
    first, _ = signed_in(workspace, principal, secrets_path)
    google.revoke_grants()
    workspace.set_account_status(first.id, AccountStatus.NEEDS_SIGN_IN, "sign in again")
    again, _ = signed_in(workspace, principal, secrets_path)
    assert again.id == first.id and again.status is AccountStatus.OK
    assert len(workspace.accounts(principal.id)) == 1
    assert load_credentials(again).refresh_token in google.refresh_tokens


def test_no_secure_keyring_fails_before_the_browser_opens(workspace, google, principal, tmp_path):
    keyring.set_keyring(fail.Keyring())
    secrets_path = google.write_client_secrets(tmp_path / "client_secret.json")
    printed: list[str] = []
    with pytest.raises(CredentialStoreUnavailable, match="install"):
        sign_in(workspace, principal.id, secrets_path, open_browser=False, print_fn=printed.append)
    assert printed == [] and google.requests == []


def test_bad_client_secrets_file_is_one_clear_error(workspace, google, principal, tmp_path):
    bad = tmp_path / "web.json"
    bad.write_text(json.dumps({"something": {}}))
    with pytest.raises(InvalidInput, match="client-secrets"):
        sign_in(workspace, principal.id, bad, open_browser=False, print_fn=lambda line: None)
    with pytest.raises(UserError, match="no client-secrets file"):
        sign_in(workspace, principal.id, tmp_path / "missing.json", open_browser=False, print_fn=lambda line: None)


def test_gmail_api_not_enabled_is_said_plainly(workspace, google, principal, tmp_path):
    from tests.fakes.google import error_body

    secrets_path = google.write_client_secrets(tmp_path / "client_secret.json")
    google.inject(403, "/profile$", body=error_body("not_configured_403.json"))
    with pytest.raises(UserError, match="enable the Gmail API"):
        signed_in(workspace, principal, secrets_path)
    assert workspace.accounts(principal.id) == []


def test_imap_access_is_asked_for_only_when_wanted_and_kept_with_the_grant(workspace, google, principal, tmp_path,
                                                                            memory_keyring):
    from assistant.connectors.gmail.auth import IMAP_SCOPE, load_credentials

    secrets_path = google.write_client_secrets(tmp_path / "client_secret.json")
    browser = Browser()
    account = sign_in(workspace, principal.id, secrets_path, open_browser=False, print_fn=browser.printed.put,
                      timeout_seconds=30, imap=True)
    browser.join(30)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(browser.url).query))
    assert query["scope"].split() == [*SCOPES, IMAP_SCOPE]
    assert IMAP_SCOPE in load_credentials(account).scopes  # what the IMAP account's XOAUTH2 login checks first
    again, browser = signed_in(workspace, principal, secrets_path)  # signed in again without it: taken away
    assert IMAP_SCOPE not in load_credentials(again).scopes
