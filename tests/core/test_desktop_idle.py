"""The desktop's idle time, read from a real X server (Xvfb) through the screen saver extension, reset by real input
(XTEST, through xdotool); and the choice of source per session."""
from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from assistant.core.desktop_idle import IdleUnavailable, MutterIdle, XScreenSaverIdle, desktop_idle
from tests.ui.desktop import start_x, stop


@pytest.fixture
def display():
    missing = [tool for tool in ("Xvfb", "xdotool") if shutil.which(tool) is None]
    assert not missing, f"{', '.join(missing)} not installed: ./dev installs them (xvfb, xdotool)"
    processes: list[subprocess.Popen] = []
    try:
        yield start_x(processes)
    finally:
        stop(processes)


def test_the_idle_time_of_a_real_x_server_grows_and_input_resets_it(display):
    source = XScreenSaverIdle(display)
    try:
        subprocess.run(["xdotool", "mousemove", "10", "10"], env={"DISPLAY": display}, check=True, timeout=20)
        first = source.idle_seconds()
        time.sleep(1.5)
        later = source.idle_seconds()
        assert first < 1.0 and later >= first + 1.0
        subprocess.run(["xdotool", "mousemove", "200", "150"], env={"DISPLAY": display}, check=True, timeout=20)
        assert source.idle_seconds() < 1.0
    finally:
        source.close()
    with pytest.raises(IdleUnavailable):
        source.idle_seconds()


def test_the_source_is_chosen_for_the_session(display, tmp_path: Path):
    chosen = desktop_idle({"DISPLAY": display}, platform="linux")
    assert isinstance(chosen, XScreenSaverIdle)
    chosen.close()
    with pytest.raises(IdleUnavailable):
        XScreenSaverIdle(":12345")  # nobody there
    # no X display and no session bus with GNOME's idle monitor: the platform does not say, so nothing is read
    assert desktop_idle({"DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path}/none"}, platform="linux") is None
    with pytest.raises(IdleUnavailable):
        MutterIdle(f"unix:path={tmp_path}/none")


def test_a_session_bus_without_gnomes_idle_monitor_is_no_source():
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
    try:
        assert bus.stdout is not None
        address = bus.stdout.readline().strip()
        with pytest.raises(IdleUnavailable):
            MutterIdle(address)  # the bus answers, the service is not there
        assert desktop_idle({"DBUS_SESSION_BUS_ADDRESS": address, "WAYLAND_DISPLAY": "wayland-0"},
                            platform="linux") is None
    finally:
        bus.terminate()
        bus.wait(timeout=10)
        bus.stdout.close()
