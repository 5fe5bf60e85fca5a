"""The quick-log dialog: opened when a call starts, a running timer, and the call's details typed in as it goes.

The clock is injected (``clock`` returns seconds, ``now`` the current UTC instant) so tests drive the timer without
sleeping. The dialog does no SQL: ``lookup(number)`` answers (principal id or None, name) from the caller's side.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from PySide6.QtCore import QDate, QDateTime, QTime, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from assistant.core import timezones
from assistant.core.phones import normalise
from assistant.domain import CallDirection, Principal
from assistant.ui.widgets.identity import principal_title
from assistant.ui.widgets.times import edit_utc

DIRECTION_LABELS = [
    (CallDirection.INCOMING, "Incoming"),
    (CallDirection.OUTGOING, "Outgoing"),
    (CallDirection.MISSED, "Missed"),
    (CallDirection.VOICEMAIL, "Voicemail"),
]
Lookup = Callable[[str, "int | None"], tuple[int | None, str]]  # (number, principal id) → (owner, name)


@dataclass
class QuickLogResult:
    principal_id: int
    direction: CallDirection
    number: str
    caller_name: str
    outcome: str
    notes: str
    started_utc: datetime
    duration_s: int
    call_back_utc: datetime | None = None  # a call-back reminder, read in the principal's zone
    make_task: bool = False


def format_elapsed(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


class QuickLogDialog(QDialog):
    call_logged = Signal(object)  # QuickLogResult

    def __init__(self, principals: list[Principal], current_principal_id: int | None, *, lookup: Lookup | None = None,
                 clock: Callable[[], float] = time.monotonic, now: Callable[[], datetime] = timezones.now_utc,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Log a call")
        self.setObjectName("quick-log")
        self._clock, self._now, self._lookup = clock, now, lookup
        self._principals = principals
        self._started_at = clock()
        self.started_utc = now()
        self._stopped_elapsed: float | None = None
        self._principal_chosen_by_hand = False
        self._name_typed_by_hand = False

        self.principal = QComboBox(self)
        self.principal.setAccessibleName("Principal")
        for p in principals:
            self.principal.addItem(p.name, p.id)
        self._select_principal(current_principal_id)
        self.principal.activated.connect(self._on_principal_picked)
        self.principal.currentIndexChanged.connect(lambda _i: principal_title(self, "Log a call",
                                                                              self.current_principal()))
        principal_title(self, "Log a call", self.current_principal())
        self.principal_hint = QLabel(self)
        self.principal_hint.setObjectName("principal-hint")

        self.direction = QComboBox(self)
        self.direction.setAccessibleName("Direction")
        for value, label in DIRECTION_LABELS:
            self.direction.addItem(label, value.value)
        self.number = QLineEdit(self)
        self.number.setAccessibleName("Number")
        self.number.setPlaceholderText("as you hear it: +1 212 555 0123, 03-1234-5678, sip:…, withheld")
        self.number.textChanged.connect(self._on_number_changed)
        self.number_hint = QLabel(self)
        self.number_hint.setObjectName("number-hint")
        self.caller_name = QLineEdit(self)
        self.caller_name.setAccessibleName("Caller name")
        self.caller_name.textEdited.connect(self._on_name_edited)
        self.outcome = QLineEdit(self)
        self.outcome.setAccessibleName("Outcome")
        self.outcome.setPlaceholderText("e.g. left a message, booked a meeting")
        self.notes = QPlainTextEdit(self)
        self.notes.setAccessibleName("Notes")
        self.notes.setTabChangesFocus(True)

        self.call_back = QCheckBox("Call &back at", self)
        self.call_back_at = QDateTimeEdit(self)
        self.call_back_at.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.call_back_at.setCalendarPopup(True)
        self.call_back_at.setEnabled(False)
        self.call_back.toggled.connect(self.call_back_at.setEnabled)
        self.call_back_at.dateTimeChanged.connect(lambda _dt: self._show_zone())
        self.make_task = QCheckBox("Make a &task from this call", self)
        self.zone_hint = QLabel(self)
        self.zone_hint.setObjectName("zone-hint")
        self._reset_call_back_time()

        self.timer_label = QLabel("00:00", self)
        self.timer_label.setObjectName("call-timer")
        self.timer_label.setAccessibleName("Call duration")
        font = self.timer_label.font()
        font.setPointSizeF(font.pointSizeF() * 2)
        font.setBold(True)
        self.timer_label.setFont(font)
        self.stop_button = QPushButton("&Hang up", self)
        self.stop_button.setCheckable(True)
        self.stop_button.toggled.connect(self._on_stop_toggled)
        self.ticker = QTimer(self)
        self.ticker.setInterval(1000)
        self.ticker.timeout.connect(self.tick)
        self.ticker.start()

        timer_row = QHBoxLayout()
        timer_row.addWidget(self.timer_label, 1)
        timer_row.addWidget(self.stop_button)
        form = QFormLayout()
        form.addRow("&Principal", self.principal)
        form.addRow("", self.principal_hint)
        form.addRow("&Direction", self.direction)
        form.addRow("N&umber", self.number)
        form.addRow("", self.number_hint)
        form.addRow("&Name", self.caller_name)
        form.addRow("&Outcome", self.outcome)
        form.addRow("No&tes", self.notes)
        call_back_row = QHBoxLayout()
        call_back_row.addWidget(self.call_back)
        call_back_row.addWidget(self.call_back_at, 1)
        form.addRow("", call_back_row)
        form.addRow("", self.zone_hint)
        form.addRow("", self.make_task)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel,
                                        parent=self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(timer_row)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self._hint(self.principal_hint, "")
        self._hint(self.number_hint, "")
        self.number.setFocus()
        self.tick()

    # -- timer ---------------------------------------------------------------------------------------------------
    def elapsed(self) -> float:
        if self._stopped_elapsed is not None:
            return self._stopped_elapsed
        return self._clock() - self._started_at

    def tick(self) -> None:
        self.timer_label.setText(format_elapsed(self.elapsed()))

    def _on_stop_toggled(self, stopped: bool) -> None:
        if stopped:
            self._stopped_elapsed = self.elapsed()
            self.ticker.stop()
            self.stop_button.setText("&Resume")
        else:
            self._started_at = self._clock() - (self._stopped_elapsed or 0)
            self._stopped_elapsed = None
            self.ticker.start()
            self.stop_button.setText("&Hang up")
        self.tick()

    # -- number, name and principal --------------------------------------------------------------------------------
    def _select_principal(self, principal_id: int | None) -> None:
        index = self.principal.findData(principal_id)
        if index >= 0:
            self.principal.setCurrentIndex(index)

    @staticmethod
    def _hint(label: QLabel, text: str) -> None:
        label.setText(text)
        label.setVisible(bool(text))

    def current_principal(self) -> Principal | None:
        pid = self.principal.currentData()
        return next((p for p in self._principals if p.id == pid), None)

    def _reset_call_back_time(self) -> None:
        principal = self.current_principal()
        zone = principal.timezone if principal else "UTC"
        local = timezones.in_zone(self._now() + timedelta(hours=1), zone)
        self.call_back_at.setDateTime(QDateTime(QDate(local.year, local.month, local.day), QTime(local.hour, 0)))
        self._show_zone()

    def _show_zone(self) -> None:
        principal = self.current_principal()
        if principal is None:
            self._hint(self.zone_hint, "")
            return
        due = self.call_back_utc_value()
        mine = timezones.assistant_zone_name()
        self._hint(self.zone_hint, f"in {principal.name}'s time ({principal.timezone}); "
                                   f"{timezones.in_zone(due, mine):%a %H:%M} your time")

    def call_back_utc_value(self) -> datetime:
        principal = self.current_principal()
        return edit_utc(self.call_back_at, principal.timezone if principal else "UTC")

    def _on_principal_picked(self, _index: int) -> None:
        self._principal_chosen_by_hand = True
        self._hint(self.principal_hint, "")
        self._show_zone()
        self._on_number_changed(self.number.text())

    def _on_name_edited(self, _text: str) -> None:
        self._name_typed_by_hand = bool(self.caller_name.text().strip())

    def _on_number_changed(self, text: str) -> None:
        principal = self.current_principal()
        info = normalise(text, principal.region if principal else "US")
        hints = {"phone": f"→ {info.e164}", "invalid": "not a valid number here: kept as typed",
                 "withheld": "withheld number", "sip": "SIP address", "client": "client identity"}
        self._hint(self.number_hint, hints[info.kind] if text.strip() else "")
        if self._lookup is None or not text.strip():
            return
        owner, name = self._lookup(text, self.principal.currentData())
        if owner is not None and not self._principal_chosen_by_hand and owner != self.principal.currentData():
            self._select_principal(owner)
            self._show_zone()
            picked = self.current_principal()
            self._hint(self.principal_hint, f"picked: this number is {picked.name}'s" if picked else "")
            owner, name = self._lookup(text, self.principal.currentData())
        if name and not self._name_typed_by_hand:
            self.caller_name.setText(name)

    def result_value(self) -> QuickLogResult:
        return QuickLogResult(
            principal_id=self.principal.currentData(), direction=CallDirection(self.direction.currentData()),
            number=self.number.text().strip(), caller_name=self.caller_name.text().strip(),
            outcome=self.outcome.text().strip(), notes=self.notes.toPlainText().strip(),
            started_utc=self.started_utc, duration_s=int(self.elapsed()),
            call_back_utc=self.call_back_utc_value() if self.call_back.isChecked() else None,
            make_task=self.make_task.isChecked(),
        )

    def accept(self) -> None:
        if self.principal.currentData() is None:
            self._hint(self.number_hint, "Add a principal first.")
            return
        self.ticker.stop()
        result = self.result_value()
        if result.direction in (CallDirection.MISSED,):
            result.duration_s = 0
        self.call_logged.emit(result)
        super().accept()


def started_before(now: datetime, seconds: int) -> datetime:
    return now - timedelta(seconds=seconds)
