from __future__ import annotations

import keyring
import keyring.backends.chainer
import keyring.backends.fail
import keyring.backends.null
import keyring.errors
import pytest

from assistant.core.credentials import CredentialStore, backend_description
from assistant.core.errors import CredentialStoreUnavailable, UserError


def test_set_get_delete_through_the_test_keyring(memory_keyring):
    store = CredentialStore()
    assert store.get("account:1") is None
    store.set("account:1", "refresh-token-ä")
    assert memory_keyring.secrets == {("assistant", "account:1"): "refresh-token-ä"}
    assert store.get("account:1") == "refresh-token-ä"
    store.delete("account:1")
    assert store.get("account:1") is None
    store.delete("account:1")  # forgetting twice is fine


def test_backend_description_names_the_backend(memory_keyring):
    name, secure = backend_description()
    assert name == "tests.keyring_backend.InMemoryKeyring" and secure is True


class PlaintextKeyring(keyring.backends.null.Keyring):
    """Stands in for keyrings.alt.file.PlaintextKeyring, which writes secrets in clear to a file."""


@pytest.mark.parametrize("backend", [keyring.backends.fail.Keyring(), keyring.backends.null.Keyring(), PlaintextKeyring()])
def test_refuses_insecure_backends(backend):
    keyring.set_keyring(backend)
    name, secure = backend_description()
    assert secure is False and name.endswith(type(backend).__qualname__)
    with pytest.raises(CredentialStoreUnavailable) as info:
        CredentialStore()
    message = str(info.value)
    assert isinstance(info.value, UserError)
    assert message.startswith("no secure credential store: install and unlock gnome-keyring / KWallet")
    assert "\n" not in message


def test_chainer_is_only_as_secure_as_its_weakest_link(memory_keyring, monkeypatch):
    chain = keyring.backends.chainer.ChainerBackend()
    monkeypatch.setattr(keyring.backends.chainer.ChainerBackend, "backends", [memory_keyring])
    keyring.set_keyring(chain)
    assert backend_description()[1] is True
    monkeypatch.setattr(keyring.backends.chainer.ChainerBackend, "backends", [memory_keyring, PlaintextKeyring()])
    assert backend_description()[1] is False
    monkeypatch.setattr(keyring.backends.chainer.ChainerBackend, "backends", [])
    assert backend_description()[1] is False


def test_a_locked_keyring_is_a_user_error(memory_keyring, monkeypatch):
    def locked(*args):
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    monkeypatch.setattr(memory_keyring, "get_password", locked)
    monkeypatch.setattr(memory_keyring, "set_password", locked)
    store = CredentialStore()
    with pytest.raises(CredentialStoreUnavailable, match="cannot read .*Failed to unlock"):
        store.get("account:1")
    with pytest.raises(CredentialStoreUnavailable, match="cannot write"):
        store.set("account:1", "x")


def test_each_test_gets_an_empty_keyring(memory_keyring):
    assert memory_keyring.secrets == {}
    assert keyring.get_keyring() is memory_keyring
