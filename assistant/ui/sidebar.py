"""The principal switcher: one row per principal with colour, unread/due counts and their local time right now; above
them, when there are two or more, *All principals*: every principal's inbox in one list (the inbox tags each row)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPalette
from PySide6.QtWidgets import QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from assistant.core import timezones
from assistant.domain import Principal

PrincipalIdRole = Qt.ItemDataRole.UserRole + 1
UnreadRole = Qt.ItemDataRole.UserRole + 2
DueRole = Qt.ItemDataRole.UserRole + 3
LocalTimeRole = Qt.ItemDataRole.UserRole + 4
OutsideHoursRole = Qt.ItemDataRole.UserRole + 5
AllPrincipalsRole = Qt.ItemDataRole.UserRole + 6  # True on the All-principals row
ColoursRole = Qt.ItemDataRole.UserRole + 7  # the All-principals row: every principal's colour, for its chip

ALL_PRINCIPALS = "All principals"

AnyIndex = QModelIndex | QPersistentModelIndex


def local_time(principal: Principal, now_utc: datetime) -> tuple[datetime, bool]:
    """The principal's wall-clock time now, and whether that is outside their business hours."""
    local = timezones.in_zone(now_utc, principal.timezone)
    hours = principal.business_hours
    inside = local.isoweekday() in hours.days and hours.start <= local.time().replace(tzinfo=None) < hours.end
    return local, not inside


def _counts_of(counts: dict[int, dict[str, int]], principal: Principal) -> dict[str, int]:
    """The principal's counts; none for a principal not stored yet (it has no id to count under)."""
    return counts.get(principal.id, {}) if principal.id else {}


@dataclass
class PrincipalRow:
    principal: Principal
    unread: int = 0
    due: int = 0


class PrincipalListModel(QAbstractListModel):
    """The principals, and first the *All principals* row when there are two or more (:attr:`all_row`)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[PrincipalRow] = []
        self._now_utc = timezones.now_utc()

    @property
    def _first(self) -> int:
        """The row of the first principal: 1 below the All-principals row, else 0."""
        return 1 if len(self._rows) >= 2 else 0

    @property
    def all_row(self) -> int:
        """The All-principals row, -1 when there is none (fewer than two principals)."""
        return 0 if self._first else -1

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows) + self._first

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < self.rowCount():
            return None
        if index.row() == self.all_row:
            return self._all_data(role)
        row = self._rows[index.row() - self._first]
        p = row.principal
        if role == Qt.ItemDataRole.DisplayRole:
            return p.name
        if role == Qt.ItemDataRole.DecorationRole:
            return QColor(p.colour)
        if role == PrincipalIdRole:
            return p.id
        if role == UnreadRole:
            return row.unread
        if role == DueRole:
            return row.due
        if role in (LocalTimeRole, OutsideHoursRole, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            local, outside = local_time(p, self._now_utc)
            if role == LocalTimeRole:
                return f"{local:%a %H:%M} {local.tzname() or ''}".strip()
            if role == OutsideHoursRole:
                return outside
            hint = ", outside business hours" if outside else ""
            return (
                f"{p.name} ({p.timezone}): {local:%A %H:%M}{hint}; {row.unread} unread, {row.due} due"
            )
        return None

    def _all_data(self, role: int):
        unread, due = sum(r.unread for r in self._rows), sum(r.due for r in self._rows)
        if role == Qt.ItemDataRole.DisplayRole:
            return ALL_PRINCIPALS
        if role == AllPrincipalsRole:
            return True
        if role == ColoursRole:
            return [r.principal.colour for r in self._rows]
        if role == UnreadRole:
            return unread
        if role == DueRole:
            return due
        if role == LocalTimeRole:
            return "Every inbox, newest first"
        if role == OutsideHoursRole:
            return False
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            return (f"{ALL_PRINCIPALS}: every principal's inbox in one list, each thread tagged with its principal; "
                    f"{unread} unread, {due} due")
        return None

    def set_principals(self, principals: list[Principal], counts: dict[int, dict[str, int]] | None = None) -> None:
        counts = counts or {}
        self.beginResetModel()
        self._rows = [
            PrincipalRow(p, _counts_of(counts, p).get("unread", 0), _counts_of(counts, p).get("due", 0))
            for p in principals
        ]
        self._now_utc = timezones.now_utc()
        self.endResetModel()

    def set_counts(self, counts: dict[int, dict[str, int]]) -> None:
        for row in self._rows:
            c = _counts_of(counts, row.principal)
            row.unread, row.due = c.get("unread", 0), c.get("due", 0)
        self._changed_all()

    def tick(self, now_utc: datetime | None = None) -> None:
        """Move every row's local time on (called each minute)."""
        self._now_utc = now_utc or timezones.now_utc()
        self._changed_all()

    def _changed_all(self) -> None:
        if self._rows:
            self.dataChanged.emit(self.index(0), self.index(self.rowCount() - 1))

    def principal_at(self, row: int) -> Principal | None:
        """The principal of ``row``; None for the All-principals row."""
        row -= self._first
        return self._rows[row].principal if 0 <= row < len(self._rows) else None

    def principals(self) -> list[Principal]:
        return [r.principal for r in self._rows]

    def row_of(self, principal_id: int) -> int:
        for i, row in enumerate(self._rows):
            if row.principal.id == principal_id:
                return i + self._first
        return -1


class PrincipalDelegate(QStyledItemDelegate):
    """Colour chip, name and counts on the first line; local time (and the outside-hours hint) below."""

    PAD = 8
    CHIP = 12

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        line = option.fontMetrics.height()
        return QSize(200, 2 * line + 3 * self.PAD // 2 + 4)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        painter.save()
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        opt.icon = opt.icon.__class__()
        style = opt.widget.style() if opt.widget else None
        if style:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        group = QPalette.ColorGroup.Active
        text_colour = option.palette.color(
            group, QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        )
        rect = option.rect.adjusted(self.PAD, self.PAD // 2 + 2, -self.PAD, -self.PAD // 2)
        fm = option.fontMetrics
        line = fm.height()

        chip = QRect(rect.left(), rect.top() + (line - self.CHIP) // 2, self.CHIP, self.CHIP)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        colours = index.data(ColoursRole)
        if colours:  # All principals: the chip in every principal's colour, a slice each
            painter.save()
            clip = QPainterPath()
            clip.addRoundedRect(QRectF(chip), 3, 3)
            painter.setClipPath(clip)
            width = chip.width() / len(colours)
            for i, colour in enumerate(colours):
                painter.setBrush(QColor(colour))
                painter.drawRect(QRectF(chip.left() + i * width, chip.top(), width + 0.5, chip.height()))
            painter.restore()
        else:
            painter.setBrush(index.data(Qt.ItemDataRole.DecorationRole))
            painter.drawRoundedRect(chip, 3, 3)

        unread, due = index.data(UnreadRole), index.data(DueRole)
        badges = "  ".join(t for t in (f"{unread} unread" if unread else "", f"{due} due" if due else "") if t)
        bold = QFont(option.font)
        bold.setBold(True)
        painter.setPen(text_colour)
        badge_width = fm.horizontalAdvance(badges) + 2 if badges else 0
        name_rect = QRect(chip.right() + self.PAD, rect.top(), rect.width() - self.CHIP - self.PAD - badge_width - 4, line)
        painter.setFont(bold)
        painter.drawText(name_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         painter.fontMetrics().elidedText(index.data(), Qt.TextElideMode.ElideRight, name_rect.width()))
        painter.setFont(option.font)
        if badges:
            painter.drawText(QRect(rect.right() - badge_width, rect.top(), badge_width, line),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, badges)

        second = QRect(name_rect.left(), rect.top() + line + 2, rect.right() - name_rect.left(), line)
        text = index.data(LocalTimeRole)
        if index.data(OutsideHoursRole):
            text += " · outside business hours"
        dim = QColor(text_colour)
        if not selected:
            dim.setAlphaF(0.65)
        painter.setPen(dim)
        painter.drawText(second, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         fm.elidedText(text, Qt.TextElideMode.ElideRight, second.width()))
        painter.restore()


class PrincipalSwitcher(QListView):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setItemDelegate(PrincipalDelegate(self))
        self.setAccessibleName("Principals")
        self.setUniformItemSizes(True)
        self.setEditTriggers(QListView.EditTrigger.NoEditTriggers)
