"""Signing a principal in to Google: the installed-app loopback flow, credentials kept only in the OS keyring.

The OAuth endpoints come from the client-secrets file the user downloaded from Google Cloud (``auth_uri``,
``token_uri``), exactly as google-auth-oauthlib reads them; the API root comes from ``ASSISTANT_GOOGLE_API_ROOT``.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import InstalledAppFlow, WSGITimeoutError
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

from assistant.connectors.base import AccountStore
from assistant.connectors.gmail.ratelimit import error_message, error_reason
from assistant.core.credentials import CredentialStore
from assistant.core.errors import InvalidInput, NeedsSignIn, NotFound, TransientError, UserError
from assistant.domain import Account, AccountStatus

# Full scope URIs: short ones ("email") make Google widen them and oauthlib then complains of a scope change.
SCOPES = [
    "https://www.googleapis.com/auth/gmail.modify",
    "https://www.googleapis.com/auth/calendar.events",
    "https://www.googleapis.com/auth/calendar.freebusy",  # the slot finder: others' busy times, nothing more
]
# Asked for only when the user turns contacts on for the account (address completion, naming callers).
CONTACTS_SCOPE = "https://www.googleapis.com/auth/contacts.readonly"
API_ROOT_ENV = "ASSISTANT_GOOGLE_API_ROOT"
KIND = "gmail"


def api_root() -> str | None:
    """The endpoint override for every Gmail, Calendar and batch request, or ``None`` for Google itself."""
    root = os.environ.get(API_ROOT_ENV, "").strip()
    if not root:
        return None
    return root if root.endswith("/") else root + "/"



def build_service(api: str, credentials: Any) -> Any:
    """A Gmail ("gmail"), Calendar ("calendar") or People ("people") service on its bundled discovery document,
    honouring the root override."""
    version = {"gmail": "v1", "calendar": "v3", "people": "v1"}[api]
    root = api_root()
    options = {"api_endpoint": root} if root else None
    return build(api, version, credentials=credentials, static_discovery=True, cache_discovery=False,
                 client_options=options)


# Asked for only when the user wants the principal's IMAP account to share this sign-in (``account add imap --oauth``):
# Google serves IMAP and SMTP over XOAUTH2 to this scope alone (full access to the mailbox).
IMAP_SCOPE = "https://mail.google.com/"


def scopes_for(*, contacts: bool = False, imap: bool = False) -> list[str]:
    return [*SCOPES, *([CONTACTS_SCOPE] if contacts else []), *([IMAP_SCOPE] if imap else [])]


def credential_key(principal_id: int, address: str) -> str:
    return f"gmail:{principal_id}:{address.lower()}"


def credentials_from_json(text: str) -> Credentials:
    """Credentials as ``Credentials.to_json()`` wrote them.

    Not ``Credentials.from_authorized_user_info``: since google-auth 2.4x it always replaces ``token_uri`` with
    Google's, which would send refreshes past the token endpoint the user's client-secrets file named.
    """
    info = json.loads(text)
    expiry = None
    if info.get("expiry"):
        expiry = datetime.strptime(info["expiry"].rstrip("Z").split(".")[0], "%Y-%m-%dT%H:%M:%S")
    # google-auth ships py.typed but leaves Credentials unannotated (the ignore is used under --strict only)
    return Credentials(  # type: ignore[no-untyped-call, unused-ignore]
        token=info.get("token"), refresh_token=info["refresh_token"], token_uri=info["token_uri"],
        client_id=info["client_id"], client_secret=info["client_secret"], scopes=info.get("scopes") or SCOPES,
        expiry=expiry,
    )


def load_credentials(account: Account, store: CredentialStore | None = None) -> Credentials:
    key = account.settings.get("credential_key") or credential_key(account.principal_id, account.address)
    secret = (store or CredentialStore()).get(key)
    if not secret:
        raise NeedsSignIn(f"{account.address} is not signed in to Google: sign in again")
    try:
        return credentials_from_json(secret)
    except (ValueError, KeyError, TypeError) as exc:
        raise NeedsSignIn(f"the saved Google sign-in for {account.address} is unreadable: sign in again") from exc


def save_credentials(account: Account, credentials: Credentials, store: CredentialStore | None = None) -> None:
    key = account.settings.get("credential_key") or credential_key(account.principal_id, account.address)
    # google-auth ships py.typed but leaves Credentials unannotated (the ignore is used under --strict only)
    (store or CredentialStore()).set(key, credentials.to_json())  # type: ignore[no-untyped-call, unused-ignore]


# google-auth-oauthlib has no type information, so its class is Any (the ignore is used under --strict only)
class _LoopbackFlow(InstalledAppFlow):  # type: ignore[misc, unused-ignore]
    """Prints the consent URL through the caller's function (the CLI's stdout, the app's dialog) instead of ``print``."""

    print_fn: Callable[[str], Any] = print

    def authorization_url(self, **kwargs: Any) -> tuple[str, str]:
        url, state = super().authorization_url(**kwargs)
        self.print_fn(f"Open this address in a browser to sign in to Google: {url}")
        return url, state


def run_consent(client_secrets: Path, *, open_browser: bool, print_fn: Callable[[str], Any] = print,
                timeout_seconds: float | None = None, scopes: list[str] | None = None) -> Credentials:
    """The loopback flow with PKCE on an ephemeral port; blocks until the browser comes back (run it off the GUI thread)."""
    client_secrets = Path(client_secrets)
    if not client_secrets.is_file():
        raise NotFound(f"no client-secrets file at {client_secrets}")
    try:
        flow = _LoopbackFlow.from_client_secrets_file(str(client_secrets), scopes=scopes or SCOPES)
    except (ValueError, KeyError) as exc:
        raise InvalidInput(
            f"{client_secrets} is not a Google OAuth client-secrets file for a Desktop app ({exc})") from exc
    flow.print_fn = print_fn
    try:
        return cast(Credentials, flow.run_local_server(  # documented to return the signed-in Credentials
            host="localhost", port=0, open_browser=open_browser, authorization_prompt_message="",
            success_message="Signed in. You can close this window and return to Assistant.",
            timeout_seconds=timeout_seconds,
        ))
    except WSGITimeoutError as exc:
        raise UserError("Google sign-in timed out waiting for the browser") from exc
    except OAuth2Error as exc:
        raise UserError(f"Google refused the sign-in: {exc.description or exc.error}") from exc
    finally:
        flow.oauth2session.close()


def sign_in(store: AccountStore, principal_id: int, client_secrets: Path, *, open_browser: bool,
            print_fn: Callable[[str], Any] = print, timeout_seconds: float | None = None,
            credential_store: CredentialStore | None = None, contacts: bool = False, imap: bool = False) -> Account:
    """Sign a principal in and create (or, for a re-sign-in, refresh) their Gmail account; returns the Account.

    ``contacts``: also ask to read the principal's Google contacts, and sync them (the account's ``contacts``
    setting); a re-sign-in sets it to what was asked this time, since only that was granted. ``imap``: also ask for
    full mail access, without which an IMAP account of the same address cannot log in with this sign-in (Google's IMAP
    takes no narrower scope); a re-sign-in without it takes that access away again.

    The credential store is opened first, so a machine without a secure keyring fails before the browser opens.
    """
    credential_store = credential_store or CredentialStore()
    store.principal(principal_id)
    credentials = run_consent(client_secrets, open_browser=open_browser, print_fn=print_fn,
                              timeout_seconds=timeout_seconds, scopes=scopes_for(contacts=contacts, imap=imap))
    service = build_service("gmail", credentials)
    try:
        profile = service.users().getProfile(userId="me").execute()
    except HttpError as exc:

        if error_reason(exc.content) in ("accessNotConfigured", "SERVICE_DISABLED"):
            raise UserError("signed in, but the Gmail API is not enabled in your Google Cloud project: enable the"
                            " Gmail API and the Google Calendar API there, then sign in again") from exc
        raise UserError(f"signed in, but Google refused to read the mailbox: "
                        f"{error_message(exc.content) or exc.resp.status}") from exc
    finally:
        service.close()
    address = profile["emailAddress"]
    key = credential_key(principal_id, address)
    credential_store.set(key, credentials.to_json())  # type: ignore[no-untyped-call, unused-ignore]  # see above
    for account in store.accounts(principal_id):
        if account.kind == KIND and account.address.lower() == address.lower():
            account.settings = {**account.settings, "credential_key": key, "contacts": contacts}
            store.update_account_settings(account.id, account.settings)
            store.set_account_status(account.id, AccountStatus.OK)
            return store.account(account.id)
    return store.add_account(Account(
        principal_id=principal_id, kind=KIND, address=address,
        settings={"credential_key": key, "calendar_id": "primary", "poll_interval_s": 60, "contacts": contacts},
    ))


def revoke_uri(token_uri: str) -> str:
    """Google's token revocation endpoint beside the token endpoint the sign-in used (``https://oauth2.googleapis.com/
    token`` → ``…/revoke``, as Google documents it for installed apps), so a test server's stands beside its own."""
    base, _, last = token_uri.rstrip("/").rpartition("/")
    return f"{base}/revoke" if last == "token" else "https://oauth2.googleapis.com/revoke"


def revoke_sign_in(account: Account, store: CredentialStore | None = None, *, timeout: float = 30) -> str:
    """Revoke the app's grant at Google (the refresh token, which ends every token issued with it), then delete the saved
    sign-in. Says what was done; a grant Google no longer knows counts as revoked, so running it again is safe.
    Raises :class:`TransientError` when Google cannot be reached (the sign-in is then kept, to revoke next time)."""
    import requests

    store = store or CredentialStore()
    key = account.settings.get("credential_key") or credential_key(account.principal_id, account.address)
    secret = store.get(key)
    if not secret:
        return "no saved sign-in"
    try:
        info = json.loads(secret)
        token, token_uri = info.get("refresh_token") or info.get("token"), info["token_uri"]
    except (ValueError, KeyError, TypeError):
        store.delete(key)
        return "saved sign-in unreadable: deleted"
    try:
        response = requests.post(revoke_uri(token_uri), data={"token": token}, timeout=timeout,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    except requests.RequestException as exc:
        raise TransientError(f"cannot reach Google to revoke the access of {account.address}: "
                             f"{' '.join(str(exc).split())}") from exc
    if response.status_code == 200:
        outcome = "access revoked at Google"
    elif response.status_code == 400 and "invalid_token" in response.text:
        outcome = "access already revoked at Google"
    elif response.status_code >= 500 or response.status_code == 429:
        raise TransientError(f"Google could not revoke the access of {account.address} now ({response.status_code})")
    else:
        raise UserError(f"Google refused to revoke the access of {account.address}: {response.status_code}"
                        f" {' '.join(response.text.split())[:200]}")
    store.delete(key)
    return outcome + "; saved sign-in deleted"
