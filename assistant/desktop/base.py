"""The desktop integration's interface, shared by the platforms' implementations (``linux.py``, ``windows.py``,
``macos.py``) and chosen by :func:`assistant.desktop.for_platform`."""
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
