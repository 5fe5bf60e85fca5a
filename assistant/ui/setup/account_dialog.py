"""Attach an account to a principal: a local maildir/mbox (+ calendar) now, or sign in to Gmail / Outlook.

The provider sign-ins block until the user has finished in the browser (or entered the device code), for minutes
perhaps. They run on a thread of their own with their own Store — not on the TaskManager, whose one worker would
otherwise hold every other database task for that long. What they print (the address to open, the device code) is shown
in the dialog.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from assistant.core.errors import InvalidInput, UserError
from assistant.domain import Account, Principal
from assistant.store import Store
from assistant.ui.widgets.identity import principal_title
from assistant.ui.workers import TaskManager, describe_error


def add_local_account(store: Store, principal_id: int, mail_path: str, calendar_path: str = "") -> Account:
    """Worker side: the same checks as ``assistant account add local``, the content included: a file given as the
    mail must read as an mbox and the calendar as iCalendar, or nothing is added."""
    from assistant.importing.base import check_calendar, check_mbox

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
        check_mbox(path)
        settings["mbox"] = str(path.resolve())
    if calendar_path.strip():
        calendar = Path(calendar_path).expanduser()
        if not calendar.exists():
            raise InvalidInput(f"{calendar_path} does not exist")
        check_calendar(calendar)
        settings["calendar"] = str(calendar.resolve())
    return store.add_account(Account(principal_id=principal_id, kind="local", address=principal.primary_address,
                                     settings=settings))


SignInFn = Callable[[Store, Callable[[str], Any]], Account]  # (store, print_fn) -> the account signed in


class SignInSection(QWidget):
    """A provider's tab: the fields its sign-in needs (``rows``, made without a parent: the tab adopts them, in this
    order for the Tab key too), then its sign-in button.

    When the button is pressed, ``prepare`` reads the fields and returns the sign-in to run (``sign_in_ready``, with
    the first line to show while it runs), or raises a :class:`UserError` saying what to fill in first (``refused``).
    """

    sign_in_ready = Signal(object, str)  # SignInFn, first line
    refused = Signal(str)

    def __init__(self, button_text: str, first_line: str, prepare: Callable[[], SignInFn],
                 rows: Sequence[tuple[str, QWidget | QLayout]], parent: QWidget | None = None):
        super().__init__(parent)
        self.first_line = first_line
        self.prepare = prepare
        form = QFormLayout(self)
        for label, field in rows:
            form.addRow(label, field)
        self.button = QPushButton(button_text, self)
        self.button.clicked.connect(self.on_button)
        form.addRow("", self.button)

    def on_button(self) -> None:
        try:
            fn = self.prepare()
        except UserError as error:
            self.refused.emit(str(error))
            return
        self.sign_in_ready.emit(fn, self.first_line)


_FINGERPRINT = re.compile(r"SHA-256 fingerprint is ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})")


class ImapSection(SignInSection):
    """Any provider over IMAP/SMTP: a preset (with where to make its app password) or the user's own servers, the
    password, an optional CalDAV address. The sign-in is the CLI's own (``connectors.imap.signin.sign_in``): the login is
    tried first, the password goes only to the OS credential store. A certificate the system does not trust is shown
    with its fingerprint and a button that trusts it and tries again.

    When the principal has a Gmail or Outlook account of the address typed (``set_sign_ins``, read off the GUI thread),
    and the provider takes it (Gmail, Outlook, a server of one's own), "Use the existing sign-in" is offered and checked:
    the login then shares that sign-in over XOAUTH2 and no password is asked (``signin.sign_in_oauth``)."""

    def __init__(self, principal: Principal, parent: QWidget | None = None):
        from assistant.connectors.imap.presets import PRESETS, SECURITIES

        self.principal = principal
        self.preset = QComboBox()
        self.preset.setAccessibleName("Provider")
        for name, p in PRESETS.items():
            self.preset.addItem(p.label, name)
        self.help = QLabel()
        self.help.setObjectName("imap-app-password-help")
        self.help.setWordWrap(True)
        self.help.setOpenExternalLinks(True)
        self.help.setMinimumWidth(420)  # its height is reckoned at its narrowest: blank lines above and below otherwise
        self.help.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.imap_host = QLineEdit()
        self.imap_host.setAccessibleName("IMAP server")
        self.imap_host.setPlaceholderText("imap.example.net or imap.example.net:993")
        self.smtp_host = QLineEdit()
        self.smtp_host.setAccessibleName("SMTP server")
        self.smtp_host.setPlaceholderText("default: the IMAP server")
        self.security = QComboBox()
        self.security.setAccessibleName("Security")
        for value, text in zip(SECURITIES, ("SSL/TLS", "STARTTLS", "None (only to this computer)"), strict=True):
            self.security.addItem(text, value)
        self.user = QLineEdit(principal.primary_address)
        self.user.setAccessibleName("User name")
        self.password = QLineEdit()
        self.password.setAccessibleName("Password or app password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.caldav_url = QLineEdit()
        self.caldav_url.setAccessibleName("CalDAV address")
        self.caldav_url.setPlaceholderText("optional: the calendar server, when not the provider's")
        self.trust_fingerprint = ""
        self._filled: set[str] = set()
        self.trust_button = QPushButton("Trust this certificate and sign in")
        self.trust_button.hide()
        self.use_sign_in = QCheckBox("Use the existing sign-in")
        self.use_sign_in.setObjectName("imap-use-sign-in")
        self.use_sign_in.setChecked(True)
        self.use_sign_in.hide()
        self.sign_ins: list[Account] = []  # the principal's Gmail and Outlook accounts
        super().__init__("Sign in", "Signing in…", self.prepare_sign_in,
                         [("&Provider:", self.preset), ("", self.help), ("&IMAP server:", self.imap_host),
                          ("S&MTP server:", self.smtp_host), ("&Security:", self.security), ("&User:", self.user),
                          ("", self.use_sign_in), ("Pass&word:", self.password), ("Cal&DAV:", self.caldav_url),
                          ("", self.trust_button)],
                         parent)
        self.use_sign_in.toggled.connect(self.on_sign_in_choice)
        self.user.textChanged.connect(self.on_sign_in_choice)
        self.trust_button.clicked.connect(self.on_trust)
        self.preset.currentIndexChanged.connect(self.on_preset)
        self.imap_host.textEdited.connect(self.forget_trust)  # a fingerprint trusted is that server's only
        self.on_preset()

    def forget_trust(self) -> None:
        self.trust_fingerprint = ""
        self.trust_button.hide()

    def on_preset(self) -> None:
        from assistant.connectors.imap.presets import preset

        p = preset(self.preset.currentData())
        own = p.name == "other"
        for field in (self.imap_host, self.smtp_host, self.security):
            field.setEnabled(own)
        if own:
            for field in (self.imap_host, self.smtp_host):  # a preset's servers are not the user's own
                if field.text() in self._filled:
                    field.clear()
        else:
            self.imap_host.setText(f"{p.imap_host}:{p.imap_port}")
            self.smtp_host.setText(f"{p.smtp_host}:{p.smtp_port}")
            self.security.setCurrentIndex(self.security.findData(p.imap_security))
            self._filled = {self.imap_host.text(), self.smtp_host.text()}
        self.forget_trust()
        self.on_sign_in_choice()

    def _show_help(self) -> None:
        from assistant.connectors.imap.presets import preset

        p = preset(self.preset.currentData())
        if self.oauth_chosen():
            self.help.setText(f"No password: {p.label if p.name != 'other' else 'the server'} is signed in to with the"
                              " principal's existing sign-in. Untick it to use a password instead.")
        elif p.name == "other":
            self.help.setText("Give your IMAP and SMTP servers. “None” (no encryption) is allowed only to this computer.")
        elif p.oauth_only:
            self.help.setText(p.app_password_help)
        else:
            self.help.setText(f"{p.label} needs an app password, not the account's own: {p.app_password_help} "
                              f'<a href="{p.app_password_url}">Make one</a>')

    def set_sign_ins(self, accounts: list[Account]) -> None:
        self.sign_ins = [a for a in accounts if a.kind in ("gmail", "outlook")]
        self.on_sign_in_choice()

    def sign_in_source(self) -> Account | None:
        """The Gmail or Outlook account whose sign-in the provider and address chosen can use."""
        from assistant.connectors.imap.oauth import find_sign_in
        from assistant.connectors.imap.presets import preset

        p = preset(self.preset.currentData())
        if p.name != "other" and not p.oauth_provider:
            return None
        return find_sign_in(self.sign_ins, self.user.text(), p.oauth_provider)

    def oauth_chosen(self) -> bool:
        return self.use_sign_in.isVisibleTo(self) and self.use_sign_in.isChecked()

    def on_sign_in_choice(self) -> None:
        source = self.sign_in_source()
        if source is not None:
            provider = "Google" if source.kind == "gmail" else "Microsoft"
            self.use_sign_in.setText(f"Use the existing {provider} sign-in of {source.address} (no password)")
        self.use_sign_in.setVisible(source is not None)
        self.password.setEnabled(not self.oauth_chosen())
        self.caldav_url.setEnabled(not self.oauth_chosen())  # the calendar comes through that account
        self._show_help()

    def prepare_sign_in(self) -> SignInFn:
        from assistant.connectors.imap.signin import ImapSignIn, sign_in_oauth
        from assistant.connectors.imap.signin import sign_in as imap_sign_in

        own = self.preset.currentData() == "other"
        oauth = self.oauth_chosen()
        request = ImapSignIn(user=self.user.text().strip(), preset=self.preset.currentData(),
                             imap_host=self.imap_host.text().strip() if own else "",
                             smtp_host=self.smtp_host.text().strip() if own else "",
                             security=self.security.currentData() if own else "",
                             caldav_url="" if oauth else self.caldav_url.text().strip(),
                             trust_fingerprint=self.trust_fingerprint, oauth=oauth)
        request.settings()  # what cannot work (an empty server, plain off this machine) is said before trying
        principal_id = self.principal.id
        assert principal_id is not None  # principals come from the store
        if oauth:
            self.trust_button.hide()

            def share_sign_in(store: Store, print_fn) -> Account:
                print_fn(f"Connecting to {request.settings()['imap_host']} with the existing sign-in…")
                return sign_in_oauth(store, principal_id, request)

            return share_sign_in
        password = self.password.text()
        if not password:
            raise UserError("Enter the password (or the app password) first.")
        self.trust_button.hide()

        def sign_in(store: Store, print_fn) -> Account:
            print_fn(f"Connecting to {request.settings()['imap_host']}…")
            return imap_sign_in(store, principal_id, request, password)

        return sign_in

    def offer_trust(self, error_text: str) -> str:
        """After a failure: when it was a certificate not trusted, offer to trust that fingerprint (the line then says
        the button, not the CLI's option). Returns the line to show."""
        found = _FINGERPRINT.search(error_text)
        self.trust_button.setVisible(found is not None)
        self.pending_fingerprint = found.group(1) if found else ""
        if found:
            error_text = error_text[:found.end()] + " — if that is your server's, press “Trust this certificate and sign in”."
        return error_text

    def on_trust(self) -> None:
        self.trust_fingerprint = getattr(self, "pending_fingerprint", "")
        self.on_button()


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
        principal_title(self, f"Add an account for {principal.name}", principal)
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
        # A row of several widgets is a layout, which a label cannot take as its buddy: the "&" then showed as is.
        for text, row, field in (("&Mail:", mail_row, self.mail_path), ("&Calendar:", calendar_row, self.calendar_path)):
            label = QLabel(text, local)
            label.setBuddy(field)
            form.addRow(label, row)
        form.addRow("", self.add_local_button)
        self.tabs.addTab(local, "Local")

        self.client_secrets = QLineEdit()
        self.client_secrets.setAccessibleName("Google OAuth client file")
        self.client_secrets.setPlaceholderText("client_secret_….json (a Desktop app client)")
        pick_secrets = QPushButton("Choose…")
        pick_secrets.clicked.connect(lambda: self._pick(self.client_secrets, folder=False, filter="JSON (*.json)"))
        secrets_row = QHBoxLayout()
        secrets_row.addWidget(self.client_secrets, 1)
        secrets_row.addWidget(pick_secrets)
        self.gmail_imap = QCheckBox("Also let an IMAP account of this address use this sign-in (full mail access)")
        self.gmail = SignInSection("Sign in with Google", "Opening Google's sign-in page in your browser…",
                                   self.gmail_sign_in, [("&Client file:", secrets_row), ("", self.gmail_imap)], self)
        self.tabs.addTab(self.gmail, "Gmail")

        self.client_id = QLineEdit()
        self.client_id.setAccessibleName("Entra ID application (client) ID")
        self.tenant = QLineEdit("common")
        self.tenant.setAccessibleName("Tenant")
        self.device_code = QCheckBox("Use a device code (sign in from any device)")
        self.outlook_imap = QCheckBox("Also let an IMAP account of this address use this sign-in (in the browser)")
        self.outlook = SignInSection("Sign in with Microsoft", "Signing in with Microsoft…", self.outlook_sign_in,
                                     [("Client &ID:", self.client_id), ("&Tenant:", self.tenant),
                                      ("", self.device_code), ("", self.outlook_imap)], self)
        self.tabs.addTab(self.outlook, "Outlook")

        self.imap = ImapSection(principal, self)
        self.tabs.addTab(self.imap, "IMAP")
        principal_id = principal.id
        imap = self.imap

        def sign_ins_read(accounts: list[Account]) -> None:
            if shiboken6.isValid(imap):  # the dialog may have been closed and deleted while the worker read them
                imap.set_sign_ins(accounts)

        self._tasks.run(lambda store: store.accounts(principal_id), on_done=sign_ins_read)

        self.sign_in_sections = (self.gmail, self.outlook, self.imap)
        self.gmail_button, self.outlook_button = self.gmail.button, self.outlook.button
        for section in self.sign_in_sections:
            section.sign_in_ready.connect(self._start_sign_in)
            section.refused.connect(self.on_failed)

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
        self.resize(640, 480)  # room for the IMAP tab's wrapped help line and a certificate's fingerprint

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

    def gmail_sign_in(self) -> SignInFn:
        secrets = self.client_secrets.text().strip()
        if not secrets or not Path(secrets).expanduser().is_file():
            raise UserError("Choose the OAuth client file (JSON) of your Google Cloud project first.")
        principal_id, imap = self.principal.id, self.gmail_imap.isChecked()
        assert principal_id is not None  # principals come from the store

        def sign_in(store: Store, print_fn) -> Account:
            from assistant.connectors.gmail.auth import sign_in as gmail_sign_in

            return gmail_sign_in(store, principal_id, Path(secrets).expanduser(), open_browser=True, print_fn=print_fn,
                                 imap=imap)

        return sign_in

    def outlook_sign_in(self) -> SignInFn:
        client_id, tenant = self.client_id.text().strip(), self.tenant.text().strip() or "common"
        if not client_id:
            raise UserError("Enter the application (client) ID of your app registered in Entra ID first.")
        principal_id, device_code, imap = self.principal.id, self.device_code.isChecked(), self.outlook_imap.isChecked()
        assert principal_id is not None  # principals come from the store
        if imap and device_code:
            raise UserError("IMAP access is consented to in the browser sign-in only: clear “Use a device code”.")

        def sign_in(store: Store, print_fn) -> Account:
            from assistant.connectors.outlook.auth import sign_in as outlook_sign_in

            return outlook_sign_in(store, principal_id, client_id, tenant=tenant, device_code=device_code,
                                   print_fn=print_fn, imap=imap)

        return sign_in

    def _start_sign_in(self, fn: SignInFn, first_line: str) -> None:
        self.error.hide()
        self.log.clear()
        self.log.show()
        self.on_printed(first_line)
        self._enable_sign_in(False)
        self.sign_in_thread = run_sign_in(self._tasks.workspace_dir, fn, self._signals)

    def on_printed(self, text: str) -> None:
        self.log.show()
        self.log.appendPlainText(str(text))

    def _enable_sign_in(self, enabled: bool) -> None:
        for section in self.sign_in_sections:
            section.button.setEnabled(enabled)

    def on_added(self, account: Account) -> None:
        self._enable_sign_in(True)
        self.add_local_button.setEnabled(True)
        self.account_added.emit(account)
        self.accept()

    def on_failed(self, text: str) -> None:
        self._enable_sign_in(True)
        self.error.setText(self.imap.offer_trust(text))
        self.error.show()
