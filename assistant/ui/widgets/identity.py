"""Whose data a window is about: the principal's name in its title and their colour as its icon (UX.md, "Whose data,
always"), so two dialogs open for two principals are never confused."""
from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache

from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QComboBox, QFrame, QHBoxLayout, QLabel, QMessageBox, QWidget

from assistant.core import timezones
from assistant.domain import Principal


@lru_cache(maxsize=64)
def principal_chip(colour: str) -> QIcon:
    """A round chip in the principal's colour, as the sidebar shows it."""
    icon = QIcon()
    fill = QColor(colour)
    for size in (16, 24, 32, 48, 64):
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(fill.darker(130))
        painter.setBrush(fill)
        margin = size / 8
        painter.drawEllipse(QRectF(margin, margin, size - 2 * margin, size - 2 * margin))
        painter.end()
        icon.addPixmap(pixmap)
    return icon


def principal_title(window: QWidget, title: str, principal: Principal | None) -> None:
    """``title — Principal Name`` (unless the title names them already), with their colour as the window's icon."""
    if principal is None or not principal.name:
        window.setWindowTitle(title)
        return
    window.setWindowTitle(title if principal.name in title else f"{title} — {principal.name}")
    if QColor.isValidColorName(principal.colour):
        window.setWindowIcon(principal_chip(principal.colour))


def ask_send_as(parent: QWidget, principal: str, colour: str, warning: str, proceed: Callable[[], None],
                cancelled: Callable[[], None]) -> QMessageBox:
    """The wrong-principal guard's one line (``approvals.guard``) as a question before a send: *Send anyway* calls
    ``proceed()``, *Cancel* (the default) ``cancelled()``. Window-modal, so the rest of the app stays usable."""
    box = QMessageBox(QMessageBox.Icon.Warning, f"Send as {principal}?", warning, parent=parent)
    if QColor.isValidColorName(colour):
        box.setWindowIcon(principal_chip(colour))
    send = box.addButton("Send anyway", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    box.finished.connect(lambda _result: proceed() if box.clickedButton() is send else cancelled())
    box.open()
    return box


def zone_city(zone: str) -> str:
    """The place a zone is named after, as people say it: "Asia/Tokyo" → "Tokyo", "America/Sao_Paulo" → "Sao Paulo"."""
    return zone.rsplit("/", 1)[-1].replace("_", " ") if zone else "UTC"


class WritingAs(QFrame):
    """The compose window's header: who the message goes out as, in their colour, and their time now — "Writing as
    Kenji Sato <kenji@…> · 21:32 in Tokyo" (with the assistant's own time beside it when it differs). The address
    follows the From box; the times move on every half minute."""

    def __init__(self, principal: Principal, from_box: QComboBox, parent: QWidget | None = None,
                 now: Callable[[], datetime] = timezones.now_utc):
        super().__init__(parent)
        self.setObjectName("writing-as")
        self.principal, self._from_box, self._now = principal, from_box, now
        self.chip = QLabel(self)
        if QColor.isValidColorName(principal.colour):
            self.chip.setPixmap(principal_chip(principal.colour).pixmap(16))
        self.label = QLabel(self)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.chip, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.label, 1)
        from_box.currentIndexChanged.connect(lambda _index: self.refresh())
        self._timer = QTimer(self)
        self._timer.setInterval(30_000)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self.refresh()

    def text(self) -> str:
        """The header as plain text."""
        p = self.principal
        sender = self._from_box.currentText() or (f"{p.name} <{p.primary_address}>" if p.primary_address else p.name)
        now = self._now()
        local = timezones.in_zone(now, p.timezone)
        text = f"Writing as {sender} · {local:%H:%M} in {zone_city(p.timezone)}"
        mine = timezones.in_zone(now, timezones.assistant_zone_name())
        if mine.utcoffset() != local.utcoffset():
            text += f" ({mine:%H:%M} your time)"
        return text

    def refresh(self) -> None:
        plain = self.text()
        head, _, rest = plain.partition(" · ")
        self.label.setText(f"{html.escape(head)} · {html.escape(rest)}".replace(
            html.escape(self.principal.name), f"<b>{html.escape(self.principal.name)}</b>", 1))
        self.label.setAccessibleName(plain)
