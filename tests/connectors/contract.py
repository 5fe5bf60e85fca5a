"""The contract every connector passes (vdirsyncer's tests/storage): subclass :class:`ConnectorContract` and provide the
``server`` fixture, a :class:`ServerHandle` that builds connectors and changes the mailbox "on the server side".

Messages are identified by their Message-ID header, since remote ids are the provider's business.
"""
from __future__ import annotations

import base64
import uuid
from abc import ABC, abstractmethod
from email.message import EmailMessage
from typing import Any

import pytest

from assistant.connectors.base import Capability, Connector
from assistant.domain import Account, OutboxEntry, Principal
from assistant.store import Store
from assistant.store import mail as mail_store
from assistant.sync.engine import sync_account

SEEDED = 5


def make_raw(n: int, *, subject: str | None = None, sender: str = "Zoë Ng <zoe@example.org>") -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "Principal <principal@example.com>"
    msg["Subject"] = subject or f"Quarterly numbers, part {n}"
    msg["Date"] = f"Mon, 2{n % 10} Oct 2025 09:{n % 60:02d}:00 -0400"
    msg["Message-ID"] = f"<contract-{n}@example.org>"
    msg.set_content(f"Body of message {n}: the figures are attached as discussed. Grüße.\n")
    return msg.as_bytes()


class ServerHandle(ABC):
    """The provider's side of one account, for tests."""

    kind: str
    address: str = "principal@example.com"

    @abstractmethod
    def settings(self) -> dict[str, Any]: ...

    @abstractmethod
    def connector(self, account: Account) -> Connector:
        """A fresh connector for the account (a new instance each call, as after a restart)."""

    @abstractmethod
    def add_message(self, raw: bytes) -> None: ...

    @abstractmethod
    def remove_message(self, message_id_header: str) -> None: ...

    @abstractmethod
    def set_flags(self, message_id_header: str, *, read: bool | None = None, flagged: bool | None = None) -> None: ...

    @abstractmethod
    def flags(self, message_id_header: str) -> dict[str, bool]:
        """{"read": …, "flagged": …} of the server's copy."""

    @abstractmethod
    def sent_message_ids(self) -> list[str]:
        """Message-ID headers of everything in the Sent folder, duplicates included."""


class ConnectorContract:
    @pytest.fixture
    def server(self, tmp_path) -> ServerHandle:
        raise NotImplementedError("a connector's test class provides the server fixture")

    @pytest.fixture
    def account(self, workspace: Store, server: ServerHandle) -> Account:
        principal = workspace.add_principal(Principal("Contract", "Europe/Dublin", [server.address]))
        for n in range(SEEDED):
            server.add_message(make_raw(n))
        return workspace.add_account(Account(principal.id, server.kind, server.address, server.settings()))

    def sync(self, store: Store, server: ServerHandle, account: Account, **kw):
        report = sync_account(store, account.id, server.connector(store.account(account.id)), **kw)
        assert report.errors == []
        return report

    @staticmethod
    def header_ids(store: Store, account: Account) -> list[str]:
        return sorted(
            r[0] for r in store.db.execute("SELECT message_id_header FROM messages WHERE account_id=?", (account.id,))
        )

    def test_declares_mail_and_send(self, server, account, workspace):
        connector = server.connector(account)
        assert connector.has(Capability.MAIL) and connector.has(Capability.SEND)
        assert connector.kind == server.kind

    def test_first_sync_brings_everything(self, workspace, server, account):
        report = self.sync(workspace, server, account)
        assert report.mail == {"added": SEEDED, "updated": 0, "removed": 0}
        assert self.header_ids(workspace, account) == sorted(f"<contract-{n}@example.org>" for n in range(SEEDED))
        scope = workspace.scope(account.principal_id)
        message = mail_store.message_by_header_id(scope, "<contract-3@example.org>")
        assert message.subject == "Quarterly numbers, part 3"
        assert "Grüße" in message.body_text
        assert mail_store.folder_by_role(scope, account.id, "inbox") is not None
        assert workspace.account(account.id).status.value == "ok"

    def test_second_sync_without_changes_changes_nothing(self, workspace, server, account):
        self.sync(workspace, server, account)
        before = workspace.db.execute("SELECT id, content_hash FROM messages ORDER BY id").fetchall()
        report = self.sync(workspace, server, account)
        assert report.mail == {"added": 0, "updated": 0, "removed": 0}
        assert workspace.db.execute("SELECT id, content_hash FROM messages ORDER BY id").fetchall() == before

    def test_server_side_add_remove_and_flag_arrive(self, workspace, server, account):
        self.sync(workspace, server, account)
        server.add_message(make_raw(100, subject="Dinner on Friday?"))
        server.remove_message("<contract-0@example.org>")
        server.set_flags("<contract-1@example.org>", read=True, flagged=True)
        report = self.sync(workspace, server, account)
        assert report.mail == {"added": 1, "updated": 1, "removed": 1}
        ids = self.header_ids(workspace, account)
        assert "<contract-100@example.org>" in ids and "<contract-0@example.org>" not in ids
        assert len(ids) == SEEDED
        flagged = mail_store.message_by_header_id(workspace.scope(account.principal_id), "<contract-1@example.org>")
        assert flagged.is_read and flagged.is_flagged
        assert [m.subject for m in mail_store.search_messages(workspace.scope(account.principal_id), "dinner")] == [
            "Dinner on Friday?"
        ]

    def test_send_is_idempotent(self, workspace, server, account):
        self.sync(workspace, server, account)
        msg = EmailMessage()
        msg["From"] = server.address
        msg["To"] = "zoe@example.org"
        msg["Subject"] = "Re: Quarterly numbers"
        key = uuid.uuid4().hex
        msg["Message-ID"] = f"<{key}@example.com>"
        msg.set_content("Thanks, received.")
        entry = OutboxEntry(account.principal_id, account.id, "send",
                            {"raw": base64.b64encode(msg.as_bytes()).decode(), "message_id_header": msg["Message-ID"]},
                            key, id=1)
        first = server.connector(account).apply(entry)
        again = server.connector(account).apply(entry)  # a retry after a crash, by a new process
        assert first["remote_id"] == again["remote_id"]
        assert server.sent_message_ids().count(f"<{key}@example.com>") == 1
        self.sync(workspace, server, account)
        assert self.header_ids(workspace, account).count(f"<{key}@example.com>") == 1

    def test_local_flag_change_reaches_the_server(self, workspace, server, account):
        from assistant.sync import actions

        self.sync(workspace, server, account)
        scope = workspace.scope(account.principal_id)
        message = mail_store.message_by_header_id(scope, "<contract-2@example.org>")
        actions.mark_read(workspace, message.id, account.principal_id)
        actions.set_flagged(workspace, message.id, account.principal_id)
        assert server.flags("<contract-2@example.org>") == {"read": False, "flagged": False}
        report = self.sync(workspace, server, account)
        assert report.outbox == {"sent": 2, "failed": 0, "pending": 0}
        assert server.flags("<contract-2@example.org>") == {"read": True, "flagged": True}
        assert mail_store.message_by_header_id(scope, "<contract-2@example.org>").is_read

    def test_cursor_resumes(self, workspace, server, account):
        self.sync(workspace, server, account)
        cursor = workspace.get_cursor(account.id, "mail")
        assert cursor
        server.add_message(make_raw(200))
        # A new connector (a restarted app) given the saved cursor reports only what changed since.
        pages = list(server.connector(account).mail_changes(cursor))
        upserted = [m.message_id_header for page in pages for m, _ in page.upserted]
        assert upserted == ["<contract-200@example.org>"]
        assert not any(page.removed for page in pages)
        assert pages[-1].cursor is not None and pages[-1].cursor != cursor

    def test_a_large_attachment_is_listed_then_fetched_when_asked(self, workspace, server, account):
        """Name and size arrive with the message; a connector with ATTACHMENTS_ON_DEMAND leaves the bytes on the
        server until the user asks (Save/Open/Forward go through ``fetch_message_source``), which leaves it unread."""
        import random

        from assistant.mail.mime import attachment_bytes
        from assistant.sync.fetch import fetch_message_source, is_placeholder, needs_download

        payload = random.Random(7).randbytes(300_000)
        msg = EmailMessage()
        msg["From"] = "Zoë Ng <zoe@example.org>"
        msg["To"] = f"Principal <{server.address}>"
        msg["Subject"] = "The signed contract"
        msg["Date"] = "Tue, 21 Oct 2025 10:00:00 -0400"
        msg["Message-ID"] = "<contract-attached@example.org>"
        msg.set_content("The signed contract is attached. Grüße.\n")
        msg.add_attachment(payload, maintype="application", subtype="pdf", filename="Contract – signed.pdf")
        server.add_message(msg.as_bytes())
        self.sync(workspace, server, account)
        scope = workspace.scope(account.principal_id)
        message = mail_store.message_by_header_id(scope, "<contract-attached@example.org>")
        assert "signed contract is attached" in message.body_text
        connector = server.connector(workspace.account(account.id))
        on_demand = connector.has(Capability.ATTACHMENTS_ON_DEMAND)
        assert len(message.attachments) == 1
        if message.attachments[0].filename or not on_demand:  # Outlook's placeholder says only "it has some"
            assert [a.filename for a in message.attachments] == ["Contract – signed.pdf"]
            assert abs(message.attachments[0].size - len(payload)) < len(payload) // 20
        assert is_placeholder(message.attachments[0]) == on_demand
        assert needs_download(workspace, account.principal_id, message.id) == on_demand

        raw = fetch_message_source(workspace, account.principal_id, message.id, connector)
        stored = mail_store.message(scope, message.id, with_body=False)
        assert [(a.filename, is_placeholder(a)) for a in stored.attachments] == [("Contract – signed.pdf", False)]
        assert attachment_bytes(raw, stored.attachments[0].part_id) == payload
        assert not needs_download(workspace, account.principal_id, message.id)
        assert server.flags("<contract-attached@example.org>")["read"] is False
