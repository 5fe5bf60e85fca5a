"""File → Desktop integration…: the three settings read from the desktop and applied to it, as a user does."""
from __future__ import annotations

import os
import subprocess

from assistant.desktop.linux import FreedesktopIntegration


def test_the_settings_read_and_change_the_desktop(qtbot, workspace, make_window, tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    ws, _ann, _ken = workspace
    window = make_window(ws)
    action = next(a for a in window.file_menu.actions() if a.objectName() == "desktop-integration")
    assert window.file_menu.actions().index(action) == window.file_menu.actions().index(window.quit_action) - 1
    action.trigger()
    dialog = window.desktop_dialog
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.apply_button.isEnabled())
    assert not dialog.menu.isChecked() and not dialog.mailto.isChecked() and not dialog.autostart.isChecked()
    assert not dialog.mailto.isEnabled()  # the mailto: handler needs the menu entry

    dialog.menu.setChecked(True)
    assert dialog.mailto.isEnabled()
    dialog.mailto.setChecked(True)
    dialog.autostart.setChecked(True)
    with qtbot.wait_signal(dialog.applied, timeout=10_000) as applied:
        dialog.apply_button.click()
    assert applied.args[0].to_json() == {"menu": True, "mailto": True, "autostart": True}
    assert "Desktop integration applied" in window.notice.text()
    autostart = home / "config" / "autostart" / "assistant.desktop"
    assert "--tray" in autostart.read_text(encoding="utf-8")
    done = subprocess.run(["desktop-file-validate", str(autostart), str(home / "share/applications/assistant.desktop")],
                          capture_output=True, text=True, env=dict(os.environ))
    assert done.returncode == 0, done.stdout

    dialog.autostart.setChecked(False)
    dialog.menu.setChecked(False)
    assert not dialog.mailto.isChecked()
    with qtbot.wait_signal(dialog.applied, timeout=10_000):
        dialog.apply_button.click()
    assert not autostart.exists()
    assert FreedesktopIntegration(["assistant"]).state().to_json() == {"menu": False, "mailto": False,
                                                                       "autostart": False}
