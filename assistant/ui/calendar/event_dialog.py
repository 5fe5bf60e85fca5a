"""Dialogs of the calendar: an event (times in the principal's zone, the assistant's shown as a hint) and free time."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from PySide6.QtCore import QDate, QTime, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTimeEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from assistant.core import timezones
from assistant.domain import CalendarEvent, Principal
from assistant.ui.widgets.identity import principal_title
from assistant.ui.workers import TaskManager, describe_error

REPEATS = (("Does not repeat", ""), ("Every day", "FREQ=DAILY"), ("Every week", "FREQ=WEEKLY"))


def _py_date(value: QDate) -> date:
    result = value.toPython()  # the stub says object; a QDate gives a date
    assert isinstance(result, date)
    return result


def _py_time(value: QTime) -> time:
    result = value.toPython()  # the stub says object; a QTime gives a time
    assert isinstance(result, time)
    return result


def _hint_text(principal_zone: str, assistant_zone: str, start_utc: datetime, end_utc: datetime | None) -> str:
    if assistant_zone == principal_zone:
        return ""
    mine = timezones.in_zone(start_utc, assistant_zone)
    text = f"Your time: {mine:%a %d %b %H:%M}"
    if end_utc is not None:
        text += f"–{timezones.in_zone(end_utc, assistant_zone):%H:%M}"
    return f"{text} {mine.tzname()} ({assistant_zone})"


class EventDialog(QDialog):
    """Create (``event is None``) or edit an event. The caller reads :meth:`request` once the dialog is accepted."""

    def __init__(self, principal: Principal, assistant_zone: str, *, event: CalendarEvent | None = None,
                 start: datetime | None = None, end: datetime | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.principal = principal
        self.assistant_zone = assistant_zone
        self.calendar_event = event
        self.deleted = False
        zone = principal.timezone
        principal_title(self, f"{'Edit' if event else 'New'} event", principal)
        self.setObjectName("event-dialog")

        if event is not None and event.start_utc is not None:
            start = start or event.start_utc
            end = end or event.end_utc or event.start_utc + timedelta(hours=1)
        if start is None:
            now = timezones.in_zone(timezones.now_utc(), zone)
            start = (now + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
        start_local = timezones.in_zone(start, zone)
        end_local = timezones.in_zone(end or start + timedelta(hours=1), zone)

        self.title = QLineEdit(event.summary if event else "", self)
        self.title.setAccessibleName("Title")
        self.title.setPlaceholderText("Title")
        self.all_day = QCheckBox("All day", self)
        self.all_day.setAccessibleName("All day")
        self.start_date, self.start_time = QDateEdit(self), QTimeEdit(self)
        self.end_date, self.end_time = QDateEdit(self), QTimeEdit(self)
        for widget, name in ((self.start_date, "Start date"), (self.start_time, "Start time"),
                             (self.end_date, "End date"), (self.end_time, "End time")):
            widget.setAccessibleName(name)
            if isinstance(widget, QDateEdit):
                widget.setCalendarPopup(True)
                widget.setDisplayFormat("ddd yyyy-MM-dd")
            else:
                widget.setDisplayFormat("HH:mm")
        self.start_date.setDate(QDate(start_local.year, start_local.month, start_local.day))
        self.start_time.setTime(QTime(start_local.hour, start_local.minute))
        self.end_date.setDate(QDate(end_local.year, end_local.month, end_local.day))
        self.end_time.setTime(QTime(end_local.hour, end_local.minute))
        if event is not None and event.all_day and event.start_date:
            self.all_day.setChecked(True)
            self.start_date.setDate(QDate(event.start_date.year, event.start_date.month, event.start_date.day))
            last = (event.end_date or event.start_date + timedelta(days=1)) - timedelta(days=1)
            self.end_date.setDate(QDate(last.year, last.month, last.day))
        self.hint = QLabel(self)
        self.hint.setObjectName("assistant-time-hint")
        self.hint.setEnabled(False)  # the palette's muted text colour
        self.location = QLineEdit(event.location if event else "", self)
        self.location.setAccessibleName("Location")
        self.description = QPlainTextEdit(event.description if event else "", self)
        self.description.setAccessibleName("Description")
        self.description.setTabChangesFocus(True)
        self.description.setMaximumHeight(self.fontMetrics().height() * 6)
        self.repeat = QComboBox(self)
        self.repeat.setAccessibleName("Repeat")
        for label, rule in REPEATS:
            self.repeat.addItem(label, rule)
        if event is not None:
            current = next((i for i, (_, rule) in enumerate(REPEATS) if rule and event.rrule.startswith(rule)), None)
            if event.rrule and current is None:
                self.repeat.addItem(event.rrule, event.rrule)
                current = self.repeat.count() - 1
            self.repeat.setCurrentIndex(current or 0)
            self.repeat.setEnabled(False)
            self.repeat.setToolTip("The repetition of an existing event is kept as it is")
        self.error = QLabel(self)
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()

        starts, ends = QHBoxLayout(), QHBoxLayout()
        starts.addWidget(self.start_date)
        starts.addWidget(self.start_time)
        starts.addWidget(self.all_day)
        starts.addStretch(1)
        ends.addWidget(self.end_date)
        ends.addWidget(self.end_time)
        ends.addStretch(1)
        form = QFormLayout()
        form.addRow("&Title", self.title)
        form.addRow(f"Starts ({zone})", starts)
        form.addRow("Ends", ends)
        form.addRow("", self.hint)
        form.addRow("&Location", self.location)
        form.addRow("&Description", self.description)
        form.addRow("&Repeat", self.repeat)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.delete_button = None
        if event is not None:
            self.delete_button = self.buttons.addButton("&Delete event", QDialogButtonBox.ButtonRole.DestructiveRole)
            self.delete_button.setAccessibleName("Delete event")
            self.delete_button.clicked.connect(self.on_delete)
        self.buttons.accepted.connect(self.on_save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

        for widget in (self.start_date, self.end_date):
            widget.dateChanged.connect(self._update_hint)
        for widget in (self.start_time, self.end_time):
            widget.timeChanged.connect(self._update_hint)
        self.all_day.toggled.connect(self._on_all_day)
        self._on_all_day(self.all_day.isChecked())
        self.setTabOrder(self.title, self.start_date)
        for a, b in ((self.start_date, self.start_time), (self.start_time, self.all_day), (self.all_day, self.end_date),
                     (self.end_date, self.end_time), (self.end_time, self.location),
                     (self.location, self.description), (self.description, self.repeat)):
            self.setTabOrder(a, b)
        self.title.setFocus()
        self._initial = self._times()

    def _on_all_day(self, on: bool) -> None:
        self.start_time.setVisible(not on)
        self.end_time.setVisible(not on)
        self._update_hint()

    def _times(self) -> tuple[datetime | date, datetime | date]:
        zone = self.principal.timezone
        if self.all_day.isChecked():
            first, last = _py_date(self.start_date.date()), _py_date(self.end_date.date())
            return first, last + timedelta(days=1)
        s = datetime.combine(_py_date(self.start_date.date()), _py_time(self.start_time.time()))
        e = datetime.combine(_py_date(self.end_date.date()), _py_time(self.end_time.time()))
        zone_info = timezones.get_zone(zone)
        return (timezones.local_to_utc(s, zone).astimezone(zone_info),
                timezones.local_to_utc(e, zone).astimezone(zone_info))

    def _update_hint(self, *_: Any) -> None:
        start, end = self._times()
        if isinstance(start, datetime) and isinstance(end, datetime):
            self.hint.setText(_hint_text(self.principal.timezone, self.assistant_zone, start, end))
        else:
            self.hint.setText("")
        self.hint.setVisible(bool(self.hint.text()))

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def on_save(self) -> None:
        start, end = self._times()
        if end <= start:
            self._show_error("The event must end after it starts.")
            return
        self.accept()

    def on_delete(self) -> None:
        self.deleted = True
        self.accept()

    def request(self) -> tuple[str, dict[str, Any]]:
        """What to do, as an action name of ``assistant.sync.actions`` and its keyword arguments."""
        if self.calendar_event is not None and self.deleted:
            return "delete_event", {"event_id": self.calendar_event.id}
        start, end = self._times()
        fields: dict[str, Any] = {
            "summary": self.title.text().strip() or "(no title)", "location": self.location.text().strip(),
            "description": self.description.toPlainText().strip(),
        }
        if self.calendar_event is None:
            return "create_event", {**fields, "start": start, "end": end, "rrule": self.repeat.currentData() or ""}
        if (start, end) != self._initial:
            # Only changed times are passed on: the update rewrites them, and an unchanged series keeps its zone.
            fields.update(start=start, end=end)
        return "update_event", {"event_id": self.calendar_event.id, **fields}


class FreeTimeDialog(QDialog):
    """The principal's next free business-hours slots, in both zones, with "Create event here"."""

    create_requested = Signal(object, object)  # start_utc, end_utc

    DURATIONS = (30, 45, 60, 90, 120)

    def __init__(self, principal: Principal, assistant_zone: str, tasks: TaskManager,
                 now: Callable[[], datetime] = timezones.now_utc, parent: QWidget | None = None):
        super().__init__(parent)
        self.principal, self.assistant_zone, self._tasks, self._now = principal, assistant_zone, tasks, now
        self.slots: list[tuple[datetime, datetime]] = []
        hours = principal.business_hours
        principal_title(self, "Find free time", principal)
        self.setObjectName("free-time-dialog")
        self.duration = QComboBox(self)
        self.duration.setAccessibleName("Duration")
        for minutes in self.DURATIONS:
            self.duration.addItem(f"{minutes} minutes" if minutes < 60 or minutes % 60 else f"{minutes // 60} hour"
                                  + ("s" if minutes > 60 else ""), minutes)
        self.duration.setCurrentIndex(self.DURATIONS.index(60))
        self.count = QSpinBox(self)
        self.count.setAccessibleName("How many slots")
        self.count.setRange(1, 50)
        self.count.setValue(8)
        self.find_button = QPushButton("&Find", self)
        self.find_button.setAccessibleName("Find free slots")
        self.find_button.setDefault(True)
        self.list = QTreeWidget(self)
        self.list.setAccessibleName("Free slots")
        self.list.setRootIsDecorated(False)
        self.list.setHeaderLabels([f"{principal.name}'s time ({principal.timezone})", f"Your time ({assistant_zone})"])
        self.status = QLabel(
            f"Business hours {hours.start:%H:%M}–{hours.end:%H:%M} {principal.timezone}, "
            + ", ".join(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[d - 1] for d in hours.days), self)
        self.status.setWordWrap(True)
        self.create_button = QPushButton("&Create event here", self)
        self.create_button.setAccessibleName("Create event here")
        self.create_button.setEnabled(False)
        close = QPushButton("Close", self)

        top = QHBoxLayout()
        duration_label, count_label = QLabel("&Duration", self), QLabel("&Slots", self)
        duration_label.setBuddy(self.duration)
        count_label.setBuddy(self.count)
        top.addWidget(duration_label)
        top.addWidget(self.duration)
        top.addWidget(count_label)
        top.addWidget(self.count)
        top.addWidget(self.find_button)
        top.addStretch(1)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.create_button)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(self.list, 1)
        layout.addLayout(bottom)
        self.resize(560, 420)

        self.find_button.clicked.connect(self.find_slots)
        self.list.currentItemChanged.connect(lambda item, _previous: self.create_button.setEnabled(item is not None))
        self.list.itemDoubleClicked.connect(lambda _item, _column: self.on_create())
        self.create_button.clicked.connect(self.on_create)
        close.clicked.connect(self.reject)

    def find_slots(self) -> None:  # not find(): that is QWidget's static find(window id)
        from assistant.calendar.slots import free_slots

        principal_id, count = self.principal.id, self.count.value()
        assert principal_id is not None  # principals come from the store
        duration = timedelta(minutes=int(self.duration.currentData()))
        now = self._now()
        self.find_button.setEnabled(False)
        self.status.setText("Looking…")
        self._tasks.run(lambda store: free_slots(store.scope(principal_id), now, count, duration, now=now),
                        on_done=self._on_found, on_error=self._on_failed)

    def _on_found(self, slots: list[tuple[datetime, datetime]]) -> None:
        self.find_button.setEnabled(True)
        self.slots = slots
        self.list.clear()
        zone = self.principal.timezone
        for start, end in slots:
            theirs, theirs_end = timezones.in_zone(start, zone), timezones.in_zone(end, zone)
            mine, mine_end = timezones.in_zone(start, self.assistant_zone), timezones.in_zone(end, self.assistant_zone)
            self.list.addTopLevelItem(QTreeWidgetItem([
                f"{theirs:%a %d %b %H:%M}–{theirs_end:%H:%M} {theirs.tzname()}",
                f"{mine:%a %d %b %H:%M}–{mine_end:%H:%M} {mine.tzname()}",
            ]))
        self.status.setText(f"{len(slots)} free slot{'s' if len(slots) != 1 else ''} in {self.principal.name}'s "
                            f"business hours" if slots else "No free time in the next year's business hours.")
        self.list.resizeColumnToContents(0)
        first = self.list.topLevelItem(0)
        if first is not None:  # there is one item per slot
            self.list.setCurrentItem(first)

    def _on_failed(self, error: BaseException) -> None:
        self.find_button.setEnabled(True)
        self.status.setText(describe_error(error))

    def on_create(self) -> None:
        item = self.list.currentItem()
        row = self.list.indexOfTopLevelItem(item) if item is not None else -1
        if 0 <= row < len(self.slots):
            self.create_requested.emit(*self.slots[row])
            self.accept()
