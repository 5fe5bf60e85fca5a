"""The tray icon and its menu: open, sync now, today's due items, pause notifications, quit; a tooltip with counts.

The menu exists even where there is no tray (offscreen, some Wayland sessions), so the same actions are reachable and
testable; the icon is shown only when ``QSystemTrayIcon.isSystemTrayAvailable()``.
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

MAX_MENU_ITEMS = 15


class TrayController(QObject):
    open_requested = Signal()
    sync_requested = Signal()
    quit_requested = Signal()
    pause_toggled = Signal(bool)
    item_requested = Signal(int, str)  # principal id, link

    def __init__(self, icon: QIcon, parent: QObject | None = None,
                 available: Callable[[], bool] = QSystemTrayIcon.isSystemTrayAvailable):
        super().__init__(parent)
        self.menu = QMenu()
        self.menu.setObjectName("tray-menu")
        self.open_action = self.menu.addAction("&Open Assistant")
        self.open_action.triggered.connect(self.open_requested)
        self.sync_action = self.menu.addAction("&Sync now")
        self.sync_action.triggered.connect(self.sync_requested)
        self.due_menu = self.menu.addMenu("&Today's due items")
        self.pause_action = self.menu.addAction("&Pause notifications")
        self.pause_action.setCheckable(True)
        self.pause_action.toggled.connect(self.pause_toggled)
        self.menu.addSeparator()
        self.quit_action = self.menu.addAction("&Quit")
        self.quit_action.triggered.connect(self.quit_requested)
        self.set_due_items([])
        self.icon: QSystemTrayIcon | None = None
        if available():
            if icon.isNull():  # Qt would show an empty slot and warn "No Icon set"
                raise ValueError("the tray icon needs an icon")
            self.icon = QSystemTrayIcon(icon, self)  # the icon set before it is shown
            self.icon.setContextMenu(self.menu)
            self.icon.activated.connect(self._on_activated)
            self.icon.show()
        self.set_counts(0, 0)

    @property
    def has_tray(self) -> bool:
        return self.icon is not None

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.open_requested.emit()

    def set_counts(self, due: int, overdue: int) -> None:
        paused = " · notifications paused" if self.pause_action.isChecked() else ""
        self.tooltip = f"Assistant — {due} due today, {overdue} overdue{paused}"
        if self.icon is not None:
            self.icon.setToolTip(self.tooltip)

    def set_due_items(self, items: list[tuple[int, str, str]]) -> None:
        """``(principal id, link, label)`` rows for the "Today's due items" submenu."""
        self.due_menu.clear()
        if not items:
            self.due_menu.addAction("Nothing due today").setEnabled(False)
            return
        for principal_id, link, label in items[:MAX_MENU_ITEMS]:
            action: QAction = self.due_menu.addAction(label)
            action.triggered.connect(lambda _checked=False, p=principal_id, k=link: self.item_requested.emit(p, k))
        if len(items) > MAX_MENU_ITEMS:
            more = self.due_menu.addAction(f"… and {len(items) - MAX_MENU_ITEMS} more")
            more.triggered.connect(self.open_requested)

    def set_paused(self, paused: bool) -> None:
        self.pause_action.setChecked(paused)

    def hide(self) -> None:
        if self.icon is not None:
            self.icon.hide()
