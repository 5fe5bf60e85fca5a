"""Windows, through its documented per-user mechanisms (nothing needs an administrator):

- the Start menu: a shortcut in ``%APPDATA%\\Microsoft\\Windows\\Start Menu\\Programs`` made with the Shell's
  ``WScript.Shell.CreateShortcut`` (through PowerShell, which every Windows has);
- start at login: a value under ``HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run``;
- mailto: a ``URL:`` ProgID under ``HKCU\\Software\\Classes``, the app's ``Capabilities\\URLAssociations`` and its
  line in ``HKCU\\Software\\RegisteredApplications`` ("Registering Programs with Client Types"). Since Windows 8 an app
  cannot make itself the default: the Default apps settings page is opened for the user to choose Assistant.

Not tested here (no Windows in CI); written to Microsoft's documentation of each key.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from assistant.desktop.base import APP_NAME, DesktopIntegration, DesktopState

RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
PROG_ID = "Assistant.mailto"
CAPABILITIES = r"Software\Assistant\Capabilities"
REGISTERED = r"Software\RegisteredApplications"


def _command_line(args: list[str]) -> str:
    return subprocess.list2cmdline(args)


class WindowsIntegration(DesktopIntegration):
    name = "windows"

    @property
    def shortcut(self) -> Path:
        return Path(os.environ.get("APPDATA", str(Path.home()))) / "Microsoft" / "Windows" / "Start Menu" / \
            "Programs" / f"{APP_NAME}.lnk"

    def where(self) -> list[str]:
        return [str(self.shortcut), "HKCU\\" + RUN_KEY, "HKCU\\Software\\Classes\\" + PROG_ID, "HKCU\\" + CAPABILITIES]

    def state(self) -> DesktopState:
        if sys.platform != "win32":
            raise NotImplementedError("Windows only")
        import winreg

        def has(key: str, value: str | None = None) -> bool:
            try:
                with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key) as handle:
                    if value is not None:
                        winreg.QueryValueEx(handle, value)
                return True
            except OSError:
                return False

        return DesktopState(menu=self.shortcut.exists(), mailto=has(REGISTERED, APP_NAME),
                            autostart=has(RUN_KEY, APP_NAME))

    def apply(self, wanted: DesktopState) -> DesktopState:
        if sys.platform != "win32":
            raise NotImplementedError("Windows only")
        import winreg

        hkcu = winreg.HKEY_CURRENT_USER
        if wanted.menu:
            target, *arguments = self.command
            script = ("$s = (New-Object -ComObject WScript.Shell).CreateShortcut($env:ASSISTANT_LNK); "
                      "$s.TargetPath = $env:ASSISTANT_TARGET; $s.Arguments = $env:ASSISTANT_ARGS; "
                      "$s.Description = 'Assistant'; $s.Save()")
            env = dict(os.environ, ASSISTANT_LNK=str(self.shortcut), ASSISTANT_TARGET=target,
                       ASSISTANT_ARGS=_command_line(arguments))
            self.shortcut.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["powershell", "-NoProfile", "-NonInteractive", "-Command", script], env=env,
                           check=True, capture_output=True, timeout=60)
        else:
            self.shortcut.unlink(missing_ok=True)
        with winreg.CreateKey(hkcu, RUN_KEY) as run:
            if wanted.autostart:
                winreg.SetValueEx(run, APP_NAME, 0, winreg.REG_SZ, _command_line([*self.command, "--tray"]))
            else:
                try:
                    winreg.DeleteValue(run, APP_NAME)
                except OSError:
                    pass
        if wanted.mailto and wanted.menu:
            with winreg.CreateKey(hkcu, rf"Software\Classes\{PROG_ID}") as prog:
                winreg.SetValueEx(prog, "", 0, winreg.REG_SZ, "URL:MailTo Protocol")
                winreg.SetValueEx(prog, "URL Protocol", 0, winreg.REG_SZ, "")
            with winreg.CreateKey(hkcu, rf"Software\Classes\{PROG_ID}\shell\open\command") as command:
                winreg.SetValueEx(command, "", 0, winreg.REG_SZ, _command_line(self.command) + ' "%1"')
            with winreg.CreateKey(hkcu, CAPABILITIES) as capabilities:
                winreg.SetValueEx(capabilities, "ApplicationName", 0, winreg.REG_SZ, APP_NAME)
                winreg.SetValueEx(capabilities, "ApplicationDescription", 0, winreg.REG_SZ,
                                  "Mail, calendars, calls and tasks of the people you assist")
            with winreg.CreateKey(hkcu, CAPABILITIES + r"\URLAssociations") as urls:
                winreg.SetValueEx(urls, "mailto", 0, winreg.REG_SZ, PROG_ID)
            with winreg.CreateKey(hkcu, REGISTERED) as registered:
                winreg.SetValueEx(registered, APP_NAME, 0, winreg.REG_SZ, CAPABILITIES)
            os.startfile("ms-settings:defaultapps")  # the user picks the default; Windows allows no other way
        else:
            for key in (rf"Software\Classes\{PROG_ID}\shell\open\command", rf"Software\Classes\{PROG_ID}\shell\open",
                        rf"Software\Classes\{PROG_ID}\shell", rf"Software\Classes\{PROG_ID}",
                        CAPABILITIES + r"\URLAssociations", CAPABILITIES, r"Software\Assistant"):
                try:
                    winreg.DeleteKey(hkcu, key)
                except OSError:
                    pass
            try:
                with winreg.OpenKey(hkcu, REGISTERED, 0, winreg.KEY_SET_VALUE) as registered:
                    winreg.DeleteValue(registered, APP_NAME)
            except OSError:
                pass
        return self.state()
