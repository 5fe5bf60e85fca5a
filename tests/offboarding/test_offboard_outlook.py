"""Offboarding a principal with an Outlook account signed in through the real msal against the fake Microsoft identity
server (HTTPS on 127.0.0.1): msal's account removal runs and the token cache, refresh token included, leaves the
credential store."""
from __future__ import annotations

import json

from assistant.connectors.outlook.auth import account_key
from assistant.offboarding import service
from tests.connectors.test_outlook import account, fake, principal  # noqa: F401  (fixtures)


def test_an_outlook_sign_in_is_removed_with_msal_and_deleted(workspace, principal, account, memory_keyring, tmp_path):
    key = account_key(account.id)
    cache = json.loads(memory_keyring.get_password("assistant", key))
    assert cache["RefreshToken"] and cache["Account"]  # what must go

    record = service.offboard(workspace, principal.name, tmp_path / "export")
    assert record.revoked == [f"outlook {account.address}: signed out with msal (account removed from the token cache);"
                              " saved sign-in and refresh token deleted"]
    assert memory_keyring.get_password("assistant", key) is None
    assert workspace.principals() == []
