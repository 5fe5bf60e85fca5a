"""Attachments on demand over IMAP, against the real Dovecot: large parts stay on the server at first sync (their names
and sizes listed), the source comes on the first Save/Open/Forward without marking the message read, bounded in size,
and a message gone from the server is one clear line."""
from __future__ import annotations

import gc
import random
from email.message import EmailMessage

import pytest

from assistant.connectors.imap import ImapConnector, parts
from assistant.core.errors import UserError
from assistant.domain import Account, Principal
from assistant.mail.mime import attachment_bytes
from assistant.store import Store
from assistant.store import mail as mail_store
from assistant.sync.engine import sync_account
from assistant.sync.fetch import fetch_message_source, is_placeholder, needs_download
from tests.connectors.imap.imap_handle import ADDRESS, DovecotHandle, dovecot, imap_registered, servers  # noqa: F401
from tests.connectors.imap.mailserver import USERS
from tests.connectors.imap.test_imap import CUT_SOCKET, proxy  # noqa: F401

PDF = random.Random(1).randbytes(400_000)
PHOTO = random.Random(2).randbytes(150_000)
LOGO = random.Random(3).randbytes(2_000)


def nested_message(message_id: str = "<nested@example.org>") -> bytes:
    """multipart/mixed( alternative(text, related(html, small logo)), large PDF, large photo, attached message )"""
    msg = EmailMessage()
    msg["From"] = "Zoë Ng <zoe@example.org>"
    msg["To"] = ADDRESS
    msg["Subject"] = "Plans and photos"
    msg["Date"] = "Tue, 21 Oct 2025 10:00:00 -0400"
    msg["Message-ID"] = message_id
    msg.set_content("The plans are attached, and a photo of the site.\n")
    msg.add_alternative("<p>The plans are attached, and a photo of the <b>site</b>.</p><img src='cid:logo@x'>",
                        subtype="html")
    msg.get_payload()[1].add_related(LOGO, maintype="image", subtype="png", cid="<logo@x>")
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="Plans, ground floor.pdf")
    msg.add_attachment(PHOTO, maintype="image", subtype="jpeg", filename="site.jpg")
    inner = EmailMessage()
    inner["Subject"] = "Original note"
    inner["From"] = "site@example.org"
    inner.set_content("A short forwarded note.\n")
    msg.add_attachment(inner)
    return msg.as_bytes()


@pytest.fixture
def account(workspace: Store, dovecot: DovecotHandle) -> Account:  # noqa: F811
    principal = workspace.add_principal(Principal("Dana Whitfield", "Europe/Dublin", [ADDRESS]))
    return workspace.add_account(Account(principal.id, "imap", ADDRESS, dovecot.settings()))


def synced(workspace: Store, dovecot: DovecotHandle, account: Account) -> ImapConnector:  # noqa: F811
    connector = dovecot.connector(workspace.account(account.id))
    report = sync_account(workspace, account.id, connector)
    assert report.errors == []
    return connector


def test_large_parts_stay_on_the_server_until_asked_and_the_message_stays_unread(workspace, dovecot, account):
    raw = nested_message()
    dovecot.add_message(raw)
    synced(workspace, dovecot, account)
    scope = workspace.scope(account.principal_id)
    message = mail_store.message_by_header_id(scope, "<nested@example.org>")
    assert "photo of the site" in message.body_text and "<b>site</b>" in message.body_html
    listed = {a.filename: a for a in message.attachments}
    assert is_placeholder(listed["Plans, ground floor.pdf"]) and is_placeholder(listed["site.jpg"])
    assert abs(listed["Plans, ground floor.pdf"].size - len(PDF)) < len(PDF) // 50
    assert not any(is_placeholder(a) for name, a in listed.items() if name not in ("Plans, ground floor.pdf",
                                                                                   "site.jpg"))
    assert message.size > len(raw)  # the server's size of the whole message (delivery added its headers)
    assert needs_download(workspace, account.principal_id, message.id)
    assert dovecot.flags("<nested@example.org>")["read"] is False

    saving = dovecot.connector(workspace.account(account.id))
    source = fetch_message_source(workspace, account.principal_id, message.id, saving)  # as Save attachment asks
    stored = {a.filename: a for a in mail_store.message(scope, message.id, with_body=False).attachments}
    assert set(stored) == set(listed) and not any(is_placeholder(a) for a in stored.values())
    assert attachment_bytes(source, stored["Plans, ground floor.pdf"].part_id) == PDF
    assert attachment_bytes(source, stored["site.jpg"].part_id) == PHOTO
    assert dovecot.flags("<nested@example.org>")["read"] is False
    # the same parts as the skeleton numbered them: what the user clicked is what is saved
    assert [a.part_id for a in stored.values()] == [a.part_id.split(":")[1] if is_placeholder(a) else a.part_id
                                                    for a in listed.values()]


def test_small_messages_are_stored_whole(workspace, dovecot, account):
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "zoe@example.org", ADDRESS, "A small scan"
    msg["Message-ID"] = "<small@example.org>"
    msg.set_content("Scan attached.")
    msg.add_attachment(LOGO, maintype="image", subtype="png", filename="scan.png")
    dovecot.add_message(msg.as_bytes())
    synced(workspace, dovecot, account)
    message = mail_store.message_by_header_id(workspace.scope(account.principal_id), "<small@example.org>")
    assert [(a.filename, is_placeholder(a)) for a in message.attachments] == [("scan.png", False)]
    assert not needs_download(workspace, account.principal_id, message.id)


def test_a_message_gone_from_the_server_is_one_line_and_changes_nothing(workspace, dovecot, account):
    dovecot.add_message(nested_message())
    synced(workspace, dovecot, account)
    scope = workspace.scope(account.principal_id)
    message = mail_store.message_by_header_id(scope, "<nested@example.org>")
    dovecot.remove_message("<nested@example.org>")  # deleted from a phone before the user clicked Save
    with pytest.raises(UserError) as caught:
        fetch_message_source(workspace, account.principal_id, message.id, dovecot.connector(account))
    text = str(caught.value)
    assert "\n" not in text and "no longer in INBOX" in text and "could not download" in text
    assert needs_download(workspace, account.principal_id, message.id)
    assert all(is_placeholder(a) for a in mail_store.message(scope, message.id, with_body=False).attachments
               if a.filename in ("Plans, ground floor.pdf", "site.jpg"))


@CUT_SOCKET
def test_a_connection_cut_while_downloading_is_one_line_and_the_next_try_works(workspace, dovecot, account,
                                                                             proxy):  # noqa: F811
    dovecot.add_message(nested_message())
    synced(workspace, dovecot, account)
    message = mail_store.message_by_header_id(workspace.scope(account.principal_id), "<nested@example.org>")
    workspace.update_account_settings(account.id, {**dovecot.settings(), "imap_port": proxy.port})
    connector = ImapConnector(workspace.account(account.id), credentials=USERS[ADDRESS],
                              ssl_context=dovecot.servers.client_context())
    connector.imap()
    proxy.limit = ("down", 200_000)  # in the middle of the source's 750 kB
    with pytest.raises(UserError) as caught:
        fetch_message_source(workspace, account.principal_id, message.id, connector)
    assert proxy.cut.is_set()
    assert "\n" not in str(caught.value) and "connection dropped" in str(caught.value)
    assert needs_download(workspace, account.principal_id, message.id)
    source = fetch_message_source(workspace, account.principal_id, message.id, connector)  # the user tries again
    assert attachment_bytes(source, "2") == PDF
    connector.close()
    gc.collect()  # the cut TLS socket imaplib left behind goes here, where its warning is expected


def test_a_source_over_the_limit_is_refused_in_one_line(workspace, dovecot, account, monkeypatch):
    dovecot.add_message(nested_message())
    synced(workspace, dovecot, account)
    message = mail_store.message_by_header_id(workspace.scope(account.principal_id), "<nested@example.org>")
    monkeypatch.setattr(parts, "MAX_SOURCE_BYTES", 100_000)
    with pytest.raises(UserError, match=r"too large to download \(1 MB; at most 0 MB\)"):
        fetch_message_source(workspace, account.principal_id, message.id, dovecot.connector(account))
    assert needs_download(workspace, account.principal_id, message.id)


def test_whole_fetches_are_cut_by_size(workspace, dovecot, account, monkeypatch):
    """Many small messages are read in FETCH commands of bounded size, never all at once."""
    cut: list[list[int]] = []
    original = parts.batches

    def batches(sizes: dict[int, int], limit: int = 0) -> list[list[int]]:
        out = original(sizes, limit=5_000)
        cut.extend(out)
        return out

    monkeypatch.setattr(parts, "batches", batches)
    for n in range(6):
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "zoe@example.org", ADDRESS, f"Note {n}"
        msg["Message-ID"] = f"<note-{n}@example.org>"
        msg.set_content(("Some words. " * 100) + str(n))
        dovecot.add_message(msg.as_bytes())
    synced(workspace, dovecot, account)
    subjects = sorted(r[0] for r in workspace.db.execute("SELECT subject FROM messages WHERE account_id=?",
                                                          (account.id,)))
    assert subjects == [f"Note {n}" for n in range(6)]
    assert len({uid for batch in cut for uid in batch}) == 6
    assert 2 <= len(cut) < 6  # two or three messages of about 2 kB a command


def test_batches_keep_order_and_bounds():
    assert parts.batches({5: 10, 4: 10, 3: 25, 2: 1, 1: 1}, limit=20) == [[5, 4], [3], [2, 1]]
    assert parts.batches({}, limit=20) == []
