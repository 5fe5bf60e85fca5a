"""The window's one registry of commands: what the menus, the command palette (Ctrl+K) and the shortcut sheet (?) show.

Two kinds of keys (UX.md, "Keys"):

* **Desktop keys** (Ctrl+R, Ctrl+F, F5, Ctrl+1…9) work anywhere in the window, as window shortcuts. A text field keeps
  the keys it edits with: Qt asks the focus widget first (``ShortcutOverride``), so Delete or Ctrl+Z in the search box
  edit the search.
* **Single keys** (``e``, ``#``, ``r``, ``j``/``k``, ``/``, ``?``) and the few desktop keys that act on what is selected in
  one place (Delete) work only while their *area* — the thread list, the reader — has the focus: they are shortcuts of
  those widgets (``WidgetWithChildrenShortcut``), and :class:`KeyAction` refuses them whenever a text field has the
  focus, even one that would not claim the key itself. Typing "Kamakura" into any field runs nothing.

A command is one ``QAction``: the menus show it, the palette and the sheet list it with every key it has, and
triggering it runs it. A command with keys of both kinds gets a second, hidden action for its area keys. Features add
commands with :meth:`CommandRegistry.add`, or hand over an action they made with :meth:`CommandRegistry.add_action`
(the main window does so for every Message- and File-menu entry), so the menus, the palette and the sheet never disagree.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

KeySpec = str | QKeySequence | QKeySequence.StandardKey
GROUPS = ("Message", "Board", "Edit", "View", "File", "Help")  # how the palette and the sheet order them: mail first


def is_text_field(widget: QWidget | None) -> bool:
    """Whether keys typed into ``widget`` are text: a line edit, a spin box, an editable combo box or text area."""
    if isinstance(widget, QLineEdit | QAbstractSpinBox):
        return True
    if isinstance(widget, QComboBox):
        return widget.isEditable()
    if isinstance(widget, QTextEdit | QPlainTextEdit):
        return not widget.isReadOnly()  # the reader's read-only browser is not typing
    return False


def typing_in_text_field() -> bool:
    return is_text_field(QApplication.focusWidget())


def key_sequences(keys: Iterable[KeySpec]) -> list[QKeySequence]:
    sequences: list[QKeySequence] = []
    for key in keys:
        if isinstance(key, QKeySequence.StandardKey):
            sequences.extend(QKeySequence.keyBindings(key)[:1])  # the platform's main binding (Find: Ctrl+F)
        else:
            sequences.append(QKeySequence(key))
    return [s for s in sequences if not s.isEmpty()]


def key_text(sequence: QKeySequence) -> str:
    return sequence.toString(QKeySequence.SequenceFormat.NativeText)


class KeyAction(QAction):
    """An action whose shortcuts never fire while a text field has the focus (the key is dropped, not run)."""

    def event(self, e: QEvent) -> bool:
        if e.type() == QEvent.Type.Shortcut and typing_in_text_field():
            return True
        return super().event(e)


@dataclass
class Area:
    """Where single keys work, and what the sheet calls the place ("in the thread list and the reader")."""

    name: str
    description: str
    widgets: list[QWidget] = field(default_factory=list)


@dataclass
class Command:
    """One thing the user can do, with every key that does it."""

    name: str
    action: QAction  # in the menus; triggering it runs the command
    group: str  # the heading the palette and the sheet list it under
    window_keys: list[QKeySequence] | None = None  # None: the action's own shortcuts (an action made elsewhere)
    area: Area | None = None
    area_keys: list[QKeySequence] = field(default_factory=list)
    key_action: QAction | None = None  # the hidden action that carries area_keys beside window keys
    more_areas: list[Area] = field(default_factory=list)  # where else its single keys work (``?`` on the board too)

    @property
    def text(self) -> str:
        """The menu text without its mnemonic and without a shortcut hint after a tab."""
        return self.action.text().split("\t")[0].replace("&&", "\0").replace("&", "").replace("\0", "&")

    def keys(self) -> list[QKeySequence]:
        window = self.window_keys if self.window_keys is not None else list(self.action.shortcuts())
        return window + self.area_keys

    def keys_text(self) -> str:
        return ", ".join(key_text(k) for k in self.keys())

    def where(self) -> str:
        """Where the area keys work, for the sheet; '' when the command has none."""
        if self.area is None or not self.area_keys:
            return ""
        return ", and ".join(area.description for area in [self.area, *self.more_areas])

    def is_enabled(self) -> bool:
        return self.action.isEnabled()

    def run(self) -> None:
        if self.action.isEnabled():
            self.action.trigger()


class CommandRegistry(QObject):
    """The commands of one main window (the menus show them where each feature put them; the palette and the sheet
    list them all, mail first)."""

    def __init__(self, window: QWidget):
        super().__init__(window)
        self._window = window
        self._commands: dict[str, Command] = {}
        self._areas: dict[str, Area] = {}
        self._kept: list[tuple[QWidget, list[QKeySequence]]] = []  # views that handle these keys themselves
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._on_focus_changed)

    # -- areas ---------------------------------------------------------------------------------------------------------
    def add_area(self, name: str, description: str, *widgets: QWidget) -> Area:
        """Single keys of ``name`` work while the focus is in one of ``widgets`` (or a widget inside them)."""
        area = self._areas.setdefault(name, Area(name, description))
        for widget in widgets:
            area.widgets.append(widget)
            for command in self._commands.values():
                if command.area is area or area in command.more_areas:
                    widget.addAction(command.key_action or command.action)
        return area

    def keep_keys_in(self, widget: QWidget, *keys: KeySpec) -> None:
        """``widget`` handles ``keys`` itself (the board's own Ctrl+Z): while the focus is inside it, window commands
        leave those keys to it instead of both claiming them (Qt would then run neither)."""
        self._kept.append((widget, key_sequences(keys)))

    # -- commands ------------------------------------------------------------------------------------------------------
    def add(self, name: str, text: str, run: Callable[[], object], *, keys: Sequence[KeySpec] = (),
            area: str = "", area_keys: Sequence[KeySpec] = (), group: str = "", status_tip: str = "") -> QAction:
        """A new command: ``keys`` work anywhere in the window, ``area_keys`` only in ``area`` and never while typing.
        Returns the action for the menus."""
        window_keys = key_sequences(keys)
        in_area = self._areas[area] if area_keys else None
        # Desktop keys work in text fields too (Ctrl+K from the search box); only area keys are refused there.
        action = KeyAction(text, self._window) if in_area is not None and not window_keys else QAction(text, self._window)
        action.setObjectName(name)
        if status_tip:
            action.setStatusTip(status_tip)
        action.triggered.connect(lambda _checked=False: run())
        command = Command(name, action, group, window_keys=window_keys, area=in_area, area_keys=key_sequences(area_keys))
        if window_keys:
            action.setShortcuts(window_keys)
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self._window.addAction(action)
        if in_area is not None:
            carrier = action
            if window_keys:  # a second, hidden action carries the area's keys
                carrier = KeyAction(text, self._window)
                carrier.triggered.connect(lambda _checked=False: action.trigger())
                action.enabledChanged.connect(carrier.setEnabled)
                command.key_action = carrier
            carrier.setShortcuts(command.area_keys)
            carrier.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            for widget in in_area.widgets:
                widget.addAction(carrier)
        self._commands[name] = command
        return action

    def also_in(self, name: str, area: str) -> None:
        """The single keys of command ``name`` work in ``area`` as well (the shortcut sheet's ``?`` on the board)."""
        command, where = self._commands[name], self._areas[area]
        if command.area is None or where is command.area or where in command.more_areas:
            return
        command.more_areas.append(where)
        for widget in where.widgets:
            widget.addAction(command.key_action or command.action)

    def add_action(self, name: str, action: QAction, group: str = "") -> Command:
        """An action made elsewhere (a feature's menu entry): listed with its own shortcuts. Adding it again (under
        any name) changes nothing."""
        for command in self._commands.values():
            if command.action is action:
                return command
        command = Command(name, action, group)
        self._commands[name] = command
        return command

    def command(self, name: str) -> Command:
        return self._commands[name]

    def commands(self) -> list[Command]:
        """Every command, by group (:data:`GROUPS`, then any other), in the order registered within a group."""
        def group_rank(command: Command) -> int:
            return GROUPS.index(command.group) if command.group in GROUPS else len(GROUPS)

        return sorted(self._commands.values(), key=group_rank)

    def __contains__(self, name: object) -> bool:
        return name in self._commands

    # -- keys a view keeps ---------------------------------------------------------------------------------------------
    def _on_focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        kept: list[QKeySequence] = []
        for widget, keys in self._kept:
            if new is not None and (new is widget or widget.isAncestorOf(new)):
                kept.extend(keys)
        for command in self._commands.values():
            if not command.window_keys:
                continue
            wanted = [k for k in command.window_keys if k not in kept]
            if wanted != list(command.action.shortcuts()):
                command.action.setShortcuts(wanted)
