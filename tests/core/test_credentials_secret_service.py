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


@pytest.mark.secret_service
def test_credential_store_against_a_real_secret_service(tmp_path):
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
    env["CHILD"] = CHILD
    done = subprocess.run(
        ["dbus-run-session", "--", "bash", "-c", script], env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, f"stdout: {done.stdout}\nstderr: {done.stderr}"
    assert "secret service ok: keyring.backends.SecretService.Keyring" in done.stdout
