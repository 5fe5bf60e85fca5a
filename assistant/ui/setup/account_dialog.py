"""Attach an account to a principal: a local maildir/mbox (+ calendar) now, or sign in to Gmail / Outlook.

The provider sign-ins block until the user has finished in the browser (or entered the device code), for minutes
perhaps. They run on a thread of their own with their own Store — not on the TaskManager, whose one worker would
otherwise hold every other database task for that long. What they print (the address to open, the device code) is shown
in the dialog.
"""
from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from assistant.core.errors import InvalidInput
from assistant.domain import Account, Principal
from assistant.store import Store
from assistant.ui.workers import TaskManager, describe_error


def add_local_account(store: Store, principal_id: int, mail_path: str, calendar_path: str = "") -> Account:
    """Worker side: the same checks as ``assistant account add local``."""
    principal = store.principal(principal_id)
    settings: dict[str, str] = {}
    path = Path(mail_path).expanduser()
    if not mail_path.strip() or not path.exists():
        raise InvalidInput(f"{mail_path or 'the mail folder'} does not exist")
    if path.is_dir():
        if not ((path / "cur").is_dir() and (path / "new").is_dir()):
            raise InvalidInput(f"{path} is not a maildir: it has no cur/ and new/ folders")
        settings["maildir"] = str(path.resolve())
    else:
        settings["mbox"] = str(path.resolve())
    if calendar_path.strip():
        calendar = Path(calendar_path).expanduser()
        if not calendar.exists():
            raise InvalidInput(f"{calendar_path} does not exist")
        settings["calendar"] = str(calendar.resolve())
    return store.add_account(Account(principal_id=principal_id, kind="local", address=principal.primary_address,
                                     settings=settings))


class _SignIn(QObject):
    printed = Signal(str)
    finished = Signal(object)  # the Account
    failed = Signal(str)


def run_sign_in(workspace_dir: Path, fn, signals: _SignIn) -> threading.Thread:
    """``fn(store, print_fn) -> Account`` on its own thread; results come back through ``signals`` (queued)."""

    def body() -> None:
        store = Store(workspace_dir)
        try:
            account = fn(store, signals.printed.emit)
        except BaseException as error:  # noqa: BLE001 - every failure is shown to the user as one line
            signals.failed.emit(describe_error(error))
        else:
            signals.finished.emit(account)
        finally:
            store.close()

    thread = threading.Thread(target=body, name="assistant-sign-in", daemon=True)
    thread.start()
    return thread


class AccountDialog(QDialog):
    account_added = Signal(object)  # Account

    def __init__(self, tasks: TaskManager, principal: Principal, parent=None):
        super().__init__(parent)
        self._tasks = tasks
        self.principal = principal
        self.setWindowTitle(f"Add an account for {principal.name}")
        self.tabs = QTabWidget(self)

        local = QWidget(self)
        self.mail_path = QLineEdit(local)
        self.mail_path.setAccessibleName("Maildir folder or mbox file")
        self.mail_path.setPlaceholderText("~/Mail/ada (a maildir) or ~/ada.mbox")
        pick_maildir = QPushButton("Folder…", local)
        pick_maildir.clicked.connect(lambda: self._pick(self.mail_path, folder=True))
        pick_mbox = QPushButton("File…", local)
        pick_mbox.clicked.connect(lambda: self._pick(self.mail_path, folder=False))
        mail_row = QHBoxLayout()
        mail_row.addWidget(self.mail_path, 1)
        mail_row.addWidget(pick_maildir)
        mail_row.addWidget(pick_mbox)
        self.calendar_path = QLineEdit(local)
        self.calendar_path.setAccessibleName("Calendar (.ics file or folder)")
        self.calendar_path.setPlaceholderText("optional: a .ics file or a folder of them")
        pick_calendar = QPushButton("Choose…", local)
        pick_calendar.clicked.connect(lambda: self._pick(self.calendar_path, folder=False, filter="Calendars (*.ics)"))
        calendar_row = QHBoxLayout()
        calendar_row.addWidget(self.calendar_path, 1)
        calendar_row.addWidget(pick_calendar)
        self.add_local_button = QPushButton("Add local account", local)
        self.add_local_button.clicked.connect(self.on_add_local)
        form = QFormLayout(local)
        form.addRow("&Mail:", mail_row)
        form.addRow("&Calendar:", calendar_row)
        form.addRow("", self.add_local_button)
        self.tabs.addTab(local, "Local")

        gmail = QWidget(self)
        self.client_secrets = QLineEdit(gmail)
        self.client_secrets.setAccessibleName("Google OAuth client file")
        self.client_secrets.setPlaceholderText("client_secret_….json (a Desktop app client)")
        pick_secrets = QPushButton("Choose…", gmail)
        pick_secrets.clicked.connect(lambda: self._pick(self.client_secrets, folder=False, filter="JSON (*.json)"))
        secrets_row = QHBoxLayout()
        secrets_row.addWidget(self.client_secrets, 1)
        secrets_row.addWidget(pick_secrets)
        self.gmail_button = QPushButton("Sign in with Google", gmail)
        self.gmail_button.clicked.connect(self.on_gmail)
        gmail_form = QFormLayout(gmail)
        gmail_form.addRow("&Client file:", secrets_row)
        gmail_form.addRow("", self.gmail_button)
        self.tabs.addTab(gmail, "Gmail")

        outlook = QWidget(self)
        self.client_id = QLineEdit(outlook)
        self.client_id.setAccessibleName("Entra ID application (client) ID")
        self.tenant = QLineEdit("common", outlook)
        self.tenant.setAccessibleName("Tenant")
        self.device_code = QCheckBox("Use a device code (sign in from any device)", outlook)
        self.outlook_button = QPushButton("Sign in with Microsoft", outlook)
        self.outlook_button.clicked.connect(self.on_outlook)
        outlook_form = QFormLayout(outlook)
        outlook_form.addRow("Client &ID:", self.client_id)
        outlook_form.addRow("&Tenant:", self.tenant)
        outlook_form.addRow("", self.device_code)
        outlook_form.addRow("", self.outlook_button)
        self.tabs.addTab(outlook, "Outlook")

        self.log = QPlainTextEdit(self)
        self.log.setObjectName("sign-in-log")
        self.log.setAccessibleName("Sign-in messages")
        self.log.setReadOnly(True)
        self.log.setMaximumHeight(110)
        self.log.hide()
        self.error = QLabel(self)
        self.error.setObjectName("dialog-error")
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.log)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self._signals = _SignIn()  # no parent: a sign-in still running when the dialog closes emits into nothing
        self._signals.printed.connect(self.on_printed)
        self._signals.finished.connect(self.on_added)
        self._signals.failed.connect(self.on_failed)
        self.sign_in_thread: threading.Thread | None = None
        self.resize(600, 320)

    def _pick(self, edit: QLineEdit, *, folder: bool, filter: str = "") -> None:
        if folder:
            path = QFileDialog.getExistingDirectory(self, "Choose a folder")
        else:
            path, _ = QFileDialog.getOpenFileName(self, "Choose a file", "", filter)
        if path:
            edit.setText(path)

    def on_add_local(self) -> None:
        principal_id, mail, calendar = self.principal.id, self.mail_path.text().strip(), self.calendar_path.text().strip()
        assert principal_id is not None  # principals come from the store
        self.error.hide()
        self.add_local_button.setEnabled(False)

        def failed(error: BaseException) -> None:
            self.add_local_button.setEnabled(True)
            self.on_failed(describe_error(error))

        self._tasks.run(lambda store: add_local_account(store, principal_id, mail, calendar),
                        on_done=self.on_added, on_error=failed)

    def on_gmail(self) -> None:
        secrets = self.client_secrets.text().strip()
        if not secrets or not Path(secrets).expanduser().is_file():
            self.on_failed("Choose the OAuth client file (JSON) of your Google Cloud project first.")
            return
        principal_id = self.principal.id
        assert principal_id is not None  # principals come from the store

        def sign_in(store: Store, print_fn) -> Account:
            from assistant.connectors.gmail.auth import sign_in as gmail_sign_in

            return gmail_sign_in(store, principal_id, Path(secrets).expanduser(), open_browser=True, print_fn=print_fn)

        self._start_sign_in(sign_in, "Opening Google's sign-in page in your browser…")

    def on_outlook(self) -> None:
        client_id, tenant = self.client_id.text().strip(), self.tenant.text().strip() or "common"
        if not client_id:
            self.on_failed("Enter the application (client) ID of your app registered in Entra ID first.")
            return
        principal_id, device_code = self.principal.id, self.device_code.isChecked()
        assert principal_id is not None  # principals come from the store

        def sign_in(store: Store, print_fn) -> Account:
            from assistant.connectors.outlook.auth import sign_in as outlook_sign_in

            return outlook_sign_in(store, principal_id, client_id, tenant=tenant, device_code=device_code,
                                   print_fn=print_fn)

        self._start_sign_in(sign_in, "Signing in with Microsoft…")

    def _start_sign_in(self, fn, first_line: str) -> None:
        self.error.hide()
        self.log.clear()
        self.log.show()
        self.on_printed(first_line)
        for button in (self.gmail_button, self.outlook_button):
            button.setEnabled(False)
        self.sign_in_thread = run_sign_in(self._tasks.workspace_dir, fn, self._signals)

    def on_printed(self, text: str) -> None:
        self.log.show()
        self.log.appendPlainText(str(text))

    def on_added(self, account: Account) -> None:
        for button in (self.gmail_button, self.outlook_button, self.add_local_button):
            button.setEnabled(True)
        self.account_added.emit(account)
        self.accept()

    def on_failed(self, text: str) -> None:
        for button in (self.gmail_button, self.outlook_button):
            button.setEnabled(True)
        self.error.setText(text)
        self.error.show()
