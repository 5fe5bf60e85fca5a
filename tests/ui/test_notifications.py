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
    chain = default_chain(tray, model, dbus=lambda: fallback, platform="win32")  # the tray first off Linux
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


def test_on_linux_the_desktop_notification_service_comes_first_whether_or_not_there_is_a_tray(qtbot):
    desktop = RecordingNotifier()
    chain = default_chain(QSystemTrayIcon(), NotificationListModel(), dbus=lambda: desktop, platform="linux")
    assert chain.popup is desktop and chain.reasons == []


def test_real_factories_offscreen_never_pick_the_tray(monkeypatch):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)  # no session bus here either
    model = NotificationListModel()
    chain = default_chain(QSystemTrayIcon(), model, platform="linux")
    assert chain.popup_name == "in-app"
    assert chain.reasons[0].startswith("no D-Bus session bus") and chain.reasons[1] == "no system tray here"
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
