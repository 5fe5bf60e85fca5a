"""``assistant mailto:…`` (a link clicked anywhere on the desktop): a compose window with the link's recipients,
subject and body, written as the principal the addresses point at — one of theirs, a contact of theirs, someone in
their mail — or, when that does not say (nobody, or several), as the principal the user picks."""
from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from assistant.domain import Principal
from assistant.mail.mailto import MailtoLink, likely_principals, parse_mailto
from assistant.store import Store
from assistant.ui.mail.compose import ComposeStart, start_for
from assistant.ui.widgets.identity import principal_chip
from assistant.ui.workers import describe_error

log = logging.getLogger(__name__)


class WriteAsDialog(QDialog):
    """Which principal a ``mailto:`` message is from; the likely ones first, the first of them selected."""

    chosen = Signal(int)

    def __init__(self, link: MailtoLink, principals: list[Principal], likely: list[int],
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("write-as-dialog")
        to = ", ".join(a.email for a in link.to) or "(no recipient)"
        self.setWindowTitle("New message — write as")
        layout = QVBoxLayout(self)
        prompt = QLabel(f"A mailto: link opened a message to <b>{_escape(to)}</b>.<br>Write it as:")
        prompt.setWordWrap(True)
        layout.addWidget(prompt)
        self.list = QListWidget()
        self.list.setObjectName("write-as-principals")
        ordered = sorted(principals, key=lambda p: (p.id not in likely, p.name.lower()))
        for p in ordered:
            item = QListWidgetItem(principal_chip(p.colour), f"{p.name}  <{p.primary_address}>"
                                   + ("  — knows this address" if p.id in likely else ""))
            item.setData(Qt.ItemDataRole.UserRole, p.id)
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        # every row whole: the name, the address and why it is first
        self.list.setMinimumWidth(min(900, self.list.sizeHintForColumn(0) + 2 * self.list.frameWidth() + 24))
        self.list.itemActivated.connect(lambda _item: self.accept())
        layout.addWidget(self.list)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Write")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def accept(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        super().accept()
        self.chosen.emit(int(item.data(Qt.ItemDataRole.UserRole)))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def start_for_link(principal: Principal, link: MailtoLink) -> ComposeStart:
    """A new message in the principal's own form (their signature below), with the link's fields filled in."""
    start = start_for("new", principal, None, new_signature=principal.signature, reply_signature="")
    start.to, start.cc, start.subject = list(link.to), list(link.cc), link.subject
    if link.body:
        start.body = link.body + start.body
    start.in_reply_to = link.in_reply_to
    return start


def open_mailto(window: Any, url: str) -> WriteAsDialog | None:
    """What the running app does with a ``mailto:`` handed to it (``ui/app.py``); the dialog when it asks."""
    try:
        link = parse_mailto(url)
    except Exception as exc:  # noqa: BLE001 — a bad link is the sender's, said in one line
        window.show_error(describe_error(exc))
        return None
    state: dict[str, WriteAsDialog] = {}

    def load(store: Store) -> tuple[list[Principal], list[int]]:
        return store.principals(), likely_principals(store, link)

    def compose_as(principal_id: int) -> None:
        def accounts(store: Store) -> tuple[Principal, Any]:
            return store.principal(principal_id), store.accounts(principal_id)

        def show(result: tuple[Principal, Any]) -> None:
            principal, principal_accounts = result
            window.inbox_actions.open_compose(principal, principal_accounts, start_for_link(principal, link))
            log.info("a mailto: link opened a compose window as principal %s", principal.id)
            if link.bcc:
                window.notify(f"The link's Bcc ({', '.join(a.email for a in link.bcc)}) was left out: compose has no "
                              "Bcc field")

        window.tasks.run(accounts, on_done=show, on_error=lambda e: window.show_error(describe_error(e)))

    def decide(result: tuple[list[Principal], list[int]]) -> None:
        principals, likely = result
        if not principals:
            window.show_error("Add a principal first: a mailto: message is written as one of them")
            return
        if len(principals) == 1:
            compose_as(principals[0].id)
        elif len(likely) == 1:
            compose_as(likely[0])
        else:
            dialog = WriteAsDialog(link, principals, likely, window)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.chosen.connect(compose_as)
            state["dialog"] = dialog
            dialog.open()

    window.tasks.run(load, on_done=decide, on_error=lambda e: window.show_error(describe_error(e)))
    return None
