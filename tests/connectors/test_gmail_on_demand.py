"""Gmail attachments on demand: sync reads ``format=full`` (headers, inline bodies, attachments by id and size) and
the message's source is fetched the first time an attachment is wanted, through the real connector against the fake
Google."""
from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from assistant.core.errors import UserError
from assistant.mail.mime import attachment_bytes, parse_message
from assistant.store import mail as mail_store
from assistant.sync.fetch import fetch_message_source, is_placeholder
from tests.connectors.contract import make_raw
from tests.connectors.test_gmail import account, clock, google, server, sync  # noqa: F401 - fixtures

PDF = b"%PDF-1.4 quarterly report \x00\x01\x02\xff"
CSV = b"Posten;Betrag\nMiete;1200\n"
SHARED_MIME = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata" / "mime"


def report_with_attachments() -> bytes:
    """A reply in a thread: RFC 2047 subject and sender, a Latin-1 quoted-printable text and an HTML alternative,
    and two attachments, one with an RFC 2231 (non-ASCII) file name."""
    msg = EmailMessage()
    msg["From"] = "Zoë Müller <zoe@example.de>"
    msg["To"] = "Ada Lovelace <principal@example.com>"
    msg["Cc"] = "Jürgen <juergen@example.de>"
    msg["Subject"] = "Quartalsbericht — Grüße aus Köln"
    msg["Message-ID"] = "<q3-report@example.de>"
    msg["In-Reply-To"] = "<q3-ask@example.com>"
    msg["References"] = "<q3-start@example.com> <q3-ask@example.com>"
    msg["Date"] = "Mon, 23 Nov 2026 09:00:00 +0100"
    msg.set_content("Anbei der Bericht für Q3.\nGrüße, Zoë\n", charset="iso-8859-1", cte="quoted-printable")
    msg.add_alternative("<p>Anbei der <b>Bericht</b> für Q3.</p><p>Grüße, Zoë</p>", subtype="html")
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="Bericht Q3 – Köln.pdf")
    msg.add_attachment(CSV, maintype="text", subtype="csv", filename="zahlen.csv")
    return msg.as_bytes()


def invitation_without_a_file_name() -> bytes:
    """A small calendar part with no file name: Gmail sends it inline, so nothing is left to download."""
    msg = EmailMessage()
    msg["From"] = "Lena Ortiz <lena@example.org>"
    msg["To"] = "principal@example.com"
    msg["Subject"] = "Invitation: review"
    msg["Message-ID"] = "<invite-1@example.org>"
    msg["Date"] = "Mon, 23 Nov 2026 10:00:00 +0000"
    msg.set_content("You are invited.")
    msg.add_attachment("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", subtype="calendar")
    return msg.as_bytes()


def raw_gets(google) -> list[str]:
    return [p for _m, p, q, _b in google.requests if p.startswith("/gmail/v1/users/me/messages/")
            and q.get("format") == "raw"]


def stored(workspace, account, header: str):  # noqa: F811
    scope = workspace.scope(account.principal_id)
    return scope, mail_store.message_by_header_id(scope, header)


FIELDS = ("subject", "sender", "to", "cc", "date_utc", "message_id_header", "in_reply_to", "references", "body_text",
          "body_html", "snippet", "parse_error")


@pytest.mark.parametrize("decoded_headers", [True, False], ids=["headers-decoded", "headers-as-written"])
def test_sync_keeps_names_and_sizes_and_stores_no_source(workspace, google, server, account, decoded_headers):  # noqa: F811
    google.decode_headers = decoded_headers
    raw = report_with_attachments()
    remote_id = server.add_message(raw)
    report = sync(workspace, server, account)
    assert report.errors == [] and report.mail["added"] == 1
    assert raw_gets(google) == []

    scope, message = stored(workspace, account, "<q3-report@example.de>")
    original = parse_message(raw, principal_id=account.principal_id, account_id=account.id, remote_id=remote_id)
    assert {f: getattr(message, f) for f in FIELDS} == {f: getattr(original, f) for f in FIELDS}
    assert message.subject == "Quartalsbericht — Grüße aus Köln" and message.sender.name == "Zoë Müller"
    assert "Grüße, Zoë" in message.body_text and "<b>Bericht</b>" in message.body_html
    assert message.references == ["<q3-start@example.com>", "<q3-ask@example.com>"]

    assert [(a.filename, a.content_type, a.size, a.part_id) for a in message.attachments] == [
        ("Bericht Q3 – Köln.pdf", "application/pdf", len(PDF), "gmail:2:on-demand"),
        ("zahlen.csv", "text/csv", len(CSV), "gmail:3:on-demand")]
    assert [(a.filename, a.content_type, a.size) for a in original.attachments] == [
        (a.filename, a.content_type, a.size) for a in message.attachments]
    assert mail_store.raw_message(scope, message.id) == b""
    assert mail_store.threads(scope)[0].has_attachments
    assert [m.id for m in mail_store.search_messages(scope, "Quartalsbericht")] == [message.id]


def test_without_attachments_nothing_is_stored_as_source_and_the_text_is_as_from_the_source(
        workspace, google, server, account):  # noqa: F811
    raw = make_raw(3, subject="Grüße zum Wochenende")
    remote_id = server.add_message(raw)
    assert sync(workspace, server, account).errors == []
    scope, message = stored(workspace, account, email.message_from_bytes(raw)["Message-ID"])
    original = parse_message(raw, principal_id=account.principal_id, account_id=account.id, remote_id=remote_id)
    assert {f: getattr(message, f) for f in FIELDS} == {f: getattr(original, f) for f in FIELDS}
    assert message.attachments == [] and mail_store.raw_message(scope, message.id) == b""
    assert message.size == len(raw)  # Gmail's sizeEstimate, not the skeleton's


def test_parts_sent_inline_are_kept_whole_with_no_download(workspace, google, server, account):  # noqa: F811
    raw = invitation_without_a_file_name()
    server.add_message(raw)
    assert sync(workspace, server, account).errors == []
    scope, message = stored(workspace, account, "<invite-1@example.org>")
    assert [(a.content_type, is_placeholder(a)) for a in message.attachments] == [("text/calendar", False)]
    source = fetch_message_source(workspace, account.principal_id, message.id, server.connector(account))
    assert attachment_bytes(source, message.attachments[0].part_id).startswith(b"BEGIN:VCALENDAR")
    assert raw_gets(google) == []


def test_a_body_gmail_keeps_as_an_attachment_is_fetched_whole(workspace, google, server, account):  # noqa: F811
    google.max_inline_body = 40  # as Gmail does with a very large text part
    raw = make_raw(7, subject="A long letter")
    remote_id = server.add_message(raw)
    assert sync(workspace, server, account).errors == []
    scope, message = stored(workspace, account, email.message_from_bytes(raw)["Message-ID"])
    assert raw_gets(google) == [f"/gmail/v1/users/me/messages/{remote_id}"]
    original = parse_message(raw, principal_id=account.principal_id, account_id=account.id, remote_id=remote_id)
    assert message.body_text == original.body_text and "Body of message 7" in message.body_text
    assert mail_store.raw_message(scope, message.id) == raw


def test_first_save_downloads_once_and_stores_the_real_attachments(workspace, google, server, account):  # noqa: F811
    raw = report_with_attachments()
    server.add_message(raw)
    sync(workspace, server, account)
    scope, synced = stored(workspace, account, "<q3-report@example.de>")
    connector = server.connector(account)

    source = fetch_message_source(workspace, account.principal_id, synced.id, connector)
    assert source == raw and len(raw_gets(google)) == 1
    assert mail_store.raw_message(scope, synced.id) == raw
    message = mail_store.message(scope, synced.id)
    assert [(a.filename, a.part_id, is_placeholder(a)) for a in message.attachments] == [
        ("Bericht Q3 – Köln.pdf", "2", False), ("zahlen.csv", "3", False)]
    assert attachment_bytes(source, "2") == PDF and attachment_bytes(source, "3") == CSV
    assert (message.is_read, message.folders, message.thread_id) == (synced.is_read, synced.folders, synced.thread_id)

    assert fetch_message_source(workspace, account.principal_id, synced.id, connector) == raw
    assert len(raw_gets(google)) == 1
    assert sync(workspace, server, account).mail == {"added": 0, "updated": 0, "removed": 0}
    assert [a.part_id for a in mail_store.message(scope, synced.id).attachments] == ["2", "3"]

    # A label change brings the synced list back; the stored source is kept and gives the real list again.
    google.modify_message(synced.remote_id, add=["STARRED"])
    assert sync(workspace, server, account).mail["updated"] == 1
    assert [is_placeholder(a) for a in mail_store.message(scope, synced.id).attachments] == [True, True]
    assert mail_store.raw_message(scope, synced.id) == raw
    fetch_message_source(workspace, account.principal_id, synced.id, connector)
    assert len(raw_gets(google)) == 1
    assert [a.part_id for a in mail_store.message(scope, synced.id).attachments] == ["2", "3"]


@pytest.mark.parametrize("status", [503, 404])
def test_a_failed_download_is_one_line_and_changes_nothing(workspace, google, server, account, clock, status):  # noqa: F811
    server.add_message(report_with_attachments())
    sync(workspace, server, account)
    scope, synced = stored(workspace, account, "<q3-report@example.de>")
    google.inject(status, r"^GET /gmail/v1/users/me/messages/[0-9a-f]+$", count=10)
    with pytest.raises(UserError) as caught:
        fetch_message_source(workspace, account.principal_id, synced.id, server.connector(account))
    line = str(caught.value)
    assert line.startswith("could not download the message: ") and "\n" not in line and str(status) in line
    assert bool(clock.sleeps) == (status == 503)  # a server error is retried with backoff, a 404 is not
    assert mail_store.raw_message(scope, synced.id) == b""
    assert [(a.filename, is_placeholder(a)) for a in mail_store.message(scope, synced.id).attachments] == [
        ("Bericht Q3 – Köln.pdf", True), ("zahlen.csv", True)]


def shared_messages() -> list[Path]:
    return sorted(p for p in SHARED_MIME.rglob("*") if p.is_file())


def test_every_shared_test_message_reads_the_same_from_full_as_from_raw(workspace, google, server, account):  # noqa: F811
    """The payload Gmail sends (here header values as written) rebuilt and parsed gives what the source gives."""
    google.decode_headers = False
    connector = server.connector(account)
    files = shared_messages()
    assert len(files) > 50
    for path in files:
        raw = path.read_bytes()
        remote_id = google.add_message(raw)
        resource = google._resource(google.messages[remote_id], "full")
        message, _source = connector._to_message(resource)
        original = parse_message(raw, principal_id=account.principal_id, account_id=account.id, remote_id=remote_id)
        if original.date_utc is None:  # no Date header: both ways the connector takes Gmail's internalDate
            assert message.date_utc is not None
            original.date_utc = message.date_utc
        assert {f: getattr(message, f) for f in FIELDS if f != "parse_error"} == {
            f: getattr(original, f) for f in FIELDS if f != "parse_error"}, path.name
        assert [(a.filename, a.content_type) for a in message.attachments] == [
            (a.filename, a.content_type) for a in original.attachments], path.name
        assert [a.part_id.removeprefix("gmail:").removesuffix(":on-demand") for a in message.attachments] == [
            a.part_id for a in original.attachments], path.name
        # Sizes of attachments still on the server are Gmail's; of enclosed reports (message/*), as re-read.
        assert [a.size for a in message.attachments if not a.content_type.startswith("message/")] == [
            a.size for a in original.attachments if not a.content_type.startswith("message/")], path.name
