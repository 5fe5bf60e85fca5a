"""The tray icon under a real tray host (trayer on Xvfb, the xcb platform): drawn with the app's icon, no Qt warning.

Reported: the icon was set after nothing at all, so the tray showed an empty slot and Qt printed
"QSystemTrayIcon::setVisible: No Icon set"."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.ui.desktop import start_tray_host, stop

SCRIPT = r"""
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QSystemTrayIcon
from assistant.ui.app import configure_application
from assistant.ui.reminders.tray import TrayController
from assistant.ui.style import app_icon

app = QApplication([])
configure_application(app)
attempts = []

def wait_for_the_tray():  # trayer may still be starting
    if QSystemTrayIcon.isSystemTrayAvailable() or len(attempts) > 100:
        start()
    else:
        attempts.append(1)
        QTimer.singleShot(100, wait_for_the_tray)

def start():
    global tray
    tray = TrayController(app_icon())
    tray.set_counts(2, 1)
    print("TRAY", tray.has_tray, flush=True)
    QTimer.singleShot(1500, look)

def look():
    g = tray.icon.geometry()
    image = app.primaryScreen().grabWindow(0, g.x(), g.y(), g.width(), g.height()).toImage()
    colours = {image.pixel(x, y) for x in range(image.width()) for y in range(image.height())}
    print("GEOMETRY", g.x(), g.y(), g.width(), g.height(), flush=True)
    print("COLOURS", len(colours), flush=True)
    print("TOOLTIP", tray.icon.toolTip(), flush=True)
    # no notification service on this session: a due item is the tray's message
    from datetime import datetime, timezone
    from assistant.ui.reminders.notifications import (NotificationItem, NotificationListModel, NotifierUnavailable,
                                                      default_chain)

    def no_service():
        raise NotifierUnavailable("no desktop notification service")

    chain = default_chain(tray.icon, NotificationListModel(), dbus=no_service, platform="linux")
    item = NotificationItem(1, "Dana Whitfield", "Dana Whitfield — Task due", "Renew the licence", "task:1", 1,
                            datetime.now(timezone.utc), "America/New_York")
    print("SHOWN BY", chain.notify(item), flush=True)
    QTimer.singleShot(500, balloon)

def balloon():
    shown = [w for w in QApplication.topLevelWidgets() if w.isVisible() and type(w).__name__ != "QMenu"]
    print("BALLOONS", [w.metaObject().className() for w in shown], flush=True)
    app.quit()

QTimer.singleShot(0, wait_for_the_tray)
QTimer.singleShot(30000, app.quit)
app.exec()
"""


def test_the_tray_icon_is_drawn_with_the_apps_icon_under_a_real_tray_host(tmp_path):
    env, processes = start_tray_host(tmp_path)
    try:
        env.update(QT_QPA_PLATFORM="xcb", PYTHONPATH=os.getcwd())
        done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    finally:
        stop(processes)
    assert done.returncode == 0, done.stderr
    assert "TRAY True" in done.stdout, done.stdout + done.stderr
    x, y, width, height = (int(n) for n in done.stdout.split("GEOMETRY ")[1].split("\n")[0].split())
    assert width > 0 and height > 0 and x >= 1280 - 96 and y < 32  # inside trayer's area, top right
    assert int(done.stdout.split("COLOURS ")[1].split()[0]) > 10  # an icon, not an empty slot of one colour
    assert "Assistant — 2 due today, 1 overdue" in done.stdout
    assert "SHOWN BY tray" in done.stdout
    assert "QBalloonTip" in done.stdout.split("BALLOONS ")[1]  # Qt's own balloon by the icon, where no daemon is
    assert "No Icon set" not in done.stderr and "QSystemTrayIcon" not in done.stderr, done.stderr
