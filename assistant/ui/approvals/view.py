"""The Approvals tab: drafts waiting for a principal (this principal's, or everyone's with each row labelled), how long
they have waited, the selected draft as it will be sent (with the principal's comment and what changed since the
version they last saw) and its audit history, replies that were flagged instead of applied, and the in-person decision
("approved in person", confirmed by the assistant after seeing what will be sent). A rejected draft is revised in a
compose window that shows the principal's comment above it."""
from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QBoxLayout,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from assistant.core import timezones
from assistant.domain import DraftState, Principal
from assistant.store import Store
from assistant.store.changes import Area
from assistant.ui.approvals.preview import WARNING, DraftDetails, DraftPreview, load_details, send_plan
from assistant.ui.widgets.identity import ask_send_as, principal_title
from assistant.ui.widgets.scoped import PrincipalScopedView
from assistant.ui.widgets.tables import RowTableModel
from assistant.ui.workers import TaskManager, describe_error

AnyIndex = QModelIndex | QPersistentModelIndex


@dataclass
class QueueRow:
    principal_id: int
    principal: str
    colour: str
    zone: str
    draft_id: int
    subject: str
    to: str
    state: str
    version: int
    channels: list[str]
    comment: str
    submitted_utc: datetime | None
    overdue_after_s: int
    error: str = ""  # why its send or approval request failed (state "failed")


@dataclass
class QueueSnapshot:
    rows: list[QueueRow] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)


def load_queue(store: Store, principal_id: int | None) -> QueueSnapshot:
    """Runs on the worker thread."""
    from assistant.approvals import lifecycle
    from assistant.store import drafts as sql

    principals = {p.id: p for p in store.principals()}
    snapshot = QueueSnapshot()
    for item in lifecycle.queue(store, principal_id):
        d, p = item["draft"], principals[item["principal_id"]]
        settings = sql.settings(store.scope(p.id))
        snapshot.rows.append(QueueRow(
            principal_id=p.id, principal=p.name, colour=p.colour, zone=p.timezone, draft_id=d.id, subject=d.subject,
            to=", ".join(a.email for a in d.to), state=d.state, version=d.version, channels=item["channels"],
            comment=d.comment, submitted_utc=item["submitted_utc"], overdue_after_s=settings.usual_answer_minutes * 60,
            error=item["error"],
        ))
    for p in principals.values():
        if principal_id is not None and p.id != principal_id:
            continue
        for f in sql.flags(store.scope(p.id))[:20]:
            snapshot.flagged.append(f"{p.name}: reply from {f.sender or 'unknown'} not applied — {f.reason}")
    return snapshot


@dataclass
class ApprovalNotice:
    """One thing to tell the assistant about approvals, labelled with its principal (the list is cross-principal)."""

    principal_id: int
    principal_name: str
    principal_timezone: str
    text: str
    popup: bool = True  # False in quiet hours, or when the principal's notifications are off: listed in the app only


def load_notifications(store: Store, after_id: int | None, already_overdue: set[int], now: datetime
                       ) -> tuple[int, list[ApprovalNotice], set[int]]:
    """What to tell the assistant: decisions recorded since ``after_id`` (None: only remember where we are) and drafts
    newly past their principal's usual answer time. Runs on the worker thread."""
    from assistant import reminders
    from assistant.approvals import lifecycle
    from assistant.store import drafts as sql

    def notice(principal_id: int, name: str, text: str) -> ApprovalNotice:
        popup = reminders.delivery_for(store, principal_id, False, now) == "popup"
        return ApprovalNotice(principal_id, name, store.principal(principal_id).timezone, text, popup)

    last = sql.last_audit_id(store)
    notices: list[ApprovalNotice] = []
    if after_id is not None:
        for e in sql.audit_since(store, after_id):
            what = e["action"].replace("-", " ")
            comment = f" — “{e['detail']['comment']}”" if e["detail"].get("comment") else ""
            notices.append(notice(e["principal_id"], e["principal"], f"{e['principal']}: {what}: {e['subject']}{comment}"))
    overdue = set()
    for item in lifecycle.queue(store):
        d, submitted = item["draft"], item["submitted_utc"]
        usual = sql.settings(store.scope(item["principal_id"])).usual_answer_minutes * 60
        if d.state == DraftState.AWAITING_APPROVAL and submitted and (now - submitted).total_seconds() > usual:
            overdue.add(d.id)
            if d.id not in already_overdue:
                notices.append(notice(item["principal_id"], item["principal"],
                                      f"{item['principal']} has not answered about “{d.subject}” for "
                                      f"{waited_text((now - submitted).total_seconds())}"))
    return last, notices, overdue


def load_history(store: Store, principal_id: int, draft_id: int) -> list[dict[str, Any]]:
    from assistant.approvals import lifecycle

    return lifecycle.history(store, principal_id, draft_id)


def waited_text(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


def summary_text(rows: list[QueueRow], everyone: bool) -> str:
    """What the tab holds, counted by what each row waits for: the principal's answer, or the assistant (a rejection,
    a late send, a failure) — "6 drafts waiting" counted rejected ones as waiting for the principal."""
    whose = "all principals" if everyone else "this principal"
    if not rows:
        return f"Nothing waiting for {whose}."
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.state] = counts.get(r.state, 0) + 1
    waiting = counts.pop(DraftState.AWAITING_APPROVAL, 0)
    parts = [f"{waiting} waiting for {'principals' if everyone else 'the principal'}"] if waiting else []
    names = {DraftState.REJECTED: "rejected", DraftState.NEEDS_CONFIRMATION: "to confirm", DraftState.FAILED: "failed"}
    parts += [f"{n} {names.get(DraftState(state), state)}" for state, n in counts.items()]
    return " · ".join(parts) + f" — {whose}"


class ApprovalQueueModel(RowTableModel[QueueRow]):
    headers = ("Principal", "Subject", "To", "State", "Waiting", "Via")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.now = timezones.now_utc()

    def set_rows(self, rows: Iterable[QueueRow], now: datetime | None = None) -> None:
        """The queue as read at ``now`` (the time waited is counted to then; default: the time now)."""
        with self.resetting():
            self.rows, self.now = list(rows), now or timezones.now_utc()

    def row_at(self, row: int) -> QueueRow:
        """The draft on ``row``, a row the view shows."""
        return self.rows[row]

    def waited_s(self, r: QueueRow) -> float:
        return (self.now - r.submitted_utc).total_seconds() if r.submitted_utc else 0.0

    def display(self, r: QueueRow, column: int) -> Any:
        waiting = waited_text(self.waited_s(r)) if r.state == DraftState.AWAITING_APPROVAL else ""
        return [r.principal, r.subject or "(no subject)", r.to, r.state.replace("-", " "), waiting,
                ", ".join(r.channels)][column]

    def cell_data(self, r: QueueRow, column: int, role: int) -> Any:
        overdue = r.state == DraftState.AWAITING_APPROVAL and self.waited_s(r) > r.overdue_after_s
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == 4 and r.submitted_utc:
                theirs = timezones.in_zone(r.submitted_utc, r.zone)
                mine = timezones.in_zone(r.submitted_utc, timezones.assistant_zone_name())
                text = f"Asked {theirs:%a %d %b %H:%M %Z} their time, {mine:%H:%M %Z} yours"
                return text + (" — longer than their usual answer time" if overdue else "")
            if column == 3 and r.error:
                return f"Failed: {r.error}"
            if column == 3 and r.comment:
                return f"Principal's comment: {r.comment}"
            return None
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            return QColor(r.colour)
        if role == Qt.ItemDataRole.ForegroundRole and (overdue and column == 4
                                                        or r.state in (DraftState.NEEDS_CONFIRMATION,
                                                                       DraftState.FAILED) and column == 3):
            return QBrush(QColor("#c2410c"))
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{r.principal}: {r.subject}, {r.state}, waiting {waited_text(self.waited_s(r))}"
        return None


class DraftHistoryModel(RowTableModel[dict[str, Any]]):
    headers = ("Their time", "Your time", "What", "Channel", "Version", "Who")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.zone = "UTC"

    def set_entries(self, entries: list[dict[str, Any]], zone: str) -> None:
        with self.resetting():
            self.rows, self.zone = list(entries), zone

    def display(self, e: dict[str, Any], column: int) -> Any:
        at = e["at_utc"]
        what = e["action"].replace("-", " ")
        if e.get("comment"):
            what += f": {e['comment']}"
        return [
            f"{timezones.in_zone(at, self.zone):%d %b %H:%M %Z}",
            f"{timezones.in_zone(at, timezones.assistant_zone_name()):%H:%M %Z}",
            what, e.get("channel", ""), f"v{e['version']}" if "version" in e else "", e["actor"],
        ][column]


class ApprovalsView(PrincipalScopedView):
    decision_recorded = Signal(int)  # draft id
    retried = Signal(int)  # draft id whose failed send was queued again: the window syncs to send it
    queue_loaded = Signal()
    history_loaded = Signal()
    preview_loaded = Signal()
    open_draft = Signal(int, int)  # principal id, draft id: "Revise" — the window opens it in compose
    notified = Signal(str)  # a decision arrived, or a draft waits longer than usual: the status line
    notice = Signal(object)  # the same as an ApprovalNotice, for the app's notifications (tray, desktop, Today list)
    CHECK_EVERY_MS = 15_000

    def __init__(self, tasks: TaskManager, parent: QWidget | None = None):
        super().__init__(tasks, "Show drafts of all principals", parent)
        self.summary = QLabel()
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.reload)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.all_principals)
        top.addWidget(self.refresh_button)

        self.model = ApprovalQueueModel(self)
        self.table = QTableView()
        self.table.setObjectName("approval-queue")
        self.table.setAccessibleName("Drafts waiting for a decision")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)  # the subject takes what the others leave
        for column, width in enumerate((150, 0, 200, 140, 90, 80)):
            if width:
                self.table.setColumnWidth(column, width)
        self.table.selectionModel().currentRowChanged.connect(self.on_row_changed)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())

        self.comment = QLineEdit()
        self.comment.setPlaceholderText("The principal's comment (needed to reject)")
        self.comment.setAccessibleName("Comment")
        self.approve_button = QPushButton("Approved in person")
        self.reject_button = QPushButton("Rejected in person")
        self.send_now_button = QPushButton("Send now")
        self.send_now_button.setToolTip("Its send time passed while the app was closed: send it now")
        self.retry_button = QPushButton("Retry send")
        self.retry_button.setToolTip("The provider refused it: send it again with the next sync")
        self.revise_button = QPushButton("Revise…")
        self.revise_button.setToolTip("Open the draft in a compose window, with the principal's comment above it")
        self.approve_button.setToolTip("The principal approved it in person: see what will be sent, then confirm")
        self.approve_button.clicked.connect(lambda: self.decide("approve"))
        self.reject_button.clicked.connect(lambda: self.decide("reject"))
        self.send_now_button.clicked.connect(self.on_send_now)
        self.retry_button.clicked.connect(self.on_retry)
        self.revise_button.clicked.connect(self.on_revise)
        self.table.doubleClicked.connect(lambda _index: self.on_revise())
        self.action_row = actions = QHBoxLayout()
        for button in (self.approve_button, self.reject_button, self.revise_button, self.send_now_button,
                       self.retry_button):
            actions.addWidget(button)
        actions.addStretch(1)
        self.confirm_box: ConfirmApprovalDialog | None = None  # "Approved in person": what will be sent, asked once
        self.principal_box: QMessageBox | None = None  # Send now's wrong-principal question, while it is open

        self.history_model = DraftHistoryModel(self)
        self.history = QTableView()
        self.history.setObjectName("approval-history")
        self.history.setAccessibleName("History of the selected draft")
        self.history.setModel(self.history_model)
        self.history.verticalHeader().hide()
        self.history.horizontalHeader().setStretchLastSection(True)
        for column, width in enumerate((130, 90, 260, 110, 70)):
            self.history.setColumnWidth(column, width)
        self.flagged = QLabel()
        self.flagged.setWordWrap(True)
        self.flagged.setObjectName("approval-flags")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.preview = DraftPreview()
        self.details_tabs = QTabWidget()
        self.details_tabs.setObjectName("approval-details")
        self.details_tabs.setDocumentMode(True)
        self.details_tabs.addTab(self.preview, "Message")
        self.details_tabs.addTab(self.history, "History")

        upper = QWidget()
        upper_layout = QVBoxLayout(upper)
        upper_layout.setContentsMargins(0, 0, 0, 0)
        upper_layout.addLayout(top)
        upper_layout.addWidget(self.table, 1)
        upper_layout.addWidget(self.comment)
        upper_layout.addLayout(actions)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.details_tabs, 1)
        lower_layout.addWidget(self.flagged)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(upper)
        splitter.addWidget(lower)
        splitter.setSizes([380, 260])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)
        self._update_buttons()

        self._last_audit_id: int | None = None
        self._overdue: set[int] = set()
        self.check_timer = QTimer(self)
        self.check_timer.setInterval(self.CHECK_EVERY_MS)
        self.check_timer.timeout.connect(self.check_notifications)
        self.check_timer.start()
        self.check_notifications()

    # -- notifications -------------------------------------------------------------------------------------------------
    def check_notifications(self) -> None:
        """Also the app's own send-later: due drafts are queued and sends past their undo window go out."""
        if self.tasks.closed:  # the window is closing: the worker is gone
            self.check_timer.stop()
            return
        after, overdue = self._last_audit_id, set(self._overdue)

        def check(store: Store) -> tuple[int, list[ApprovalNotice], set[int]]:
            from assistant.approvals.channels import send_due

            now = timezones.now_utc()
            if after is not None:
                send_due(store, now)
            return load_notifications(store, after, overdue, now)

        self.tasks.run(check, on_done=self._apply_notifications, on_error=self._on_error)

    def _apply_notifications(self, result: tuple[int, list[ApprovalNotice], set[int]]) -> None:
        self._last_audit_id, notices, self._overdue = result
        for notice in notices:
            self.status.setText(notice.text)
            self.notified.emit(notice.text)
            self.notice.emit(notice)
        if notices and self.isVisible():
            self.reload()

    # -- loading ---------------------------------------------------------------------------------------------------
    # A draft submitted, decided or sent (here, in a compose window, or by a sync): the queue shown again
    # (PrincipalScopedView); decisions arrive with syncs, so it is read again whenever it is shown.
    AREAS = (Area.DRAFTS, Area.OUTBOX)

    def load(self, store: Store, principal_id: int | None) -> QueueSnapshot:
        return load_queue(store, principal_id)

    def empty(self) -> QueueSnapshot:
        return QueueSnapshot()

    def on_load_error(self, error: BaseException) -> None:
        self._on_error(error)

    def show_loaded(self, snapshot: QueueSnapshot) -> None:
        selected = self.current_row()
        self.model.set_rows(snapshot.rows, timezones.now_utc())
        self.summary.setText(summary_text(snapshot.rows, self.all_principals.isChecked()))
        self.flagged.setText("Flagged replies (not applied):\n" + "\n".join(snapshot.flagged)
                             if snapshot.flagged else "")
        if selected is not None:
            for row in range(self.model.rowCount()):
                if self.model.row_at(row).draft_id == selected.draft_id:
                    self.table.selectRow(row)
                    break
        if self.current_row() is None:
            self.history_model.set_entries([], "UTC")
            self.preview.show_details(None)
        self._update_buttons()
        self.queue_loaded.emit()

    def current_row(self) -> QueueRow | None:
        index = self.table.selectionModel().currentIndex()
        if not index.isValid() or not self.table.selectionModel().isRowSelected(index.row(), QModelIndex()):
            return None
        return self.model.row_at(index.row())

    def on_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._update_buttons()
        if not current.isValid():
            return
        row = self.model.row_at(current.row())
        self.tasks.run(lambda store: load_history(store, row.principal_id, row.draft_id),
                       on_done=lambda entries: self._apply_history(row, entries), on_error=self._on_error)
        self.tasks.run(lambda store: load_details(store, row.principal_id, row.draft_id),
                       on_done=lambda details: self._apply_details(row, details), on_error=self._on_error)

    def _apply_details(self, row: QueueRow, details: DraftDetails) -> None:
        current = self.current_row()
        if current is None or current.draft_id != row.draft_id:
            return
        self.preview.show_details(details)
        self.preview_loaded.emit()

    def _apply_history(self, row: QueueRow, entries: list[dict[str, Any]]) -> None:
        current = self.current_row()
        if current is None or current.draft_id != row.draft_id:
            return
        self.history_model.set_entries(entries, row.zone)
        self.history_loaded.emit()

    def _update_buttons(self) -> None:
        row = self.current_row()
        waiting = row is not None and row.state == DraftState.AWAITING_APPROVAL
        self.approve_button.setEnabled(waiting)
        self.reject_button.setEnabled(waiting)
        self.send_now_button.setEnabled(row is not None and row.state == DraftState.NEEDS_CONFIRMATION)
        self.retry_button.setEnabled(row is not None and row.state == DraftState.FAILED)
        failed = row is not None and row.state == DraftState.FAILED
        if self.retry_button.isHidden() == failed:
            self.retry_button.setVisible(failed)
            self.action_row.invalidate()  # a layout keeps a hidden button's width until told (the window's minimum)
        self.revise_button.setEnabled(row is not None and row.state in (DraftState.REJECTED, DraftState.FAILED))
        if row is not None and row.error:
            self.status.setText(f"“{row.subject}” for {row.principal} failed: {row.error}")

    # -- decisions ----------------------------------------------------------------------------------------------------
    def decide(self, decision: str) -> None:
        row = self.current_row()
        if row is None:
            return
        comment = self.comment.text().strip()
        if decision == "reject" and not comment:
            self.status.setText("Write the principal's reason in the comment box to record a rejection.")
            return
        if decision == "reject":
            self._record(row, decision, comment, None)
            return
        # Approving sends: read the draft as it is now, and the wrong-principal guard's word on it; show what will go
        # out, and ask once.
        def read(store: Store) -> tuple[DraftDetails, str | None]:
            from assistant.approvals.guard import check_draft

            return (load_details(store, row.principal_id, row.draft_id),
                    check_draft(store, row.principal_id, row.draft_id))

        self.tasks.run(read, on_done=lambda found: self._confirm_approval(row, comment, *found),
                       on_error=self._on_error)

    def _confirm_approval(self, row: QueueRow, comment: str, details: DraftDetails,
                          warning: str | None = None) -> ConfirmApprovalDialog:
        box = ConfirmApprovalDialog(details, self, warning=warning)
        d = details.draft

        def answered(result: int) -> None:
            self.confirm_box = None
            if result == QDialog.DialogCode.Accepted:
                self._record(row, "approve", comment, d.content_hash)
            else:
                self.status.setText(f"Nothing recorded for “{d.subject}”.")

        box.finished.connect(answered)
        self.confirm_box = box
        box.open()
        return box

    def _record(self, row: QueueRow, decision: str, comment: str, content_hash: str | None) -> None:
        """``content_hash``: what the assistant was shown; a draft changed since is not approved blind."""

        def record(store: Store) -> str:
            from assistant.approvals import lifecycle
            from assistant.core.errors import InvalidInput
            from assistant.store import drafts as sql

            if content_hash is not None and \
                    sql.get_draft(store.scope(row.principal_id), row.draft_id).content_hash != content_hash:
                raise InvalidInput("The draft changed after you looked at it: look at it again before approving.")
            return lifecycle.approve_in_person(store, row.principal_id, row.draft_id, decision=decision,
                                               comment=comment)

        self.tasks.run(record, on_done=lambda state: self._decided(row, state), on_error=self._on_error)

    def on_revise(self) -> None:
        """A rejected (or failed) draft back in compose, the principal's comment shown above it."""
        row = self.current_row()
        if row is None or row.state not in (DraftState.REJECTED, DraftState.FAILED):
            return
        self.open_draft.emit(row.principal_id, row.draft_id)

    def on_send_now(self) -> None:
        row = self.current_row()
        if row is None:
            return

        def confirm(store: Store) -> str:
            from assistant.approvals import lifecycle

            return lifecycle.confirm_late_send(store, row.principal_id, row.draft_id)

        def send() -> None:
            self.principal_box = None
            self.tasks.run(confirm, on_done=lambda state: self._decided(row, state), on_error=self._on_error)

        def cancelled() -> None:
            self.principal_box = None
            self.status.setText(f"Not sent: “{row.subject or '(no subject)'}” is still waiting for {row.principal}.")

        def checked(warning: str | None) -> None:
            if warning:
                self.principal_box = ask_send_as(self, row.principal, row.colour, warning, send, cancelled)
            else:
                send()

        def check(store: Store) -> str | None:
            from assistant.approvals.guard import check_draft

            return check_draft(store, row.principal_id, row.draft_id)

        self.tasks.run(check, on_done=checked, on_error=self._on_error)

    def on_retry(self) -> None:
        row = self.current_row()
        if row is None:
            return

        def retry(store: Store) -> str:
            from assistant.approvals import lifecycle

            return lifecycle.retry(store, row.principal_id, row.draft_id)

        def done(state: str) -> None:
            self._decided(row, state)
            self.retried.emit(row.draft_id)

        self.tasks.run(retry, on_done=done, on_error=self._on_error)

    def _decided(self, row: QueueRow, state: str) -> None:
        self.comment.clear()
        undo = " — Undo send is in the Outgoing tab until it goes" if state == DraftState.SENDING else ""
        self.status.setText(f"“{row.subject}” for {row.principal}: {state.replace('-', ' ')}{undo}.")
        self.decision_recorded.emit(row.draft_id)  # the queue reloads from the change (on_changed)

    def _on_error(self, error: BaseException) -> None:
        self.status.setText(describe_error(error))


class ConfirmApprovalDialog(QDialog):
    """"Approved in person" sends: the message exactly as it will go out, when it goes, and one question."""

    def __init__(self, details: DraftDetails, parent: QWidget | None = None, *, warning: str | None = None):
        """``warning``: the wrong-principal guard's one line, shown above the message; the send button then says
        *Send anyway*, as compose's question does, so there is still only one question."""
        super().__init__(parent)
        d = details.draft
        self.setWindowTitle(f"Approved in person — {details.principal}")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.guard = QLabel(warning or "")
        self.guard.setObjectName("wrong-principal")
        self.guard.setWordWrap(True)
        self.guard.setStyleSheet(f"font-weight: bold; color: {WARNING};")
        self.guard.setVisible(bool(warning))
        self.headline = QLabel(f"<b>Send “{html.escape(d.subject or '(no subject)')}” for "
                               f"{html.escape(details.principal)}?</b>")
        self.headline.setWordWrap(True)
        attached = f" with {len(d.attachments)} attachment{'s' if len(d.attachments) != 1 else ''}" \
            if d.attachments else ""
        self.plan = QLabel(f"{details.principal} approved version {d.version} in person. It goes to "
                           f"{len(d.to) + len(d.cc)} recipient{'s' if len(d.to) + len(d.cc) != 1 else ''}"
                           f"{attached} {send_plan(details)}.")
        self.plan.setWordWrap(True)
        self.preview = DraftPreview(self)
        self.preview.show_details(details)
        buttons = QDialogButtonBox()
        self.send_button = buttons.addButton("Send anyway" if warning else "Approve and send",
                                             QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        # a send that looks meant for another principal is not sent by Enter: Cancel is the default then
        if warning:
            self.send_button.setAutoDefault(False)  # never the default, not even with the focus
            self.cancel_button.setDefault(True)
            self.cancel_button.setFocus()
        else:
            self.send_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.guard)
        layout.addWidget(self.headline)
        layout.addWidget(self.plan)
        layout.addWidget(self.preview, 1)
        layout.addWidget(buttons)
        self.resize(640, 480)


class SendLaterDialog(QDialog):
    """When to send: words ("tomorrow 9:00", "in 2 hours", "2026-11-24 09:00") read in the principal's zone, the
    recipient's ("their time") or the assistant's own."""

    ZONES = (("principal", "the principal's time"), ("recipient", "the recipient's time"), ("assistant", "my time"))

    def __init__(self, parent: QWidget | None = None, *, title: str = "Send later", when: str = "tomorrow 9:00"):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.when = QLineEdit(when)
        self.when.setAccessibleName("When to send")
        self.zone = QComboBox()
        self.zone.setAccessibleName("In whose time")
        for key, label in self.ZONES:
            self.zone.addItem(label, key)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Send at", self.when)
        form.addRow("In", self.zone)
        form.addRow(QLabel("A message whose time passes while the app is closed waits for your confirmation."))
        form.addRow(buttons)

    def choice(self) -> tuple[str, str]:
        return self.when.text().strip(), self.zone.currentData()


class ComposeApprovalButtons(QWidget):
    """"Ask approval" and "Send later…" for the compose window's button row.

    ``draft_ref()`` returns ``(principal_id, draft_id)`` of the draft as last saved (the compose window autosaves
    through ``assistant.approvals.drafts.save_draft``), or None when there is nothing saved yet. Submitting follows the
    principal's policy: it asks for approval, or sends (after the undo window), or schedules."""

    submitted = Signal(str)  # the draft's new state
    failed = Signal(str)

    def __init__(self, tasks: TaskManager, draft_ref, parent: QWidget | None = None, *, before_submit=None,
                 principal: Principal | None = None, confirm_principal=None):
        super().__init__(parent)
        # ``confirm_principal(warning, proceed)``: asks when the wrong-principal guard speaks (the compose window's)
        self.confirm_principal = confirm_principal
        self.principal = principal  # whose draft: named in the Send later dialog's title
        self.tasks = tasks
        self.draft_ref = draft_ref
        self.before_submit = before_submit  # e.g. the compose window's "save now", queued ahead of the submit
        self.ask_button = QPushButton("Ask approval")
        self.ask_button.setToolTip("Ask the principal to approve this draft, even if their policy would not")
        self.later_button = QPushButton("Send later…")
        self.ask_button.clicked.connect(lambda: self.submit(None, require_approval=True))
        self.later_button.clicked.connect(self.on_send_later)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.ask_button)
        layout.addWidget(self.later_button)
        self.dialog: SendLaterDialog | None = None

    def on_send_later(self) -> SendLaterDialog:
        self.dialog = SendLaterDialog(self)
        principal_title(self.dialog, "Send later", self.principal)
        self.dialog.accepted.connect(lambda: self.submit(self.dialog.choice()))
        self.dialog.open()
        return self.dialog

    @classmethod
    def for_compose(cls, compose: Any) -> ComposeApprovalButtons:
        """The buttons for a compose window's button row; a submit there finishes the window like Send."""
        buttons = cls(compose._tasks, lambda: (compose.principal.id, compose.draft_id) if compose.draft_id else None,
                      compose, before_submit=compose.save_now, principal=compose.principal,
                      confirm_principal=compose.ask_principal)

        def finished(state: str) -> None:
            compose._finished = True
            compose.autosave.stop()
            compose.submitted.emit(compose.draft_id, state)
            compose.close()

        buttons.submitted.connect(finished)
        buttons.failed.connect(compose.show_error)
        return buttons

    def submit(self, when: tuple[str, str] | None, *, require_approval: bool = False) -> None:
        if self.before_submit is None:
            self._submit_saved(when, require_approval)
            return
        self.before_submit()
        # The worker runs tasks in order and their results come back in order: once this no-op's answer is here, the
        # save queued just before it has landed and the compose window knows its draft id.
        self.tasks.run(lambda _store: None, on_done=lambda _none: self._submit_saved(when, require_approval))

    def _submit_saved(self, when: tuple[str, str] | None, require_approval: bool = False) -> None:
        ref = self.draft_ref()
        if ref is None:
            self.failed.emit("Nothing to submit yet: the draft has not been saved.")
            return
        principal_id, draft_id = ref
        if self.confirm_principal is not None:
            def check(store: Store) -> str | None:
                from assistant.approvals.guard import check_draft

                return check_draft(store, principal_id, draft_id)

            def checked(warning: str | None) -> None:
                if warning:
                    self.confirm_principal(warning, lambda: self._submit_checked(principal_id, draft_id, when,
                                                                                 require_approval))
                else:
                    self._submit_checked(principal_id, draft_id, when, require_approval)

            self.tasks.run(check, on_done=checked, on_error=lambda e: self.failed.emit(describe_error(e)))
            return
        self._submit_checked(principal_id, draft_id, when, require_approval)

    def _submit_checked(self, principal_id: int, draft_id: int, when: tuple[str, str] | None,
                        require_approval: bool) -> None:
        def run(store: Store) -> str:
            from assistant.approvals import drafts
            from assistant.approvals.schedule import parse_send_at, zone_for

            send_at = None
            if when is not None:
                d = drafts.get_draft(store, principal_id, draft_id)
                send_at = parse_send_at(when[0], zone_for(store, d, when[1]), timezones.now_utc())
            return drafts.submit_draft(store, principal_id, draft_id, send_at=send_at,
                                       require_approval=require_approval)

        self.tasks.run(run, on_done=self.submitted.emit, on_error=lambda e: self.failed.emit(describe_error(e)))


class PrincipalCommentNote(QLabel):
    """Above a compose window holding a draft the principal commented on (a rejection's reason): their words, so the
    revision answers them."""

    def __init__(self, principal: str, comment: str, version: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("principal-comment")
        self.setWordWrap(True)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMargin(6)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setText(f"{principal} rejected version {version}: “{comment}”")
        self.setAccessibleName(f"{principal}'s comment")

    @staticmethod
    def attach(compose: Any) -> None:
        """Read the draft a compose window opened with; when the principal rejected it (or it was revised since),
        put their comment at the top of the window."""
        draft_id, principal = compose.draft_id, compose.principal
        if not draft_id:
            return

        def read(store: Store) -> tuple[str, int] | None:
            from assistant.store import drafts as sql

            d = sql.get_draft(store.scope(principal.id), draft_id)
            if not d.comment or d.state not in (DraftState.REJECTED, DraftState.REVISED):
                return None
            decisions = [e for e in load_history(store, principal.id, draft_id)
                         if e["action"] in ("rejected", "approved")]
            last = decisions[-1] if decisions else None
            if last is None or last["action"] != "rejected" or last.get("comment") != d.comment:
                return None
            return d.comment, last["version"]

        def show(found: tuple[str, int] | None) -> None:
            layout = compose.layout()
            if found is None or not isinstance(layout, QBoxLayout) \
                    or compose.findChild(PrincipalCommentNote) is not None:
                return
            note = PrincipalCommentNote(principal.name, *found, parent=compose)
            # above the message's own rows, below whatever heads the window (whose name it is written in)
            above = layout.indexOf(compose.restored_bar)
            layout.insertWidget(max(above, 0), note)
            note.show()  # a layout shows a widget added to a visible window only later, from the event loop

        compose._tasks.run(read, on_done=show, on_error=lambda _error: None)


def compose_extension(compose: Any) -> QWidget:
    """What the approvals feature adds to every compose window: its buttons, and the principal's comment on top."""
    PrincipalCommentNote.attach(compose)
    return ComposeApprovalButtons.for_compose(compose)


def install(window: Any) -> ApprovalsView:
    """The Approvals tab, its link ("approvals"), and "Ask approval" / "Send later…" in every compose window (with
    the principal's comment above a rejected draft's)."""
    view = ApprovalsView(window.tasks)  # drafts waiting for principals; reloads when shown
    window.add_view(view, "A&pprovals")
    window.principal_changed.connect(view.set_principal_id)
    view.retried.connect(lambda _draft_id: window.on_sync_now())
    window.add_compose_extension(compose_extension)
    window.register_link("approvals", lambda _pid, _id: window.views.setCurrentWidget(view))
    return view
