"""The inbox: a lazily paged thread list beside the reader, of one principal or of all of them.

In the All-principals list every row carries its principal's colour chip and name, and everything done from it — the
reader, read state, replies, archive and the other keys — acts as the thread's own principal, never another's."""
from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QKeyEvent, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from assistant.core import timezones
from assistant.domain import Folder, Principal, Thread
from assistant.store import Store
from assistant.store import mail as mail_store
from assistant.ui import style
from assistant.ui.mail.reader import Reader
from assistant.ui.widgets.tables import RowTableModel
from assistant.ui.workers import TaskManager

PAGE_SIZE = 100
ThreadIdRole = Qt.ItemDataRole.UserRole + 1
AnyIndex = QModelIndex | QPersistentModelIndex

FLAG_MARK = "\u2691"  # ⚑
ATTACHMENT_MARK = "\U0001F4CE"  # 📎
UNREAD_MARK = "\u25CF"  # ●
PENDING_MARK = "\u23F3"  # ⏳
FolderIdRole = Qt.ItemDataRole.UserRole + 2
FolderRoleRole = Qt.ItemDataRole.UserRole + 5  # the folder's role ("inbox", "archive", "trash", …) or None
ThreadRole = Qt.ItemDataRole.UserRole + 3  # the Thread itself, for the row's painter
PrincipalRole = Qt.ItemDataRole.UserRole + 4  # the thread's own Principal
INBOXES = "\x00inboxes"  # the All-principals folder list's "Inbox": every principal's inbox folders, not a remote id


def format_when(when: datetime | None, zone: str, now_utc: datetime | None = None) -> str:
    """A list date in the principal's zone: minutes ago within the hour, the time today, day and month this year,
    the full date before."""
    if when is None:
        return ""
    now_utc = now_utc or timezones.now_utc()
    local = timezones.in_zone(when, zone)
    now = timezones.in_zone(now_utc, zone)
    if local.date() == now.date():
        minutes = int((now_utc - when).total_seconds() // 60)
        if 0 <= minutes < 1:
            return "now"
        if 0 <= minutes < 60:
            return f"{minutes} min ago"
        return f"{local:%H:%M}"
    if local.year == now.year:
        return f"{local:%d %b}".lstrip("0")
    return f"{local:%Y-%m-%d}"


class ThreadListModel(RowTableModel[Thread]):
    """Threads of one principal, or of every principal (:meth:`set_all_principals`), newest first, read a page at a
    time as the view scrolls (``canFetchMore``).

    The view shows one column, painted in two lines by :class:`ThreadRowDelegate` from the row's thread; the other
    columns say the same in text (for tests, tooltips and screen readers). :meth:`principal_of` is each row's own
    principal: whose zone its date is in, whose names are not correspondents, as whom it is read and answered."""

    SUBJECT, PARTICIPANTS, DATE, MARKERS = range(4)
    headers = ("Subject", "From", "Date", "")
    threads_updated = Signal(object)  # ids of the threads whose rows :meth:`reload` updated in place

    def __init__(self, store: Store, parent=None):
        super().__init__(parent)
        self._store = store
        self._principal: Principal | None = None
        self._principals: dict[int, Principal] = {}  # every principal, by id, while the list is All principals
        self.inbox_only = False  # All principals: only threads in an inbox (else every thread)
        self._exhausted = True
        self._fetching = False
        self._search: str = ""
        self.folder: str | None = None  # a remote folder/label id; None = every thread
        self.pending_thread_ids: set[int] = set()  # threads with changes not yet pushed by a sync
        self._own_names: dict[int, set[str]] = {}  # by principal: their name and addresses, folded: not a correspondent
        self._bold = QFont()
        self._bold.setBold(True)

    # -- loading -------------------------------------------------------------------------------------------------
    @property
    def principal(self) -> Principal | None:
        """The principal whose list this is; None for the All-principals list (see :meth:`principal_of`)."""
        return self._principal

    @property
    def all_principals(self) -> bool:
        return bool(self._principals)

    def principal_of(self, thread: Thread) -> Principal | None:
        """The thread's own principal."""
        if self._principals:
            return self._principals.get(thread.principal_id)
        return self._principal if self._principal is not None and thread.principal_id == self._principal.id else None

    def listed_principals(self) -> list[Principal]:
        """Whose threads the list shows."""
        if self._principals:
            return list(self._principals.values())
        return [self._principal] if self._principal is not None else []

    def _page(self, offset: int, limit: int) -> list[Thread]:
        return self.page_reader(offset, limit)(self._store)

    def page_reader(self, offset: int, limit: int) -> Callable[[Store], list[Thread]]:
        """A read of rows ``offset`` to ``offset + limit`` of the list shown now, for any thread's store (the worker's:
        :meth:`InboxView.reload_list`); what it reads is fixed when it is made."""
        principal, every, folder, inbox_only = self._principal, bool(self._principals), self.folder, self.inbox_only

        def read(store: Store) -> list[Thread]:
            if every:
                return mail_store.threads_across_principals(store, offset, limit, inbox_only=inbox_only)
            if principal is None or principal.id is None:
                return []
            return mail_store.threads(store.scope(principal.id), offset, limit, folder=folder)

        return read

    def _set_names(self) -> None:
        self._own_names = {p.id: {n.casefold() for n in [p.name, *p.addresses]} for p in self.listed_principals()}

    @contextmanager
    def resetting(self) -> Iterator[None]:
        # Slots of modelReset (QAbstractItemModelTester's among them) may call fetchMore; rows inserted while they
        # run would be a change nested inside the reset.
        self._fetching = True
        try:
            with super().resetting():
                yield
        finally:
            self._fetching = False

    def set_rows(self, rows: Iterable[Thread]) -> None:
        """A fixed list of threads: no more pages to fetch."""
        with self.resetting():
            self.rows = list(rows)
            self._exhausted = True

    def set_principal(self, principal: Principal | None, folder: str | None = None) -> None:
        with self.resetting():
            self._principal, self._principals = principal, {}
            self._set_names()
            self.folder, self.inbox_only = folder, False
            self._search = ""
            self.rows = self._page(0, PAGE_SIZE)
            self._exhausted = len(self.rows) < PAGE_SIZE

    def set_all_principals(self, principals: Iterable[Principal], inbox_only: bool = True) -> None:
        """Every principal's threads in one list, newest first (only those in an inbox with ``inbox_only``)."""
        with self.resetting():
            self._principal = None
            self._principals = {p.id: p for p in principals if p.id}
            self._set_names()
            self.folder, self.inbox_only = None, inbox_only
            self._search = ""
            self.rows = self._page(0, PAGE_SIZE) if self._principals else []
            self._exhausted = len(self.rows) < PAGE_SIZE

    def update_principals(self, principals: Iterable[Principal]) -> None:
        """The All-principals list's principals as edited (names, colours, zones); the next read shows who is gone."""
        if self._principals:
            self._principals = {p.id: p for p in principals if p.id}
            self._set_names()
            if self.rows:
                self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, self.columnCount() - 1))

    def show_search_results(self, query: str, threads: list[Thread]) -> None:
        """Replace the paged list with a fixed result list (cleared by :meth:`reload` with no query)."""
        with self.resetting():
            self._search = query
            self.rows = list(threads)
            self._exhausted = True

    @property
    def search_query(self) -> str:
        return self._search

    def reload(self) -> None:
        """Re-read as many rows as are loaded now (after a sync or an action), from the top.

        When the threads listed are the same, in the same order (an action that changed a flag, or one whose rows
        :meth:`remove_threads` took out already), perhaps with more below, the rows are updated and appended instead
        of reset: the view keeps its selection and scroll and repaints only; :attr:`threads_updated` says which threads
        changed. Anything else resets."""
        keep = self.reload_size()
        self.apply_page(self._page(0, keep), keep)

    def reload_size(self) -> int:
        """How many rows :meth:`reload` reads: as many as are loaded, a page at least."""
        return max(PAGE_SIZE, len(self.rows))

    def apply_page(self, page: list[Thread], keep: int) -> None:
        """The first ``keep`` rows of the list as just read (at most ``keep``), applied as :meth:`reload` says."""
        old_ids = [t.id for t in self.rows]
        if self._search or [t.id for t in page[:len(old_ids)]] != old_ids:
            with self.resetting():
                self._search = ""
                self.rows = page
                self._exhausted = len(self.rows) < keep
            return
        changed = {new.id for old, new in zip(self.rows, page, strict=False) if old != new and new.id is not None}
        self._exhausted = len(page) < keep
        count = len(self.rows)
        self.rows[:count] = page[:count]
        if count:
            self.dataChanged.emit(self.index(0, 0), self.index(count - 1, self.columnCount() - 1))
        if len(page) > count:
            self.beginInsertRows(QModelIndex(), count, len(page) - 1)
            self.rows.extend(page[count:])
            self.endInsertRows()
        if changed:
            self.threads_updated.emit(changed)

    def remove_threads(self, thread_ids: set[int]) -> None:
        """Take these threads' rows out (an action moved them out of the list shown) without reading or resetting;
        the next :meth:`reload` says what the store has."""
        rows = [row for row, t in enumerate(self.rows) if t.id in thread_ids]
        while rows:  # each run of adjacent rows at once, from the bottom up
            last = first = rows.pop()
            while rows and rows[-1] == first - 1:
                first = rows.pop()
            self.beginRemoveRows(QModelIndex(), first, last)
            del self.rows[first:last + 1]
            self.endRemoveRows()

    def canFetchMore(self, parent: AnyIndex = QModelIndex()) -> bool:
        return not parent.isValid() and not self._exhausted and not self._fetching

    def fetchMore(self, parent: AnyIndex = QModelIndex()) -> None:
        if parent.isValid() or self._exhausted or self._fetching:
            return
        # Views (and QAbstractItemModelTester) may ask for more from inside the insertion signals: one fetch at a time.
        self._fetching = True
        try:
            page = self._page(len(self.rows), PAGE_SIZE)
            self._exhausted = len(page) < PAGE_SIZE
            if page:
                first = len(self.rows)
                self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
                self.rows.extend(page)
                self.endInsertRows()
        finally:
            self._fetching = False

    # -- model ---------------------------------------------------------------------------------------------------
    def header_data(self, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole and column == self.MARKERS:
            return "Unread, flagged, attachment"
        return super().header_data(column, role)

    def display(self, t: Thread, column: int) -> Any:
        if column == self.MARKERS:
            return "".join((
                PENDING_MARK if t.id in self.pending_thread_ids else "",
                UNREAD_MARK if t.unread_count else "",
                FLAG_MARK if t.is_flagged else "",
                ATTACHMENT_MARK if t.has_attachments else "",
            ))
        if column == self.PARTICIPANTS:
            return self.correspondents(t)
        if column == self.SUBJECT:
            subject = t.subject or "(no subject)"
            return f"{subject}  ({t.message_count})" if t.message_count > 1 else subject
        if column == self.DATE:
            return format_when(t.last_date_utc, self.zone_of(t))
        return None

    def zone_of(self, t: Thread) -> str:
        principal = self.principal_of(t)
        return principal.timezone if principal is not None else "UTC"

    def correspondents(self, t: Thread) -> str:
        """Who the thread is with: its participants but its principal (whose name is in every thread they answered);
        the principal only when nobody else wrote in it."""
        own = self._own_names.get(t.principal_id, set())
        others = [name for name in t.participants if name.casefold() not in own]
        return ", ".join(others or t.participants)

    def states(self, t: Thread) -> list[str]:
        marks = [("changes waiting to sync", t.id in self.pending_thread_ids), ("unread", t.unread_count),
                 ("flagged", t.is_flagged), ("has attachments", t.has_attachments)]
        return [name for name, on in marks if on]

    def full_date(self, t: Thread) -> str:
        principal = self.principal_of(t)
        if t.last_date_utc is None or principal is None:
            return ""
        local = timezones.in_zone(t.last_date_utc, principal.timezone)
        return f"{local:%A %d %B %Y %H:%M} ({principal.timezone})"

    def tag(self, t: Thread) -> str:
        """The principal a row is tagged with in the All-principals list ("" in one principal's own list)."""
        principal = self.principal_of(t) if self._principals else None
        return principal.name if principal is not None else ""

    def cell_data(self, t: Thread, column: int, role: int) -> Any:
        if role == ThreadRole:
            return t
        if role == PrincipalRole:
            return self.principal_of(t)
        if role == Qt.ItemDataRole.FontRole:
            return self._bold if t.unread_count else None
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == self.DATE:
                return self.full_date(t) or None
            if column == self.SUBJECT:
                lines = [t.subject or "(no subject)", f"With {self.correspondents(t)}", t.snippet, self.full_date(t),
                         ", ".join(self.states(t)).capitalize(), f"{self.tag(t)}'s mail" if self.tag(t) else ""]
                return "\n".join(line for line in lines if line)
            if column == self.MARKERS:
                return ", ".join(self.states(t)) or None
        if role == Qt.ItemDataRole.AccessibleTextRole and column == self.SUBJECT:
            count = f", {t.message_count} messages" if t.message_count > 1 else ""
            return ". ".join(part for part in (
                self.tag(t), ", ".join(self.states(t)).capitalize(), f"From {self.correspondents(t)}{count}",
                t.subject or "(no subject)", t.snippet, self.display(t, self.DATE)) if part)
        elif role == Qt.ItemDataRole.TextAlignmentRole and column in (self.MARKERS, self.DATE):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter) if column == self.DATE else int(
                Qt.AlignmentFlag.AlignCenter)
        elif role == ThreadIdRole:
            return t.id
        return None

    def thread_at(self, row: int) -> Thread | None:
        return self.row_at(row)

    def note_message_read(self, thread_id: int) -> None:
        """One more message of a thread was read: update its row without re-reading the list."""
        for row, thread in enumerate(self.rows):
            if thread.id == thread_id and thread.unread_count:
                thread.unread_count -= 1
                self.dataChanged.emit(self.index(row, 0), self.index(row, self.columnCount() - 1))
                return


@dataclass
class RowPiece:
    """One thing a thread row paints: a text (elided to its rect) or an icon, and where."""

    # "who", "count", "date", "subject", "snippet", "tag" (the principal), or an icon: "flag", "attachment", "pending"
    kind: str
    rect: QRect
    text: str = ""
    colour: str = ""  # the tag's: the principal's colour


class ThreadRowDelegate(QStyledItemDelegate):
    """A thread in two lines: who it is with (bold while unread) and how many messages, its state icons (waiting to
    sync, attachment, flag) and the date on the first; the subject, then the newest message's first words in grey, on
    the second. Painted from the row's thread with no widget per row, so only the rows in view cost anything.

    In the All-principals list the first line starts with the thread's principal as a tag — their colour chip and
    name on a tint of that colour — as wide as the longest name (at most a third of the row), so the tags and the
    correspondents each line up in a column."""

    PAD = 5
    GUTTER = 14  # left of the text: the unread dot
    ICON = 14
    CHIP = 8  # the principal's colour chip, in the tag
    TAG_PAD = 5  # inside the tag, left and right

    CACHED_ROWS = 2000  # rows whose laid-out pieces are kept (a few screens of each list shown lately)

    def __init__(self, model: ThreadListModel, parent=None):
        super().__init__(parent)
        self._model = model
        self._laid_out: OrderedDict[tuple, list[RowPiece]] = OrderedDict()  # by everything a row's pieces depend on
        self._bold_fonts: dict[str, QFont] = {}
        self._widest_names: dict[tuple[str, tuple[str, ...]], int] = {}  # the tag column's width, by font and names

    @classmethod
    def row_height(cls, metrics: QFontMetrics) -> int:
        return 2 * metrics.height() + 2 * cls.PAD + 3

    def _bold(self, font: QFont) -> QFont:
        bold = self._bold_fonts.get(font.key())
        if bold is None:
            bold = QFont(font)
            bold.setBold(True)
            self._bold_fonts[font.key()] = bold
        return bold

    def _widest(self, font: QFont, fm: QFontMetrics) -> int:
        names = tuple(p.name for p in self._model.listed_principals())
        key = (font.key(), names)
        if key not in self._widest_names:
            self._widest_names[key] = max((fm.horizontalAdvance(name) for name in names), default=0)
        return self._widest_names[key]

    def pieces(self, thread: Thread, rect: QRect, font: QFont) -> list[RowPiece]:
        """What the row of ``thread`` shows in ``rect``, each text elided to its room."""
        model = self._model
        fm = QFontMetrics(font)
        sfm = QFontMetrics(self._bold(font) if thread.unread_count else font)
        rect = rect.adjusted(self.PAD, self.PAD, -self.PAD, -self.PAD)
        line = fm.height()
        top, second = rect.top(), rect.top() + line + 3
        left, right = rect.left() + self.GUTTER, rect.right()
        when = format_when(thread.last_date_utc, model.zone_of(thread))
        date_width = sfm.horizontalAdvance(when)
        principal = model.principal_of(thread) if model.all_principals else None
        if principal is not None:
            widest = self._widest(font, fm) + 2  # elision's rounding
            extra = self.TAG_PAD + self.CHIP + 4 + self.TAG_PAD
            tag_width = min(widest + extra, (right - left) // 3)
            tag = fm.elidedText(principal.name, Qt.TextElideMode.ElideRight, max(0, tag_width - extra))
            pieces_before = [RowPiece("tag", QRect(left, top, tag_width, line), tag, principal.colour)]
            left += tag_width + 6
        else:
            pieces_before = []
        pieces = [RowPiece("date", QRect(right - date_width, top, date_width, line), when)]
        x = right - date_width - 8
        for name, on in (("flag", thread.is_flagged), ("attachment", thread.has_attachments),
                         ("pending", thread.id in model.pending_thread_ids)):
            if on:
                x -= self.ICON
                pieces.append(RowPiece(name, QRect(x, top + (line - self.ICON) // 2, self.ICON, self.ICON)))
                x -= 4
        count = f" ({thread.message_count})" if thread.message_count > 1 else ""
        count_width = fm.horizontalAdvance(count)
        room = max(0, x - 6 - left - count_width)
        who = sfm.elidedText(model.correspondents(thread), Qt.TextElideMode.ElideRight, room)
        pieces.append(RowPiece("who", QRect(left, top, room, line), who))
        if count:
            pieces.append(RowPiece("count", QRect(left + sfm.horizontalAdvance(who), top, count_width, line), count))
        pieces = pieces_before + pieces
        left = rect.left() + self.GUTTER  # the second line starts where the first did: the subject keeps its room
        width = right - left
        subject = sfm.elidedText(thread.subject or "(no subject)", Qt.TextElideMode.ElideRight, width)
        pieces.append(RowPiece("subject", QRect(left, second, width, line), subject))
        used = sfm.horizontalAdvance(subject) + fm.horizontalAdvance("  ")
        if thread.snippet and width - used > 4 * fm.averageCharWidth():
            snippet = fm.elidedText(thread.snippet, Qt.TextElideMode.ElideRight, width - used)
            pieces.append(RowPiece("snippet", QRect(left + used, second, width - used, line), snippet))
        return pieces

    def laid_out(self, thread: Thread, rect: QRect, font: QFont) -> list[RowPiece]:
        """:meth:`pieces`, kept per row: a repaint (the selection moving, a row taken out above, scrolling back, a list
        re-read with the same threads) measures and elides nothing again. Keyed by everything the pieces depend on —
        the thread's shown fields, its principal, the row's size and font, the minute (relative dates move on) — so a
        changed row is laid out afresh."""
        model = self._model
        principal = model.principal_of(thread)
        key = (
            thread.id, thread.subject, tuple(thread.participants), thread.message_count, thread.unread_count,
            thread.is_flagged, thread.has_attachments, thread.snippet, thread.last_date_utc,
            thread.id in model.pending_thread_ids, rect.width(), rect.height(), font.key(),
            int(time.time() // 60),
            None if principal is None else (principal.name, principal.colour, principal.timezone,
                                            tuple(principal.addresses)),
            tuple(p.name for p in model.listed_principals()) if model.all_principals else None,
        )
        pieces = self._laid_out.get(key)
        if pieces is None:
            pieces = self.pieces(thread, QRect(0, 0, rect.width(), rect.height()), font)
            self._laid_out[key] = pieces
            if len(self._laid_out) > self.CACHED_ROWS:
                self._laid_out.popitem(last=False)
        else:
            self._laid_out.move_to_end(key)
        x, y = rect.left(), rect.top()
        return [RowPiece(p.kind, p.rect.translated(x, y), p.text, p.colour) for p in pieces]

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        thread = index.data(ThreadRole)
        if not isinstance(thread, Thread):
            super().paint(painter, option, index)
            return
        widget, palette, state = option.widget, option.palette, option.state
        qstyle = widget.style() if widget is not None else QApplication.style()
        qstyle.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, widget)
        selected = bool(state & QStyle.StateFlag.State_Selected)
        group = QPalette.ColorGroup.Normal if state & QStyle.StateFlag.State_Active else QPalette.ColorGroup.Inactive
        ink = palette.color(group, QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        dim = palette.color(group, QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.PlaceholderText)
        font = option.font
        strong = self._bold(font) if thread.unread_count else font
        painter.save()
        if thread.unread_count:
            line = QFontMetrics(font).height()
            size = 8
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(palette.color(group, QPalette.ColorRole.HighlightedText if selected
                                           else QPalette.ColorRole.Highlight))
            painter.drawEllipse(option.rect.left() + self.PAD + (self.GUTTER - size) // 2 - 2,
                                option.rect.top() + self.PAD + (line - size) // 2, size, size)
        for piece in self.laid_out(thread, option.rect, font):
            if piece.kind == "tag":
                self._paint_tag(painter, piece, font, ink, selected)
                continue
            if not piece.text:
                colour = style.FLAG_COLOUR if piece.kind == "flag" and not selected else ink
                style.tinted_icon(piece.kind, colour).paint(painter, piece.rect)
                continue
            quiet = piece.kind in ("count", "snippet")
            painter.setFont(font if quiet else strong)
            painter.setPen(dim if quiet else ink)
            align = Qt.AlignmentFlag.AlignRight if piece.kind == "date" else Qt.AlignmentFlag.AlignLeft
            painter.drawText(piece.rect, align | Qt.AlignmentFlag.AlignVCenter, piece.text)
        painter.restore()

    def _paint_tag(self, painter: QPainter, piece: RowPiece, font: QFont, ink: QColor, selected: bool) -> None:
        """The principal's tag: a rounded tint of their colour, their chip, their name."""
        colour = QColor(piece.colour) if QColor.isValidColorName(piece.colour) else QColor(ink)
        tint = QColor(ink if selected else colour)
        tint.setAlphaF(0.22 if selected else 0.18)
        rect = piece.rect
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(tint)
        painter.drawRoundedRect(rect.adjusted(0, 1, 0, -1), 4, 4)
        chip = QRect(rect.left() + self.TAG_PAD, rect.top() + (rect.height() - self.CHIP) // 2, self.CHIP, self.CHIP)
        painter.setPen(colour.darker(130))
        painter.setBrush(colour)
        painter.drawEllipse(chip)
        painter.setFont(font)
        painter.setPen(ink)
        text_rect = rect.adjusted(self.TAG_PAD + self.CHIP + 4, 0, -self.TAG_PAD, 0)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, piece.text)


class ThreadTableView(QTableView):
    """The thread list with mail-client keys: j/k move, Enter opens. One column, each row painted in two lines."""

    open_requested = Signal(QModelIndex)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setAlternatingRowColors(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.verticalHeader().hide()
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setDefaultSectionSize(ThreadRowDelegate.row_height(self.fontMetrics()))
        self.horizontalHeader().hide()
        self.setAccessibleName("Threads")

    def setModel(self, model) -> None:
        super().setModel(model)
        self.setItemDelegate(ThreadRowDelegate(model, self))
        for column in (ThreadListModel.MARKERS, ThreadListModel.PARTICIPANTS, ThreadListModel.DATE):
            self.setColumnHidden(column, True)
        self.horizontalHeader().setSectionResizeMode(ThreadListModel.SUBJECT, QHeaderView.ResizeMode.Stretch)

    def move_current(self, step: int) -> None:
        model = self.model()
        if model is None or model.rowCount() == 0:
            return
        row = self.currentIndex().row()
        target = 0 if row < 0 else row + step
        if target >= model.rowCount() and model.canFetchMore(QModelIndex()):
            model.fetchMore(QModelIndex())
        self.select_row(max(0, min(target, model.rowCount() - 1)))

    def select_row(self, row: int) -> None:
        index = self.model().index(row, ThreadListModel.SUBJECT)
        self.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        )
        self.scrollTo(index)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, mods = event.key(), event.modifiers()
        plain = mods in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)
        if plain and key == Qt.Key.Key_J:
            self.move_current(1)
        elif plain and key == Qt.Key.Key_K:
            self.move_current(-1)
        elif plain and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.open_requested.emit(self.currentIndex())
        else:
            super().keyPressEvent(event)


class InboxView(QWidget):
    """Thread list and reader in a splitter; the current thread is shown in the reader as the selection moves.

    Read state follows the user, not the app: a thread the inbox selects by itself (the top one after switching
    principal or folder) is shown but not marked read until the user picks it, clicks or scrolls in it; re-reading
    the list (after a sync or an action) keeps the thread open without touching its read state; and when the thread
    being read leaves the list (archived, deleted, moved) the one below it is opened, so ``e e e`` triages.

    :meth:`show_all_principals` lists every principal's inbox at once; a thread is then shown in the reader as its own
    principal's (their colour and name above it), and :attr:`thread_principal_changed` says whose thread is open.
    """

    USER, PREVIEW, REFRESH = "user", "preview", "refresh"  # who moved the selection
    thread_principal_changed = Signal(object)  # the Principal whose thread the reader now shows
    ADVANCE_LOOKAHEAD = 200  # rows below (and above) the current one remembered across a reset, to advance to
    PAINT_FIRST_MS = 300  # how long the worker waits at most for a switched list's first paint

    def __init__(self, store: Store, tasks: TaskManager, parent=None):
        super().__init__(parent)
        self.setObjectName("inbox")
        self.model = ThreadListModel(store, self)
        self.threads = ThreadTableView(self)
        self.threads.setModel(self.model)
        self.reader = Reader(tasks, self)
        self._store = store
        self._tasks = tasks
        self._holding = False  # the worker waits for the list's next paint (:meth:`_paint_first`)
        self._reload_request = 0  # the newest :meth:`reload_list`; older answers are dropped
        self.folders = QListWidget(self)
        self.folders.setObjectName("folders")
        self.folders.setAccessibleName("Folders")
        self.folders.setMaximumWidth(220)
        self.folders.currentItemChanged.connect(self.on_folder_changed)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("inbox-splitter")
        self.splitter.addWidget(self.folders)
        self.splitter.addWidget(self.threads)
        self.splitter.addWidget(self.reader)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 4)
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)
        self._selection_by = self.USER
        self._current_thread_id: int | None = None
        self._below: list[int] = []  # ids of the threads listed below the current one before a reset, nearest first
        self._above: list[int] = []
        self._listing: tuple = ()  # whose list, which folder, which search: advancing makes sense only within one
        self.threads.selectionModel().currentRowChanged.connect(self.on_current_row_changed)
        self.threads.open_requested.connect(self.on_open_requested)
        self.threads.pressed.connect(lambda _index: self.reader.start_reading())
        self.model.modelAboutToBeReset.connect(self.on_model_about_to_be_reset)
        self.model.modelReset.connect(self.on_model_reset)
        self.model.threads_updated.connect(self.on_threads_updated)
        self.reader.message_marked_read.connect(lambda thread_id, _message_id: self.model.note_message_read(thread_id))
        self.splitter.setSizes([100, 460, 520])
        self._minute = QTimer(self)  # "12 min ago" moves on
        self._minute.setInterval(60_000)
        self._minute.timeout.connect(self.threads.viewport().update)
        self._minute.start()

    @contextmanager
    def _selecting(self, by: str) -> Iterator[None]:
        before, self._selection_by = self._selection_by, by
        try:
            yield
        finally:
            self._selection_by = before

    def _paint_first(self) -> None:
        """Another principal's list is about to show: the work the switch sets off on the worker (this thread's
        messages, the other tabs' pages) waits until the list is painted, at most :attr:`PAINT_FIRST_MS`. Run beside
        the painting, it takes turns at the interpreter with the GUI thread and the list shows later by its length."""
        if self._holding or not self.threads.isVisible() or not self._tasks.hold(self.PAINT_FIRST_MS / 1000):
            return
        self._holding = True
        self.threads.viewport().installEventFilter(self)
        QTimer.singleShot(self.PAINT_FIRST_MS, self._painted)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if self._holding and event.type() == QEvent.Type.Paint and watched is self.threads.viewport():
            QTimer.singleShot(0, self._painted)  # once this repaint has ended
        return False

    def _painted(self) -> None:
        if self._holding:
            self._holding = False
            self.threads.viewport().removeEventFilter(self)
            self._tasks.release()

    def set_principal(self, principal: Principal | None) -> None:
        self._paint_first()
        self.reader.clear()
        self.reader.show_owner(False)
        with self._selecting(self.PREVIEW):
            folder = self._fill_folders(principal)
            self.model.set_principal(principal, folder)
            self._current_thread_id = None
            if self.model.rowCount():
                self.threads.select_row(0)

    def show_all_principals(self, principals: list[Principal]) -> None:
        """Every principal's inbox in one list, newest first, each row tagged with its principal."""
        self._paint_first()
        self.reader.clear()
        self.reader.show_owner(True)
        with self._selecting(self.PREVIEW):
            self._fill_folders(None, every=True)
            self.model.set_all_principals(principals, inbox_only=True)
            self._current_thread_id = None
            if self.model.rowCount():
                self.threads.select_row(0)

    def _fill_folders(self, principal: Principal | None, every: bool = False,
                      read: list[Folder] | None = None) -> str | None:
        """The principal's folders/labels (a handful of rows); the inbox is chosen first. Returns its remote id.
        ``every``: the All-principals list's two, "Inbox" (every principal's inboxes, chosen) and "All mail"."""
        self.folders.blockSignals(True)
        self.folders.clear()
        chosen = None
        if every:
            for text, data, tip in (("All mail", None, "Every thread of every principal"),
                                    ("Inbox", INBOXES, "Every principal's inbox")):
                item = QListWidgetItem(text)
                item.setData(FolderIdRole, data)
                item.setToolTip(tip)
                self.folders.addItem(item)
            self.folders.setCurrentRow(1)
        elif principal is not None:
            everything = QListWidgetItem("All mail")
            everything.setData(FolderIdRole, None)
            self.folders.addItem(everything)
            chosen_item = everything
            for f in read if read is not None else mail_store.folders(self._store.scope(principal.id)):
                item = QListWidgetItem(f.name or f.remote_id)
                item.setData(FolderIdRole, f.remote_id)
                item.setData(FolderRoleRole, f.role)
                item.setToolTip(f.role or f.remote_id)
                self.folders.addItem(item)
                if f.role == "inbox" and chosen is None:
                    chosen, chosen_item = f.remote_id, item
            self.folders.setCurrentItem(chosen_item)
        self.folders.blockSignals(False)
        return chosen

    def refresh_folders(self, read: list[Folder] | None = None) -> None:
        """Re-read the folder list (an action may have made a folder), keeping the one shown; ``read``: the list as
        the worker read it."""
        if self.model.all_principals:
            return  # the All-principals list's two entries do not change
        shown = self.model.folder
        self._fill_folders(self.model.principal, read=read)
        self.folders.blockSignals(True)
        for row in range(self.folders.count()):
            if self.folders.item(row).data(FolderIdRole) == shown:
                self.folders.setCurrentRow(row)
        self.folders.blockSignals(False)

    def reload_list(self, folders: bool = False) -> None:
        """Re-read the list shown (and the folders with ``folders``) on the worker, then update it as
        :meth:`ThreadListModel.reload` does: after a sync or any change announced, the GUI thread reads nothing.
        The answer is dropped if another list (principal, folder, search) shows by then, or a newer reload was asked
        for; if more rows were fetched meanwhile, it is read again with them."""
        model = self.model
        self._reload_request += 1
        request, listing, keep = self._reload_request, self._list_shown(), model.reload_size()
        read_page = model.page_reader(0, keep)
        principal = model.principal if folders and not model.all_principals else None

        def read(store: Store) -> tuple[list[Thread], list[Folder] | None]:
            read_folders = mail_store.folders(store.scope(principal.id)) if principal and principal.id else None
            return read_page(store), read_folders

        def apply(result: tuple[list[Thread], list[Folder] | None]) -> None:
            if request != self._reload_request or listing != self._list_shown():
                return
            if model.reload_size() > keep:  # the user scrolled more in meanwhile: read them all again
                self.reload_list(folders)
                return
            page, read_folders = result
            if read_folders is not None:
                self.refresh_folders(read_folders)
            model.apply_page(page, keep)

        self._tasks.run(read, on_done=apply)

    def on_folder_changed(self, current: QListWidgetItem | None, _previous=None) -> None:
        principal = self.model.principal
        if current is None or (principal is None and not self.model.all_principals):
            return
        self.reader.clear()
        with self._selecting(self.PREVIEW):
            if principal is None:
                self.model.set_all_principals(self.model.listed_principals(),
                                              inbox_only=current.data(FolderIdRole) == INBOXES)
            else:
                self.model.set_principal(principal, current.data(FolderIdRole))
            self._current_thread_id = None
            if self.model.rowCount():
                self.threads.select_row(0)

    def select_folder(self, remote_id: str | None) -> None:
        for row in range(self.folders.count()):
            if self.folders.item(row).data(FolderIdRole) == remote_id:
                self.folders.setCurrentRow(row)
                return

    def _list_shown(self) -> tuple:
        principal = self.model.principal
        whose = "all" if self.model.all_principals else principal.id if principal else None
        return whose, self.model.folder, self.model.inbox_only, self.model.search_query

    def on_model_about_to_be_reset(self) -> None:
        self._current_thread_id, self._below, self._above = None, [], []
        self._listing = self._list_shown()
        if self._selection_by == self.PREVIEW:  # another principal or folder: nothing to keep
            return
        row = self.threads.currentIndex().row()
        current = self.model.thread_at(row)
        if current is None:
            return
        self._current_thread_id = current.id
        rows = self.model.rows
        self._below = [t.id for t in rows[row + 1:row + 1 + self.ADVANCE_LOOKAHEAD]]
        self._above = [t.id for t in reversed(rows[max(0, row - self.ADVANCE_LOOKAHEAD):row])]

    def on_model_reset(self) -> None:
        """Keep the thread being read when the list is re-read; if it has left the list, open the one that was below
        it (else above); clear the reader when none is left."""
        if self._current_thread_id is None:
            if self._selection_by != self.PREVIEW:
                self.reader.clear()
            return
        rows = {t.id: row for row, t in enumerate(self.model.rows)}
        if self._current_thread_id in rows:
            with self._selecting(self.REFRESH):
                self.threads.select_row(rows[self._current_thread_id])
            return
        for thread_id in (self._below + self._above) if self._listing == self._list_shown() else []:
            if thread_id in rows:
                with self._selecting(self.USER):
                    self.threads.select_row(rows[thread_id])
                return
        self.reader.clear()

    def on_threads_updated(self, thread_ids: set[int]) -> None:
        """Rows re-read in place (no reset): the thread being read is shown again if it changed, as after a reset."""
        row = self.threads.currentIndex().row()
        thread = self.model.thread_at(row)
        if thread is not None and thread.id in thread_ids and self.reader.thread_id == thread.id:
            self.reader.refresh_thread(thread)

    def leaves_list_when_moved_to(self, role: str) -> bool:
        """Whether threads moved to the folder of ``role`` ("archive", "trash") leave the list shown: every list of
        one folder but that one's, and the All-principals inboxes; not All mail, nor search results."""
        if self.model.search_query:
            return False
        if self.model.all_principals:
            return self.model.inbox_only
        if self.model.folder is None:
            return False
        item = self.folders.currentItem()
        if item is None or item.data(FolderIdRole) != self.model.folder:
            return False
        return item.data(FolderRoleRole) != role

    def take_out(self, thread_ids: set[int]) -> None:
        """Threads an action moves out of the list leave it now, before the store has them moved: if the thread being
        read is one of them, the nearest one below (else above) that stays is selected and opened, as the user's own
        choice (``e e e`` triages). The store's answer comes by :meth:`ThreadListModel.reload` after."""
        rows = self.model.rows
        current = self.threads.currentIndex().row()
        if 0 <= current < len(rows) and rows[current].id in thread_ids:
            below = [r for r in range(current + 1, len(rows)) if rows[r].id not in thread_ids]
            above = [r for r in range(current - 1, -1, -1) if rows[r].id not in thread_ids]
            if below or above:
                with self._selecting(self.USER):
                    self.threads.select_row((below or above)[0])
            else:
                self.threads.selectionModel().clear()
                self.reader.clear()
        self.model.remove_threads(thread_ids)

    def on_current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        thread = self.model.thread_at(current.row()) if current.isValid() else None
        principal = self.model.principal_of(thread) if thread is not None else None  # the thread's own, always
        if thread is None or principal is None:
            self.reader.clear()
        elif self._selection_by == self.REFRESH and self.reader.thread_id == thread.id:
            self.reader.refresh_thread(thread)
        else:
            self.reader.show_thread(principal, thread, reading=self._selection_by == self.USER)
            self.thread_principal_changed.emit(principal)

    def on_open_requested(self, index: QModelIndex) -> None:
        thread = self.model.thread_at(index.row())
        if thread is not None and self.reader.thread_id == thread.id:
            self.reader.start_reading()
        else:
            self.on_current_row_changed(index, QModelIndex())
        self.reader.setFocus()
