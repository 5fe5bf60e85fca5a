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

import sys

from assistant.desktop.base import APP_ID, APP_NAME, DesktopIntegration, DesktopState, launch_command

__all__ = ["APP_ID", "APP_NAME", "DesktopIntegration", "DesktopState", "launch_command", "for_platform"]


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
