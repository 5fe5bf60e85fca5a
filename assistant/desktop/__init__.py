"""The app on the user's desktop: in the applications menu with its icon, the handler of ``mailto:`` links, and
started at login (in the tray). One interface, one implementation per platform, each through the platform's own
documented mechanism:

- Linux and other freedesktop systems (``linux.py``, tested here): a Desktop Entry in ``$XDG_DATA_HOME/applications``
  and the icon in the hicolor theme; ``MimeType=x-scheme-handler/mailto`` and ``xdg-mime default``; an entry in
  ``$XDG_CONFIG_HOME/autostart``.
- Windows (``windows.py``): a Start-menu shortcut, the ``HKCU\\…\\Run`` key, and ``mailto`` registered as a URL
  association of the app's Capabilities (the user confirms the default in Settings, as Windows requires).
- macOS (``macos.py``): the bundle in Applications, a LaunchAgent with ``RunAtLoad``, and
  ``LSSetDefaultHandlerForURLScheme`` for the ``mailto`` scheme the bundle's Info.plist declares.

Used by ``assistant desktop install|remove|status`` and the window's *Desktop integration* settings; no Qt here.
"""
from __future__ import annotations

import os
import shutil
import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

APP_ID = "assistant"  # the desktop file's name (QGuiApplication.setDesktopFileName), the icon's name
APP_NAME = "Assistant"


@dataclass(frozen=True)
class DesktopState:
    menu: bool = False  # in the applications menu (Start menu) with the icon
    mailto: bool = False  # opens mailto: links
    autostart: bool = False  # starts at login, in the tray

    def to_json(self) -> dict[str, bool]:
        return {"menu": self.menu, "mailto": self.mailto, "autostart": self.autostart}


class DesktopIntegration(ABC):
    """What the platform holds for the app; ``command`` is how to start it (``launch_command``)."""

    name = ""

    def __init__(self, command: list[str]):
        self.command = list(command)

    @abstractmethod
    def state(self) -> DesktopState:
        """What is in place now (read from the platform, not remembered)."""

    @abstractmethod
    def apply(self, wanted: DesktopState) -> DesktopState:
        """Add what ``wanted`` turns on, remove what it turns off; mailto: needs the menu entry. Returns the state."""

    def where(self) -> list[str]:
        """The files or keys this integration writes, for the user to see."""
        return []


def launch_command(workspace: str | None = None) -> list[str]:
    """How the desktop starts this same installation: the bundle's executable, the installed ``assistant`` script,
    or this interpreter with ``-m assistant``; with ``--workspace`` when one other than the default is used."""
    if getattr(sys, "frozen", False):
        command = [sys.executable]
    else:
        script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
        if script is not None and script.stem == "assistant" and script.name != "__main__.py":
            found = shutil.which(str(script)) if not script.is_absolute() else str(script)
            command = [str(Path(found).resolve()) if found else str(script.resolve())]
        else:
            installed = shutil.which("assistant")
            command = [installed] if installed else [sys.executable, "-m", "assistant"]
    if workspace:
        command += ["--workspace", os.path.abspath(workspace)]
    return command


def for_platform(command: list[str] | None = None) -> DesktopIntegration:
    command = command if command is not None else launch_command()
    if sys.platform == "win32":
        from assistant.desktop.windows import WindowsIntegration

        return WindowsIntegration(command)
    if sys.platform == "darwin":
        from assistant.desktop.macos import MacIntegration

        return MacIntegration(command)
    from assistant.desktop.linux import FreedesktopIntegration

    return FreedesktopIntegration(command)
