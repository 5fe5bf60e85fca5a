"""Today's timeline: the assistant's day across, one lane per principal down (their colour, name and local time now),
each principal's business hours shaded in their lane, their meetings as blocks and their due items as markers, all
placed at their instants on the assistant's clock, with a line at now. The rows come from
:func:`assistant.reminders.timeline.day_timeline`, read on the worker; this only paints them and answers clicks.

The axis is real time: on the assistant's DST change day the hours run 00:00, 02:00, 03:00… (or 01:00 twice), so a
meeting and a due item at the same instant line up whichever lane they are in.
"""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QHelpEvent, QPainter, QPainterPath, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QToolTip, QWidget

from assistant.core import timezones
from assistant.reminders import item_status
from assistant.reminders.timeline import Lane, Meeting, Span, Timeline
from assistant.ui import style
from assistant.ui.calendar.view import lay_out_columns

OVERDUE = QColor("#c2410c")  # as the Today table's overdue and missed statuses
MARKER = 11  # a due item's marker, px
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _days(days: tuple[int, ...]) -> str:
    """ISO weekdays as a reader says them: "Mon–Fri", "Mon–Sat", "Tue, Thu"."""
    if len(days) > 2 and list(days) == list(range(days[0], days[-1] + 1)):
        return f"{DAY_NAMES[days[0] - 1]}–{DAY_NAMES[days[-1] - 1]}"
    return ", ".join(DAY_NAMES[d - 1] for d in days) or "no days"


def _span_text(start: datetime, end: datetime, zone: str) -> str:
    s, e = timezones.in_zone(start, zone), timezones.in_zone(end, zone)
    return f"{s:%a %H:%M}–{e:%H:%M} {s.tzname()}" if s.date() == e.date() else \
        f"{s:%a %H:%M} {s.tzname()} – {e:%a %H:%M} {e.tzname()}"


def describe_meeting(lane: Lane, meeting: Meeting, assistant_zone: str) -> str:
    """The principal's time first, the assistant's beside it, both labelled."""
    first = lane.name.split()[0]
    text = (f"{lane.name} — {meeting.summary}\n"
            f"{_span_text(meeting.start_utc, meeting.end_utc, lane.timezone)} ({first}'s time)\n"
            f"{_span_text(meeting.start_utc, meeting.end_utc, assistant_zone)} (your time)")
    if meeting.location:
        text += f"\n{meeting.location}"
    return text + "\nClick to open it in the calendar"


def describe_item(lane: Lane, row: dict[str, Any], assistant_zone: str, now: datetime) -> str:
    theirs = timezones.in_zone(row["due_utc"], lane.timezone)
    mine = timezones.in_zone(row["due_utc"], assistant_zone)
    first = lane.name.split()[0]
    text = (f"{lane.name} — {row['kind'].replace('-', ' ')}: {row['text']}\n"
            f"Due {theirs:%a %H:%M %Z} ({first}'s time) · {mine:%a %H:%M %Z} (your time) · {item_status(row, now)}")
    return text + ("\nClick to open it" if row["link"] else "\nClick to select it in the list below")


def describe_lane(lane: Lane, assistant_zone: str, now: datetime) -> str:
    hours = lane.business_hours
    local = timezones.in_zone(now, lane.timezone)
    text = (f"{lane.name} — {lane.timezone}, {local:%a %H:%M %Z} now\n"
            f"Business hours {hours.start:%H:%M}–{hours.end:%H:%M} {_days(hours.days)} (their time)")
    if lane.working:
        text += "\nToday in your time: " + ", ".join(_span_text(s, e, assistant_zone) for s, e in lane.working)
    else:
        text += "\nNo business hours in your day today"
    return text


@dataclass
class Hit:
    """Something on the timeline a click opens: a meeting block or a due item's marker."""

    rect: QRectF
    lane: int
    meeting: Meeting | None = None
    row: dict[str, Any] | None = None
    label: QRectF | None = None  # a meeting's title: in its block, and on past it up to the next one when narrow
    edge: int = 0  # an item due before (-1) or after (1) the hours shown: pinned to that edge, pointing out

    @property
    def key(self) -> tuple[Any, ...]:
        if self.meeting is not None:
            return ("meeting", self.lane, self.meeting.event_id, self.meeting.start_utc)
        assert self.row is not None  # a hit is a meeting or a row
        return ("item", self.lane, self.row["link"], self.row["reminder_id"], self.row["due_utc"])


class TimelineWidget(QWidget):
    """The painted timeline (the calendar's :class:`~assistant.ui.calendar.view.TimeGrid`'s way: geometry in methods
    the tests can read, painting from them)."""

    meeting_activated = Signal(int, object)  # principal id, Meeting
    item_activated = Signal(object)  # a Today row (assistant.reminders.today_items)

    def __init__(self, parent: QWidget | None = None, clock: Callable[[], datetime] = timezones.now_utc):
        super().__init__(parent)
        self.setObjectName("today-timeline")
        self.setAccessibleName("Today across principals")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.clock = clock
        self.timeline: Timeline | None = None
        self.range: Span = (timezones.now_utc(), timezones.now_utc() + timedelta(hours=1))
        self.selected: int | None = None
        self._hits: list[Hit] = []
        self._label_width_for: tuple[Timeline | None, tuple[str, datetime], int] | None = None  # label_width()
        self._pressed: int | None = None
        self._generation = 0  # counts layouts: the prepared pixmap is of one of them
        self._dues: list[datetime] = []  # the items' due instants, sorted: which are late now (prepared())
        self._prepared: tuple[tuple[Any, ...], QPixmap] | None = None
        self._laid_out_for: tuple[Timeline | None, QSize, str] | None = None

    def set_timeline(self, timeline: Timeline) -> None:
        selected = self._hits[self.selected].key if self.selected is not None else None
        self.timeline = timeline
        self.range = timeline.shown_range()
        self._lay_out()
        self.selected = next((i for i, hit in enumerate(self._hits) if hit.key == selected), None)
        self.updateGeometry()
        self.update()

    @property
    def lanes(self) -> list[Lane]:
        return self.timeline.lanes if self.timeline is not None else []

    @property
    def zone(self) -> str:
        return self.timeline.zone if self.timeline is not None else timezones.assistant_zone_name()

    # -- geometry ----------------------------------------------------------------------------------------------------
    def header_height(self) -> int:
        return self.fontMetrics().height() + 10

    def lane_height(self) -> int:
        return max(40, self.fontMetrics().lineSpacing() * 2 + 14)

    def label_width(self) -> int:
        """Room for the colour chip and the longest name or local time, within bounds (a long name is elided).
        Measured once per timeline, font and minute: every x on the axis depends on it, and measuring each lane's
        texts for each of them took seconds for ten principals' days."""
        key = (self.font().key(), self.clock().replace(second=0, microsecond=0))
        cached = self._label_width_for
        if cached is not None and cached[0] is self.timeline and cached[1] == key:
            return cached[2]
        width = self._measure_label_width()
        self._label_width_for = (self.timeline, key, width)
        return width

    def _measure_label_width(self) -> int:
        fm = self.fontMetrics()
        bold = QFont(self.font())
        bold.setBold(True)
        bold_fm = QFontMetrics(bold)
        widest = max([fm.horizontalAdvance(self._header_label())]
                     + [max(bold_fm.horizontalAdvance(lane.name), fm.horizontalAdvance(self._local_now(lane)))
                        for lane in self.lanes])
        return max(120, min(240, widest + 32))

    def plot_left(self) -> float:
        return float(self.label_width())

    def plot_right(self) -> float:
        return max(self.plot_left() + 1, self.width() - 8.0)

    def x_of(self, instant: datetime) -> float:
        """Where an instant falls on the axis (outside the range shown, beyond its edges)."""
        return self._axis()(instant)

    def _axis(self) -> Callable[[datetime], float]:
        """``x_of`` with the axis's ends read once: laying out and painting place every meeting, item and hour on
        the same axis, and reading its ends for each (the label width, the font's key, the clock) was most of the
        timeline's time."""
        left, right = self.plot_left(), self.plot_right()
        start, end = self.range
        origin = start.timestamp()
        factor = (right - left) / max(1.0, end.timestamp() - origin)
        return lambda instant: left + (instant.timestamp() - origin) * factor

    def lane_top(self, index: int) -> float:
        return float(self.header_height() + index * self.lane_height())

    def lane_rect(self, index: int) -> QRectF:
        return QRectF(self.plot_left(), self.lane_top(index), self.plot_right() - self.plot_left(),
                      self.lane_height())

    def working_rects(self, index: int) -> list[QRectF]:
        """The lane's business hours, shaded."""
        top, start, end = self.lane_top(index), *self.range
        x_of = self._axis()
        rects = []
        for s, e in self.lanes[index].working:
            s, e = max(s, start), min(e, end)
            if s < e:
                rects.append(QRectF(x_of(s), top, x_of(e) - x_of(s), self.lane_height()))
        return rects

    def now_x(self) -> float | None:
        now = self.clock()
        start, end = self.range
        return self.x_of(now) if start <= now <= end else None

    def hits(self) -> list[Hit]:
        return list(self._hits)

    def meeting_rects(self, index: int) -> list[tuple[QRectF, Meeting]]:
        return [(h.rect, h.meeting) for h in self._hits if h.lane == index and h.meeting is not None]

    def item_rects(self, index: int) -> list[tuple[QRectF, dict[str, Any]]]:
        return [(h.rect, h.row) for h in self._hits if h.lane == index and h.row is not None]

    def sizeHint(self) -> QSize:
        return QSize(900, self.header_height() + max(1, len(self.lanes)) * self.lane_height() + 1)

    def minimumSizeHint(self) -> QSize:
        return QSize(self.label_width() + 240, self.sizeHint().height())

    def resizeEvent(self, event) -> None:
        if self._laid_out_for != (self.timeline, self.size(), self.font().key()):  # not again at the same size
            self._lay_out()
        super().resizeEvent(event)

    def _lay_out(self) -> None:
        hits: list[Hit] = []
        start, end = self.range
        height = self.lane_height()
        x_of, left, right = self._axis(), self.plot_left(), self.plot_right()
        for index, lane in enumerate(self.lanes):
            top = self.lane_top(index)
            shown = [m for m in lane.meetings if m.start_utc < end and m.end_utc > start]
            spans = [(max(m.start_utc, start).timestamp(), min(m.end_utc, end).timestamp()) for m in shown]
            area_top, area_bottom = top + 4, top + height - MARKER - 5
            placed = []
            for m, (row, rows) in zip(shown, lay_out_columns(spans), strict=True):
                row_height = (area_bottom - area_top) / rows
                x1, x2 = x_of(max(m.start_utc, start)), x_of(min(m.end_utc, end))
                placed.append(Hit(QRectF(x1, area_top + row * row_height, max(6.0, x2 - x1 - 1), row_height - 1),
                                  index, meeting=m))
            for hit in placed:
                following = [h.rect.left() for h in placed
                             if h.rect.top() == hit.rect.top() and h.rect.left() > hit.rect.left()]
                until = max(hit.rect.right(), min(following, default=right) - 4)
                hit.label = QRectF(hit.rect.left() + 6, hit.rect.top(), until - hit.rect.left() - 8, hit.rect.height())
            hits.extend(placed)
            y = top + height - MARKER / 2 - 3
            for item in lane.items:  # overdue since an earlier day, or due after your midnight: at an edge
                edge = -1 if item["due_utc"] < start else 1 if item["due_utc"] > end else 0
                x = left + MARKER / 2 + 1 if edge < 0 else right - MARKER / 2 - 1 if edge > 0 else x_of(item["due_utc"])
                hits.append(Hit(QRectF(x - MARKER / 2, y - MARKER / 2, MARKER, MARKER), index, row=item, edge=edge))
        self._hits = hits
        self._dues = sorted(h.row["due_utc"] for h in hits if h.row is not None)
        self._generation += 1
        self._laid_out_for = (self.timeline, self.size(), self.font().key())

    # -- painting ----------------------------------------------------------------------------------------------------
    def _header_label(self) -> str:
        start = timezones.in_zone(self.range[0], self.zone)
        return f"Your time ({start.tzname()})"

    def _local_now(self, lane: Lane) -> str:
        local = timezones.in_zone(self.clock(), lane.timezone)
        return f"{local:%a %H:%M} {local.tzname()}"

    def hour_ticks(self) -> list[tuple[datetime, str]]:
        """Each whole hour of the assistant's clock in the range, labelled as their clock reads it."""
        start, end = self.range
        local = timezones.in_zone(start, self.zone)
        tick = timezones.to_utc(local.replace(minute=0, second=0, microsecond=0))
        if tick < start:
            tick += timedelta(hours=1)
        ticks = []
        while tick <= end:
            ticks.append((tick, f"{timezones.in_zone(tick, self.zone):%H:%M}"))
            tick += timedelta(hours=1)
        return ticks

    def paintEvent(self, _event) -> None:
        """The layers below the now line from :meth:`prepared` (drawn once for what they show), then the now line
        and the focus frame."""
        now = self.clock()
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self.prepared(now))
        if self.timeline is None or not self.lanes:
            painter.end()
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        header, bottom = self.header_height(), self.lane_top(len(self.lanes))
        start, end = self.range
        now_x = self.x_of(now) if start <= now <= end else None
        if now_x is not None:
            painter.setPen(QPen(style.NOW_LINE, 2))
            painter.drawLine(QPointF(now_x, header), QPointF(now_x, bottom))
            painter.setBrush(style.NOW_LINE)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawEllipse(QPointF(now_x, header), 4, 4)
        if self.hasFocus() and self.selected is None:
            palette = self.palette()
            painter.setPen(QPen(palette.color(QPalette.ColorRole.Highlight), 1, Qt.PenStyle.DotLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5))
        painter.end()

    def prepared(self, now: datetime) -> QPixmap:
        """The timeline as painted below the now line: kept while what it shows is the same — the layout (the
        timeline and the size), palette, font, selection, the minute (the lanes' local times) and which items are
        late — and drawn again when any of it changed. The Today tab draws it while hidden (:meth:`prepare_paint`),
        so its showing copies it: the markers, texts and tints were most of the tab's first showing."""
        ratio = self.devicePixelRatioF()
        key = (self._generation, self.size(), ratio, self.palette().cacheKey(), self.font().key(), self.selected,
               now.replace(second=0, microsecond=0), bisect_right(self._dues, now))
        if self._prepared is None or self._prepared[0] != key:
            pixmap = QPixmap(max(1, round(self.width() * ratio)), max(1, round(self.height() * ratio)))
            pixmap.setDevicePixelRatio(ratio)
            painter = QPainter(pixmap)
            self._draw_layers(painter, now)
            painter.end()
            self._prepared = (key, pixmap)
        return self._prepared[1]

    def prepare_paint(self) -> None:
        """Behind another tab: draw what the next paint will show (:meth:`prepared`), once the widget has its size."""
        if not self.isVisible() and self.width() > 1 and self.height() > 1:
            self.prepared(self.clock())

    def _draw_layers(self, painter: QPainter, now: datetime) -> None:
        palette = self.palette()
        roles = QPalette.ColorRole
        dark = style.is_dark(palette)
        base, window = palette.color(roles.Base), palette.color(roles.Window)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = self.fontMetrics()
        left, right, header = self.plot_left(), self.plot_right(), self.header_height()
        painter.fillRect(self.rect(), base)
        if self.timeline is None or not self.lanes:
            if self.timeline is not None:
                painter.setPen(palette.color(roles.PlaceholderText))
                painter.drawText(QRectF(self.rect()), Qt.AlignmentFlag.AlignCenter,
                                 "No principals yet: File ▸ Add principal… gives each one a lane here")
            return
        painter.fillRect(QRectF(0, 0, left, self.height()), window)
        painter.fillRect(QRectF(0, 0, self.width(), header), window)
        height = self.lane_height()
        # business hours, tinted in each principal's colour
        for index, lane in enumerate(self.lanes):
            tint = style.blend(QColor(lane.colour), base, 0.2 if dark else 0.14)
            for rect in self.working_rects(index):
                painter.fillRect(rect, tint)
        # the hours, on the assistant's clock
        ticks = self.hour_ticks()
        per_hour = (right - left) / max(1.0, (self.range[1] - self.range[0]).total_seconds() / 3600)
        step = next((n for n in (1, 2, 3, 4, 6) if per_hour * n >= fm.horizontalAdvance("00:00") + 10), 6)
        grid, light = QPen(palette.color(roles.Mid)), QPen(palette.color(roles.Midlight), 1, Qt.PenStyle.DotLine)
        bottom = self.lane_top(len(self.lanes))
        x_of = self._axis()
        for number, (tick, label) in enumerate(ticks):
            x = x_of(tick)
            labelled = number % step == 0
            painter.setPen(grid if labelled else light)
            painter.drawLine(QPointF(x, header - 4 if labelled else header), QPointF(x, bottom))
            if labelled and x + fm.horizontalAdvance(label) + 3 <= self.width():
                painter.setPen(palette.color(roles.WindowText))
                painter.drawText(QRectF(x + 3, 2, fm.horizontalAdvance(label) + 2, header - 6),
                                 Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label)
        painter.setPen(palette.color(roles.PlaceholderText))
        painter.drawText(QRectF(8, 2, left - 12, header - 6), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         fm.elidedText(self._header_label(), Qt.TextElideMode.ElideRight, int(left - 12)))
        # the lanes' names, chips and local times; lines between lanes
        bold = QFont(self.font())
        bold.setBold(True)
        painter.setPen(grid)
        painter.drawLine(QPointF(0, header), QPointF(self.width(), header))
        for index, lane in enumerate(self.lanes):
            top = self.lane_top(index)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(lane.colour))
            line = fm.lineSpacing()
            text_top = top + (height - 2 * line) / 2
            painter.drawRoundedRect(QRectF(8, text_top + (line - 10) / 2, 10, 10), 3, 3)
            painter.setFont(bold)
            painter.setPen(palette.color(roles.WindowText))
            painter.drawText(QRectF(24, text_top, left - 30, line), Qt.AlignmentFlag.AlignLeft,
                             painter.fontMetrics().elidedText(lane.name, Qt.TextElideMode.ElideRight, int(left - 30)))
            painter.setFont(self.font())
            painter.setPen(palette.color(roles.PlaceholderText))
            painter.drawText(QRectF(24, text_top + line, left - 30, line), Qt.AlignmentFlag.AlignLeft,
                             fm.elidedText(self._local_now(lane), Qt.TextElideMode.ElideRight, int(left - 30)))
            painter.setPen(grid)
            painter.drawLine(QPointF(0, top + height), QPointF(self.width(), top + height))
        painter.drawLine(QPointF(left, 0), QPointF(left, bottom))
        # meetings, then the due items over them
        for number, hit in enumerate(self._hits):
            lane = self.lanes[hit.lane]
            selected = number == self.selected
            if hit.meeting is not None:
                colour = QColor(lane.colour)
                fill = style.blend(colour, base, 0.6 if dark else 0.4)
                border = colour.lighter(125) if dark else colour
                painter.setPen(QPen(palette.color(roles.Highlight), 2.5) if selected else QPen(border, 1))
                painter.setBrush(fill)
                painter.drawRoundedRect(hit.rect, 3, 3)
                painter.fillRect(QRectF(hit.rect.left(), hit.rect.top(), min(3.0, hit.rect.width()),
                                        hit.rect.height()), border)
                inner = hit.label or hit.rect.adjusted(6, 0, -3, 0)
                if inner.width() > fm.horizontalAdvance("M…"):
                    painter.setPen(palette.color(roles.Text))
                    painter.drawText(inner, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                                     fm.elidedText(hit.meeting.summary, Qt.TextElideMode.ElideRight,
                                                   int(inner.width())))
        # the items pinned at each lane's edges (due before or after the day shown): counted once, the count drawn
        # beside the first of them
        pinned_count: dict[tuple[int, int], int] = {}
        first_pinned: dict[tuple[int, int], Hit] = {}
        for h in self._hits:
            if h.row is not None:
                pinned_count[(h.lane, h.edge)] = pinned_count.get((h.lane, h.edge), 0) + 1
                first_pinned.setdefault((h.lane, h.edge), h)
        for number, hit, late in self.markers_to_draw(now):
            lane = self.lanes[hit.lane]
            path = QPainterPath()
            c, r = hit.rect.center(), MARKER / 2
            if hit.edge:  # a triangle pointing off the hours shown
                path.moveTo(c.x() + hit.edge * r, c.y())
                path.lineTo(c.x() - hit.edge * r, c.y() - r)
                path.lineTo(c.x() - hit.edge * r, c.y() + r)
            else:  # a diamond at the instant
                path.moveTo(c.x(), c.y() - r)
                path.lineTo(c.x() + r, c.y())
                path.lineTo(c.x(), c.y() + r)
                path.lineTo(c.x() - r, c.y())
            path.closeSubpath()
            painter.setPen(QPen(palette.color(roles.Highlight) if number == self.selected else base, 2 if
                                number == self.selected else 1.5))
            painter.setBrush(OVERDUE if late else QColor(lane.colour))
            painter.drawPath(path)
            pinned = pinned_count[(hit.lane, hit.edge)]
            if hit.edge and pinned > 1 and hit is first_pinned[(hit.lane, hit.edge)]:
                painter.setPen(palette.color(roles.Text))
                width = fm.horizontalAdvance(str(pinned)) + 2
                x = hit.rect.left() - width - 2 if hit.edge > 0 else hit.rect.right() + 2
                painter.drawText(QRectF(x, hit.rect.center().y() - fm.height() / 2, width, fm.height()),
                                 Qt.AlignmentFlag.AlignCenter, str(pinned))

    def markers_to_draw(self, now: datetime) -> list[tuple[int, Hit, bool]]:
        """The due items' markers to paint, in order, each with whether it is late: of markers that would be drawn
        alike at the same spot (the same lane, place, edge, lateness and selection), only the last, which covers the
        others. A lane's items due on earlier days are all pinned at its left edge (hundreds of them at scale: 679
        markers on 31 spots for ten principals), and drawing each of them was most of the timeline's paint. The count
        beside the pinned ones is drawn with the first of them, which is kept for it."""
        markers: list[tuple[int, Hit, bool]] = []
        last: dict[tuple[Any, ...], int] = {}  # the place in markers of the last marker drawn alike at a spot
        counted: set[tuple[int, int]] = set()  # lanes and edges whose first pinned marker (with the count) is kept
        for number, hit in enumerate(self._hits):
            if hit.row is None:
                continue
            late = item_status(hit.row, now) in ("overdue", "missed")
            key = (hit.lane, hit.edge, hit.rect.x(), hit.rect.y(), late, number == self.selected)
            if key in last:
                markers[last[key]] = (-1, *markers[last[key]][1:])  # covered by this one
            if hit.edge and (hit.lane, hit.edge) not in counted:
                counted.add((hit.lane, hit.edge))  # kept whatever covers it: the count is drawn with it
            else:
                last[key] = len(markers)
            markers.append((number, hit, late))
        return [m for m in markers if m[0] >= 0]

    # -- interaction -------------------------------------------------------------------------------------------------
    def hits_at(self, point: QPointF) -> list[int]:
        """What is under a point, topmost first: markers (with a few pixels of slack) before meetings."""
        found = []
        for number in reversed(range(len(self._hits))):
            hit = self._hits[number]
            slack = 3 if hit.row is not None else 0
            if hit.rect.adjusted(-slack, -slack, slack, slack).contains(point):
                found.append(number)
        return found

    def hit_at(self, point: QPointF) -> int | None:
        return next(iter(self.hits_at(point)), None)

    def lane_at(self, point: QPointF) -> int | None:
        index = int((point.y() - self.header_height()) // self.lane_height())
        return index if point.y() >= self.header_height() and 0 <= index < len(self.lanes) else None

    def select(self, number: int | None) -> None:
        self.selected = number if number is not None and 0 <= number < len(self._hits) else None
        if self.selected is not None:
            self.setAccessibleDescription(self.describe(self._hits[self.selected]))
        self.update()

    def describe(self, hit: Hit) -> str:
        lane = self.lanes[hit.lane]
        if hit.meeting is not None:
            return describe_meeting(lane, hit.meeting, self.zone)
        assert hit.row is not None  # a hit is a meeting or a row
        return describe_item(lane, hit.row, self.zone, self.clock())

    def activate(self, number: int) -> None:
        hit = self._hits[number]
        if hit.meeting is not None:
            self.meeting_activated.emit(self.lanes[hit.lane].principal_id, hit.meeting)
        elif hit.row is not None:
            self.item_activated.emit(hit.row)

    def mousePressEvent(self, event) -> None:
        self._pressed = self.hit_at(event.position()) if event.button() == Qt.MouseButton.LeftButton else None
        self.select(self._pressed)
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        pressed, self._pressed = self._pressed, None
        if pressed is not None and event.button() == Qt.MouseButton.LeftButton \
                and self.hit_at(event.position()) == pressed:
            self.activate(pressed)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self.hit_at(event.position()) is not None:
            self.setCursor(Qt.CursorShape.PointingHandCursor)
        else:
            self.unsetCursor()
        super().mouseMoveEvent(event)

    def keyPressEvent(self, event) -> None:
        """Right/Left: the next or previous meeting or item in time, across lanes; Down/Up: the same, lane by lane;
        Enter or Space opens it."""
        key, count = event.key(), len(self._hits)
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space) and self.selected is not None:
            self.activate(self.selected)
        elif key in (Qt.Key.Key_Right, Qt.Key.Key_Left, Qt.Key.Key_Down, Qt.Key.Key_Up) and count:
            if key in (Qt.Key.Key_Right, Qt.Key.Key_Left):
                order = sorted(range(count), key=lambda i: (self._hits[i].rect.left(), self._hits[i].lane))
            else:
                order = sorted(range(count), key=lambda i: (self._hits[i].lane, self._hits[i].rect.left()))
            forward = key in (Qt.Key.Key_Right, Qt.Key.Key_Down)
            if self.selected is None:
                self.select(order[0] if forward else order[-1])
            else:
                at = order.index(self.selected)
                self.select(order[min(count - 1, at + 1)] if forward else order[max(0, at - 1)])
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            assert isinstance(event, QHelpEvent)  # what a ToolTip event is
            point = QPointF(event.pos())
            numbers = self.hits_at(point)  # markers at one instant: each of them
            lane = self.lane_at(point)
            if numbers:
                QToolTip.showText(event.globalPos(), "\n\n".join(self.describe(self._hits[n]) for n in numbers), self)
            elif lane is not None and point.x() < self.plot_left():
                QToolTip.showText(event.globalPos(), describe_lane(self.lanes[lane], self.zone, self.clock()), self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)
