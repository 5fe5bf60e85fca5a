"""The local connector against the shared contract, once over a maildir and once over an mbox, plus what only it does."""
from __future__ import annotations

import email
import email.policy
import mailbox
from pathlib import Path

import pytest

from assistant.connectors import load
from assistant.connectors.local import LocalConnector
from assistant.domain import Account
from tests.connectors.contract import ConnectorContract, ServerHandle, make_raw


class MaildirServer(ServerHandle):
    kind = "local"

    def __init__(self, root: Path):
        self.root = root
        self.box = mailbox.Maildir(root, create=True)

    def settings(self):
        return {"maildir": str(self.root)}

    def connector(self, account: Account) -> LocalConnector:
        return LocalConnector(account, page_size=2)

    def _key(self, box: mailbox.Maildir, message_id: str) -> str:
        for key, msg in box.iteritems():
            if msg["Message-ID"] == message_id:
                return key
        raise KeyError(message_id)

    def add_message(self, raw):
        self.box.add(raw)

    def remove_message(self, message_id_header):
        self.box.remove(self._key(self.box, message_id_header))

    def set_flags(self, message_id_header, *, read=None, flagged=None):
        key = self._key(self.box, message_id_header)
        msg = self.box[key]
        msg.set_subdir("cur")
        if read:
            msg.add_flag("S")
        if flagged:
            msg.add_flag("F")
        self.box[key] = msg

    def flags(self, message_id_header):
        box = mailbox.Maildir(self.root, create=False)  # a fresh view: the file was renamed behind our back
        flags = box[self._key(box, message_id_header)].get_flags()
        return {"read": "S" in flags, "flagged": "F" in flags}

    def sent_message_ids(self):
        sent = self.root / ".Sent"
        if not sent.exists():
            return []
        return [m["Message-ID"] for m in mailbox.Maildir(sent, create=False)]


class MboxServer(ServerHandle):
    kind = "local"

    def __init__(self, path: Path):
        self.path = path
        mailbox.mbox(path, create=True).close()

    def settings(self):
        return {"mbox": str(self.path)}

    def connector(self, account: Account) -> LocalConnector:
        return LocalConnector(account, page_size=2)

    def _edit(self, change):
        box = mailbox.mbox(self.path, create=False)
        box.lock()
        try:
            change(box)
            box.flush()
        finally:
            box.unlock()
            box.close()

    def _key(self, box, message_id):
        return next(k for k, m in box.iteritems() if m["Message-ID"] == message_id)

    def add_message(self, raw):
        self._edit(lambda box: box.add(raw))

    def remove_message(self, message_id_header):
        self._edit(lambda box: box.remove(self._key(box, message_id_header)))

    def set_flags(self, message_id_header, *, read=None, flagged=None):
        def change(box):
            key = self._key(box, message_id_header)
            msg = box[key]
            if read:
                msg.add_flag("RO")
            if flagged:
                msg.add_flag("F")
            box[key] = msg
        self._edit(change)

    def flags(self, message_id_header):
        box = mailbox.mbox(self.path, create=False)
        try:
            flags = box[self._key(box, message_id_header)].get_flags()
        finally:
            box.close()
        return {"read": "R" in flags, "flagged": "F" in flags}

    def sent_message_ids(self):
        sent = self.path.with_name("Sent.mbox")
        if not sent.exists():
            return []
        box = mailbox.mbox(sent, create=False)
        try:
            return [m["Message-ID"] for m in box]
        finally:
            box.close()


class TestLocalMaildirContract(ConnectorContract):
    @pytest.fixture
    def server(self, tmp_path):
        return MaildirServer(tmp_path / "Maildir")


class TestLocalMboxContract(ConnectorContract):
    @pytest.fixture
    def server(self, tmp_path):
        return MboxServer(tmp_path / "inbox.mbox")


# -- what only the local connector does ------------------------------------------------------------------------------
def test_registered_through_entry_point():
    assert load("local") is LocalConnector


def _account(settings, account_id=1):
    return Account(principal_id=1, kind="local", address="p@example.com", settings=settings, id=account_id)


def test_maildir_flag_rename_is_an_update_not_add_and_remove(tmp_path):
    box = mailbox.Maildir(tmp_path / "md", create=True)
    key = box.add(make_raw(1))
    connector = LocalConnector(_account({"maildir": str(tmp_path / "md")}))
    first = list(connector.mail_changes(None))
    cursor = first[-1].cursor
    old = next((tmp_path / "md" / "new").iterdir())
    old.rename(tmp_path / "md" / "cur" / f"{key}:2,FS")
    pages = list(connector.mail_changes(cursor))
    assert [m.remote_id for p in pages for m, _ in p.upserted] == [key]
    assert not any(p.removed for p in pages)
    message = pages[0].upserted[0][0]
    assert message.is_read and message.is_flagged


def test_maildir_plus_plus_folders_have_roles(tmp_path):
    root = tmp_path / "md"
    box = mailbox.Maildir(root, create=True)
    for name in ("Sent", "Drafts", "Archive", "Trash", "Clients.Acme"):
        box.add_folder(name).add(make_raw(len(name), subject=f"in {name}"))
    box.add(make_raw(0))
    pages = list(LocalConnector(_account({"maildir": str(root)})).mail_changes(None))
    roles = {f.remote_id: f.role for f in pages[0].folders}
    assert roles == {"INBOX": "inbox", "Sent": "sent", "Drafts": "drafts", "Archive": "archive", "Trash": "trash",
                     "Clients.Acme": ""}
    in_folder = {m.subject: m.folders for p in pages for m, _ in p.upserted}
    assert in_folder["in Clients.Acme"] == ["Clients.Acme"]
    assert in_folder["Quarterly numbers, part 0"] == ["INBOX"]


def test_interrupted_listing_resumes_from_the_page_cursor(tmp_path):
    box = mailbox.Maildir(tmp_path / "md", create=True)
    for n in range(7):
        box.add(make_raw(n))
    connector = LocalConnector(_account({"maildir": str(tmp_path / "md")}), page_size=3)
    pages = connector.mail_changes(None)
    first = next(pages)
    assert len(first.upserted) == 3 and first.full
    resumed = list(connector.mail_changes(first.cursor))
    assert sum(len(p.upserted) for p in resumed) == 4  # only what the first page did not deliver
    assert resumed[0].full and len(resumed[0].seen) == 7  # still a full listing: removals are still decided


def test_unreadable_message_is_kept_with_its_reason(tmp_path):
    box = mailbox.Maildir(tmp_path / "md", create=True)
    testdata = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata" / "mime"
    samples = sorted((testdata / "cpython_test_email").glob("msg_*.txt")) + sorted((testdata / "flanker").rglob("*.eml"))
    assert samples
    for sample in samples:
        box.add(sample.read_bytes())
    pages = list(LocalConnector(_account({"maildir": str(tmp_path / "md")})).mail_changes(None))
    assert sum(len(p.upserted) for p in pages) == len(samples)


def test_missing_maildir_is_a_clear_error(tmp_path):
    from assistant.core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="not a maildir"):
        list(LocalConnector(_account({"maildir": str(tmp_path / "nowhere")})).mail_changes(None))


def test_sent_mbox_append_is_atomic_and_idempotent(tmp_path):
    import base64

    from assistant.domain import OutboxEntry

    inbox = tmp_path / "inbox.mbox"
    mailbox.mbox(inbox, create=True).close()
    connector = LocalConnector(_account({"mbox": str(inbox)}))
    raw = make_raw(7, subject="Sent from mbox")
    entry = OutboxEntry(1, 1, "send", {"raw": base64.b64encode(raw).decode(), "message_id_header": "<contract-7@example.org>"},
                        "k1")
    connector.apply(entry)
    connector.apply(entry)
    sent = mailbox.mbox(tmp_path / "Sent.mbox", create=False)
    try:
        assert [m["Subject"] for m in sent] == ["Sent from mbox"]
        assert "R" in sent[0].get_flags()
        parsed = email.message_from_bytes(sent.get_bytes(0), policy=email.policy.default)
    finally:
        sent.close()
    assert not list(tmp_path.glob(".tmp-*"))
    assert parsed.get_content().startswith("Body of message 7")


def test_real_world_mbox_syncs_every_message(tmp_path, workspace):
    from assistant.domain import Principal
    from assistant.sync.engine import sync_account

    source = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata" / "mime" / "cpython_test_email" / "mailbox_01.mbox"
    copy = tmp_path / "archive.mbox"
    copy.write_bytes(source.read_bytes())
    box = mailbox.mbox(copy, create=False)
    expected = len(box)
    box.close()
    principal = workspace.add_principal(Principal("Kenji", "Asia/Tokyo", ["kenji@example.jp"]))
    account = workspace.add_account(Account(principal.id, "local", "kenji@example.jp", {"mbox": str(copy)}))
    report = sync_account(workspace, account.id)
    assert report.errors == [] and report.mail["added"] == expected > 0
    assert sync_account(workspace, account.id).mail == {"added": 0, "updated": 0, "removed": 0}


def test_message_renamed_by_a_mail_client_during_the_sync_arrives_next_time(tmp_path):
    root = tmp_path / "md"
    box = mailbox.Maildir(root, create=True)
    keys = [box.add(make_raw(n)) for n in range(4)]
    connector = LocalConnector(_account({"maildir": str(root)}), page_size=2)
    pages = connector.mail_changes(None)
    first = next(pages)
    late = next(k for k in keys if k not in {m.remote_id for m, _ in first.upserted})
    path = root / "new" / late
    path.rename(root / "cur" / f"{late}:2,S")  # the MUA marks it read between our listing and its page
    rest = list(pages)
    delivered = [m.remote_id for p in [first, *rest] for m, _ in p.upserted]
    assert late not in delivered and len(delivered) == 3
    again = list(connector.mail_changes(rest[-1].cursor))
    assert [(m.remote_id, m.is_read) for p in again for m, _ in p.upserted] == [(late, True)]


@pytest.mark.parametrize("kind", ["maildir", "mbox"])
def test_drafts_are_saved_replaced_and_deleted_idempotently(tmp_path, kind):
    import base64

    from assistant.domain import OutboxEntry

    if kind == "maildir":
        mailbox.Maildir(tmp_path / "md", create=True)
        settings = {"maildir": str(tmp_path / "md")}
    else:
        mailbox.mbox(tmp_path / "in.mbox", create=True).close()
        settings = {"mbox": str(tmp_path / "in.mbox")}
    connector = LocalConnector(_account(settings))

    def save(version: int, draft_remote_id=None):
        raw = make_raw(9, subject=f"Draft v{version}")
        payload = {"raw": base64.b64encode(raw).decode(), "message_id_header": "<contract-9@example.org>"}
        if draft_remote_id:
            payload["draft_remote_id"] = draft_remote_id
        return connector.apply(OutboxEntry(1, 1, "save-draft", payload, f"draft-{version}"))["draft_remote_id"]

    def drafts():
        pages = list(LocalConnector(_account(settings)).mail_changes(None))
        return [(m.subject, m.folders) for p in pages for m, _ in p.upserted]

    first = save(1)
    assert save(1) == first  # the same entry again
    assert drafts() == [("Draft v1", ["Drafts"])]
    second = save(2, draft_remote_id=first)
    assert drafts() == [("Draft v2", ["Drafts"])]
    delete = OutboxEntry(1, 1, "delete-draft", {"draft_remote_id": second}, "draft-delete")
    connector.apply(delete)
    connector.apply(delete)
    assert drafts() == []


@pytest.mark.parametrize("kind", ["maildir", "mbox"])
def test_a_full_disk_under_the_sent_folder_names_its_drive_and_leaves_no_file_behind(tmp_path, workspace, monkeypatch,
                                                                                        kind):
    """Reported: the error named the workspace's drive, and each try left an empty file in ``.Sent/tmp/``. The disk
    fills as the copy is committed (``fsync`` says ENOSPC, as the OS does when it cannot place the data)."""
    import errno
    import os

    from assistant.domain import Principal
    from assistant.sync import actions
    from assistant.sync.engine import sync_account

    mail = tmp_path / "mail"
    if kind == "maildir":
        mailbox.Maildir(mail, create=True)
        settings = {"maildir": str(mail)}
    else:
        mail.mkdir()
        mailbox.mbox(mail / "inbox.mbox", create=True).close()
        settings = {"mbox": str(mail / "inbox.mbox")}
    principal = workspace.add_principal(Principal("Ada Obi", "Africa/Lagos", ["ada@example.com"]))
    account = workspace.add_account(Account(principal.id, "local", "ada@example.com", settings))
    assert sync_account(workspace, account.id).errors == []
    before = sorted(p.relative_to(mail) for p in mail.rglob("*"))
    entry = actions.send_message(workspace, principal.id, account.id, to="bob@example.org", subject="Signed lease",
                                 body_text="Attached.")

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(os, "fsync", no_space)
        report = sync_account(workspace, account.id)
    (line,) = [e for e in report.errors if e.startswith("send: the disk is full")]
    assert f"on the drive of {mail}" in line and str(workspace.dir) not in line
    assert workspace.outbox_entry(entry.id).state == "pending"
    empty = [p for p in mail.rglob("*") if p.is_file() and p.stat().st_size == 0 and p.name != "maildirfolder"]
    assert empty == ([] if kind == "maildir" else [mail / "inbox.mbox"])  # the inbox was empty to start with
    assert not [p for p in mail.rglob("*") if p.parent.name == "tmp" or p.name.startswith(".tmp-")]
    if kind == "mbox":
        assert sorted(p.relative_to(mail) for p in mail.rglob("*")) == before

    workspace.db.execute("UPDATE outbox SET next_attempt_utc=NULL WHERE id=?", (entry.id,))
    assert sync_account(workspace, account.id).errors == []
    assert workspace.outbox_entry(entry.id).state == "done"
    pages = list(LocalConnector(account).mail_changes(None))
    assert [m.subject for p in pages for m, _ in p.upserted if m.folders == ["Sent"]] == ["Signed lease"]
