"""The calendar: day, week and agenda views of one principal's events in their own zone, the assistant's time beside it;
or, with *All principals*, every principal's events on one grid in the assistant's own time, each in its principal's
colour and tagged with their name, their time beside yours (:meth:`CalendarView.show_all_principals`).

Events are painted on a time grid (overlapping ones side by side); loading and every change run on the TaskManager,
and a change goes through the outbox (``assistant.sync.actions``), shown as waiting until a sync has taken it.
"""
from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPointF,
    QRectF,
    QSettings,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QHelpEvent, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QStackedWidget,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from assistant.core import timezones
from assistant.core.errors import UserError
from assistant.domain import BusinessHours, CalendarEvent, EventOccurrence, Principal
from assistant.store import Store
from assistant.store import calendar as calendar_store
from assistant.store.changes import Area, Changes
from assistant.ui import style
from assistant.ui.calendar.agenda import AgendaView
from assistant.ui.widgets.pages import lay_out_hidden
from assistant.ui.workers import TaskManager, describe_error

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
    return [EventOccurrence(event_id=event.id, principal_id=event.principal_id, summary=event.summary, start_utc=s,
                            end_utc=e, all_day=event.all_day, location=event.location, start_date=event.start_date)]


def expand_events(events: list[CalendarEvent], start: datetime, end: datetime
                  ) -> tuple[list[EventOccurrence], list[str]]:
    from assistant.calendar import ics

    occurrences: list[EventOccurrence] = []
    problems: list[str] = []
    for event in events:
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


def load_week(store: Store, principal_id: int, start: datetime, end: datetime) -> tuple[list[EventOccurrence], list[str]]:
    """Occurrences in [start, end) and one line per event that could not be expanded. Runs on the worker thread."""
    return expand_events(calendar_store.events_between(store.scope(principal_id), start, end), start, end)


@dataclass
class CalendarData:
    occurrences: list[EventOccurrence]
    problems: list[str]
    events: dict[int, CalendarEvent] = field(default_factory=dict)
    pending: dict[int, str] = field(default_factory=dict)  # event id -> "" while waiting, else the last error
    waiting_changes: int = 0
    calendar_account_id: int | None = None
    account_ids: dict[int, int | None] = field(default_factory=dict)  # All principals: principal id -> its account


def load_all_calendars(store: Store, principals: list[Principal], start: datetime, end: datetime) -> CalendarData:
    """Every principal's :func:`load_calendar` for [start, end), merged: each occurrence keeps its principal's id (event
    ids are the workspace's, so no two principals share one). Runs on the worker thread."""
    merged = CalendarData([], [])
    for principal in principals:
        assert principal.id is not None  # principals come from the store
        data = load_calendar(store, principal.id, start, end)
        merged.occurrences.extend(data.occurrences)
        merged.problems.extend(f"{principal.name}: {problem}" for problem in data.problems)
        merged.events.update(data.events)
        merged.pending.update(data.pending)
        merged.waiting_changes += data.waiting_changes
        merged.account_ids[principal.id] = data.calendar_account_id
    merged.occurrences.sort(key=lambda o: (o.start_utc, o.summary))
    return merged


def calendar_account_id(store: Store, principal_id: int) -> int | None:
    """The account new events go to: one with a calendar (a local one with a calendar path, or a remote one)."""
    accounts = store.accounts(principal_id)
    candidates = [a for a in accounts if a.kind != "local" or a.settings.get("calendar")] or accounts
    return candidates[0].id if candidates else None


def load_calendar(store: Store, principal_id: int, start: datetime, end: datetime) -> CalendarData:
    """Everything a calendar view shows for [start, end). Runs on the worker thread."""
    events = calendar_store.events_between(store.scope(principal_id), start, end)
    occurrences, problems = expand_events(events, start, end)
    waiting: dict[str, str] = {}
    changes = 0
    for entry in store.outbox(states=("pending", "in-flight", "failed")):
        if entry.principal_id != principal_id or not entry.op.startswith("event-"):
            continue
        changes += 1
        remote_id = entry.payload.get("local_remote_id") or entry.payload.get("remote_id") or ""
        waiting[remote_id] = entry.last_error if entry.state == "failed" else ""
    shown = {o.event_id for o in occurrences}
    return CalendarData(
        occurrences=occurrences, problems=problems,
        events={e.id: e for e in events if e.id and e.id in shown},
        pending={e.id: waiting[e.remote_id] for e in events if e.id and e.remote_id in waiting},
        waiting_changes=changes,
        calendar_account_id=calendar_account_id(store, principal_id),
    )


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


# -- the time grid --------------------------------------------------------------------------------------------------
def lay_out_columns(spans: list[tuple[float, float]]) -> list[tuple[int, int]]:
    """For spans ``(start, end)`` in one day: ``(column, columns)`` each, so that overlapping spans sit side by side.

    Spans that overlap, directly or through others, form a cluster sharing one set of columns; each span takes the
    first column free at its start.
    """
    order = sorted(range(len(spans)), key=lambda i: (spans[i][0], -spans[i][1]))
    placed: dict[int, int] = {}
    result: list[tuple[int, int]] = [(0, 1)] * len(spans)
    cluster: list[int] = []
    column_ends: list[float] = []
    cluster_end = float("-inf")

    def close_cluster() -> None:
        for i in cluster:
            result[i] = (placed[i], len(column_ends))

    for i in order:
        start, end = spans[i]
        if cluster and start >= cluster_end:
            close_cluster()
            cluster, column_ends = [], []
        column = next((c for c, column_end in enumerate(column_ends) if column_end <= start), None)
        if column is None:
            column_ends.append(end)
            column = len(column_ends) - 1
        else:
            column_ends[column] = end
        placed[i] = column
        cluster.append(i)
        cluster_end = end if len(cluster) == 1 else max(cluster_end, end)
    close_cluster()
    return result


MIN_EVENT_MINUTES = 20


def day_segments(occurrences: list[EventOccurrence], day: date, zone: str
                 ) -> list[tuple[EventOccurrence, float, float]]:
    """The timed occurrences on one day of a zone as wall-clock minutes from its midnight (DST days included)."""
    day_start, day_end = timezones.day_bounds_utc(day, zone)
    segments = []
    for o in occurrences:
        if o.all_day or not (o.start_utc < day_end and max(o.end_utc, o.start_utc + timedelta(seconds=1)) > day_start):
            continue
        start = 0.0
        if o.start_utc >= day_start:
            local = timezones.in_zone(o.start_utc, zone)
            start = local.hour * 60 + local.minute
        end = 24 * 60.0
        if o.end_utc < day_end:
            local = timezones.in_zone(o.end_utc, zone)
            end = local.hour * 60 + local.minute
        end = min(24 * 60.0, max(end, start + MIN_EVENT_MINUTES))
        segments.append((o, start, end))
    return segments


def all_day_days(o: EventOccurrence) -> list[date]:
    first = o.start_date or o.start_utc.date()
    last = o.end_utc.date() if o.end_utc else first + timedelta(days=1)
    return [first + timedelta(days=i) for i in range(max(1, (last - first).days))]


def describe_occurrence(o: EventOccurrence, zone: str, assistant_zone: str, pending: str | None = None) -> str:
    if o.all_day:
        text = f"{o.summary} (all day)"
    else:
        s, e = (timezones.in_zone(t, zone) for t in (o.start_utc, o.end_utc))
        text = f"{o.summary}: {s:%a %H:%M}–{e:%H:%M} {s.tzname()}"
        if assistant_zone != zone:
            mine, mine_end = (timezones.in_zone(t, assistant_zone) for t in (o.start_utc, o.end_utc))
            text += f" (your time {mine:%a %H:%M}–{mine_end:%H:%M} {mine.tzname()})"
    if o.location:
        text += f" — {o.location}"
    if pending is not None:
        text += f"\nNot synced yet{': ' + pending if pending else ''}"
    return text


def short_name(principal: Principal) -> str:
    """The name an event box has room for on the All-principals grid: the first word of it."""
    return principal.name.split()[0] if principal.name.split() else principal.name


class TimeGrid(QWidget):
    """Hours down, days across; events painted where they fall in the principal's wall-clock day."""

    event_activated = Signal(object)  # EventOccurrence
    slot_activated = Signal(object)  # the UTC instant of the half hour double-clicked
    page_requested = Signal(int)  # PageUp / PageDown: the previous or next day or week
    selection_moved = Signal(object)  # the QRectF of the event the keyboard selected, to scroll into view

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.selected: int | None = None  # index in event_rects() of the event the keyboard is on
        self.setObjectName("time-grid")
        self.setAccessibleName("Week")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAutoFillBackground(False)
        self.first_day = timezones.now_utc().date()
        self.days = 7
        self.zone = "UTC"
        self.assistant_zone = "UTC"
        self.colour = "#3b82f6"
        self.business_hours = BusinessHours()
        self.occurrences: list[EventOccurrence] = []
        self.pending: dict[int, str] = {}
        self.owners: dict[int, Principal] = {}  # All principals: whose each event is (its colour, name and zone)
        self.now = timezones.now_utc
        self._rects: list[tuple[QRectF, EventOccurrence]] = []

    def set_range(self, first_day: date, days: int, principal: Principal | None, assistant_zone: str,
                  occurrences: list[EventOccurrence], pending: dict[int, str],
                  owners: dict[int, Principal] | None = None) -> None:
        """The days shown, in ``principal``'s zone; with ``owners`` (All principals) in the assistant's zone, each
        event in its owner's colour, with no business hours shaded (they are each principal's own)."""
        self.first_day, self.days = first_day, days
        self.owners = dict(owners or {})
        self.zone = assistant_zone if self.owners else principal.timezone if principal else "UTC"
        self.colour = principal.colour if principal else "#3b82f6"
        self.business_hours = principal.business_hours if principal else BusinessHours()
        self.assistant_zone = assistant_zone
        self.occurrences = [o for o in occurrences if not o.all_day]
        self.pending = dict(pending)
        self.setAccessibleName("Day" if days == 1 else "Week")
        selected = self.selected_occurrence()
        self._lay_out()
        self.selected = next((i for i, (_r, o) in enumerate(self._rects) if selected is not None
                              and (o.event_id, o.start_utc) == (selected.event_id, selected.start_utc)), None)
        self.update()

    def owner(self, o: EventOccurrence) -> Principal | None:
        """Whose event ``o`` is, on the All-principals grid (None on one principal's)."""
        return self.owners.get(o.principal_id)

    def colour_of(self, o: EventOccurrence) -> str:
        owner = self.owner(o)
        return owner.colour if owner is not None else self.colour

    def describe(self, o: EventOccurrence) -> str:
        """The tooltip and accessible text: in the event's principal's zone first, yours beside it."""
        owner = self.owner(o)
        if owner is None:
            return describe_occurrence(o, self.zone, self.assistant_zone, self.pending.get(o.event_id))
        return f"{owner.name} — " + describe_occurrence(o, owner.timezone, self.assistant_zone,
                                                         self.pending.get(o.event_id))

    def label(self, o: EventOccurrence, room_for_lines: int) -> str:
        """What an event's box says: its start (in the grid's zone) and title; on the All-principals grid also whose it
        is (the first name: the colour says the rest, the tooltip the full name) and, with room for two lines, the
        start in the principal's own time beside yours."""
        pending = " · not synced" if o.event_id in self.pending else ""
        starts = timezones.in_zone(o.start_utc, self.zone)
        owner = self.owner(o)
        if owner is None:
            text = f"{starts:%H:%M} {o.summary}{pending}"
            if o.location and room_for_lines >= 2:
                text += f"\n{o.location}"
            return text
        who = short_name(owner)
        theirs = timezones.in_zone(o.start_utc, owner.timezone)
        if room_for_lines >= 2 and owner.timezone != self.zone:
            text = f"{starts:%H:%M} · {theirs:%H:%M} {theirs.tzname()}\n{who}: {o.summary}{pending}"
        else:
            text = f"{starts:%H:%M} {who}: {o.summary}{pending}"
        if o.location and room_for_lines >= 3:
            text += f"\n{o.location}"
        return text

    def box_text(self, o: EventOccurrence, lines: int, width: float) -> tuple[str, int]:
        """The text an event's box of ``lines`` whole lines and ``width`` pixels draws, and how: one line is cut at
        its end with "…" (wrapped, it would stop after its first words); more lines wrap."""
        label = self.label(o, lines)
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
        if lines <= 1:
            return self.fontMetrics().elidedText(label.splitlines()[0], Qt.TextElideMode.ElideRight, int(width)), \
                int(flags)
        return label, int(flags | Qt.TextFlag.TextWordWrap)

    # -- geometry ----------------------------------------------------------------------------------------------------
    def hour_height(self) -> int:
        return max(40, int(self.fontMetrics().height() * 2.6))

    def gutter_width(self) -> int:
        one = self.fontMetrics().horizontalAdvance("00:00") + 14
        return one * (2 if self.assistant_zone != self.zone else 1)

    def day_width(self) -> float:
        return max(1.0, (self.width() - self.gutter_width()) / self.days)

    def day_x(self, index: int) -> float:
        return self.gutter_width() + index * self.day_width()

    def y_of(self, minutes: float) -> float:
        return minutes / 60 * self.hour_height()

    def sizeHint(self) -> QSize:
        return QSize(720, 24 * self.hour_height() + 1)

    def minimumSizeHint(self) -> QSize:
        return QSize(self.gutter_width() + 20 * self.days, 24 * self.hour_height() + 1)

    def resizeEvent(self, event) -> None:
        self._lay_out()
        super().resizeEvent(event)

    def _lay_out(self) -> None:
        self._rects = []
        width = self.day_width()
        for index in range(self.days):
            segments = day_segments(self.occurrences, self.first_day + timedelta(days=index), self.zone)
            columns = lay_out_columns([(s, e) for _, s, e in segments])
            for (o, start, end), (column, count) in zip(segments, columns, strict=False):
                lane = (width - 6) / count
                rect = QRectF(self.day_x(index) + 1 + column * lane, self.y_of(start) + 1, lane - 1,
                              self.y_of(end) - self.y_of(start) - 2)
                self._rects.append((rect, o))

    def event_rects(self) -> list[tuple[QRectF, EventOccurrence]]:
        return list(self._rects)

    def occurrence_at(self, point: QPointF) -> EventOccurrence | None:
        return next((o for rect, o in reversed(self._rects) if rect.contains(point)), None)

    def slot_at(self, point: QPointF) -> datetime | None:
        if point.x() < self.gutter_width():
            return None
        index = min(self.days - 1, int((point.x() - self.gutter_width()) // self.day_width()))
        half_hours = int(point.y() // (self.hour_height() / 2))
        minutes = max(0, min(47, half_hours)) * 30
        naive = datetime.combine(self.first_day + timedelta(days=index), time(minutes // 60, minutes % 60))
        return timezones.local_to_utc(naive, self.zone)

    def now_line(self) -> tuple[int, float] | None:
        """The day column and y of "now", when now falls in the days shown."""
        local = timezones.in_zone(self.now(), self.zone)
        index = (local.date() - self.first_day).days
        if not 0 <= index < self.days:
            return None
        return index, self.y_of(local.hour * 60 + local.minute + local.second / 60)

    # -- painting ----------------------------------------------------------------------------------------------------
    def paintEvent(self, _event) -> None:
        palette = self.palette()
        roles = QPalette.ColorRole
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        hour_h, gutter = self.hour_height(), self.gutter_width()
        painter.fillRect(self.rect(), palette.color(roles.Base))
        painter.fillRect(QRectF(0, 0, gutter, self.height()), palette.color(roles.Window))
        hours = self.business_hours
        off_hours = style.blend(palette.color(roles.Dark), palette.color(roles.Base), 0.14)
        for index in range(self.days if not self.owners else 0):  # everyone's: no one's business hours
            day = self.first_day + timedelta(days=index)
            x = self.day_x(index)
            if day.isoweekday() not in hours.days:
                painter.fillRect(QRectF(x, 0, self.day_width(), self.height()), off_hours)
                continue
            start = self.y_of(hours.start.hour * 60 + hours.start.minute)
            end = self.y_of(hours.end.hour * 60 + hours.end.minute)
            painter.fillRect(QRectF(x, 0, self.day_width(), start), off_hours)
            painter.fillRect(QRectF(x, end, self.day_width(), self.height() - end), off_hours)
        line, half_line = QPen(palette.color(roles.Mid)), QPen(palette.color(roles.Midlight), 1, Qt.PenStyle.DotLine)
        fm = self.fontMetrics()
        one = fm.horizontalAdvance("00:00") + 14
        for hour in range(24):
            y = hour * hour_h
            painter.setPen(line)
            painter.drawLine(QPointF(gutter, y), QPointF(self.width(), y))
            painter.setPen(half_line)
            painter.drawLine(QPointF(gutter, y + hour_h / 2), QPointF(self.width(), y + hour_h / 2))
            painter.setPen(palette.color(roles.WindowText))
            painter.drawText(QRectF(0, y + 2, one - 7, fm.height()), Qt.AlignmentFlag.AlignRight, f"{hour:02d}:00")
            if self.assistant_zone != self.zone:
                instant = timezones.local_to_utc(datetime.combine(self.first_day, time(hour)), self.zone)
                mine = timezones.in_zone(instant, self.assistant_zone)
                painter.setPen(palette.color(roles.PlaceholderText))
                painter.drawText(QRectF(one, y + 2, one - 7, fm.height()), Qt.AlignmentFlag.AlignRight,
                                 f"{mine:%H:%M}")
        painter.setPen(line)
        for index in range(self.days + 1):
            x = self.day_x(index)
            painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))

        for rect, o in self._rects:
            fill, border, text_colour = style.event_colours(self.colour_of(o), palette)
            pending = o.event_id in self.pending
            pen = QPen(border, 1.5, Qt.PenStyle.DashLine if pending else Qt.PenStyle.SolidLine)
            painter.setPen(pen)
            painter.setBrush(fill)
            painter.drawRoundedRect(rect, 4, 4)
            painter.fillRect(QRectF(rect.left(), rect.top(), 3, rect.height()), border)
            if self.selected is not None and self._rects[self.selected][0] is rect:
                painter.setPen(QPen(palette.color(QPalette.ColorRole.Highlight), 2.5))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRoundedRect(rect.adjusted(-1, -1, 1, 1), 5, 5)
            painter.setPen(text_colour)
            inner = rect.adjusted(6, 2, -3, -2)
            lines = max(1, int(inner.height() // fm.lineSpacing()))
            inner.setHeight(lines * fm.lineSpacing())  # whole lines only: no line cut in half at the bottom
            label, flags = self.box_text(o, lines, inner.width())
            painter.save()
            painter.setClipRect(inner)
            painter.drawText(inner, flags, label)
            painter.restore()

        now = self.now_line()
        if now is not None:
            index, now_y = now
            painter.setPen(QPen(style.NOW_LINE, 2))
            painter.drawLine(QPointF(self.day_x(index), now_y), QPointF(self.day_x(index) + self.day_width(), now_y))
            painter.setBrush(style.NOW_LINE)
            painter.drawEllipse(QPointF(self.day_x(index), now_y), 4, 4)
        painter.end()

    # -- interaction -------------------------------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:
        point = event.position()
        self.select(next((i for i in reversed(range(len(self._rects))) if self._rects[i][0].contains(point)), None))
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event) -> None:
        point = event.position()
        occurrence = self.occurrence_at(point)
        if occurrence is not None:
            self.event_activated.emit(occurrence)
        else:
            slot = self.slot_at(point)
            if slot is not None:
                self.slot_activated.emit(slot)
        event.accept()

    def selected_occurrence(self) -> EventOccurrence | None:
        if self.selected is None or not 0 <= self.selected < len(self._rects):
            return None
        return self._rects[self.selected][1]

    def select(self, index: int | None) -> None:
        self.selected = index if index is not None and 0 <= index < len(self._rects) else None
        if self.selected is not None:
            rect, occurrence = self._rects[self.selected]
            self.setAccessibleDescription(self.describe(occurrence))
            self.selection_moved.emit(rect)
        self.update()

    def _day_of(self, index: int) -> int:
        return int((self._rects[index][0].center().x() - self.gutter_width()) // self.day_width())

    def keyPressEvent(self, event) -> None:
        """Down/Up (j/k): the next or previous event in time; Right/Left: the first event of the next or previous day
        that has one; Enter opens it; PageDown/PageUp: the next or previous week (or day)."""
        key, count = event.key(), len(self._rects)
        if key in (Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
            self.selected = None
            self.page_requested.emit(1 if key == Qt.Key.Key_PageDown else -1)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.selected_occurrence() is not None:
            self.event_activated.emit(self.selected_occurrence())
        elif key in (Qt.Key.Key_Down, Qt.Key.Key_J, Qt.Key.Key_Up, Qt.Key.Key_K) and count:
            forward = key in (Qt.Key.Key_Down, Qt.Key.Key_J)
            if self.selected is None:
                self.select(0 if forward else count - 1)
            else:
                self.select(min(count - 1, self.selected + 1) if forward else max(0, self.selected - 1))
        elif key in (Qt.Key.Key_Right, Qt.Key.Key_Left) and count:
            forward = key == Qt.Key.Key_Right
            day = self._day_of(self.selected) if self.selected is not None else (-1 if forward else self.days)
            days = [(i, self._day_of(i)) for i in range(count)]
            if forward:
                target = next((i for i, d in days if d > day), None)
            else:
                earlier = [d for _i, d in days if d < day]
                target = next((i for i, d in days if earlier and d == max(earlier)), None)
            if target is not None:
                self.select(target)
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            assert isinstance(event, QHelpEvent)  # what a ToolTip event is
            occurrence = self.occurrence_at(QPointF(event.pos()))
            if occurrence is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), self.describe(occurrence), self)
            return True
        return super().event(event)


class GridHeader(QWidget):
    """Day names and all-day events above a :class:`TimeGrid`, on the grid's own columns."""

    event_activated = Signal(object)

    def __init__(self, grid: TimeGrid, parent: QWidget | None = None):
        super().__init__(parent)
        self.grid = grid
        self.setObjectName("grid-header")
        self.all_day: list[EventOccurrence] = []
        self._chips: list[tuple[QRectF, EventOccurrence]] = []
        self._rows = 0
        # The chips stand on the grid's columns: when the grid's width changes (it is laid out after the header on a
        # week's first show) they move with it; laid out on the header's own resize only, they stayed a few pixels
        # wide under the first day.
        grid.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.grid and event.type() == QEvent.Type.Resize:
            self._lay_out()
            self.update()
        return False

    def set_all_day(self, occurrences: list[EventOccurrence]) -> None:
        self.all_day = [o for o in occurrences if o.all_day]
        self._lay_out()
        self.updateGeometry()
        self.update()

    def _row_height(self) -> int:
        return self.fontMetrics().height() + 6

    def _lay_out(self) -> None:
        self._chips = []
        rows: dict[int, int] = {}
        for o in self.all_day:
            for day in all_day_days(o):
                index = (day - self.grid.first_day).days
                if 0 <= index < self.grid.days:
                    row = rows.get(index, 0)
                    rows[index] = row + 1
                    top = self.fontMetrics().height() * 1.7 + row * self._row_height()
                    self._chips.append((QRectF(self.grid.day_x(index) + 2, top, self.grid.day_width() - 5,
                                               self._row_height() - 2), o))
        self._rows = max(rows.values(), default=0)

    def chips(self) -> list[tuple[QRectF, EventOccurrence]]:
        self._lay_out()
        return list(self._chips)

    def sizeHint(self) -> QSize:
        return QSize(600, int(self.fontMetrics().height() * 1.7 + self._rows * self._row_height() + 6))

    def minimumSizeHint(self) -> QSize:
        return QSize(100, self.sizeHint().height())

    def resizeEvent(self, event) -> None:
        self._lay_out()
        super().resizeEvent(event)

    def paintEvent(self, _event) -> None:
        palette = self.palette()
        roles = QPalette.ColorRole
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), palette.color(roles.Window))
        fm = self.fontMetrics()
        grid = self.grid
        today = timezones.in_zone(grid.now(), grid.zone).date()
        one = fm.horizontalAdvance("00:00") + 14
        painter.setPen(palette.color(roles.WindowText))
        painter.drawText(QRectF(0, 2, one - 4, fm.height()), Qt.AlignmentFlag.AlignRight,
                         grid.zone.rsplit("/", 1)[-1].replace("_", " ")[:9])
        if grid.assistant_zone != grid.zone:
            painter.setPen(palette.color(roles.PlaceholderText))
            painter.drawText(QRectF(one, 2, one - 4, fm.height()), Qt.AlignmentFlag.AlignRight, "You")
        bold = QFont(self.font())
        bold.setBold(True)
        for index in range(grid.days):
            day = grid.first_day + timedelta(days=index)
            rect = QRectF(grid.day_x(index), 2, grid.day_width(), fm.height() * 1.4)
            if day == today:
                painter.fillRect(rect.adjusted(2, 0, -2, 0), palette.color(roles.Highlight))
                painter.setPen(palette.color(roles.HighlightedText))
                painter.setFont(bold)
            else:
                painter.setPen(palette.color(roles.WindowText))
                painter.setFont(self.font())
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, f"{day:%a %d %b}")
        painter.setFont(self.font())
        for rect, o in self._chips:
            fill, border, text_colour = style.event_colours(grid.colour_of(o), palette)
            owner = grid.owner(o)
            pending = o.event_id in grid.pending
            painter.setPen(QPen(border, 1, Qt.PenStyle.DashLine if pending else Qt.PenStyle.SolidLine))
            painter.setBrush(fill)
            painter.drawRoundedRect(rect, 3, 3)
            painter.setPen(text_colour)
            painter.drawText(rect.adjusted(5, 0, -3, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                             fm.elidedText(f"{short_name(owner)}: {o.summary}" if owner is not None else o.summary,
                                           Qt.TextElideMode.ElideRight, int(rect.width() - 8)))
        painter.end()

    def mouseDoubleClickEvent(self, event) -> None:
        occurrence = next((o for rect, o in self._chips if rect.contains(event.position())), None)
        if occurrence is not None:
            self.event_activated.emit(occurrence)
        event.accept()


# -- the view -------------------------------------------------------------------------------------------------------
class CalendarMode(str, enum.Enum):
    DAY = "day"
    WEEK = "week"
    AGENDA = "agenda"


AGENDA_DAYS = 14


class CalendarView(QWidget):
    data_loaded = Signal()
    event_saved = Signal(object)  # the OutboxEntry of a create, update or delete
    acting_for = Signal(object)  # All principals: the Principal of the event selected or opened, who is acted for

    def __init__(self, tasks: TaskManager, parent=None):
        super().__init__(parent)
        self.setObjectName("calendar")
        self._tasks = tasks
        self._principal: Principal | None = None
        self._everyone: dict[int, Principal] | None = None  # All principals: every principal shown, by id
        self._request = 0
        tasks.changed.connect(self.on_changed)
        self.assistant_zone = timezones.assistant_zone_name()
        saved_mode = QSettings().value("calendar/mode", CalendarMode.WEEK.value)
        self.mode = CalendarMode(saved_mode) if saved_mode in {m.value for m in CalendarMode} else CalendarMode.WEEK
        self.anchor = timezones.now_utc().date()
        self.data = CalendarData([], [])
        self.model = WeekModel(self)

        self.mode_buttons = QButtonGroup(self)
        self.mode_buttons.setExclusive(True)
        mode_bar = QHBoxLayout()
        mode_bar.setSpacing(0)
        for mode, label, _key in ((CalendarMode.DAY, "&Day", "D"), (CalendarMode.WEEK, "&Week", "W"),
                                 (CalendarMode.AGENDA, "&Agenda", "A")):
            button = QToolButton(self)
            button.setText(label)
            button.setCheckable(True)
            button.setAccessibleName(f"{mode.value.title()} view")
            button.setProperty("mode", mode.value)
            button.setChecked(mode == self.mode)
            self.mode_buttons.addButton(button)
            mode_bar.addWidget(button)
        self.mode_buttons.buttonClicked.connect(lambda b: self.set_mode(CalendarMode(b.property("mode"))))

        self.previous_button = QToolButton(self)
        self.previous_button.setArrowType(Qt.ArrowType.LeftArrow)
        self.previous_button.setAccessibleName("Previous")
        self.previous_button.setToolTip("Previous (Alt+Left)")
        self.previous_button.setShortcut("Alt+Left")
        self.today_button = QToolButton(self)
        self.today_button.setText("&Today")
        self.today_button.setAccessibleName("Today")
        self.next_button = QToolButton(self)
        self.next_button.setArrowType(Qt.ArrowType.RightArrow)
        self.next_button.setAccessibleName("Next")
        self.next_button.setToolTip("Next (Alt+Right)")
        self.next_button.setShortcut("Alt+Right")
        self.title = QLabel(self)
        self.title.setObjectName("calendar-title")
        self.title.setAccessibleName("Dates shown")
        self.title.setMinimumWidth(40)  # a long title is cut, never widens the window
        self.new_button = QToolButton(self)
        self.new_button.setIcon(style.icon("calendar"))
        self.new_button.setText("&New event…")
        self.new_button.setToolTip("New event (or double-click an empty slot)")
        self.new_button.setAccessibleName("New event")
        self.free_button = QToolButton(self)
        self.free_button.setIcon(style.icon("search"))
        self.free_button.setText("Find &free time…")
        self.free_button.setToolTip("Find free time in the principal's business hours")
        self.free_button.setAccessibleName("Find free time")
        for button in (self.new_button, self.free_button):
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.problems = QLabel(self)
        self.problems.setWordWrap(True)
        self.problems_icon = QLabel(self)
        self.problems_icon.setPixmap(style.icon("warning").pixmap(16))
        self.problems_icon.setAccessibleName("Warning")
        problems_row = QHBoxLayout()
        problems_row.addWidget(self.problems_icon, 0, Qt.AlignmentFlag.AlignTop)
        problems_row.addWidget(self.problems, 1)
        self.problems_box = QWidget(self)
        self.problems_box.setLayout(problems_row)
        problems_row.setContentsMargins(0, 0, 0, 0)
        self.problems_box.hide()
        self.status = QLabel(self)
        self.status.setObjectName("calendar-status")
        self.status.setMinimumWidth(40)
        self.status.setAccessibleName("Calendar sync state")
        self.previous_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        self.today_button.clicked.connect(lambda: self.show_day(None))
        self.new_button.clicked.connect(lambda: self.open_new_event())
        self.free_button.clicked.connect(lambda: self.open_free_time())

        self.grid = TimeGrid(self)
        self.header = GridHeader(self.grid, self)
        self.scroll_area = QScrollArea(self)
        self.scroll_area.setWidget(self.grid)
        self.grid.page_requested.connect(self.step)
        self.grid.selection_moved.connect(lambda _rect: self._acting_for(self.grid.selected_occurrence()))
        self.grid.selection_moved.connect(
            lambda rect: self.scroll_area.ensureVisible(int(rect.center().x()), int(rect.center().y()), 0,
                                                        int(rect.height() / 2) + 24))
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        grid_page = QWidget(self)
        grid_layout = QVBoxLayout(grid_page)
        grid_layout.setContentsMargins(0, 0, 0, 0)
        grid_layout.setSpacing(0)
        header_row = QHBoxLayout()
        header_row.setContentsMargins(0, 0, self.scroll_area.verticalScrollBar().sizeHint().width(), 0)
        header_row.addWidget(self.header)
        grid_layout.addLayout(header_row)
        grid_layout.addWidget(self.scroll_area, 1)
        self.agenda = AgendaView(self)
        self.pages = QStackedWidget(self)
        self.pages.addWidget(grid_page)
        self.pages.addWidget(self.agenda)
        self.pages.setCurrentIndex(1 if self.mode == CalendarMode.AGENDA else 0)
        self.grid.event_activated.connect(self.open_occurrence)
        self.header.event_activated.connect(self.open_occurrence)
        self.agenda.occurrence_activated.connect(self.open_occurrence)
        self.grid.slot_activated.connect(lambda start: self.open_new_event(start, start + timedelta(hours=1)))

        bar = QHBoxLayout()
        bar.addLayout(mode_bar)
        bar.addSpacing(8)
        bar.addWidget(self.previous_button)
        bar.addWidget(self.today_button)
        bar.addWidget(self.next_button)
        bar.addSpacing(8)
        bar.addWidget(self.title, 1)
        title_row = QHBoxLayout()
        title_row.addWidget(self.status, 1)
        title_row.addWidget(self.free_button)
        title_row.addWidget(self.new_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(bar)
        layout.addLayout(title_row)
        layout.addWidget(self.problems_box)
        layout.addWidget(self.pages, 1)
        self._scrolled_for: int | None = None
        self._select_when_loaded: tuple[int, datetime] | None = None  # an occurrence to select once its days load
        for a, b in ((self.previous_button, self.today_button), (self.today_button, self.next_button),
                     (self.next_button, self.free_button), (self.free_button, self.new_button),
                     (self.new_button, self.grid)):
            self.setTabOrder(a, b)
        self._update_enabled()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:  # the system switched between light and dark
            self.new_button.setIcon(style.icon("calendar", self.palette()))
            self.free_button.setIcon(style.icon("search", self.palette()))
            self.problems_icon.setPixmap(style.icon("warning", self.palette()).pixmap(16))
        super().changeEvent(event)

    # -- what is shown -----------------------------------------------------------------------------------------------
    @property
    def principal(self) -> Principal | None:
        return self._principal

    @property
    def all_principals(self) -> bool:
        """Every principal's events on one grid in the assistant's time (:meth:`show_all_principals`)."""
        return self._everyone is not None

    def zone(self) -> str:
        """The zone the days are shown in: the principal's, or the assistant's for All principals."""
        if self._everyone is not None:
            return self.assistant_zone
        return self._principal.timezone if self._principal else "UTC"

    def owner_of(self, occurrence: EventOccurrence) -> Principal | None:
        """Whose event this is: what opening or changing it acts as."""
        if self._everyone is not None:
            return self._everyone.get(occurrence.principal_id)
        return self._principal

    def first_day(self) -> date:
        return week_start(self.anchor) if self.mode == CalendarMode.WEEK else self.anchor

    def day_count(self) -> int:
        return {CalendarMode.DAY: 1, CalendarMode.WEEK: 7, CalendarMode.AGENDA: AGENDA_DAYS}[self.mode]

    def set_principal(self, principal: Principal | None) -> None:
        self._principal = principal
        self._everyone = None
        self._scrolled_for = None
        self._select_when_loaded = None
        self._update_enabled()
        self.show_day(None)

    def show_all_principals(self, principals: list[Principal]) -> None:
        """Every principal's events in the assistant's own time; opening or changing one acts as its principal. Shown
        already, the days stay and the principals (their names, colours, zones) are read again."""
        already = self._everyone is not None
        self._principal = None
        self._everyone = {p.id: p for p in principals if p.id is not None}
        self._update_enabled()
        if already:
            self.reload()
            return
        self._scrolled_for = None
        self._select_when_loaded = None
        self.show_day(None)

    def _acting_for(self, occurrence: EventOccurrence | None) -> None:
        if self._everyone is not None and occurrence is not None:
            owner = self._everyone.get(occurrence.principal_id)
            if owner is not None:
                self.acting_for.emit(owner)

    def set_mode(self, mode: CalendarMode) -> None:
        self.mode = CalendarMode(mode)
        QSettings().setValue("calendar/mode", self.mode.value)
        for button in self.mode_buttons.buttons():
            button.setChecked(button.property("mode") == self.mode.value)
        self.pages.setCurrentIndex(1 if self.mode == CalendarMode.AGENDA else 0)
        self.reload()

    def step(self, direction: int) -> None:
        self.anchor = self.first_day() + timedelta(days=direction * self.day_count())
        self.reload()

    def show_week(self, monday: date | None) -> None:
        """Show the week of ``monday`` (today's when None); a reload of the week shown keeps the day shown."""
        if monday is not None and week_start(self.anchor) == monday:
            self.reload()
        else:
            self.show_day(monday)

    def show_day(self, day: date | None) -> None:
        if day is None:
            day = timezones.in_zone(timezones.now_utc(), self.zone()).date()
        self.anchor = day
        self.reload()

    def show_occurrence(self, event_id: int, start_utc: datetime) -> None:
        """Show the day or week of one occurrence of an event (its day in the principal's zone), selected in the grid
        once loaded: what a meeting's link opens (a meeting reminder's, Today's timeline's)."""
        self._select_when_loaded = (event_id, start_utc)
        self.show_day(timezones.in_zone(start_utc, self.zone()).date())

    def on_changed(self, changes: Changes) -> None:
        """An event saved, moved or synced for this principal (or their business hours edited), or for anyone's on the
        All-principals grid: the days shown again."""
        if self._everyone is not None:
            if changes.touches(Area.CALENDAR, principal_id=None):
                self.reload()
        elif self._principal is not None and changes.touches(Area.CALENDAR, Area.PRINCIPALS,
                                                             principal_id=self._principal.id):
            self.reload()

    def reload(self) -> None:
        if self._everyone is not None:
            self._reload_everyone(list(self._everyone.values()))
            return
        principal = self._principal
        if principal is None:
            self._apply(None, week_start(self.anchor), CalendarData([], []))
            self.title.setText("")
            return
        monday, start, end = self._days_utc(principal.timezone)
        self._request += 1
        request, principal_id = self._request, principal.id
        assert principal_id is not None  # principals come from the store
        self.title.setText(self._title(principal))
        self._tasks.run(
            lambda store: load_calendar(store, principal_id, start, end),
            on_done=lambda data: self._on_loaded(request, principal, monday, data),
        )

    def _days_utc(self, zone: str) -> tuple[date, datetime, datetime]:
        """The Monday of the week shown and the UTC bounds of what to read (the week, or the days shown past it)."""
        monday = week_start(self.anchor)
        first = min(monday, self.first_day())
        start, _ = timezones.day_bounds_utc(first, zone)
        end, _ = timezones.day_bounds_utc(max(monday + timedelta(days=7), self.first_day() + timedelta(
            days=self.day_count())), zone)
        return monday, start, end

    def _reload_everyone(self, principals: list[Principal]) -> None:
        monday, start, end = self._days_utc(self.assistant_zone)
        self._request += 1
        request = self._request
        self.title.setText(self._dates_text() + f" · All principals, in your time ({self.assistant_zone})")
        self._tasks.run(lambda store: load_all_calendars(store, principals, start, end),
                        on_done=lambda data: self._on_loaded(request, None, monday, data))

    def _dates_text(self) -> str:
        first = self.first_day()
        last = first + timedelta(days=self.day_count() - 1)
        return f"{first:%a %d %b %Y}" if first == last else f"{first:%d %b} – {last:%d %b %Y}"

    def _title(self, principal: Principal) -> str:
        text = f"{self._dates_text()} · {principal.name}, {principal.timezone}"
        if self.assistant_zone != principal.timezone:
            text += f" · you: {self.assistant_zone}"
        return text

    def _on_loaded(self, request: int, principal: Principal | None, monday: date, data: CalendarData) -> None:
        if request != self._request:
            return
        self._apply(principal, monday, data)
        self.problems.setText("Could not read: " + "; ".join(data.problems) if data.problems else "")
        self.problems_box.setVisible(bool(data.problems))
        whose = principal.id if principal is not None else 0  # 0: All principals
        if self._scrolled_for != whose:
            self._scrolled_for = whose
            first_hour = principal.business_hours.start.hour if principal is not None else 8
            self.scroll_area.verticalScrollBar().setValue(int(self.grid.y_of(max(0, first_hour - 1) * 60)))
        if self._select_when_loaded is not None:
            wanted, self._select_when_loaded = self._select_when_loaded, None
            index = next((i for i, (_rect, o) in enumerate(self.grid.event_rects())
                          if (o.event_id, o.start_utc) == wanted), None)
            if index is not None:
                self.grid.select(index)  # scrolled into view
                self.grid.setFocus()
        self.data_loaded.emit()

    def _apply(self, principal: Principal | None, monday: date, data: CalendarData) -> None:
        self.data = data
        zone = self.zone()
        self.model.set_week(principal, monday, data.occurrences, self.assistant_zone)
        first, count = self.first_day(), self.day_count()
        if self.mode != CalendarMode.AGENDA:
            start, _ = timezones.day_bounds_utc(first, zone)
            end, _ = timezones.day_bounds_utc(first + timedelta(days=count), zone)
            shown = [o for o in data.occurrences if o.start_utc < end and o.end_utc > start or
                     (o.all_day and any(0 <= (d - first).days < count for d in all_day_days(o)))]
            self.grid.set_range(first, count, principal, self.assistant_zone, shown, data.pending, self._everyone)
            self.header.set_all_day(shown)
        else:
            start, _ = timezones.day_bounds_utc(first, zone)
            self.agenda.model_.set_occurrences([o for o in data.occurrences if o.end_utc > start], zone,
                                               self.assistant_zone, set(data.pending),
                                               principal.colour if principal else "#3b82f6", self.palette(),
                                               owners=self._everyone)
        waiting = data.waiting_changes
        failed = sum(1 for error in data.pending.values() if error)
        self.status.setText(
            (f"{waiting} change{'s' if waiting != 1 else ''} waiting to sync" if waiting else "")
            + (f", {failed} failed" if failed else ""))
        self._update_enabled()
        if not self.isVisible():  # behind another tab: laid out now, so that showing the Calendar only paints
            QTimer.singleShot(0, self, self._lay_out_hidden)

    def _lay_out_hidden(self) -> None:
        if not self.isVisible():
            lay_out_hidden(self)

    def _update_enabled(self) -> None:
        has_principal = self._principal is not None
        for widget in (self.previous_button, self.next_button, self.today_button):
            widget.setEnabled(has_principal or self._everyone is not None)
        for widget in (self.new_button, self.free_button):  # whose calendar would it go in? pick a principal first
            widget.setEnabled(has_principal)
        everyone = "Pick a principal in the list to add to their calendar" if self._everyone is not None else ""
        self.new_button.setToolTip(everyone or "New event (or double-click an empty slot)")
        self.free_button.setToolTip(everyone or "Find free time in the principal's business hours")

    # -- changes ------------------------------------------------------------------------------------------------------
    def open_new_event(self, start: datetime | None = None, end: datetime | None = None):
        from assistant.ui.calendar.event_dialog import EventDialog

        if self._principal is None:
            return None
        dialog = EventDialog(self._principal, self.assistant_zone, start=start, end=end, parent=self)
        self._open(dialog)
        return dialog

    def open_occurrence(self, occurrence: EventOccurrence):
        from assistant.ui.calendar.event_dialog import EventDialog

        event = self.data.events.get(occurrence.event_id)
        principal = self.owner_of(occurrence)
        if principal is None or event is None:
            return None
        self._acting_for(occurrence)
        dialog = EventDialog(principal, self.assistant_zone, event=event, parent=self)  # as the event's own principal
        self._open(dialog, principal)
        return dialog

    def _open(self, dialog, principal: Principal | None = None) -> None:
        principal = principal or self._principal
        assert principal is not None  # the dialogs open for the principal shown
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.apply_change(principal, *dialog.request()))
        dialog.open()

    def open_free_time(self):
        from assistant.ui.calendar.event_dialog import FreeTimeDialog

        if self._principal is None:
            return None
        dialog = FreeTimeDialog(self._principal, self.assistant_zone, self._tasks, now=self.grid.now, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.create_requested.connect(self.open_new_event)
        dialog.open()
        dialog.find_slots()
        return dialog

    def apply_change(self, principal: Principal, action: str, kwargs: dict[str, Any]) -> None:
        """Run ``assistant.sync.actions.<action>`` on the worker: local effect and outbox entry, then reload."""
        from assistant.sync import actions

        principal_id = principal.id
        account_id = self.data.account_ids.get(principal_id) if self._everyone is not None and principal_id \
            else self.data.calendar_account_id
        assert principal_id is not None  # principals come from the store

        def change(store: Store):
            if action == "create_event":
                if account_id is None:
                    raise UserError(f"{principal.name} has no account with a calendar to add events to")
                return actions.create_event(store, principal_id, account_id, **kwargs)
            return getattr(actions, action)(store, principal_id, **kwargs)

        def done(entry) -> None:  # the week reloads from the change (on_changed)
            self.event_saved.emit(entry)

        self._tasks.run(change, on_done=done, on_error=lambda error: self.status.setText(describe_error(error)))
