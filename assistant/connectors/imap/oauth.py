"""IMAP and SMTP signed in with the principal's existing Google or Microsoft sign-in (SASL XOAUTH2), no password kept.

An IMAP account added with ``--oauth`` holds, in its ``oauth`` setting, where the sign-in of the principal's Gmail or
Outlook account of the same address is (the credential-store key of the Google credentials; the msal account of the
Outlook one). Each login asks that sign-in for an access token, refreshed through the provider's token endpoint when it
has expired, and saved back where the API connector keeps it, so both connectors share one sign-in.

Google serves IMAP and SMTP to tokens with the ``https://mail.google.com/`` scope (asked for by ``account add gmail
--imap``); Microsoft to tokens for ``outlook.office.com`` (``IMAP.AccessAsUser.All``, ``SMTP.Send``, consented to by
``account add outlook --imap``), which msal gets with the account's refresh token.
A token the server refuses is refreshed once and tried again; refused again, the account needs signing in again.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from assistant.core.credentials import CredentialStore
from assistant.core.errors import NeedsSignIn, TransientError, UsageError
from assistant.domain import Account

PROVIDERS = {"gmail": "Google", "outlook": "Microsoft"}
# What of an Outlook account's settings the token provider needs, copied into the IMAP account's ``oauth`` setting.
_OUTLOOK_KEYS = ("client_id", "tenant", "home_account_id", "authority", "authority_overridden")


def xoauth2(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial response (before base64, which imaplib's and smtplib's ``authenticate`` add)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


class TokenSource(Protocol):
    provider: str

    def token(self, *, refresh: bool = False) -> str: ...

    def close(self) -> None: ...


def oauth_setting(source: Account) -> dict[str, Any]:
    """The IMAP account's ``oauth`` setting for the sign-in of ``source``, a Gmail or Outlook account."""
    if source.kind == "gmail":
        from assistant.connectors.gmail.auth import credential_key

        key = source.settings.get("credential_key") or credential_key(source.principal_id, source.address)
        return {"provider": "gmail", "account_id": source.id, "credential_key": key}
    if source.kind == "outlook":
        return {"provider": "outlook", "account_id": source.id,
                **{k: source.settings[k] for k in _OUTLOOK_KEYS if k in source.settings}}
    raise UsageError(f"a {source.kind} account has no sign-in to lend to IMAP; use a Gmail or Outlook account")


def find_sign_in(accounts: list[Account], address: str, provider: str = "") -> Account | None:
    """The principal's Gmail or Outlook account for ``address`` (of ``provider`` when given), if there is one."""
    for account in accounts:
        if account.kind in PROVIDERS and (not provider or account.kind == provider) \
                and account.address.lower() == address.strip().lower():
            return account
    return None


def token_source(account: Account, credential_store: CredentialStore | None = None) -> TokenSource | None:
    """Where an IMAP account's access tokens come from, or ``None`` when it signs in with a password."""
    setting = account.settings.get("oauth")
    if not setting:
        return None
    if not isinstance(setting, dict) or setting.get("provider") not in PROVIDERS:
        raise NeedsSignIn(f"the sign-in kept for {account.address} is unreadable: add the account again")
    if setting["provider"] == "gmail":
        return GoogleTokens(account.principal_id, account.address, str(setting.get("credential_key") or ""),
                            credential_store)
    return MicrosoftTokens(account, setting, credential_store)


@dataclass
class GoogleTokens:
    """Access tokens from the Gmail connector's saved credentials (google-auth), refreshed and saved back."""

    principal_id: int
    address: str
    credential_key: str
    credential_store: CredentialStore | None = None
    provider: str = "gmail"

    def token(self, *, refresh: bool = False) -> str:
        import google.auth.exceptions
        from google.auth.transport.requests import Request

        from assistant.connectors.gmail import auth

        gmail = Account(self.principal_id, "gmail", self.address, {"credential_key": self.credential_key})
        store = self.credential_store or CredentialStore()
        credentials = auth.load_credentials(gmail, store)
        if credentials.scopes and auth.IMAP_SCOPE not in credentials.scopes:
            raise NeedsSignIn(f"the Google sign-in of {self.address} does not cover IMAP: sign in to Gmail again with"
                              " IMAP access (account add gmail --imap)")
        if refresh or not credentials.valid:
            try:
                # google-auth leaves refresh() unannotated (the ignore is used under --strict only)
                credentials.refresh(Request())  # type: ignore[no-untyped-call, unused-ignore]
            except google.auth.exceptions.RefreshError as exc:
                if getattr(exc, "retryable", False):
                    raise TransientError(f"Google could not renew the sign-in of {self.address} now: "
                                         f"{_one_line(exc)}") from None
                raise NeedsSignIn(f"the Google sign-in of {self.address} no longer works: sign in to Gmail again"
                                  f" ({_one_line(exc)})") from None
            except google.auth.exceptions.TransportError as exc:
                raise TransientError(f"cannot reach Google to renew the sign-in of {self.address}: "
                                     f"{_one_line(exc)}") from None
            auth.save_credentials(gmail, credentials, store)
        return str(credentials.token)

    def close(self) -> None:
        pass


class MicrosoftTokens:
    """Access tokens for Outlook's IMAP and SMTP from the Outlook connector's msal token cache."""

    provider = "outlook"

    def __init__(self, account: Account, setting: dict[str, Any], credential_store: CredentialStore | None = None):
        from assistant.connectors.outlook.auth import IMAP_SCOPES, TokenProvider

        outlook = Account(account.principal_id, "outlook", account.address,
                          {k: setting[k] for k in _OUTLOOK_KEYS if k in setting}, id=int(setting.get("account_id") or 0))
        self.tokens = TokenProvider(outlook, credential_store)
        self.scopes = IMAP_SCOPES

    def token(self, *, refresh: bool = False) -> str:
        return self.tokens.token(force_refresh=refresh, scopes=self.scopes)

    def close(self) -> None:
        self.tokens.close()


def refused(provider: str, user: str, host: str, reply: str) -> NeedsSignIn:
    """The server refused a token even after it was renewed: only a new sign-in can mend that."""
    app = "Gmail" if provider == "gmail" else "Outlook"
    why = f" ({_one_line(reply)})" if reply.strip() else ""
    return NeedsSignIn(f"{host} refused the {PROVIDERS[provider]} sign-in of {user}{why}: sign in to {app} again")


def _one_line(value: object) -> str:
    return " ".join(str(value).split())[:300]
