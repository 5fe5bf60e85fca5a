"""Sign-in to a Microsoft account with msal, and access tokens for Graph from the token cache kept in the OS
credential store (one serialised ``SerializableTokenCache`` per account, written back only when it changed).

``ASSISTANT_MS_AUTHORITY`` overrides the authority (national clouds, single-tenant apps, a test server); msal is then
built with ``instance_discovery=False`` so it does not ask login.microsoftonline.com about a host it does not know.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import urlsplit

import msal
import requests

from assistant.connectors.base import AccountStore
from assistant.core.credentials import CredentialStore
from assistant.core.errors import NeedsSignIn, TransientError, UserError
from assistant.domain import Account, AccountStatus

KIND = "outlook"
DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com"
DEFAULT_GRAPH_ROOT = "https://graph.microsoft.com/v1.0"
# msal adds openid, profile and offline_access itself (and refuses them if we pass them).
SCOPES = ["Mail.ReadWrite", "Mail.Send", "Calendars.ReadWrite"]
# Asked for only when the user turns contacts on for the account (address completion, naming callers).
CONTACTS_SCOPE = "Contacts.Read"
# Consented to at sign-in only when asked (``account add outlook --imap``): an IMAP account of the same address then logs
# in to Outlook's IMAP and SMTP with tokens msal gets for them from this sign-in (``connectors/imap/oauth.py``).
IMAP_SCOPES = ["https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/SMTP.Send"]


def scopes_for(*, contacts: bool = False) -> list[str]:
    return [*SCOPES, CONTACTS_SCOPE] if contacts else list(SCOPES)


def account_key(account_id: int) -> str:
    return f"account:{account_id}"


def authority_url(tenant: str = "common") -> tuple[str, bool]:
    """The authority to sign in against, and whether it was overridden (then msal must skip instance discovery)."""
    override = os.environ.get("ASSISTANT_MS_AUTHORITY", "").strip().rstrip("/")
    if not override:
        return f"{DEFAULT_AUTHORITY_HOST}/{tenant}", False
    parts = urlsplit(override)
    if parts.scheme != "https" or not parts.hostname:
        raise UserError(f"ASSISTANT_MS_AUTHORITY must be an https URL, not {override!r}")
    return (override if parts.path.strip("/") else f"{override}/{tenant}"), True


def graph_root() -> str:
    return os.environ.get("ASSISTANT_GRAPH_ROOT", "").strip().rstrip("/") or DEFAULT_GRAPH_ROOT


def _application(
    client_id: str, authority: str, overridden: bool, cache: msal.SerializableTokenCache, session: requests.Session
) -> msal.PublicClientApplication:
    try:
        return msal.PublicClientApplication(
            client_id,
            authority=authority,
            token_cache=cache,
            http_client=session,
            instance_discovery=False if overridden else None,
        )
    except ValueError as exc:  # msal's word for "cannot discover this authority"
        raise UserError(f"cannot use the Microsoft sign-in authority {authority}: {_one_line(exc)}") from exc
    except requests.RequestException as exc:
        raise TransientError(f"cannot reach the Microsoft sign-in service: {_one_line(exc)}") from exc


# OAuth 2.0 error codes that say "try again later" (RFC 6749 5.2, 4.1.2.1), as the token endpoint answers a 429 or
# an outage; any other error means the saved sign-in no longer works.
_TRANSIENT_ERRORS = frozenset({"temporarily_unavailable", "server_error"})


def _error_text(result: dict[str, Any] | None) -> str:
    if not result:
        return "no token in the cache"
    return _one_line(result.get("error_description") or result.get("error") or "unknown error").split(" Trace ID")[0]


def _one_line(value: object) -> str:
    return " ".join(str(value).split()) or type(value).__name__


class TokenProvider:
    """Access tokens for one account, from its cache in the credential store; thread-safe."""

    def __init__(self, account: Account, credentials: CredentialStore | None = None):
        settings = account.settings
        if not account.id or not settings.get("client_id"):
            raise NeedsSignIn(f"the Outlook account {account.address} has not been signed in yet")
        self.account = account
        self.credentials = credentials if credentials is not None else CredentialStore()
        self.key = account_key(account.id)
        self.session = requests.Session()
        self.cache = msal.SerializableTokenCache()
        serialized = self.credentials.get(self.key)
        if serialized:
            self.cache.deserialize(serialized)
        if settings.get("authority"):
            authority, overridden = settings["authority"], bool(settings.get("authority_overridden"))
        else:
            authority, overridden = authority_url(settings.get("tenant", "common"))
        self._app: msal.PublicClientApplication | None = None
        self._app_args = (settings["client_id"], authority, overridden)
        self.lock = threading.Lock()

    @property
    def app(self) -> msal.PublicClientApplication:
        if self._app is None:
            self._app = _application(*self._app_args, self.cache, self.session)
        return self._app

    def _msal_account(self) -> dict[str, Any]:
        wanted = self.account.settings.get("home_account_id")
        accounts = self.app.get_accounts()
        for candidate in accounts:
            if candidate.get("home_account_id") == wanted or (
                not wanted and candidate.get("username", "").lower() == self.account.address.lower()
            ):
                return cast(dict[str, Any], candidate)  # msal's accounts are JSON objects
        raise NeedsSignIn(f"sign in to Outlook again for {self.account.address}: no saved sign-in")

    def token(self, force_refresh: bool = False, scopes: list[str] | None = None) -> str:
        """A Graph token, or one for ``scopes`` of another resource (Outlook's IMAP and SMTP) from the same sign-in."""
        with self.lock:
            try:
                result = self.app.acquire_token_silent_with_error(
                    scopes or scopes_for(contacts=bool(self.account.settings.get("contacts"))),
                    account=self._msal_account(),
                    force_refresh=force_refresh,
                )
            except requests.RequestException as exc:
                raise TransientError(f"cannot reach the Microsoft sign-in service: {_one_line(exc)}") from exc
            except (msal.exceptions.MsalServiceError, RuntimeError) as exc:  # a 5xx from the token endpoint
                raise TransientError(f"the Microsoft sign-in service failed: {_one_line(exc)}") from exc
            finally:
                self._save()
            if result and result.get("error") in _TRANSIENT_ERRORS:  # throttled (429) or briefly down: not a sign-in
                raise TransientError(f"the Microsoft sign-in service is busy: {_error_text(result)}")
            if not result or "access_token" not in result:
                raise NeedsSignIn(f"sign in to Outlook again for {self.account.address}: {_error_text(result)}")
            return cast(str, result["access_token"])  # msal's token response (JSON): the token is a string

    def _save(self) -> None:
        if self.cache.has_state_changed:
            self.credentials.set(self.key, self.cache.serialize())
            self.cache.has_state_changed = False

    def close(self) -> None:
        self.session.close()


def sign_in(
    store: AccountStore,
    principal_id: int,
    client_id: str,
    *,
    tenant: str = "common",
    device_code: bool,
    print_fn: Callable[[str], Any] = print,
    credentials: CredentialStore | None = None,
    contacts: bool = False,
    imap: bool = False,
) -> Account:
    """Sign a principal's Microsoft account in (blocks: run it off the GUI thread) and remember it.

    ``device_code``: show a code to enter at the verification page (printed through ``print_fn``); otherwise open the
    system browser with a loopback redirect. Signing in again to an account already added for this principal refreshes
    its saved sign-in and clears "needs sign-in". ``contacts``: also ask for ``Contacts.Read`` and sync the
    principal's contacts (the account's ``contacts`` setting, set to what was asked this time). ``imap``: also ask
    the principal to consent to Outlook's IMAP and SMTP (``IMAP_SCOPES``, another resource than Graph, so only the
    browser sign-in can ask for both at once), for an IMAP account of this address to sign in with.
    """
    if not client_id:
        raise UserError("an Outlook sign-in needs the client id of an app registered in Entra ID (--client-id)")
    if imap and device_code:
        raise UserError("IMAP access is consented to in the browser sign-in only: leave out --device-code")
    credentials = credentials if credentials is not None else CredentialStore()  # fails early without a keyring
    authority, overridden = authority_url(tenant)
    scopes = scopes_for(contacts=contacts)
    cache = msal.SerializableTokenCache()
    with requests.Session() as session:
        app = _application(client_id, authority, overridden, cache, session)
        try:
            if device_code:
                flow = app.initiate_device_flow(scopes=scopes)
                if "user_code" not in flow:
                    raise UserError(f"Microsoft refused to start a device-code sign-in: {_error_text(flow)}")
                print_fn(flow["message"])
                result = app.acquire_token_by_device_flow(flow)
            else:
                result = app.acquire_token_interactive(scopes, prompt="select_account", timeout=600,
                                                       extra_scopes_to_consent=IMAP_SCOPES if imap else None)
        except requests.RequestException as exc:
            raise TransientError(f"cannot reach the Microsoft sign-in service: {_one_line(exc)}") from exc
        except msal.exceptions.MsalServiceError as exc:  # a 5xx from the token endpoint
            raise TransientError(f"the Microsoft sign-in service failed: {_one_line(exc)}") from exc
    if result.get("error") in _TRANSIENT_ERRORS:
        raise TransientError(f"the Microsoft sign-in service is busy, try again shortly: {_error_text(result)}")
    if "access_token" not in result:
        raise NeedsSignIn(f"Microsoft sign-in did not complete: {_error_text(result)}")
    claims = result.get("id_token_claims") or {}
    address = claims.get("preferred_username") or claims.get("email") or claims.get("upn") or ""
    if not address:
        raise UserError("Microsoft sign-in succeeded but did not say which account it was")
    home_account_id = next((a["home_account_id"] for a in app.get_accounts()), "")
    settings = {
        "client_id": client_id,
        "tenant": tenant,
        "home_account_id": home_account_id,
        "authority": authority,
        "authority_overridden": overridden,
        "contacts": contacts,
    }
    existing = next(
        (
            a for a in store.accounts(principal_id)
            if a.kind == KIND and a.address.lower() == address.lower()
        ),
        None,
    )
    if existing is not None:
        merged = {**existing.settings, **settings}
        store.update_account_settings(existing.id, merged)
        store.set_account_status(existing.id, AccountStatus.OK)
        account = store.account(existing.id)
    else:
        account = store.add_account(Account(principal_id=principal_id, kind=KIND, address=address, settings=settings))
    credentials.set(account_key(account.id), cache.serialize())
    return account


def forget_sign_in(account: Account, credentials: CredentialStore | None = None) -> str:
    """Sign an account out for good: msal's account removal on its token cache (the refresh token with it), then the
    cache deleted from the credential store. Microsoft has no revocation endpoint for a public client's refresh token;
    deleting the only copy is what ends it here (the principal can also remove the app at myapps.microsoft.com)."""
    credentials = credentials if credentials is not None else CredentialStore()
    key = account_key(account.id)
    serialized = credentials.get(key)
    if not serialized:
        return "no saved sign-in"
    removed = 0
    if account.settings.get("client_id"):
        provider = TokenProvider(account, credentials)
        try:
            for known in provider.app.get_accounts():
                provider.app.remove_account(known)
                removed += 1
        except (UserError, TransientError, ValueError, requests.RequestException):
            pass  # the authority cannot be reached: the cache goes below all the same
        finally:
            provider.close()
    credentials.delete(key)
    return ("signed out with msal (account removed from the token cache); " if removed else "") + \
        "saved sign-in and refresh token deleted"
