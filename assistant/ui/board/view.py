"""The Board tab: the current principal's kanban board, one QListView per column over a :class:`CardListModel`.

Everything is loaded and written on the worker (:class:`TaskManager`); a drop or a key asks the worker to move the card
(one transaction) and the board reloads from the store, so what is shown is always what is stored.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QBrush,
    QColor,
    QFont,
    QKeySequence,
    QPainter,
    QPalette,
    QPen,
    QPixmap,
    QPixmapCache,
    QUndoCommand,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from assistant.board import service as board
from assistant.core import private_files, timezones
from assistant.domain import Card, Principal
from assistant.store import Store
from assistant.store import board as board_store
from assistant.store.changes import Area, Changes
from assistant.ui.board.task_dialog import TaskDialog
from assistant.ui.shortcuts import KeySpec
from assistant.ui.widgets.pages import lay_out_hidden
from assistant.ui.workers import TaskManager, describe_error

CARD_MIME = "application/x-assistant-card"
CardRole = Qt.ItemDataRole.UserRole + 1
DUE_FILTERS = [("Any due date", ""), ("Overdue", "overdue"), ("Due today", "today"), ("Due this week", "week")]
AnyIndex = QModelIndex | QPersistentModelIndex
LEFT_MIDDLE = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
FILL_SLICE = 6  # cards drawn into the cache per turn of the event loop


@dataclass
class BoardSnapshot:
    """What the worker loads for the GUI: the principal, the columns, the cards shown (filtered) and all labels."""
    principal: Principal
    columns: list[Any]
    cards: list[Card]
    labels: list[str] = field(default_factory=list)
    now: datetime | None = None


def load_board(store: Store, principal_id: int, f: board.CardFilter, now: datetime | None = None) -> BoardSnapshot:
    now = now or timezones.now_utc()
    board.ensure_board(store, principal_id)
    scope = store.scope(principal_id)
    board_store.archive_done(scope, now)
    cards = board_store.cards(scope)
    shown = board.filter_cards(store, principal_id, cards, f, now=now)
    return BoardSnapshot(scope.principal, board_store.columns(scope), shown, board.labels_in_use(cards), now)


class CardListModel(QAbstractListModel):
    """The cards of one column. Drags carry the card ids and their principal; a drop is turned into
    :attr:`card_dropped` (the board asks the store), never into a local row change."""

    card_dropped = Signal(int, int, int)  # card id, column id, row (-1: the end)

    def __init__(self, column_id: int, principal_id: int, parent=None):
        super().__init__(parent)
        self.column_id = column_id
        self.principal_id = principal_id
        self.zone = "UTC"
        self.now: datetime | None = None
        self._cards: list[Card] = []

    def set_cards(self, cards: list[Card], zone: str, now: datetime | None) -> None:
        self.beginResetModel()
        self._cards = list(cards)
        self.zone = zone
        self.now = now
        self.endResetModel()

    def card_at(self, row: int) -> Card | None:
        return self._cards[row] if 0 <= row < len(self._cards) else None

    def row_of(self, card_id: int) -> int:
        return next((i for i, c in enumerate(self._cards) if c.id == card_id), -1)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._cards)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.parent().isValid():
            return None
        c = self.card_at(index.row())
        if c is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return c.title
        if role == Qt.ItemDataRole.AccessibleTextRole:
            due = board.due_text(c, self.zone)
            return c.title + (f", due {due}" if due else "")
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [c.title]
            if c.due_utc:
                mine = timezones.assistant_zone_name()
                lines.append(f"Due {board.due_text(c, self.zone)} ({self.zone}) — "
                             f"{timezones.in_zone(c.due_utc, mine):%a %d %b %H:%M} your time")
            if c.labels:
                lines.append("Labels: " + ", ".join(c.labels))
            if c.rrule:
                lines.append("Repeats: " + c.rrule)
            return "\n".join(lines)
        if role == CardRole:
            return c
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled
        return (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
                | Qt.ItemFlag.ItemNeverHasChildren)

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [CARD_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        ids = [self._cards[i.row()].id for i in indexes if i.isValid() and self.card_at(i.row())]
        mime = QMimeData()
        mime.setData(CARD_MIME, json.dumps({"principal_id": self.principal_id, "card_ids": ids}).encode())
        return mime

    @staticmethod
    def dropped(mime: QMimeData) -> dict[str, Any] | None:
        if not mime.hasFormat(CARD_MIME):
            return None
        try:
            data = json.loads(bytes(mime.data(CARD_MIME).data()).decode())
        except (ValueError, UnicodeDecodeError):
            return None
        return data if isinstance(data, dict) and data.get("card_ids") else None

    def canDropMimeData(self, mime: QMimeData, action: Qt.DropAction, row: int, column: int,
                        parent: AnyIndex) -> bool:
        data = self.dropped(mime)
        return data is not None and data.get("principal_id") == self.principal_id

    def dropMimeData(self, mime: QMimeData, action: Qt.DropAction, row: int, column: int, parent: AnyIndex) -> bool:
        if action == Qt.DropAction.IgnoreAction:
            return True
        data = self.dropped(mime)
        if data is None or data.get("principal_id") != self.principal_id:
            return False  # another principal's card (another window) never lands on this board
        if parent.isValid():
            row = parent.row()
        for offset, card_id in enumerate(data["card_ids"]):
            self.card_dropped.emit(int(card_id), self.column_id, -1 if row < 0 else row + offset)
        return False  # the store moves it; the source view must not remove a row of its own


def _split_line(text: str, metrics: Any, width: int) -> tuple[str, str]:
    """The words of ``text`` that fit on one line of ``width``, and the rest (a title gets two lines)."""
    if metrics.horizontalAdvance(text) <= width:
        return text, ""
    words = text.split(" ")
    for n in range(len(words) - 1, 0, -1):
        head = " ".join(words[:n])
        if metrics.horizontalAdvance(head) <= width:
            return head, " ".join(words[n:])
    return metrics.elidedText(text, Qt.TextElideMode.ElideRight, width), ""


class CardDelegate(QStyledItemDelegate):
    HEIGHT = 84
    link_clicked = Signal(object)  # the Card whose ↗ was clicked

    def __init__(self, parent: Any = None):
        super().__init__(parent)
        self._pending: dict[str, tuple[QStyleOptionViewItem, Card, str, bool, bool, float]] = {}

    @staticmethod
    def link_rect(rect: QRect) -> QRect:
        inner = rect.adjusted(4, 3, -4, -3).adjusted(10, 6, -8, -6)
        return QRect(inner.right() - 22, inner.top() - 4, 28, 26)

    def editorEvent(self, event: Any, model: Any, option: QStyleOptionViewItem, index: AnyIndex) -> bool:
        from PySide6.QtCore import QEvent

        if event.type() == QEvent.Type.MouseButtonRelease and event.button() == Qt.MouseButton.LeftButton:
            c = index.data(CardRole)
            if c is not None and c.link and self.link_rect(option.rect).contains(event.position().toPoint()):
                self.link_clicked.emit(c)
                return True
        return super().editorEvent(event, model, option, index)

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        view = self.parent()
        width = view.viewport().width() if isinstance(view, QListView) else option.rect.width()
        return QSize(max(width - 2, 120), self.HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        """A card from the pixmap cache when it was drawn before as it is now (its fields, the time it is due
        against, the width, selection, palette and font), else drawn once into the cache: showing the Board tab again,
        scrolling back or selecting another card draws only what changed."""
        c: Card | None = index.data(CardRole)
        if c is None:
            return
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        rect = option.rect
        ratio = painter.device().devicePixelRatioF() if painter.device() is not None else 1.0
        key, zone, overdue = self.cache_key(index, c, option, selected, ratio)
        pixmap = QPixmap()
        if QPixmapCache.find(key, pixmap):
            painter.drawPixmap(rect.topLeft(), pixmap)
            return
        painter.save()
        self.draw_card(painter, rect, option, c, zone, overdue, selected)
        painter.restore()
        # into the cache after this paint, not before it: the first showing waits for no pixmap
        self._queue(key, (QStyleOptionViewItem(option), c, zone, overdue, selected, ratio))

    @staticmethod
    def cache_key(index: AnyIndex, c: Card, option: QStyleOptionViewItem, selected: bool, ratio: float
                  ) -> tuple[str, str, bool]:
        """The pixmap cache's key of a card drawn as it is now, with the zone and whether it is overdue."""
        model = index.model()
        zone = getattr(model, "zone", "UTC")
        now = getattr(model, "now", None) or timezones.now_utc()
        overdue = c.due_utc is not None and c.done_utc is None and c.due_utc < now
        rect = option.rect
        key = (f"board-card:{c.id}:{c.title}:{c.priority}:{c.link}:{c.due_utc}:{overdue}:{zone}:{c.rrule}:"
               f"{c.estimate_min}:{sum(i.done for i in c.checklist)}/{len(c.checklist)}:{c.labels}:{rect.width()}x"
               f"{rect.height()}@{ratio}:{selected}:{option.palette.cacheKey()}:{option.font.key()}")
        return key, zone, overdue

    def prepare(self, index: AnyIndex, option: QStyleOptionViewItem, selected: bool, ratio: float) -> None:
        """Queue the card at ``index``, as ``option`` would show it, to be drawn into the cache (a hidden board's
        cards in sight, so the Board tab's first showing copies pixmaps instead of drawing them)."""
        c: Card | None = index.data(CardRole)
        if c is None:
            return
        key, zone, overdue = self.cache_key(index, c, option, selected, ratio)
        if key not in self._pending and not QPixmapCache.find(key, QPixmap()):
            self._queue(key, (option, c, zone, overdue, selected, ratio))

    def _queue(self, key: str, card: tuple[QStyleOptionViewItem, Card, str, bool, bool, float]) -> None:
        if not self._pending:
            QTimer.singleShot(0, self, self._fill_cache)
        self._pending[key] = card

    def _fill_cache(self) -> None:
        """Draws the queued cards into the cache a few at a time (~1 ms a card), a turn of the event loop between:
        no long stall while a hidden board gets ready."""
        keys = list(self._pending)[:FILL_SLICE]
        pending = {key: self._pending.pop(key) for key in keys}
        if self._pending:
            QTimer.singleShot(0, self, self._fill_cache)
        for key, (option, c, zone, overdue, selected, ratio) in pending.items():
            rect = option.rect
            pixmap = QPixmap(max(1, round(rect.width() * ratio)), max(1, round(rect.height() * ratio)))
            pixmap.setDevicePixelRatio(ratio)
            pixmap.fill(Qt.GlobalColor.transparent)
            card_painter = QPainter(pixmap)
            self.draw_card(card_painter, QRect(0, 0, rect.width(), rect.height()), option, c, zone, overdue, selected)
            card_painter.end()
            QPixmapCache.insert(key, pixmap)

    def draw_card(self, painter: QPainter, area: QRect, option: QStyleOptionViewItem, c: Card, zone: str,
                  overdue: bool, selected: bool) -> None:
        palette = option.palette
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = area.adjusted(4, 3, -4, -3)
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Highlight) if selected
                            else palette.color(QPalette.ColorRole.Mid), 2 if selected else 1))
        painter.setBrush(palette.color(QPalette.ColorRole.Base))
        painter.drawRoundedRect(rect, 6, 6)
        if c.priority:
            priority_colour = ["#94a3b8", "#3b82f6", "#f59e0b", "#dc2626"][min(c.priority, 3)]
            painter.fillRect(QRect(rect.left() + 1, rect.top() + 6, 3, rect.height() - 12), QColor(priority_colour))
        inner = rect.adjusted(10, 6, -8, -6)
        title_font = QFont(option.font)
        title_font.setBold(True)
        painter.setFont(title_font)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        metrics = painter.fontMetrics()
        width = inner.width() - (18 if c.link else 0)
        first, rest = _split_line(c.title, metrics, width)
        painter.drawText(QRect(inner.left(), inner.top(), width, metrics.height()), LEFT_MIDDLE, first)
        if rest:
            painter.drawText(QRect(inner.left(), inner.top() + metrics.height(), width, metrics.height()),
                             LEFT_MIDDLE, metrics.elidedText(rest, Qt.TextElideMode.ElideRight, width))
        if c.link:
            painter.drawText(QRect(inner.right() - 14, inner.top(), 14, metrics.height()),
                             Qt.AlignmentFlag.AlignRight, "↗")
        painter.setFont(option.font)
        small = painter.fontMetrics()
        y = inner.top() + 2 * metrics.height() + 4
        x = inner.left()
        quiet = palette.color(QPalette.ColorRole.PlaceholderText)
        parts = []
        if c.due_utc is not None:
            parts.append(("⏰ " + board.due_text(c, zone), QColor("#dc2626") if overdue else quiet))
        if c.checklist:
            done = sum(i.done for i in c.checklist)
            parts.append((f"☑ {done}/{len(c.checklist)}", quiet))
        if c.rrule:
            parts.append(("↻", quiet))
        if c.estimate_min:
            parts.append((f"{c.estimate_min} min", quiet))
        for text, colour in parts:
            painter.setPen(colour)
            width = small.horizontalAdvance(text)
            painter.drawText(QRect(x, y, width + 2, small.height()), Qt.AlignmentFlag.AlignLeft, text)
            x += width + 10
        wrapped = False
        for label in c.labels:
            width = small.horizontalAdvance(label) + 10
            if x + width > inner.right() and not wrapped and x > inner.left():
                x, y, wrapped = inner.left(), y + small.height() + 4, True
            if x + width > inner.right():
                break
            chip = QRect(x, y, width, small.height())
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(_label_colour(label)))
            painter.drawRoundedRect(chip, 4, 4)
            painter.setPen(QColor("white"))
            painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, label)
            x += width + 4


def _label_colour(label: str) -> QColor:
    hue = sum(label.casefold().encode()) * 37 % 360
    return QColor.fromHsl(hue, 140, 110)


class CardListView(QListView):
    """One column's cards. Its keys (n, h/l, Enter, Delete…) are the window's board commands (:data:`BOARD_KEYS`), so
    the palette and the shortcut sheet list them and they never act while a text field has the focus."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setUniformItemSizes(True)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.card_delegate = CardDelegate(self)
        self.setItemDelegate(self.card_delegate)
        self.setSpacing(0)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setResizeMode(QListView.ResizeMode.Adjust)

    def prepare_paint(self) -> None:
        """While hidden: queue the cards in sight (as the next showing will paint them) to be drawn into the pixmap
        cache between other events, so that showing the Board draws no card."""
        if self.isVisible() or self.model() is None or self.viewport().height() <= 1:
            return
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        ratio = self.devicePixelRatioF()
        selection = self.selectionModel()
        height = self.viewport().height()
        for row in range(self.model().rowCount()):
            index = self.model().index(row, 0)
            rect = self.visualRect(index)
            if rect.top() >= height:
                break
            card_option = QStyleOptionViewItem(option)
            card_option.rect = rect
            selected = selection is not None and selection.isSelected(index)
            self.card_delegate.prepare(index, card_option, selected, ratio)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        if not self.isVisible():  # sized while hidden (ui/widgets/pages.py): ready the cards at the new width
            QTimer.singleShot(0, self, self.prepare_paint)


class ColumnHeader(QLabel):
    """A column's name and its count on one line: a name too long for the column ("Waiting on principal" at 1280 px)
    is cut with "…" and keeps its count; the whole of it is the tooltip."""

    def __init__(self, name: str, parent=None):
        super().__init__(name, parent)
        self.name = name
        self.count: int | None = None
        self.setToolTip(name)

    def _suffix(self) -> str:
        return "" if self.count is None else f" · {self.count}"

    def sizeHint(self) -> QSize:
        """What the whole name asks for: a column that has the room shows it uncut."""
        hint = super().sizeHint()
        margins = self.contentsMargins()
        return QSize(self.fontMetrics().horizontalAdvance(self.name + self._suffix()) + margins.left()
                     + margins.right() + 2 * self.margin(), hint.height())

    def minimumSizeHint(self) -> QSize:
        """What it needs at least: "…" and the count."""
        return QSize(self.fontMetrics().horizontalAdvance("…" + self._suffix()), super().minimumSizeHint().height())

    def set_count(self, count: int) -> None:
        if count != self.count:
            self.count = count
            self.updateGeometry()  # the count's width is in both hints
        self._fit()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self.updateGeometry()
            self._fit()

    def _fit(self) -> None:
        suffix = self._suffix()
        metrics = self.fontMetrics()
        room = max(0, self.contentsRect().width() - metrics.horizontalAdvance(suffix))
        text = metrics.elidedText(self.name, Qt.TextElideMode.ElideRight, room) + suffix
        if text != self.text():
            self.setText(text)
        self.setToolTip(self.name + suffix)


class ColumnWidget(QFrame):
    def __init__(self, column: Any, principal_id: int, parent=None):
        super().__init__(parent)
        self.setObjectName(f"board-column-{column.position}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.column = column
        self.model = CardListModel(column.id, principal_id, self)
        self.header = ColumnHeader(column.name)
        self.header.setObjectName("board-column-header")
        font = self.header.font()
        font.setBold(True)
        self.header.setFont(font)
        self.menu_button = QToolButton()
        self.menu_button.setText("⋯")
        self.menu_button.setAccessibleName(f"{column.name} column menu")
        self.menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu = QMenu(self)
        self.menu_button.setMenu(self.menu)
        self.view = CardListView(self)
        self.view.setAccessibleName(f"{column.name} cards")
        self.view.setModel(self.model)
        top = QHBoxLayout()
        top.addWidget(self.header, 1)
        top.addWidget(self.menu_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        # five columns side by side at 1280 px beside the principal list; wider windows widen them, up to a card's
        # comfortable reading width
        self.setMinimumWidth(168)
        self.setMaximumWidth(320)

    def set_cards(self, cards: list[Card], zone: str, now: datetime | None) -> None:
        self.model.set_cards(cards, zone, now)
        self.header.set_count(len(cards))


class DeleteCardCommand(QUndoCommand):
    """Delete a card on the worker; undo puts it back (with a new id) where it was."""

    def __init__(self, view: BoardView, card: Card):
        super().__init__(f"Delete “{card.title}”")
        self.view = view
        self.principal_id = card.principal_id
        self.card_id = card.id
        self.gone: Card | None = None

    def redo(self) -> None:
        principal_id, card_id = self.principal_id, self.card_id

        def done(gone: Card) -> None:
            self.gone = gone
            self.view.show_undo_bar(f"Deleted “{gone.title}”.")  # the board reloads from the change

        self.view.tasks.run(lambda store: board.delete_task(store, principal_id, card_id), on_done=done,
                            on_error=self.view.show_error)

    def undo(self) -> None:
        principal_id = self.principal_id

        def restore(store: Store) -> Card:
            if self.gone is None:
                raise RuntimeError("the deletion has not finished")
            return board.restore_task(store, principal_id, self.gone)

        def done(back: Card) -> None:
            self.card_id = back.id
            self.view.hide_undo_bar()
            self.view.reload(select_card_id=back.id)

        self.view.tasks.run(restore, on_done=done, on_error=self.view.show_error)


class BoardView(QWidget):
    """The current principal's board. ``n`` new card, ``h``/``l`` or Ctrl+←/→ move the card a column, Enter opens it,
    Delete deletes it (Ctrl+Z or the Undo bar brings it back)."""

    loaded = Signal()
    link_activated = Signal(int, str)  # principal id, link ("message:12")
    error = Signal(str)
    card_made = Signal(object)  # the Card made from a message, thread or event ("Make a task")

    def __init__(self, tasks: TaskManager, parent=None):
        super().__init__(parent)
        self.setObjectName("board")
        self.tasks = tasks
        self.principal: Principal | None = None
        self.snapshot: BoardSnapshot | None = None
        self.column_widgets: list[ColumnWidget] = []
        self.undo_stack = QUndoStack(self)
        self._request = 0
        self._select_after_load: int | None = None
        tasks.changed.connect(self.on_changed)

        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter cards by text")
        self.search.setAccessibleName("Filter cards by text")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _t: self.reload())
        self.label_filter = QComboBox()
        self.label_filter.setAccessibleName("Filter by label")
        self.label_filter.addItem("All labels", "")
        self.label_filter.currentIndexChanged.connect(lambda _i: self.reload())
        self.due_filter = QComboBox()
        self.due_filter.setAccessibleName("Filter by due date")
        for text, value in DUE_FILTERS:
            self.due_filter.addItem(text, value)
        self.due_filter.currentIndexChanged.connect(lambda _i: self.reload())
        for combo in (self.label_filter, self.due_filter):  # narrow enough to fit beside the principal list
            combo.setMinimumWidth(70)
        self.new_button = QPushButton("&New card")
        self.new_button.clicked.connect(self.on_new_card)
        self.board_menu_button = QToolButton()
        self.board_menu_button.setText("Board ▾")
        self.board_menu_button.setAccessibleName("Board menu")
        self.board_menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        board_menu = QMenu(self)
        board_menu.addAction("Import Trello JSON or board CSV…", self.on_import)
        board_menu.addAction("Export CSV…", self.on_export)
        board_menu.addSeparator()
        board_menu.addAction("Add column…", self.on_add_column)
        board_menu.addAction("Archive Done after…", self.on_archive_setting)
        self.board_menu_button.setMenu(board_menu)
        self.zone_label = QLabel()
        self.zone_label.setObjectName("board-zone")
        # the clocks may be cut short rather than widen the window's minimum (the tab must fit beside the principal list)
        self.zone_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.zone_label.setMinimumWidth(40)
        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        bar.addWidget(self.label_filter)
        bar.addWidget(self.due_filter)
        bar.addWidget(self.zone_label, 1)
        bar.addWidget(self.board_menu_button)
        bar.addWidget(self.new_button)

        self.undo_bar = QFrame()
        self.undo_bar.setObjectName("undo-bar")
        self.undo_text = QLabel()
        self.undo_button = QPushButton("Undo")
        self.undo_button.clicked.connect(self.undo_stack.undo)
        undo_layout = QHBoxLayout(self.undo_bar)
        undo_layout.setContentsMargins(8, 2, 8, 2)
        undo_layout.addWidget(self.undo_text, 1)
        undo_layout.addWidget(self.undo_button)
        self.undo_bar.hide()

        self.columns_host = QWidget()
        self.columns_layout = QHBoxLayout(self.columns_host)
        self.columns_layout.setContentsMargins(6, 6, 6, 6)
        self.columns_layout.addStretch(1)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setWidget(self.columns_host)
        self.empty = QLabel("Pick a principal to see their board.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.undo_bar)
        layout.addWidget(self.scroll_area, 1)
        layout.addWidget(self.empty)
        self.scroll_area.hide()

        # The card keys (n, h/l, Ctrl+←/→, Enter, Delete) and Ctrl+Z / Ctrl+Shift+Z are commands of the window's
        # registry (install(), BOARD_KEYS): the card keys work on the cards only, so typing in the filter is typing.

    # -- loading --------------------------------------------------------------------------------------------------------
    def card_filter(self) -> board.CardFilter:
        return board.CardFilter(label=self.label_filter.currentData() or "", due=self.due_filter.currentData() or "",
                                text=self.search.text())

    def set_principal(self, principal: Principal | None) -> None:
        if principal is not None and self.principal is not None and principal.id == self.principal.id:
            return
        self.principal = principal
        self.undo_stack.clear()
        self.hide_undo_bar()
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self.label_filter.blockSignals(True)
        self.label_filter.setCurrentIndex(0)
        self.label_filter.blockSignals(False)
        self.due_filter.blockSignals(True)
        self.due_filter.setCurrentIndex(0)
        self.due_filter.blockSignals(False)
        self._set_columns([])
        self.reload()

    def on_changed(self, changes: Changes) -> None:
        """Whoever changed this principal's board (the quick log, Ctrl+T, an import, a sync), it is shown at once."""
        if self.principal is not None and changes.touches(Area.BOARD, principal_id=self.principal.id):
            self.reload()

    def reload(self, select_card_id: int | None = None) -> None:
        if select_card_id is None:
            current = self.current_card()
            select_card_id = current.id if current else None
        self._select_after_load = select_card_id
        self._request += 1
        request = self._request
        if self.principal is None:
            self.snapshot = None
            self._set_columns([])
            self.scroll_area.hide()
            self.empty.show()
            return
        principal_id, f = self.principal.id, self.card_filter()
        assert principal_id is not None  # principals come from the store
        self.tasks.run(lambda store: load_board(store, principal_id, f),
                       on_done=lambda snapshot: self._apply(request, snapshot), on_error=self.show_error)

    def _apply(self, request: int, snapshot: BoardSnapshot) -> None:
        if request != self._request or self.principal is None or snapshot.principal.id != self.principal.id:
            return  # a newer load or another principal since
        self.snapshot = snapshot
        if [(c.id, c.name) for c in snapshot.columns] != [(w.column.id, w.column.name) for w in self.column_widgets]:
            self._set_columns(snapshot.columns)
        zone = snapshot.principal.timezone
        by_column: dict[int | None, list[Card]] = {c.id: [] for c in snapshot.columns}
        for card in snapshot.cards:
            by_column.setdefault(card.column_id, []).append(card)
        for widget in self.column_widgets:
            widget.set_cards(by_column.get(widget.column.id, []), zone, snapshot.now)
        self._fill_labels(snapshot.labels)
        mine = timezones.assistant_zone_name()
        now = snapshot.now or timezones.now_utc()
        self.zone_label.setText(f"{timezones.in_zone(now, zone):%H:%M} {zone}  ·  you {timezones.in_zone(now, mine):%H:%M}")
        self.zone_label.setToolTip(f"{snapshot.principal.name}'s time: {timezones.in_zone(now, zone):%H:%M} ({zone}); "
                                   f"yours: {timezones.in_zone(now, mine):%H:%M} ({mine}). Due times are in {zone}.")
        self.empty.hide()
        self.scroll_area.show()
        if not self.isVisible():
            QTimer.singleShot(0, self, self._prepare_hidden)
        if self._select_after_load is not None:
            self.select_card(self._select_after_load)
        self.loaded.emit()

    def _prepare_hidden(self) -> None:
        """Behind another tab: lay the columns out at the size the tab will show them (ui/widgets/pages.py) and
        draw the cards in sight into the pixmap cache, so showing the Board only paints."""
        if self.isVisible():
            return
        lay_out_hidden(self)
        for widget in self.column_widgets:
            widget.view.prepare_paint()

    def _fill_labels(self, labels: list[str]) -> None:
        current = self.label_filter.currentData() or ""
        self.label_filter.blockSignals(True)
        self.label_filter.clear()
        self.label_filter.addItem("All labels", "")
        for label in labels:
            self.label_filter.addItem(label, label)
        self.label_filter.setCurrentIndex(max(0, self.label_filter.findData(current)))
        self.label_filter.blockSignals(False)

    def _set_columns(self, columns: list[Any]) -> None:
        for widget in self.column_widgets:
            self.columns_layout.removeWidget(widget)
            widget.hide()
            widget.deleteLater()
        self.column_widgets = []
        if self.principal is None:
            return
        for i, column in enumerate(columns):
            widget = ColumnWidget(column, self.principal.id, self.columns_host)
            widget.model.card_dropped.connect(self.on_card_dropped)
            widget.view.doubleClicked.connect(lambda index, w=widget: self.open_card(w.model.card_at(index.row())))
            widget.view.card_delegate.link_clicked.connect(
                lambda c: self.link_activated.emit(c.principal_id, c.link))
            self._fill_column_menu(widget, i, len(columns))
            self.columns_layout.insertWidget(i, widget, 1)
            self.column_widgets.append(widget)

    def _fill_column_menu(self, widget: ColumnWidget, index: int, count: int) -> None:
        menu = widget.menu
        column_id = widget.column.id
        menu.addAction("Rename…", lambda: self.on_rename_column(column_id))
        left = menu.addAction("Move left", lambda: self._column_op(board_store.move_column, column_id, index - 1))
        left.setEnabled(index > 0)
        right = menu.addAction("Move right", lambda: self._column_op(board_store.move_column, column_id, index + 1))
        right.setEnabled(index < count - 1)
        menu.addSeparator()
        remove = menu.addAction("Remove column…", lambda: self.on_remove_column(column_id, widget.column.name))
        remove.setEnabled(count > 1)

    # -- current card ----------------------------------------------------------------------------------------------------
    def current_column_index(self) -> int:
        for i, widget in enumerate(self.column_widgets):
            if widget.view.hasFocus():
                return i
        for i, widget in enumerate(self.column_widgets):
            if widget.view.currentIndex().isValid() and widget.view.selectionModel().hasSelection():
                return i
        return -1

    def current_card(self) -> Card | None:
        i = self.current_column_index()
        if i < 0:
            return None
        widget = self.column_widgets[i]
        return widget.model.card_at(widget.view.currentIndex().row())

    def select_card(self, card_id: int) -> bool:
        for widget in self.column_widgets:
            row = widget.model.row_of(card_id)
            if row >= 0:
                index = widget.model.index(row)
                widget.view.setCurrentIndex(index)
                widget.view.scrollTo(index)
                widget.view.setFocus()
                return True
        return False

    def column_of(self, card_id: int) -> str | None:
        for widget in self.column_widgets:
            if widget.model.row_of(card_id) >= 0:
                return widget.column.name
        return None

    def titles(self) -> dict[str, list[str]]:
        return {w.column.name: [c.title for c in map(w.model.card_at, range(w.model.rowCount())) if c is not None]
                for w in self.column_widgets}

    # -- actions ---------------------------------------------------------------------------------------------------------
    def show_error(self, error: BaseException | str) -> None:
        text = error if isinstance(error, str) else describe_error(error)
        self.error.emit(text)
        self.undo_text.setText(text)
        self.undo_button.hide()
        self.undo_bar.show()

    def show_undo_bar(self, text: str) -> None:
        self.undo_text.setText(text)
        self.undo_button.show()
        self.undo_bar.show()

    def hide_undo_bar(self) -> None:
        self.undo_bar.hide()

    def move_card(self, card_id: int, column_id: int, row: int | None) -> None:
        principal = self.principal
        if principal is None:
            return
        principal_id = principal.id
        assert principal_id is not None  # principals come from the store

        def moved(following: Card | None) -> None:
            if following is not None:  # due in the zone of the card's principal (the one shown may have changed)
                self.show_undo_bar(f"Done. It repeats: the next one is due "
                                   f"{board.due_text(following, principal.timezone)}.")
                self.undo_button.hide()
            self.reload(select_card_id=card_id)

        self.tasks.run(lambda store: board.move_task(store, principal_id, card_id, column_id, row),
                       on_done=moved, on_error=self.show_error)

    def on_card_dropped(self, card_id: int, column_id: int, row: int) -> None:
        self.move_card(card_id, column_id, None if row < 0 else row)

    def move_current(self, step: int) -> None:
        i = self.current_column_index()
        card = self.current_card()
        if card is None or not 0 <= i + step < len(self.column_widgets):
            return
        self.move_card(card.id, self.column_widgets[i + step].column.id, None)

    def open_current(self) -> None:
        card = self.current_card()
        if card is not None:
            self.open_card(card)

    def _dialog(self, card: Card | None) -> TaskDialog | None:
        if self.snapshot is None or self.principal is None:
            return None
        dialog = TaskDialog(card, self.snapshot.columns, self.principal.timezone, self, principal=self.principal)
        principal_id = self.principal.id
        dialog.link_activated.connect(lambda link: self.link_activated.emit(principal_id, link))
        return dialog

    def open_card(self, card: Card | None) -> TaskDialog | None:
        dialog = self._dialog(card)
        if dialog is None or card is None:
            return None
        assert self.principal is not None  # there is a dialog
        principal_id, card_id = self.principal.id, card.id
        assert principal_id is not None and card_id is not None  # both read from the store
        old_column = card.column_id

        def save() -> None:
            changes, column_id = dialog.changes(), dialog.column_id()

            def apply(store: Store) -> None:
                board.edit_task(store, principal_id, card_id, **changes)
                if column_id is not None and column_id != old_column:  # the dialog lists the board's columns
                    board.move_task(store, principal_id, card_id, column_id, None)

            self.tasks.run(apply, on_done=lambda _r: self.reload(select_card_id=card_id), on_error=self.show_error)

        dialog.accepted.connect(save)
        dialog.open()
        return dialog

    def on_new_card(self) -> TaskDialog | None:
        if self.snapshot is None or self.principal is None:
            return None
        i = self.current_column_index()
        column = self.column_widgets[i].column.id if i >= 0 else self.snapshot.columns[0].id
        principal_id = self.principal.id
        assert principal_id is not None  # principals come from the store
        dialog = self._dialog(Card(principal_id=principal_id, title="", column_id=column))
        assert dialog is not None  # it has a board and a principal

        def save() -> None:
            c, column_id = dialog.changes(), dialog.column_id()

            def add(store: Store) -> Card:
                return board.make_task(store, principal_id, c["title"], column=column_id, due_utc=c["due_utc"],
                                       repeat=c["rrule"], notes=c["notes"], labels=c["labels"],
                                       priority=c["priority"], checklist=c["checklist"],
                                       estimate_min=c["estimate_min"], remind=c["remind"])

            self.tasks.run(add, on_done=lambda card: self.reload(select_card_id=card.id), on_error=self.show_error)

        dialog.accepted.connect(save)
        dialog.open()
        return dialog

    def delete_current(self) -> None:
        card = self.current_card()
        if card is not None:
            self.undo_stack.push(DeleteCardCommand(self, card))

    # -- import, export, archiving ----------------------------------------------------------------------------------------
    def on_import(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getOpenFileName(self, self._titled("Import a board"), "", "Trello JSON or board CSV (*.json *.csv);;All (*)")
        if path:
            self.import_from(path)

    def import_from(self, path: str) -> None:
        if self.principal is None:
            return
        principal_id = self.principal.id
        assert principal_id is not None  # principals come from the store

        def run(store: Store) -> Any:
            from pathlib import Path

            from assistant.importing import board as board_io
            kind = board_io.detect(Path(path))
            if not kind:
                from assistant.core.errors import InvalidInput

                raise InvalidInput(f"{Path(path).name} is neither a Trello board export nor a CSV with a title column")
            return board_io.import_board(store, principal_id, Path(path), kind)

        def done(report: Any) -> None:
            text = f"Imported {report.imported} cards"
            if report.skipped:
                text += f", skipped {report.skipped} archived"
            if report.rejected:
                text += f"; {len(report.rejected)} rejected — " + "; ".join(f"{i}: {r}" for i, r in report.rejected[:3])
            self.last_import = report
            self.show_undo_bar(text + ".")  # the board reloads from the change
            self.undo_button.hide()

        self.tasks.run(run, on_done=done, on_error=self.show_error)

    def on_export(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        if self.principal is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, self._titled("Export the board"), f"{self.principal.name} board.csv", "CSV (*.csv)")
        if path:
            self.export_to(path)

    def export_to(self, path: str) -> None:
        if self.principal is None:
            return
        principal_id = self.principal.id
        assert principal_id is not None  # principals come from the store

        def run(store: Store) -> int:
            from assistant.importing import board as board_io
            with private_files.exporting(path) as scratch, open(scratch, "w", encoding="utf-8", newline="") as f:
                count = board_io.export_csv(store, principal_id, f)
            return count

        def done(count: int) -> None:
            self.show_undo_bar(f"Wrote {count} cards to {path}.")
            self.undo_button.hide()

        self.tasks.run(run, on_done=done, on_error=self.show_error)

    def on_archive_setting(self) -> None:
        if self.principal is None:
            return
        days, ok = QInputDialog.getInt(self, self._titled("Archive Done cards"), "Archive cards done more than this many days ago:",
                                       board_store.DEFAULT_ARCHIVE_AFTER_DAYS, 0, 3650)
        if ok:
            self._column_op(board_store.set_archive_after_days, days)

    # -- columns ---------------------------------------------------------------------------------------------------------
    def _titled(self, title: str) -> str:
        """A dialog's title naming whose board it changes."""
        return f"{title} — {self.principal.name}" if self.principal is not None else title

    def _column_op(self, fn: Any, *args: Any) -> None:
        if self.principal is None:
            return
        principal_id = self.principal.id
        assert principal_id is not None  # principals come from the store
        self.tasks.run(lambda store: fn(store.scope(principal_id), *args),  # the board reloads from the change
                       on_error=self.show_error)

    def on_add_column(self) -> None:
        name, ok = QInputDialog.getText(self, self._titled("Add column"), "Column name:")
        if ok and name.strip():
            self._column_op(board_store.add_column, name.strip())

    def on_rename_column(self, column_id: int) -> None:
        name, ok = QInputDialog.getText(self, self._titled("Rename column"), "Column name:")
        if ok and name.strip():
            self._column_op(board_store.rename_column, column_id, name.strip())

    def on_remove_column(self, column_id: int, name: str) -> None:
        answer = QMessageBox.question(self, self._titled("Remove column"),
                                      f"Remove “{name}”? Its cards move to the first remaining column.")
        if answer == QMessageBox.StandardButton.Yes:
            self._column_op(board_store.remove_column, column_id)


# -- the main window's part ---------------------------------------------------------------------------------------------
# The board's keys: (command name, text, keys, area, what it does). "cards": while a card list has the focus; "board":
# anywhere in the Board tab (a text field keeps its own Ctrl+Z). Listed in the palette and the shortcut sheet.
BOARD_KEYS: list[tuple[str, str, list[KeySpec], str, Callable[[BoardView], object]]] = [
    ("board-new-card", "New card", ["N"], "cards", BoardView.on_new_card),
    ("board-open-card", "Open card", ["Return", "Enter"], "cards", BoardView.open_current),
    ("board-card-left", "Move card to the column on the left", ["H", "Ctrl+Left"], "cards",
     lambda view: view.move_current(-1)),
    ("board-card-right", "Move card to the column on the right", ["L", "Ctrl+Right"], "cards",
     lambda view: view.move_current(1)),
    ("board-delete-card", "Delete card", ["Del"], "cards", BoardView.delete_current),
    ("board-undo", "Undo on the board", [QKeySequence.StandardKey.Undo], "board", lambda view: view.undo_stack.undo()),
    ("board-redo", "Redo on the board", ["Ctrl+Shift+Z", "Ctrl+Y"], "board", lambda view: view.undo_stack.redo()),
]


def install_keys(window: Any, view: BoardView) -> None:
    """The board's keys as commands of the window's registry; they can run (and the palette lists them) while the
    Board tab is showing."""
    commands = window.commands
    commands.add_area("cards", "on the board's cards", view.columns_host)
    commands.add_area("board", "in the Board tab", view)
    commands.also_in("shortcut-sheet", "cards")
    actions = []
    for name, text, keys, area, run in BOARD_KEYS:
        actions.append(commands.add(name, text, lambda run=run: run(view), area=area, area_keys=keys, group="Board"))

    def on_view_changed(_index: int) -> None:
        for action in actions:
            action.setEnabled(window.views.currentWidget() is view)

    window.views.currentChanged.connect(on_view_changed)
    on_view_changed(window.views.currentIndex())


def install(window: Any) -> BoardView:
    """The Board tab, "task:" links, and "Make a task" (Ctrl+T) for the message or thread open in the inbox, or the event
    last opened on the Calendar tab when that tab is showing."""
    view = BoardView(window.tasks)
    window.add_view(view, "&Board")
    install_keys(window, view)
    shown: dict[str, int | None] = {"message": None}

    def on_principal_changed(_pid: int) -> None:
        shown["message"] = None
        view.set_principal(window.current_principal)

    def open_card(_principal_id: int, card_id: int | None) -> None:
        window.views.setCurrentWidget(view)
        if card_id is not None:
            view.reload(select_card_id=card_id)

    window.principal_changed.connect(on_principal_changed)
    window.register_link("task", open_card)
    view.link_activated.connect(window.open_link)
    view.error.connect(window.show_status)
    window.inbox.reader.message_shown.connect(lambda message_id: shown.__setitem__("message", message_id))

    picked: dict[str, Any] = {"event": None}  # the calendar's last opened event (an EventOccurrence)
    window.calendar.grid.event_activated.connect(lambda o: picked.__setitem__("event", o))
    window.calendar.header.event_activated.connect(lambda o: picked.__setitem__("event", o))
    window.calendar.agenda.occurrence_activated.connect(lambda o: picked.__setitem__("event", o))

    def make_task() -> None:
        principal = window.current_principal
        if principal is None:
            return
        message_id = shown["message"]
        row = window.inbox.threads.currentIndex().row()
        thread = window.inbox.model.thread_at(row) if row >= 0 else None
        event = picked["event"]
        if window.views.currentWidget() is window.calendar:
            if event is None or event.principal_id != principal.id:
                window.show_status("Open an event first.", 5000)
                return
            kind, ident = "event", event.event_id
        elif message_id is not None:
            kind, ident = "message", message_id
        elif thread is not None:
            kind, ident = "thread", thread.id
        else:
            window.show_status("Open a message or a thread first.", 5000)
            return

        def made(card: Card) -> None:
            window.show_status(f"Task “{card.title}” added to {principal.name}'s board.")
            view.reload(select_card_id=card.id)
            view.card_made.emit(card)

        window.tasks.run(lambda store: board.make_task_from(store, principal.id, kind, ident), on_done=made,
                         on_error=lambda e: window.show_error(describe_error(e)))

    action = QAction("Make a &task", window)
    action.setObjectName("make-task")
    action.setShortcut(QKeySequence("Ctrl+T"))
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.triggered.connect(make_task)
    window.add_message_action("make-task", action, separator=True)
    return view
