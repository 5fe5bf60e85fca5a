"""The main window: principal switcher on the left, the current principal's views in tabs, sync state below.

The GUI thread reads at most a page of rows through its own query-only connection; every write, sync and heavier read
goes through the :class:`~assistant.ui.workers.TaskManager`.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QLabel,
    QLayout,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QToolBar,
    QWidget,
)

from assistant.core.errors import UserError
from assistant.domain import Account, AccountStatus, Principal, Thread
from assistant.store import Store, db
from assistant.store import calendar as calendar_store
from assistant.store import mail as mail_store
from assistant.store.changes import Area, Changes
from assistant.ui import style
from assistant.ui.calendar.view import CalendarView
from assistant.ui.idle import IdleWatches
from assistant.ui.mail.inbox import InboxView
from assistant.ui.setup.first_run import AddPrincipalDialog, FirstRunPage
from assistant.ui.shortcuts import CommandRegistry
from assistant.ui.sidebar import PrincipalListModel, PrincipalSwitcher
from assistant.ui.undo import UndoStack
from assistant.ui.widgets.notice import NoticeBar
from assistant.ui.widgets.pages import keep_hidden_pages_sized
from assistant.ui.workers import TaskManager, describe_error

if TYPE_CHECKING:
    from assistant.ui.approvals.view import ApprovalsView
    from assistant.ui.board.follow_up import FollowUp
    from assistant.ui.board.view import BoardView
    from assistant.ui.calls.view import CallsView
    from assistant.ui.mail.actions import InboxActions
    from assistant.ui.outgoing.view import OutgoingView
    from assistant.ui.reminders.today import ReminderWiring, TodayView
    from assistant.ui.reports.scheduler import ReportScheduler
    from assistant.ui.setup.offboarding import Offboarding
    from assistant.ui.setup.principal_dialog import PrincipalActions
    from assistant.ui.timekeeping.tracker import TimeTracker
    from assistant.ui.timekeeping.view import TimeView

log = logging.getLogger(__name__)

STATUS_TEXT = {
    AccountStatus.OK: "up to date",
    AccountStatus.SYNCING: "syncing…",
    AccountStatus.NEEDS_SIGN_IN: "needs sign-in",
    AccountStatus.OFFLINE: "offline",
    AccountStatus.ERROR: "error",
}
SEARCH_LIMIT = 500


def account_state_text(account: Account) -> str:
    text = STATUS_TEXT.get(account.status, str(account.status.value))
    if account.status in (AccountStatus.ERROR, AccountStatus.NEEDS_SIGN_IN, AccountStatus.OFFLINE) and account.last_error:
        text += f" — {account.last_error}"
    elif account.status == AccountStatus.OK and account.last_sync_utc is None:
        text = "not synced yet"
    return f"{account.address or account.kind}: {text}"


class MainWindow(QMainWindow):
    # the features, made by _install_features
    inbox_actions: InboxActions
    principal_actions: PrincipalActions
    offboarding: Offboarding
    calls: CallsView
    board: BoardView
    approvals: ApprovalsView
    outgoing: OutgoingView
    reminders: ReminderWiring
    today: TodayView
    follow_up: FollowUp
    time_tracker: TimeTracker
    time_view: TimeView
    report_scheduler: ReportScheduler

    principal_changed = Signal(int)
    refreshed = Signal()
    sync_finished = Signal(object)  # the list of SyncReport, or the exception
    workspace_opened = Signal(object)  # the MainWindow that replaces this one
    features_installed = Signal()  # with defer_tabs: the last feature installed after the first paint

    FIRST_RUN_PAGE, WORKSPACE_PAGE = 0, 1
    INBOX_TAB, CALENDAR_TAB = 0, 1

    def __init__(self, workspace_dir: Path, parent: QWidget | None = None, *, hold_tasks_until_painted: bool = False,
                 defer_tabs: bool = False):
        super().__init__(parent)
        self.workspace_dir = Path(workspace_dir)
        self.demo_dir = self.workspace_dir.parent / "demo-workspace"
        self.replaced_by: MainWindow | None = None
        self.setWindowTitle("Assistant")
        self.setObjectName("main-window")
        self.store = Store(self.workspace_dir)
        self.store.db.execute("PRAGMA query_only=ON")  # the GUI thread reads; the task manager writes
        self.tasks = TaskManager(self.workspace_dir, self)
        if hold_tasks_until_painted:  # at launch: the first paint first (assistant.ui.app releases the worker)
            self.tasks.hold()
        self.tasks.task_failed.connect(self.show_error)
        self.tasks.changed.connect(self.on_changed)
        self.current_principal: Principal | None = None
        # The sidebar's "All principals": the inbox lists every principal's; current_principal is then the principal
        # of the thread open in the reader (the one the Message menu acts for), and another tab goes back to them.
        self.showing_all_principals = False
        # extension points (see "extension points" below)
        self.message_actions: dict[str, QAction] = {}
        self.thread_menu_names: list[str | None] = []  # the thread list's context menu; None is a separator
        self.compose_extensions: list[Callable[[Any], QWidget]] = []
        self._link_openers: dict[str, Callable[[int, int | None], None]] = {}
        self._accounts: list[Account] = []
        self._refresh_queued = False
        self._refresh_select: int | None = None
        self._closing = False
        self._syncing = False
        self._sync_cancel = threading.Event()  # set when the window closes: a sync's process is stopped
        self._searching = False  # a search is on the worker
        self._search_again = False  # and the box changed since: search again when it ends
        self._search_notice = ""  # the last word said of a search, taken away when the box is emptied
        # new mail while the window is open: an IDLE watch per IMAP account; a wake starts one narrow sync of that
        # account, and a wake during it one more after it (never two at once)
        self.idle = IdleWatches(self)
        self.idle.woke.connect(self.on_new_mail_reported)
        self.idle.failed.connect(self.on_new_mail_watch_failed)
        self._woken_syncing: set[int] = set()
        self._woken_again: set[int] = set()
        # the keyboard: every command with its keys (menus, Ctrl+K palette, ? sheet) and what Ctrl+Z takes back
        self.commands = CommandRegistry(self)
        self.undo = UndoStack(self)

        self._build_views()
        self._build_actions()
        self._build_status_bar()
        self._install_features(defer=defer_tabs)

        self.clock = QTimer(self)
        self.clock.setInterval(60_000)
        self.clock.timeout.connect(self.on_minute)
        self.clock.start()

        self._load_principals_now()
        self.restore_settings()
        self.refresh()
        self._say_if_not_encrypted()  # last: the worker reads what the first views show first

    # -- construction --------------------------------------------------------------------------------------------
    def _build_views(self) -> None:
        self.pages = QStackedWidget(self)
        self.first_run = FirstRunPage(self.pages)
        self.first_run.open_demo_requested.connect(self.on_open_demo)
        self.first_run.add_principal_requested.connect(self.on_add_principal)
        self.pages.addWidget(self.first_run)

        self.principals = PrincipalListModel(self)
        self.switcher = PrincipalSwitcher()
        self.switcher.setModel(self.principals)
        self.switcher.selectionModel().currentRowChanged.connect(self.on_switcher_row_changed)

        self.inbox = InboxView(self.store, self.tasks)
        self.inbox.thread_principal_changed.connect(self.on_thread_principal_changed)
        self.calendar = CalendarView(self.tasks)
        self.calendar.acting_for.connect(self.on_thread_principal_changed)
        self.views = QTabWidget()
        self.views.setObjectName("views")
        self.views.setDocumentMode(True)
        keep_hidden_pages_sized(self.views)  # a tab's first showing only paints (widgets/pages.py)
        self.views.addTab(self.inbox, "&Inbox")
        self.views.addTab(self.calendar, "&Calendar")
        self.views.currentChanged.connect(self.on_view_changed)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("main-splitter")
        self.splitter.addWidget(self.switcher)
        self.splitter.addWidget(self.views)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([290, 1110])
        self.splitter.setChildrenCollapsible(False)
        self.pages.addWidget(self.splitter)
        self.setCentralWidget(self.pages)
        # The layout would otherwise push a new minimum size to the window system whenever a child is shown or
        # hidden; size hints are the window manager's business, and the offscreen platform warns about each push.
        layout = self.layout()
        assert layout is not None  # a QMainWindow always has its own layout
        layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self.setMinimumSize(640, 420)

    def _build_actions(self) -> None:
        self.sync_action = QAction("&Sync now", self)
        self.sync_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Refresh))
        self.sync_action.setStatusTip("Fetch new mail and events for every account and send what is waiting")
        self.sync_action.triggered.connect(self.on_sync_now)
        self.add_principal_action = QAction("&Add principal…", self)
        self.add_principal_action.triggered.connect(self.on_add_principal)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Quit))
        self.quit_action.triggered.connect(self.close)

        self.inbox_action = QAction("&Inbox", self)
        self.inbox_action.setShortcut(QKeySequence("Ctrl+1"))
        self.inbox_action.triggered.connect(lambda: self.views.setCurrentIndex(self.INBOX_TAB))
        self.calendar_action = QAction("&Calendar", self)
        self.calendar_action.setShortcut(QKeySequence("Ctrl+2"))
        self.calendar_action.triggered.connect(lambda: self.views.setCurrentIndex(self.CALENDAR_TAB))
        self.next_principal_action = QAction("&Next principal", self)
        self.next_principal_action.setShortcuts([QKeySequence("Ctrl+PgDown"), QKeySequence("Alt+Down")])
        self.next_principal_action.triggered.connect(lambda: self.step_principal(1))
        self.previous_principal_action = QAction("&Previous principal", self)
        self.previous_principal_action.setShortcuts([QKeySequence("Ctrl+PgUp"), QKeySequence("Alt+Up")])
        self.previous_principal_action.triggered.connect(lambda: self.step_principal(-1))

        self.file_menu = self.menuBar().addMenu("&File")
        self.file_menu.addAction(self.sync_action)
        self.file_menu.addAction(self.add_principal_action)
        self._file_principal_end = self.file_menu.addSeparator()
        self.file_menu.addAction(self.quit_action)
        self.edit_menu = self.menuBar().addMenu("&Edit")
        view_menu = self.view_menu = self.menuBar().addMenu("&View")
        for action in (self.inbox_action, self.calendar_action):
            view_menu.addAction(action)
        self._view_tabs_end = view_menu.addSeparator()  # add_view puts each tab's Ctrl+3…9 entry before this
        view_menu.addAction(self.next_principal_action)
        view_menu.addAction(self.previous_principal_action)
        self.message_menu = self.menuBar().addMenu("&Message")
        self.help_menu = self.menuBar().addMenu("&Help")

        self.toolbar = QToolBar("Main", self)
        self.toolbar.setObjectName("main-toolbar")
        self.toolbar.setMovable(False)
        self.toolbar.addAction(self.sync_action)
        self.toolbar.addAction(self.inbox_action)
        self.toolbar.addAction(self.calendar_action)
        for action, icon_name in ((self.sync_action, "sync"), (self.inbox_action, "inbox"),
                                  (self.calendar_action, "calendar")):
            action.setIcon(style.icon(icon_name))
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        spacer = QWidget(self.toolbar)
        spacer.setSizePolicy(spacer.sizePolicy().Policy.Expanding, spacer.sizePolicy().Policy.Preferred)
        self.toolbar.addWidget(spacer)
        self.search = QLineEdit(self.toolbar)
        self.search.setObjectName("search")
        self.search.setAccessibleName("Search mail")
        self.search.setPlaceholderText("Search  (from:  to:  subject:  has:attachment  before:  after:)")
        self.search.setClearButtonEnabled(True)
        self.search.addAction(style.icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.search.setMinimumWidth(420)
        self.search.returnPressed.connect(self.on_search)
        self.search.textChanged.connect(self.on_search_text_changed)
        self.toolbar.addWidget(self.search)
        self.addToolBar(self.toolbar)
        view_menu.addAction(self.toolbar.toggleViewAction())
        self._build_keys()

    # -- keys ------------------------------------------------------------------------------------------------------------
    def _build_keys(self) -> None:
        """The keyboard (UX.md, "Keys"): the window's own commands in the registry, where single keys work, the Edit and
        Help menus. Features add theirs through add_message_action / add_file_action / commands.add."""
        commands = self.commands
        commands.add_area("mail", "in the thread list and the reader", self.inbox.threads, self.inbox.reader)
        commands.add_area("list", "in the thread list", self.inbox.threads)
        for name, action in (("sync", self.sync_action), ("add-principal", self.add_principal_action),
                             ("quit", self.quit_action)):
            commands.add_action(name, action, "File")
        self.undo_action = commands.add("undo", "&Undo", self.undo_last, keys=[QKeySequence.StandardKey.Undo],
                                        group="Edit", status_tip="Take back the last archive, delete, move or mark")
        self.undo_action.setEnabled(False)
        self.undo.changed.connect(self._on_undo_changed)
        # every undoable action answers in the notice, with Undo (the same entry as Ctrl+Z: it runs once)
        self.undo.pushed.connect(lambda entry: None if entry.quiet else
                                 self.notify(entry.text, undo=lambda: self.undo.undo(entry)))
        self.search_action = commands.add("search", "&Search mail", self.focus_search,
                                          keys=[QKeySequence.StandardKey.Find], area="mail", area_keys=["/"],
                                          group="Edit")
        self.palette_action = commands.add("command-palette", "&Command palette…", self.open_command_palette,
                                           keys=["Ctrl+K"], group="Edit",
                                           status_tip="Every command with its keys; type to filter, Enter runs")
        self.edit_menu.addAction(self.undo_action)
        self.edit_menu.addSeparator()
        self.edit_menu.addAction(self.search_action)
        self.edit_menu.addAction(self.palette_action)
        for name, action in (("tab-1", self.inbox_action), ("tab-2", self.calendar_action),
                             ("next-principal", self.next_principal_action),
                             ("previous-principal", self.previous_principal_action)):
            commands.add_action(name, action, "View")
        self.shortcut_sheet_action = commands.add("shortcut-sheet", "&Keyboard shortcuts", self.show_shortcut_sheet,
                                                  keys=[QKeySequence.StandardKey.HelpContents], area="mail",
                                                  area_keys=["?"], group="Help")
        self.about_action = commands.add("about", "&About Assistant", self.show_about, group="Help")
        self.help_menu.addAction(self.shortcut_sheet_action)
        self.help_menu.addAction(self.palette_action)
        self.help_menu.addSeparator()
        self.help_menu.addAction(self.about_action)
        self.command_palette: QDialog | None = None  # the last one opened
        self.shortcut_sheet: QDialog | None = None

    def _on_undo_changed(self) -> None:
        last = self.undo.last()
        self.undo_action.setEnabled(last is not None)
        self.undo_action.setText(f"&Undo “{last.text}”" if last is not None else "&Undo")

    def undo_last(self) -> None:
        """Ctrl+Z: take back the newest undoable action (see ui/undo.py)."""
        entry = self.undo.undo_last()
        self.show_status(f"Undoing: {entry.text}" if entry is not None else "Nothing to undo", 5000)

    def open_command_palette(self) -> None:
        from assistant.ui.palette import CommandPalette

        self.finish_start_up()  # every command is listed
        palette = self.command_palette
        if not isinstance(palette, CommandPalette):
            palette = self.command_palette = CommandPalette(self.commands.commands, "Commands", self)
        who = self.current_principal.name if self.current_principal else "Assistant"
        palette.setWindowTitle(f"Commands — {who}")
        palette.filter.clear()
        palette.refilter("")  # what can run now
        palette.open()
        palette.filter.setFocus()

    def show_shortcut_sheet(self) -> None:
        from assistant.ui.palette import ShortcutSheet

        self.finish_start_up()
        if self.shortcut_sheet is not None:
            self.shortcut_sheet.deleteLater()
        sheet = ShortcutSheet(self.commands.commands(), "Single keys (e, r, #, j, k, /, ?…) work in the thread list, "
                              "the reader and on the board's cards, never while you type in a field. Ctrl+K finds any "
                              "command.", self)
        self.shortcut_sheet = sheet
        sheet.open()

    def show_about(self) -> None:
        from assistant import __version__

        QMessageBox.about(self, "About Assistant",
                          f"<b>Assistant</b> {__version__}<br>Mail, calendars, calls and tasks for the people you "
                          "assist, one workspace on this computer.<br>Keyboard shortcuts: F1 or ?.")

    # -- extension points ----------------------------------------------------------------------------------------------
    # The window declares where features plug in; each feature's install() registers into these and returns its own
    # object, which the window keeps (see _install_features). Nothing else reaches into the window.
    def add_view(self, widget: QWidget, title: str) -> None:
        """A tab beside the inbox and the calendar; the first nine tabs have Ctrl+1…9 (View menu)."""
        index = self.views.addTab(widget, title)
        if index < 9:
            action = self.commands.add(f"tab-{index + 1}", title, lambda: self.views.setCurrentWidget(widget),
                                       keys=[f"Ctrl+{index + 1}"], group="View")
            self.view_menu.insertAction(self._view_tabs_end, action)

    def add_file_action(self, action: QAction, *, principal: bool = False) -> None:
        """Into the File menu: at the top (work such as logging a call), or with *principal* beside "Add principal…"."""
        self.file_menu.insertAction(self._file_principal_end if principal else self.sync_action, action)
        self.commands.add_action(action.objectName() or action.text(), action, "File")

    def add_message_action(self, name: str, action: QAction, *, thread_menu: bool = True,
                           separator: bool = False) -> None:
        """Into the Message menu and, with ``thread_menu``, the thread list's context menu; kept in
        :attr:`message_actions` under ``name``. A shortcut the action has works anywhere in the window."""
        if separator:
            self.message_menu.addSeparator()
            if thread_menu:
                self.thread_menu_names.append(None)
        self.message_menu.addAction(action)
        if not action.shortcut().isEmpty() and action.shortcutContext() == Qt.ShortcutContext.WindowShortcut:
            self.addAction(action)  # single keys stay with the widgets they were given to (see shortcuts.py)
        self.message_actions[name] = action
        self.commands.add_action(name, action, "Message")
        if thread_menu:
            self.thread_menu_names.append(name)

    def add_compose_extension(self, extension: Callable[[Any], QWidget]) -> None:
        """``extension(compose_window)`` makes a widget for every new compose window's button row."""
        self.compose_extensions.append(extension)

    def register_link(self, kind: str, opener: Callable[[int, int | None], None]) -> None:
        """``opener(principal_id, item_id)`` shows what a link ``kind:id`` points at (a card's, a reminder's…);
        the empty kind is the fallback for links nobody else opens."""
        self._link_openers[kind] = opener

    def open_link(self, principal_id: int, link: str) -> None:
        """Switch to ``principal_id`` and show what ``link`` points at; ``event:<id>@<start, epoch seconds>`` (a meeting
        reminder's, Today's timeline's) is one occurrence of a series, shown on its own day."""
        self.finish_start_up()  # the links' openers are the features'
        self.select_principal(principal_id)
        kind, _, rest = link.partition(":")
        event_id, _, start = rest.partition("@")
        if kind == "event" and event_id.isdigit() and start.isdigit():
            from assistant.core.timezones import from_epoch_required

            self.views.setCurrentWidget(self.calendar)
            self.calendar.show_occurrence(int(event_id), from_epoch_required(int(start)))
            return
        opener = self._link_openers.get(kind) or self._link_openers.get("")
        if opener is not None:
            opener(principal_id, int(rest) if rest.isdigit() else None)

    def add_status_widget(self, widget: QWidget) -> None:
        """A permanent widget in the status bar, right of the sync state (the automatic clock)."""
        self.statusBar().addPermanentWidget(widget)

    def show_status(self, text: str, timeout_ms: int = 6000) -> None:
        """A transient notice (it goes after ``timeout_ms``)."""
        self.notice.show_notice(text, timeout_ms=timeout_ms)

    def notify(self, text: str, *, undo: Callable[[], object] | None = None, error: bool = False) -> None:
        """What an action did, with *Undo* when ``undo`` is given; an error stays until dismissed."""
        self.notice.show_notice(text, undo=undo, error=error)

    # -- features --------------------------------------------------------------------------------------------------------
    # The features whose tabs and objects the first paint does not show; with ``defer_tabs`` (the app's launch) they are
    # installed after it, one per turn of the event loop (install_next_feature), or all at once as soon as something
    # asks for one (finish_start_up: a feature's attribute, a menu opened, a key with Ctrl/Alt, a link, the palette).
    DEFERRED_FEATURES = frozenset({"offboarding", "calls", "board", "approvals", "outgoing", "reminders", "today",
                                   "follow_up", "time_view", "report_scheduler", "time_tracker"})

    def _install_features(self, *, defer: bool) -> None:
        """The features, in the order their tabs and menu entries appear. Each registers into the extension points
        above and returns its object; the wiring between two features is here, where both are known."""
        from assistant.ui.mail import actions as inbox_actions
        from assistant.ui.setup import principal_dialog

        self.register_link("message", lambda pid, ident: self._open_mail(pid, ident, message=True))
        self.register_link("thread", lambda pid, ident: self._open_mail(pid, ident, message=False))
        self.register_link("event", self._open_event)
        # compose windows, the inbox's mail commands (c r a f e # u s j k, Ctrl+R …) and the Message menu's first part
        self.inbox_actions = inbox_actions.install(self)
        # add/edit a principal, add an account: the File menu and the principal list's menu
        self.principal_actions = principal_dialog.install(self)
        self._features_pending: list[Callable[[], None]] = [
            self._install_offboarding, self._install_calls, self._install_board, self._install_drafts_tabs,
            self._install_today, self._install_follow_up, self._install_time_view, self._install_report_scheduler,
            self._install_time_tracker]
        if not defer:
            self.finish_start_up()
            return
        self._start_up_keys = _FinishOnCommandKey(self)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self._start_up_keys)
        for menu in (self.file_menu, self.edit_menu, self.view_menu, self.message_menu, self.help_menu):
            menu.aboutToShow.connect(self.finish_start_up)

    @property
    def starting(self) -> bool:
        """Features are still to be installed (the launch's work after the first paint)."""
        return bool(self._features_pending)

    def install_next_feature(self) -> None:
        """One deferred feature, then the next at the next turn of the event loop (input and the worker's answers are
        handled between two)."""
        if self._closing:
            self._features_pending.clear()
        if not self._features_pending:
            return
        self._install_step(self._features_pending.pop(0))
        if self._features_pending:
            QTimer.singleShot(0, self.install_next_feature)
        else:
            self._features_installed()

    def finish_start_up(self) -> None:
        """Every feature not installed yet, now (something asked for one); none once the window is closing."""
        if self._closing:
            self._features_pending.clear()
        if not self._features_pending:
            return
        while self._features_pending:
            self._install_step(self._features_pending.pop(0))
        self._features_installed()

    def _install_step(self, install: Callable[[], None]) -> None:
        """One feature; its tab is polished now (styled, as a tab built before the window showed was when it showed),
        not at its first showing."""
        first_new = self.views.count()
        install()
        for index in range(first_new, self.views.count()):
            page = self.views.widget(index)
            if page is not None:
                page.ensurePolished()

    def _features_installed(self) -> None:
        keys = self.__dict__.pop("_start_up_keys", None)
        app = QApplication.instance()
        if keys is None:
            return  # installed in __init__, before any principal was shown: nothing to catch up with
        if app is not None:
            app.removeEventFilter(keys)
        keys.deleteLater()
        for menu in (self.file_menu, self.edit_menu, self.view_menu, self.message_menu, self.help_menu):
            menu.aboutToShow.disconnect(self.finish_start_up)
        # What the features installed late missed: the principal shown, and the message open in the reader.
        if self.current_principal is not None:
            self.principal_changed.emit(self.current_principal.id)
        shown = self.inbox.reader.message_id
        if shown is not None:
            self.inbox.reader.message_shown.emit(shown)
        self.features_installed.emit()

    if not TYPE_CHECKING:
        def __getattr__(self, name: str) -> Any:
            """A feature asked for before its deferred install: every feature is installed now."""
            if name in MainWindow.DEFERRED_FEATURES and self.__dict__.get("_features_pending"):
                self.finish_start_up()
                if name in self.__dict__:
                    return self.__dict__[name]
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _install_offboarding(self) -> None:
        from assistant.ui.setup import offboarding

        self.offboarding = offboarding.install(self)  # File → Offboard principal…: export, revoke, delete, receipt

    def _install_calls(self) -> None:
        from assistant.ui.calls import view as calls_tab

        self.calls = calls_tab.install(self)  # the Calls tab and the quick log (Ctrl+Shift+L)

    def _install_board(self) -> None:
        from assistant.ui.board import view as board_tab

        self.board = board_tab.install(self)  # the Board tab and "Make a task" (Ctrl+T)
        self.commands.keep_keys_in(self.board, QKeySequence.StandardKey.Undo)  # the board undoes its own card moves

    def _install_drafts_tabs(self) -> None:
        from assistant.ui.approvals import view as approvals_tab
        from assistant.ui.outgoing import view as outgoing_tab

        self.approvals = approvals_tab.install(self)  # drafts waiting for principals; Ask approval / Send later
        self.outgoing = outgoing_tab.install(self)  # drafts, scheduled sends and the outbox: Undo send, Retry
        for drafts_view in (self.approvals, self.outgoing):  # Revise / Edit: the draft in a compose window
            drafts_view.open_draft.connect(self.inbox_actions.open_draft)

    def _install_today(self) -> None:
        from assistant.ui.reminders import today

        self.reminders = today.install(self)  # the Today tab, the tray icon and the reminder scheduler
        self.today = self.reminders.view
        self.approvals.notice.connect(self.reminders.on_approval_notice)  # one tray, one notifier chain

    def _install_follow_up(self) -> None:
        from assistant.ui.board import follow_up

        self.follow_up = follow_up.install(self)  # "Follow up if no reply…" (Ctrl+Shift+U)
        self.follow_up.set.connect(lambda _reminder: self.reminders.scheduler.reload())

    def _install_time_view(self) -> None:
        from assistant.ui.timekeeping import view as time_tab

        self.time_view = time_tab.install(self)  # the Time tab: time per principal, billing, the retainer notices

    def _install_report_scheduler(self) -> None:
        from assistant.ui.reports import scheduler as report_scheduler

        self.report_scheduler = report_scheduler.install(self)  # each principal's reports, made at their time

    def _install_time_tracker(self) -> None:
        from assistant.ui.setup import desktop_dialog
        from assistant.ui.timekeeping import tracker

        # automatic time from what is on screen while the window is in use; last, so it sees every tab
        self.time_tracker = tracker.install(self)
        desktop_dialog.install(self)  # File → Desktop integration…: menu entry, mailto: handler, start at login

    def _open_mail(self, principal_id: int, item_id: int | None, *, message: bool) -> None:
        """A message or thread link: the thread, selected in the inbox when it is listed, else shown in the reader."""
        if item_id is None:
            return
        ident = item_id
        self.views.setCurrentWidget(self.inbox)

        def load(store: Store) -> tuple[Principal, Thread | None]:
            scope = store.scope(principal_id)
            thread_id = mail_store.message(scope, ident, with_body=False).thread_id if message else ident
            if thread_id is None:
                return scope.principal, None
            return scope.principal, mail_store.thread_summary(scope, thread_id)

        def show(result: tuple[Principal, Thread | None]) -> None:
            principal, thread = result
            if thread is None:
                return
            model = self.inbox.model
            for row in range(model.rowCount()):
                listed = model.thread_at(row)
                if listed is not None and listed.id == thread.id:
                    self.inbox.threads.select_row(row)
                    return
            self.inbox.reader.show_thread(principal, thread)

        self.tasks.run(load, on_done=show, on_error=lambda e: self.show_error(describe_error(e)))

    def _open_event(self, principal_id: int, item_id: int | None) -> None:
        """An event link: the calendar on the event's week."""
        self.views.setCurrentWidget(self.calendar)
        if item_id is None:
            return
        from assistant.ui.calendar.view import week_start

        self.tasks.run(lambda store: calendar_store.event(store.scope(principal_id), item_id),
                       on_done=lambda event: self.calendar.show_week(week_start(event.start_utc.date())),
                       on_error=lambda e: self.show_error(describe_error(e)))

    def _build_status_bar(self) -> None:
        # The notice takes the stretch and the sync state only what it needs: with the sync label stretched, the
        # message area had no width and no notice was ever seen.
        self.notice = NoticeBar(self)
        self.statusBar().addWidget(self.notice, 1)
        self.sync_status = QLabel(self)
        self.sync_status.setObjectName("sync-status")
        self.sync_status.setAccessibleName("Sync state")
        self.statusBar().addPermanentWidget(self.sync_status)
        self.encryption_state: QLabel | None = None

    NOT_ENCRYPTED = ("This workspace is not encrypted: there is no secure credential store to keep its key in. Install"
                     " and unlock gnome-keyring or KWallet, then run: assistant workspace encrypt")
    NOT_ENCRYPTED_SHORT = "Not encrypted: no secure credential store for its key"  # fits beside the sync state

    def _say_if_not_encrypted(self) -> None:
        """A workspace left plain for want of a credential store says so once, in the notice, and keeps a quiet
        "Not encrypted" beside the sync state (a workspace the user decrypted on purpose is not nagged about).
        Whether a credential store exists is asked on the worker, after the first paint: importing keyring and
        finding its backend (over D-Bus) took an eighth of the launch on the GUI thread."""
        if db.is_encrypted(self.store.path):
            return
        self.tasks.run(lambda _store: db.secure_store_available(),
                       on_done=lambda secure: None if secure or self._closing else self._say_not_encrypted())

    def _say_not_encrypted(self) -> None:
        self.encryption_state = QLabel("Not encrypted", self)
        self.encryption_state.setObjectName("encryption-state")
        self.encryption_state.setToolTip(self.NOT_ENCRYPTED)
        self.encryption_state.setAccessibleName("Workspace encryption")
        self.statusBar().addPermanentWidget(self.encryption_state)
        self.notice.show_notice(self.NOT_ENCRYPTED_SHORT, timeout_ms=20000)
        self.notice.label.setToolTip(self.NOT_ENCRYPTED)

    # -- principals ----------------------------------------------------------------------------------------------
    def _load_principals_now(self) -> None:
        """The first paint: principals are a handful of rows, read here; counts arrive from the worker."""
        self._apply_principals(self.store.principals(), {}, self.store.accounts())

    def refresh(self, select_principal_id: int | None = None) -> None:
        """Re-read principals, counts and account states off the GUI thread, then update every view. Calls while one
        is queued join it (a change announced and the caller's own refresh after it read once), the last selection
        asked for winning."""
        if select_principal_id is not None:
            self._refresh_select = select_principal_id
        if self._refresh_queued:
            return
        self._refresh_queued = True

        def apply(result: tuple[list[Principal], dict[int, dict[str, int]], list[Account]]) -> None:
            principals, counts, accounts = result
            select, self._refresh_select, self._refresh_queued = self._refresh_select, None, False
            self._apply_principals(principals, counts, accounts, reload_views=True, select=select)

        def failed(error: BaseException) -> None:
            self._refresh_queued = False
            self.show_error(describe_error(error))

        self.tasks.run(lambda store: (store.principals(), _counts(store), store.accounts()), on_done=apply,
                       on_error=failed)

    def _apply_principals(self, principals: list[Principal], counts: dict[int, dict[str, int]],
                          accounts: list[Account], reload_views: bool = False, select: int | None = None) -> None:
        self._accounts = accounts
        if not self._closing:
            self.idle.follow(accounts)
        current = self.current_principal.id if self.current_principal else None
        keep = select if select is not None else current
        self.switcher.selectionModel().blockSignals(True)
        self.principals.set_principals(principals, counts)
        self.switcher.selectionModel().blockSignals(False)
        has_principals = bool(principals)
        self.search.setEnabled(has_principals)
        for action in (self.next_principal_action, self.previous_principal_action, self.inbox_action,
                       self.calendar_action, *self.message_actions.values()):
            action.setEnabled(has_principals)  # with no principal there is no one to write for, or a message to act on
        self.sync_action.setEnabled(has_principals and not self._syncing)
        if not principals:
            self.pages.setCurrentIndex(self.FIRST_RUN_PAGE)
            self._set_principal(None)
            self.refreshed.emit()
            return
        self.pages.setCurrentIndex(self.WORKSPACE_PAGE)
        if self.showing_all_principals and select is None and self.principals.all_row >= 0:
            self.switcher.selectionModel().blockSignals(True)
            self.switcher.setCurrentIndex(self.principals.index(self.principals.all_row))
            self.switcher.selectionModel().blockSignals(False)
            kept = {p.id: p for p in principals}.get(current) if current is not None else None
            self.current_principal = kept or principals[0]  # picks up edits to the principal
            if reload_views:
                self.inbox.model.update_principals(principals)
                self.calendar.show_all_principals(principals)  # their names, colours and zones as edited
                self._reload_views()
            self._update_sync_status()
            self.refreshed.emit()
            return
        row = self.principals.row_of(keep) if keep is not None else -1
        row = max(row, 0)
        principal = self.principals.principal_at(row)
        if principal is None:  # the All-principals row: the first principal's
            row = self.principals.row_of(principals[0].id)
            principal = principals[0]
        same = principal.id == current and not self.showing_all_principals
        self.switcher.selectionModel().blockSignals(True)
        self.switcher.setCurrentIndex(self.principals.index(row))
        self.switcher.selectionModel().blockSignals(False)
        if not same:
            self._set_principal(principal)
        else:
            self.current_principal = principal  # picks up edits to the principal
            if reload_views:
                self._reload_views()
            self._update_sync_status()
        self.refreshed.emit()

    def select_principal(self, principal_id: int) -> None:
        row = self.principals.row_of(principal_id)
        if row >= 0:
            self.switcher.setCurrentIndex(self.principals.index(row))

    def step_principal(self, step: int) -> None:
        count = self.principals.rowCount()
        if count:
            row = (self.switcher.currentIndex().row() + step) % count
            self.switcher.setCurrentIndex(self.principals.index(row))

    def on_switcher_row_changed(self, current, _previous) -> None:
        if current.isValid() and current.row() == self.principals.all_row:
            self.show_all_principals()
            return
        principal = self.principals.principal_at(current.row()) if current.isValid() else None
        if principal is not None and (self.current_principal is None or principal.id != self.current_principal.id
                                      or self.showing_all_principals):
            self._set_principal(principal)

    def show_all_principals(self) -> None:
        """The sidebar's *All principals*: every principal's inbox in one list and every principal's calendar on one
        grid, each row and event tagged with its principal; the search box searches them all. The Calendar tab stays
        if it is showing, else the inbox shows."""
        if self.principals.all_row < 0:
            return
        if self.switcher.currentIndex().row() != self.principals.all_row:
            self.switcher.setCurrentIndex(self.principals.index(self.principals.all_row))  # comes back here
            return
        self.showing_all_principals = True
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        if self.views.currentWidget() is not self.calendar:
            self.views.setCurrentWidget(self.inbox)
        self.inbox.show_all_principals(self.principals.principals())
        self.calendar.show_all_principals(self.principals.principals())
        self.setWindowTitle("All principals — Assistant")
        self._update_sync_status()
        self.inbox_actions.refresh_pending()

    def on_thread_principal_changed(self, principal: Principal) -> None:
        """In All principals, the principal of the thread shown (or the event selected on the calendar) is the one the
        window acts for (the Message menu, Make a task)."""
        if self.showing_all_principals:
            self.current_principal = principal

    def on_view_changed(self, _index: int) -> None:
        """Another tab than the inbox and the calendar shows one principal's: All principals gives way to the principal
        last read."""
        if self.showing_all_principals and self.views.currentWidget() not in (self.inbox, self.calendar) \
                and self.current_principal is not None:
            self.select_principal(self.current_principal.id)

    def _set_principal(self, principal: Principal | None) -> None:
        self.showing_all_principals = False
        self.current_principal = principal
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self.inbox.set_principal(principal)
        self.calendar.set_principal(principal)
        self.setWindowTitle(f"{principal.name} — Assistant" if principal else "Assistant")
        self._update_sync_status()
        if principal is not None:
            self.principal_changed.emit(principal.id)

    def _reload_views(self) -> None:
        if self.search.text().strip():
            self.on_search()
        else:
            self.inbox.reload_list()  # on the worker: after a sync the GUI thread reads nothing
        self.calendar.show_week(self.calendar.model.monday)

    def on_changed(self, changes: Changes) -> None:
        """Principals or accounts edited, added or synced: the switcher and the sync line again; mail or anything due
        changed: the switcher's counts."""
        if changes.touches(Area.PRINCIPALS, Area.ACCOUNTS):
            self.refresh()
        elif changes.touches(Area.MAIL, Area.REMINDERS, Area.BOARD):
            self.refresh_counts()

    def on_minute(self) -> None:
        self.principals.tick()
        self.refresh_counts()

    def refresh_counts(self) -> None:
        self.tasks.run(lambda store: _counts(store), on_done=self.principals.set_counts)

    # -- sync ----------------------------------------------------------------------------------------------------
    def _update_sync_status(self, syncing: bool = False) -> None:
        principal = self.current_principal
        if principal is None:
            self.sync_status.setText("")
            return
        if self.showing_all_principals:  # every account: those to look at by name, the rest counted
            if syncing:
                self.sync_status.setText("Syncing every account…")
                return
            trouble = [a for a in self._accounts if a.status != AccountStatus.OK]
            fine = len(self._accounts) - len(trouble)
            self.sync_status.setText("   ·   ".join([account_state_text(a) for a in trouble]
                                                   + ([f"{fine} accounts up to date"] if fine else [])))
            return
        mine = [a for a in self._accounts if a.principal_id == principal.id]
        if not mine:
            self.sync_status.setText(f"{principal.name} has no accounts yet")
            return
        if syncing:
            self.sync_status.setText("   ·   ".join(f"{a.address or a.kind}: syncing…" for a in mine))
        else:
            self.sync_status.setText("   ·   ".join(account_state_text(a) for a in mine))

    def on_sync_now(self) -> None:
        if self._syncing:
            return
        self._syncing = True
        self.sync_action.setEnabled(False)
        self._update_sync_status(syncing=True)

        cancel = self._sync_cancel

        def sync(store: Store) -> Any:
            # In a process of its own: its parsing and writes would hold this process's interpreter lock and keep the
            # GUI thread from running (issue 17); the worker only waits, and records what the child changed.
            from assistant.sync.process import SyncJob, run_sync

            return run_sync(store, SyncJob(), cancel)

        self.tasks.run(sync, on_done=self._on_sync_done, on_error=self._on_sync_failed)

    def on_new_mail_watch_failed(self, _account_id: int, text: str) -> None:
        if not self._closing:
            self.show_error(text)

    def on_new_mail_reported(self, account_id: int, folder: str) -> None:
        """The server said ``folder`` changed (IDLE): sync that folder of that account, one pass at a time."""
        if self._closing or self.tasks.closed:
            return
        if account_id in self._woken_syncing:
            self._woken_again.add(account_id)
            return
        self._woken_syncing.add(account_id)

        def sync(store: Store) -> Any:
            from assistant.sync.engine import sync_account

            return sync_account(store, account_id, woken_folder=folder)

        def done(_result: Any) -> None:
            self._woken_syncing.discard(account_id)
            if account_id in self._woken_again:
                self._woken_again.discard(account_id)
                self.on_new_mail_reported(account_id, folder)

        def failed(error: BaseException) -> None:
            done(None)
            self.show_error(describe_error(error))

        self.tasks.run(sync, on_done=done, on_error=failed)

    def _on_sync_done(self, reports: Any) -> None:
        self._syncing = False
        self.sync_action.setEnabled(True)
        self.show_status("Sync finished", 5000)
        self.sync_finished.emit(reports)
        self.refresh()

    def _on_sync_failed(self, error: BaseException) -> None:
        self._syncing = False
        self.sync_action.setEnabled(True)
        if isinstance(error, ImportError):
            self.show_error("Sync is not available in this build yet.")
        else:
            if not isinstance(error, UserError):
                log.error("sync failed", exc_info=error)
            self.show_error(describe_error(error))
        self.sync_finished.emit(error)
        self.refresh()

    # -- search --------------------------------------------------------------------------------------------------
    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def on_search(self) -> None:
        """Search what the box says, on the worker. One search at a time: typing while one runs asks for one more
        with the newest text when it ends (:meth:`_on_search_done`), so the worker never queues a search per key."""
        principal = self.current_principal
        query = self.search.text().strip()
        if principal is None:
            return
        if not query:
            self.inbox.model.reload()
            return
        if self._searching:
            self._search_again = True
            return
        self._searching, self._search_again = True, False
        if self.showing_all_principals:  # every principal's mail, each thread tagged with its principal
            self.views.setCurrentIndex(self.INBOX_TAB)
            self.tasks.run(
                lambda store: mail_store.search_threads_across_principals(store, query, SEARCH_LIMIT),
                on_done=lambda threads: self._on_search_done(None, query, threads),
                on_error=self._on_search_failed,
            )
            return
        principal_id = principal.id
        assert principal_id is not None  # principals shown come from the store
        self.views.setCurrentIndex(self.INBOX_TAB)
        self.tasks.run(
            lambda store: mail_store.search_threads(store.scope(principal_id), query, SEARCH_LIMIT),
            on_done=lambda threads: self._on_search_done(principal_id, query, threads),
            on_error=self._on_search_failed,
        )

    def _on_search_failed(self, error: BaseException) -> None:
        self._searching = False
        again, self._search_again = self._search_again, False
        if again:
            self.on_search()  # typed on: the newest text may well be a query (``after:2025-0`` was not yet)
        elif isinstance(error, UserError):  # a query not finished typing: said in passing, not as a notice to close
            self._say_of_search(describe_error(error))
        else:
            self.show_error(describe_error(error))

    def _on_search_done(self, principal_id: int | None, query: str, threads: list[Thread]) -> None:
        """``principal_id``: whose mail was searched; None: every principal's."""
        self._searching = False
        again, self._search_again = self._search_again, False
        stale = (query != self.search.text().strip()  # typed on meanwhile, or cleared
                 or (principal_id is None and not self.showing_all_principals)
                 or (principal_id is not None and (self.showing_all_principals or self.current_principal is None
                                                   or self.current_principal.id != principal_id)))
        if stale:
            if again:
                self.on_search()  # the box's newest text, for whoever is shown now
            return
        self.inbox.model.show_search_results(query, threads)
        self._say_of_search(f"{len(threads)} threads match {query!r}")

    def _say_of_search(self, text: str) -> None:
        """A passing word about the search box's query, which goes when the box is emptied."""
        self._search_notice = text
        self.show_status(text, 5000)

    def on_search_text_changed(self, text: str) -> None:
        """Search as you type; an emptied box shows the list again."""
        if text.strip():
            self.on_search()
            return
        if self.notice.isVisible() and self.notice.text() == self._search_notice:
            self.notice.dismiss()  # "12 threads match …" said of a search no longer shown
        if self.inbox.model.search_query:
            self.inbox.model.reload()

    # -- first run -----------------------------------------------------------------------------------------------
    def on_open_demo(self) -> None:
        """Build the demo in its own folder beside this workspace (never over it), then open a window on it."""
        demo_dir = self.demo_dir
        self.first_run.set_busy("Building the demo workspace — this takes a moment…")

        def build(_store: Store) -> Path:
            from assistant.demo.build import build_demo
            from assistant.ui.single_instance import in_use

            if in_use(demo_dir):  # another Assistant has the demo open: never rebuilt under it
                raise UserError(f"Assistant is open on the demo in another window ({demo_dir}): use that one")
            build_demo(demo_dir)
            return demo_dir

        self.tasks.run(build, on_done=self.open_workspace,
                       on_error=lambda error: self.first_run.show_error(
                           "The demo is not available in this build yet." if isinstance(error, ImportError)
                           else describe_error(error)))

    def open_workspace(self, workspace_dir: Path) -> MainWindow:
        """Replace this window by one on another workspace, in the same place and size."""
        self.first_run.set_busy("")
        window = MainWindow(workspace_dir)
        window.setGeometry(self.geometry())
        window.show()
        self.replaced_by = window
        self.workspace_opened.emit(window)
        self.close()  # its stores and worker close; the new window owns the app from here
        return window

    def on_add_principal(self) -> AddPrincipalDialog:
        dialog = AddPrincipalDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.add_principal(dialog.principal()))
        dialog.open()
        return dialog

    def add_principal(self, principal: Principal) -> None:
        def add(store: Store) -> Principal:
            return store.add_principal(principal)

        self.tasks.run(add, on_done=lambda added: self.refresh(select_principal_id=added.id), on_error=lambda error: self.show_error(describe_error(error)))

    def show_error(self, text: str) -> None:
        self.notice.show_notice(text, error=True)
        if self.pages.currentIndex() == self.FIRST_RUN_PAGE:
            self.first_run.show_error(text)

    # -- settings ------------------------------------------------------------------------------------------------
    def restore_settings(self) -> None:
        settings = QSettings()
        geometry = settings.value("main_window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 900)
        for key, splitter in (("main_window/splitter", self.splitter), ("inbox/splitter", self.inbox.splitter)):
            state = settings.value(key)
            if isinstance(state, QByteArray) and not state.isEmpty():
                splitter.restoreState(state)
        state = settings.value("main_window/state")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)
        principal_id = settings.value("main_window/principal_id")
        if principal_id == "all":
            self.show_all_principals()
        elif principal_id is not None:
            try:
                self.select_principal(int(principal_id))
            except (TypeError, ValueError):
                pass

    def save_settings(self) -> None:
        settings = QSettings()
        settings.setValue("main_window/geometry", self.saveGeometry())
        settings.setValue("main_window/state", self.saveState())
        settings.setValue("main_window/splitter", self.splitter.saveState())
        settings.setValue("inbox/splitter", self.inbox.splitter.saveState())
        if self.showing_all_principals:
            settings.setValue("main_window/principal_id", "all")
        elif self.current_principal is not None:
            settings.setValue("main_window/principal_id", self.current_principal.id)
        settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._closing:
            self._closing = True
            self.save_settings()
            self.clock.stop()
            installed = self.__dict__  # a window closed during its launch: what was installed (see finish_start_up)
            if "approvals" in installed:
                self.approvals.check_timer.stop()  # its ticks ask the worker, which is going
            if "time_tracker" in installed:
                self.time_tracker.stop()  # the segment counting is written before the worker stops
            if "report_scheduler" in installed:
                self.report_scheduler.stop()
            self.idle.stop()
            self._sync_cancel.set()  # a sync's process stops (each page landed whole); the worker then ends
            self.tasks.shutdown()
            self.store.close()
        super().closeEvent(event)


def _counts(store: Store) -> dict[int, dict[str, int]]:
    """Worker side: each principal's counts (the reminders' package is imported there, after the first paint)."""
    from assistant import reminders

    return reminders.counts(store)


class _FinishOnCommandKey(QObject):
    """While features are still being installed after the first paint: a key with Ctrl, Alt or Meta may be one of
    theirs (Ctrl+3…9, Ctrl+Shift+L, Ctrl+T…), so they are all installed before Qt looks the key up (it asks the focus
    widget with a ShortcutOverride first, then its shortcut map)."""

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) and event.modifiers() & (
                Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
                | Qt.KeyboardModifier.MetaModifier):
            self.window.finish_start_up()
        return False
