"""How long the desktop has had no input (keyboard, mouse, touch), where the platform says so: one small interface,
:class:`IdleSource`, and :func:`desktop_idle`, which picks the source for this session or gives None.

* X11: the MIT-SCREEN-SAVER extension (``XScreenSaverQueryInfo``'s ``idle``, in ms), through ctypes on libX11 and
  libXss with a connection of its own. This is what xprintidle and screen lockers read. Tested against a real Xvfb.
* Wayland, GNOME (and GNOME on X11, as a fallback): ``org.gnome.Mutter.IdleMonitor.GetIdletime`` on the session bus
  (ms), through jeepney. Under Wayland the X extension sees only XWayland clients' input, so it is not used there.
* Windows: ``GetLastInputInfo`` against ``GetTickCount`` (both ms, 32-bit, wrapping after 49.7 days).
* macOS: IOKit's ``IOHIDSystem`` ``HIDIdleTime`` property (ns), as ``ioreg`` prints it.

The Windows and macOS sources follow their platform documentation and are not exercised here. Nothing here knows
*what* the input was, only when the last one happened. Reading never blocks for long: the D-Bus call and ``ioreg``
have a timeout, the X query is one round trip to the local server.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import subprocess
import sys
from typing import Any, Protocol

DBUS_TIMEOUT_S = 1.0
IOREG_TIMEOUT_S = 2.0


class IdleUnavailable(Exception):
    """This source cannot tell the idle time in this session (no server, no extension, no service)."""


class IdleSource(Protocol):
    name: str

    def idle_seconds(self) -> float:
        """Seconds since the last input anywhere on the desktop; raises :class:`IdleUnavailable` when it cannot
        tell any more."""
        ...

    def close(self) -> None: ...


class _XScreenSaverInfo(ctypes.Structure):
    _fields_ = [("window", ctypes.c_ulong), ("state", ctypes.c_int), ("kind", ctypes.c_int),
                ("til_or_since", ctypes.c_ulong), ("idle", ctypes.c_ulong), ("event_mask", ctypes.c_ulong)]


def _library(name: str, fallback: str) -> ctypes.CDLL:
    try:
        return ctypes.CDLL(ctypes.util.find_library(name) or fallback)
    except OSError as exc:
        raise IdleUnavailable(f"lib{name} is not installed") from exc


class XScreenSaverIdle:
    """The X server's idle time, from the MIT-SCREEN-SAVER extension."""

    name = "X11 screen saver extension"

    def __init__(self, display: str | None = None):
        display = display if display is not None else os.environ.get("DISPLAY", "")
        if not display:
            raise IdleUnavailable("no X display")
        x11 = _library("X11", "libX11.so.6")
        xss = _library("Xss", "libXss.so.1")
        x11.XOpenDisplay.argtypes, x11.XOpenDisplay.restype = [ctypes.c_char_p], ctypes.c_void_p
        x11.XCloseDisplay.argtypes, x11.XCloseDisplay.restype = [ctypes.c_void_p], ctypes.c_int
        x11.XDefaultRootWindow.argtypes, x11.XDefaultRootWindow.restype = [ctypes.c_void_p], ctypes.c_ulong
        x11.XFree.argtypes, x11.XFree.restype = [ctypes.c_void_p], ctypes.c_int
        xss.XScreenSaverQueryExtension.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int),
                                                   ctypes.POINTER(ctypes.c_int)]
        xss.XScreenSaverQueryExtension.restype = ctypes.c_int
        xss.XScreenSaverAllocInfo.argtypes, xss.XScreenSaverAllocInfo.restype = [], ctypes.POINTER(_XScreenSaverInfo)
        xss.XScreenSaverQueryInfo.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(_XScreenSaverInfo)]
        xss.XScreenSaverQueryInfo.restype = ctypes.c_int
        self._x11, self._xss = x11, xss
        self._display = x11.XOpenDisplay(display.encode())
        if not self._display:
            raise IdleUnavailable(f"cannot open the X display {display}")
        event_base, error_base = ctypes.c_int(), ctypes.c_int()
        if not xss.XScreenSaverQueryExtension(self._display, ctypes.byref(event_base), ctypes.byref(error_base)):
            x11.XCloseDisplay(self._display)
            self._display = None
            raise IdleUnavailable(f"the X server on {display} has no screen saver extension")
        self._root = x11.XDefaultRootWindow(self._display)
        self._info = xss.XScreenSaverAllocInfo()
        if not self._info:
            x11.XCloseDisplay(self._display)
            self._display = None
            raise IdleUnavailable("out of memory for the screen saver info")

    def idle_seconds(self) -> float:
        if not self._display:
            raise IdleUnavailable("closed")
        if not self._xss.XScreenSaverQueryInfo(self._display, self._root, self._info):
            raise IdleUnavailable("the X server did not answer the screen saver query")
        return float(self._info.contents.idle) / 1000.0

    def close(self) -> None:
        if self._display:
            self._x11.XFree(self._info)
            self._x11.XCloseDisplay(self._display)
            self._display = None


class MutterIdle:
    """GNOME Shell's idle monitor on the session bus (Wayland and X11 sessions)."""

    name = "GNOME idle monitor"

    def __init__(self, bus: str = "SESSION") -> None:
        try:
            from jeepney import DBusAddress
            from jeepney.io.blocking import open_dbus_connection
        except ImportError as exc:
            raise IdleUnavailable("jeepney is not installed") from exc
        try:
            self._conn = open_dbus_connection(bus=bus or "SESSION")
        except (OSError, KeyError, ValueError, StopIteration) as exc:
            raise IdleUnavailable("no session bus") from exc
        self._address = DBusAddress("/org/gnome/Mutter/IdleMonitor/Core", bus_name="org.gnome.Mutter.IdleMonitor",
                                    interface="org.gnome.Mutter.IdleMonitor")
        try:
            self.idle_seconds()
        except IdleUnavailable:
            self.close()
            raise

    def idle_seconds(self) -> float:
        from jeepney import new_method_call
        from jeepney.wrappers import DBusErrorResponse, unwrap_msg

        try:
            reply = self._conn.send_and_get_reply(new_method_call(self._address, "GetIdletime"),
                                                  timeout=DBUS_TIMEOUT_S)
            (milliseconds,) = unwrap_msg(reply)
        except (DBusErrorResponse, OSError, TimeoutError, ValueError) as exc:
            raise IdleUnavailable("the GNOME idle monitor did not answer") from exc
        return float(milliseconds) / 1000.0

    def close(self) -> None:
        self._conn.close()


class WindowsIdle:
    """``GetLastInputInfo``: the tick count of the last input in this session."""

    name = "Windows last input"

    def __init__(self) -> None:
        windll: Any = getattr(ctypes, "windll", None)  # only on Windows
        if windll is None:
            raise IdleUnavailable("not Windows")

        class LastInputInfo(ctypes.Structure):
            _fields_ = [("cbSize", ctypes.c_uint), ("dwTime", ctypes.c_uint)]

        self._info: Any = LastInputInfo()
        self._info.cbSize = ctypes.sizeof(LastInputInfo)
        self._user32: Any = windll.user32
        self._kernel32: Any = windll.kernel32
        self._kernel32.GetTickCount.restype = ctypes.c_uint

    def idle_seconds(self) -> float:
        if not self._user32.GetLastInputInfo(ctypes.byref(self._info)):
            raise IdleUnavailable("GetLastInputInfo failed")
        return float((self._kernel32.GetTickCount() - self._info.dwTime) & 0xFFFFFFFF) / 1000.0

    def close(self) -> None:
        pass


_HID_IDLE = re.compile(r'"HIDIdleTime"\s*=\s*(\d+)')


class MacIdle:
    """IOKit's ``HIDIdleTime`` of the ``IOHIDSystem`` service (nanoseconds), as ``ioreg`` reads it."""

    name = "macOS HID idle time"

    def __init__(self) -> None:
        if sys.platform != "darwin":
            raise IdleUnavailable("not macOS")
        self.idle_seconds()

    def idle_seconds(self) -> float:
        try:
            out = subprocess.run(["ioreg", "-c", "IOHIDSystem", "-d", "4", "-r", "-k", "HIDIdleTime"],
                                 capture_output=True, text=True, timeout=IOREG_TIMEOUT_S, check=False).stdout
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise IdleUnavailable("ioreg did not answer") from exc
        found = _HID_IDLE.search(out)
        if found is None:
            raise IdleUnavailable("ioreg gave no HIDIdleTime")
        return int(found.group(1)) / 1e9

    def close(self) -> None:
        pass


def desktop_idle(environ: dict[str, str] | None = None, platform: str | None = None) -> IdleSource | None:
    """The idle source for this session, or None when the platform does not report one (then the app's own input is
    all there is)."""
    env = os.environ if environ is None else environ
    platform = platform or sys.platform
    if platform == "win32":
        candidates: list[type] = [WindowsIdle]
    elif platform == "darwin":
        candidates = [MacIdle]
    elif env.get("WAYLAND_DISPLAY") or env.get("XDG_SESSION_TYPE") == "wayland":
        candidates = [MutterIdle]
    else:
        candidates = [XScreenSaverIdle, MutterIdle]
    for candidate in candidates:
        try:
            if candidate is XScreenSaverIdle:
                return XScreenSaverIdle(env.get("DISPLAY", ""))
            if candidate is MutterIdle:
                return MutterIdle(env.get("DBUS_SESSION_BUS_ADDRESS", "SESSION"))
            source: IdleSource = candidate()
            return source
        except IdleUnavailable:
            continue
    return None
