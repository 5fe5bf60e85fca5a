"""The Time tab: the current principal's time for a day, a week or a month — a day is *their* day, shown in their zone
with the assistant's own beside it — with the totals billable and not billable (after their rounding, to the cent of
their currency), the retainer's burn-down with its notices at 80 % and 100 % (each told once per period through the
window's notice, too), the timer (one in the workspace, optionally on a card), entries added, edited and deleted by
hand (every change kept in the entry's history, shown beside the table), the timesheet (CSV, PDF) and invoice (PDF)
exports, and the principal's billing settings.

Every read and write goes through the TaskManager's worker (:func:`load_time` and the ``timekeeping`` functions); the
tab reloads from :attr:`TaskManager.changed` when time changed.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QDateTime, QPointF, QRectF, QSettings, QSize, Qt, QTime, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence, QPainter, QPaintEvent, QPalette, QPen, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLayout,
    QLineEdit,
    QListWidget,
    QMenu,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from assistant import timekeeping
from assistant.core import private_files, timezones
from assistant.core.errors import InvalidInput
from assistant.domain import Billing, Principal, TimeEntry, TimeSource
from assistant.store import Store
from assistant.store import board as board_store
from assistant.store import time as time_store
from assistant.store.changes import Area, Changes
from assistant.timekeeping import Line, Retainer, Timesheet, hours_minutes
from assistant.ui.widgets.identity import principal_title, zone_city
from assistant.ui.widgets.tables import RowTableModel
from assistant.ui.widgets.times import edit_utc
from assistant.ui.workers import TaskManager, describe_error

PERIODS = (("Day", "day"), ("Week", "week"), ("Month", "month"))
SOURCE_TEXT = {"auto": "auto", "timer": "timer", "manual": "by hand", "call": "call"}
SOURCE_TIP = {"auto": "Counted from the window in use", "timer": "The timer (work outside the app)",
              "manual": "Added by hand", "call": "A logged call"}
WARNING = "#c2410c"  # 80 %: amber, readable on light and dark
OVER = "#dc2626"  # 100 %: red


def now_utc() -> datetime:
    """The view's clock (tests replace it)."""
    return timezones.now_utc()


def period_bounds(period: str, anchor: date) -> tuple[date, date]:
    """The day, the week (Monday to Sunday) or the month that holds ``anchor``: [first, end)."""
    if period == "day":
        return timekeeping.day_period(anchor)
    if period == "week":
        return timekeeping.week_period(anchor)
    return timekeeping.month_period(f"{anchor:%Y-%m}")


def period_text(period: str, first: date, end: date) -> str:
    """"Sunday 8 March 2026", "Mon 2 – Sun 8 Mar 2026", "March 2026"."""
    last = end - timedelta(days=1)
    if period == "day":
        return f"{first:%A} {first.day} {first:%B %Y}"
    if period == "month":
        return f"{first:%B %Y}"
    start = f"{first:%a} {first.day}" + ("" if first.month == last.month else f" {first:%b}") + (
        "" if first.year == last.year else f" {first:%Y}")
    return f"{start} – {last:%a} {last.day} {last:%b %Y}"


def short_period(period: str, first: date, end: date) -> str:
    """A totals column's heading: "Sun 8 Mar", "2–8 Mar", "March"."""
    last = end - timedelta(days=1)
    if period == "day":
        return f"{first:%a} {first.day} {first:%b}"
    if period == "month":
        return f"{first:%B}"
    if first.month == last.month:
        return f"{first.day}–{last.day} {last:%b}"
    return f"{first.day} {first:%b} – {last.day} {last:%b}"


def when_text(start: datetime, end: datetime, zone: str, *, full_day: bool = True) -> str:
    """``Mon 7 Dec 19:36–20:06 WAT``: a span with its day and zone (``Tue 19:36–20:06 WAT`` without the date)."""
    a, b = timezones.in_zone(start, zone), timezones.in_zone(end, zone)
    span = span_text(start, end, zone)
    if a.utcoffset() == b.utcoffset():
        times, _, later = span.partition(" (")
        span = f"{times} {b:%Z}" + (f" ({later}" if later else "")
    return f"{day_text(a.date()) if full_day else format(a, '%a')} {span}"


def money_text(amount: Decimal | None, currency: str) -> str:
    return "" if amount is None else f"{amount:,} {currency}".strip()


def day_text(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def span_text(start: datetime, end: datetime | None, zone: str, *, weekday: bool = False,
              unless_on: date | None = None) -> str:
    """``09:00–10:30`` in ``zone``; the zone's abbreviation on both ends when the offset changes inside (a DST
    change), and ``(+1)`` when it ends on a later day. With ``weekday``, the start's weekday before it, unless the
    start falls on ``unless_on`` there."""
    a = timezones.in_zone(start, zone)
    day = f"{a:%a} " if weekday and a.date() != unless_on else ""
    if end is None:
        return f"{day}{a:%H:%M}–"
    b = timezones.in_zone(end, zone)
    text = f"{day}{a:%H:%M %Z}–{b:%H:%M %Z}" if a.utcoffset() != b.utcoffset() else f"{day}{a:%H:%M}–{b:%H:%M}"
    days = (b.date() - a.date()).days
    return text + (f" (+{days})" if days else "")


# -- what the worker reads ----------------------------------------------------------------------------------------
@dataclass
class TimeSnapshot:
    principal: Principal
    period: str
    anchor: date  # the day shown, the principal's
    today: date  # the principal's today
    sheet: Timesheet  # the period shown
    totals: dict[str, Timesheet]  # "day", "week", "month" holding the anchor
    retainer: Retainer | None  # the retainer's period holding the anchor
    running: TimeEntry | None  # the workspace's one timer, whoever's
    running_for: str  # whose it is
    cards: list[tuple[int, str]] = field(default_factory=list)  # the principal's open cards, for the timer
    notice: str | None = None  # a retainer notice to give now (once per period and level)


def load_time(store: Store, principal_id: int, period: str, anchor: date, now: datetime) -> TimeSnapshot:
    """Everything the tab shows for one principal. Runs on the worker thread."""
    principal = store.principal(principal_id)
    totals = {name: timekeeping.timesheet(store, principal_id, *period_bounds(name, anchor)) for _, name in PERIODS}
    running = time_store.running_timer(store)
    running_for = store.principal(running.principal_id).name if running is not None else ""
    cards = [(c.id, c.title) for c in board_store.cards(store.scope(principal_id)) if c.done_utc is None]
    return TimeSnapshot(
        principal, period, anchor, timezones.in_zone(now, principal.timezone).date(), totals[period], totals,
        timekeeping.retainer_status(store, principal_id, anchor), running, running_for, cards,
        timekeeping.retainer_notice_due(store, principal_id, now))


def retainer_notices(store: Store, principal_ids: list[int] | None, now: datetime) -> list[str]:
    """The retainer notices due for these principals (None: every one). Runs on the worker thread."""
    known = [p.id for p in store.principals()]
    ids = known if principal_ids is None else [pid for pid in principal_ids if pid in known]  # one removed since
    texts = [timekeeping.retainer_notice_due(store, pid, now) for pid in ids]
    return [t for t in texts if t]


# -- the table ----------------------------------------------------------------------------------------------------
class TimeEntryModel(RowTableModel[Line]):
    headers = ("Day", "Time", "Your time", "Worked", "Billed", "Amount", "Source", "What")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.zone = "UTC"
        self.assistant_zone = timezones.assistant_zone_name()
        self.currency = ""
        self.rounding_per = "entry"

    def set_sheet(self, sheet: Timesheet | None) -> None:
        with self.resetting():
            self.rows = list(sheet.lines) if sheet is not None else []
            if sheet is not None:
                self.zone, self.currency = sheet.principal.timezone, sheet.billing.currency
                self.rounding_per = sheet.billing.rounding_per

    def entry_at(self, row: int) -> TimeEntry | None:
        line = self.row_at(row)
        return line.entry if line is not None else None

    def row_of(self, entry_id: int) -> int:
        return next((i for i, line in enumerate(self.rows) if line.entry.id == entry_id), -1)

    def header_data(self, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 1:
                return f"{zone_city(self.zone)} time"
            if column == 2:
                return f"Your time ({zone_city(self.assistant_zone)})"
            if column == 5 and self.currency:
                return self.currency
        if role == Qt.ItemDataRole.ToolTipRole:
            if column in (0, 1):
                return f"The principal's day and time ({self.zone})"
            if column == 2:
                return f"Your time ({self.assistant_zone})"
            if column == 4:
                return "Billable time after the principal's rounding"
            if column == 5:
                return f"The amount, in {self.currency or 'their currency'}"
        return super().header_data(column, role)

    def display(self, line: Line, column: int) -> Any:
        e = line.entry
        if column == 0:
            return day_text(line.day)
        if column == 1:
            return span_text(e.start_utc, e.end_utc, self.zone)
        if column == 2:  # the weekday only when yours is another day than theirs
            return span_text(e.start_utc, e.end_utc, self.assistant_zone, weekday=True, unless_on=line.day)
        if column == 3:
            return hours_minutes(Decimal(e.seconds) / 60)
        if column == 4:
            if not e.billable:
                return "not billable"
            return hours_minutes(line.billed_minutes)
        if column == 5:
            return "" if line.amount is None else f"{line.amount:,}"
        if column == 6:
            return SOURCE_TEXT.get(e.source.value, e.source.value)
        if column == 7:
            return " ".join((e.item_title or e.note).split())
        return None

    def cell_data(self, line: Line, column: int, role: int) -> Any:
        e = line.entry
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (3, 4, 5):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == 1:
                assert e.end_utc is not None  # a sheet's lines are finished entries
                a, b = timezones.in_zone(e.start_utc, self.zone), timezones.in_zone(e.end_utc, self.zone)
                return f"{a:%a %d %b %Y %H:%M %Z} to {b:%a %d %b %H:%M %Z}"
            if column == 2:
                assert e.end_utc is not None
                return when_text(e.start_utc, e.end_utc, self.assistant_zone) + " your time"
            if column == 6:
                return SOURCE_TIP.get(e.source.value)
            if column == 4 and self.rounding_per == "day" and e.billable:
                return "Exact: the principal's time is rounded once per day, in the day's total"
            if column == 7:
                parts = [e.item_title, e.note]
                return "\n".join(p for p in parts if p) or None
        return None


# -- the retainer's burn-down -------------------------------------------------------------------------------------
class BurnDownChart(QWidget):
    """Hours left of the retainer over its period: the ideal straight line, and what is left after each day so
    far."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAccessibleName("Retainer burn-down")
        self.setMinimumHeight(84)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.retainer: Retainer | None = None
        self.through: date | None = None  # the last day drawn (the principal's today, or the period's end)

    def sizeHint(self) -> QSize:
        return QSize(240, 96)

    def minimumSizeHint(self) -> QSize:
        return QSize(120, 84)

    def set_retainer(self, retainer: Retainer | None, today: date) -> None:
        self.retainer = retainer
        if retainer is None:
            self.through = None
        else:
            last = retainer.end_day - timedelta(days=1)
            self.through = None if today < retainer.first_day else min(today, last)
        self.update()

    def points(self) -> list[tuple[int, Decimal]]:
        """(days from the period's start, minutes left at the end of that day), starting with (0, the retainer)."""
        r = self.retainer
        if r is None or self.through is None:
            return []
        billed = dict(r.days)
        left = Decimal(r.minutes)
        points = [(0, left)]
        day, index = r.first_day, 0
        while day <= self.through:
            left -= billed.get(day, Decimal(0))
            index += 1
            points.append((index, left))
            day += timedelta(days=1)
        return points

    def paintEvent(self, event: QPaintEvent) -> None:
        r = self.retainer
        if r is None or r.minutes <= 0:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.WindowText)
        metrics = painter.fontMetrics()
        points = self.points()
        lowest = min([Decimal(0)] + [left for _, left in points])
        top = Decimal(r.minutes)
        area = QRectF(self.rect()).adjusted(metrics.horizontalAdvance("000 h") + 6, 4, -4, -metrics.height() - 4)
        days = max(1, (r.end_day - r.first_day).days)

        def at(index: float, left: Decimal) -> QPointF:
            y = float((top - left) / (top - lowest)) if top > lowest else 0.0
            return QPointF(area.left() + area.width() * index / days, area.top() + area.height() * y)

        grid = QColor(text)
        grid.setAlpha(70)
        painter.setPen(QPen(grid, 1))
        painter.drawLine(at(0, Decimal(0)), at(days, Decimal(0)))
        painter.drawLine(at(0, top), at(0, lowest))
        ideal = QPen(grid, 1, Qt.PenStyle.DashLine)
        painter.setPen(ideal)
        painter.drawLine(at(0, top), at(days, Decimal(0)))
        colour = QColor(OVER if r.level >= 100 else WARNING if r.level >= 80
                        else palette.color(QPalette.ColorRole.Highlight))
        painter.setPen(QPen(colour, 2))
        for (i0, l0), (i1, l1) in zip(points, points[1:], strict=False):
            painter.drawLine(at(i0, l0), at(i1, l1))
        painter.setPen(text)
        label = area.left() - 4
        painter.drawText(QRectF(0, at(0, top).y() - metrics.height() / 2, label, metrics.height()),
                         int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), f"{r.minutes / 60:g} h")
        painter.drawText(QRectF(0, at(0, Decimal(0)).y() - metrics.height() / 2, label, metrics.height()),
                         int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), "0")
        bottom = QRectF(area.left(), area.bottom() + 2, area.width(), metrics.height())
        last = r.end_day - timedelta(days=1)
        painter.drawText(bottom, int(Qt.AlignmentFlag.AlignLeft), f"{r.first_day.day} {r.first_day:%b}")
        painter.drawText(bottom, int(Qt.AlignmentFlag.AlignRight), f"{last.day} {last:%b}")
        painter.end()


# -- dialogs ------------------------------------------------------------------------------------------------------
def _datetime_edit(parent: QWidget, name: str, when: datetime, zone: str) -> QDateTimeEdit:
    local = timezones.in_zone(when, zone)
    edit = QDateTimeEdit(parent)
    edit.setAccessibleName(name)
    edit.setDisplayFormat("yyyy-MM-dd HH:mm")
    edit.setCalendarPopup(True)
    edit.setDateTime(QDateTime(QDate(local.year, local.month, local.day), QTime(local.hour, local.minute)))
    return edit


class _ErrorLabel(QLabel):
    """A refusal, one line, in the dialog that caused it (the dialog stays open to fix it)."""

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setObjectName("refusal")
        self.setWordWrap(True)
        self.setStyleSheet(f"color: {OVER}")
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def show_error(self, text: str) -> None:
        self.setText(text[:1].upper() + text[1:])
        self.setVisible(bool(text))


class EntryDialog(QDialog):
    """Add or edit an entry: from and to in the principal's zone (with both zones spelled out below), the note,
    billable. Save emits :attr:`submitted`; the dialog closes only when the store took it."""

    submitted = Signal(object)  # the TimeEntry to save

    def __init__(self, principal: Principal, entry: TimeEntry | None = None, *, start: datetime | None = None,
                 end: datetime | None = None, billable: bool = True, parent: QWidget | None = None):
        super().__init__(parent)
        principal_title(self, "Edit time" if entry is not None else "Add time", principal)
        self.principal, self.entry = principal, entry
        self.assistant_zone = timezones.assistant_zone_name()
        zone = principal.timezone
        start = entry.start_utc if entry is not None else start or now_utc()
        end = (entry.end_utc if entry is not None else None) or end or start + timedelta(minutes=30)
        self.start = _datetime_edit(self, f"From, in {zone}", start, zone)
        self.end = _datetime_edit(self, f"To, in {zone}", end, zone)
        self.both = QLabel(self)
        self.both.setObjectName("both-zones")
        self.both.setWordWrap(True)
        self.note = QLineEdit(entry.note if entry is not None else "", self)
        self.note.setAccessibleName("Note")
        self.note.setPlaceholderText("What the time was for")
        self.billable = QCheckBox("&Billable", self)
        self.billable.setChecked(entry.billable if entry is not None else billable)
        self.error = _ErrorLabel(self)
        self.start.dateTimeChanged.connect(self._update)
        self.end.dateTimeChanged.connect(self._update)
        form = QFormLayout()
        form.addRow(QLabel(f"In {principal.name}'s time ({zone}):", self))
        form.addRow("&From", self.start)
        form.addRow("&To", self.end)
        form.addRow(self.both)
        form.addRow("&Note", self.note)
        form.addRow("", self.billable)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel,
                                        parent=self)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(420)
        self._update()

    def times(self) -> tuple[datetime, datetime]:
        zone = self.principal.timezone
        return edit_utc(self.start, zone), edit_utc(self.end, zone)

    def _update(self) -> None:
        start, end = self.times()
        p = self.principal
        if end <= start:
            self.both.setText("It must end after it starts.")
            return
        self.both.setText(
            f"{hours_minutes(Decimal(int((end - start).total_seconds())) / 60)} h · "
            f"{when_text(start, end, p.timezone)} for {p.name}\n"
            f"{when_text(start, end, self.assistant_zone, full_day=False)} your time")

    def show_error(self, text: str) -> None:
        self.error.show_error(text)

    def submit(self) -> None:
        start, end = self.times()
        if end <= start:
            self.show_error("An entry must end after it starts.")
            return
        self.error.show_error("")
        base = self.entry
        entry = TimeEntry(self.principal.id, start, end, TimeSource.MANUAL) if base is None else TimeEntry(
            base.principal_id, start, end, base.source, item=base.item, item_title=base.item_title, id=base.id)
        entry.note, entry.billable = self.note.text().strip(), self.billable.isChecked()
        self.submitted.emit(entry)


class BillingDialog(QDialog):
    """A principal's billing: hourly rate and currency, retainer, rounding, and whether new time is billable."""

    submitted = Signal(object)  # the Billing to save

    def __init__(self, principal: Principal, billing: Billing, parent: QWidget | None = None):
        super().__init__(parent)
        principal_title(self, "Billing", principal)
        self.principal = principal
        self.rate = QLineEdit("" if billing.rate is None else str(billing.rate), self)
        self.rate.setAccessibleName("Hourly rate")
        self.rate.setPlaceholderText("none")
        self.currency = QLineEdit(billing.currency, self)
        self.currency.setAccessibleName("Currency")
        self.currency.setPlaceholderText("USD")
        self.currency.setMaxLength(3)
        self.currency.setMaximumWidth(self.currency.fontMetrics().horizontalAdvance("WWWW") + 16)
        self.retainer = QDoubleSpinBox(self)
        self.retainer.setAccessibleName("Retainer hours")
        self.retainer.setRange(0, 1000)
        self.retainer.setDecimals(1)
        self.retainer.setSpecialValueText("none")
        self.retainer.setSuffix(" h")
        self.retainer.setValue((billing.retainer_minutes or 0) / 60)
        self.retainer_per = QComboBox(self)
        self.retainer_per.setAccessibleName("Retainer period")
        self.retainer_per.addItem("per month", "month")
        self.retainer_per.addItem("per week", "week")
        self.retainer_per.setCurrentIndex(max(0, self.retainer_per.findData(billing.retainer_per or "month")))
        self.rounding = QComboBox(self)
        self.rounding.setAccessibleName("Rounding")
        for minutes in (0, 6, 10, 15):
            self.rounding.addItem("exact minutes" if minutes == 0 else f"up to {minutes} min", minutes)
        self.rounding.setCurrentIndex(max(0, self.rounding.findData(billing.rounding_min)))
        self.rounding_per = QComboBox(self)
        self.rounding_per.setAccessibleName("Round per")
        self.rounding_per.addItem("per entry", "entry")
        self.rounding_per.addItem("per day", "day")
        self.rounding_per.setCurrentIndex(max(0, self.rounding_per.findData(billing.rounding_per)))
        self.billable_default = QCheckBox("New time is &billable", self)
        self.billable_default.setChecked(billing.billable_default)
        self.error = _ErrorLabel(self)
        rate_row = QHBoxLayout()
        rate_row.addWidget(self.rate, 1)
        rate_row.addWidget(QLabel("per hour, in", self))
        rate_row.addWidget(self.currency)
        retainer_row = QHBoxLayout()
        retainer_row.addWidget(self.retainer, 1)
        retainer_row.addWidget(self.retainer_per)
        rounding_row = QHBoxLayout()
        rounding_row.addWidget(self.rounding, 1)
        rounding_row.addWidget(self.rounding_per)
        form = QFormLayout()
        for text, buddy, row in (("&Rate", self.rate, rate_row), ("R&etainer", self.retainer, retainer_row),
                                 ("R&ounding", self.rounding, rounding_row)):
            label = QLabel(text, self)
            label.setBuddy(buddy)
            form.addRow(label, row)
        form.addRow("", self.billable_default)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel,
                                        parent=self)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(420)

    def show_error(self, text: str) -> None:
        self.error.show_error(text)

    def billing(self) -> Billing:
        """What the form says (the rate read here; the store checks the rest). Raises InvalidInput."""
        text = self.rate.text().strip()
        hours = self.retainer.value()
        return Billing(
            rate=time_store.parse_rate(text) if text else None, currency=self.currency.text().strip().upper(),
            retainer_minutes=round(hours * 60) if hours > 0 else None,
            retainer_per=self.retainer_per.currentData() if hours > 0 else "",
            rounding_min=self.rounding.currentData(), rounding_per=self.rounding_per.currentData(),
            billable_default=self.billable_default.isChecked())

    def submit(self) -> None:
        try:
            billing = self.billing()
        except InvalidInput as error:
            self.show_error(str(error))
            return
        self.error.show_error("")
        self.submitted.emit(billing)


class InvoiceDialog(QDialog):
    """The invoice's number, its lines (per day or per work item) and who issues it (remembered)."""

    def __init__(self, principal: Principal, number: str, parent: QWidget | None = None):
        super().__init__(parent)
        principal_title(self, "Invoice", principal)
        self.number = QLineEdit(number, self)
        self.number.setAccessibleName("Invoice number")
        self.group = QComboBox(self)
        self.group.setAccessibleName("Lines")
        self.group.addItem("One line per day", "day")
        self.group.addItem("One line per work item", "item")
        self.issuer = QPlainTextEdit(str(QSettings().value("time/issuer", "") or ""), self)
        self.issuer.setAccessibleName("Your name and address")
        self.issuer.setPlaceholderText("Your name\nStreet\nCity")
        self.issuer.setTabChangesFocus(True)
        self.issuer.setFixedHeight(self.issuer.fontMetrics().lineSpacing() * 4 + 16)
        form = QFormLayout()
        form.addRow("&Number", self.number)
        form.addRow("&Lines", self.group)
        form.addRow("&From", self.issuer)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                   parent=self)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Save PDF…")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.setMinimumWidth(380)

    def values(self) -> tuple[str, str, str]:
        issuer = self.issuer.toPlainText().strip()
        QSettings().setValue("time/issuer", issuer)
        return self.number.text().strip(), self.group.currentData(), issuer or "Your assistant"


# -- the tab ------------------------------------------------------------------------------------------------------
class TimeView(QWidget):
    status = Signal(str)  # what an action did, for the window's notice
    failed = Signal(str)  # an error the user must see: it stays until dismissed
    retainer_notice = Signal(str)  # a retainer reached 80 % or 100 %: told once per period and level
    loaded = Signal()  # a snapshot was shown (tests wait for it)

    def __init__(self, tasks: TaskManager, parent: QWidget | None = None,
                 push_undo: Callable[[str, Callable[[], object]], object] | None = None):
        super().__init__(parent)
        self.setObjectName("time")
        self.tasks = tasks
        self.push_undo = push_undo
        self.principal: Principal | None = None
        self.snapshot: TimeSnapshot | None = None
        self.anchor: date | None = None  # the day shown, the principal's; None: their today
        self._request = 0
        self._dirty = True
        self._checked_everyone = False
        self.entry_dialog: EntryDialog | None = None
        self.billing_dialog: BillingDialog | None = None
        tasks.changed.connect(self.on_changed)
        self.model = TimeEntryModel(self)

        # the period
        self.period = QComboBox(self)
        self.period.setAccessibleName("Period")
        for text, value in PERIODS:
            self.period.addItem(text, value)
        self.period.setCurrentIndex(1)
        self.period.currentIndexChanged.connect(lambda _i: self.reload())
        self.previous_button = QToolButton(self)
        self.previous_button.setText("◀")
        self.previous_button.setAccessibleName("Previous period")
        self.previous_button.setToolTip("The period before")
        self.previous_button.clicked.connect(lambda: self.step(-1))
        self.today_button = QPushButton("Toda&y", self)
        self.today_button.setToolTip("The principal's today")
        self.today_button.clicked.connect(self.go_today)
        self.next_button = QToolButton(self)
        self.next_button.setText("▶")
        self.next_button.setAccessibleName("Next period")
        self.next_button.setToolTip("The period after")
        self.next_button.clicked.connect(lambda: self.step(1))
        self.period_label = QLabel(self)
        self.period_label.setObjectName("period")
        self.period_label.setMinimumWidth(0)
        self.period_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.add_button = QPushButton("&Add time…", self)
        self.add_button.setToolTip("Time worked, added afterwards")
        self.add_button.clicked.connect(lambda: self.open_add())
        self.edit_button = QPushButton("E&dit…", self)
        self.edit_button.clicked.connect(lambda: self.open_edit())
        self.delete_button = QPushButton("Delete", self)
        self.delete_button.clicked.connect(self.on_delete)
        self.export_button = QPushButton("E&xport", self)
        export_menu = QMenu(self.export_button)
        self.export_csv_action = export_menu.addAction("Timesheet as CSV…", lambda: self.export_timesheet("csv"))
        self.export_pdf_action = export_menu.addAction("Timesheet as PDF…", lambda: self.export_timesheet("pdf"))
        self.invoice_action = export_menu.addAction("Invoice as PDF…", lambda: self.open_invoice())
        self.export_button.setMenu(export_menu)
        self.billing_button = QPushButton("Billin&g…", self)
        self.billing_button.setToolTip("Rate, currency, retainer and rounding")
        self.billing_button.clicked.connect(lambda: self.open_billing())

        # the timer
        self.timer_card = QComboBox(self)
        self.timer_card.setAccessibleName("Card the timer is for")
        self.timer_card.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.timer_card.setMinimumContentsLength(14)
        self.timer_note = QLineEdit(self)
        self.timer_note.setAccessibleName("Timer note")
        self.timer_note.setPlaceholderText("What for (work outside the app)…")
        self.timer_note.setClearButtonEnabled(True)
        self.timer_note.returnPressed.connect(self.on_timer)
        self.timer_button = QPushButton("&Start timer", self)
        self.timer_button.setObjectName("timer")
        self.timer_button.clicked.connect(self.on_timer)
        self.timer_label = QLabel(self)
        self.timer_label.setObjectName("timer-state")
        self.timer_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.ticker = QTimer(self)
        self.ticker.setInterval(1000)
        self.ticker.timeout.connect(self._show_timer)

        # the entries
        self.table = QTableView(self)
        self.table.setObjectName("time-entries")
        self.table.setAccessibleName("Time entries")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setMinimumSectionSize(40)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)  # right-click: show or hide columns
        for column, title in enumerate(TimeEntryModel.headers):
            if column not in (1, 3, 7):  # their time, the time worked and what it was stay
                toggle = QAction(title, header)
                toggle.setCheckable(True)
                toggle.setChecked(True)
                toggle.toggled.connect(lambda shown, c=column: self.table.setColumnHidden(c, not shown))
                header.addAction(toggle)
        self.table.selectionModel().currentRowChanged.connect(lambda current, _prev: self.on_selected(current.row()))
        self.table.doubleClicked.connect(lambda _index: self.open_edit())
        self.edit_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Return), self.table, self.open_edit)
        self.edit_shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
        self.delete_shortcut = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.table, self.on_delete)
        self.delete_shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
        self.empty = QLabel(self)
        self.empty.setObjectName("empty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)

        # the side pane: totals, the retainer, the selected entry's history
        # one column per period holding the day shown, one row per measure
        self.totals = QGridLayout()
        self.totals.setHorizontalSpacing(12)
        self.totals.setVerticalSpacing(2)
        self.total_labels: dict[tuple[str, str], QLabel] = {}
        self.amount_title = QLabel("Amount", self)
        for row, title in enumerate(("", "Billable", "Not billable", "Billed")):
            self.totals.addWidget(QLabel(title, self), row, 0)
        self.totals.addWidget(self.amount_title, 4, 0)
        for column, (_label, name) in enumerate(PERIODS, start=1):
            for row, part in enumerate(("name", "billable", "non_billable", "billed", "amount")):
                label = QLabel(self)
                label.setObjectName(f"total-{name}-{part}")
                label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                if part in ("name", "billed"):
                    label.setStyleSheet("font-weight: bold")
                self.total_labels[(name, part)] = label
                self.totals.addWidget(label, row, column)
        self.totals.setColumnStretch(0, 1)
        self.rounding_label = QLabel(self)
        self.rounding_label.setWordWrap(True)
        self.retainer_title = QLabel(self)
        self.retainer_title.setWordWrap(True)
        self.retainer_bar = QProgressBar(self)
        self.retainer_bar.setAccessibleName("Retainer used")
        self.retainer_bar.setTextVisible(True)
        self.burn_down = BurnDownChart(self)
        self.retainer_label = QLabel(self)
        self.retainer_label.setObjectName("retainer-notice")
        self.retainer_label.setWordWrap(True)
        self.history_title = QLabel("Changes to this entry", self)
        self.history = QListWidget(self)
        self.history.setAccessibleName("Changes to the selected entry")
        self.history.setWordWrap(True)

        bar = QHBoxLayout()
        bar.addWidget(self.period)
        bar.addWidget(self.previous_button)
        bar.addWidget(self.today_button)
        bar.addWidget(self.next_button)
        bar.addWidget(self.period_label, 1)
        bar.addWidget(self.add_button)
        bar.addWidget(self.edit_button)
        bar.addWidget(self.delete_button)
        bar.addWidget(self.export_button)
        bar.addWidget(self.billing_button)
        timer_bar = QHBoxLayout()
        timer_bar.addWidget(self.timer_button)
        timer_bar.addWidget(self.timer_card)
        timer_bar.addWidget(self.timer_note, 1)
        timer_bar.addWidget(self.timer_label, 1)
        table_side = QWidget(self)
        table_layout = QVBoxLayout(table_side)
        table_layout.setContentsMargins(0, 0, 0, 0)
        table_layout.addWidget(self.table, 1)
        table_layout.addWidget(self.empty)
        side = QWidget(self)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addLayout(self.totals)
        side_layout.addWidget(self.rounding_label)
        side_layout.addSpacing(6)
        side_layout.addWidget(self.retainer_title)
        side_layout.addWidget(self.retainer_bar)
        side_layout.addWidget(self.burn_down)
        side_layout.addWidget(self.retainer_label)
        side_layout.addSpacing(6)
        side_layout.addWidget(self.history_title)
        side_layout.addWidget(self.history, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(table_side)
        self.splitter.addWidget(side)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([680, 300])
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(bar)
        layout.addLayout(timer_bar)
        layout.addWidget(self.splitter, 1)
        layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self._show(None)

    def minimumSizeHint(self) -> QSize:
        return QSize(240, 200)

    def _fit_columns(self) -> None:
        """Each column as wide as its cells (at most a limit), so what was worked on keeps the room left; a day's
        entries share their day, so its column goes."""
        toggles = {a.text(): a for a in self.table.horizontalHeader().actions()}
        self.table.setColumnHidden(0, self.current_period() == "day" or not toggles["Day"].isChecked())
        # rounded per day, amounts belong to days (the totals), not to entries
        self.table.setColumnHidden(5, self.model.rounding_per == "day" or not toggles["Amount"].isChecked())
        limits = {0: 90, 1: 150, 2: 150, 6: 70}
        for column in range(self.model.columnCount() - 1):  # the last one stretches over what is left
            self.table.resizeColumnToContents(column)
            if column in limits:
                self.table.setColumnWidth(column, min(self.table.columnWidth(column), limits[column]))

    # -- loading ---------------------------------------------------------------------------------------------------
    def set_principal(self, principal: Principal | None) -> None:
        changed = principal is None or self.principal is None or principal.id != self.principal.id
        self.principal = principal
        if changed:  # nothing of the one before stays on screen while theirs loads
            self.anchor = None
            self._request += 1
            self._show(None, loading=principal is not None)
        if not self._checked_everyone and principal is not None:
            self._checked_everyone = True  # once per session: anything that reached 80 % while the app was closed
            self.check_retainers(None)
        self._reload_or_later()

    def _reload_or_later(self) -> None:
        if self.isVisible():
            self.reload()
        else:
            self._dirty = True

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._dirty:
            self.reload()

    def current_period(self) -> str:
        return str(self.period.currentData())

    def shown_anchor(self) -> date | None:
        p = self.principal
        if p is None:
            return None
        return self.anchor or timezones.in_zone(now_utc(), p.timezone).date()

    def show_day(self, day: date, period: str | None = None) -> None:
        """Show the period (the current one, or ``period``) that holds the principal's ``day``."""
        self.anchor = day
        if period is not None and period != self.current_period():
            self.period.setCurrentIndex(self.period.findData(period))  # reloads
        else:
            self.reload()

    def step(self, direction: int) -> None:
        anchor = self.shown_anchor()
        if anchor is None:
            return
        first, end = period_bounds(self.current_period(), anchor)
        self.show_day(end if direction > 0 else first - timedelta(days=1))

    def go_today(self) -> None:
        self.anchor = None
        self.reload()

    def reload(self) -> None:
        self._dirty = False
        principal, anchor = self.principal, self.shown_anchor()
        self._request += 1
        if principal is None or anchor is None:
            self._show(None)
            return
        request, principal_id, period, now = self._request, principal.id, self.current_period(), now_utc()

        def done(snapshot: TimeSnapshot) -> None:
            if snapshot.notice:
                self.retainer_notice.emit(snapshot.notice)
            if request == self._request:
                self._show(snapshot)

        self.tasks.run(lambda store: load_time(store, principal_id, period, anchor, now), on_done=done,
                       on_error=lambda error: self.failed.emit(describe_error(error)))

    def on_changed(self, changes: Changes) -> None:
        """Time changed (anyone's: the timer is the workspace's), or the principal or their cards: read again. The
        retainers of those whose time changed are checked now, the shown principal's by the reload when it runs."""
        timed = {pid for area, pid in changes.pairs if area == Area.TIME}
        principal = self.principal
        if principal is None:
            return
        if timed or changes.touches(Area.PRINCIPALS, Area.BOARD, principal_id=principal.id):
            self._reload_or_later()
        if not self._dirty:
            timed.discard(principal.id)
        if None in timed:
            self.check_retainers(None)
        elif timed:
            self.check_retainers(sorted(pid for pid in timed if pid is not None))

    def check_retainers(self, principal_ids: list[int] | None) -> None:
        now = now_utc()

        def told(texts: list[str]) -> None:
            for text in texts:
                self.retainer_notice.emit(text)

        self.tasks.run(lambda store: retainer_notices(store, principal_ids, now), on_done=told,
                       on_error=lambda error: self.failed.emit(describe_error(error)))

    # -- showing ---------------------------------------------------------------------------------------------------
    def _show(self, snapshot: TimeSnapshot | None, *, loading: bool = False) -> None:
        selected = self.selected_entry()
        self.snapshot = snapshot
        if snapshot is not None:
            self.principal = snapshot.principal  # as stored now (a name or zone edited since)
        self.model.set_sheet(snapshot.sheet if snapshot is not None else None)
        has_principal = snapshot is not None
        for widget in (self.period, self.previous_button, self.today_button, self.next_button, self.add_button,
                       self.export_button, self.billing_button, self.timer_card, self.timer_note):
            widget.setEnabled(has_principal)
        if snapshot is None:
            self.period_label.setText("")
            self.empty.setText("" if loading else "Add a principal to keep their time here.")
            self.empty.show()
            self._show_totals(None)
            self._show_retainer(None)
            self._show_timer_state()
            self.on_selected(-1)
            return
        p, sheet = snapshot.principal, snapshot.sheet
        mine = timezones.assistant_zone_name()
        self.period_label.setText(f"<b>{period_text(snapshot.period, sheet.first_day, sheet.end_day)}</b> · "
                                  f"{zone_city(p.timezone)} days")
        self.period_label.setToolTip(f"Days and times in {p.timezone}; your time in {mine}")
        self._fit_columns()
        if sheet.lines:
            self.empty.hide()
        else:
            self.empty.setText(f"No time for {p.name} in this {snapshot.period}. Start the timer, or add time worked "
                               "with Add time…")
            self.empty.show()
        row = self.model.row_of(selected.id) if selected is not None else -1
        if row < 0 and sheet.lines:
            row = 0
        if row >= 0:
            self.table.selectRow(row)
        else:
            self.on_selected(-1)
        cards = [(None, "No card")] + [(cid, title) for cid, title in snapshot.cards]
        chosen = self.timer_card.currentData()
        self.timer_card.clear()
        for cid, title in cards:
            self.timer_card.addItem(title, cid)
        self.timer_card.setCurrentIndex(max(0, self.timer_card.findData(chosen)))
        self._show_totals(snapshot)
        self._show_retainer(snapshot)
        self._show_timer_state()
        self._update_buttons()
        self.loaded.emit()

    def _show_totals(self, snapshot: TimeSnapshot | None) -> None:
        for label in self.total_labels.values():
            label.setText("")
        self.rounding_label.setText("")
        if snapshot is None:
            self.amount_title.setText("Amount")
            return
        billing = snapshot.sheet.billing
        self.amount_title.setText(f"Amount ({billing.currency})" if billing.rate is not None else "")
        for name, sheet in snapshot.totals.items():
            values = {"name": short_period(name, sheet.first_day, sheet.end_day),
                      "billable": hours_minutes(Decimal(sheet.billable_seconds) / 60),
                      "non_billable": hours_minutes(Decimal(sheet.non_billable_seconds) / 60),
                      "billed": hours_minutes(sheet.billed_minutes),
                      "amount": "" if sheet.amount is None else f"{sheet.amount:,}"}
            for part, text in values.items():
                self.total_labels[(name, part)].setText(text)
        rounding = (f"Billed time is rounded up to {billing.rounding_min} min per {billing.rounding_per}"
                    if billing.rounding_min else "Billed time is exact")
        rate = (f"; {billing.rate:,} {billing.currency} per hour." if billing.rate is not None
                else "; no rate yet (Billing…).")
        self.rounding_label.setText(rounding + rate)

    def _show_retainer(self, snapshot: TimeSnapshot | None) -> None:
        retainer = snapshot.retainer if snapshot is not None else None
        for widget in (self.retainer_bar, self.burn_down):
            widget.setVisible(retainer is not None)
        self.retainer_label.setStyleSheet("")
        if snapshot is None:
            self.retainer_title.setText("")
            self.retainer_label.setText("")
            self.burn_down.set_retainer(None, date.min)
            return
        if retainer is None:
            self.retainer_title.setText("<b>Retainer</b>")
            self.retainer_label.setText(f"{snapshot.principal.name} has no retainer: set one with Billing…")
            self.burn_down.set_retainer(None, snapshot.today)
            return
        self.retainer_title.setText(f"<b>Retainer</b> · {retainer.minutes / 60:g} h per {retainer.per}, "
                                    f"{retainer.period_text}")
        self.retainer_bar.setRange(0, max(1, retainer.minutes))
        self.retainer_bar.setValue(min(retainer.minutes, int(retainer.used_minutes)))
        self.retainer_bar.setFormat(f"{hours_minutes(retainer.used_minutes)} of "
                                    f"{hours_minutes(Decimal(retainer.minutes))} h ({retainer.percent} %)")
        self.burn_down.set_retainer(retainer, snapshot.today)
        self.burn_down.setToolTip(f"Hours left of {retainer.period_text}'s retainer after each day; the dashed line "
                                  "uses it up evenly")
        if retainer.level:
            self.retainer_label.setText(("⚠ " if retainer.level >= 100 else "") + timekeeping.retainer_text(
                snapshot.principal, retainer))
            self.retainer_label.setStyleSheet(f"color: {OVER if retainer.level >= 100 else WARNING}")
        else:
            self.retainer_label.setText(f"{hours_minutes(retainer.left_minutes)} h left.")

    def _show_timer_state(self) -> None:
        snapshot = self.snapshot
        running = snapshot.running if snapshot is not None else None
        mine = snapshot is not None and running is not None and running.principal_id == snapshot.principal.id
        self.timer_button.setText("&Stop timer" if running is not None else "&Start timer")
        self.timer_button.setEnabled(snapshot is not None)
        self.timer_card.setVisible(running is None)
        self.timer_note.setVisible(running is None)
        if running is None or snapshot is None:
            self.ticker.stop()
            self.timer_label.setText("")
            self.timer_button.setToolTip(
                f"Count time for {snapshot.principal.name} from now (work outside the app)" if snapshot else "")
            return
        self.timer_button.setToolTip("Stop the running timer" if mine else
                                     f"Stop {snapshot.running_for}'s timer (one runs at a time)")
        self.ticker.start()
        self._show_timer()

    def _show_timer(self) -> None:
        snapshot = self.snapshot
        running = snapshot.running if snapshot is not None else None
        if snapshot is None or running is None:
            return
        p, mine = snapshot.principal, timezones.assistant_zone_name()
        elapsed = max(0, int((now_utc() - running.start_utc).total_seconds()))
        hours, rest = divmod(elapsed, 3600)
        since = timezones.in_zone(running.start_utc, p.timezone)
        what = running.item_title or running.note
        whose = "" if running.principal_id == p.id else f" for {snapshot.running_for}"
        self.timer_label.setText(
            f"⏱ {hours}:{rest // 60:02d}:{rest % 60:02d}{whose} since {since:%H:%M} {zone_city(p.timezone)}"
            f" ({timezones.in_zone(running.start_utc, mine):%H:%M} your time)" + (f" · {what}" if what else ""))

    def selected_entry(self) -> TimeEntry | None:
        return self.model.entry_at(self.table.currentIndex().row())

    def _update_buttons(self) -> None:
        has_entry = self.selected_entry() is not None
        self.edit_button.setEnabled(has_entry)
        self.delete_button.setEnabled(has_entry)

    def on_selected(self, row: int) -> None:
        self._update_buttons()
        self.history.clear()
        entry, principal = self.model.entry_at(row), self.principal
        if entry is None or principal is None:
            self.history_title.setText("Changes to this entry")
            return
        self.history_title.setText(f"Changes to this entry (#{entry.id})")
        principal_id, entry_id, zone = principal.id, entry.id, principal.timezone

        def show(history: list[dict[str, Any]]) -> None:
            current = self.selected_entry()
            if current is None or current.id != entry_id:
                return
            self.history.clear()
            for h in history:
                self.history.addItem(history_text(h, zone))

        self.tasks.run(lambda store: time_store.history(store.scope(principal_id), entry_id), on_done=show,
                       on_error=lambda error: self.failed.emit(describe_error(error)))

    # -- the timer ---------------------------------------------------------------------------------------------------
    def on_timer(self) -> None:
        snapshot = self.snapshot
        if snapshot is None:
            return
        now = now_utc()
        if snapshot.running is not None:
            def stop(store: Store) -> timekeeping.Stopped:
                return timekeeping.stop_timer(store, now=now)

            self.tasks.run(stop, on_done=self._stopped, on_error=lambda error: self.failed.emit(describe_error(error)))
            return
        p, card, note = snapshot.principal, self.timer_card.currentData(), self.timer_note.text().strip()
        principal_id = p.id

        def started(entry: TimeEntry) -> None:
            self.timer_note.clear()
            self.status.emit(f"Timer started · {p.name}" + (f" · {entry.item_title}" if entry.item_title else ""))

        self.tasks.run(lambda store: timekeeping.start_timer(store, principal_id, note=note, card_id=card, now=now),
                       on_done=started, on_error=lambda error: self.failed.emit(describe_error(error)))

    def _stopped(self, stopped: timekeeping.Stopped) -> None:
        e = stopped.entry
        worked = hours_minutes(Decimal(e.seconds) / 60)
        if e.seconds > timekeeping.LONG_TIMER.total_seconds():
            self.failed.emit(f"Timer stopped · {stopped.principal.name}: it ran {worked} h. If it was left running, "
                             "select the entry and correct it with Edit….")
        else:
            self.status.emit(f"Timer stopped · {stopped.principal.name}: {worked} h")

    # -- entries by hand ---------------------------------------------------------------------------------------------
    def open_add(self) -> EntryDialog | None:
        snapshot = self.snapshot
        if snapshot is None:
            return None
        p = snapshot.principal
        now = now_utc()
        end = now.replace(second=0, microsecond=0)
        if snapshot.anchor != snapshot.today:  # a day looked back on: its morning, in their zone
            end = timezones.local_to_utc(datetime(snapshot.anchor.year, snapshot.anchor.month, snapshot.anchor.day,
                                                  10, 0), p.timezone)
        dialog = EntryDialog(p, start=end - timedelta(minutes=30), end=end,
                             billable=snapshot.sheet.billing.billable_default, parent=self)
        return self._open_entry_dialog(dialog)

    def open_edit(self) -> EntryDialog | None:
        entry, snapshot = self.selected_entry(), self.snapshot
        if entry is None or snapshot is None:
            return None
        return self._open_entry_dialog(EntryDialog(snapshot.principal, entry, parent=self))

    def _open_entry_dialog(self, dialog: EntryDialog) -> EntryDialog:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.submitted.connect(lambda entry: self.save_entry(entry, dialog))
        dialog.finished.connect(lambda _r: setattr(self, "entry_dialog", None))
        self.entry_dialog = dialog
        dialog.open()
        return dialog

    def save_entry(self, entry: TimeEntry, dialog: EntryDialog | None = None) -> None:
        p = self.principal
        if p is None:
            return
        new = not entry.id
        principal_id = entry.principal_id

        def save(store: Store) -> TimeEntry:
            scope = store.scope(principal_id)
            if new:
                return time_store.add_entry(scope, entry)
            return time_store.update_entry(scope, entry)

        def done(saved: TimeEntry) -> None:
            if dialog is not None:
                dialog.accept()
            self.status.emit(f"{'Added' if new else 'Changed'} {hours_minutes(Decimal(saved.seconds) / 60)} h · "
                             f"{p.name}")

        def refused(error: BaseException) -> None:
            if dialog is not None and dialog.isVisible():
                dialog.show_error(describe_error(error))
            else:
                self.failed.emit(describe_error(error))

        self.tasks.run(save, on_done=done, on_error=refused)

    def on_delete(self) -> None:
        entry, p = self.selected_entry(), self.principal
        if entry is None or p is None:
            return
        principal_id, entry_id = entry.principal_id, entry.id
        text = f"Deleted {hours_minutes(Decimal(entry.seconds) / 60)} h of {span_text(entry.start_utc, entry.end_utc, p.timezone)} · {p.name}"

        def restore() -> None:
            again = TimeEntry(entry.principal_id, entry.start_utc, entry.end_utc, entry.source, entry.billable,
                              entry.note, entry.item, entry.item_title)
            self.tasks.run(lambda store: time_store.add_entry(store.scope(principal_id), again,
                                                              actor="assistant (undo)"),
                           on_error=lambda error: self.failed.emit(describe_error(error)))

        def done(_result: object) -> None:
            if self.push_undo is not None:
                self.push_undo(text, restore)  # the notice says it, with Undo
            else:
                self.status.emit(text)

        self.tasks.run(lambda store: time_store.delete_entry(store.scope(principal_id), entry_id), on_done=done,
                       on_error=lambda error: self.failed.emit(describe_error(error)))

    # -- billing ---------------------------------------------------------------------------------------------------
    def open_billing(self) -> BillingDialog | None:
        snapshot = self.snapshot
        if snapshot is None:
            return None
        p = snapshot.principal
        dialog = BillingDialog(p, snapshot.sheet.billing, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        principal_id = p.id

        def saved(_billing: Billing) -> None:
            dialog.accept()
            self.status.emit(f"Billing saved · {p.name}")

        def save(billing: Billing) -> None:
            self.tasks.run(lambda store: time_store.save_billing(store.scope(principal_id), billing), on_done=saved,
                           on_error=lambda error: dialog.show_error(describe_error(error)))

        dialog.submitted.connect(save)
        dialog.finished.connect(lambda _r: setattr(self, "billing_dialog", None))
        self.billing_dialog = dialog
        dialog.open()
        return dialog

    # -- exports ---------------------------------------------------------------------------------------------------
    def _export_name(self, what: str, suffix: str) -> str:
        snapshot = self.snapshot
        assert snapshot is not None  # only called with a principal shown
        sheet = snapshot.sheet
        stamp = f"{sheet.first_day:%Y-%m}" if snapshot.period == "month" else f"{sheet.first_day:%Y-%m-%d}"
        name = "-".join(snapshot.principal.name.lower().split())
        return f"{what}-{name}-{stamp}.{suffix}"

    def export_timesheet(self, kind: str, path: str | None = None) -> None:
        """The period shown as a timesheet, CSV or PDF: read (and a CSV written) on the worker."""
        snapshot = self.snapshot
        if snapshot is None:
            return
        p = snapshot.principal
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self, f"Export timesheet — {p.name}", self._export_name("timesheet", kind),
                "CSV (*.csv)" if kind == "csv" else "PDF (*.pdf)")
            if not path:
                return
        target, principal_id = Path(path), p.id
        first, end = snapshot.sheet.first_day, snapshot.sheet.end_day
        title = f"Timesheet {p.name} {period_text(snapshot.period, first, end)}"

        def make(store: Store) -> tuple[int, str]:
            sheet = timekeeping.timesheet(store, principal_id, first, end)
            if kind == "csv":
                with private_files.exporting(target) as scratch:
                    scratch.write_text(timekeeping.timesheet_csv(sheet), encoding="utf-8")
                return len(sheet.lines), ""
            return len(sheet.lines), timekeeping.timesheet_html(sheet)

        def done(result: tuple[int, str]) -> None:
            count, html = result
            if kind == "pdf":
                self._write_pdf(html, target, title, p, one_line_column=timekeeping.TIMESHEET_WORK_COLUMN)
            self.status.emit(f"Timesheet saved · {p.name}: {count} entries in {target.name}")

        self.tasks.run(make, on_done=done, on_error=lambda error: self.failed.emit(describe_error(error)))

    def _write_pdf(self, html: str, target: Path, title: str, principal: Principal, *,
                   one_line_column: int | None = None) -> None:
        """Qt lays the page out: on the GUI thread, with nothing of the store."""
        from assistant.ui.pdf import write_pdf

        try:
            with private_files.exporting(target) as scratch:
                write_pdf(html, scratch, title=title, letter=timekeeping.letter_paper(principal),
                          one_line_column=one_line_column)
        except OSError as error:
            self.failed.emit(f"{target.name} could not be written: {error.strerror or error}")

    def open_invoice(self) -> InvoiceDialog | None:
        snapshot = self.snapshot
        if snapshot is None:
            return None
        p, first = snapshot.principal, snapshot.sheet.first_day
        number = f"{first:%Y-%m}-{p.id:03d}" if snapshot.period == "month" else f"{first:%Y-%m-%d}-{p.id:03d}"
        dialog = InvoiceDialog(p, number, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.export_invoice(*dialog.values()))
        dialog.open()
        return dialog

    def export_invoice(self, number: str, group: str, issuer: str, path: str | None = None) -> None:
        snapshot = self.snapshot
        if snapshot is None:
            return
        p = snapshot.principal
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, f"Save invoice — {p.name}",
                                                  self._export_name(f"invoice-{number}", "pdf"), "PDF (*.pdf)")
            if not path:
                return
        target, principal_id = Path(path), p.id
        first, end = snapshot.sheet.first_day, snapshot.sheet.end_day
        issued = timezones.in_zone(now_utc(), timezones.assistant_zone_name()).date()

        def make(store: Store) -> tuple[str, str]:
            sheet = timekeeping.timesheet(store, principal_id, first, end)
            html = timekeeping.invoice_html(sheet, number=number, issued=issued, issuer=issuer, group=group)
            return html, money_text(sheet.amount, sheet.billing.currency)

        def done(result: tuple[str, str]) -> None:
            html, total = result
            self._write_pdf(html, target, f"Invoice {number}", p)
            self.status.emit(f"Invoice {number} saved · {p.name}: {total} in {target.name}")

        self.tasks.run(make, on_done=done, on_error=lambda error: self.failed.emit(describe_error(error)))


def history_text(h: dict[str, Any], zone: str) -> str:
    """One change to an entry: when (the principal's time, then yours), what, who, and what it was before."""
    at: datetime = h["at_utc"]
    mine = timezones.assistant_zone_name()
    local = timezones.in_zone(at, zone)
    line = (f"{local.day} {local:%b %H:%M} {zone_city(zone)} ({timezones.in_zone(at, mine):%H:%M} yours)"
            f" — {h['action']} by {h['actor']}")
    before = h["before"]
    if before and h["action"] != "added":
        start = timezones.from_epoch(before.get("start_utc"))
        end = timezones.from_epoch(before.get("end_utc"))
        if start is not None:
            line += f"; was {span_text(start, end, zone, weekday=True)}"
        if before.get("note"):
            line += f", “{before['note']}”"
        line += ", billable" if before.get("billable") else ", not billable"
    return line


def install(window: Any) -> TimeView:
    """The Time tab: the current principal's time, their billing, and the retainer notices in the window's notice."""
    view = TimeView(window.tasks, push_undo=window.undo.push)
    window.add_view(view, "Time")
    window.principal_changed.connect(lambda _pid: view.set_principal(window.current_principal))
    view.status.connect(window.show_status)
    view.failed.connect(window.show_error)
    view.retainer_notice.connect(lambda text: window.notify(text))
    window.register_link("time", lambda _pid, _id: window.views.setCurrentWidget(view))
    return view
