"""Add or edit a principal: identity, zone, business hours, colour, signatures, snippets, approval policy, notes.

The form reads nothing from the database itself: the caller loads the principal with its reply signature and snippets
on the worker (:func:`load_principal_form`) and saves through :func:`save_principal_form` on the worker too.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from typing import Any

from PySide6.QtCore import QObject, QPoint, Qt, QTime, Signal
from PySide6.QtGui import QAction, QColor, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from assistant.core import timezones
from assistant.core.colours import distinct_colour
from assistant.core.errors import InvalidInput
from assistant.domain import ApprovalPolicy, BusinessHours, Principal, ReportTemplate
from assistant.store import Store
from assistant.ui.setup.account_dialog import AccountDialog
from assistant.ui.widgets.identity import principal_chip, principal_title, zone_city
from assistant.ui.widgets.zones import ZonePicker
from assistant.ui.workers import describe_error

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
POLICY_TEXT = {
    ApprovalPolicy.ALWAYS: "Every outgoing message needs approval",
    ApprovalPolicy.NEW_RECIPIENTS: "Only messages to new recipients or with attachments",
    ApprovalPolicy.NEVER: "No approval needed",
}
REPORT_SECTION_TEXT = {
    "mail": "Mail sent and archived", "approvals": "Drafts waiting for their approval",
    "calls": "Calls and call-backs", "done": "Tasks done", "due": "Tasks due next",
    "meetings": "Meetings of their next working day",
}
# languages offered for a report's dates (any CLDR locale can be typed)
REPORT_LOCALES = ("en_US", "en_GB", "de", "fr", "es", "it", "nl", "pt_BR", "ja", "zh_Hans", "ko", "yo", "ha", "ig")
# A snippet's override is given to the draft it is inserted into ("" = the principal's policy above).
SNIPPET_APPROVAL_TEXT = {
    "": "As the principal's policy",
    ApprovalPolicy.ALWAYS.value: "Always ask",
    ApprovalPolicy.NEW_RECIPIENTS.value: "Only new recipients or attachments",
    ApprovalPolicy.NEVER.value: "Never ask",
}


@dataclass
class PrincipalForm:
    principal: Principal
    reply_signature: str | None = None  # None: the signature serves replies too
    snippets: dict[str, str] = field(default_factory=dict)  # name -> body
    deleted_snippets: set[str] = field(default_factory=set)
    snippet_approvals: dict[str, str] = field(default_factory=dict)  # name -> override; absent = the principal's policy
    report_template: ReportTemplate = field(default_factory=ReportTemplate)


def load_principal_form(store: Store, principal_id: int) -> PrincipalForm:
    from assistant.reports import templates as report_templates  # its dataclasses and patterns: when used
    from assistant.store import snippets as compose_store

    scope = store.scope(principal_id)
    snippets = compose_store.snippets(scope)
    return PrincipalForm(scope.principal, compose_store.reply_signature(scope), {s.name: s.body for s in snippets},
                         snippet_approvals={s.name: s.approval for s in snippets if s.approval},
                         report_template=report_templates.template(store, principal_id))


def save_principal_form(store: Store, form: PrincipalForm) -> Principal:
    """Worker side: the principal, its reply signature and snippets, in one transaction."""
    from assistant.reports import templates as report_templates  # its dataclasses and patterns: when used
    from assistant.store import snippets as compose_store

    with store.transaction():
        p = form.principal
        if not p.id:
            p = store.add_principal(p)
        else:
            store.update_principal(p)
        scope = store.scope(p.id)
        compose_store.set_reply_signature(scope, form.reply_signature)
        existing = {s.name for s in compose_store.snippets(scope)}
        for name in form.deleted_snippets & existing:
            compose_store.delete_snippet(scope, name)
        for name, body in form.snippets.items():
            compose_store.save_snippet(scope, name, body, form.snippet_approvals.get(name, ""))
        report_templates.save_template(store, p.id, form.report_template)
    return p


class PrincipalDialog(QDialog):
    saved = Signal(object)  # the PrincipalForm to save

    def __init__(self, form: PrincipalForm | None = None, parent=None):
        super().__init__(parent)
        self.form = form or PrincipalForm(Principal("", timezones.assistant_zone_name()))
        p = self.form.principal
        if p.id:
            principal_title(self, f"Edit {p.name}", p)
        else:
            self.setWindowTitle("Add a principal")
        self.tabs = QTabWidget(self)

        general = QWidget(self)
        self.name = QLineEdit(p.name, general)
        self.addresses = QLineEdit(", ".join(p.addresses), general)
        self.addresses.setPlaceholderText("ada@example.com, ada@work.example")
        self.zone = ZonePicker(p.timezone, general)
        self.region = QLineEdit(p.region, general)
        self.region.setMaxLength(2)
        self.colour = QLineEdit(p.colour, general)
        self.colour.setPlaceholderText("one far from the other principals' colours")
        self.colour_swatch = QLabel(general)  # the colour itself, as the sidebar will show it
        self.colour_swatch.setAccessibleName("Colour swatch")
        self.colour.textChanged.connect(self._show_swatch)
        self._show_swatch(p.colour)
        self.colour_button = QPushButton("Choose…", general)
        self.colour_button.clicked.connect(self.on_choose_colour)
        colour_row = QHBoxLayout()
        colour_row.addWidget(self.colour_swatch)
        colour_row.addWidget(self.colour, 1)
        colour_row.addWidget(self.colour_button)
        hours = p.business_hours
        self.hours_start = QTimeEdit(QTime(hours.start.hour, hours.start.minute), general)
        self.hours_end = QTimeEdit(QTime(hours.end.hour, hours.end.minute), general)
        for edit in (self.hours_start, self.hours_end):
            edit.setDisplayFormat("HH:mm")
        self.days = [QCheckBox(name, general) for name in DAY_NAMES]
        hours_row = QHBoxLayout()
        hours_row.addWidget(self.hours_start)
        hours_row.addWidget(QLabel("to", general))
        hours_row.addWidget(self.hours_end)
        for i, box in enumerate(self.days, start=1):
            box.setChecked(i in hours.days)
            hours_row.addWidget(box)
        self.policy = QComboBox(general)
        for policy, text in POLICY_TEXT.items():
            self.policy.addItem(text, policy.value)
        self.policy.setCurrentIndex(self.policy.findData(ApprovalPolicy(p.approval_policy).value))
        general_form = QFormLayout(general)
        general_form.addRow("&Name:", self.name)
        general_form.addRow("&E-mail addresses:", self.addresses)
        general_form.addRow("&Time zone:", self.zone)
        general_form.addRow("Phone &region:", self.region)
        general_form.addRow("Colour:", colour_row)
        general_form.addRow("Business hours:", hours_row)
        general_form.addRow("&Approval:", self.policy)
        self.tabs.addTab(general, "General")

        signatures = QWidget(self)
        self.signature = QPlainTextEdit(p.signature, signatures)
        self.reply_signature = QPlainTextEdit(self.form.reply_signature or "", signatures)
        self.separate_reply = QCheckBox("A shorter signature for replies", signatures)
        self.separate_reply.setChecked(self.form.reply_signature is not None)
        self.reply_signature.setEnabled(self.separate_reply.isChecked())
        self.separate_reply.toggled.connect(self.reply_signature.setEnabled)
        sig_layout = QVBoxLayout(signatures)
        sig_layout.addWidget(QLabel("Signature for new messages:", signatures))
        sig_layout.addWidget(self.signature)
        sig_layout.addWidget(self.separate_reply)
        sig_layout.addWidget(self.reply_signature)
        self.tabs.addTab(signatures, "Signatures")

        snippets = QWidget(self)
        self.snippet_list = QListWidget(snippets)
        self.snippet_list.addItems(sorted(self.form.snippets))
        self.snippet_list.currentTextChanged.connect(self.on_snippet_selected)
        self.snippet_name = QLineEdit(snippets)
        self.snippet_name.setPlaceholderText("Name, e.g. thanks")
        self.snippet_body = QPlainTextEdit(snippets)
        self.snippet_body.setPlaceholderText("Dear {{first_name}}, … {{principal}} {{my_name}} {{date}}")
        self.snippet_approval = QComboBox(snippets)
        for value, text in SNIPPET_APPROVAL_TEXT.items():
            self.snippet_approval.addItem(text, value)
        self.snippet_approval.setToolTip("A draft this snippet is inserted into asks for approval this way; with "
                                         "several snippets, the strictest one counts")
        approval_row = QHBoxLayout()
        approval_row.addWidget(QLabel("Approval:", snippets))
        approval_row.addWidget(self.snippet_approval, 1)
        self.snippet_save = QPushButton("Keep snippet", snippets)
        self.snippet_save.clicked.connect(self.on_keep_snippet)
        self.snippet_delete = QPushButton("Delete snippet", snippets)
        self.snippet_delete.clicked.connect(self.on_delete_snippet)
        snippet_buttons = QHBoxLayout()
        snippet_buttons.addWidget(self.snippet_save)
        snippet_buttons.addWidget(self.snippet_delete)
        snippet_buttons.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.snippet_name)
        right.addWidget(self.snippet_body, 1)
        right.addLayout(approval_row)
        right.addLayout(snippet_buttons)
        snippet_layout = QHBoxLayout(snippets)
        snippet_layout.addWidget(self.snippet_list, 1)
        snippet_layout.addLayout(right, 2)
        self.tabs.addTab(snippets, "Snippets")

        self.tabs.addTab(self._reports_tab(self.form.report_template, p.timezone), "Reports")

        notes = QWidget(self)
        self.notes = QPlainTextEdit(p.notes, notes)
        self.notes.setPlaceholderText("Their standards: tone, sign-off, who may be answered without asking…")
        QVBoxLayout(notes).addWidget(self.notes)
        self.tabs.addTab(notes, "Notes")

        for widget, name in ((self.name, "Name"), (self.addresses, "E-mail addresses"), (self.zone, "Time zone"),
                             (self.region, "Phone region"), (self.colour, "Colour"), (self.policy, "Approval policy"),
                             (self.signature, "Signature"), (self.reply_signature, "Reply signature"),
                             (self.snippet_list, "Snippets"), (self.snippet_name, "Snippet name"),
                             (self.snippet_body, "Snippet text"), (self.snippet_approval, "Snippet approval"),
                             (self.notes, "Notes")):
            widget.setAccessibleName(name)
        self.error = QLabel(self)
        self.error.setObjectName("dialog-error")
        self.error.setWordWrap(True)
        self.error.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.resize(640, 460)

    def _reports_tab(self, t: ReportTemplate, zone: str) -> QWidget:
        """The end-of-day report and weekly summary: what they say, how they greet and sign, when they are made."""
        from assistant.reports import templates as report_templates  # its dataclasses and patterns: when used
        tab = QWidget(self)
        self.report_sections = {}
        sections = QVBoxLayout()
        for name, text in REPORT_SECTION_TEXT.items():
            box = QCheckBox(text, tab)
            box.setChecked(name in t.sections)
            self.report_sections[name] = box
            sections.addWidget(box)
        self.report_show_time = QCheckBox("Time spent on their work", tab)
        self.report_show_time.setChecked(t.show_time)
        sections.addWidget(self.report_show_time)
        self.report_greeting = QLineEdit(t.greeting, tab)
        self.report_greeting.setPlaceholderText("Hi {first},")
        self.report_greeting.setToolTip("{first} and {name} are the principal's first name and full name")
        self.report_sign_off = QLineEdit(t.sign_off, tab)
        self.report_sign_off.setPlaceholderText("Best,")
        self.report_signed = QLineEdit(t.signed, tab)
        self.report_signed.setPlaceholderText("your full name")
        self.report_locale = QComboBox(tab)
        self.report_locale.setEditable(True)
        self.report_locale.addItem("English, as written in their region", "")
        for code in REPORT_LOCALES:
            self.report_locale.addItem(f"{report_templates.locale_name(code)} ({code})", code)
        found = self.report_locale.findData(t.date_locale)
        if found >= 0:
            self.report_locale.setCurrentIndex(found)
        else:
            self.report_locale.setEditText(t.date_locale)
        self.report_eod = QCheckBox("End-of-day report at", tab)
        self.report_eod_at = QTimeEdit(QTime(17, 30) if t.eod_at is None else QTime(t.eod_at.hour, t.eod_at.minute),
                                       tab)
        self.report_weekly = QCheckBox("Weekly summary at", tab)
        self.report_weekly_at = QTimeEdit(QTime(17, 30) if t.weekly_at is None
                                          else QTime(t.weekly_at.hour, t.weekly_at.minute), tab)
        for box, edit, at in ((self.report_eod, self.report_eod_at, t.eod_at),
                              (self.report_weekly, self.report_weekly_at, t.weekly_at)):
            edit.setDisplayFormat("HH:mm")
            box.setChecked(at is not None)
            edit.setEnabled(at is not None)
            box.toggled.connect(edit.setEnabled)
        eod_row = QHBoxLayout()
        eod_row.addWidget(self.report_eod)
        eod_row.addWidget(self.report_eod_at)
        eod_row.addWidget(QLabel(f"their time ({zone_city(zone)}), on their working days", tab), 1)
        weekly_row = QHBoxLayout()
        weekly_row.addWidget(self.report_weekly)
        weekly_row.addWidget(self.report_weekly_at)
        weekly_row.addWidget(QLabel("on the last working day of their week", tab), 1)
        form = QFormLayout(tab)
        form.addRow("It tells them:", sections)
        form.addRow("&Greeting:", self.report_greeting)
        form.addRow("Sign-&off:", self.report_sign_off)
        form.addRow("Si&gned:", self.report_signed)
        form.addRow("&Dates in:", self.report_locale)
        form.addRow("Made:", eod_row)
        form.addRow("", weekly_row)
        hint = QLabel("Each report is a draft to the principal that follows their approval policy; "
                      "<i>assistant report eod</i> makes one at any time.", tab)
        hint.setWordWrap(True)
        form.addRow("", hint)
        for widget, name in ((self.report_greeting, "Report greeting"), (self.report_sign_off, "Report sign-off"),
                             (self.report_signed, "Report signed by"), (self.report_locale, "Language of dates"),
                             (self.report_eod_at, "End-of-day report time"),
                             (self.report_weekly_at, "Weekly summary time")):
            widget.setAccessibleName(name)
        return tab

    def report_locale_code(self) -> str:
        """The locale picked (its code), or the one typed."""
        index = self.report_locale.currentIndex()
        if index >= 0 and self.report_locale.currentText() == self.report_locale.itemText(index):
            return str(self.report_locale.itemData(index) or "")
        return self.report_locale.currentText().strip()

    def report_template(self) -> ReportTemplate:
        def at(box: QCheckBox, edit: QTimeEdit) -> time | None:
            return time(edit.time().hour(), edit.time().minute()) if box.isChecked() else None

        return ReportTemplate(
            sections=tuple(name for name, box in self.report_sections.items() if box.isChecked()),
            greeting=self.report_greeting.text().strip(), sign_off=self.report_sign_off.text().strip(),
            signed=self.report_signed.text().strip(), date_locale=self.report_locale_code(),
            show_time=self.report_show_time.isChecked(), eod_at=at(self.report_eod, self.report_eod_at),
            weekly_at=at(self.report_weekly, self.report_weekly_at))

    # -- snippets ------------------------------------------------------------------------------------------------
    def on_snippet_selected(self, name: str) -> None:
        if name in self.form.snippets:
            self.snippet_name.setText(name)
            self.snippet_body.setPlainText(self.form.snippets[name])
            self.snippet_approval.setCurrentIndex(
                self.snippet_approval.findData(self.form.snippet_approvals.get(name, "")))

    def snippet_edited(self) -> bool:
        """Whether the snippet editor holds text or an approval not yet kept (Save keeps it rather than lose it)."""
        name = self.snippet_name.text().strip()
        if not name:
            return False
        body, approval = self.snippet_body.toPlainText(), self.snippet_approval.currentData()
        if name not in self.form.snippets:
            return bool(body.strip())
        return body != self.form.snippets[name] or approval != self.form.snippet_approvals.get(name, "")

    def on_keep_snippet(self) -> None:
        name = self.snippet_name.text().strip()
        if not name:
            self.show_error("Give the snippet a name.")
            return
        if name not in self.form.snippets:
            self.snippet_list.addItem(name)
        self.form.snippets[name] = self.snippet_body.toPlainText()
        approval = self.snippet_approval.currentData()
        if approval:
            self.form.snippet_approvals[name] = approval
        else:
            self.form.snippet_approvals.pop(name, None)
        self.form.deleted_snippets.discard(name)

    def on_delete_snippet(self) -> None:
        name = self.snippet_name.text().strip()
        if name in self.form.snippets:
            del self.form.snippets[name]
            self.form.snippet_approvals.pop(name, None)
            self.form.deleted_snippets.add(name)
            for item in self.snippet_list.findItems(name, Qt.MatchFlag.MatchExactly):
                self.snippet_list.takeItem(self.snippet_list.row(item))
            self.snippet_name.clear()
            self.snippet_body.clear()
            self.snippet_approval.setCurrentIndex(0)

    def suggest_colour(self, colour: str) -> None:
        """The colour a new principal gets unless the user picks another (read on the worker: far from the others')."""
        if not self.colour.text().strip():
            self.colour.setText(colour)

    def _show_swatch(self, text: str) -> None:
        valid = QColor.isValidColorName(text.strip())
        self.colour_swatch.setPixmap(principal_chip(QColor(text.strip()).name()).pixmap(20) if valid else QPixmap())

    def on_choose_colour(self) -> None:
        colour = QColorDialog.getColor(QColor(self.colour.text()), self, "Principal's colour")
        if colour.isValid():
            self.colour.setText(colour.name())

    # -- result --------------------------------------------------------------------------------------------------
    def problem(self) -> str:
        from assistant.reports import templates as report_templates  # its dataclasses and patterns: when used
        if not self.name.text().strip():
            return "Give the principal a name."
        for address in self.address_list():
            if "@" not in address or " " in address:
                return f"{address!r} does not look like an e-mail address."
        if not self.zone.is_valid():
            return self.zone.problem()
        region = self.region.text().strip()
        if region and not (len(region) == 2 and region.isalpha()):
            return "The phone region is a two-letter country code, such as US or NG."
        if self.colour.text().strip() and not QColor.isValidColorName(self.colour.text().strip()):
            return "The colour is a name or #rrggbb, such as #3b82f6."
        if self.hours_end.time() <= self.hours_start.time():
            return "Business hours end after they start."
        if not any(box.isChecked() for box in self.days):
            return "Pick at least one working day."
        try:
            report_templates.check_locale(self.report_locale_code())
        except InvalidInput as exc:
            return f"Reports: {exc}."
        return ""

    def address_list(self) -> list[str]:
        return [a.strip() for a in self.addresses.text().split(",") if a.strip()]

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def result_form(self) -> PrincipalForm:
        start, end = self.hours_start.time(), self.hours_end.time()
        p = self.form.principal
        principal = Principal(
            id=p.id, name=self.name.text().strip(), timezone=self.zone.zone(),
            addresses=self.address_list(), region=(self.region.text().strip() or "US").upper(),
            business_hours=BusinessHours(time(start.hour(), start.minute()), time(end.hour(), end.minute()),
                                         tuple(i for i, box in enumerate(self.days, start=1) if box.isChecked())),
            colour=QColor(self.colour.text().strip()).name() if self.colour.text().strip() else "", signature=self.signature.toPlainText().rstrip(),
            approval_policy=ApprovalPolicy(self.policy.currentData()), notes=self.notes.toPlainText().rstrip(),
        )
        reply = self.reply_signature.toPlainText().rstrip() if self.separate_reply.isChecked() else None
        return PrincipalForm(principal, reply, dict(self.form.snippets), set(self.form.deleted_snippets),
                             dict(self.form.snippet_approvals), self.report_template())

    def accept(self) -> None:
        problem = self.problem()
        if problem:
            self.show_error(problem)
            return
        if self.snippet_edited():
            self.on_keep_snippet()
        self.saved.emit(self.result_form())
        super().accept()


class PrincipalActions(QObject):
    """Add or edit a principal and add an account: the File menu and the principal list's context menu."""

    def __init__(self, window: Any):
        super().__init__(window)
        self.window = window
        self.dialog: PrincipalDialog | None = None  # the last one opened
        self.account_dialog: AccountDialog | None = None
        self.menu: QMenu | None = None  # the principal list's context menu, while it is open
        window.add_principal_action.triggered.disconnect()  # the full dialog instead of the first-run form
        window.add_principal_action.triggered.connect(lambda: self.open_dialog(None))
        self.add_account_action = QAction("Add a&ccount…", window)
        self.add_account_action.triggered.connect(lambda: self.add_account())
        self.edit_principal_action = QAction("&Edit principal…", window)
        self.edit_principal_action.triggered.connect(lambda: self.edit())
        window.add_file_action(self.add_account_action, principal=True)
        window.add_file_action(self.edit_principal_action, principal=True)
        window.switcher.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        window.switcher.customContextMenuRequested.connect(self.context_menu)

    def save(self, form: PrincipalForm) -> None:
        window = self.window
        window.tasks.run(lambda store: save_principal_form(store, form),
                         on_done=lambda p: window.refresh(select_principal_id=p.id),
                         on_error=lambda error: window.show_error(describe_error(error)))

    def open_dialog(self, form: PrincipalForm | None) -> PrincipalDialog:
        dialog = PrincipalDialog(form, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(self.save)
        dialog.open()
        self.dialog = dialog
        if form is None:
            def suggest(colour: str) -> None:
                if isValid(dialog):  # not closed meanwhile
                    dialog.suggest_colour(colour)

            self.window.tasks.run(lambda store: distinct_colour(p.colour for p in store.principals()), on_done=suggest)
        return dialog

    def edit(self, principal_id: int | None = None) -> None:
        window = self.window
        if principal_id is None:
            principal_id = window.current_principal.id if window.current_principal else None
        if principal_id is None:
            return
        window.tasks.run(lambda store: load_principal_form(store, principal_id), on_done=self.open_dialog)

    def add_account(self, principal_id: int | None = None) -> None:
        window = self.window
        principal = window.current_principal if principal_id is None else window.principals.principal_at(
            window.principals.row_of(principal_id))
        if principal is None:
            return
        dialog = AccountDialog(window.tasks, principal, window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.account_added.connect(lambda _account: window.refresh())
        dialog.open()
        self.account_dialog = dialog

    def context_menu(self, pos: QPoint) -> None:
        window = self.window
        index = window.switcher.indexAt(pos)
        principal = window.principals.principal_at(index.row()) if index.isValid() else None
        menu = QMenu(window.switcher)
        if principal is not None:
            menu.addAction(f"Edit {principal.name}…", lambda: self.edit(principal.id))
            menu.addAction(f"Add an account for {principal.name}…", lambda: self.add_account(principal.id))
            menu.addSeparator()
        menu.addAction("Add principal…", lambda: self.open_dialog(None))
        self.menu = menu
        menu.popup(window.switcher.viewport().mapToGlobal(pos))


def install(window: Any) -> PrincipalActions:
    return PrincipalActions(window)
