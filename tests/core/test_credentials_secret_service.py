"""The real path, once: a Secret Service (gnome-keyring inside its own D-Bus session), the secret stored, read, deleted.

Runs in a child process with HOME and the XDG folders pointed at a temporary directory, so the developer's own keyring is
never opened.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent("""
    import keyring
    from keyring.backends import SecretService
    from assistant.core.credentials import CredentialStore, backend_description

    backend = keyring.get_keyring()
    assert isinstance(backend, SecretService.Keyring), f"backend is {backend!r}"
    name, secure = backend_description()
    assert (name, secure) == ("keyring.backends.SecretService.Keyring", True), (name, secure)
    store = CredentialStore()
    assert store.get("account:test") is None
    store.set("account:test", "1//refresh-tøken")
    assert store.get("account:test") == "1//refresh-tøken"
    assert keyring.get_password("assistant", "account:test") == "1//refresh-tøken"
    store.delete("account:test")
    assert store.get("account:test") is None
    print("secret service ok:", name)
""")


# A workspace made here is encrypted, its key in the real Secret Service; a second process (nothing remembered) opens it.
WORKSPACE_CHILD = textwrap.dedent("""
    import os, subprocess, sys
    from pathlib import Path
    import keyring
    from assistant.domain import Principal
    from assistant.store import Store, db

    ws = Path(os.environ["HOME"]) / "ws"
    store = Store(ws)
    store.add_principal(Principal(name="Ada", timezone="Europe/London", addresses=["ada@example.com"]))
    store.close()
    assert db.is_encrypted(ws / db.DB_NAME)
    entry = db.key_entry(ws)
    key = keyring.get_password("assistant", entry)
    assert key is not None and len(key) == 64, key
    assert key.encode() not in b"".join(p.read_bytes() for p in ws.iterdir())
    again = subprocess.run([sys.executable, "-m", "assistant", "--workspace", str(ws), "--json", "principal", "list"],
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "Ada" in again.stdout, again.stderr
    print("workspace key ok:", entry)
""")


def _in_secret_service(tmp_path, child: str) -> subprocess.CompletedProcess[str]:
    """``child`` run by Python inside a D-Bus session of its own, with an unlocked gnome-keyring as its Secret
    Service, and HOME and the XDG folders in ``tmp_path``."""
    missing = [tool for tool in ("dbus-run-session", "gnome-keyring-daemon") if shutil.which(tool) is None]
    if missing:
        pytest.fail(
            f"{' and '.join(missing)} not installed: run ./dev setup as root, or: sudo apt-get install gnome-keyring dbus"
        )
    home = tmp_path / "home"
    runtime = tmp_path / "runtime"
    for folder in (home, runtime):
        folder.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBUS_", "XDG_", "PYTHON_KEYRING", "GNOME_KEYRING"))}
    env.update(HOME=str(home), XDG_RUNTIME_DIR=str(runtime), XDG_DATA_HOME=str(home / ".local/share"),
               XDG_CONFIG_HOME=str(home / ".config"), PYTHONWARNINGS="error")
    script = (
        "echo -n test-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null && "
        f'exec "{sys.executable}" -c "$CHILD"'
    )
    env["CHILD"] = child
    return subprocess.run(
        ["dbus-run-session", "--", "bash", "-c", script], env=env, capture_output=True, text=True, timeout=180,
    )


@pytest.mark.secret_service
def test_credential_store_against_a_real_secret_service(tmp_path):
    done = _in_secret_service(tmp_path, CHILD)
    assert done.returncode == 0, f"stdout: {done.stdout}\nstderr: {done.stderr}"
    assert "secret service ok: keyring.backends.SecretService.Keyring" in done.stdout


@pytest.mark.secret_service
def test_workspace_key_in_a_real_secret_service(tmp_path):
    done = _in_secret_service(tmp_path, WORKSPACE_CHILD)
    assert done.returncode == 0, f"stdout: {done.stdout}\nstderr: {done.stderr}"
    assert "workspace key ok: workspace:" in done.stdout
