"""A real desktop for the tests that need one: a private X server (Xvfb), a private session bus (dbus-daemon) and a
real notification daemon (dunst), started per test and stopped after it. ``./dev`` installs them (apt-get)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TOOLS = ("Xvfb", "dbus-daemon", "dunst", "dunstctl")


@dataclass
class Desktop:
    env: dict[str, str]
    display: str
    bus_address: str
    choice_file: Path  # what dunst's context menu ("dmenu") answers: the action's label, such as "Snooze"

    def dunstctl(self, *args: str, choose: str = "") -> str:
        if choose:
            self.choice_file.write_text(choose)
        done = subprocess.run(["dunstctl", *args], env=self.env, capture_output=True, text=True, timeout=20)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def displayed(self) -> int:
        return int(self.dunstctl("count", "displayed").strip() or 0)

    def history(self) -> list[dict[str, Any]]:
        """What the daemon showed, newest first (a notification gets here once closed)."""
        data = json.loads(self.dunstctl("history"))["data"][0]
        return [{key: value["data"] for key, value in n.items()} for n in data]


def start_x(processes: list[subprocess.Popen[Any]]) -> str:
    """A private X server; its display (":N"), once it takes clients."""
    for _attempt in range(3):
        read, write = os.pipe()
        xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x720x24", "-nolisten", "tcp"],
                                pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write)
        number = b""
        while not number.endswith(b"\n"):  # the display number, then a newline, once it takes clients
            chunk = os.read(read, 32)
            if not chunk:
                break
            number += chunk
        os.close(read)
        socket = Path(f"/tmp/.X11-unix/X{number.decode().strip()}")
        deadline = time.monotonic() + 10
        while number.strip() and xvfb.poll() is None and not socket.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        if number.strip() and xvfb.poll() is None and socket.exists():
            processes.append(xvfb)
            return ":" + number.decode().strip()
        xvfb.kill()  # another server took that display meanwhile: once more
        xvfb.wait()
    raise AssertionError("Xvfb did not start")


def start_tray_host(tmp_path: Path) -> tuple[dict[str, str], list[subprocess.Popen[Any]]]:
    """A private X server with a real system tray (trayer, 96x32 at the top right); the environment to run in."""
    missing = [tool for tool in ("Xvfb", "trayer") if shutil.which(tool) is None]
    assert not missing, f"{', '.join(missing)} not installed: ./dev installs them (xvfb, trayer)"
    processes: list[subprocess.Popen[Any]] = []
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBUS_", "DISPLAY", "WAYLAND", "QT_QPA"))}
    env["DISPLAY"] = start_x(processes)
    with (tmp_path / "trayer.log").open("w") as log:
        processes.append(subprocess.Popen(
            ["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel", "--width", "96", "--height", "32",
             "--transparent", "false", "--tint", "0x202020"], env=env, stdout=log, stderr=subprocess.STDOUT))
    return env, processes


def start(tmp_path: Path) -> tuple[Desktop, list[subprocess.Popen[Any]]]:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    assert not missing, f"{', '.join(missing)} not installed: ./dev installs them (xvfb, dbus, dunst)"
    processes: list[subprocess.Popen[Any]] = []
    display = start_x(processes)
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
    processes.append(bus)
    assert bus.stdout is not None
    address = bus.stdout.readline().strip()
    config = tmp_path / "desktop-config"
    (config / "dunst").mkdir(parents=True)
    choice = tmp_path / "dmenu-choice"
    choice.write_text("Open")
    pick = tmp_path / "dmenu.sh"
    pick.write_text(f'#!/bin/sh\n# offered the actions, one a line; answers the one named in {choice}\n'
                    f'grep -m1 -F "#$(cat "{choice}")"\n')
    pick.chmod(0o755)
    (config / "dunst" / "dunstrc").write_text(f"[global]\n    dmenu = {pick}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBUS_", "DISPLAY", "WAYLAND"))}
    env.update(DISPLAY=display, DBUS_SESSION_BUS_ADDRESS=address, XDG_CONFIG_HOME=str(config))
    def start_dunst() -> subprocess.Popen[Any]:
        with (tmp_path / "dunst.log").open("w") as log:  # the child keeps its own copy of the descriptor
            return subprocess.Popen(["dunst"], env=env, stdout=subprocess.DEVNULL, stderr=log)

    dunst = start_dunst()
    processes.append(dunst)
    desktop = Desktop(env, display, address, choice)
    deadline = time.monotonic() + 20
    while True:
        ready = subprocess.run(["dunstctl", "count", "displayed"], env=env, capture_output=True, text=True)
        if ready.returncode == 0:
            return desktop, processes
        if dunst.poll() is not None and time.monotonic() < deadline:  # the X server was not taking clients yet
            time.sleep(0.2)
            processes.remove(dunst)
            dunst = start_dunst()
            processes.append(dunst)
            continue
        if time.monotonic() > deadline:
            stop(processes)
            raise AssertionError(f"dunst did not come up: {(tmp_path / 'dunst.log').read_text()}")
        time.sleep(0.1)


def stop(processes: list[subprocess.Popen[Any]]) -> None:
    for process in reversed(processes):
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
