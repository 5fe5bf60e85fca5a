"""Notifier adapters in an ordered fallback chain, as qutebrowser does it: on Linux the desktop notification service
over D-Bus, then the system tray; elsewhere the tray first; the in-app list always. An adapter that cannot run where we are raises :class:`NotifierUnavailable`
when made, and the next one is tried. The in-app list gets every notice whichever adapter pops it up.
"""
from __future__ import annotations

import logging
import queue
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
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
    urgent: bool = False


def item_from_notice(notice) -> NotificationItem:
    r = notice.reminder
    return NotificationItem(r.principal_id, notice.principal_name, notice.title, notice.body, r.link, r.id, r.due_utc,
                            notice.principal_timezone, notice.missed, notice.delivery == "popup", r.urgent)


class Notifier(QObject):
    """One way of showing a notification; ``clicked`` carries the item the user clicked (to open it), ``acted`` the
    item and the action chosen on it ("snooze", "done") where the notifier offers actions."""

    name = "notifier"
    clicked = Signal(object)
    acted = Signal(object, str)

    def present(self, item: NotificationItem) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Let go of what it holds (a bus connection, a thread)."""


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


def notification_text(item: NotificationItem, assistant_zone: str | None = None) -> tuple[str, str]:
    """Summary and body of a desktop notification: whose it is, what, and when in their zone and the assistant's
    ("Dana Whitfield — Task due", "Renew the licence · due 09:00 New York / 14:00 yours")."""
    due = timezones.in_zone(item.due_utc, item.principal_timezone)
    here = timezones.in_zone(item.due_utc, assistant_zone or timezones.assistant_zone_name())
    city = item.principal_timezone.rsplit("/", 1)[-1].replace("_", " ")
    when = "was due" if item.missed else "due"
    return item.title, f"{item.body} · {when} {due:%H:%M} {city} / {here:%H:%M} yours"


class DBusNotifier(Notifier):
    """``org.freedesktop.Notifications`` on the session bus, the Linux desktop's own notifications.

    Called through jeepney with the signature the specification gives (``susssasa{sv}i``): an introspected QtDBus
    call could not pass the ``a{sv}`` hints, and every real daemon refused it. Action answers (*Open*, *Snooze*,
    *Done*) arrive as ``ActionInvoked`` signals on jeepney's receiving thread and reach the GUI thread through a
    queued Qt signal.
    """

    name = "dbus"
    SERVICE = "org.freedesktop.Notifications"
    PATH = "/org/freedesktop/Notifications"
    ACTIONS = ("default", "Open", "snooze", "Snooze", "done", "Done")
    _invoked = Signal(int, str)  # from the listening thread: notification id, action key

    def __init__(self, parent: QObject | None = None, icon_path: str = "", timeout_s: float = 3.0):
        try:
            from jeepney import DBusAddress, MatchRule, MessageType, new_method_call
            from jeepney.bus_messages import message_bus
            from jeepney.io.threading import DBusRouter, Proxy, open_dbus_connection
        except ImportError as exc:
            raise NotifierUnavailable(f"jeepney is not available: {exc}") from None
        try:
            connection = open_dbus_connection("SESSION")
        except Exception as exc:  # no address in the environment, no socket, refused: no session bus here
            raise NotifierUnavailable(f"no D-Bus session bus: {exc}") from None
        router = DBusRouter(connection)

        def let_go() -> None:  # the router stops its receiving thread; the connection is closed apart
            router.close()
            connection.close()

        address = DBusAddress(self.PATH, bus_name=self.SERVICE, interface=self.SERVICE)
        try:
            info = router.send_and_get_reply(new_method_call(address, "GetServerInformation"), timeout=timeout_s)
            if info.header.message_type is MessageType.error:
                raise NotifierUnavailable(f"no desktop notification service: {info.body[0] if info.body else ''}")
            rule = MatchRule(type="signal", interface=self.SERVICE, member="ActionInvoked", path=self.PATH)
            Proxy(message_bus, router, timeout=timeout_s).AddMatch(rule)
        except NotifierUnavailable:
            let_go()
            raise
        except Exception as exc:
            let_go()
            raise NotifierUnavailable(f"the desktop notification service does not answer: {exc}") from None
        super().__init__(parent)
        self.server = tuple(str(part) for part in info.body)  # name, vendor, version, spec version
        self._address, self._new_call, self._router, self._timeout = address, new_method_call, router, timeout_s
        self._error = MessageType.error
        self._let_go: Callable[[], None] | None = let_go
        self.icon_path = icon_path
        self._by_id: dict[int, NotificationItem] = {}
        self._signals: queue.Queue[Any] = queue.Queue()
        router.filter(rule, queue=self._signals, bufsize=1000)
        self._invoked.connect(self._on_invoked, Qt.ConnectionType.QueuedConnection)
        self._listener = threading.Thread(target=self._listen, name="assistant-notifications", daemon=True)
        self._listener.start()

    def present(self, item: NotificationItem) -> None:
        summary, body = notification_text(item)
        # Snooze and Done act on a reminder; an approval decision only opens
        actions = list(self.ACTIONS if item.reminder_id is not None else self.ACTIONS[:2])
        hints = {"urgency": ("y", 2 if item.urgent else 1), "desktop-entry": ("s", "assistant"),
                 "category": ("s", "x-assistant.reminder")}
        reply = self._router.send_and_get_reply(self._new_call(
            self._address, "Notify", "susssasa{sv}i",
            ("Assistant", 0, self.icon_path, summary, body, actions, hints, -1)), timeout=self._timeout)
        if reply.header.message_type is self._error:
            raise RuntimeError(f"the notification service refused it: {reply.body[0] if reply.body else ''}")
        self._by_id[int(reply.body[0])] = item

    def _listen(self) -> None:
        while True:
            message = self._signals.get()
            if message is None:
                return
            notification_id, action = message.body
            self._invoked.emit(int(notification_id), str(action))

    def _on_invoked(self, notification_id: int, action: str) -> None:
        item = self._by_id.pop(notification_id, None)
        if item is None:  # another application's notification, or one answered already
            return
        if action in ("snooze", "done"):
            self.acted.emit(item, action)
        else:  # "default" (a click on the notification) or "Open"
            self.clicked.emit(item)

    def close(self) -> None:
        if self._let_go is not None:
            self._signals.put(None)
            self._let_go()
            self._let_go = None


class NotificationListModel(QAbstractListModel):
    """The in-app notification list, newest first. Always there; it never refuses."""

    ItemRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.items: list[NotificationItem] = []
        self.assistant_zone = timezones.assistant_zone_name()
        # each item's line, made once: a list laid out asks every row's text, several times (a thousand missed
        # reminders at start, and the laptop's zone looked up for each, made showing the Today tab take half a second)
        self._lines: dict[int, str] = {}

    def add(self, item: NotificationItem) -> None:
        self.beginInsertRows(QModelIndex(), 0, 0)
        self.items.insert(0, item)
        self.endInsertRows()

    def set_assistant_zone(self, zone: str) -> None:
        """The laptop's zone, as Today read it: the lines are made again when it changed."""
        if zone != self.assistant_zone:
            self.assistant_zone = zone
            self._lines.clear()
            if self.items:
                self.dataChanged.emit(self.index(0), self.index(len(self.items) - 1))

    def line(self, item: NotificationItem) -> str:
        line = self._lines.get(id(item))
        if line is None:
            due = timezones.in_zone(item.due_utc, item.principal_timezone)
            here = timezones.in_zone(item.due_utc, self.assistant_zone)
            line = (f"{item.title}: {item.body}   [{due:%a %H:%M %Z} · {here:%H:%M %Z} here]" if not item.missed
                    else f"{item.title}: {item.body}   [{here:%H:%M %Z} here]")
            self._lines[id(item)] = line
        return line

    def remove_reminder(self, reminder_id: int) -> None:
        for row, item in enumerate(self.items):
            if item.reminder_id == reminder_id:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self.items[row]
                self._lines.pop(id(item), None)
                self.endRemoveRows()
                return

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.items)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.items):
            return None
        item = self.items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.line(item)
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
    acted = Signal(object, str)  # the item and "snooze" or "done", chosen on a desktop notification
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
            self.popup.acted.connect(self.acted)
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

    def close(self) -> None:
        if self.popup is not None:
            self.popup.close()


def default_chain(tray: QSystemTrayIcon | None, model: NotificationListModel, parent: QObject | None = None,
                  dbus: NotifierFactory | None = None, *, platform: str = sys.platform,
                  icon_path: str = "") -> NotifierChain:
    """On Linux the desktop's notification service first, whether or not there is a tray (the desktop's own
    convention; GNOME has no tray), then the tray's balloon; elsewhere (Windows, macOS) the tray's messages, which are
    native toasts there. The in-app list gets every notice."""
    def tray_notifier() -> Notifier:
        return TrayNotifier(tray, parent)

    def dbus_notifier() -> Notifier:
        return DBusNotifier(parent, icon_path=icon_path)

    desktop = dbus or dbus_notifier
    factories = [desktop, tray_notifier] if platform.startswith("linux") else [tray_notifier, desktop]
    return NotifierChain(factories, InAppNotifier(model, parent), parent)
