"""“Follow up if no reply…” on the message or thread open in the inbox: a reminder at a time read in the principal's
zone (the assistant's own time shown beside it), cancelled by the sync that brings a reply.

The dialog does no SQL; the reminder is written on the worker through ``reminders.follow_up_if_no_reply``.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from PySide6.QtCore import QDate, QDateTime, Qt, QTime, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDateTimeEdit, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QWidget

from assistant.core import timezones
from assistant.domain import Principal
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
        self.setWindowTitle(f"Follow up — {principal.name}")
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


def target_message(store: Any, principal_id: int, message_id: int | None, thread_id: int | None):
    """Worker side: the message to follow up — the one open in the reader, else the thread's newest."""
    scope = store.scope(principal_id)
    if message_id is not None:
        return scope.message(message_id, with_body=False)
    messages = scope.thread_messages(thread_id) if thread_id is not None else []
    return messages[-1] if messages else None


def install(window: Any, clock: Callable[[], datetime] = timezones.now_utc) -> QAction:
    """"Follow up if no reply…" (Ctrl+Shift+U) in the Message menu and the thread list's menu."""
    from assistant import reminders
    from assistant.ui.board.view import join_inbox_menus

    shown: dict[str, int | None] = {"message": None}
    window.inbox.reader.message_shown.connect(lambda message_id: shown.__setitem__("message", message_id))
    window.principal_changed.connect(lambda _pid: shown.__setitem__("message", None))

    def follow_up() -> None:
        principal = window.current_principal
        if principal is None:
            return
        row = window.inbox.threads.currentIndex().row()
        thread = window.inbox.model.thread_at(row) if row >= 0 else None
        message_id, thread_id = shown["message"], thread.id if thread is not None else None
        if message_id is None and thread_id is None:
            window.statusBar().showMessage("Open a message or a thread first.", 5000)
            return

        def ask(message) -> None:
            if message is None:
                return
            dialog = FollowUpDialog(principal, message.subject, clock(), window)
            window.follow_up_dialog = dialog
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return
            due, note = dialog.due_utc(), dialog.note.text()

            def done(reminder) -> None:
                when = timezones.in_zone(reminder.due_utc, principal.timezone)
                window.statusBar().showMessage(
                    f"Follow-up set for {when:%a %d %b %H:%M %Z} ({principal.name}'s time); a reply cancels it.", 8000)
                window.follow_up_set = reminder
                if getattr(window, "reminders", None) is not None:
                    window.reminders.scheduler.reload()
                    window.today.reload()

            window.tasks.run(lambda store: reminders.follow_up_if_no_reply(store, principal.id, message.id, due, note),
                             on_done=done, on_error=lambda e: window.show_error(describe_error(e)))

        window.tasks.run(lambda store: target_message(store, principal.id, message_id, thread_id), on_done=ask,
                         on_error=lambda e: window.show_error(describe_error(e)))

    action = QAction("Follow &up if no reply…", window)
    action.setObjectName("follow-up")
    action.setShortcut(QKeySequence("Ctrl+Shift+U"))
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.setStatusTip("Remind me if nobody replies to this message by a time in the principal's zone")
    action.triggered.connect(follow_up)
    window.addAction(action)
    QTimer.singleShot(0, window, lambda: join_inbox_menus(window, action))
    window.follow_up_action = action
    return action
