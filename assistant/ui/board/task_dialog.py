"""The card editor: title, column, Markdown notes with a preview, due time in the principal's zone (the assistant's
beside it), priority, labels, checklist, estimate, repeat rule, reminder, and the link back opened with one click."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import QDate, QDateTime, Qt, QTime, Signal
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
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from assistant.board import service as board
from assistant.core import timezones
from assistant.core.errors import UserError
from assistant.domain import Card, ChecklistItem, Principal
from assistant.ui.widgets.identity import principal_title

PRIORITIES = ["None", "Low", "Medium", "High"]


_LINKED = {"message": "the message", "thread": "the conversation", "event": "the meeting", "call": "the call",
           "task": "the task"}


def link_text(link: str) -> str:
    """The button that opens what the task came from, said as a user says it (not "Open message 365")."""
    parsed = board.parse_link(link)
    if parsed is None:
        return link
    kind, _ident = parsed
    return f"Open {_LINKED.get(kind, kind)} it came from"


class TaskDialog(QDialog):
    link_activated = Signal(str)

    def __init__(self, card: Card | None, columns: list[Any], zone: str, parent: QWidget | None = None, *,
                 principal: Principal | None = None):
        super().__init__(parent)
        self.setObjectName("task-dialog")
        principal_title(self, "Edit task" if card and card.id else "New task", principal)
        self.zone = zone
        self.card = card or Card(principal_id=0, title="")
        self.title = QLineEdit(self.card.title)
        self.title.setAccessibleName("Title")
        self.column = QComboBox()
        self.column.setAccessibleName("Column")
        for c in columns:
            self.column.addItem(c.name, c.id)
        if self.card.column_id is not None:
            self.column.setCurrentIndex(max(0, self.column.findData(self.card.column_id)))

        self.notes = QPlainTextEdit(self.card.notes)
        self.notes.setAccessibleName("Notes (Markdown)")
        self.preview = QTextBrowser()
        self.preview.setOpenExternalLinks(False)
        self.preview.setOpenLinks(False)
        notes_tabs = QTabWidget()
        notes_tabs.addTab(self.notes, "Notes (Markdown)")
        notes_tabs.addTab(self.preview, "Preview")
        notes_tabs.currentChanged.connect(self._on_notes_tab)

        self.has_due = QCheckBox("Due")
        self.due = QDateTimeEdit()
        self.due.setAccessibleName(f"Due ({zone})")
        self.due.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.due.setCalendarPopup(True)
        local = timezones.in_zone(self.card.due_utc or (timezones.now_utc() + timedelta(days=1)), zone)
        self.due.setDateTime(QDateTime(QDate(local.year, local.month, local.day), QTime(local.hour, local.minute)))
        self.has_due.setChecked(self.card.due_utc is not None)
        self.due.setEnabled(self.has_due.isChecked())
        self.has_due.toggled.connect(self.due.setEnabled)
        self.has_due.toggled.connect(self._show_assistant_time)
        self.due.dateTimeChanged.connect(self._show_assistant_time)
        self.assistant_time = QLabel()
        self.assistant_time.setObjectName("assistant-time")
        due_row = QHBoxLayout()
        due_row.addWidget(self.has_due)
        due_row.addWidget(self.due, 1)
        due_row.addWidget(QLabel(zone))
        self.remind = QCheckBox("Remind me")
        self.remind.setChecked(self.card.remind)
        due_row.addWidget(self.remind)

        self.priority = QComboBox()
        self.priority.addItems(PRIORITIES)
        self.priority.setCurrentIndex(max(0, min(self.card.priority, len(PRIORITIES) - 1)))
        self.labels = QLineEdit(", ".join(self.card.labels))
        self.labels.setPlaceholderText("comma-separated")
        self.labels.setAccessibleName("Labels")
        self.estimate = QSpinBox()
        self.estimate.setRange(0, 100000)
        self.estimate.setSuffix(" min")
        self.estimate.setSpecialValueText("none")
        self.estimate.setValue(self.card.estimate_min or 0)
        self.repeat = QLineEdit(self.card.rrule)
        self.repeat.setPlaceholderText("e.g. every weekday, first Monday of the month, FREQ=WEEKLY;BYDAY=FR")
        self.repeat.setAccessibleName("Repeat")

        self.checklist = QListWidget()
        self.checklist.setAccessibleName("Checklist")
        self.checklist.setMaximumHeight(120)
        for item in self.card.checklist:
            self._add_check_item(item.text, item.done)
        self.new_item = QLineEdit()
        self.new_item.setPlaceholderText("Add a checklist item and press Enter")
        self.new_item.returnPressed.connect(self.on_add_check_item)
        remove = QPushButton("Remove item")
        remove.clicked.connect(lambda: self.checklist.takeItem(self.checklist.currentRow()))
        check_row = QHBoxLayout()
        check_row.addWidget(self.new_item, 1)
        check_row.addWidget(remove)

        self.link = QPushButton(link_text(self.card.link))
        self.link.setObjectName("task-link")
        self.link.setVisible(bool(self.card.link))
        self.link.clicked.connect(lambda: self.link_activated.emit(self.card.link))

        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setStyleSheet("color: #b91c1c")
        self.error.hide()

        form = QFormLayout()
        form.addRow("&Title", self.title)
        form.addRow("&Column", self.column)
        form.addRow("When", due_row)
        form.addRow("", self.assistant_time)
        form.addRow("&Priority", self.priority)
        form.addRow("&Labels", self.labels)
        form.addRow("E&stimate", self.estimate)
        form.addRow("&Repeat", self.repeat)
        form.addRow("Link", self.link)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(notes_tabs, 1)
        layout.addWidget(QLabel("Checklist"))
        layout.addWidget(self.checklist)
        layout.addLayout(check_row)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self._show_assistant_time()
        self.resize(560, 640)

    def _on_notes_tab(self, index: int) -> None:
        if index == 1:  # the preview
            self.preview.setMarkdown(self.notes.toPlainText())

    def _add_check_item(self, text: str, done: bool) -> None:
        item = QListWidgetItem(text)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEditable)
        item.setCheckState(Qt.CheckState.Checked if done else Qt.CheckState.Unchecked)
        self.checklist.addItem(item)

    def on_add_check_item(self) -> None:
        text = self.new_item.text().strip()
        if text:
            self._add_check_item(text, False)
            self.new_item.clear()

    def due_utc(self) -> datetime | None:
        if not self.has_due.isChecked():
            return None
        qdt = self.due.dateTime()
        d, t = qdt.date(), qdt.time()
        return timezones.local_to_utc(datetime(d.year(), d.month(), d.day(), t.hour(), t.minute()), self.zone)

    def _show_assistant_time(self, *_args: Any) -> None:
        due = self.due_utc()
        if due is None:
            self.assistant_time.setText("")
            return
        mine = timezones.assistant_zone_name()
        self.assistant_time.setText(f"= {timezones.in_zone(due, mine):%a %d %b %H:%M} your time ({mine})")

    def changes(self) -> dict[str, Any]:
        items = [ChecklistItem(self.checklist.item(i).text(),
                               self.checklist.item(i).checkState() == Qt.CheckState.Checked)
                 for i in range(self.checklist.count())]
        return {
            "title": " ".join(self.title.text().split()),
            "notes": self.notes.toPlainText(),
            "due_utc": self.due_utc(),
            "priority": self.priority.currentIndex(),
            "labels": [x.strip() for x in self.labels.text().split(",") if x.strip()],
            "checklist": items,
            "estimate_min": self.estimate.value() or None,
            "rrule": board.parse_repeat(self.repeat.text()) if self.repeat.text().strip() else "",
            "remind": self.remind.isChecked(),
        }

    def column_id(self) -> int | None:
        return self.column.currentData()

    def accept(self) -> None:
        try:
            changes = self.changes()
        except UserError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        if not changes["title"]:
            self.error.setText("A task needs a title.")
            self.error.show()
            return
        super().accept()
