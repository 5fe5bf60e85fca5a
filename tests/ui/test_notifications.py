"""The notifier fallback chain: offscreen has no tray, so the chain must fall through to the next notifier."""
from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QModelIndex
from PySide6.QtTest import QAbstractItemModelTester
from PySide6.QtWidgets import QSystemTrayIcon

from assistant.ui.reminders.notifications import (
    InAppNotifier,
    NotificationItem,
    NotificationListModel,
    Notifier,
    NotifierChain,
    NotifierUnavailable,
    TrayNotifier,
    default_chain,
)

DUE = datetime(2026, 3, 8, 13, 0, tzinfo=UTC)


def item(popup: bool = True, missed: bool = False) -> NotificationItem:
    return NotificationItem(2, "Ken", "Ken — Task", "Sign the lease", "task:7", 11, DUE, "Asia/Tokyo", missed, popup)


class RecordingNotifier(Notifier):
    name = "recording"

    def __init__(self):
        super().__init__()
        self.shown: list[NotificationItem] = []

    def present(self, it: NotificationItem) -> None:
        self.shown.append(it)


def unavailable(reason: str):
    def factory():
        raise NotifierUnavailable(reason)

    return factory


def test_offscreen_has_no_tray_and_the_chain_picks_the_next_notifier(qtbot):
    assert not QSystemTrayIcon.isSystemTrayAvailable()
    tray = QSystemTrayIcon()
    model = NotificationListModel()
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)
    fallback = RecordingNotifier()
    chain = default_chain(tray, model, dbus=lambda: fallback)
    assert chain.reasons == ["no system tray here"]
    assert chain.popup is fallback and chain.popup_name == "recording"
    with qtbot.wait_signal(chain.presented) as presented:
        assert chain.notify(item()) == "recording"
    assert presented.args[1] == "recording"
    assert fallback.shown == [model.items[0]]  # and the in-app list has it too


def test_without_tray_or_dbus_the_in_app_list_shows_it(qtbot):
    model = NotificationListModel()
    chain = NotifierChain([unavailable("no system tray here"), unavailable("no D-Bus session bus")],
                          InAppNotifier(model))
    assert chain.popup is None and chain.popup_name == "in-app"
    assert chain.reasons == ["no system tray here", "no D-Bus session bus"]
    assert chain.notify(item(missed=True)) == ""
    text = model.data(model.index(0), 0)
    assert text.startswith("Ken — Task: Sign the lease")


def test_real_factories_offscreen_never_pick_the_tray():
    model = NotificationListModel()
    chain = default_chain(QSystemTrayIcon(), model)
    assert chain.popup_name != "tray"
    assert chain.reasons[0] == "no system tray here"
    try:
        TrayNotifier(None)
    except NotifierUnavailable as exc:
        assert "tray" in str(exc)
    else:  # pragma: no cover - would mean a tray exists offscreen
        raise AssertionError("TrayNotifier without a tray must be unavailable")


def test_quiet_notice_is_listed_but_not_popped_up(qtbot):
    model = NotificationListModel()
    fallback = RecordingNotifier()
    chain = NotifierChain([lambda: fallback], InAppNotifier(model))
    assert chain.notify(item(popup=False)) == ""
    assert fallback.shown == [] and len(model.items) == 1


def test_a_click_from_any_notifier_reaches_the_chain_with_its_item(qtbot):
    model = NotificationListModel()
    fallback = RecordingNotifier()
    chain = NotifierChain([lambda: fallback], InAppNotifier(model))
    it = item()
    with qtbot.wait_signal(chain.clicked) as clicked:
        fallback.clicked.emit(it)
    assert clicked.args == [it]
    with qtbot.wait_signal(chain.clicked) as clicked:
        chain.in_app.clicked.emit(it)
    assert clicked.args[0].principal_id == 2 and clicked.args[0].link == "task:7"


def test_list_model_removes_a_dismissed_reminder():
    model = NotificationListModel()
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)
    model.add(item())
    model.add(NotificationItem(1, "Ann", "Ann — Free", "x", "", 12, DUE, "America/New_York"))
    model.remove_reminder(11)
    assert [i.reminder_id for i in model.items] == [12]
    assert model.rowCount(QModelIndex()) == 1


FAKE_SERVICE = r"""
import sys
from PySide6.QtCore import QCoreApplication, QObject, QTimer, Slot
from PySide6 import QtDBus
app = QCoreApplication([])
class Service(QObject):
    @Slot(str, "uint", str, str, str, "QStringList", "QVariantMap", int, result="uint")
    def Notify(self, app_name, replaces_id, icon, summary, body, actions, hints, timeout):
        print("NOTIFY", app_name, "|", summary, "|", body, "|", ",".join(actions), flush=True)
        QTimer.singleShot(50, app.quit)
        return 7
bus = QtDBus.QDBusConnection.sessionBus()
service = Service()
bus.registerObject("/org/freedesktop/Notifications", "org.freedesktop.Notifications", service,
                   QtDBus.QDBusConnection.RegisterOption.ExportAllSlots)
bus.registerService("org.freedesktop.Notifications")
print("READY", flush=True)
QTimer.singleShot(20000, app.quit)
app.exec()
"""

CLIENT = r"""
from datetime import datetime, timezone
from PySide6.QtWidgets import QApplication, QSystemTrayIcon
app = QApplication([])
from assistant.ui.reminders.notifications import NotificationItem, NotificationListModel, default_chain
chain = default_chain(QSystemTrayIcon(), NotificationListModel())
print("PICKED", chain.popup_name, chain.reasons, flush=True)
item = NotificationItem(1, "Ann", "Ann — Task", "Send the deck", "task:1", 3, datetime.now(timezone.utc), "UTC")
print("SHOWN BY", chain.notify(item), sorted(chain.popup._by_id), flush=True)
"""


def test_desktop_notifications_over_a_real_session_bus(tmp_path):
    """No tray (offscreen): the chain falls through to org.freedesktop.Notifications on a private session bus."""
    import os
    import shutil
    import subprocess
    import sys

    assert shutil.which("dbus-run-session"), "dbus-run-session not installed: apt-get install dbus"
    (tmp_path / "service.py").write_text(FAKE_SERVICE)
    (tmp_path / "client.py").write_text(CLIENT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBUS_")}
    env.update(QT_QPA_PLATFORM="offscreen", PYTHONPATH=os.getcwd())
    script = (f'"{sys.executable}" service.py > service.out 2>&1 & '
              "for i in $(seq 100); do grep -q READY service.out && break; sleep 0.1; done; "
              f'"{sys.executable}" client.py; wait; cat service.out')
    done = subprocess.run(["dbus-run-session", "--", "bash", "-c", script], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "PICKED dbus ['no system tray here']" in done.stdout, done.stdout + done.stderr
    assert "SHOWN BY dbus [7]" in done.stdout
    assert "NOTIFY Assistant | Ann — Task | Send the deck | default,Open" in done.stdout
