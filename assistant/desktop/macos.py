"""macOS, through its documented per-user mechanisms:

- the menu: the app bundle (``./dev package`` makes ``Assistant.app``) in ``/Applications`` or ``~/Applications``;
  the Dock and Launchpad find it there, so *menu* is whether this runs from a bundle;
- start at login: a LaunchAgent, ``~/Library/LaunchAgents/<bundle id>.plist`` with ``RunAtLoad`` (launchd.plist(5));
- mailto: the bundle declares the scheme (``CFBundleURLTypes`` in its Info.plist, set by the bundle's spec) and
  LaunchServices' ``LSSetDefaultHandlerForURLScheme`` makes it the default.

Not tested here (no macOS in CI); written to Apple's documentation of each.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import plistlib
import sys
from pathlib import Path

from assistant.desktop.base import DesktopIntegration, DesktopState

BUNDLE_ID = "org.assistant.Assistant"


def _core_foundation_string(cf: ctypes.CDLL, text: str) -> ctypes.c_void_p:
    cf.CFStringCreateWithCString.restype = ctypes.c_void_p
    cf.CFStringCreateWithCString.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint32]
    return ctypes.c_void_p(cf.CFStringCreateWithCString(None, text.encode("utf-8"), 0x08000100))  # UTF-8


class MacIntegration(DesktopIntegration):
    name = "macos"

    @property
    def agent(self) -> Path:
        return Path.home() / "Library" / "LaunchAgents" / f"{BUNDLE_ID}.plist"

    def where(self) -> list[str]:
        return [str(self.agent)]

    def _services(self) -> tuple[ctypes.CDLL, ctypes.CDLL]:
        services = ctypes.cdll.LoadLibrary(ctypes.util.find_library("CoreServices") or "CoreServices")
        cf = ctypes.cdll.LoadLibrary(ctypes.util.find_library("CoreFoundation") or "CoreFoundation")
        return services, cf

    def _default_mailto(self) -> str:
        if sys.platform != "darwin":
            raise NotImplementedError("macOS only")
        services, cf = self._services()
        services.LSCopyDefaultHandlerForURLScheme.restype = ctypes.c_void_p
        handler = services.LSCopyDefaultHandlerForURLScheme(_core_foundation_string(cf, "mailto"))
        if not handler:
            return ""
        buffer = ctypes.create_string_buffer(512)
        cf.CFStringGetCString(ctypes.c_void_p(handler), buffer, 512, 0x08000100)
        return buffer.value.decode("utf-8")

    def state(self) -> DesktopState:
        in_bundle = ".app/Contents/" in sys.executable
        return DesktopState(menu=in_bundle, mailto=in_bundle and self._default_mailto().lower() == BUNDLE_ID.lower(),
                            autostart=self.agent.is_file())

    def apply(self, wanted: DesktopState) -> DesktopState:
        if sys.platform != "darwin":
            raise NotImplementedError("macOS only")
        if wanted.autostart:
            self.agent.parent.mkdir(parents=True, exist_ok=True)
            self.agent.write_bytes(plistlib.dumps({"Label": BUNDLE_ID, "ProgramArguments": [*self.command, "--tray"],
                                                   "RunAtLoad": True, "ProcessType": "Interactive"}))
        else:
            self.agent.unlink(missing_ok=True)
        in_bundle = ".app/Contents/" in sys.executable
        if in_bundle and wanted.mailto != self.state().mailto:
            services, cf = self._services()
            target = BUNDLE_ID if wanted.mailto else "com.apple.mail"
            services.LSSetDefaultHandlerForURLScheme(_core_foundation_string(cf, "mailto"),
                                                     _core_foundation_string(cf, target))
        return self.state()
