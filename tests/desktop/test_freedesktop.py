"""The Linux desktop entries, checked by the freedesktop tools themselves: desktop-file-validate accepts them, and
xdg-mime names Assistant as the mailto: handler; remove takes away all of it and nothing else."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from assistant.cli.main import main
from assistant.desktop import DesktopState
from assistant.desktop.linux import FreedesktopIntegration, exec_line

OTHER_DEFAULTS = "[Default Applications]\ntext/html=firefox.desktop;\n\n[Added Associations]\nimage/png=eog.desktop;\n"


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    (home / ".config").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.delenv("XDG_CURRENT_DESKTOP", raising=False)  # xdg-mime's generic (spec) mode
    (home / ".config" / "mimeapps.list").write_text(OTHER_DEFAULTS, encoding="utf-8")
    return home


def validate(path: Path) -> None:
    done = subprocess.run([shutil.which("desktop-file-validate") or "desktop-file-validate", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def xdg_mime_default() -> str:
    done = subprocess.run(["xdg-mime", "query", "default", "x-scheme-handler/mailto"], capture_output=True, text=True,
                          timeout=60, env=dict(os.environ))
    return done.stdout.strip()


def test_install_writes_entries_the_freedesktop_tools_accept(home):
    command = ["/opt/My Apps/assistant", "--workspace", "/home/u/100% \"work\" $HOME"]
    integration = FreedesktopIntegration(command)
    state = integration.apply(DesktopState(menu=True, mailto=True, autostart=True))
    assert state == DesktopState(menu=True, mailto=True, autostart=True)

    menu = home / ".local/share/applications/assistant.desktop"
    autostart = home / ".config/autostart/assistant.desktop"
    validate(menu)
    validate(autostart)
    assert (home / ".local/share/icons/hicolor/scalable/apps/assistant.svg").read_text(encoding="utf-8").startswith("<")
    text = menu.read_text(encoding="utf-8")
    assert "MimeType=x-scheme-handler/mailto;" in text and "Icon=assistant" in text
    assert "Exec=" + exec_line(command, "%u") in text
    assert "--tray" in autostart.read_text(encoding="utf-8")
    assert xdg_mime_default() == "assistant.desktop"
    mimeapps = (home / ".config/mimeapps.list").read_text(encoding="utf-8")
    assert "text/html=firefox.desktop;" in mimeapps and "image/png=eog.desktop;" in mimeapps

    assert integration.apply(DesktopState(menu=True, mailto=False, autostart=False)) == DesktopState(menu=True)
    validate(menu)
    assert "MimeType" not in menu.read_text(encoding="utf-8")
    assert not autostart.exists()
    assert xdg_mime_default() != "assistant.desktop"

    assert integration.apply(DesktopState()) == DesktopState()
    assert not menu.exists() and not autostart.exists()
    assert not (home / ".local/share/icons/hicolor/scalable/apps/assistant.svg").exists()
    mimeapps = (home / ".config/mimeapps.list").read_text(encoding="utf-8")
    assert "mailto" not in mimeapps
    assert "text/html=firefox.desktop;" in mimeapps and "image/png=eog.desktop;" in mimeapps


def test_exec_quoting_follows_the_desktop_entry_spec():
    assert exec_line(["/usr/bin/assistant"], "%u") == "/usr/bin/assistant %u"
    # reserved characters: the argument in double quotes, `"` `$` escaped with a backslash, then every backslash
    # doubled as in any string value; a literal % is %%
    assert exec_line(["/opt/My Apps/assistant", '50% "x" $HOME']) == \
        '"/opt/My Apps/assistant" "50%% \\\\"x\\\\" \\\\$HOME"'


def test_the_cli_installs_reports_and_removes(home, tmp_path, capsys):
    workspace = tmp_path / "my workspace"
    assert main(["--json", "--workspace", str(workspace), "desktop", "install"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["platform"] == "freedesktop"
    assert data["state"] == {"menu": True, "mailto": True, "autostart": False}
    assert data["command"][-2:] == ["--workspace", str(workspace)]
    validate(home / ".local/share/applications/assistant.desktop")

    assert main(["--json", "desktop", "install", "--start-at-login"]) == 0
    assert json.loads(capsys.readouterr().out)["state"]["autostart"] is True
    assert main(["--json", "desktop", "status"]) == 0
    assert json.loads(capsys.readouterr().out)["state"] == {"menu": True, "mailto": True, "autostart": True}
    assert main(["--json", "desktop", "remove"]) == 0
    assert json.loads(capsys.readouterr().out)["state"] == {"menu": False, "mailto": False, "autostart": False}
