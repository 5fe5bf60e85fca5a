"""“Follow up if no reply…” on the message or thread open in the inbox: a reminder at a time read in the principal's
zone (the assistant's own time shown beside it), cancelled by the sync that brings a reply.

The dialog does no SQL; the reminder is written on the worker through ``reminders.follow_up_if_no_reply``.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from PySide6.QtCore import QDate, QDateTime, QObject, Qt, QTime, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDateTimeEdit, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QWidget

from assistant import reminders
from assistant.core import timezones
from assistant.domain import Principal
from assistant.store import Store
from assistant.store import mail as mail_store
from assistant.ui.widgets.identity import principal_title
from assistant.ui.widgets.times import edit_utc
from assistant.ui.workers import describe_error


def default_due(principal: Principal, now: datetime, business_days: int = 2) -> datetime:
    """The start of the principal's business hours ``business_days`` business days after today, in their zone."""
    hours = principal.business_hours
    day: date = timezones.in_zone(now, principal.timezone).date()
    counted = 0
    for _ in range(30):
        day += timedelta(days=1)
        if day.isoweekday() in hours.days:
            counted += 1
            if counted == business_days:
                break
    return timezones.local_to_utc(datetime.combine(day, hours.start), principal.timezone)


class FollowUpDialog(QDialog):
    def __init__(self, principal: Principal, subject: str, now: datetime, parent: QWidget | None = None):
        super().__init__(parent)
        self.principal = principal
        principal_title(self, "Follow up", principal)
        self.setAccessibleName("Follow up if no reply")
        self.what = QLabel(f"Remind me if nobody has replied to “{subject or '(no subject)'}” by:", self)
        self.what.setWordWrap(True)
        self.when = QDateTimeEdit(self)
        self.when.setDisplayFormat("ddd yyyy-MM-dd HH:mm")
        self.when.setCalendarPopup(True)
        self.when.setAccessibleName(f"Follow-up time in {principal.name}'s zone")
        local = timezones.in_zone(default_due(principal, now), principal.timezone)
        self.when.setDateTime(QDateTime(QDate(local.year, local.month, local.day), QTime(local.hour, local.minute)))
        self.zone_hint = QLabel(self)
        self.zone_hint.setObjectName("follow-up-zone-hint")
        self.note = QLineEdit(self)
        self.note.setPlaceholderText("Note (optional)")
        self.note.setAccessibleName("Note")
        self.when.dateTimeChanged.connect(lambda _dt: self._show_zone())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Set follow-up")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(self.what)
        form.addRow(f"{principal.name}'s time:", self.when)
        form.addRow("", self.zone_hint)
        form.addRow("Note:", self.note)
        form.addRow(buttons)
        self._show_zone()

    def due_utc(self) -> datetime:
        return edit_utc(self.when, self.principal.timezone)

    def _show_zone(self) -> None:
        due = self.due_utc()
        mine = timezones.assistant_zone_name()
        self.zone_hint.setText(f"{timezones.in_zone(due, self.principal.timezone):%a %H:%M %Z} for "
                               f"{self.principal.name} = {timezones.in_zone(due, mine):%a %H:%M %Z} your time")


def target_message(store: Store, principal_id: int, message_id: int | None, thread_id: int | None):
    """Worker side: the message to follow up — the one open in the reader, else the thread's newest."""
    scope = store.scope(principal_id)
    if message_id is not None:
        return mail_store.message(scope, message_id, with_body=False)
    messages = mail_store.thread_messages(scope, thread_id) if thread_id is not None else []
    return messages[-1] if messages else None


class FollowUp(QObject):
    """"Follow up if no reply…" (Ctrl+Shift+U) on the message or thread open in the inbox: the Message menu and the
    thread list's menu."""

    set = Signal(object)  # the Reminder made

    def __init__(self, window: Any, clock: Callable[[], datetime] = timezones.now_utc):
        super().__init__(window)
        self.window = window
        self.clock = clock
        self.dialog: FollowUpDialog | None = None  # the last one opened
        self.shown_message: int | None = None
        window.inbox.reader.message_shown.connect(lambda message_id: setattr(self, "shown_message", message_id))
        window.principal_changed.connect(lambda _pid: setattr(self, "shown_message", None))
        self.action = QAction("Follow &up if no reply…", window)
        self.action.setObjectName("follow-up")
        self.action.setShortcut(QKeySequence("Ctrl+Shift+U"))
        self.action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.action.setStatusTip("Remind me if nobody replies to this message by a time in the principal's zone")
        self.action.triggered.connect(self.follow_up)
        window.add_message_action("follow-up", self.action, separator=True)

    def follow_up(self) -> None:
        window = self.window
        principal = window.current_principal
        if principal is None or not principal.id:
            return
        row = window.inbox.threads.currentIndex().row()
        thread = window.inbox.model.thread_at(row) if row >= 0 else None
        message_id, thread_id = self.shown_message, thread.id if thread is not None else None
        if message_id is None and thread_id is None:
            window.show_status("Open a message or a thread first.", 5000)
            return
        window.tasks.run(lambda store: target_message(store, principal.id, message_id, thread_id),
                         on_done=lambda message: self.ask(principal, message),
                         on_error=lambda e: window.show_error(describe_error(e)))

    def ask(self, principal: Principal, message: Any) -> None:
        principal_id = principal.id
        if message is None or principal_id is None:
            return
        window = self.window
        dialog = FollowUpDialog(principal, message.subject, self.clock(), window)
        self.dialog = dialog
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        due, note = dialog.due_utc(), dialog.note.text()

        def done(reminder: Any) -> None:
            when = timezones.in_zone(reminder.due_utc, principal.timezone)
            window.show_status(
                f"Follow-up set for {when:%a %d %b %H:%M %Z} ({principal.name}'s time); a reply cancels it.")
            self.set.emit(reminder)

        window.tasks.run(lambda store: reminders.follow_up_if_no_reply(store, principal_id, message.id, due, note),
                         on_done=done, on_error=lambda e: window.show_error(describe_error(e)))


def install(window: Any, clock: Callable[[], datetime] = timezones.now_utc) -> FollowUp:
    return FollowUp(window, clock)
