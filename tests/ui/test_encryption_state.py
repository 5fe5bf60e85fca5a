"""The window says once when its workspace is plain for want of a credential store, and says nothing when encrypted."""
from __future__ import annotations

import keyring
import keyring.backends.fail

from assistant.domain import Principal
from assistant.store import Store, db


def _workspace(path):
    store = Store(path)
    store.add_principal(Principal(name="Ada", timezone="Europe/London", addresses=["ada@example.com"]))
    store.close()
    return path


def test_an_encrypted_workspace_says_nothing(make_window, tmp_path):
    ws = _workspace(tmp_path / "ws")
    assert db.is_encrypted(ws / db.DB_NAME)
    window = make_window(ws)
    assert window.encryption_state is None
    assert window.NOT_ENCRYPTED_SHORT not in window.notice.label.text()


def test_without_a_credential_store_the_window_says_so_once(make_window, tmp_path):
    keyring.set_keyring(keyring.backends.fail.Keyring())
    ws = _workspace(tmp_path / "ws")
    assert not db.is_encrypted(ws / db.DB_NAME)
    window = make_window(ws)
    assert window.notice.isVisible() and window.notice.label.text() == window.NOT_ENCRYPTED_SHORT
    assert "assistant workspace encrypt" in window.notice.label.toolTip()
    assert not window.notice.is_error  # information, not an error that waits to be dismissed
    assert window.encryption_state is not None and window.encryption_state.isVisible()
    assert window.encryption_state.text() == "Not encrypted"
    assert "assistant workspace encrypt" in window.encryption_state.toolTip()


def test_the_credential_store_is_asked_on_the_worker_after_the_first_paint(make_window, tmp_path, monkeypatch):
    """At launch, importing keyring and finding its backend took an eighth of the time to the first painted inbox on
    the GUI thread (issue 17): the window asks on its worker, which starts after the first paint."""
    import threading

    keyring.set_keyring(keyring.backends.fail.Keyring())
    ws = _workspace(tmp_path / "ws")
    asked_on = []

    def secure_store_available():
        asked_on.append(threading.current_thread() is threading.main_thread())
        return False

    monkeypatch.setattr(db, "secure_store_available", secure_store_available)
    window = make_window(ws)
    assert asked_on == [False]
    assert window.encryption_state is not None and window.encryption_state.text() == "Not encrypted"
