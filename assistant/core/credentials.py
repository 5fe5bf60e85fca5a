"""Secrets (OAuth refresh tokens, MSAL token caches) live in the OS credential store, never in the workspace.

This is the only module that imports ``keyring``. It refuses to store anything when the only backend available is one
that would lose the secret (``fail``, ``null``) or write it in clear text (keyrings.alt's plaintext files): a user who
has no Secret Service / KWallet gets one sentence saying what to install instead of a token on disk.
"""
from __future__ import annotations

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

from assistant.core.errors import CredentialStoreUnavailable

SERVICE = "assistant"

UNAVAILABLE = (
    "no secure credential store: install and unlock gnome-keyring / KWallet, "
    "or another Secret Service provider (backend in use: {name})"
)


def _is_insecure(backend: KeyringBackend) -> bool:
    module = type(backend).__module__
    name = type(backend).__name__.lower()
    if module in ("keyring.backends.fail", "keyring.backends.null"):
        return True
    if "plaintext" in name or "base64" in name or "plaintext" in module.lower():
        return True
    children = getattr(backend, "backends", None)  # keyring.backends.chainer.ChainerBackend
    if children is not None:
        return not children or any(_is_insecure(child) for child in children)
    return False


def _backend_name(backend: KeyringBackend) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def backend_description() -> tuple[str, bool]:
    """The keyring backend in use (dotted class name) and whether secrets kept there are safe."""
    backend = keyring.get_keyring()
    return _backend_name(backend), not _is_insecure(backend)


class CredentialStore:
    """Secrets by account key (e.g. ``"account:3"``) under the service name ``assistant``."""

    def __init__(self, service: str = SERVICE):
        self.service = service
        backend = keyring.get_keyring()
        if _is_insecure(backend):
            raise CredentialStoreUnavailable(UNAVAILABLE.format(name=_backend_name(backend)))
        self.backend = backend

    def get(self, account_key: str) -> str | None:
        try:
            return self.backend.get_password(self.service, account_key)
        except keyring.errors.KeyringError as exc:
            raise CredentialStoreUnavailable(f"cannot read from the credential store: {_one_line(exc)}") from exc

    def set(self, account_key: str, secret: str) -> None:
        try:
            self.backend.set_password(self.service, account_key, secret)
        except keyring.errors.KeyringError as exc:
            raise CredentialStoreUnavailable(f"cannot write to the credential store: {_one_line(exc)}") from exc

    def delete(self, account_key: str) -> None:
        """Forget a secret; forgetting one that is not there is not an error."""
        try:
            self.backend.delete_password(self.service, account_key)
        except keyring.errors.PasswordDeleteError:
            pass
        except keyring.errors.KeyringError as exc:
            raise CredentialStoreUnavailable(f"cannot delete from the credential store: {_one_line(exc)}") from exc


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
