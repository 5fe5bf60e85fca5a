"""Dovecot and Postfix taking SASL XOAUTH2, and the Google sign-in they check tokens against.

Dovecot asks an introspection endpoint served here on 127.0.0.1 (its passdb ``oauth2``, RFC 7662 ``post``) whether a
bearer token is active: it is when the fake Google of the Gmail connector's tests issued it and still honours it (its
token endpoint renews a sign-in). Postfix takes ``AUTH XOAUTH2`` through Dovecot's SASL. Nothing here calls Google.
"""
from __future__ import annotations

import datetime
import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from assistant.connectors.gmail import auth as gmail_auth
from assistant.connectors.imap import ImapConnector
from assistant.connectors.imap.signin import ImapSignIn
from assistant.domain import Account
from assistant.store import Store
from tests.connectors.imap.imap_handle import ADDRESS, DovecotHandle
from tests.connectors.imap.mailserver import MailServers, mail_servers
from tests.fakes.google import FakeGoogle


class Introspection:
    """RFC 7662 token introspection as Dovecot's ``introspection_mode = post`` asks it: active only for a token the
    fake Google (or the fake Microsoft a test sets) issued and still honours, for its own address; ``refusing`` turns every
    token away."""

    def __init__(self, google: FakeGoogle):
        self.google = google
        self.refusing = False
        self.microsoft: Any = None  # a FakeMicrosoft whose tokens are honoured too, while a test sets it
        self.asked: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                token = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode())).get("token", "")
                outer.asked.append(token)
                with outer.google.lock:
                    user = outer.google.email_address if token in outer.google.access_tokens else ""
                if outer.microsoft is not None and not user:
                    with outer.microsoft.lock:
                        user = outer.microsoft.user if token in outer.microsoft.access_tokens else ""
                active = bool(user) and not outer.refusing
                body = json.dumps({"active": True, "username": user} if active else {"active": False}).encode()
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
    info["scopes"] = gmail_auth.scopes_for(imap=True)  # signed in with --imap
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


