"""The command palette (Ctrl+K, as in Superhuman and VS Code) and the shortcut sheet (?, F1).

Both read the window's :class:`~assistant.ui.shortcuts.CommandRegistry`, the one list the menus are made from, so
they show every command with exactly the keys that run it.
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from assistant.ui.shortcuts import Command, key_text

CommandRole = Qt.ItemDataRole.UserRole + 1


def matches(command: Command, query: str) -> bool:
    """Every word of ``query`` starts a word of the command's name or group, or one of its keys ("arch" finds
    Archive, not Search; "ctrl+t" finds what Ctrl+T does). Case does not matter."""
    words = command.text.replace("…", " ").split() + command.group.split() + [key_text(k) for k in command.keys()]
    folded = [w.casefold() for w in words]
    return all(any(w.startswith(typed) for w in folded) for typed in query.casefold().split())


def rank(command: Command, query: str) -> int:
    """Names that start with what was typed first, then names that contain it, then the rest (a match on the group
    or the keys); the registry's order within each."""
    text, typed = command.text.casefold(), query.strip().casefold()
    if not typed or text.startswith(typed):
        return 0
    return 1 if typed in text else 2


def _key_column(tree: QTreeWidget) -> None:
    header = tree.header()
    header.setStretchLastSection(False)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)


class CommandPalette(QDialog):
    """Every command the window can run now, with its keys; typing filters, ↑/↓ choose, Enter runs."""

    def __init__(self, commands: Callable[[], list[Command]], title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("command-palette")
        self.setWindowTitle(title)
        self._commands = commands
        self.ran: Command | None = None
        self.filter = QLineEdit(self)
        self.filter.setObjectName("command-filter")
        self.filter.setAccessibleName("Command")
        self.filter.setPlaceholderText("Type a command…")
        self.filter.setClearButtonEnabled(True)
        self.list = QTreeWidget(self)
        self.list.setObjectName("command-list")
        self.list.setAccessibleName("Commands")
        self.list.setColumnCount(2)
        self.list.setHeaderHidden(True)
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(True)
        self.list.setAlternatingRowColors(True)
        _key_column(self.list)
        self.empty = QLabel("No command matches.", self)
        self.empty.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty)
        self.filter.textChanged.connect(self.refilter)
        self.filter.returnPressed.connect(self.run_current)
        self.filter.installEventFilter(self)
        self.list.itemActivated.connect(lambda _item, _column: self.run_current())
        self.resize(560, 420)
        self.refilter("")

    def shown_commands(self) -> list[Command]:
        items = (self.list.topLevelItem(row) for row in range(self.list.topLevelItemCount()))
        return [item.data(0, CommandRole) for item in items if item is not None]

    def refilter(self, query: str) -> None:
        chosen = [c for c in self._commands() if c.is_enabled() and matches(c, query)]
        chosen.sort(key=lambda c: rank(c, query))  # stable: the registry's order within a rank
        self.list.clear()
        for command in chosen:
            item = QTreeWidgetItem([command.text, command.keys_text()])
            item.setData(0, CommandRole, command)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if command.where():
                item.setToolTip(1, f"{command.keys_text()} — single keys {command.where()}")
            self.list.addTopLevelItem(item)
        first = self.list.topLevelItem(0)
        if first is not None:
            self.list.setCurrentItem(first)
        self.empty.setVisible(not chosen)

    def run_current(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        command: Command = item.data(0, CommandRole)
        self.ran = command
        self.accept()  # first out of the way: the command may open a window or move the focus
        command.run()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        """↑, ↓, Page Up and Page Down in the filter move through the list, so the hands stay on the keys."""
        if watched is self.filter and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown):
                self.list.keyPressEvent(event)
                return True
        return False


class ShortcutSheet(QDialog):
    """Every command and its keys, by group; single keys say where they work."""

    def __init__(self, commands: list[Command], single_key_note: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("shortcut-sheet")
        self.setWindowTitle("Keyboard shortcuts — Assistant")
        note = QLabel(single_key_note, self)
        note.setWordWrap(True)
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("shortcut-list")
        self.tree.setAccessibleName("Keyboard shortcuts")
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Command", "Keys"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        _key_column(self.tree)
        groups: dict[str, QTreeWidgetItem] = {}
        for command in commands:
            if not command.keys():
                continue
            group = groups.get(command.group)
            if group is None:
                group = groups[command.group] = QTreeWidgetItem([command.group or "Other", ""])
                font = group.font(0)
                font.setBold(True)
                group.setFont(0, font)
                group.setFlags(Qt.ItemFlag.ItemIsEnabled)
                self.tree.addTopLevelItem(group)
            item = QTreeWidgetItem(group, [command.text, command.keys_text()])
            item.setData(0, CommandRole, command)
            if command.where():
                item.setToolTip(1, f"Single keys work {command.where()}, never while you type in a field")
        self.tree.expandAll()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.tree, 1)
        layout.addWidget(buttons)
        self.resize(560, 640)

    def listed(self) -> dict[str, str]:
        """Command name → its keys as shown."""
        shown: dict[str, str] = {}
        for row in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(row)
            for child in range(group.childCount() if group is not None else 0):
                item = group.child(child) if group is not None else None
                if item is not None:
                    shown[item.data(0, CommandRole).name] = item.text(1)
        return shown
