"""freedesktop.org: the Desktop Entry Specification (menu entry, ``Exec`` quoting), the Icon Theme Specification
(hicolor), the Desktop Application Autostart Specification, and the Association between MIME types and
applications (``mimeapps.list``, set through ``xdg-mime default`` when xdg-utils is installed).

Only the user's own folders are written: ``$XDG_DATA_HOME`` (default ``~/.local/share``) and ``$XDG_CONFIG_HOME``
(default ``~/.config``), so nothing needs root and ``remove`` leaves the system as it was.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from assistant.core.resources import resource
from assistant.desktop.base import APP_ID, APP_NAME, DesktopIntegration, DesktopState

MAILTO = "x-scheme-handler/mailto"
DESKTOP_FILE = f"{APP_ID}.desktop"
_RESERVED = set(' \t\n"\'\\><~|&;$*?#()`')


def data_home() -> Path:
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if os.path.isabs(value) else Path.home() / ".local" / "share"


def config_home() -> Path:
    value = os.environ.get("XDG_CONFIG_HOME", "")
    return Path(value) if os.path.isabs(value) else Path.home() / ".config"


def exec_line(args: list[str], field_code: str = "") -> str:
    """``Exec=`` as the spec wants it: an argument with a reserved character in double quotes, with ``"`« ` »``,
    ``$`` and ``\\`` escaped inside; then every ``\\`` doubled again, as in any string value; ``%`` as ``%%``."""
    quoted = []
    for arg in args:
        arg = arg.replace("%", "%%")
        if any(c in _RESERVED for c in arg) or not arg:
            arg = '"' + "".join("\\" + c if c in '"`$\\' else c for c in arg) + '"'
        quoted.append(arg)
    line = " ".join(quoted) + (f" {field_code}" if field_code else "")
    return line.replace("\\", "\\\\")


def _value(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")


class FreedesktopIntegration(DesktopIntegration):
    name = "freedesktop"

    @property
    def menu_file(self) -> Path:
        return data_home() / "applications" / DESKTOP_FILE

    @property
    def icon_file(self) -> Path:
        return data_home() / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"

    @property
    def autostart_file(self) -> Path:
        return config_home() / "autostart" / DESKTOP_FILE

    @property
    def mimeapps_file(self) -> Path:
        return config_home() / "mimeapps.list"

    def where(self) -> list[str]:
        return [str(self.menu_file), str(self.icon_file), str(self.autostart_file), str(self.mimeapps_file)]

    # -- the entries ----------------------------------------------------------------------------------------------
    def menu_entry(self, mailto: bool) -> str:
        lines = [
            "[Desktop Entry]",
            "Type=Application",
            "Version=1.4",
            f"Name={APP_NAME}",
            "GenericName=Virtual assistant's workspace",
            "Comment=" + _value("Mail, calendars, calls, tasks and hours of the people you assist"),
            f"Exec={exec_line(self.command, '%u')}",
            f"Icon={APP_ID}",
            "Terminal=false",
            "Categories=Office;Email;Calendar;",
            "Keywords=mail;calendar;tasks;reminders;timesheet;",
            "StartupNotify=true",
            f"StartupWMClass={APP_ID}",
        ]
        if mailto:
            lines.append(f"MimeType={MAILTO};")
        return "\n".join(lines) + "\n"

    def autostart_entry(self) -> str:
        return "\n".join([
            "[Desktop Entry]",
            "Type=Application",
            "Version=1.4",
            f"Name={APP_NAME}",
            "Comment=" + _value("Starts Assistant in the tray at login, so reminders reach you"),
            f"Exec={exec_line([*self.command, '--tray'])}",
            f"Icon={APP_ID}",
            "Terminal=false",
            "X-GNOME-Autostart-enabled=true",
        ]) + "\n"

    # -- state ----------------------------------------------------------------------------------------------------
    def state(self) -> DesktopState:
        menu = self.menu_file.is_file()
        mailto = menu and f"MimeType={MAILTO};" in self.menu_file.read_text(encoding="utf-8") \
            and self.default_mailto_handler() == DESKTOP_FILE
        autostart = self.autostart_file.is_file() and "Hidden=true" not in \
            self.autostart_file.read_text(encoding="utf-8")
        return DesktopState(menu=menu, mailto=mailto, autostart=autostart)

    def apply(self, wanted: DesktopState) -> DesktopState:
        mailto = wanted.mailto and wanted.menu
        if wanted.menu:
            self.icon_file.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(resource("icons", "assistant.svg"), self.icon_file)
            _write(self.menu_file, self.menu_entry(mailto))
        else:
            self.menu_file.unlink(missing_ok=True)
            self.icon_file.unlink(missing_ok=True)
        if mailto:
            self._set_default_mailto()
        elif self.default_mailto_handler() == DESKTOP_FILE:
            self._unset_default_mailto()
        self._update_databases()
        if wanted.autostart:
            _write(self.autostart_file, self.autostart_entry())
        else:
            self.autostart_file.unlink(missing_ok=True)
        return self.state()

    # -- mailto: --------------------------------------------------------------------------------------------------
    def default_mailto_handler(self) -> str:
        """The desktop file the user's ``mimeapps.list`` names first for mailto: ("" for none)."""
        for line in _section(self.mimeapps_file, "Default Applications"):
            key, _, value = line.partition("=")
            if key.strip() == MAILTO:
                return next((v.strip() for v in value.split(";") if v.strip()), "")
        return ""

    def _set_default_mailto(self) -> None:
        xdg_mime = shutil.which("xdg-mime")
        if xdg_mime:  # also tells desktops with their own store (KDE) where xdg-utils knows it
            subprocess.run([xdg_mime, "default", DESKTOP_FILE, MAILTO], capture_output=True, timeout=30, check=False)
        if self.default_mailto_handler() != DESKTOP_FILE:  # no xdg-utils, or it wrote elsewhere: the spec's file
            _set_key(self.mimeapps_file, "Default Applications", MAILTO, DESKTOP_FILE)

    def _unset_default_mailto(self) -> None:
        _set_key(self.mimeapps_file, "Default Applications", MAILTO, None)

    def _update_databases(self) -> None:
        for tool, folder in (("update-desktop-database", self.menu_file.parent),
                             ("gtk-update-icon-cache", data_home() / "icons" / "hicolor")):
            path = shutil.which(tool)
            if path and folder.is_dir():
                subprocess.run([path, "-q", str(folder)] if tool == "update-desktop-database" else
                               [path, "-q", "-t", "-f", str(folder)], capture_output=True, timeout=60, check=False)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.new")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _section(path: Path, name: str) -> list[str]:
    if not path.is_file():
        return []
    lines, inside = [], False
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            inside = stripped[1:-1] == name
        elif inside and stripped and not stripped.startswith("#"):
            lines.append(stripped)
    return lines


def _set_key(path: Path, section: str, key: str, value: str | None) -> None:
    """Set (or with ``None`` remove) one key of one group, keeping every other line as it was."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines() if path.is_file() else []
    out: list[str] = []
    inside = found_section = done = False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            if inside and not done and value is not None:
                out.append(f"{key}={value};")
                done = True
            inside = stripped[1:-1] == section
            found_section = found_section or inside
        elif inside and stripped.partition("=")[0].strip() == key:
            if value is not None and not done:
                out.append(f"{key}={value};")
                done = True
            continue
        out.append(line)
    if value is not None and not done:
        if not found_section:
            out.append(f"[{section}]")
        out.append(f"{key}={value};")
    if lines or value is not None:
        _write(path, "\n".join(out) + "\n")
