"""Adding an IMAP/SMTP account: settings from a preset or the user's servers, the login tried before anything is kept,
the password kept only in the OS credential store (the workspace holds where to find it, never the secret) — or, with
``oauth``, no password at all: the login shares the sign-in of the principal's Gmail or Outlook account (``oauth.py``)."""
from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

from assistant.connectors.base import AccountStore
from assistant.connectors.imap import oauth, presets
from assistant.connectors.imap.connector import ImapConnector
from assistant.connectors.imap.errors import normal_fingerprint
from assistant.core.credentials import CredentialStore
from assistant.core.errors import UsageError
from assistant.domain import Account, AccountStatus


def credential_key(principal_id: int, address: str) -> str:
    return f"imap:{principal_id}:{address.lower()}"


@dataclass
class ImapSignIn:
    user: str
    preset: str = "other"
    imap_host: str = ""
    smtp_host: str = ""
    security: str = ""
    caldav_url: str = ""
    trust_fingerprint: str = ""
    oauth: bool = False  # log in with the principal's Gmail or Outlook sign-in of this address (XOAUTH2), no password

    def settings(self) -> dict[str, Any]:
        """The account's settings; a clear one-line error for what cannot work (``plain`` off this machine)."""
        p = presets.preset(self.preset)
        if not self.user.strip():
            raise UsageError("--user is empty")
        if p.name == "other" and not self.imap_host:
            raise UsageError("give --preset, or the server with --imap-host HOST[:PORT]")
        if p.oauth_only and not self.oauth:
            raise UsageError(f"{p.label} takes no password over IMAP: add the principal's {p.oauth_provider} account,"
                             " then this one with --oauth")
        if self.oauth and p.name != "other" and not p.oauth_provider:
            oauth_presets = ", ".join(n for n, q in presets.PRESETS.items() if q.oauth_provider)
            raise UsageError(f"{p.label} has no sign-in to share: --oauth goes with --preset {oauth_presets}"
                             " or your own --imap-host")
        security = self.security or (p.imap_security if not self.imap_host else "ssl")
        imap_host, imap_port = (presets.host_port(self.imap_host, "imap", security) if self.imap_host
                                else (p.imap_host, p.imap_port))
        smtp_security = self.security or (p.smtp_security if not self.smtp_host and not self.imap_host else security)
        if self.smtp_host:
            smtp_host, smtp_port = presets.host_port(self.smtp_host, "smtp", smtp_security)
        elif self.imap_host:
            smtp_host, smtp_port = imap_host, presets.DEFAULT_PORTS[("smtp", smtp_security)]
        else:
            smtp_host, smtp_port = p.smtp_host, p.smtp_port
        presets.check_security(security, imap_host, "imap")
        presets.check_security(smtp_security, smtp_host, "smtp")
        out: dict[str, Any] = {
            "preset": p.name, "username": self.user.strip(), "imap_host": imap_host, "imap_port": imap_port,
            "imap_security": security, "smtp_host": smtp_host, "smtp_port": smtp_port,
            "smtp_security": smtp_security, "sent_by_server": p.sent_by_server, "poll_interval_s": 60,
        }
        if self.oauth:
            pass  # the calendar comes through the Gmail or Outlook account whose sign-in this uses
        elif self.caldav_url or (p.caldav_url and p.name != "other"):
            out["caldav_url"] = self.caldav_url or p.caldav_url
        if self.trust_fingerprint:
            out["tls_fingerprint"] = normal_fingerprint(self.trust_fingerprint)
        return out


def sign_in(store: AccountStore, principal_id: int, request: ImapSignIn, password: str, *,
            credential_store: CredentialStore | None = None, ssl_context: ssl.SSLContext | None = None) -> Account:
    """Log in to IMAP with ``password`` (so a wrong one, an app password needed or an untrusted certificate is said
    now, in one line), then keep it and add the account (or update the principal's account of that address)."""
    if not password:
        raise UsageError("the password is empty")
    credential_store = credential_store or CredentialStore()  # no safe store: fail before anything is tried
    settings = request.settings()
    address = request.user.strip() if "@" in request.user else request.user.strip()
    trial = ImapConnector(Account(principal_id, "imap", address, settings), credentials=password,
                          ssl_context=ssl_context)
    try:
        trial.folders()
    finally:
        trial.close()
    key = credential_key(principal_id, address)
    credential_store.set(key, password)
    settings["credential_key"] = key
    return _keep(store, principal_id, address, settings)


def _keep(store: AccountStore, principal_id: int, address: str, settings: dict[str, Any]) -> Account:
    for existing in store.accounts(principal_id):
        if existing.kind == "imap" and existing.address.lower() == address.lower():
            store.update_account_settings(existing.id, settings)
            store.set_account_status(existing.id, AccountStatus.OK)
            return store.account(existing.id)
    return store.add_account(Account(principal_id, "imap", address, settings))


def sign_in_source(store: AccountStore, principal_id: int, request: ImapSignIn) -> Account | None:
    """The principal's Gmail or Outlook account whose sign-in ``request`` can use (the preset's provider, or either
    for a server of one's own), or ``None``."""
    provider = presets.preset(request.preset).oauth_provider
    return oauth.find_sign_in(store.accounts(principal_id), request.user, provider)


def sign_in_oauth(store: AccountStore, principal_id: int, request: ImapSignIn, *,
                  ssl_context: ssl.SSLContext | None = None) -> Account:
    """Add the account logging in with the sign-in of the principal's Gmail or Outlook account of the same address
    (SASL XOAUTH2): the login is tried first, and no password is asked or kept."""
    settings = request.settings()
    address = request.user.strip()
    source = sign_in_source(store, principal_id, request)
    if source is None:
        provider = presets.preset(request.preset).oauth_provider
        which = {"gmail": "Gmail", "outlook": "Outlook"}.get(provider, "Gmail or Outlook")
        raise UsageError(f"no {which} account of {address} to share the sign-in of: add that account first"
                         " (account add gmail / outlook), then this one")
    settings["oauth"] = oauth.oauth_setting(source)
    account = Account(principal_id, "imap", address, settings)
    tokens = oauth.token_source(account)
    assert tokens is not None
    try:
        tokens.token()  # a sign-in that cannot serve IMAP is said before any server is tried
    finally:
        tokens.close()
    trial = ImapConnector(account, ssl_context=ssl_context)
    try:
        trial.folders()
    finally:
        trial.close()
    replaced = [a.settings["credential_key"] for a in store.accounts(principal_id)
                if a.kind == "imap" and a.address.lower() == address.lower() and a.settings.get("credential_key")]
    kept = _keep(store, principal_id, address, settings)
    for key in replaced:  # the password it signed in with before is not needed any more
        CredentialStore().delete(str(key))
    return kept
