"""Notifier adapters in an ordered fallback chain, as qutebrowser does it: system tray, then the desktop notification
service over D-Bus, then the in-app list. An adapter that cannot run where we are raises :class:`NotifierUnavailable`
when made, and the next one is tried. The in-app list gets every notice whichever adapter pops it up.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import SLOT, QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal, Slot
from PySide6.QtWidgets import QSystemTrayIcon

from assistant.core import timezones

log = logging.getLogger(__name__)

AnyIndex = QModelIndex | QPersistentModelIndex


class NotifierUnavailable(Exception):
    """This notifier cannot work on this platform or session; the chain tries the next one."""


@dataclass
class NotificationItem:
    """What a notifier shows, and what clicking it opens: ``link`` in principal ``principal_id``."""

    principal_id: int
    principal_name: str
    title: str
    body: str
    link: str
    reminder_id: int | None
    due_utc: datetime
    principal_timezone: str
    missed: bool = False
    popup: bool = True


def item_from_notice(notice) -> NotificationItem:
    r = notice.reminder
    return NotificationItem(r.principal_id, notice.principal_name, notice.title, notice.body, r.link, r.id, r.due_utc,
                            notice.principal_timezone, notice.missed, notice.delivery == "popup")


class Notifier(QObject):
    """One way of showing a notification; ``clicked`` carries the item the user clicked."""

    name = "notifier"
    clicked = Signal(object)

    def present(self, item: NotificationItem) -> None:
        raise NotImplementedError


class TrayNotifier(Notifier):
    name = "tray"

    def __init__(self, tray: QSystemTrayIcon | None, parent: QObject | None = None):
        if tray is None or not QSystemTrayIcon.isSystemTrayAvailable() or not tray.supportsMessages():
            raise NotifierUnavailable("no system tray here")
        super().__init__(parent)
        self.tray = tray
        self._last: NotificationItem | None = None
        tray.messageClicked.connect(self._on_message_clicked)

    def present(self, item: NotificationItem) -> None:
        self._last = item
        icon = QSystemTrayIcon.MessageIcon.Warning if item.missed else QSystemTrayIcon.MessageIcon.Information
        self.tray.showMessage(item.title, item.body, icon, 15000)

    def _on_message_clicked(self) -> None:
        if self._last is not None:
            self.clicked.emit(self._last)


class DBusNotifier(Notifier):
    """``org.freedesktop.Notifications`` on the session bus (Linux desktops without a tray)."""

    name = "dbus"
    SERVICE = "org.freedesktop.Notifications"
    PATH = "/org/freedesktop/Notifications"

    def __init__(self, parent: QObject | None = None):
        try:
            from PySide6 import QtDBus
        except ImportError as exc:
            raise NotifierUnavailable(f"QtDBus is not available: {exc}") from None
        bus = QtDBus.QDBusConnection.sessionBus()
        if not bus.isConnected():
            raise NotifierUnavailable("no D-Bus session bus")
        interface = QtDBus.QDBusInterface(self.SERVICE, self.PATH, self.SERVICE, bus)
        if not interface.isValid():
            raise NotifierUnavailable("no desktop notification service on the session bus")
        super().__init__(parent)
        self._qtdbus = QtDBus
        self.interface = interface
        self._by_id: dict[int, NotificationItem] = {}
        try:  # clicks come back as a signal; without it the notice still shows and stays in the in-app list
            # The stub types the slot (a const char*) as bytes; PySide6 takes the str that SLOT() returns.
            bus.connect(self.SERVICE, self.PATH, self.SERVICE, "ActionInvoked", self,  # type: ignore[call-overload]
                        SLOT("_on_action_invoked(uint,QString)"))
        except (TypeError, RuntimeError) as exc:
            log.info("desktop notifications will not report clicks: %s", exc)

    def present(self, item: NotificationItem) -> None:
        # The introspected method converts each argument to the service's signature ("susssasa{sv}i"); a plain
        # call() would send Python ints as "i" and the service would not find the method.
        from PySide6.QtCore import Q_ARG, Q_RETURN_ARG, QMetaObject
        from PySide6.QtCore import Qt as QtNS

        notification_id = QMetaObject.invokeMethod(
            self.interface, "Notify", QtNS.ConnectionType.DirectConnection, Q_RETURN_ARG("uint"),
            Q_ARG(str, "Assistant"), Q_ARG("uint", 0), Q_ARG(str, ""), Q_ARG(str, item.title), Q_ARG(str, item.body),
            Q_ARG("QStringList", ["default", "Open"]), Q_ARG("QVariantMap", {}), Q_ARG(int, -1))
        # With a Q_RETURN_ARG, invokeMethod returns the method's result (the stub says bool): the id, an int.
        if isinstance(notification_id, int) and notification_id:
            self._by_id[notification_id] = item

    @Slot("uint", str)
    def _on_action_invoked(self, notification_id: int, _action: str) -> None:
        item = self._by_id.pop(int(notification_id), None)
        if item is not None:
            self.clicked.emit(item)


class NotificationListModel(QAbstractListModel):
    """The in-app notification list, newest first. Always there; it never refuses."""

    ItemRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.items: list[NotificationItem] = []

    def add(self, item: NotificationItem) -> None:
        self.beginInsertRows(QModelIndex(), 0, 0)
        self.items.insert(0, item)
        self.endInsertRows()

    def remove_reminder(self, reminder_id: int) -> None:
        for row, item in enumerate(self.items):
            if item.reminder_id == reminder_id:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self.items[row]
                self.endRemoveRows()
                return

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.items)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.items):
            return None
        item = self.items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            due = timezones.in_zone(item.due_utc, item.principal_timezone)
            here = timezones.in_zone(item.due_utc, timezones.assistant_zone_name())
            return (f"{item.title}: {item.body}   [{due:%a %H:%M %Z} · {here:%H:%M %Z} here]" if not item.missed
                    else f"{item.title}: {item.body}   [{here:%H:%M %Z} here]")
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{item.principal_name}: {item.body}"
        if role == self.ItemRole:
            return item
        return None


class InAppNotifier(Notifier):
    name = "in-app"

    def __init__(self, model: NotificationListModel, parent: QObject | None = None):
        super().__init__(parent)
        self.model = model

    def present(self, item: NotificationItem) -> None:
        self.model.add(item)


NotifierFactory = Callable[[], Notifier]


class NotifierChain(QObject):
    """Picks the first notifier that can run, once; every notice also lands in the in-app list.

    ``clicked`` carries the clicked :class:`NotificationItem` from whichever notifier showed it.
    """

    clicked = Signal(object)
    presented = Signal(object, str)  # the item, and the name of the notifier that popped it up ("" if none)

    def __init__(self, factories: Sequence[NotifierFactory], in_app: InAppNotifier, parent: QObject | None = None):
        super().__init__(parent)
        self.in_app = in_app
        self.popup: Notifier | None = None
        self.reasons: list[str] = []
        for factory in factories:
            try:
                self.popup = factory()
            except NotifierUnavailable as exc:
                self.reasons.append(str(exc))
                log.info("notifier unavailable: %s", exc)
                continue
            self.popup.clicked.connect(self.clicked)
            break
        in_app.clicked.connect(self.clicked)

    @property
    def popup_name(self) -> str:
        return self.popup.name if self.popup is not None else self.in_app.name

    def notify(self, item: NotificationItem) -> str:
        self.in_app.present(item)
        shown_by = ""
        if item.popup and self.popup is not None:
            try:
                self.popup.present(item)
                shown_by = self.popup.name
            except Exception as exc:  # a notifier that fails at run time: the in-app list already has the notice
                log.warning("notifier %s failed: %s", self.popup.name, exc)
        self.presented.emit(item, shown_by)
        return shown_by


def default_chain(tray: QSystemTrayIcon | None, model: NotificationListModel, parent: QObject | None = None,
                  dbus: NotifierFactory | None = None) -> NotifierChain:
    factories: list[NotifierFactory] = [lambda: TrayNotifier(tray, parent), dbus or (lambda: DBusNotifier(parent))]
    return NotifierChain(factories, InAppNotifier(model, parent), parent)
