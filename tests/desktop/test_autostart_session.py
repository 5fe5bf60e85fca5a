"""The entries do what they say on a real desktop (Xvfb with a real tray host, trayer): the autostart entry's own
Exec line starts the app hidden in the tray; the menu entry's Exec line with a mailto: link (what a browser runs)
reaches that app, which comes forward with a compose window, and the second process exits."""
from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

from assistant.desktop import DesktopState
from assistant.desktop.linux import FreedesktopIntegration
from assistant.domain import Account, Principal
from assistant.store import Store
from tests.ui.desktop import start_tray_host, stop

ROOT = Path(__file__).resolve().parents[2]


def exec_args(entry: Path, url: str = "") -> list[str]:
    """What a launcher runs for ``Exec=``: the string value unescaped, split with the spec's quoting (which is the
    shell's double quotes), ``%u`` the link, ``%%`` a percent sign."""
    line = next(raw for raw in entry.read_text(encoding="utf-8").splitlines() if raw.startswith("Exec="))[5:]
    line = line.replace("\\\\", "\\")
    args = []
    for arg in shlex.split(line):
        if arg == "%u":
            if url:
                args.append(url)
            continue
        args.append(arg.replace("%%", "%"))
    return args


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_autostart_starts_in_the_tray_and_a_mailto_click_reaches_it(tmp_path):
    ws = tmp_path / "my workspace"
    store = Store(ws)
    p = store.add_principal(Principal(name="Dana Whitfield", timezone="America/New_York",
                                      addresses=["dana@whitfield.example"]))
    store.add_account(Account(principal_id=p.id, kind="local", address="dana@whitfield.example"))
    store.close()

    env, processes = start_tray_host(tmp_path)
    home = tmp_path / "home"
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / "share"), XDG_CONFIG_HOME=str(home / "config"),
               PYTHONPATH=str(ROOT), ASSISTANT_LOG_DIR=str(tmp_path / "logs"))
    env.pop("XDG_CURRENT_DESKTOP", None)
    log = tmp_path / "logs" / "assistant.log"
    app = None
    try:
        saved = dict(os.environ)
        os.environ.update({k: env[k] for k in ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME")})
        try:
            integration = FreedesktopIntegration([sys.executable, "-m", "assistant", "--workspace", str(ws)])
            assert integration.apply(DesktopState(menu=True, mailto=True, autostart=True)) == \
                DesktopState(menu=True, mailto=True, autostart=True)
        finally:
            os.environ.clear()
            os.environ.update(saved)

        # what the session manager runs at login
        app = subprocess.Popen(exec_args(home / "config" / "autostart" / "assistant.desktop"), env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for(lambda: log.exists() and "started in the tray" in log.read_text(encoding="utf-8")
                 or app.poll() is not None)
        assert app.poll() is None, app.communicate()
        assert "first paint" not in log.read_text(encoding="utf-8")  # hidden: never painted

        # what a browser runs for a mailto: link, from the menu entry
        click = subprocess.run(exec_args(home / "share" / "applications" / "assistant.desktop",
                                         "mailto:pat@client.example?subject=Deed"),
                               env=env, capture_output=True, text=True, timeout=120)
        assert click.returncode == 0, click.stderr
        wait_for(lambda: "a mailto: link opened a compose window as principal 1" in log.read_text(encoding="utf-8"))
        assert "the window is shown" in log.read_text(encoding="utf-8")  # it came forward
        assert app.poll() is None
    finally:
        if app is not None:
            if app.poll() is None:
                app.kill()
            app.communicate(timeout=30)
        stop(processes)
