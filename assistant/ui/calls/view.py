"""The Calls tab: the current principal's call log with filters, talk time, the history and threads with the selected
caller, and follow-ups (call back at…, make a task). The quick log (Ctrl+Shift+L anywhere in the window) writes through
the TaskManager; the GUI thread reads one page of calls at a time.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QDate,
    QDateTime,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
    QTime,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLayout,
    QLineEdit,
    QListWidget,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from assistant.board import service as board
from assistant.calls.matching import ContactMatcher, pick_principal
from assistant.core import private_files, timezones
from assistant.core.phones import classify, normalise
from assistant.domain import Call, CallDirection, Principal
from assistant.store import Store
from assistant.store import calls as call_store
from assistant.store.changes import Area, Changes
from assistant.ui.calls.quick_log import QuickLogDialog, QuickLogResult, format_elapsed
from assistant.ui.widgets.identity import principal_title
from assistant.ui.widgets.pages import lay_out_hidden
from assistant.ui.widgets.tables import RowTableModel, fit_columns
from assistant.ui.widgets.times import edit_utc
from assistant.ui.workers import TaskManager, describe_error

if TYPE_CHECKING:
    from assistant.importing.base import ImportProgress

AnyIndex = QModelIndex | QPersistentModelIndex
PAGE = 500
QUICK_LOG_SHORTCUT = "Ctrl+Shift+L"
DIRECTION_TEXT = {"in": "↙ in", "out": "↗ out", "missed": "✕ missed", "voicemail": "✉ voicemail"}
FILTERS = [("All calls", "all"), ("Missed", "missed"), ("Today", "today"), ("This week", "week")]
# column → its widest fitted width, px (Notes, last, takes the rest; E.164 is hidden unless asked for)
COLUMN_WIDEST = {0: 132, 1: 82, 2: 82, 3: 140, 4: 124, 6: 64, 7: 80}


def talk_text(seconds: int) -> str:
    hours, rest = divmod(max(0, seconds), 3600)
    return f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min {rest % 60:02d} s"


class CallLogModel(RowTableModel[Call]):
    headers = ("When", "Your time", "", "Name", "Number", "E.164", "Duration", "Outcome", "Notes")

    def __init__(self, parent=None):
        super().__init__(parent)
        self._names: dict[int, str] = {}  # call id → matched contact name when the call has none
        self.zone = "UTC"
        self.assistant_zone = timezones.assistant_zone_name()

    def set_calls(self, calls: list[Call], zone: str, names: dict[int, str]) -> None:
        with self.resetting():
            self.rows, self.zone, self._names = list(calls), zone, dict(names)

    def call_at(self, row: int) -> Call | None:
        return self.row_at(row)

    def header_data(self, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and column == 0:
            return f"When ({self.zone.rsplit('/', 1)[-1].replace('_', ' ')})"
        if role == Qt.ItemDataRole.ToolTipRole and column in (0, 1):
            return f"The principal's time ({self.zone})" if column == 0 else f"Your time ({self.assistant_zone})"
        return super().header_data(column, role)

    def display_name(self, call: Call) -> str:
        return call.caller_name or self._names.get(call.id or -1, "")

    def display(self, call: Call, column: int) -> Any:
        if column == 0:
            return f"{timezones.in_zone(call.started_utc, self.zone):%Y-%m-%d %H:%M}"
        if column == 1:
            return f"{timezones.in_zone(call.started_utc, self.assistant_zone):%a %H:%M}"
        if column == 2:
            return DIRECTION_TEXT[call.direction.value]
        if column == 3:
            return self.display_name(call)
        if column == 4:
            return call.number_raw or "Withheld"
        if column == 5:
            kind = classify(call.number_raw, call.number_e164)
            return call.number_e164 or {"invalid": "invalid — kept as typed", "withheld": "—", "sip": "SIP address",
                                        "client": "client identity"}.get(kind, "")
        if column == 6:
            return format_elapsed(call.duration_s) if call.direction != CallDirection.MISSED else ""
        if column == 7:
            return call.outcome
        if column == 8:
            return " ".join(call.notes.split())[:200]
        return None

    def cell_data(self, call: Call, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == 0:
                return f"{timezones.in_zone(call.started_utc, self.zone):%A %d %B %Y %H:%M %Z}"
            if column == 8:
                return call.notes or None
        if role == Qt.ItemDataRole.ForegroundRole and call.direction == CallDirection.MISSED and column in (2, 3, 4):
            return QColor("#c62828")
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 6:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class CallBackDialog(QDialog):
    """Pick when to call back, in the principal's zone; the assistant's own time is shown beside it."""

    def __init__(self, principal: Principal, who: str, now: datetime | None = None, parent=None):
        super().__init__(parent)
        principal_title(self, f"Call back {who}", principal)
        self.principal = principal
        self.assistant_zone = timezones.assistant_zone_name()
        now = now or timezones.now_utc()
        local = timezones.in_zone(now + timedelta(hours=1), principal.timezone).replace(minute=0, second=0,
                                                                                        microsecond=0)
        self.when = QDateTimeEdit(self)
        self.when.setAccessibleName(f"Call-back time in {principal.timezone}")
        self.when.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.when.setCalendarPopup(True)
        self.when.setDateTime(QDateTime(QDate(local.year, local.month, local.day), QTime(local.hour, local.minute)))
        self.both = QLabel(self)
        self.when.dateTimeChanged.connect(self._update)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                   parent=self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"When, in {principal.name}'s time ({principal.timezone}):", self))
        layout.addWidget(self.when)
        layout.addWidget(self.both)
        layout.addWidget(buttons)
        self._update()

    def due_utc(self) -> datetime:
        return edit_utc(self.when, self.principal.timezone)

    def _update(self) -> None:
        due = self.due_utc()
        self.both.setText(f"{timezones.in_zone(due, self.principal.timezone):%a %d %b %H:%M %Z} for {self.principal.name}"
                          f" · {timezones.in_zone(due, self.assistant_zone):%a %d %b %H:%M %Z} your time")


@dataclass
class CallDetails:
    person_html: str
    history: list[str]
    threads: list[str]


def load_call_details(store: Store, principal: Principal, call: Call) -> CallDetails:
    """Worker side of the details pane: who called (contacts → earlier calls → their mail), the earlier calls with
    that number, and the threads with their addresses, in the principal's time."""
    scope = store.scope(principal.id)
    info = normalise(call.number_raw, principal.region)
    match = ContactMatcher(scope, principal.region).match(info)
    name = call.caller_name or match.name
    person = (f"<b>{_escape(name or info.shown or 'Withheld')}</b><br>{_escape(info.shown)}"
              + {"contact": " (from contacts)", "mail": " (found in their mail)",
                 "calls": " (from earlier calls)"}.get(match.source, ""))
    history = []
    if info.key:
        for other in call_store.calls_page(scope, call_store.CallFilter(party_key=info.key), limit=50):
            when = timezones.in_zone(other.started_utc, principal.timezone)
            history.append(f"{when:%Y-%m-%d %H:%M}  {DIRECTION_TEXT[other.direction.value]}  "
                           f"{format_elapsed(other.duration_s)}  {' '.join(other.notes.split())[:60]}")
    emails = list(match.emails) or call_store.emails_for_name(scope, name)
    threads = []
    for thread in call_store.threads_with(scope, emails):
        when = thread["last_date_utc"]
        stamp = f"{timezones.in_zone(when, principal.timezone):%Y-%m-%d}" if when else ""
        threads.append(f"{stamp}  {thread['subject'] or '(no subject)'}  ({thread['messages']})")
    if not emails:
        threads.append("No e-mail address known for this caller.")
    return CallDetails(person, history, threads)


class CallsView(QWidget):
    call_logged = Signal(int)  # call id
    follow_up_made = Signal(str)  # one line for the status bar
    import_progress = Signal(str)  # one line for the status bar after each batch of an import; emitted on the worker
    failed = Signal(str)  # an error the user must see (an import that could not be read): it stays until dismissed

    def __init__(self, store: Store, tasks: TaskManager, parent=None):
        super().__init__(parent)
        self.setObjectName("calls")
        self.store = store
        self.tasks = tasks
        self._details_request = 0  # show_details(): the newest read wins
        self.principal: Principal | None = None
        self.quick_log: QuickLogDialog | None = None
        self.quick_log_action: QAction | None = None  # the window-wide shortcut, once installed in a window
        tasks.changed.connect(self.on_changed)
        self.model = CallLogModel(self)

        self.filter = QComboBox(self)
        self.filter.setAccessibleName("Show")
        for label, value in FILTERS:
            self.filter.addItem(label, value)
        self.filter.currentIndexChanged.connect(lambda _i: self.reload())
        self.contact_filter = QLineEdit(self)
        self.contact_filter.setAccessibleName("Filter by contact")
        self.contact_filter.setPlaceholderText("Contact, number or notes…")
        self.contact_filter.setClearButtonEnabled(True)
        self.contact_filter.returnPressed.connect(self.reload)
        self.contact_filter.textChanged.connect(lambda text: None if text else self.reload())
        self.log_button = QPushButton("&Log a call…", self)
        self.log_button.setToolTip(f"Open the quick log with a running timer ({QUICK_LOG_SHORTCUT})")
        self.log_button.clicked.connect(self.open_quick_log)
        self.call_back_button = QPushButton("Call &back at…", self)
        self.call_back_button.clicked.connect(self.on_call_back)
        self.task_button = QPushButton("Make a &task", self)
        self.task_button.clicked.connect(self.on_make_task)
        self.export_button = QPushButton("E&xport CSV…", self)
        self.export_button.clicked.connect(self.on_export)
        self.import_button = QPushButton("&Import…", self)
        self.import_button.setToolTip("Import a phone system's call log: Google Voice Takeout, Android backup XML, Twilio, "
                                      "RingCentral, or any CSV")
        import_menu = QMenu(self.import_button)
        import_menu.addAction("A file (XML, JSON, CSV, HTML)…", self.on_import_file)
        import_menu.addAction("A folder (Google Voice Takeout)…", self.on_import_folder)
        self.import_button.setMenu(import_menu)
        self.mapping_dialog: ColumnMappingDialog | None = None

        self.table = QTableView(self)
        self.table.setObjectName("call-log")
        self.table.setAccessibleName("Call log")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setMinimumSectionSize(40)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)  # right-click: show or hide columns
        for column, title in enumerate(CallLogModel.headers):
            if title and column != 0:
                toggle = QAction(title, header)
                toggle.setCheckable(True)
                toggle.setChecked(True)
                toggle.toggled.connect(lambda shown, c=column: self.table.setColumnHidden(c, not shown))
                header.addAction(toggle)
        self.column_actions = {a.text(): a for a in header.actions()}
        self._load_request = 0
        self.table.selectionModel().currentRowChanged.connect(lambda current, _prev: self.show_details(current.row()))
        self.table.doubleClicked.connect(lambda _index: self.on_edit())
        self.edit_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Return), self.table, self.on_edit)
        self.edit_shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)

        self.totals = QLabel(self)
        self.totals.setObjectName("talk-time")
        self.totals.setWordWrap(True)
        self.person = QLabel(self)
        self.person.setObjectName("call-person")
        self.person.setWordWrap(True)
        self.history = QListWidget(self)
        self.history.setAccessibleName("Calls with this person")
        self.threads = QListWidget(self)
        self.threads.setAccessibleName("Threads with this person")
        for side_list in (self.history, self.threads):  # a narrow side panel: whole lines, no sideways scrolling
            side_list.setWordWrap(True)
            side_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            side_list.setTextElideMode(Qt.TextElideMode.ElideRight)

        bar = QHBoxLayout()
        bar.addWidget(self.filter)
        bar.addWidget(self.contact_filter, 1)
        bar.addWidget(self.log_button)
        bar.addWidget(self.call_back_button)
        bar.addWidget(self.task_button)
        bar.addWidget(self.import_button)
        bar.addWidget(self.export_button)
        side = QWidget(self)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.person)
        side_layout.addWidget(QLabel("Calls with them", side))
        side_layout.addWidget(self.history, 1)
        side_layout.addWidget(QLabel("Threads with them", side))
        side_layout.addWidget(self.threads, 1)
        side_layout.addWidget(QLabel("Talk time", side))
        side_layout.addWidget(self.totals)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(side)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([880, 260])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)
        # The tab must not widen the window's minimum: the bar and the table squeeze (and scroll) instead.
        layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self._update_buttons()

    def minimumSizeHint(self) -> QSize:
        return QSize(240, 200)

    def _fit_columns(self) -> None:
        """Widths from the header and the text of the page's first rows, when the page arrives (shown or behind
        another tab): Qt's own fit asked every role of every cell in view through the delegate on the tab's first
        showing after a switch, 250 ms of the GUI thread at scale."""
        fit_columns(self.table, self.model, COLUMN_WIDEST)
        # E.164 repeats the number in another form (the side pane shows it for the selected call): hidden, so the
        # notes fit at 1280 px; the header's menu brings it back.
        self.column_actions["E.164"].setChecked(False)

    # -- loading ---------------------------------------------------------------------------------------------------
    def set_principal(self, principal: Principal | None) -> None:
        """Shown: the page is read at once. Behind another tab (a principal switch from the inbox) the page and its
        names are read on the worker and shown when they arrive, and the list is emptied meanwhile: normalising and
        matching 500 numbers on the GUI thread was most of the time from Ctrl+PgDn to the new inbox painted."""
        self.principal = principal
        if principal is None or self.isVisible():
            self.reload()
            return
        self._load_request += 1
        request, principal_id, region = self._load_request, principal.id, principal.region
        assert principal_id is not None  # principals come from the store
        calls_filter = self.current_filter()
        self.model.set_calls([], principal.timezone, {})
        self.show_details(-1)

        def load(store: Store) -> tuple[list[Call], dict[int, str]]:
            return read_page(store.scope(principal_id), calls_filter, region)

        def show(result: tuple[list[Call], dict[int, str]]) -> None:
            if request == self._load_request and self.principal is not None and self.principal.id == principal_id:
                self._show_page(self.principal, *result)

        self.tasks.run(load, on_done=show)

    def current_filter(self) -> call_store.CallFilter:
        f = call_store.CallFilter()
        principal = self.principal
        choice = self.filter.currentData()
        if choice == "missed":
            f.direction = "missed"
        elif choice in ("today", "week") and principal is not None:
            start, end = call_store.today_bounds(principal.timezone)
            if choice == "week":
                local_day = timezones.in_zone(start, principal.timezone).date()
                start, _ = timezones.day_bounds_utc(local_day - timedelta(days=local_day.weekday()), principal.timezone)
            f.since_utc, f.until_utc = start, end
        text = self.contact_filter.text().strip()
        if text and principal is not None:
            info = normalise(text, principal.region)
            if info.kind == "phone":
                f.party_key = info.key
            else:
                f.text = text
                f.also_keys = call_store.contact_keys_named(self.store.scope(principal.id), text, principal.region)
        return f

    def reload(self) -> None:
        principal = self.principal
        if principal is None:
            self.model.set_calls([], "UTC", {})
            self.totals.setText("")
            self.show_details(-1)
            return
        self._load_request += 1  # a page still coming from the worker is older than this one
        self._show_page(principal, *read_page(self.store.scope(principal.id), self.current_filter(), principal.region))

    def _show_page(self, principal: Principal, calls: list[Call], names: dict[int, str]) -> None:
        self.model.set_calls(calls, principal.timezone, names)
        self._fit_columns()
        self._load_totals(principal)
        if calls:
            self.table.selectRow(0)
        else:
            self.show_details(-1)
        self._update_buttons()
        self._lay_out_when_hidden()

    def _lay_out_when_hidden(self) -> None:
        """Behind another tab: laid out after what arrived (the page, its totals, the details), so that showing Calls
        only paints."""
        if not self.isVisible():
            QTimer.singleShot(0, self, self._lay_out_hidden)

    def _lay_out_hidden(self) -> None:
        if not self.isVisible():
            lay_out_hidden(self)

    def _load_totals(self, principal: Principal) -> None:
        """Talk time reads every call of the principal: on the worker, not the GUI thread."""
        self._totals_request = getattr(self, "_totals_request", 0) + 1
        request, principal_id, zone = self._totals_request, principal.id, principal.timezone
        assert principal_id is not None  # principals come from the store

        def load(store: Store) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
            scope = store.scope(principal_id)
            return call_store.talk_time(scope, zone, by="day"), call_store.talk_time(scope, zone, by="week")

        def show(result: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> None:
            if request == self._totals_request and self.principal is not None and self.principal.id == principal_id:
                self._show_totals(principal, *result)

        self.tasks.run(load, on_done=show)

    def _show_totals(self, principal: Principal, days: list[dict[str, Any]], weeks: list[dict[str, Any]]) -> None:
        today = f"{timezones.in_zone(timezones.now_utc(), principal.timezone).date():%Y-%m-%d}"
        today_total = next((d for d in days if d["period"] == today), {"calls": 0, "seconds": 0})
        def calls(n: int) -> str:
            return f"{n} call{'s' if n != 1 else ''}"

        lines = [f"Today: {calls(today_total['calls'])}, {talk_text(today_total['seconds'])}"]
        lines += [f"{w['period']}: {calls(w['calls'])}, {talk_text(w['seconds'])}" for w in weeks[:4]]
        lines += ["Per day:"] + [f"  {d['period']}: {talk_text(d['seconds'])}" for d in days[:5]]
        self.totals.setText("\n".join(lines))
        self._lay_out_when_hidden()

    def selected_call(self) -> Call | None:
        return self.model.call_at(self.table.currentIndex().row())

    def show_details(self, row: int) -> None:
        """The selected call's person, their earlier calls and the threads with them: read on the worker (a contact
        match and two searches), shown when they arrive unless another call was selected meanwhile."""
        self.history.clear()
        self.threads.clear()
        call = self.model.call_at(row)
        principal = self.principal
        self._update_buttons()
        self._details_request += 1
        request = self._details_request
        if call is None or principal is None:
            self.person.setText("")
            return

        def shown(details: CallDetails) -> None:
            if request == self._details_request:
                self._show_details(details)

        self.tasks.run(lambda store: load_call_details(store, principal, call), on_done=shown)

    def _show_details(self, details: CallDetails) -> None:
        self.person.setText(details.person_html)
        self.history.addItems(details.history)
        self.threads.addItems(details.threads)
        self._lay_out_when_hidden()

    def _update_buttons(self) -> None:
        has_call = self.selected_call() is not None
        self.call_back_button.setEnabled(has_call)
        self.task_button.setEnabled(has_call)
        self.export_button.setEnabled(self.principal is not None)
        self.import_button.setEnabled(self.principal is not None)
        self.log_button.setEnabled(self.principal is not None)

    # -- quick log -------------------------------------------------------------------------------------------------
    def lookup(self, number: str, principal_id: int | None) -> tuple[int | None, str]:
        owner = pick_principal(self.store, number, None)
        pid = principal_id if principal_id is not None else owner
        if pid is None:
            return owner, ""
        principal = self.store.principal(pid)
        return owner, ContactMatcher(self.store.scope(pid), principal.region).match(number).name

    def open_quick_log(self, **clock: Any) -> QuickLogDialog | None:
        principals = self.store.principals()
        if not principals:
            return None
        if self.quick_log is not None and self.quick_log.isVisible():
            self.quick_log.raise_()
            self.quick_log.activateWindow()
            return self.quick_log
        dialog = QuickLogDialog(principals, self.principal.id if self.principal else None, lookup=self.lookup,
                                parent=self, **clock)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.call_logged.connect(self.save_quick_log)
        dialog.finished.connect(lambda _r: setattr(self, "quick_log", None))
        self.quick_log = dialog
        dialog.show()
        return dialog

    def save_quick_log(self, result: QuickLogResult) -> None:
        from assistant.calls.manual import log_call

        def save(store: Store) -> Call:
            from assistant.calls.manual import call_back

            with store.transaction():  # the call and its follow-ups land together
                call = log_call(store, result.principal_id, number=result.number, direction=result.direction,
                                started_utc=result.started_utc, duration_s=result.duration_s,
                                caller_name=result.caller_name, outcome=result.outcome, notes=result.notes)
                if result.call_back_utc is not None:
                    call_back(store, result.principal_id, call, result.call_back_utc)
                if result.make_task:
                    board.make_task_from(store, result.principal_id, "call", call.id)
            return call

        self.tasks.run(save, on_done=self._on_call_saved,
                       on_error=lambda error: self.follow_up_made.emit(describe_error(error)))

    def on_changed(self, changes: Changes) -> None:
        if self.principal is not None and changes.touches(Area.CALLS, Area.CONTACTS, principal_id=self.principal.id):
            self.reload()

    def _on_call_saved(self, call: Call) -> None:
        self.call_logged.emit(call.id)
        self.follow_up_made.emit(f"Call logged ({format_elapsed(call.duration_s)}).")

    # -- follow-ups --------------------------------------------------------------------------------------------------
    def on_call_back(self) -> CallBackDialog | None:
        call, principal = self.selected_call(), self.principal
        if call is None or principal is None:
            return None
        who = self.model.display_name(call) or call.number_e164 or call.number_raw or "the caller"
        dialog = CallBackDialog(principal, who, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.add_call_back(call, dialog.due_utc()))
        dialog.open()
        return dialog

    def add_call_back(self, call: Call, due_utc: datetime) -> None:
        from assistant.calls.manual import call_back

        principal = self.principal
        if principal is None:
            return
        when = f"{timezones.in_zone(due_utc, principal.timezone):%a %d %b %H:%M %Z}"
        self.tasks.run(lambda store: call_back(store, call.principal_id, call, due_utc),
                       on_done=lambda _r: self.follow_up_made.emit(f"Reminder set: call back {when}."),
                       on_error=lambda error: self.follow_up_made.emit(describe_error(error)))

    def on_edit(self) -> EditCallDialog | None:
        """Name, outcome and notes of the selected call, as they become known after the call."""
        call = self.selected_call()
        if call is None:
            return None
        dialog = EditCallDialog(call, self.model.display_name(call), self)
        principal_title(dialog, dialog.windowTitle(), self.principal)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.save_edit(call, *dialog.values(), duration_s=dialog.duration_s()))
        dialog.open()
        return dialog

    def save_edit(self, call: Call, caller_name: str, outcome: str, notes: str, duration_s: int | None = None) -> None:
        """Save the dialog's values; a changed duration moves the call's time entry (``calls.manual.edit_call``)."""
        from assistant.calls.manual import edit_call

        call_id = call.id
        assert call_id is not None  # the calls shown come from the store

        def save(store: Store) -> Call:
            return edit_call(store, call.principal_id, call_id, caller_name=caller_name, outcome=outcome, notes=notes,
                             duration_s=duration_s)

        row = self.table.currentIndex().row()

        def done(updated: Call) -> None:  # the table has reloaded from the change (on_changed): select it again
            if 0 <= row < self.model.rowCount():
                self.table.selectRow(row)
            self.follow_up_made.emit("Call updated.")

        self.tasks.run(save, on_done=done, on_error=lambda error: self.follow_up_made.emit(describe_error(error)))

    def on_make_task(self) -> None:
        call = self.selected_call()
        if call is None or not call.id:
            return
        call_id = call.id
        self.tasks.run(lambda store: board.make_task_from(store, call.principal_id, "call", call_id),
                       on_done=lambda task: self.follow_up_made.emit(f"Task made: {task.title}"),
                       on_error=lambda error: self.follow_up_made.emit(describe_error(error)))

    def _titled(self, title: str) -> str:
        """A dialog's title naming whose calls it is about."""
        return f"{title} — {self.principal.name}" if self.principal is not None else title

    def on_import_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self._titled("Import a call log"))
        if path:
            self.import_path(Path(path))

    def on_import_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, self._titled("Import a Google Voice Takeout folder"))
        if path:
            self.import_path(Path(path))

    def import_path(self, path: Path, mapping: dict[str, str] | None = None) -> None:
        """Import on the worker; an unknown CSV asks for its columns once (:class:`ColumnMappingDialog`)."""
        from assistant.importing.calls import MappingNeeded, import_calls

        principal = self.principal
        if principal is None:
            return
        principal_id = principal.id
        assert principal_id is not None  # principals come from the store

        def failed(error: BaseException) -> None:
            if isinstance(error, MappingNeeded):
                self.ask_mapping(path, error.header)
            else:
                self.failed.emit(f"{path.name} could not be imported: {describe_error(error)}")

        def done(report: Any) -> None:  # the table reloads from the change (on_changed)
            text = (f"Imported {report.imported} calls from {path.name}; skipped {report.skipped}"
                    f" (already there, or texts); rejected {len(report.rejected)}.")
            if report.rejected:
                item, reason = report.rejected[0]
                text += f" First rejected: {item}: {reason}"
            self.follow_up_made.emit(text)

        def progress(p: ImportProgress) -> None:  # on the worker thread: the signal is queued to the GUI thread
            self.import_progress.emit(f"Importing {path.name}: {p.items:,} read, {p.imported:,} imported…")

        self.tasks.run(lambda store: import_calls(store, principal_id, path, mapping=mapping, progress=progress),
                       on_done=done, on_error=failed)

    def ask_mapping(self, path: Path, header: list[str]) -> ColumnMappingDialog:
        dialog = ColumnMappingDialog(path, header, self)
        principal_title(dialog, dialog.windowTitle(), self.principal)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.import_path(path, dialog.mapping()))
        dialog.finished.connect(lambda _r: setattr(self, "mapping_dialog", None))
        self.mapping_dialog = dialog
        dialog.open()
        return dialog

    def on_export(self, path: str | None = None) -> None:
        from assistant.calls.export import write_csv

        principal = self.principal
        if principal is None:
            return
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, self._titled("Export calls"), f"calls-{principal.name}.csv", "CSV (*.csv)")
            if not path:
                return
        principal_id, f, zone = principal.id, self.current_filter(), principal.timezone
        assert principal_id is not None  # principals come from the store

        def export(store: Store) -> int:
            scope = store.scope(principal_id)
            calls = call_store.calls_page(scope, f, limit=max(1, call_store.count_calls(scope, f)))
            with private_files.exporting(path) as scratch, open(scratch, "w", newline="", encoding="utf-8") as handle:
                write_csv(handle, calls, zone)
            return len(calls)

        self.tasks.run(export, on_done=lambda n: self.follow_up_made.emit(f"Exported {n} calls to {Path(path).name}."),
                       on_error=lambda error: self.follow_up_made.emit(describe_error(error)))


class EditCallDialog(QDialog):
    def __init__(self, call: Call, shown_name: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Edit call")
        self.caller_name = QLineEdit(call.caller_name or shown_name, self)
        self.caller_name.setAccessibleName("Caller name")
        self.outcome = QLineEdit(call.outcome, self)
        self.outcome.setAccessibleName("Outcome")
        self.notes = QPlainTextEdit(call.notes, self)
        self.notes.setAccessibleName("Notes")
        self.notes.setTabChangesFocus(True)
        self.duration = QTimeEdit(QTime(0, 0).addSecs(min(call.duration_s, 23 * 3600 + 59 * 60 + 59)), self)
        self.duration.setDisplayFormat("H:mm:ss")
        self.duration.setAccessibleName("Duration (hours, minutes, seconds)")
        self.duration.setToolTip("How long the call lasted; its time entry follows")
        self.duration.setEnabled(call.direction in (CallDirection.INCOMING, CallDirection.OUTGOING))
        form = QFormLayout()
        form.addRow("&Name", self.caller_name)
        form.addRow("&Duration", self.duration)
        form.addRow("&Outcome", self.outcome)
        form.addRow("No&tes", self.notes)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel,
                                   parent=self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def values(self) -> tuple[str, str, str]:
        return self.caller_name.text().strip(), self.outcome.text().strip(), self.notes.toPlainText().strip()

    def duration_s(self) -> int | None:
        """The duration typed, or None for an unanswered call (which has none to change)."""
        return QTime(0, 0).secsTo(self.duration.time()) if self.duration.isEnabled() else None


class ColumnMappingDialog(QDialog):
    """Which column of an unknown CSV holds what; confirmed once per header, then remembered."""

    GUESSES = {
        "start": ("start", "date", "time", "when", "datetime"), "number": ("number", "phone", "from", "caller", "tel"),
        "direction": ("direction", "type", "kind"), "duration": ("duration", "length", "seconds", "secs"),
        "name": ("name", "contact", "who"), "notes": ("notes", "memo", "comment", "description"),
        "outcome": ("outcome", "result", "status"), "time": (), "id": ("id", "sid", "callid"),
    }
    LABELS = {"start": "Start (date or date and time) *", "number": "Number *", "direction": "Direction",
              "duration": "Duration", "name": "Caller name", "notes": "Notes", "outcome": "Outcome",
              "time": "Time (if apart from the date)", "id": "Call id"}

    def __init__(self, path: Path, header: list[str], parent=None):
        super().__init__(parent)
        from assistant.importing.calls import MAPPING_FIELDS

        self.setWindowTitle(f"Columns of {path.name}")
        self.header = header
        self.combos: dict[str, QComboBox] = {}
        form = QFormLayout()
        taken: set[int] = set()
        for field_name in MAPPING_FIELDS:
            combo = QComboBox(self)
            combo.setAccessibleName(self.LABELS[field_name])
            combo.addItem("(none)", "")
            for column in header:
                combo.addItem(column, column)
            guess = self._guess(field_name, taken)
            if guess is not None:
                taken.add(guess)
                combo.setCurrentIndex(guess + 1)
            combo.currentIndexChanged.connect(self._update)
            self.combos[field_name] = combo
            form.addRow(self.LABELS[field_name], combo)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        parent=self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        intro = QLabel("This CSV is not an export Assistant knows. Say once which column holds what; CSVs with the "
                       "same columns are then read the same way.", self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self._update()

    def _guess(self, field_name: str, taken: set[int]) -> int | None:
        normed = ["".join(ch for ch in h.lower() if ch.isalnum()) for h in self.header]
        for word in self.GUESSES[field_name]:
            for index, name in enumerate(normed):
                if index not in taken and (name == word or (len(word) > 3 and word in name)):
                    return index
        return None

    def mapping(self) -> dict[str, str]:
        return {name: combo.currentData() for name, combo in self.combos.items() if combo.currentData()}

    def _update(self) -> None:
        chosen = self.mapping()
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled("start" in chosen and "number" in chosen)


def _escape(text: str) -> str:
    import html

    return html.escape(text)


def read_page(scope: Any, calls_filter: call_store.CallFilter, region: str) -> tuple[list[Call], dict[int, str]]:
    """The tab's page of calls and the names its numbers match (the mail is searched only for the selected call)."""
    calls = call_store.calls_page(scope, calls_filter, limit=PAGE)
    matcher = ContactMatcher(scope, region, search_mail=False)
    names = {c.id: matcher.match(normalise(c.number_raw, region)).name
             for c in calls if not c.caller_name and c.id}  # stored calls: all have ids
    return calls, {k: v for k, v in names.items() if v}


def install(window: Any) -> CallsView:
    """The Calls tab, the window-wide quick log (Ctrl+Shift+L) at the top of the File menu, and "call:" links."""
    view = CallsView(window.store, window.tasks)
    window.add_view(view, "Ca&lls")
    window.principal_changed.connect(lambda _pid: view.set_principal(window.current_principal))
    view.follow_up_made.connect(window.show_status)
    view.import_progress.connect(window.show_status)
    view.failed.connect(window.show_error)
    action = QAction("Log a &call…", window)
    action.setShortcut(QKeySequence(QUICK_LOG_SHORTCUT))
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.setStatusTip("Open the quick log with a running timer, for the call that is starting")
    action.triggered.connect(lambda: view.open_quick_log())
    window.addAction(action)
    window.add_file_action(action)
    view.quick_log_action = action
    window.register_link("call", lambda _pid, _id: window.views.setCurrentWidget(view))
    return view
