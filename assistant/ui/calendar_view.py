"""The week view: a principal's events laid out in their own zone, the assistant's own time beside each hour."""
from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from assistant import timezones
from assistant.domain import CalendarEvent, EventOccurrence, Principal
from assistant.store import Store
from assistant.ui.workers import TaskManager

log = logging.getLogger(__name__)
AnyIndex = QModelIndex | QPersistentModelIndex


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _fallback_occurrences(event: CalendarEvent, start: datetime, end: datetime) -> list[EventOccurrence]:
    """The event's own start and end, for while recurrence expansion is unavailable."""
    if event.all_day and event.start_date:
        s, _ = timezones.day_bounds_utc(event.start_date, "UTC")
        last = event.end_date or event.start_date + timedelta(days=1)
        e, _ = timezones.day_bounds_utc(last, "UTC")
    elif event.start_utc:
        s, e = event.start_utc, event.end_utc or event.start_utc
    else:
        return []
    if s >= end or e < start:
        return []
    return [EventOccurrence(event_id=event.id or 0, principal_id=event.principal_id, summary=event.summary, start_utc=s,
                            end_utc=e, all_day=event.all_day, location=event.location, start_date=event.start_date)]


def load_week(store: Store, principal_id: int, start: datetime, end: datetime) -> tuple[list[EventOccurrence], list[str]]:
    """Occurrences in [start, end) and one line per event that could not be expanded. Runs on the worker thread."""
    from assistant.calendar import ics

    occurrences: list[EventOccurrence] = []
    problems: list[str] = []
    for event in store.scope(principal_id).events_between(start, end):
        try:
            occurrences.extend(ics.expand(event, start, end))
        except NotImplementedError:
            occurrences.extend(_fallback_occurrences(event, start, end))
        except Exception as err:  # one broken series must not hide the rest of the week
            log.warning("cannot expand event %s: %s", event.id, err)
            problems.append(f"{event.summary or event.uid}: {err}")
            occurrences.extend(_fallback_occurrences(event, start, end))
    occurrences.sort(key=lambda o: (o.start_utc, o.summary))
    return occurrences, problems


class WeekModel(QAbstractTableModel):
    """Seven day columns; row 0 holds all-day events, rows 1..24 the hours of the principal's day."""

    ALL_DAY_ROW = 0

    def __init__(self, parent=None):
        super().__init__(parent)
        self._monday = week_start(timezones.now_utc().date())
        self._zone = "UTC"
        self._assistant_zone = "UTC"
        self._colour = QColor("#3b82f6")
        self._cells: dict[tuple[int, int], list[tuple[EventOccurrence, bool]]] = {}
        self._bold = QFont()
        self._bold.setBold(True)

    @property
    def monday(self) -> date:
        return self._monday

    def set_week(self, principal: Principal | None, monday: date, occurrences: list[EventOccurrence],
                 assistant_zone: str) -> None:
        self.beginResetModel()
        self._monday = monday
        self._zone = principal.timezone if principal else "UTC"
        self._colour = QColor(principal.colour if principal else "#3b82f6")
        self._assistant_zone = assistant_zone
        self._cells = {}
        for occurrence in occurrences:
            self._place(occurrence)
        self.endResetModel()

    def _place(self, o: EventOccurrence) -> None:
        if o.all_day:
            first = o.start_date or o.start_utc.date()
            last = (o.end_utc.date() if o.end_utc else first + timedelta(days=1))
            day = first
            while day < max(last, first + timedelta(days=1)):
                column = (day - self._monday).days
                if 0 <= column < 7:
                    self._cells.setdefault((self.ALL_DAY_ROW, column), []).append((o, True))
                day += timedelta(days=1)
            return
        start = timezones.in_zone(o.start_utc, self._zone).replace(tzinfo=None)
        end = timezones.in_zone(max(o.end_utc, o.start_utc + timedelta(minutes=1)), self._zone).replace(tzinfo=None)
        for column in range(7):
            day = self._monday + timedelta(days=column)
            for hour in range(24):
                slot = datetime.combine(day, time(hour))
                if start < slot + timedelta(hours=1) and end > slot:
                    first_cell = start >= slot or (hour == 0 and start < slot)
                    self._cells.setdefault((hour + 1, column), []).append((o, first_cell))

    # -- model ---------------------------------------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else 25

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else 7

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal:
            if not 0 <= section < 7:
                return None
            day = self._monday + timedelta(days=section)
            today = timezones.in_zone(timezones.now_utc(), self._zone).date()
            if role == Qt.ItemDataRole.DisplayRole:
                return f"{day:%a %d %b}"
            if role == Qt.ItemDataRole.FontRole and day == today:
                return self._bold
            return None
        if not 0 <= section < 25:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            if section == self.ALL_DAY_ROW:
                return "all day"
            own = f"{section - 1:02d}:00"
            if self._assistant_zone == self._zone:
                return own
            theirs = timezones.in_zone(
                timezones.local_to_utc(datetime.combine(self._monday, time(section - 1)), self._zone),
                self._assistant_zone,
            )
            return f"{own}  ·  {theirs:%H:%M}"
        if role == Qt.ItemDataRole.ToolTipRole and section != self.ALL_DAY_ROW:
            return f"{section - 1:02d}:00 in {self._zone}; the second time is yours ({self._assistant_zone}) on {self._monday:%a}"
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not (0 <= index.row() < 25 and 0 <= index.column() < 7):
            return None
        items = self._cells.get((index.row(), index.column()), [])
        if not items:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            lines = []
            for o, first in items:
                if not first:
                    continue
                if o.all_day:
                    lines.append(o.summary)
                else:
                    lines.append(f"{timezones.in_zone(o.start_utc, self._zone):%H:%M} {o.summary}")
            return "\n".join(lines) or None
        if role == Qt.ItemDataRole.BackgroundRole:
            colour = QColor(self._colour)
            colour.setAlphaF(0.28 if len(items) == 1 else 0.45)
            return colour
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join(self._describe(o) for o, _ in items)
        return None

    def _describe(self, o: EventOccurrence) -> str:
        if o.all_day:
            text = f"{o.summary} (all day)"
        else:
            s, e = (timezones.in_zone(t, self._zone) for t in (o.start_utc, o.end_utc))
            mine = timezones.in_zone(o.start_utc, self._assistant_zone)
            text = f"{o.summary}: {s:%a %H:%M}–{e:%H:%M} {s.tzname()}"
            if self._assistant_zone != self._zone:
                text += f" (your time {mine:%a %H:%M} {mine.tzname()})"
        return text + (f" — {o.location}" if o.location else "")

    def occurrences_at(self, row: int, column: int) -> list[EventOccurrence]:
        return [o for o, _ in self._cells.get((row, column), [])]


class CalendarView(QWidget):
    def __init__(self, tasks: TaskManager, parent=None):
        super().__init__(parent)
        self.setObjectName("calendar")
        self._tasks = tasks
        self._principal: Principal | None = None
        self._request = 0
        self.assistant_zone = timezones.assistant_zone_name()
        self.model = WeekModel(self)

        self.previous_button = QPushButton("◀ Previous week", self)
        self.today_button = QPushButton("This week", self)
        self.next_button = QPushButton("Next week ▶", self)
        self.title = QLabel(self)
        self.title.setObjectName("calendar-title")
        self.problems = QLabel(self)
        self.problems.setWordWrap(True)
        self.problems.hide()
        self.previous_button.clicked.connect(lambda: self.show_week(self.model.monday - timedelta(days=7)))
        self.next_button.clicked.connect(lambda: self.show_week(self.model.monday + timedelta(days=7)))
        self.today_button.clicked.connect(lambda: self.show_week(None))

        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setAccessibleName("Week")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setMinimumSectionSize(int(self.fontMetrics().height() * 1.4))
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)

        bar = QHBoxLayout()
        bar.addWidget(self.previous_button)
        bar.addWidget(self.today_button)
        bar.addWidget(self.next_button)
        bar.addSpacing(12)
        bar.addWidget(self.title, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(bar)
        layout.addWidget(self.problems)
        layout.addWidget(self.table, 1)

    def set_principal(self, principal: Principal | None) -> None:
        self._principal = principal
        self.show_week(None)

    def show_week(self, monday: date | None) -> None:
        principal = self._principal
        if principal is None:
            self.model.set_week(None, week_start(timezones.now_utc().date()), [], self.assistant_zone)
            self.title.setText("")
            return
        if monday is None:
            monday = week_start(timezones.in_zone(timezones.now_utc(), principal.timezone).date())
        start, _ = timezones.day_bounds_utc(monday, principal.timezone)
        end, _ = timezones.day_bounds_utc(monday + timedelta(days=7), principal.timezone)
        self._request += 1
        request, principal_id = self._request, principal.id
        self.title.setText(self._title(principal, monday))
        self._tasks.run(
            lambda store: load_week(store, principal_id, start, end),
            on_done=lambda result: self._on_week_loaded(request, principal, monday, *result),
        )

    def _title(self, principal: Principal, monday: date) -> str:
        sunday = monday + timedelta(days=6)
        text = f"{monday:%d %b} – {sunday:%d %b %Y}, {principal.name}'s time ({principal.timezone})"
        if self.assistant_zone != principal.timezone:
            text += f"; after the dot: your time ({self.assistant_zone})"
        return text

    def _on_week_loaded(self, request: int, principal: Principal, monday: date, occurrences: list[EventOccurrence],
                        problems: list[str]) -> None:
        if request != self._request:
            return
        self.model.set_week(principal, monday, occurrences, self.assistant_zone)
        self.problems.setText("Could not read: " + "; ".join(problems) if problems else "")
        self.problems.setVisible(bool(problems))
        business_start = principal.business_hours.start.hour
        self.table.scrollTo(self.model.index(max(1, business_start), 0), QAbstractItemView.ScrollHint.PositionAtTop)
