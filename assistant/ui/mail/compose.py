"""The compose window: new message, reply, reply-all and forward for one principal.

Typing is saved as a draft (``assistant.approvals.drafts``) every few seconds and on close, through the TaskManager, so a crash
loses at most the last few seconds. A window nobody has typed in saves nothing: a reply opened by a stray key and closed
leaves no empty draft behind. Send hands the draft to ``assistant.approvals.drafts.submit_draft``, which asks the principal
for approval when their policy says so, or queues it in the outbox (stored at once in the local Sent folder).

A snippet can carry an approval override ("never ask" for a routine confirmation, say). Inserting it gives the draft
that override, saved with the draft and shown above the buttons until the user clears it; when several snippets carry
one, the strictest counts (``assistant.approvals.policy.strictest``).
"""
from __future__ import annotations

import email.utils
import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QStringListModel, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from assistant.approvals.policy import strictest
from assistant.core import timezones
from assistant.core.errors import InvalidInput, UserError
from assistant.domain import Account, Address, ApprovalPolicy, Draft, Message, Principal
from assistant.mail import compose as mail_compose
from assistant.mail.mime import safe_filename
from assistant.store import Store
from assistant.store import contacts as contact_store
from assistant.store import mail as mail_store
from assistant.ui.widgets.identity import WritingAs, ask_send_as, principal_title
from assistant.ui.workers import TaskManager, describe_error

AUTOSAVE_MS = 3000
SIGNATURE_DELIMITER = "-- "
_FORWARD_PREFIX = ("fwd:", "fw:", "wg:", "tr:")
SNIPPET_APPROVAL_ROLE = Qt.ItemDataRole.UserRole + 1  # the snippet box's items: the snippet's approval override
APPROVAL_WORDS = {
    ApprovalPolicy.ALWAYS.value: "always asked",
    ApprovalPolicy.NEW_RECIPIENTS.value: "asked only for new recipients or attachments",
    ApprovalPolicy.NEVER.value: "never asked",
}


def forward_subject(subject: str) -> str:
    subject = subject.strip()
    return subject if subject.lower().startswith(_FORWARD_PREFIX) else f"Fwd: {subject}"


def quote(message: Message, zone: str) -> str:
    when = f"{timezones.in_zone(message.date_utc, zone):%a %d %b %Y at %H:%M}" if message.date_utc else "earlier"
    who = str(message.sender) if message.sender else "someone"
    text = message.body_text or message.snippet or ""
    quoted = "\n".join(f"> {line}" if line else ">" for line in text.rstrip("\n").splitlines())
    return f"On {when}, {who} wrote:\n{quoted}\n"


def forward_block(message: Message, zone: str) -> str:
    when = f"{timezones.in_zone(message.date_utc, zone):%a %d %b %Y %H:%M %Z}" if message.date_utc else ""
    lines = ["---------- Forwarded message ----------", f"From: {message.sender or ''}"]
    if when:
        lines.append(f"Date: {when}")
    lines.append(f"Subject: {message.subject}")
    lines.append(f"To: {', '.join(str(a) for a in message.to)}")
    if message.cc:
        lines.append(f"Cc: {', '.join(str(a) for a in message.cc)}")
    return "\n".join(lines) + "\n\n" + (message.body_text or message.snippet or "") + "\n"


def approval_note(approval: str, snippet_names: list[str], principal: Principal) -> str:
    """What the compose window says about a draft's approval override; '' when there is none."""
    if not approval:
        return ""
    quoted = ", ".join(f"“{name}”" for name in snippet_names)
    source = (f"snippet {quoted}" if len(snippet_names) == 1 else f"snippets {quoted}") if snippet_names \
        else "set on this draft"
    own = APPROVAL_WORDS[ApprovalPolicy(principal.approval_policy).value]
    return f"Approval: {APPROVAL_WORDS[approval]} ({source}); {principal.name}'s policy: {own}"


def with_signature(signature: str) -> str:
    signature = signature.strip("\n")
    if not signature:
        return ""
    if signature.startswith(SIGNATURE_DELIMITER.strip()):
        return signature
    return f"{SIGNATURE_DELIMITER}\n{signature}"


@dataclass
class ComposeStart:
    """What the window opens with; built by :func:`start_for` (pure, testable without widgets)."""

    mode: str  # "new" | "reply" | "reply-all" | "forward" | "draft"
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    subject: str = ""
    body: str = ""
    in_reply_to: str = ""
    cursor_at: int = 0
    attachments: list[str] = field(default_factory=list)
    account_id: int | None = None
    approval: str = ""  # the draft's approval override; "" = the principal's policy


def start_for(mode: str, principal: Principal, original: Message | None, *, new_signature: str,
              reply_signature: str) -> ComposeStart:
    """Recipients, subject and body for a new message or a reply/reply-all/forward of ``original``."""
    own = {a.lower() for a in principal.addresses}
    if mode == "new" or original is None:
        signature = with_signature(new_signature)
        return ComposeStart("new", body=f"\n\n{signature}\n" if signature else "", cursor_at=0)
    account_id = original.account_id
    if mode == "forward":
        signature = with_signature(new_signature)
        body = "\n\n" + (f"{signature}\n\n" if signature else "") + forward_block(original, principal.timezone)
        return ComposeStart("forward", subject=forward_subject(original.subject), body=body, account_id=account_id)
    from_me = original.sender is not None and original.sender.email.lower() in own
    to = list(original.to) if from_me else ([original.sender] if original.sender else [])
    cc: list[Address] = []
    if mode == "reply-all":
        seen = {a.email.lower() for a in to} | own
        for a in (original.to if not from_me else []) + original.cc:
            if a.email.lower() not in seen:
                seen.add(a.email.lower())
                cc.append(a)
    signature = with_signature(reply_signature)
    body = "\n\n" + (f"{signature}\n\n" if signature else "") + quote(original, principal.timezone)
    return ComposeStart(mode, to=to, cc=cc, subject=mail_compose.reply_subject(original.subject), body=body,
                        in_reply_to=original.message_id_header, account_id=account_id)


def start_from_draft(d: Draft) -> ComposeStart:
    return ComposeStart("draft", to=list(d.to), cc=list(d.cc), subject=d.subject, body=d.body_text,
                        in_reply_to=d.in_reply_to, attachments=list(d.attachments), account_id=d.account_id,
                        approval=d.approval)


def _join(addresses: list[Address]) -> str:
    return ", ".join(str(a) for a in addresses)


class AddressEdit(QLineEdit):
    """A comma-separated address line whose last entry is completed from the principal's own correspondents."""

    def __init__(self, lookup, parent=None):
        super().__init__(parent)
        self._lookup = lookup  # lookup(prefix, on_found(prefix, [str])), for this principal only, off the GUI thread
        self.suggestions = QStringListModel(self)
        self.address_completer = QCompleter(self.suggestions, self)
        self.address_completer.setWidget(self)
        self.address_completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.address_completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        # activated is overloaded (str, QModelIndex); the stub's SignalInstance lacks the [type] that picks one.
        self.address_completer.activated[str].connect(self.insert_completion)  # type: ignore[index]
        self.textEdited.connect(self.on_text_edited)

    def current_token(self) -> str:
        return self.text()[: self.cursorPosition()].rsplit(",", 1)[-1].strip()

    def on_text_edited(self, _text: str) -> None:
        token = self.current_token()
        if len(token) < 1:
            self._hide_popup()
            return
        self._lookup(token, self.on_found)

    def on_found(self, prefix: str, found: list[str]) -> None:
        if prefix != self.current_token():
            return  # typed on meanwhile: a later answer follows
        self.suggestions.setStringList(found)
        if found and self.hasFocus():
            self.address_completer.complete()
        else:
            self._hide_popup()

    def _hide_popup(self) -> None:
        popup = self.address_completer.popup()
        assert popup is not None  # QCompleter makes its default popup when first asked
        popup.hide()

    def insert_completion(self, completion: str) -> None:
        before = self.text()[: self.cursorPosition()]
        after = self.text()[self.cursorPosition():]
        head = before.rsplit(",", 1)[0] + ", " if "," in before else ""
        text = f"{head}{completion}, "
        self.setText(text + after.lstrip(", "))
        self.setCursorPosition(len(text))


class ComposeWindow(QWidget):
    """One message being written for one principal."""

    submitted = Signal(int, str)  # draft id, its new state ("sending", "awaiting-approval", …)
    draft_saved = Signal(int)  # draft id
    closed = Signal()

    def __init__(self, tasks: TaskManager, store: Store, principal: Principal, accounts: list[Account],
                 start: ComposeStart, *, draft: Draft | None = None, my_name: str = "",
                 extensions: Sequence[Callable[[ComposeWindow], QWidget]] = (), parent=None):
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("compose")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self._tasks = tasks
        self._store = store  # the GUI's read-only store, for at most a page of rows
        self.principal = principal
        self.my_name = my_name
        self.start = start
        self.draft_id: int | None = draft.id if draft else None
        self.in_reply_to = start.in_reply_to
        self.attachments: list[str] = list(start.attachments)
        self.approval = start.approval  # the draft's approval override, saved with it; "" = the principal's policy
        self.approval_snippets: list[str] = []  # the inserted snippets that set it; none: the saved draft had it
        self._saved_content: tuple | None = None
        self._untouched: tuple = ()  # what the window opened with (or started over with): nothing typed yet
        self._saving = False
        self._save_again = False
        self._finished = False  # sent or discarded: nothing more to save
        self._contacts: list[str] = []
        self.last_error = ""
        self.principal_box: QMessageBox | None = None  # the wrong-principal question, while it is open
        title = {"new": "New message", "reply": "Reply", "reply-all": "Reply to all", "forward": "Forward",
                 "draft": "Draft"}[start.mode]
        principal_title(self, f"{title} — for {principal.name}", principal)

        self.restored_bar = QFrame(self)
        self.restored_bar.setObjectName("restored-draft-bar")
        self.restored_bar.setFrameShape(QFrame.Shape.StyledPanel)
        bar = QHBoxLayout(self.restored_bar)
        bar.setContentsMargins(8, 4, 8, 4)
        self.restored_label = QLabel(self.restored_bar)
        self.start_over_button = QPushButton("Start over", self.restored_bar)
        self.start_over_button.clicked.connect(self.on_start_over)
        bar.addWidget(self.restored_label, 1)
        bar.addWidget(self.start_over_button)
        self.open_saved_button = QPushButton("Open it", self.restored_bar)
        self.open_saved_button.clicked.connect(self.on_open_saved)
        bar.addWidget(self.open_saved_button)
        self.open_saved_button.hide()
        self.restored_bar.hide()
        self._saved_offer: Draft | None = None
        self._fresh_start: ComposeStart | None = None

        self.from_box = QComboBox(self)
        self.from_box.setAccessibleName("From")
        for account in accounts:
            if account.kind == "import":
                continue
            self.from_box.addItem(f"{principal.name} <{account.address or principal.primary_address}>", account.id)
        if start.account_id is not None:
            index = self.from_box.findData(start.account_id)
            if index >= 0:
                self.from_box.setCurrentIndex(index)
        self.writing_as = WritingAs(principal, self.from_box, self)  # "Writing as Kenji Sato <…> · 21:32 in Tokyo"
        self.to_edit = AddressEdit(self.completions, self)
        self.to_edit.setAccessibleName("To")
        self.cc_edit = AddressEdit(self.completions, self)
        self.cc_edit.setAccessibleName("Cc")
        self.subject_edit = QLineEdit(self)
        self.subject_edit.setAccessibleName("Subject")
        self.body = QPlainTextEdit(self)
        self.body.setAccessibleName("Message text")
        self.body.setTabChangesFocus(True)

        self.snippet_box = QComboBox(self)
        self.snippet_box.setAccessibleName("Insert snippet")
        self.snippet_box.addItem("Insert snippet…", None)
        self.snippet_box.activated.connect(self.on_snippet_chosen)
        self.attach_button = QPushButton("Attach…", self)
        self.attach_button.clicked.connect(self.on_attach)
        self.attachment_list = QListWidget(self)
        self.attachment_list.setAccessibleName("Attachments")
        self.attachment_list.setMaximumHeight(70)
        self.remove_attachment_button = QPushButton("Remove attachment", self)
        self.remove_attachment_button.clicked.connect(self.on_remove_attachment)

        self.approval_bar = QFrame(self)
        self.approval_bar.setObjectName("approval-override")
        approval_row = QHBoxLayout(self.approval_bar)
        approval_row.setContentsMargins(0, 0, 0, 0)
        self.approval_label = QLabel(self.approval_bar)
        self.approval_label.setWordWrap(True)
        self.clear_approval_button = QPushButton("Clear", self.approval_bar)
        self.clear_approval_button.setAccessibleName("Clear the approval override")
        self.clear_approval_button.setToolTip("Ask for approval as the principal's policy says")
        self.clear_approval_button.clicked.connect(self.on_clear_approval)
        approval_row.addWidget(self.approval_label, 1)
        approval_row.addWidget(self.clear_approval_button)
        self.approval_bar.hide()

        self.status = QLabel(self)
        self.status.setObjectName("compose-status")
        self.status.setWordWrap(True)

        self.send_button = QPushButton("Send", self)
        self.send_button.setDefault(True)
        self.send_button.setToolTip("Send, or ask the principal's approval first if their policy says so (Ctrl+Enter)")
        self.send_button.clicked.connect(self.on_send)
        self.save_button = QPushButton("Save draft", self)
        self.save_button.clicked.connect(lambda: self.save_now())
        self.discard_button = QPushButton("Discard", self)
        self.discard_button.clicked.connect(self.on_discard)
        # The approvals feature adds its buttons ("Ask approval", "Send later") to this row.
        self.button_row = QHBoxLayout()
        self.button_row.setObjectName("compose-buttons")
        self.button_row.addWidget(self.send_button)
        self.extra_actions = QHBoxLayout()
        self.button_row.addLayout(self.extra_actions)
        # What other features add to the row ("Ask approval", "Send later…" from the approvals feature).
        self.extension_widgets = [extension(self) for extension in extensions]
        for widget in self.extension_widgets:
            self.extra_actions.addWidget(widget)
        self.button_row.addStretch(1)
        self.button_row.addWidget(self.status, 2)
        self.button_row.addWidget(self.save_button)
        self.button_row.addWidget(self.discard_button)

        form = QFormLayout()
        form.addRow("From", self.from_box)
        form.addRow("To", self.to_edit)
        form.addRow("Cc", self.cc_edit)
        form.addRow("Subject", self.subject_edit)
        tools = QHBoxLayout()
        tools.addWidget(self.snippet_box)
        tools.addWidget(self.attach_button)
        tools.addWidget(self.remove_attachment_button)
        tools.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.writing_as)
        layout.addWidget(self.restored_bar)
        layout.addLayout(form)
        layout.addLayout(tools)
        layout.addWidget(self.body, 1)
        layout.addWidget(self.attachment_list)
        layout.addWidget(self.approval_bar)
        layout.addLayout(self.button_row)
        QShortcut(QKeySequence("Ctrl+Return"), self, self.on_send)
        # Esc closes the window, as it closes every dialog: what was typed is kept as a draft, nothing else is saved
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.close)
        self.setTabOrder(self.to_edit, self.cc_edit)
        self.setTabOrder(self.cc_edit, self.subject_edit)
        self.setTabOrder(self.subject_edit, self.body)

        self._apply_start(start)
        if draft is not None:
            self._saved_content = self.content()
            saved = timezones.in_zone(draft.updated_utc, principal.timezone) if draft.updated_utc else None
            self.restored_label.setText(
                "Your saved draft is restored" + (f" (saved {saved:%d %b %H:%M})." if saved else "."))
        self.autosave = QTimer(self)
        self.autosave.setInterval(AUTOSAVE_MS)
        self.autosave.timeout.connect(self.on_autosave_due)
        self.autosave.start()
        geometry = QSettings().value("compose/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(760, 620)
        self._load_side_data()

    # -- content -------------------------------------------------------------------------------------------------
    def _apply_start(self, start: ComposeStart) -> None:
        self.to_edit.setText(_join(start.to))
        self.cc_edit.setText(_join(start.cc))
        self.subject_edit.setText(start.subject)
        self.body.setPlainText(start.body)
        cursor = self.body.textCursor()
        cursor.setPosition(min(start.cursor_at, len(start.body)))
        self.body.setTextCursor(cursor)
        self.attachments = list(start.attachments)
        self._show_attachments()
        self.approval, self.approval_snippets = start.approval, []
        self._show_approval()
        self._untouched = self._typed()
        if start.mode in ("reply", "reply-all"):
            self.body.setFocus()
        else:
            self.to_edit.setFocus()

    def offer_fresh_start(self, fresh: ComposeStart) -> None:
        """A saved draft was restored; "Start over" replaces it with ``fresh`` (and discards the saved one)."""
        self._fresh_start = fresh
        self.restored_bar.show()

    def offer_saved_draft(self, saved: Draft) -> None:
        """A new message was asked for while an unsent one is saved (after a crash, say): offer to open that instead."""
        self._saved_offer = saved
        when = timezones.in_zone(saved.updated_utc, self.principal.timezone) if saved.updated_utc else None
        subject = saved.subject or "(no subject)"
        self.restored_label.setText(f"An unsent message is saved: “{subject}”" + (f", {when:%d %b %H:%M}." if when else "."))
        self.start_over_button.hide()
        self.open_saved_button.show()
        self.restored_bar.show()

    def on_open_saved(self) -> None:
        d = self._saved_offer
        if d is None:
            return
        self._saved_offer = None
        self.draft_id = d.id
        self.in_reply_to = d.in_reply_to
        self._apply_start(start_from_draft(d))
        index = self.from_box.findData(d.account_id)
        if index >= 0:
            self.from_box.setCurrentIndex(index)
        self._saved_content = self.content()
        self.restored_bar.hide()

    def on_start_over(self) -> None:
        if self._fresh_start is None:
            return
        old = self.draft_id
        self.draft_id = None
        self._saved_content = None
        self._apply_start(self._fresh_start)
        self.restored_bar.hide()
        if old is not None:
            self._delete_draft(old)

    def content(self) -> tuple:
        return (self.account_id(), self.to_edit.text().strip(), self.cc_edit.text().strip(),
                self.subject_edit.text(), self.body.toPlainText(), tuple(self.attachments), self.approval)

    def account_id(self) -> int | None:
        return self.from_box.currentData()

    def _typed(self) -> tuple:
        """What the user can change by typing, attaching or inserting a snippet (the From box is a choice, not text)."""
        _account, to, cc, subject, body, attachments, approval = self.content()
        return to, cc, subject.strip(), body.strip(), attachments, approval

    def is_blank(self) -> bool:
        """Nothing typed since the window opened: a new message's signature, a reply's quote and recipients, a
        forward's attachments are what it opened with, not something to keep."""
        return self._typed() == self._untouched

    # -- completion ----------------------------------------------------------------------------------------------
    def _load_side_data(self) -> None:
        principal_id = self.principal.id
        assert principal_id is not None  # principals come from the store

        def load(store: Store):
            from assistant.store import snippets as snippet_store

            scope = store.scope(principal_id)
            contacts = [str(Address(c.name, e)) for c in contact_store.contacts(scope) for e in c.emails]
            return contacts, snippet_store.snippets(scope)

        self._tasks.run(load, on_done=self._on_side_data)

    def _on_side_data(self, result) -> None:
        contacts, snippets = result
        self._contacts = contacts
        for s in snippets:
            self.snippet_box.addItem(s.name, s.body)
            self.snippet_box.setItemData(self.snippet_box.count() - 1, s.approval, SNIPPET_APPROVAL_ROLE)
            if s.approval:
                self.snippet_box.setItemData(self.snippet_box.count() - 1, f"Approval: {APPROVAL_WORDS[s.approval]}",
                                             Qt.ItemDataRole.ToolTipRole)

    def completions(self, prefix: str, on_found) -> None:
        """The principal's contacts and past correspondents starting with ``prefix`` (name or address), looked up
        on the worker (the correspondents query scans the principal's mail) and handed to ``on_found(prefix, list)``."""
        p = prefix.lower()
        contacts = [c for c in self._contacts if c.lower().startswith(p) or f"<{p}" in c.lower()]
        principal_id = self.principal.id
        assert principal_id is not None  # principals come from the store
        self._tasks.run(
            lambda store: [str(a) for a in mail_store.correspondents(store.scope(principal_id), prefix, 20)],
            on_done=lambda found: on_found(prefix, list(dict.fromkeys(contacts + found))[:20]),
        )

    # -- snippets and attachments --------------------------------------------------------------------------------
    def on_snippet_chosen(self, index: int) -> None:
        body = self.snippet_box.itemData(index)
        name = self.snippet_box.itemText(index)
        approval = self.snippet_box.itemData(index, SNIPPET_APPROVAL_ROLE) or ""
        self.snippet_box.setCurrentIndex(0)
        if body is None:
            return
        self.insert_snippet(body, name=name, approval=approval)

    def insert_snippet(self, body: str, *, name: str = "", approval: str = "") -> None:
        """Insert a snippet's text; its approval override, if any, goes to the draft (the strictest one counts)."""
        from assistant.approvals.snippets import expand

        if approval:
            combined = strictest(self.approval, approval)
            if combined != self.approval:
                self.approval, self.approval_snippets = combined, [name]
            elif approval == combined and name not in self.approval_snippets:
                self.approval_snippets.append(name)
            self._show_approval()

        try:
            to = mail_compose.parse_addresses(self.to_edit.text())
        except InvalidInput:
            to = []
        self.body.insertPlainText(expand(body, principal=self.principal, recipient=to[0] if to else None,
                                         my_name=self.my_name))

    def on_clear_approval(self) -> None:
        self.approval, self.approval_snippets = "", []
        self._show_approval()

    def _show_approval(self) -> None:
        note = approval_note(self.approval, self.approval_snippets, self.principal)
        self.approval_label.setText(note)
        self.approval_bar.setVisible(bool(note))

    def on_attach(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Attach files")
        self.add_attachments(paths)

    def add_attachments(self, paths, *, typed: bool = True) -> None:
        """Attach ``paths``; ``typed=False`` for what arrives by itself (a forward's attachments, downloaded after the
        window opened), which leaves an untouched window untouched. Those are files kept in the workspace
        (``store/drafts.add_file``: references, not paths); what the user picks are files on disk."""
        blank = self.is_blank()
        for path in paths:
            if (not typed or Path(path).is_file()) and str(path) not in self.attachments:
                self.attachments.append(str(path))
        self._show_attachments()
        if blank and not typed:
            self._untouched = self._typed()

    def on_remove_attachment(self) -> None:
        row = self.attachment_list.currentRow()
        if 0 <= row < len(self.attachments):
            del self.attachments[row]
            self._show_attachments()

    def _show_attachments(self) -> None:
        self.attachment_list.clear()
        for path in self.attachments:
            item = QListWidgetItem(f"\U0001F4CE {safe_filename(Path(path).name)}")
            item.setToolTip(path)
            self.attachment_list.addItem(item)
        self.attachment_list.setVisible(bool(self.attachments))
        self.remove_attachment_button.setVisible(bool(self.attachments))

    # -- saving --------------------------------------------------------------------------------------------------
    def _worth_saving(self) -> bool:
        """Changed since the last save, and either typed in or already a draft (whose typing was taken back)."""
        return (not self._finished and self.content() != self._saved_content
                and (not self.is_blank() or self.draft_id is not None))

    def on_autosave_due(self) -> None:
        if self._worth_saving():
            self.save_now()

    def save_now(self, on_saved=None) -> None:
        """Save the draft on the worker. One save at a time, so the first one's new id is used by the next."""
        if self._finished:
            return
        if self._saving:
            self._save_again = True
            return
        content = self.content()
        account_id, to, cc, subject, body, attachments, approval = content
        principal_id, draft_id, in_reply_to = self.principal.id, self.draft_id, self.in_reply_to
        assert principal_id is not None  # principals come from the store
        self._saving = True

        def save(store: Store) -> Draft:
            from assistant.approvals.drafts import save_draft

            return save_draft(store, principal_id, account_id, to=_lenient(to), cc=_lenient(cc), subject=subject,
                              body_text=body, in_reply_to=in_reply_to, attachments=attachments, draft_id=draft_id,
                              approval=approval)

        def done(d: Draft) -> None:
            self._saving = False
            self.draft_id = d.id
            self._saved_content = content
            now = timezones.in_zone(timezones.now_utc(), self.principal.timezone)
            self.status.setText(f"Draft saved {now:%H:%M:%S}")
            self.draft_saved.emit(d.id)
            if on_saved is not None:
                on_saved(d)
            elif self._save_again:
                self._save_again = False
                self.save_now()

        def failed(error: BaseException) -> None:
            self._saving = False
            self._save_again = False
            self.show_error(describe_error(error))

        self._tasks.run(save, on_done=done, on_error=failed)

    def show_error(self, text: str) -> None:
        self.last_error = text
        self.status.setText(f"<b>{html.escape(text)}</b>")

    # -- send / discard / close ----------------------------------------------------------------------------------
    def on_send(self) -> None:
        if self._finished:
            return
        try:
            if not mail_compose.parse_addresses(self.to_edit.text()) + mail_compose.parse_addresses(self.cc_edit.text()):
                raise InvalidInput("add at least one recipient")
        except UserError as error:
            self.show_error(str(error))
            return
        if self._saving:
            self._save_again = False
            self._after_inflight(self.on_send)
            return
        self.send_button.setEnabled(False)
        self.status.setText("Sending…")
        self.save_now(on_saved=self._check_principal)

    def _check_principal(self, d: Draft) -> None:
        """Before the send, the wrong-principal guard (``approvals.guard``), read on the worker: a recipient or thread
        of another principal's asks once, naming both (Send anyway / Cancel)."""
        principal_id = self.principal.id

        def check(store: Store) -> str | None:
            from assistant.approvals.guard import wrong_principal

            return wrong_principal(store, principal_id, d)

        def checked(warning: str | None) -> None:
            if warning:
                self.ask_principal(warning, lambda: self._submit(d))
            else:
                self._submit(d)

        def failed(error: BaseException) -> None:
            self.send_button.setEnabled(True)
            self.show_error(describe_error(error))

        self._tasks.run(check, on_done=checked, on_error=failed)

    def ask_principal(self, warning: str, proceed: Callable[[], None]) -> QMessageBox:
        """The guard's one line, and *Send anyway* (``proceed()``) or *Cancel* (the draft stays as it is)."""

        def went_on() -> None:
            self.principal_box = None
            proceed()

        def cancelled() -> None:
            self.principal_box = None
            self.send_button.setEnabled(True)
            self.status.setText(f"Not sent: still a draft for {self.principal.name}.")

        self.principal_box = ask_send_as(self, self.principal.name, self.principal.colour, warning, went_on, cancelled)
        return self.principal_box

    def _after_inflight(self, fn) -> None:
        QTimer.singleShot(50, lambda: fn() if not self._saving else self._after_inflight(fn))

    def _submit(self, d: Draft) -> None:
        principal_id, draft_id = self.principal.id, d.id
        assert principal_id is not None  # principals come from the store
        assert draft_id is not None  # save_draft stored it

        def submit(store: Store) -> str:
            from assistant.approvals.drafts import submit_draft

            return submit_draft(store, principal_id, draft_id)

        def done(state: str) -> None:
            self._finished = True
            self.autosave.stop()
            self.submitted.emit(draft_id, state)
            self.close()

        def failed(error: BaseException) -> None:
            self.send_button.setEnabled(True)
            self.show_error(describe_error(error))

        self._tasks.run(submit, on_done=done, on_error=failed)

    def on_discard(self) -> None:
        self._finished = True
        self.autosave.stop()
        if self.draft_id is not None:
            self._delete_draft(self.draft_id)
        self.close()

    def _delete_draft(self, draft_id: int) -> None:
        principal_id = self.principal.id
        assert principal_id is not None  # principals come from the store

        def delete(store: Store) -> None:
            from assistant.approvals.drafts import delete_draft

            delete_draft(store, principal_id, draft_id)

        self._tasks.run(delete, on_error=lambda error: None)

    def closeEvent(self, event: QCloseEvent) -> None:
        QSettings().setValue("compose/geometry", self.saveGeometry())
        self.autosave.stop()
        if self._worth_saving():
            if self._saving:
                self._save_again = True  # the in-flight save's callback saves the rest with the draft's id
            else:
                self.save_now()
        self.closed.emit()
        super().closeEvent(event)


def _lenient(text: str) -> list[Address]:
    """Recipients as far as they parse: a draft keeps what is valid; Send refuses what is not."""
    return [Address(name, addr) for name, addr in email.utils.getaddresses([text]) if "@" in addr.strip("@")]
