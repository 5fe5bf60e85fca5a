"""What an empty workspace shows: open the demo, or add the first principal."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from assistant.domain import Principal
from assistant.ui.widgets.zones import ZonePicker


class FirstRunPage(QWidget):
    open_demo_requested = Signal()
    add_principal_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("first-run")
        title = QLabel("Welcome to Assistant", self)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        title.setFont(font)
        intro = QLabel(
            "Assistant keeps the mail, calendars, calls and tasks of each person you work for — your principals — "
            "side by side and never mixed.\nThis workspace is empty. Look around a demo workspace first, or start "
            "with your first principal.",
            self,
        )
        intro.setWordWrap(True)

        self.demo_button = QPushButton("Open the demo", self)
        self.demo_button.setAccessibleName("Open the demo workspace")
        self.add_button = QPushButton("Add your first principal", self)
        self.add_button.setDefault(True)
        self.status = QLabel(self)
        self.status.setWordWrap(True)

        for button in (self.demo_button, self.add_button):
            button.setMinimumWidth(260)
            button.setMinimumHeight(36)
        self.demo_button.clicked.connect(self.open_demo_requested)
        self.add_button.clicked.connect(self.add_principal_requested)

        # A fixed-width column: word-wrapped labels get their height from the width they are given.
        column = QWidget(self)
        column.setFixedWidth(560)
        column_layout = QVBoxLayout(column)
        column_layout.setSpacing(14)
        for widget in (title, intro, self.add_button, self.demo_button, self.status):
            widget.setParent(column)
            column_layout.addWidget(widget, 0, Qt.AlignmentFlag.AlignHCenter
                                    if isinstance(widget, QPushButton) else Qt.AlignmentFlag.AlignLeft)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(column)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        layout.addLayout(row)
        layout.addStretch(3)
        self.setTabOrder(self.add_button, self.demo_button)

    def set_busy(self, text: str) -> None:
        self.status.setText(text)
        busy = bool(text)
        self.demo_button.setEnabled(not busy)
        self.add_button.setEnabled(not busy)

    def show_error(self, text: str) -> None:
        self.status.setText(text)
        self.demo_button.setEnabled(True)
        self.add_button.setEnabled(True)


class AddPrincipalDialog(QDialog):
    """Name, address, IANA zone (completed as you type) and phone region; builds a :class:`Principal`."""

    def __init__(self, parent=None, default_zone: str | None = None):
        super().__init__(parent)
        self.setWindowTitle("Add a principal")
        self.name = QLineEdit(self)
        self.name.setPlaceholderText("e.g. Ada Okafor")
        self.email = QLineEdit(self)
        self.email.setPlaceholderText("ada@example.com")
        self.zone = ZonePicker(default_zone, self)
        self.region = QLineEdit(self)
        self.region.setMaxLength(2)
        self.region.setPlaceholderText("US")
        self.region.setText("US")
        self.error = QLabel(self)
        self.error.setObjectName("dialog-error")
        self.error.setWordWrap(True)
        self.error.hide()

        for widget, name in ((self.name, "Name"), (self.email, "E-mail address"), (self.zone, "Time zone"),
                             (self.region, "Phone region")):
            widget.setAccessibleName(name)
        form = QFormLayout()
        form.addRow("&Name:", self.name)
        form.addRow("&E-mail:", self.email)
        form.addRow("&Time zone:", self.zone)
        form.addRow("Phone &region:", self.region)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def problem(self) -> str:
        """What is wrong with the form, as one sentence, or ``""``."""
        if not self.name.text().strip():
            return "Give the principal a name."
        email = self.email.text().strip()
        if email and ("@" not in email or " " in email):
            return f"{email!r} does not look like an e-mail address."
        if not self.zone.is_valid():
            return self.zone.problem()
        region = self.region.text().strip()
        if region and not (len(region) == 2 and region.isalpha()):
            return "The phone region is a two-letter country code, such as US or NG."
        return ""

    def accept(self) -> None:
        problem = self.problem()
        if problem:
            self.error.setText(problem)
            self.error.show()
            return
        super().accept()

    def principal(self) -> Principal:
        email = self.email.text().strip()
        return Principal(
            name=self.name.text().strip(),
            timezone=self.zone.zone(),
            addresses=[email] if email else [],
            region=(self.region.text().strip() or "US").upper(),
        )
