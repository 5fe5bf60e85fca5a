from __future__ import annotations

import json
import mailbox
from pathlib import Path

import pytest

from assistant.calendar.ics import read_calendar
from assistant.core.errors import NotFound, UserError
from assistant.domain import Principal
from assistant.importing import mail as importer
from assistant.importing import path as path_importer
from assistant.importing.base import IMPORT_ACCOUNT_KIND, ImportReport, sniff
from assistant.importing.path import import_path
from assistant.store import calendar as calendar_store
from assistant.store import mail as mail_store

TESTDATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata"


@pytest.fixture
def principal(workspace):
    return workspace.add_principal(Principal(name="Ada", timezone="Europe/London"))


def message(subject: str, msgid: str | None = None, extra: str = "") -> bytes:
    head = f"From: Bob <bob@example.com>\nTo: ada@example.com\nSubject: {subject}\nDate: Mon, 2 Mar 2026 10:00:00 +0000\n"
    if msgid:
        head += f"Message-ID: {msgid}\n"
    return (head + extra + "\nHello about " + subject + "\n").encode()


def test_the_account_kind_is_import():
    assert IMPORT_ACCOUNT_KIND == "import"


def test_import_the_real_world_mime_tree_twice(workspace, principal):
    root = TESTDATA / "mime"
    report = import_path(workspace, principal.id, root)
    assert report.imported > 60
    # Every file there holds one message (the mbox ones included: mailbox_01.mbox has an unquoted "From time to
    # time" in its body that must not split it).
    files = [p for p in root.rglob("*") if p.is_file()]
    assert report.imported + report.skipped + len(report.rejected) == len(files)
    assert report.rejected == [("cpython_test_email/msg_19.txt", "not a mail message, mbox or iCalendar file")]
    assert all("\n" not in reason for _, reason in report.rejected)
    scope = workspace.scope(principal.id)
    assert mail_store.message_count(scope) == report.imported
    (account,) = workspace.accounts(principal.id)
    assert (account.kind, account.address) == ("import", "imported")
    assert mail_store.search_messages(scope, "Zypernsonne")  # an RFC 2047 subject is searchable

    again = import_path(workspace, principal.id, root)
    assert again.imported == 0
    assert again.skipped == report.imported + report.skipped
    assert again.rejected == report.rejected
    assert mail_store.message_count(scope) == report.imported
    assert len(workspace.accounts(principal.id)) == 1


def test_import_the_real_world_ics_tree_twice(workspace, principal):
    root = TESTDATA / "ics"
    report = import_path(workspace, principal.id, root)
    assert report.kind == "ics"
    expected = 0
    for path in sorted(root.rglob("*.ics")):
        if not sniff(path.read_bytes()[:8192]):
            expected += 1  # rejected whole
            continue
        events, _, rejections = read_calendar(path.read_bytes(), principal_id=principal.id, account_id=1)
        expected += len(events) + len(rejections)
    assert report.imported > 80
    assert report.imported + report.skipped + len(report.rejected) == expected
    assert any("CUSTOM_tzid" in text for _, text in report.warnings)
    assert len(calendar_store.events(workspace.scope(principal.id))) == report.imported

    again = import_path(workspace, principal.id, root)
    assert again.imported == 0 and again.skipped == report.imported + report.skipped


def test_missing_path_is_a_user_error(workspace, principal, tmp_path):
    with pytest.raises(NotFound) as err:
        import_path(workspace, principal.id, tmp_path / "nope")
    assert "does not exist" in str(err.value) and "\n" not in str(err.value)


def test_garbage_file_is_a_user_error(workspace, principal, tmp_path):
    junk = tmp_path / "junk.eml"
    junk.write_bytes(bytes(range(256)) * 20)
    with pytest.raises(UserError) as err:
        import_path(workspace, principal.id, junk)
    assert "not a mail message" in str(err.value) and "\n" not in str(err.value)
    assert mail_store.message_count(workspace.scope(principal.id)) == 0


def test_empty_folder_is_a_user_error(workspace, principal, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError):
        import_path(workspace, principal.id, tmp_path / "empty")


def test_mbox(workspace, principal, tmp_path):
    path = tmp_path / "Archive 2025"  # no extension: the content decides
    box = mailbox.mbox(path)
    box.add(mailbox.mboxMessage(message("first", "<1@example.com>", "Status: RO\n")))
    box.add(mailbox.mboxMessage(message("second")))
    box.add(mailbox.mboxMessage(message("third", "< 3@example.com >")))
    box.close()
    report = import_path(workspace, principal.id, path)
    assert (report.kind, report.imported, report.skipped, report.rejected) == ("mbox", 3, 0, [])
    scope = workspace.scope(principal.id)
    threads = mail_store.threads(scope)
    messages = {m.subject: m for t in threads for m in mail_store.thread_messages(scope, t.id)}
    assert set(messages) == {"first", "second", "third"}
    assert messages["first"].is_read and not messages["second"].is_read
    assert messages["first"].remote_id == "<1@example.com>"
    assert messages["second"].remote_id.startswith("sha256:")
    assert messages["third"].folders == ["Archive 2025"]
    assert json.loads(json.dumps(report.to_json()))["imported"] == 3
    assert import_path(workspace, principal.id, path).skipped == 3


def test_mbox_split_respects_from_quoting(workspace, principal, tmp_path):
    path = tmp_path / "box"
    path.write_bytes(
        b"From a@x Mon Mar  2 10:00:00 2026\nSubject: one\nMessage-ID: <one@x>\n\nbody\n\n>From the start\n\n"
        b"From time to time\n\n"
        b"From b@x Mon Mar  2 11:00:00 2026\nSubject: two\n\nsecond\n"
    )
    report = import_path(workspace, principal.id, path)
    assert report.imported == 2
    first = mail_store.message_by_header_id(workspace.scope(principal.id), "<one@x>")
    assert first.body_text == "body\n\nFrom the start\n\nFrom time to time\n"


def test_maildir_with_maildirplusplus_subfolders(workspace, principal, tmp_path):
    root = tmp_path / "Mail"
    box = mailbox.Maildir(root)
    seen = mailbox.MaildirMessage(message("read one", "<r@x>"))
    seen.set_subdir("cur")
    seen.set_flags("SF")
    box.add(seen)
    box.add(mailbox.MaildirMessage(message("new one")))
    sent = box.add_folder("Sent")
    sent.add(mailbox.MaildirMessage(message("sent one", "<s@x>")))
    assert (root / ".Sent" / "cur").is_dir()
    report = import_path(workspace, principal.id, root)
    assert (report.kind, report.imported, report.rejected) == ("maildir", 3, [])
    scope = workspace.scope(principal.id)
    by_subject = {m.subject: m for t in mail_store.threads(scope) for m in mail_store.thread_messages(scope, t.id)}
    assert by_subject["read one"].is_read and by_subject["read one"].is_flagged
    assert not by_subject["new one"].is_read
    assert by_subject["sent one"].folders == ["Sent"] and by_subject["new one"].folders == ["INBOX"]
    roles = {f.remote_id: f.role for f in mail_store.folders(scope)}
    assert roles == {"INBOX": "inbox", "Sent": "sent"}
    again = import_path(workspace, principal.id, root)
    assert (again.imported, again.skipped) == (0, 3)


def test_mixed_folder_detects_by_content_and_rejects_the_rest(workspace, principal, tmp_path):
    tmp_path = tmp_path / "in"
    tmp_path.mkdir()
    (tmp_path / "a.eml").write_bytes(message("a", "<a@x>"))
    (tmp_path / "looks-like-calendar.ics").write_bytes(message("b"))
    (tmp_path / "calendar.txt").write_bytes(
        b"\xef\xbb\xbfBEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:e1\r\n"
        b"DTSTART:20260302T100000Z\r\nSUMMARY:Dentist\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    (tmp_path / "notes.txt").write_text("shopping list: eggs\n")
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x00")
    report = import_path(workspace, principal.id, tmp_path)
    assert report.kind == "mixed"
    assert report.imported == 3
    assert report.rejected == [("notes.txt", "not a mail message, mbox or iCalendar file")]
    scope = workspace.scope(principal.id)
    assert [e.summary for e in calendar_store.events(scope)] == ["Dentist"]
    assert mail_store.message_count(scope) == 2


def test_batches_commit_as_they_go(workspace, principal, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "BATCH_SIZE", 2)
    tmp_path = tmp_path / "in"
    tmp_path.mkdir()
    for i in range(5):
        (tmp_path / f"{i}.eml").write_bytes(message(f"m{i}", f"<{i}@x>"))
    report = import_path(workspace, principal.id, tmp_path)
    assert report.imported == 5
    assert mail_store.message_count(workspace.scope(principal.id)) == 5
    assert workspace._depth == 0  # no transaction left open


def test_report_json_shape():
    report = ImportReport(kind="eml", imported=1, skipped=2, rejected=[("x.eml", "bad")])
    assert report.to_json() == {
        "kind": "eml", "imported": 1, "skipped": 2, "rejected": [{"item": "x.eml", "reason": "bad"}], "warnings": [],
    }


def test_unreadable_path_is_a_user_error(workspace, principal, tmp_path, monkeypatch):
    path = tmp_path / "secret.eml"
    path.write_bytes(message("x", "<x@x>"))
    monkeypatch.setattr(path_importer.os, "access", lambda p, mode: False)  # tests may run as root, where chmod is moot
    with pytest.raises(UserError) as err:
        import_path(workspace, principal.id, path)
    assert "cannot read" in str(err.value)


def test_unreadable_file_inside_a_folder_is_rejected_and_the_rest_imported(workspace, principal, tmp_path, monkeypatch):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.eml").write_bytes(message("good", "<g@x>"))
    (folder / "locked.eml").write_bytes(message("locked", "<l@x>"))
    (folder / "dangling.eml").symlink_to(tmp_path / "gone.eml")
    real_read_head = importer.read_head

    def read_head(path):
        if path.name == "locked.eml":
            raise PermissionError(13, "Permission denied")
        return real_read_head(path)

    monkeypatch.setattr(importer, "read_head", read_head)
    report = import_path(workspace, principal.id, folder)
    assert report.imported == 1
    assert sorted(report.rejected) == [
        ("dangling.eml", "a link to a file that is not there"),
        ("locked.eml", "cannot read it (Permission denied)"),
    ]


def test_a_csv_in_an_unknown_layout_is_told_how_to_map_it(workspace, principal, tmp_path):
    export = tmp_path / "phone-system.csv"
    export.write_text("Extension,Party,When,Seconds\n201,+2348031234567,2026-11-20 09:15,64\n")
    with pytest.raises(UserError) as caught:
        import_path(workspace, principal.id, export)
    line = str(caught.value)
    assert "\n" not in line and "layout we do not know" in line
    assert "columns: Extension, Party, When, Seconds" in line and "--map start=COLUMN,number=COLUMN" in line


@pytest.mark.parametrize("text,imported,rejections", [
    # Cut inside an event: the whole ones before it are kept, the cut one is named.
    ("BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:w1\nDTSTART:20260105T100000Z\nDTEND:20260105T110000Z\n"
     "SUMMARY:Whole one\nEND:VEVENT\nBEGIN:VEVENT\nUID:c1\nDTSTART:20260106T100000Z\nSUMMARY:Board call\n",
     ["Whole one"], ["vevent 'Board call' skipped: the file is cut short (no END line)"]),
    # Only END:VCALENDAR missing: every event is whole, nothing to say.
    ("BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:w2\nDTSTART:20260105T100000Z\nSUMMARY:Standup\nEND:VEVENT\n",
     ["Standup"], []),
    # Cut in the first event: nothing whole, one line.
    ("BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:c2\nDTSTART:20260101T100000Z\nSUMMARY:Lunch\n",
     [], ["vevent 'Lunch' skipped: the file is cut short (no END line)"]),
])
def test_a_calendar_cut_short_keeps_its_whole_events_and_names_the_cut_one(text, imported, rejections):
    events, warnings, rejected = read_calendar(text.encode(), principal_id=1, account_id=1)
    assert [e.summary for e in events] == imported
    assert rejected == rejections and warnings == []


def _deep(depth: int) -> bytes:
    levels = "".join(f"Subject: level {i}\nContent-Type: message/rfc822\n\n" for i in range(depth))
    return ("From: Ann Lee <ann@example.com>\nTo: ada@example.com\nSubject: Deep one\nMessage-ID: <deep@example.com>\n"
            "MIME-Version: 1.0\nContent-Type: message/rfc822\n\n" + levels + "Subject: bottom\n\nbottom text\n").encode()


def test_import_warns_where_sync_does_for_the_same_messages(workspace, principal, tmp_path):
    """Reported: `sync` warned about a message whose Subject was cut (a real 210 KB header) and `import` of the same
    file said nothing; and a message nested 1,000 levels deep was stored with an empty Subject and From."""
    from assistant.domain import Account
    from assistant.sync.engine import sync_account

    maildir = tmp_path / "Maildir"
    box = mailbox.Maildir(maildir, create=True)
    keys = {box.add((TESTDATA / "mime" / "flanker" / "long-header.eml").read_bytes()): "long",
            box.add(_deep(1_000)): "deep", box.add(message("plain", "<plain@x>")): "plain"}
    kenji = workspace.add_principal(Principal(name="Kenji", timezone="Asia/Tokyo"))
    account = workspace.add_account(Account(kenji.id, "local", "kenji@example.jp", {"maildir": str(maildir)}))
    synced = sync_account(workspace, account.id)
    by_sync = {keys[w.split(": ", 1)[0].removeprefix("message ")]: w.split(": ", 1)[1] for w in synced.warnings}
    assert set(by_sync) == {"long", "deep"}

    report = import_path(workspace, principal.id, maildir)
    assert report.imported == 3
    by_import = {keys[item.removeprefix("new/")]: text for item, text in report.warnings}
    assert by_import == by_sync
    assert by_import["long"] == "Subject header too long, cut"
    rows = workspace.db.execute("SELECT subject, sender_email FROM messages WHERE principal_id=? AND"
                                " message_id_header='<deep@example.com>'", (principal.id,)).fetchall()
    assert [tuple(r) for r in rows] == [("Deep one", "ann@example.com")]
    assert import_path(workspace, principal.id, maildir).warnings == []  # said once, when it was imported
