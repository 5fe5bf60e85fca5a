"""A full disk: one clear line, nothing of the failed step kept, nothing before it lost, and the next try completes.

SQLite's own SQLITE_FULL is produced for real by capping the database's size (``PRAGMA max_page_count``); a full disk
under a local account's Sent folder by the write failing with ENOSPC, as the OS reports it.
"""
from __future__ import annotations

import errno

import pytest

from assistant.cli import main as cli
from assistant.connectors import local as local_connector
from assistant.core.errors import DiskFull, disk_full
from assistant.store import Store
from assistant.sync import actions
from assistant.sync.engine import sync_account
from assistant.ui.workers import describe_error

UNCAPPED = 1073741823


def cap(store: Store, extra_pages: int) -> None:
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages + extra_pages}")


def test_a_full_disk_mid_sync_is_one_line_keeps_what_was_stored_and_the_next_sync_completes(local):
    import mailbox

    box = mailbox.Maildir(local.maildir, create=True)
    for n in range(300):
        box.add(f"From: Zoe Ng <zoe@example.org>\nTo: ada@example.com\nSubject: Figures {n}\n"
                f"Message-ID: <full-{n}@example.org>\nDate: Mon, 23 Nov 2026 09:00:00 +0000\n\n"
                + "Please review the attached figures before Friday.\n" * 60)
    cap(local.store, 40)
    report = sync_account(local.store, local.account.id)
    assert len(report.errors) == 1
    line = report.errors[0]
    assert line.startswith("mail: the disk is full: free some space") and "\n" not in line
    assert local.store.integrity_check() == "ok"
    kept = local.count()
    assert kept < 300  # the page that did not fit left nothing half-written behind

    local.store.db.execute(f"PRAGMA max_page_count = {UNCAPPED}")
    report = sync_account(local.store, local.account.id)
    assert report.errors == []
    assert local.count() == 300
    assert local.count("SELECT COUNT(DISTINCT remote_id) FROM messages WHERE account_id=?") == 300


def test_a_transaction_that_does_not_fit_rolls_back_whole(workspace):
    from assistant.domain import Principal

    cap(workspace, 2)
    with pytest.raises(DiskFull, match="^the disk is full"):
        with workspace.transaction():
            for i in range(200):
                workspace.add_principal(Principal(f"P{i} " + "x" * 2000, "UTC", [f"p{i}@example.com"]))
    assert workspace.principals() == []
    assert not workspace.db.in_transaction
    workspace.db.execute(f"PRAGMA max_page_count = {UNCAPPED}")
    workspace.add_principal(Principal("Ann", "UTC", ["ann@example.com"]))  # the store still works
    assert [p.name for p in workspace.principals()] == ["Ann"]


def test_a_send_that_finds_the_disk_full_waits_and_is_sent_once_later(local, monkeypatch):
    entry = actions.send_message(local.store, local.account.principal_id, local.account.id, to="bob@example.org",
                                 subject="Signed lease", body_text="Attached.")
    real_add = local_connector._MaildirStore.add

    def no_space(self, folder, raw, flags):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(local_connector._MaildirStore, "add", no_space)
    report = sync_account(local.store, local.account.id)
    assert [e for e in report.errors if e.startswith("send: the disk is full")]
    stored = local.store.outbox_entry(entry.id)
    assert stored.state == "pending" and stored.last_error.startswith("the disk is full")

    monkeypatch.setattr(local_connector._MaildirStore, "add", real_add)
    local.store.db.execute("UPDATE outbox SET next_attempt_utc=NULL WHERE id=?", (entry.id,))
    report = sync_account(local.store, local.account.id)
    assert local.store.outbox_entry(entry.id).state == "done"
    sent = list((local.maildir / ".Sent" / "cur").glob("*")) + list((local.maildir / ".Sent" / "new").glob("*"))
    assert len(sent) == 1


def test_the_command_line_says_so_in_one_line(tmp_path, capsys, monkeypatch):
    ws = tmp_path / "ws"
    assert cli.main(["--workspace", str(ws), "principal", "add", "Ann", "--email", "ann@example.com",
                     "--timezone", "America/New_York"]) == 0
    mbox = tmp_path / "big.mbox"
    with open(mbox, "w") as f:
        for i in range(200):
            f.write(f"From x@example.org Mon Nov 23 09:00:00 2026\nFrom: x@example.org\nSubject: item {i}\n"
                    f"Message-ID: <m{i}@example.org>\n\n" + "padding line of text\n" * 200 + "\n")
    real_init = Store.__init__

    def capped_init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        cap(self, 20)

    monkeypatch.setattr(Store, "__init__", capped_init)
    capsys.readouterr()
    code = cli.main(["--workspace", str(ws), "import", str(mbox), "--principal", "Ann"])
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert err.startswith("assistant: the disk is full: free some space") and "\n" not in err
    assert "Traceback" not in err


def test_disk_full_recognises_sqlite_and_the_os():
    import sqlite3

    from assistant.store.db import sqlite  # the workspace's driver: SQLCipher's build, its own exception classes

    assert disk_full(sqlite3.OperationalError("database or disk is full")) is not None
    assert disk_full(sqlite.OperationalError("database or disk is full")) is not None
    assert disk_full(sqlite.OperationalError("database is locked")) is None
    assert disk_full(OSError(errno.ENOSPC, "No space left on device"), "/home/ann/ws") is not None
    assert "/home/ann/ws" in str(disk_full(OSError(errno.EDQUOT, "Disk quota exceeded"), "/home/ann/ws"))
    assert disk_full(OSError(errno.EACCES, "Permission denied")) is None
    assert disk_full(sqlite3.OperationalError("database is locked")) is None
    assert describe_error(OSError(errno.ENOSPC, "No space left on device")).startswith("the disk is full")
