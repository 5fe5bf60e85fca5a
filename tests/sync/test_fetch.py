"""A message's source on demand, through the real Outlook connector against the fake Graph server."""
from __future__ import annotations

from email.message import EmailMessage

import pytest

from assistant.connectors.base import Connector
from assistant.connectors.outlook import OutlookConnector
from assistant.connectors.outlook.graph import MAX_ATTEMPTS
from assistant.core.credentials import CredentialStore
from assistant.core.errors import UserError
from assistant.mail.mime import attachment_bytes
from assistant.store import mail as mail_store
from assistant.sync.fetch import fetch_message_source, is_placeholder
from tests.connectors.test_outlook import account, fake, principal, run_sync  # noqa: F401 - fixtures

PDF = b"%PDF-1.4 contract body \x00\x01\x02"
CSV = b"name,amount\nAnn,12\n"


def mime_with_attachments() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Lena Ortiz <lena@example.org>"
    msg["To"] = "principal@example.com"
    msg["Subject"] = "Signed contract"
    msg["Message-ID"] = "<contract-1@example.org>"
    msg["Date"] = "Mon, 23 Nov 2026 09:00:00 +0000"
    msg.set_content("Both files attached.")
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="contract.pdf")
    msg.add_attachment(CSV, maintype="text", subtype="csv", filename="figures.csv")
    return msg.as_bytes()


class MailOnlyConnector(Connector):
    """A connector that keeps the base class's answer to ``fetch_raw``: it cannot fetch a source."""

    kind = "mail-only"
    display_name = "Mail only"
    capabilities = frozenset()

    def mail_changes(self, cursor):
        return iter(())

    def calendar_changes(self, cursor):
        return iter(())

    def apply(self, entry):
        return {}


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def connector(account, sleeps):  # noqa: F811
    made = OutlookConnector(account, credentials=CredentialStore(), sleep=sleeps.append)
    yield made
    made.close()


def deliver_with_source(fake, raw: bytes, monkeypatch) -> str:
    """``fake.add_mime``, with ``$value`` answering the source as delivered (the fake's own ``_mime`` rebuilds only the
    body, as it has no store for attachments)."""
    remote_id = fake.add_mime(raw)
    rebuild = fake._mime
    monkeypatch.setattr(fake, "_mime", lambda message: raw if message["id"] == remote_id else rebuild(message))
    return remote_id


@pytest.fixture
def synced(workspace, account, connector, fake, monkeypatch):  # noqa: F811
    """The message delivered and synced as Graph JSON: a placeholder attachment, no source."""
    deliver_with_source(fake, mime_with_attachments(), monkeypatch)
    run_sync(workspace, account, connector)
    assert not fake.requests_to("$value")
    scope = workspace.scope(account.principal_id)
    message = mail_store.message_by_header_id(scope, "<contract-1@example.org>")
    assert [is_placeholder(a) for a in message.attachments] == [True]
    assert mail_store.raw_message(scope, message.id) == b""
    return message


def test_first_fetch_downloads_once_and_stores_the_real_attachments(workspace, account, connector, fake, synced):  # noqa: F811
    scope = workspace.scope(account.principal_id)
    raw = fetch_message_source(workspace, account.principal_id, synced.id, connector)
    assert len(fake.requests_to("$value")) == 1
    assert b"Signed contract" in raw
    assert mail_store.raw_message(scope, synced.id) == raw

    message = mail_store.message(scope, synced.id)
    assert [(a.filename, a.content_type) for a in message.attachments] == [
        ("contract.pdf", "application/pdf"), ("figures.csv", "text/csv")]
    assert attachment_bytes(raw, message.attachments[0].part_id) == PDF
    assert attachment_bytes(raw, message.attachments[1].part_id) == CSV
    # Flags, folders and thread are what the sync left.
    assert (message.is_read, message.is_flagged, message.folders, message.thread_id) == (
        synced.is_read, synced.is_flagged, synced.folders, synced.thread_id)
    assert mail_store.threads(scope)[0].has_attachments

    assert fetch_message_source(workspace, account.principal_id, synced.id, connector) == raw
    assert len(fake.requests_to("$value")) == 1

    # The next sync of the unchanged message keeps the real list.
    run_sync(workspace, account, connector)
    assert [a.filename for a in mail_store.message(scope, synced.id).attachments] == ["contract.pdf", "figures.csv"]


def test_a_changed_message_gets_its_list_back_from_the_stored_source(workspace, account, connector, fake, synced):  # noqa: F811
    scope = workspace.scope(account.principal_id)
    fetch_message_source(workspace, account.principal_id, synced.id, connector)
    fake.update_message(synced.remote_id, isRead=True)
    run_sync(workspace, account, connector)
    assert [is_placeholder(a) for a in mail_store.message(scope, synced.id).attachments] == [True]

    fetch_message_source(workspace, account.principal_id, synced.id, connector)
    assert len(fake.requests_to("$value")) == 1
    assert [a.filename for a in mail_store.message(scope, synced.id).attachments] == ["contract.pdf", "figures.csv"]


def test_a_busy_server_is_one_line_and_changes_nothing(workspace, account, connector, fake, synced, sleeps):  # noqa: F811
    fake.fail_next(503, count=MAX_ATTEMPTS, path_contains="$value")
    with pytest.raises(UserError) as caught:
        fetch_message_source(workspace, account.principal_id, synced.id, connector)
    message = str(caught.value)
    assert message.startswith("could not download the message: ") and "\n" not in message
    assert "503" in message
    assert sleeps  # retried with backoff before giving up
    scope = workspace.scope(account.principal_id)
    assert mail_store.raw_message(scope, synced.id) == b""
    assert [is_placeholder(a) for a in mail_store.message(scope, synced.id).attachments] == [True]


def test_without_a_connector_the_accounts_own_is_made(workspace, account, fake, synced):  # noqa: F811
    raw = fetch_message_source(workspace, account.principal_id, synced.id)
    assert b"Signed contract" in raw and len(fake.requests_to("$value")) == 1


def test_a_connector_that_cannot_fetch_is_one_line(workspace, account, synced):  # noqa: F811
    with pytest.raises(UserError, match="^could not download the message: .*cannot fetch"):
        fetch_message_source(workspace, account.principal_id, synced.id, MailOnlyConnector(account))
    assert mail_store.raw_message(workspace.scope(account.principal_id), synced.id) == b""


def test_another_principals_message_is_not_found(workspace, account, synced):  # noqa: F811
    from assistant.core.errors import NotFound
    from assistant.domain import Principal

    other = workspace.add_principal(Principal("Ken", "Asia/Tokyo", ["ken@example.com"]))
    with pytest.raises(NotFound):
        fetch_message_source(workspace, other.id, synced.id)
