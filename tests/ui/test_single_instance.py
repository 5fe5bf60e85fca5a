"""One app per workspace, with real processes: a second launch and a mailto: click reach the first window and exit;
an app killed with SIGKILL leaves a stale lock and socket that the next launch takes over."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtNetwork import QLocalSocket

from assistant.domain import Account, Principal
from assistant.store import Store
from assistant.ui.single_instance import LOCK_NAME, SingleInstance, hand_over, server_name
from tests.keyring_backend import FILE_VARIABLE

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ws(tmp_path, memory_keyring) -> Path:
    path = tmp_path / "ws"
    store = Store(path)
    p = store.add_principal(Principal(name="Dana Whitfield", timezone="America/New_York",
                                      addresses=["dana@whitfield.example"]))
    store.add_account(Account(principal_id=p.id, kind="local", address="dana@whitfield.example"))
    store.close()
    return path


@pytest.fixture
def env(tmp_path, memory_keyring) -> dict[str, str]:
    """An empty environment but for the credential store the workspace's key is in (a file the children read)."""
    home = tmp_path / "home"
    home.mkdir()
    return {
        "PYTHON_KEYRING_BACKEND": os.environ["PYTHON_KEYRING_BACKEND"],
        FILE_VARIABLE: os.environ[FILE_VARIABLE],
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_RUNTIME_DIR": str(tmp_path),
        "QT_QPA_PLATFORM": "offscreen",
        "ASSISTANT_LOG_DIR": str(tmp_path / "logs"),
        "LANG": "C.UTF-8",
    }


def launch(ws: Path, env: dict[str, str], *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "assistant", "--workspace", str(ws), *extra], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def listening(ws: Path) -> bool:
    socket = QLocalSocket()
    socket.connectToServer(server_name(ws))
    ok = socket.waitForConnected(200)
    socket.abort()
    return ok


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


def log_text(env: dict[str, str]) -> str:
    path = Path(env["ASSISTANT_LOG_DIR"]) / "assistant.log"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
    process.communicate(timeout=30)


def test_a_second_launch_and_a_mailto_click_reach_the_first_app(qapp, ws, env):
    first = launch(ws, env)
    try:
        wait_for(lambda: listening(ws) or first.poll() is not None)
        assert first.poll() is None, first.communicate()

        second = launch(ws, env)
        said = second.communicate(timeout=60)
        assert second.returncode == 0, said
        wait_for(lambda: "another launch handed over: come forward" in log_text(env))

        click = launch(ws, env, "mailto:pat@client.example?subject=Deed%20of%20assignment&body=Hello%20Pat")
        said = click.communicate(timeout=60)
        assert click.returncode == 0, said
        wait_for(lambda: "another launch handed over: a mailto: link" in log_text(env))
        wait_for(lambda: "a mailto: link opened a compose window as principal 1" in log_text(env))
        assert "pat@client.example" not in log_text(env)  # the log says what happened, not to whom
        assert first.poll() is None  # the first app runs on
    finally:
        stop(first)


def test_a_crashed_app_leaves_nothing_that_stops_the_next(qapp, ws, env):
    crashed = launch(ws, env)
    try:
        wait_for(lambda: listening(ws) or crashed.poll() is not None)
    finally:
        crashed.send_signal(signal.SIGKILL)
        crashed.communicate(timeout=30)
    assert (ws / LOCK_NAME).exists()  # the lock file stays behind, as after a power cut

    # not listening any more, though its socket file may remain
    assert not listening(ws)
    nxt = launch(ws, env)
    try:
        wait_for(lambda: listening(ws) or nxt.poll() is not None)
        assert nxt.poll() is None, nxt.communicate()
        assert hand_over(ws, {"show": True, "mailto": None}, timeout_s=30)
    finally:
        stop(nxt)


def test_in_one_process_the_holder_refuses_a_second_holder(qapp, ws):
    first = SingleInstance(ws)
    assert first.acquire()
    try:
        assert not SingleInstance(ws).acquire()
    finally:
        first.release()
    again = SingleInstance(ws)
    assert again.acquire()
    again.release()


def test_the_demo_is_not_rebuilt_under_a_running_app(qapp, ws, capsys):
    from assistant.cli.main import main
    from assistant.ui.single_instance import in_use

    holder = SingleInstance(ws)
    assert holder.acquire()
    try:
        assert in_use(ws)
        assert main(["--workspace", str(ws), "demo", "--no-gui"]) == 1
        assert f"Assistant is open on {ws}: quit it" in capsys.readouterr().err
    finally:
        holder.release()
    assert not in_use(ws)


def test_the_first_run_page_does_not_rebuild_a_demo_another_app_has_open(qtbot, make_window, tmp_path):
    window = make_window(tmp_path / "empty")
    holder = SingleInstance(window.demo_dir)
    assert holder.acquire()
    try:
        window.on_open_demo()
        qtbot.waitUntil(lambda: "use that one" in window.first_run.status.text(), timeout=10_000)
        assert f"Assistant is open on the demo in another window ({window.demo_dir})" in window.first_run.status.text()
        assert window.replaced_by is None
        assert not (window.demo_dir / "workspace.sqlite3").exists()
    finally:
        holder.release()
