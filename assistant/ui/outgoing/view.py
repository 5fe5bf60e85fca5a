"""The Outgoing tab: what will go out, this principal's or everyone's (each row tagged with its principal).

Four sections: **Drafts** (not submitted, revised, rejected, or approved with the send taken back), **Scheduled**
(send-later, and those whose time passed while the app was closed, with the send time in the principal's zone and
yours) and **Outbox** (queued — with *Undo send* while the undo window lasts — and failed, with the provider's reason
and *Retry send*), and **Changes**: every other change waiting for a provider (marks, moves, calendar writes…, see
``changes.py``), with *Retry* for a failed one. The selected draft is shown as it will be sent. Edit opens it in compose; Send now, Send later /
Reschedule, Cancel send, Undo send, Retry send and Delete call the approvals lifecycle on the worker. What is listed
is read by :func:`load_outgoing`, a plain function of the store."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabBar,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from assistant.core import timezones
from assistant.domain import Address, DraftState
from assistant.store import Store
from assistant.store.changes import Area
from assistant.ui.approvals.preview import DraftDetails, DraftPreview, both_times, load_details, send_progress
from assistant.ui.approvals.view import SendLaterDialog
from assistant.ui.outgoing.changes import ChangeRow, ChangesModel, load_changes
from assistant.ui.widgets.identity import ask_send_as
from assistant.ui.widgets.scoped import PrincipalScopedView
from assistant.ui.widgets.tables import RowTableModel
from assistant.ui.workers import TaskManager, describe_error

SECTIONS: dict[str, tuple[DraftState, ...]] = {
    "drafts": (DraftState.DRAFT, DraftState.REVISED, DraftState.REJECTED, DraftState.APPROVED),
    "scheduled": (DraftState.SCHEDULED, DraftState.NEEDS_CONFIRMATION),
    "outbox": (DraftState.SENDING, DraftState.FAILED),
}
TITLES = {"drafts": "Drafts", "scheduled": "Scheduled", "outbox": "Outbox", "changes": "Changes"}
TABS = (*SECTIONS, "changes")  # the section tabs: the draft sections, then the other changes
EDITABLE = {DraftState.DRAFT, DraftState.REVISED, DraftState.REJECTED, DraftState.APPROVED, DraftState.SCHEDULED,
            DraftState.NEEDS_CONFIRMATION, DraftState.FAILED}
WARNING = "#c2410c"


@dataclass
class OutgoingRow:
    principal_id: int
    principal: str
    colour: str
    zone: str
    draft_id: int
    section: str  # a key of SECTIONS
    state: DraftState
    subject: str
    sender: str  # "Name <address>" of the account it goes from
    to: str  # every recipient, To then Cc, in full
    when_utc: datetime | None  # drafts: last edited; scheduled: the send time; outbox: when it goes (or went wrong)
    to_names: str = ""  # the recipients by name where they have one (the list's column)
    send_where: str = ""  # "server": the provider holds it; "app": this app sends it
    undo_until: datetime | None = None  # queued: it can be taken back until then
    error: str = ""  # failed: why; queued: why it has not gone yet
    comment: str = ""  # the principal's comment (a rejection's reason)
    attachments: int = 0


def section_of(state: str) -> str | None:
    return next((name for name, states in SECTIONS.items() if state in states), None)


def load_outgoing(store: Store, principal_id: int | None, now: datetime | None = None) -> list[OutgoingRow]:
    """Drafts, scheduled sends and the outbox of one principal, or of all (``None``), each row labelled with its
    principal. Drafts newest first, scheduled by send time, the outbox failed first. Runs on the worker thread."""
    from assistant.approvals import lifecycle
    from assistant.store import drafts as sql

    now = now or timezones.now_utc()
    principals = {p.id: p for p in store.principals()}
    accounts: dict[int, str] = {}
    rows: list[OutgoingRow] = []
    states = [state for states in SECTIONS.values() for state in states]
    for pid, d in sql.cross_principal_queue(store, states):
        if principal_id is not None and pid != principal_id:
            continue
        p = principals[pid]
        if d.account_id not in accounts:
            accounts[d.account_id] = store.account(d.account_id).address or p.primary_address
        section = section_of(d.state)
        assert section is not None  # read by these states
        row = OutgoingRow(
            principal_id=pid, principal=p.name, colour=p.colour, zone=p.timezone, draft_id=d.id, section=section,
            state=d.state, subject=d.subject, sender=str(Address(p.name, accounts[d.account_id])),
            to=", ".join(str(a) for a in d.to + d.cc), to_names=", ".join(a.name or a.email for a in d.to + d.cc),
            when_utc=d.updated_utc, send_where=d.send_where,
            comment=d.comment if d.state == DraftState.REJECTED else "", attachments=len(d.attachments),
        )
        if section == "scheduled":
            row.when_utc = d.send_at_utc
        elif d.state == DraftState.SENDING:
            row.undo_until, row.error = send_progress(store, pid, d.id, now)
            row.when_utc = row.undo_until or d.updated_utc
        elif d.state == DraftState.FAILED:
            row.error = lifecycle.failure(store, pid, d.id) or "refused by the provider"
        rows.append(row)

    def order(r: OutgoingRow) -> tuple:
        when = r.when_utc.timestamp() if r.when_utc else 0.0
        if r.section == "drafts":
            return (0, -when, -r.draft_id)
        if r.section == "scheduled":
            return (1, when, r.draft_id)
        return (2, r.state != DraftState.FAILED, when, r.draft_id)

    return sorted(rows, key=order)


def seconds_left(until: datetime, now: datetime) -> str:
    """What is left of an undo window: "8 s", "14 min 55 s"."""
    left = max(1, int((until - now).total_seconds() + 0.999))
    return f"{left} s" if left < 60 else f"{left // 60} min {left % 60:02d} s"


def state_text(r: OutgoingRow, now: datetime) -> str:
    if r.state == DraftState.REJECTED:
        return f"rejected: “{r.comment}”" if r.comment else "rejected"
    if r.state == DraftState.APPROVED:
        return "approved, not sent"
    if r.state == DraftState.SCHEDULED:
        return "held by the provider" if r.send_where == "server" else "scheduled"
    if r.state == DraftState.NEEDS_CONFIRMATION:
        return "time passed — confirm"
    if r.state == DraftState.SENDING:
        if r.undo_until is not None and r.undo_until > now:
            return f"sending in {seconds_left(r.undo_until, now)}"
        return f"sending — {r.error}" if r.error else "sending"
    if r.state == DraftState.FAILED:
        return f"failed: {r.error}"
    return r.state.replace("-", " ")


def state_tip(r: OutgoingRow, now: datetime) -> str:
    """The State column's tooltip: what the state means for the assistant."""
    text = state_text(r, now)
    if r.state == DraftState.SCHEDULED:
        return "The provider holds it and sends it at its time, with the laptop closed" if r.send_where == "server" \
            else "This app sends it at its time: it must be running then (if not, it waits for your confirmation)"
    if r.state == DraftState.NEEDS_CONFIRMATION:
        return "Its send time passed while the app was closed: Send now, or Reschedule"
    if r.state == DraftState.SENDING and r.undo_until is not None and r.undo_until > now:
        return f"{text}: Undo send takes it back until then"
    if r.state == DraftState.REVISED:
        return "Changed since it was submitted: it needs the principal's approval again"
    return text


class OutgoingModel(RowTableModel[OutgoingRow]):
    WHEN = {"drafts": "Edited (their time)", "scheduled": "Sends (their time)", "outbox": "When (their time)"}

    def __init__(self, parent=None):
        super().__init__(parent)
        self.section = "drafts"
        self.now = timezones.now_utc()
        self.headers = ("Principal", "Subject", "To", self.WHEN["drafts"], "Your time", "State")

    def show_section(self, section: str, rows: list[OutgoingRow], now: datetime | None = None) -> None:
        with self.resetting():
            self.section, self.now = section, now or timezones.now_utc()
            self.rows = [r for r in rows if r.section == section]
            self.headers = ("Principal", "Subject", "To", self.WHEN[section], "Your time", "State")

    def tick(self, now: datetime) -> None:
        """The time now, for the undo countdown in the State column."""
        self.now = now
        if self.rows:
            self.dataChanged.emit(self.index(0, 5), self.index(len(self.rows) - 1, 5), [Qt.ItemDataRole.DisplayRole])

    def display(self, r: OutgoingRow, column: int) -> Any:
        theirs, mine = both_times(r.when_utc, r.zone) if r.when_utc else ("", "")
        subject = (r.subject or "(no subject)") + (" \U0001F4CE" if r.attachments else "")
        return [r.principal, subject, r.to_names or r.to, theirs, mine, state_text(r, self.now)][column]

    def cell_data(self, r: OutgoingRow, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            return QColor(r.colour)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == 0:
                return f"From {r.sender}"
            if column == 2:
                return r.to
            if column == 5:
                return state_tip(r, self.now)
            if column in (3, 4) and r.when_utc:
                theirs, mine = both_times(r.when_utc, r.zone)
                what = {DraftState.FAILED: "Failed", DraftState.SENDING: "Goes out"}.get(r.state, "")
                return f"{what + ' ' if what else ''}{theirs} in {r.zone} (their time) · {mine} yours"
            return None
        if role == Qt.ItemDataRole.ForegroundRole and column == 5 and (
                r.state in (DraftState.FAILED, DraftState.NEEDS_CONFIRMATION) or r.error):
            return QBrush(QColor(WARNING))
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{r.principal}: {r.subject or 'no subject'} to {r.to}, {state_text(r, self.now)}"
        return None


class OutgoingView(PrincipalScopedView):
    loaded = Signal()
    preview_loaded = Signal()
    acted = Signal(int, str)  # draft id, the draft's state afterwards (or "deleted")
    retried = Signal(int)  # a failed send queued again: the window syncs to send it
    change_retried = Signal(int)  # a failed change (outbox entry id) queued again: the window syncs to send it
    changes_loaded = Signal()
    open_draft = Signal(int, int)  # principal id, draft id: the window opens it in compose

    def __init__(self, tasks: TaskManager, parent: QWidget | None = None):
        super().__init__(tasks, "Show what goes out for all principals", parent)
        self.rows: list[OutgoingRow] = []
        self.changes: list[ChangeRow] = []
        self._follow: int | None = None  # a draft just acted on: shown wherever it went (Outbox, for its Undo)
        self.confirm_box: QMessageBox | None = None
        self.principal_box: QMessageBox | None = None  # Send now's wrong-principal question, while it is open
        self.dialog: SendLaterDialog | None = None

        self.summary = QLabel()
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.reload)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.all_principals)
        top.addWidget(self.refresh_button)

        self.sections = QTabBar()
        self.sections.setObjectName("outgoing-sections")
        self.sections.setAccessibleName("Drafts, scheduled, outbox or other changes")
        self.sections.setExpanding(False)
        self.sections.setDrawBase(False)
        for key in TABS:
            index = self.sections.addTab(TITLES[key])
            self.sections.setTabData(index, key)
        self.sections.currentChanged.connect(lambda _index: self._show_rows())

        self.model = OutgoingModel(self)
        self.table = QTableView()
        self.table.setObjectName("outgoing")
        self.table.setAccessibleName("Messages that will go out")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)  # the subject takes what the others leave
        for column, width in enumerate((130, 0, 150, 150, 100, 150)):
            if width:
                self.table.setColumnWidth(column, width)
        self.table.selectionModel().currentRowChanged.connect(self.on_row_changed)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.table.doubleClicked.connect(lambda _index: self.on_edit())
        self.table.installEventFilter(self)  # Delete on a row deletes it; Enter edits it

        self.changes_model = ChangesModel(self)
        self.changes_table = QTableView()
        self.changes_table.setObjectName("outgoing-changes")
        self.changes_table.setAccessibleName("Other changes waiting for the provider")
        self.changes_table.setModel(self.changes_model)
        self.changes_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.changes_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.changes_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.changes_table.verticalHeader().hide()
        self.changes_table.setWordWrap(False)
        changes_header = self.changes_table.horizontalHeader()
        changes_header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        changes_header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        changes_header.setStretchLastSection(False)
        for column, width in enumerate((130, 0, 170, 150, 100, 200)):
            if width:
                self.changes_table.setColumnWidth(column, width)
        self.changes_table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.changes_empty = QLabel("Nothing else is waiting: every mark, move and calendar change has reached its "
                                    "provider. What the next sync still has to send is listed here, and what a "
                                    "provider refused, with its reason and Retry.")
        self.changes_empty.setObjectName("outgoing-changes-empty")
        self.changes_empty.setWordWrap(True)
        self.changes_empty.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.changes_empty.setContentsMargins(8, 8, 8, 8)
        self.lists = QStackedWidget()
        self.lists.addWidget(self.table)
        self.lists.addWidget(self.changes_table)
        self.lists.addWidget(self.changes_empty)

        self.edit_button = QPushButton("Edit…")
        self.edit_button.setToolTip("Open it in a compose window (a change needs the principal's approval again)")
        self.send_now_button = QPushButton("Send now")
        self.send_now_button.setToolTip("Send it now, after the undo window — or ask approval first if the "
                                        "principal's policy says so")
        self.later_button = QPushButton("Send later…")
        self.cancel_button = QPushButton("Cancel send")
        self.cancel_button.setToolTip("Keep it as an approved draft instead of sending it")
        self.undo_button = QPushButton("Undo send")
        self.undo_button.setToolTip("Take it back before it goes: it returns to Drafts, approved")
        self.retry_button = QPushButton("Retry send")
        self.retry_button.setToolTip("Send the same message again with the next sync")
        self.delete_button = QPushButton("Delete…")
        self.retry_change_button = QPushButton("Retry")
        self.retry_change_button.setToolTip("The provider refused this change: send it again with the next sync")
        self.retry_change_button.clicked.connect(self.on_retry_change)
        self.edit_button.clicked.connect(self.on_edit)
        self.send_now_button.clicked.connect(self.on_send_now)
        self.later_button.clicked.connect(self.on_send_later)
        self.cancel_button.clicked.connect(self.on_cancel)
        self.undo_button.clicked.connect(self.on_undo)
        self.retry_button.clicked.connect(self.on_retry)
        self.delete_button.clicked.connect(self.on_delete)
        self.action_row_buttons = (self.undo_button, self.retry_button, self.retry_change_button, self.edit_button,
                                   self.send_now_button, self.later_button, self.cancel_button, self.delete_button)
        self.action_row = actions = QHBoxLayout()
        for button in self.action_row_buttons[:-1]:
            actions.addWidget(button)
        actions.addStretch(1)
        actions.addWidget(self.delete_button)

        self.preview = DraftPreview()
        self.status = QLabel()
        self.status.setObjectName("outgoing-status")
        self.status.setWordWrap(True)

        upper = QWidget()
        upper_layout = QVBoxLayout(upper)
        upper_layout.setContentsMargins(0, 0, 0, 0)
        upper_layout.addLayout(top)
        upper_layout.addWidget(self.sections)
        upper_layout.addWidget(self.lists, 1)
        upper_layout.addLayout(actions)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(upper)
        splitter.addWidget(self.preview)
        splitter.setSizes([360, 240])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)

        self.countdown = QTimer(self)
        self.countdown.setInterval(1000)
        self.countdown.timeout.connect(self.on_tick)
        self._update_buttons()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Delete and Enter act on the selected row while the table has focus (before any window-wide shortcut)."""
        if watched is self.table and isinstance(event, QKeyEvent) and \
                event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Return, Qt.Key.Key_Enter) and \
                event.modifiers() in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier):
            if event.type() == QEvent.Type.ShortcutOverride:
                event.accept()
                return True
            if event.type() == QEvent.Type.KeyPress:
                if event.key() == Qt.Key.Key_Delete:
                    self.on_delete()
                else:
                    self.on_edit()
                return True
        return super().eventFilter(watched, event)

    # -- loading ---------------------------------------------------------------------------------------------------
    # Sends go out and fail with syncs: read again whenever it is shown, and when drafts or the outbox change
    # (PrincipalScopedView).
    AREAS = (Area.DRAFTS, Area.OUTBOX)

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self.countdown.stop()  # shown again, it reads again and counts from there

    def reload(self) -> None:
        if self.tasks.closed:  # the window is closing: the worker is gone
            self.countdown.stop()
        super().reload()

    def load(self, store: Store, principal_id: int | None) -> tuple[list[OutgoingRow], list[ChangeRow]]:
        return load_outgoing(store, principal_id), load_changes(store, principal_id)

    def empty(self) -> tuple[list[OutgoingRow], list[ChangeRow]]:
        return [], []

    def on_load_error(self, error: BaseException) -> None:
        self._on_error(error)

    def current_section(self) -> str:
        return self.sections.tabData(self.sections.currentIndex()) or "drafts"

    def show_section(self, section: str) -> None:
        self.sections.setCurrentIndex(TABS.index(section))

    def show_loaded(self, loaded: tuple[list[OutgoingRow], list[ChangeRow]]) -> None:
        rows, self.changes = loaded
        self.rows = rows
        n = {key: sum(1 for r in rows if r.section == key) for key in SECTIONS}
        failed = sum(1 for r in rows if r.state == DraftState.FAILED)
        for index, key in enumerate(SECTIONS):
            self.sections.setTabText(index, f"{TITLES[key]} ({n[key]})" if n[key] else TITLES[key])
            has_failed = key == "outbox" and failed > 0
            self.sections.setTabTextColor(index, QColor(WARNING) if has_failed else QColor())  # invalid: the palette's
        changes_index, changes_failed = TABS.index("changes"), sum(1 for c in self.changes if c.state == "failed")
        self.sections.setTabText(changes_index, f"{TITLES['changes']} ({len(self.changes)})" if self.changes
                                 else TITLES["changes"])
        self.sections.setTabTextColor(changes_index, QColor(WARNING) if changes_failed else QColor())
        whose = "all principals" if self.all_principals.isChecked() else "this principal"
        counts = f"{n['drafts']} draft{'s' if n['drafts'] != 1 else ''} · {n['scheduled']} scheduled · " \
                 f"{n['outbox']} in the outbox" + (f" ({failed} failed)" if failed else "")
        if self.changes:
            counts += f" · {len(self.changes)} other change{'s' if len(self.changes) != 1 else ''}" + \
                (f" ({changes_failed} failed)" if changes_failed else "")
        self.summary.setText(f"{counts} — {whose}" if rows or self.changes else
                             f"Nothing waiting to go out for {whose}.")
        follow = next((r for r in rows if r.draft_id == self._follow), None) if self._follow is not None else None
        if follow is not None and follow.section != self.current_section():
            self.show_section(follow.section)  # its _show_rows selects it
        else:
            self._show_rows()
        self._follow = None
        self.loaded.emit()

    def _show_rows(self) -> None:
        if self.current_section() == "changes":
            self._show_changes()
            return
        self.lists.setCurrentWidget(self.table)
        self.preview.show()
        selected = self.current_row()
        keep = self._follow if self._follow is not None else selected.draft_id if selected else None
        section = self.current_section()
        self.model.show_section(section, self.rows, timezones.now_utc())
        for row in range(self.model.rowCount()):
            r = self.model.row_at(row)
            if r is not None and r.draft_id == keep:
                self.table.selectRow(row)
                break
        if self.current_row() is None:
            self.preview.show_details(None)
            if self.model.rowCount() == 0:
                self.preview.setHtml(f"<p><i>{self._empty_text(section)}</i></p>")
        if any(r.undo_until is not None for r in self.rows):
            self.countdown.start()
        else:
            self.countdown.stop()
        self._update_buttons()

    def _show_changes(self) -> None:
        kept = self.current_change()
        self.table.clearSelection()  # no draft is acted on from here
        self.changes_model.set_changes(self.changes, timezones.now_utc())
        for row, change in enumerate(self.changes):
            if kept is not None and change.entry_id == kept.entry_id:
                self.changes_table.selectRow(row)
                break
        self.lists.setCurrentWidget(self.changes_table if self.changes else self.changes_empty)
        self.preview.hide()  # a mark or a move has no message to preview: the row says it all
        self.countdown.stop()
        self._update_buttons()
        self.changes_loaded.emit()

    def current_change(self) -> ChangeRow | None:
        if self.current_section() != "changes":
            return None
        rows = self.changes_table.selectionModel().selectedRows()
        return self.changes_model.row_at(rows[0].row()) if rows else None

    def on_retry_change(self) -> None:
        change = self.current_change()
        if change is None or change.state != "failed":
            return
        entry_id = change.entry_id

        def retry(store: Store) -> bool:
            from assistant.sync.actions import retry_outbox_entry

            return retry_outbox_entry(store, entry_id)

        def done(queued: bool) -> None:
            self.status.setText(f"{change.what} — {change.principal}: queued again; it goes with the next sync."
                                if queued else f"{change.what} — {change.principal}: it had not failed.")
            if queued:
                self.change_retried.emit(entry_id)

        self.tasks.run(retry, on_done=done, on_error=self._on_error)

    @staticmethod
    def _empty_text(section: str) -> str:
        return {
            "drafts": "No drafts. Replies you write are kept here until they are sent (Ctrl+N writes a new one).",
            "scheduled": "Nothing scheduled. Use “Send later…” in a compose window or on a draft.",
            "outbox": "The outbox is empty: everything sent has gone.",
        }[section]

    def on_tick(self) -> None:
        now = timezones.now_utc()
        self.model.tick(now)
        self._update_buttons()
        if any(r.undo_until is not None and r.undo_until <= now for r in self.rows):
            self.reload()  # a window has closed: the row says "sending" now, and Undo goes

    def current_row(self) -> OutgoingRow | None:
        if self.current_section() == "changes":
            return None
        index = self.table.selectionModel().currentIndex()
        if not index.isValid() or not self.table.selectionModel().isRowSelected(index.row(), QModelIndex()):
            return None
        return self.model.row_at(index.row())

    def on_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._update_buttons()
        row = self.model.row_at(current.row()) if current.isValid() else None
        if row is None:
            return
        self.tasks.run(lambda store: load_details(store, row.principal_id, row.draft_id),
                       on_done=lambda details: self._apply_details(row, details), on_error=self._on_error)

    def _apply_details(self, row: OutgoingRow, details: DraftDetails) -> None:
        current = self.current_row()
        if current is None or current.draft_id != row.draft_id:
            return
        self.preview.show_details(details)
        self.preview_loaded.emit()

    def _update_buttons(self) -> None:
        section, row = self.current_section(), self.current_row()
        state = row.state if row is not None else None
        now = timezones.now_utc()
        visible = {
            "drafts": (self.edit_button, self.send_now_button, self.later_button, self.delete_button),
            "scheduled": (self.edit_button, self.send_now_button, self.later_button, self.cancel_button,
                          self.delete_button),
            "outbox": (self.undo_button, self.retry_button, self.edit_button, self.delete_button),
            "changes": (self.retry_change_button,),
        }[section]
        shown_before = [b for b in self.action_row_buttons if not b.isHidden()]
        for button in self.action_row_buttons:
            button.setVisible(button in visible)
        if shown_before != [b for b in self.action_row_buttons if not b.isHidden()]:
            self.action_row.invalidate()  # a layout keeps the hidden buttons' widths until told (the window's minimum)
        self.later_button.setText("Reschedule…" if section == "scheduled" else "Send later…")
        can_undo = row is not None and row.undo_until is not None and row.undo_until > now
        self.undo_button.setText(f"Undo send ({seconds_left(row.undo_until, now)})"
                                 if can_undo and row is not None and row.undo_until is not None else "Undo send")
        self.edit_button.setEnabled(state in EDITABLE)
        self.send_now_button.setEnabled(state is not None and state not in (DraftState.SENDING, DraftState.FAILED))
        self.later_button.setEnabled(state is not None and state not in (DraftState.SENDING, DraftState.FAILED))
        self.cancel_button.setEnabled(state in (DraftState.SCHEDULED, DraftState.NEEDS_CONFIRMATION))
        self.undo_button.setEnabled(can_undo)
        self.retry_button.setEnabled(state == DraftState.FAILED)
        self.delete_button.setEnabled(row is not None and (state != DraftState.SENDING or can_undo))
        change = self.current_change()
        self.retry_change_button.setEnabled(change is not None and change.state == "failed")

    # -- actions -------------------------------------------------------------------------------------------------
    def _run(self, row: OutgoingRow, fn, done_text, *, after=None) -> None:
        """``fn(store)`` on the worker; then the status line says ``done_text(result)`` and the draft is followed to
        wherever it went."""

        def done(result: Any) -> None:
            self._follow = row.draft_id
            self.status.setText(done_text(result))
            self.acted.emit(row.draft_id, str(result))
            if after is not None:
                after(result)

        self.tasks.run(fn, on_done=done, on_error=self._on_error)

    def _says(self, row: OutgoingRow, state: str) -> str:
        what = f"“{row.subject or '(no subject)'}” for {row.principal}"
        texts: dict[str, str] = {
            DraftState.SENDING: f"{what} goes out in a moment — Undo send is in the Outbox until then.",
            DraftState.AWAITING_APPROVAL: f"{what}: {row.principal}'s approval was asked first (their policy).",
            DraftState.SCHEDULED: f"{what} is scheduled.",
            DraftState.APPROVED: f"{what} will not be sent: it is back in Drafts, approved.",
            DraftState.NEEDS_CONFIRMATION: f"{what}: its time has passed — send it now or reschedule it.",
        }
        return texts.get(state, f"{what}: {state.replace('-', ' ')}.")

    def on_edit(self) -> None:
        row = self.current_row()
        if row is not None and row.state in EDITABLE:
            self.open_draft.emit(row.principal_id, row.draft_id)

    def on_send_now(self) -> None:
        row = self.current_row()
        if row is None or row.state in (DraftState.SENDING, DraftState.FAILED):
            return

        def send(store: Store) -> str:
            from assistant.approvals import drafts, lifecycle

            if row.state == DraftState.NEEDS_CONFIRMATION:
                return lifecycle.confirm_late_send(store, row.principal_id, row.draft_id)
            if row.state == DraftState.SCHEDULED:
                return lifecycle.schedule(store, row.principal_id, row.draft_id, timezones.now_utc())
            return drafts.submit_draft(store, row.principal_id, row.draft_id)

        self.guarded(row, lambda: self._run(row, send, lambda state: self._says(row, state)))

    def guarded(self, row: OutgoingRow, proceed) -> None:
        """Before a send, the wrong-principal guard again (``approvals.guard``, read on the worker): the draft may
        have been made before the guard, or changed since compose asked. When it speaks, one question (Send anyway /
        Cancel) and ``proceed()`` only on Send anyway."""

        def check(store: Store) -> str | None:
            from assistant.approvals.guard import check_draft

            return check_draft(store, row.principal_id, row.draft_id)

        def cancelled() -> None:
            self.principal_box = None
            self.status.setText(f"Not sent: “{row.subject or '(no subject)'}” is still "
                                f"{'a draft' if row.section == 'drafts' else 'waiting'} for {row.principal}.")

        def went_on() -> None:
            self.principal_box = None
            proceed()

        def checked(warning: str | None) -> None:
            if not warning:
                proceed()
                return
            self.principal_box = ask_send_as(self, row.principal, row.colour, warning, went_on, cancelled)

        self.tasks.run(check, on_done=checked, on_error=self._on_error)

    def on_send_later(self) -> SendLaterDialog | None:
        row = self.current_row()
        if row is None or row.state in (DraftState.SENDING, DraftState.FAILED):
            return None
        when = "tomorrow 9:00"
        if row.section == "scheduled" and row.when_utc is not None:
            when = f"{timezones.in_zone(row.when_utc, row.zone):%Y-%m-%d %H:%M}"
        title = "Reschedule" if row.section == "scheduled" else "Send later"
        self.dialog = SendLaterDialog(self, title=f"{title} — for {row.principal}", when=when)
        dialog = self.dialog
        dialog.accepted.connect(lambda: self.guarded(row, lambda: self._send_at(row, *dialog.choice())))
        dialog.open()
        return dialog

    def _send_at(self, row: OutgoingRow, when: str, zone: str) -> None:
        def schedule(store: Store) -> str:
            from assistant.approvals import drafts, lifecycle
            from assistant.approvals.schedule import parse_send_at, zone_for

            d = drafts.get_draft(store, row.principal_id, row.draft_id)
            send_at = parse_send_at(when, zone_for(store, d, zone), timezones.now_utc())
            if d.state in (DraftState.DRAFT, DraftState.REVISED, DraftState.REJECTED):
                return drafts.submit_draft(store, row.principal_id, row.draft_id, send_at=send_at)
            return lifecycle.schedule(store, row.principal_id, row.draft_id, send_at)

        self._run(row, schedule, lambda state: self._says(row, state))

    def on_cancel(self) -> None:
        row = self.current_row()
        if row is None:
            return

        def cancel(store: Store) -> str:
            from assistant.approvals import lifecycle

            return lifecycle.cancel_send(store, row.principal_id, row.draft_id)

        self._run(row, cancel, lambda state: self._says(row, state))

    def on_undo(self) -> None:
        row = self.current_row()
        if row is None or row.state != DraftState.SENDING:
            return

        def undo(store: Store) -> str:
            from assistant.approvals import lifecycle

            if not lifecycle.undo_send(store, row.principal_id, row.draft_id):
                return DraftState.SENDING
            return DraftState.APPROVED

        def said(state: str) -> str:
            if state == DraftState.SENDING:
                return f"Too late: “{row.subject}” for {row.principal} is on its way."
            return f"Send undone: “{row.subject}” for {row.principal} is back in Drafts."

        self._run(row, undo, said)

    def on_retry(self) -> None:
        row = self.current_row()
        if row is None or row.state != DraftState.FAILED:
            return

        def retry(store: Store) -> str:
            from assistant.approvals import lifecycle

            return lifecycle.retry(store, row.principal_id, row.draft_id)

        self._run(row, retry, lambda _state: f"“{row.subject}” for {row.principal} will be sent again now.",
                  after=lambda _state: self.retried.emit(row.draft_id))

    def on_delete(self) -> QMessageBox | None:
        """Deleting a draft cannot be undone: say what goes, and ask once."""
        row = self.current_row()
        if row is None or not self.delete_button.isEnabled():
            return None
        box = QMessageBox(QMessageBox.Icon.Warning, f"Delete draft — {row.principal}",
                          f"Delete “{row.subject or '(no subject)'}” to {row.to or 'nobody yet'}?", parent=self)
        box.setInformativeText("The draft is discarded" + (" and its send taken back" if row.section != "drafts"
                                                           else "") + "; its history stays on record.")
        delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setWindowModality(Qt.WindowModality.WindowModal)

        def answered() -> None:
            self.confirm_box = None
            if box.clickedButton() is not delete:
                return

            def discard(store: Store) -> str:
                from assistant.approvals import drafts

                drafts.delete_draft(store, row.principal_id, row.draft_id)
                return "deleted"

            self._run(row, discard, lambda _r: f"Deleted “{row.subject}” for {row.principal}.")

        box.finished.connect(lambda _result: answered())
        self.confirm_box = box
        box.open()
        return box

    def _on_error(self, error: BaseException) -> None:
        self.status.setText(describe_error(error))


def install(window: Any) -> OutgoingView:
    """The Outgoing tab (drafts, scheduled sends, the outbox) and its link ("outgoing")."""
    view = OutgoingView(window.tasks)
    window.add_view(view, "&Outgoing")
    window.principal_changed.connect(view.set_principal_id)
    view.retried.connect(lambda _draft_id: window.on_sync_now())
    view.change_retried.connect(lambda _entry_id: window.on_sync_now())
    window.register_link("outgoing", lambda _pid, _id: window.views.setCurrentWidget(view))
    return view
