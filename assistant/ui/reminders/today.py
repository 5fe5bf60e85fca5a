"""The Today tab: every principal's day on one timeline in the assistant's own time (business hours shaded, meetings,
due items, now), what is due and overdue today across principals below it (each row names its principal, with the time
in their zone and in the assistant's), the in-app notification list, and the wiring of the reminder scheduler, the
notifier chain and the tray into the main window (:func:`install`)."""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from assistant import reminders
from assistant.core import timezones
from assistant.domain import Principal
from assistant.reminders.timeline import Meeting, Timeline, day_timeline
from assistant.store import Store
from assistant.store.changes import Area, Changes
from assistant.ui.reminders.notifications import (
    NotificationItem,
    NotificationListModel,
    default_chain,
    item_from_notice,
)
from assistant.ui.reminders.scheduler import ReminderScheduler
from assistant.ui.reminders.timeline import TimelineWidget
from assistant.ui.reminders.tray import TrayController
from assistant.ui.style import app_icon, app_icon_path
from assistant.ui.widgets.pages import lay_out_hidden
from assistant.ui.widgets.tables import RowTableModel, fit_columns

log = logging.getLogger(__name__)

AnyIndex = QModelIndex | QPersistentModelIndex
COLUMNS = ["Principal", "Kind", "What", "Due (their time)", "Due (your time)", "Status"]


def load_today(store: Store, now: datetime) -> list[dict[str, Any]]:
    """Rows for the Today view (``reminders.today_items``: the same rows the principal switcher counts)."""
    return reminders.today_items(store, now)


def load_day(store: Store, now: datetime, assistant_zone: str, meetings: bool = True
             ) -> tuple[list[dict[str, Any]], Timeline]:
    """The Today list's rows and the timeline over the same rows, in one read on the worker (``meetings``: read and
    expand the calendars too)."""
    rows = load_today(store, now)
    return rows, day_timeline(store, now, assistant_zone, rows, meetings=meetings)


class TodayModel(RowTableModel[dict[str, Any]]):
    headers = tuple(COLUMNS)

    def __init__(self, parent: QObject | None = None, clock: Callable[[], datetime] = timezones.now_utc):
        super().__init__(parent)
        self.clock = clock
        self.assistant_zone = timezones.assistant_zone_name()
        self.colours: dict[int, str] = {}

    def set_rows(self, rows: Iterable[dict[str, Any]], assistant_zone: str | None = None) -> None:
        with self.resetting():
            self.rows = list(rows)
            if assistant_zone:
                self.assistant_zone = assistant_zone

    def counts(self) -> tuple[int, int]:
        now = self.clock()
        overdue = sum(1 for r in self.rows if r["state"] == "pending" and r["due_utc"] <= now or r["missed"])
        return len(self.rows), overdue

    def header_data(self, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and column == 4:
            return f"Due (your time, {self.assistant_zone})"
        return super().header_data(column, role)

    def display(self, row: dict[str, Any], column: int) -> Any:
        if column == 0:
            return row["principal"]
        if column == 1:
            return row["kind"].replace("-", " ")
        if column == 2:
            return row["text"]
        if column == 3:
            return f"{timezones.in_zone(row['due_utc'], row['timezone']):%a %H:%M %Z}"
        if column == 4:
            return f"{timezones.in_zone(row['due_utc'], self.assistant_zone):%a %H:%M %Z}"
        return reminders.item_status(row, self.clock())

    def cell_data(self, row: dict[str, Any], column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole and column in (3, 4):
            return f"{row['principal']}: {row['timezone']}; you: {self.assistant_zone}"
        late = ("overdue", "missed")
        if role == Qt.ItemDataRole.ForegroundRole and column == 5 and reminders.item_status(row, self.clock()) in late:
            return QColor("#c2410c")
        if role == Qt.ItemDataRole.DecorationRole and column == 0 and row["principal_id"] in self.colours:
            return QColor(self.colours[row["principal_id"]])
        return None


class TodayView(QWidget):
    """The timeline on top (the day at a glance: who is working, who meets when, what falls due; every lane in sight
    up to two fifths of the tab, then they scroll), and below it, split, the list of due items (what to act on: open,
    snooze, dismiss, in both zones) and the notifications."""

    open_requested = Signal(int, str)  # principal id, link
    reloaded = Signal()

    def __init__(self, tasks: Any, notifications: NotificationListModel, parent: QWidget | None = None,
                 clock: Callable[[], datetime] = timezones.now_utc):
        super().__init__(parent)
        self.setObjectName("today-view")
        self.tasks = tasks
        self.clock = clock
        self.model = TodayModel(self, clock)
        self.table = QTableView(self)
        self.table.setObjectName("today-table")
        self.table.setAccessibleName("Due and overdue today")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        # Sized from the rows' text when they arrive (_fit_columns), not by the header on every showing: in
        # ResizeToContents mode Qt asked every role of the first 200 rows through the delegate each time the tab was
        # shown, most of the time from Ctrl+<n> to painted.
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)  # sized with room for the colour mark
        self.table.doubleClicked.connect(self.on_open)

        self.notifications = notifications
        self.notification_list = QListView(self)
        self.notification_list.setObjectName("notification-list")
        self.notification_list.setAccessibleName("Notifications")
        self.notification_list.setModel(notifications)
        self.notification_list.setWordWrap(True)
        # laid out a hundred rows at a time, between paints: a thousand missed reminders at start need not all be
        # measured before the tab is first painted
        self.notification_list.setLayoutMode(QListView.LayoutMode.Batched)
        self.notification_list.setBatchSize(100)

        self.open_button = QPushButton("&Open", self)
        self.open_button.clicked.connect(self.on_open)
        self.snooze_button = QPushButton("&Snooze", self)
        self.snooze_button.setToolTip("Snooze until the principal's next business morning, in their zone")
        self.snooze_button.clicked.connect(self.on_snooze)
        self.dismiss_button = QPushButton("&Dismiss", self)
        self.dismiss_button.clicked.connect(self.on_dismiss)
        self.refresh_button = QPushButton("&Refresh", self)
        self.refresh_button.clicked.connect(lambda: self.reload(meetings=True))
        self.settings_button = QPushButton("Se&ttings…", self)
        self.settings_button.setToolTip("Notifications per principal (on, only urgent, off) and quiet hours")
        self.settings_button.clicked.connect(self.open_settings)
        self.summary = QLabel(self)
        self.summary.setObjectName("today-summary")
        self.summary.setWordWrap(True)
        self.summary.setMinimumWidth(60)
        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        for b in (self.open_button, self.snooze_button, self.dismiss_button, self.refresh_button):
            buttons.addWidget(b)

        self.timeline = TimelineWidget(self, clock)
        self.timeline.meeting_activated.connect(self.on_meeting_activated)
        self.timeline.item_activated.connect(self.on_item_activated)
        self.timeline_caption = QLabel(self)
        self.timeline_caption.setObjectName("today-timeline-caption")
        self.timeline_caption.setWordWrap(True)
        self.timeline_caption.setMinimumWidth(60)
        self.timeline_scroll = QScrollArea(self)
        self.timeline_scroll.setWidget(self.timeline)
        self.timeline_scroll.setWidgetResizable(True)
        self.timeline_scroll.setFrameShape(QFrame.Shape.StyledPanel)
        self.timeline_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._meetings_for: tuple[date, str] | None = None  # the day and zone the timeline's meetings were read for

        top = QWidget(self)
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addLayout(buttons)
        top_layout.addWidget(self.table)
        bottom = QWidget(self)
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        notifications_bar = QHBoxLayout()
        notifications_bar.addWidget(QLabel("Notifications (double-click to open)", bottom), 1)
        notifications_bar.addWidget(self.settings_button)
        bottom_layout.addLayout(notifications_bar)
        bottom_layout.addWidget(self.notification_list)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.addWidget(top)
        self.splitter.addWidget(bottom)
        self.splitter.setSizes([500, 200])
        layout = QVBoxLayout(self)
        layout.addWidget(self.timeline_caption)
        layout.addWidget(self.timeline_scroll)
        layout.addSpacing(4)
        layout.addWidget(self.splitter, 1)
        self._fit_timeline()
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._update_buttons())
        self._update_buttons()

    def open_settings(self) -> NotificationSettingsDialog:
        dialog = NotificationSettingsDialog(self.tasks, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _update_buttons(self) -> None:
        row = self.current_row()
        self.open_button.setEnabled(row is not None and bool(row["link"]))
        for b in (self.snooze_button, self.dismiss_button):
            b.setEnabled(row is not None and row["reminder_id"] is not None)

    def current_row(self) -> dict[str, Any] | None:
        index = self.table.currentIndex()
        return self.model.row_at(index.row()) if index.isValid() else None

    def reload(self, meetings: bool = False) -> None:
        """Read the rows and the timeline again; the meetings too with ``meetings`` or on a new day (a minute's tick
        only ages what is due, and expanding every principal's calendar each minute would be waste)."""
        now = self.clock()
        zone = timezones.assistant_zone_name()
        with_meetings = meetings or self._meetings_for != (timezones.in_zone(now, zone).date(), zone)
        self.tasks.run(lambda store: load_day(store, now, zone, with_meetings),
                       on_done=lambda result: self._apply(result, zone))

    def _apply(self, result: tuple[list[dict[str, Any]], Timeline], zone: str) -> None:
        rows, timeline = result
        previous = self.timeline.timeline
        if timeline.meetings_loaded:
            self._meetings_for = (timeline.day, timeline.zone)
        elif previous is not None and (previous.day, previous.zone) == (timeline.day, timeline.zone):
            kept = {lane.principal_id: lane.meetings for lane in previous.lanes}
            for lane in timeline.lanes:
                lane.meetings = kept.get(lane.principal_id, [])
            timeline.problems = previous.problems
        self.model.colours = {lane.principal_id: lane.colour for lane in timeline.lanes}
        self.notifications.set_assistant_zone(zone)
        self.model.set_rows(rows, zone)
        self._show_timeline(timeline)
        self._fit_columns(timeline)
        due, overdue = self.model.counts()
        self.summary.setText(f"{due} due today across principals, {overdue} overdue or missed")
        self._update_buttons()
        if not self.isVisible():  # behind another tab: laid out now, so that showing Today only paints
            QTimer.singleShot(0, self, self._lay_out_hidden)
        self.reloaded.emit()

    def _lay_out_hidden(self) -> None:
        if not self.isVisible():
            lay_out_hidden(self)
            self.timeline.prepare_paint()

    def _fit_columns(self, timeline: Timeline) -> None:
        """Each column as wide as its header and the first rows' text; the principal's column as wide as the
        longest name of a lane (any of them may have a row further down), with the colour mark."""
        fit_columns(self.table, self.model, {1: 200, 3: 220, 4: 220, 5: 160})
        mark = self.table.iconSize().width() if self.table.iconSize().isValid() else 16
        names = [self.table.fontMetrics().horizontalAdvance(lane.name) for lane in timeline.lanes]
        widest = max([self.table.horizontalHeader().sectionSizeHint(0), *names, 80])
        self.table.setColumnWidth(0, min(widest + mark + 16, 260))

    def _show_timeline(self, timeline: Timeline) -> None:
        self.timeline.set_timeline(timeline)
        caption = (f"{timeline.day:%a %d %b} in your time ({timeline.zone}) · shaded: each principal's business "
                   "hours · click a meeting or a due ◆ to open it")
        if timeline.problems:
            count = len(timeline.problems)
            caption += f" · {count} event{'s' if count != 1 else ''} could not be read"
        self.timeline_caption.setText(caption)
        self.timeline_caption.setToolTip("Could not read: " + "; ".join(timeline.problems) if timeline.problems
                                         else "")
        self._fit_timeline()

    def _fit_timeline(self) -> None:
        """Every lane in sight, up to two fifths of the tab (then the lanes scroll), and the list keeps the rest."""
        timeline = self.timeline
        frame = 2 * self.timeline_scroll.frameWidth()
        natural = timeline.sizeHint().height() + frame
        least = timeline.header_height() + 2 * timeline.lane_height() + frame
        self.timeline_scroll.setFixedHeight(min(natural, max(least, self.height() * 2 // 5)))

    def resizeEvent(self, event) -> None:
        self._fit_timeline()
        super().resizeEvent(event)

    def on_meeting_activated(self, principal_id: int, meeting: Meeting) -> None:
        """A meeting on the timeline: the calendar, on its day, with it selected."""
        self.open_requested.emit(principal_id, meeting.link)

    def on_item_activated(self, row: dict[str, Any]) -> None:
        """A due item on the timeline: its row selected in the list, and opened as the list opens it."""
        index = next((i for i, r in enumerate(self.model.rows) if r is row), None)
        if index is not None:
            self.table.selectRow(index)
        if row["link"]:
            self.open_requested.emit(row["principal_id"], row["link"])
        else:
            self.table.setFocus()

    def on_open(self, *_args: Any) -> None:
        row = self.current_row()
        if row is not None and row["link"]:
            self.open_requested.emit(row["principal_id"], row["link"])

    def on_snooze(self) -> None:
        row = self.current_row()
        if row is None or row["reminder_id"] is None:
            return
        now = self.clock()
        self.tasks.run(lambda store: reminders.snooze_to_business_morning(store, row["principal_id"],
                                                                           row["reminder_id"], now),
                       on_done=lambda _r: self._changed(row["reminder_id"]))

    def on_dismiss(self) -> None:
        row = self.current_row()
        if row is None or row["reminder_id"] is None:
            return
        self.tasks.run(lambda store: reminders.dismiss(store, row["principal_id"], row["reminder_id"]),
                       on_done=lambda _ok: self._changed(row["reminder_id"]))

    def _changed(self, reminder_id: int) -> None:  # the list reloads from the change (ReminderWiring.on_changed)
        self.notifications.remove_reminder(reminder_id)


class NotificationSettingsDialog(QDialog):
    """Per principal: notifications on / only urgent / off and quiet hours in their zone; the assistant's own quiet
    hours in the laptop's zone. Read and saved on the worker."""

    saved = Signal()

    def __init__(self, tasks: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Notification settings")
        self.setObjectName("notification-settings")
        self.tasks = tasks
        self.rows: dict[int, tuple[QComboBox, QLineEdit]] = {}
        self.form = QFormLayout()
        self.assistant_quiet = QLineEdit(self)
        self.assistant_quiet.setPlaceholderText("e.g. 22:00-07:00")
        self.assistant_quiet.setAccessibleName("Your quiet hours")
        self.error = QLabel(self)
        self.error.setObjectName("settings-error")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

        def load(store):
            rows = [(p.id, p.name, p.timezone, reminders.notification_settings(store, p.id)) for p in store.principals()]
            return rows, reminders.assistant_quiet_hours(store)

        tasks.run(load, on_done=self._fill)

    @staticmethod
    def _hours(start, end) -> str:
        return f"{start:%H:%M}-{end:%H:%M}" if start and end else ""

    def _fill(self, result) -> None:
        rows, (a_start, a_end) = result
        for principal_id, name, zone, settings in rows:
            notify = QComboBox(self)
            for value, label in (("on", "On"), ("urgent", "Only urgent"), ("off", "Off")):
                notify.addItem(label, value)
            notify.setCurrentIndex(notify.findData(settings.notify))
            notify.setAccessibleName(f"Notifications for {name}")
            quiet = QLineEdit(self._hours(settings.quiet_start, settings.quiet_end), self)
            quiet.setPlaceholderText(f"quiet hours in {zone}, e.g. 22:00-07:00")
            quiet.setAccessibleName(f"Quiet hours for {name}")
            quiet.setMinimumWidth(self._field_width(quiet))
            row = QHBoxLayout()
            row.addWidget(notify)
            row.addWidget(quiet, 1)
            self.form.addRow(f"{name} ({zone})", row)
            self.rows[principal_id] = (notify, quiet)
        self.assistant_quiet.setText(self._hours(a_start, a_end))
        self.assistant_quiet.setMinimumWidth(self._field_width(self.assistant_quiet))
        self.form.addRow(f"Your quiet hours ({timezones.assistant_zone_name()})", self.assistant_quiet)
        self.adjustSize()  # the rows arrived after the dialog was sized: grow to hold them

    @staticmethod
    def _field_width(field: QLineEdit) -> int:
        """Wide enough for "22:00-07:00" with room to edit (the rows arrive after the dialog is laid out, and were
        squeezed to 30 px)."""
        return field.fontMetrics().horizontalAdvance("00:00-00:00") + 40

    def values(self) -> tuple[dict[int, tuple[str, str]], str]:
        return ({pid: (notify.currentData(), quiet.text()) for pid, (notify, quiet) in self.rows.items()},
                self.assistant_quiet.text())

    def save(self) -> None:
        per_principal, mine = self.values()

        def write(store):
            with store.transaction():  # all or nothing: a bad field leaves every setting as it was
                for principal_id, (notify, quiet) in per_principal.items():
                    reminders.set_notification_settings(store, principal_id, notify=notify, quiet_hours=quiet)
                reminders.set_assistant_quiet_hours(store, mine)

        def done(_result: object) -> None:
            self.saved.emit()
            self.accept()

        self.tasks.run(write, on_done=done, on_error=lambda exc: self.error.setText(str(exc)))


# -- wiring into the main window -----------------------------------------------------------------------------------
def bring_up(window: Any) -> None:
    window.show()
    window.showNormal()
    if QGuiApplication.platformName() != "offscreen":  # it has no window stacking, and warns
        window.raise_()
        window.activateWindow()


def open_item(window: Any, principal_id: int, link: str) -> None:
    """Bring the window up on ``principal_id`` and show what ``link`` points at (a notification, the tray, Today)."""
    bring_up(window)
    window.open_link(principal_id, link)


class _KeepInTray(QObject):
    """Closing the window hides it while a tray icon exists; quitting from the tray closes it for real."""

    def __init__(self, window: QWidget, wiring: ReminderWiring):
        super().__init__(window)
        self.window = window
        self.wiring = wiring
        self.told = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Close:
            if self.wiring.tray.has_tray and not self.wiring.quitting:
                event.ignore()
                self.window.hide()
                if not self.told and self.wiring.tray.icon is not None:
                    self.told = True
                    self.wiring.tray.icon.showMessage("Assistant", "Still watching reminders from the tray.")
                return True
            self.wiring.shutdown()
        return False


class ReminderWiring(QObject):
    """What :func:`install` builds: the scheduler, the notifier chain, the tray, and the Today view."""

    def __init__(self, window: Any, clock: Callable[[], datetime] = timezones.now_utc, start: bool = True):
        super().__init__(window)
        self.window = window
        self.clock = clock
        self.quitting = False
        self.notifications = NotificationListModel(self)
        self.view = TodayView(window.tasks, self.notifications, clock=clock)
        self.tray = TrayController(app_icon(), self)
        self.chain = default_chain(self.tray.icon, self.notifications, self, icon_path=str(app_icon_path()))
        self.scheduler = ReminderScheduler(window.tasks.run, clock, parent=self)

        self.scheduler.started.connect(self.on_notices)
        self.scheduler.fired.connect(self.on_notices)
        self.chain.clicked.connect(lambda item: open_item(window, item.principal_id, item.link))
        self.chain.acted.connect(self.on_notification_action)
        self.view.open_requested.connect(lambda pid, link: open_item(window, pid, link))
        self.view.notification_list.doubleClicked.connect(self.on_notification_activated)
        self.view.reloaded.connect(self.update_tray)
        self.tray.open_requested.connect(lambda: bring_up(window))
        self.tray.sync_requested.connect(window.on_sync_now)
        self.tray.quit_requested.connect(self.quit)
        self.tray.pause_toggled.connect(self.on_pause_toggled)
        self.tray.item_requested.connect(lambda pid, link: open_item(window, pid, link))
        self.scheduler.tick.timeout.connect(self.view.reload)  # statuses age, and the laptop's zone may change
        window.sync_finished.connect(self._on_sync_finished)
        window.tasks.changed.connect(self.on_changed)
        self.keep_in_tray = _KeepInTray(window, self)
        window.installEventFilter(self.keep_in_tray)
        if self.tray.has_tray:
            QApplication.setQuitOnLastWindowClosed(False)
        window.tasks.run(reminders.is_paused, on_done=self.tray.set_paused)
        if start:
            self.scheduler.start()
        self.view.reload()

    def _on_sync_finished(self, reports: object) -> None:
        self.scheduler.reload(meetings=True)  # the synced meetings get their reminders
        # the sync's reports (an error instead when the whole sync failed); read by what they carry, so the engine
        # is not loaded at start-up for its type
        failed = [r for r in reports if getattr(r, "failed_now", 0)] if isinstance(reports, list) else []
        if failed:  # a change the provider refused for good (a send bounced at submission, a move refused)
            def whose(store: Store) -> list[tuple[Any, Principal]]:
                return [(r, store.principal(store.account(r.account_id).principal_id)) for r in failed]

            self.window.tasks.run(whose, on_done=self.notify_failed_changes)

    def notify_failed_changes(self, rows: list[tuple[Any, Principal]]) -> None:
        """One urgent notice per account whose outbox had entries fail for good in this sync, through the same
        notifiers as reminders (the entries stay in the outbox, failed, with their error, until retried or
        discarded; later syncs report them without notifying again)."""
        for report, principal in rows:
            sends = [f for f in report.failed if f["op"] == "send"]
            what = "Send failed" if sends else "A change was not made"
            count = report.failed_now
            reason = ((sends or report.failed or [{"error": ""}])[0]["error"]) or "refused by the server"
            body = f"{count} change{'s' if count != 1 else ''} from {report.address} did not go through: {reason}"
            self.chain.notify(NotificationItem(principal.id, principal.name, f"{principal.name} — {what}", body, "",
                                               None, timezones.now_utc(), principal.timezone, urgent=True))

    def on_changed(self, changes: Changes) -> None:
        """Any principal's reminders or cards changed (a follow-up set, a card made, a reminder fired), or their
        calendars or business hours: Today shows every principal's, and the scheduler arms what is due."""
        if changes.touches(Area.REMINDERS):
            self.scheduler.reload()
        if changes.touches(Area.REMINDERS, Area.BOARD, Area.PRINCIPALS, Area.CALENDAR):
            self.view.reload(meetings=changes.touches(Area.CALENDAR, Area.PRINCIPALS))

    def on_notices(self, notices: list[reminders.Notice]) -> None:
        for notice in notices:
            self.chain.notify(item_from_notice(notice))
        if not self.scheduler.stopped:  # after quitting, the worker is gone
            self.view.reload()

    def on_approval_notice(self, notice) -> None:
        """A principal's decision, or a draft waiting too long: through the same notifiers as reminders (one tray)."""
        self.chain.notify(NotificationItem(notice.principal_id, notice.principal_name, "Approvals", notice.text,
                                           "approvals", None, timezones.now_utc(), notice.principal_timezone,
                                           popup=notice.popup))

    def on_notification_activated(self, index: QModelIndex) -> None:
        item = self.notifications.data(index, NotificationListModel.ItemRole)
        if item is not None:
            self.chain.in_app.clicked.emit(item)

    def on_pause_toggled(self, paused: bool) -> None:
        self.window.tasks.run(lambda store: reminders.set_paused(store, paused))
        self.update_tray()

    def update_tray(self) -> None:
        self.tray.set_counts(*self.view.model.counts())
        self.tray.set_due_items([
            (row["principal_id"], row["link"],
             f"{row['principal']}: {row['text']} — {timezones.in_zone(row['due_utc'], row['timezone']):%H:%M %Z}")
            for row in self.view.model.rows])

    def quit(self) -> None:
        self.quitting = True
        self.window.close()
        QApplication.quit()

    def on_notification_action(self, item: NotificationItem, action: str) -> None:
        """*Snooze* (to the principal's next business morning) or *Done* (dismissed) chosen on a desktop notification;
        Today and the scheduler follow from the change."""
        reminder_id, principal_id = item.reminder_id, item.principal_id
        if reminder_id is None:
            return
        if action == "snooze":
            self.window.tasks.run(
                lambda store: reminders.snooze_to_business_morning(store, principal_id, reminder_id, self.clock()))
        elif action == "done":
            self.window.tasks.run(lambda store: reminders.dismiss(store, principal_id, reminder_id))
        self.notifications.remove_reminder(reminder_id)

    def shutdown(self) -> None:
        self.scheduler.stop()
        self.chain.close()
        self.tray.hide()


def install(window: Any, clock: Callable[[], datetime] = timezones.now_utc, start: bool = True) -> ReminderWiring:
    """The Today tab, the tray and the reminder scheduler; links nobody else opens show Today."""
    wiring = ReminderWiring(window, clock, start)
    window.add_view(wiring.view, "&Today")
    window.register_link("", lambda _pid, _id: window.views.setCurrentWidget(wiring.view))
    return wiring
