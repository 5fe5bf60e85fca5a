"""The inbox: a lazily paged thread list beside the reader."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from assistant.core import timezones
from assistant.domain import Message, Principal, Thread
from assistant.store import Store
from assistant.store import mail as mail_store
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


def format_when(when: datetime | None, zone: str, now_utc: datetime | None = None) -> str:
    """A list date in the principal's zone: time today, day and month this year, the full date before."""
    if when is None:
        return ""
    local = timezones.in_zone(when, zone)
    now = timezones.in_zone(now_utc or timezones.now_utc(), zone)
    if local.date() == now.date():
        return f"{local:%H:%M}"
    if local.year == now.year:
        return f"{local:%d %b}".lstrip("0")
    return f"{local:%Y-%m-%d}"


class ThreadListModel(RowTableModel[Thread]):
    """Threads of one principal, newest first, read a page at a time as the view scrolls (``canFetchMore``)."""

    MARKERS, PARTICIPANTS, SUBJECT, DATE = range(4)
    headers = ("", "From", "Subject", "Date")

    def __init__(self, store: Store, parent=None):
        super().__init__(parent)
        self._store = store
        self._principal: Principal | None = None
        self._exhausted = True
        self._fetching = False
        self._search: str = ""
        self.folder: str | None = None  # a remote folder/label id; None = every thread
        self.pending_thread_ids: set[int] = set()  # threads with changes not yet pushed by a sync
        self._bold = QFont()
        self._bold.setBold(True)

    # -- loading -------------------------------------------------------------------------------------------------
    @property
    def principal(self) -> Principal | None:
        return self._principal

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
            self._principal = principal
            self.folder = folder
            self._search = ""
            self.rows = []
            if principal:
                self.rows = mail_store.threads(self._store.scope(principal.id), 0, PAGE_SIZE, folder=folder)
            self._exhausted = len(self.rows) < PAGE_SIZE

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
        """Re-read as many rows as are loaded now (after a sync), from the top."""
        keep = max(PAGE_SIZE, len(self.rows))
        with self.resetting():
            self._search = ""
            self.rows = []
            self._exhausted = self._principal is None
            if self._principal is not None:
                self.rows = mail_store.threads(self._store.scope(self._principal.id), 0, keep, folder=self.folder)
                self._exhausted = len(self.rows) < keep

    def canFetchMore(self, parent: AnyIndex = QModelIndex()) -> bool:
        return not parent.isValid() and not self._exhausted and not self._fetching

    def fetchMore(self, parent: AnyIndex = QModelIndex()) -> None:
        if parent.isValid() or self._exhausted or self._fetching or self._principal is None:
            return
        # Views (and QAbstractItemModelTester) may ask for more from inside the insertion signals: one fetch at a time.
        self._fetching = True
        try:
            page = mail_store.threads(self._store.scope(self._principal.id), len(self.rows), PAGE_SIZE, folder=self.folder)
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
            return ", ".join(t.participants)
        if column == self.SUBJECT:
            subject = t.subject or "(no subject)"
            return f"{subject}  ({t.message_count})" if t.message_count > 1 else subject
        if column == self.DATE:
            return format_when(t.last_date_utc, self._principal.timezone if self._principal else "UTC")
        return None

    def cell_data(self, t: Thread, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.FontRole:
            return self._bold if t.unread_count else None
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == self.DATE and t.last_date_utc and self._principal:
                local = timezones.in_zone(t.last_date_utc, self._principal.timezone)
                return f"{local:%A %d %B %Y %H:%M} ({self._principal.timezone})"
            if column == self.SUBJECT:
                return t.snippet or None
            if column == self.MARKERS:
                marks = [("changes waiting to sync", t.id in self.pending_thread_ids), ("unread", t.unread_count), ("flagged", t.is_flagged), ("has attachments", t.has_attachments)]
                return ", ".join(name for name, on in marks if on) or None
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


class ThreadTableView(QTableView):
    """The thread list with mail-client keys: j/k move, Enter opens."""

    open_requested = Signal(QModelIndex)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setAlternatingRowColors(True)
        self.verticalHeader().hide()
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.horizontalHeader().setHighlightSections(False)
        self.setAccessibleName("Threads")

    def setModel(self, model) -> None:
        super().setModel(model)
        header = self.horizontalHeader()
        header.setSectionResizeMode(ThreadListModel.MARKERS, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(ThreadListModel.MARKERS, self.fontMetrics().horizontalAdvance("⏳●⚑📎") + 16)
        header.resizeSection(ThreadListModel.PARTICIPANTS, 180)
        header.setSectionResizeMode(ThreadListModel.SUBJECT, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(ThreadListModel.DATE, 80)

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
    """Thread list and reader in a splitter; the current thread is shown in the reader as the selection moves."""

    def __init__(self, store: Store, tasks: TaskManager, parent=None):
        super().__init__(parent)
        self.setObjectName("inbox")
        self.model = ThreadListModel(store, self)
        self.threads = ThreadTableView(self)
        self.threads.setModel(self.model)
        self.reader = Reader(tasks, self)
        self._store = store
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
        self.threads.selectionModel().currentRowChanged.connect(self.on_current_row_changed)
        self.threads.open_requested.connect(self.on_open_requested)
        self._current_thread_id: int | None = None
        self.model.modelAboutToBeReset.connect(self.on_model_about_to_be_reset)
        self.model.modelReset.connect(self.on_model_reset)
        self.reader.message_marked_read.connect(lambda thread_id, _message_id: self.model.note_message_read(thread_id))
        self.splitter.setSizes([110, 560, 420])

    def set_principal(self, principal: Principal | None) -> None:
        self.reader.clear()
        folder = self._fill_folders(principal)
        self.model.set_principal(principal, folder)
        self._current_thread_id = None
        if self.model.rowCount():
            self.threads.select_row(0)

    def _fill_folders(self, principal: Principal | None) -> str | None:
        """The principal's folders/labels (a handful of rows); the inbox is chosen first. Returns its remote id."""
        self.folders.blockSignals(True)
        self.folders.clear()
        chosen = None
        if principal is not None:
            everything = QListWidgetItem("All mail")
            everything.setData(FolderIdRole, None)
            self.folders.addItem(everything)
            chosen_item = everything
            for f in mail_store.folders(self._store.scope(principal.id)):
                item = QListWidgetItem(f.name or f.remote_id)
                item.setData(FolderIdRole, f.remote_id)
                item.setToolTip(f.role or f.remote_id)
                self.folders.addItem(item)
                if f.role == "inbox" and chosen is None:
                    chosen, chosen_item = f.remote_id, item
            self.folders.setCurrentItem(chosen_item)
        self.folders.blockSignals(False)
        return chosen

    def refresh_folders(self) -> None:
        """Re-read the folder list (an action may have made a folder), keeping the one shown."""
        shown = self.model.folder
        self._fill_folders(self.model.principal)
        self.folders.blockSignals(True)
        for row in range(self.folders.count()):
            if self.folders.item(row).data(FolderIdRole) == shown:
                self.folders.setCurrentRow(row)
        self.folders.blockSignals(False)

    def on_folder_changed(self, current: QListWidgetItem | None, _previous=None) -> None:
        principal = self.model.principal
        if current is None or principal is None:
            return
        self.reader.clear()
        self.model.set_principal(principal, current.data(FolderIdRole))
        self._current_thread_id = None
        if self.model.rowCount():
            self.threads.select_row(0)

    def select_folder(self, remote_id: str | None) -> None:
        for row in range(self.folders.count()):
            if self.folders.item(row).data(FolderIdRole) == remote_id:
                self.folders.setCurrentRow(row)
                return

    def on_model_about_to_be_reset(self) -> None:
        current = self.model.thread_at(self.threads.currentIndex().row())
        self._current_thread_id = current.id if current else None

    def on_model_reset(self) -> None:
        """Keep the thread being read when the list is re-read (after a sync), or clear the reader if it is gone."""
        if self._current_thread_id is None:
            self.reader.clear()
            return
        for row in range(self.model.rowCount()):
            thread = self.model.thread_at(row)
            if thread and thread.id == self._current_thread_id:
                self.threads.select_row(row)
                return
        self.reader.clear()

    def on_current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        thread = self.model.thread_at(current.row()) if current.isValid() else None
        principal = self.model.principal
        if thread is None or principal is None:
            self.reader.clear()
        else:
            self.reader.show_thread(principal, thread)

    def on_open_requested(self, index: QModelIndex) -> None:
        self.on_current_row_changed(index, QModelIndex())
        self.reader.setFocus()


def threads_from_messages(principal_id: int, messages: list[Message]) -> list[Thread]:
    """Search hits grouped by thread, newest first; the counts are of matching messages."""
    grouped: dict[int, list[Message]] = {}
    for m in messages:
        if m.thread_id is not None:
            grouped.setdefault(m.thread_id, []).append(m)
    threads = []
    for thread_id, hits in grouped.items():
        dated = [m.date_utc for m in hits if m.date_utc]
        senders = list(dict.fromkeys((m.sender.name or m.sender.email) for m in hits if m.sender))
        by_date = sorted(hits, key=lambda m: (m.date_utc is not None, m.date_utc or 0))
        oldest, newest = by_date[0], by_date[-1]
        threads.append(Thread(
            id=thread_id, principal_id=principal_id, subject=oldest.subject, last_date_utc=max(dated) if dated else None,
            message_count=len(hits), unread_count=sum(not m.is_read for m in hits),
            has_attachments=any(m.attachments for m in hits), is_flagged=any(m.is_flagged for m in hits),
            participants=senders[:4], snippet=newest.snippet,
        ))
    threads.sort(key=lambda t: (t.last_date_utc is not None, t.last_date_utc or 0), reverse=True)
    return threads
