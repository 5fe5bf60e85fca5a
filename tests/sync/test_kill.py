"""A sync killed at any point loses nothing and sends nothing twice (SIGKILL: no cleanup code runs)."""
from __future__ import annotations

import mailbox
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.sync import actions
from assistant.sync.engine import sync_account

HELPER = Path(__file__).with_name("kill_helper.py")
REPO = Path(__file__).resolve().parents[2]
TOTAL = 23  # page size 5: five pages


def run_and_kill(local, mode: str, tmp_path: Path, k: int = 0) -> None:
    marker = tmp_path / f"marker-{mode}"
    child = subprocess.Popen(
        [sys.executable, str(HELPER), str(local.store.dir), str(local.account.id), mode, str(marker), str(k)],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            if child.poll() is not None:
                pytest.fail(f"the sync process ended before freezing: {child.stderr.read().decode()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail("the sync process never reached the freezing point")
            time.sleep(0.02)
        assert marker.read_text() == "frozen"
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stderr.close()


def assert_exactly_the_maildir(local) -> None:
    assert local.count() == TOTAL
    assert local.count("SELECT COUNT(DISTINCT message_id_header) FROM messages WHERE account_id=?") == TOTAL
    assert local.count("SELECT COUNT(*) FROM threads t WHERE EXISTS (SELECT 1 FROM messages m WHERE m.thread_id=t.id"
                       " AND m.account_id=?)") == TOTAL
    assert local.store.db.execute("SELECT COUNT(*) FROM messages_fts").fetchone()[0] == TOTAL
    assert local.store.integrity_check() == "ok"


@pytest.mark.parametrize("mode,k", [("pages", 3), ("mid-page", 2)])
def test_first_sync_killed_midway_loses_and_duplicates_nothing(local, tmp_path, mode, k):
    for n in range(TOTAL):
        local.add(n)
    run_and_kill(local, mode, tmp_path, k)
    partial = local.count()
    assert 0 < partial < TOTAL, partial  # killed midway: some pages landed, others not
    assert partial % 5 == 0  # whole pages only: the page being written when killed rolled back
    report = sync_account(local.store, local.account.id)
    assert report.errors == []
    assert report.mail["added"] == TOTAL - partial
    assert_exactly_the_maildir(local)
    again = sync_account(local.store, local.account.id)
    assert again.mail == {"added": 0, "updated": 0, "removed": 0}


def test_incremental_sync_killed_midway_keeps_pending_removals(local, tmp_path):
    for n in range(TOTAL):
        local.add(n)
    sync_account(local.store, local.account.id)
    box = mailbox.Maildir(local.maildir, create=False)
    gone = [key for key, msg in box.iteritems() if msg["Message-ID"] in ("<contract-1@example.org>",
                                                                        "<contract-2@example.org>")]
    for key in gone:
        box.remove(key)
    for n in range(100, 100 + 12):
        local.add(n)
    run_and_kill(local, "pages", tmp_path, k=2)
    assert TOTAL < local.count() < TOTAL + 12
    report = sync_account(local.store, local.account.id)
    assert report.errors == []
    assert report.mail["removed"] == 2  # the removal due on the last page was not forgotten by the resumed cursor
    assert local.count() == TOTAL - 2 + 12
    assert local.count("SELECT COUNT(DISTINCT remote_id) FROM messages WHERE account_id=?") == TOTAL - 2 + 12


def _sent_ids(local) -> list[str]:
    sent = local.maildir / ".Sent"
    return [m["Message-ID"] for m in mailbox.Maildir(sent, create=False)] if sent.exists() else []


@pytest.mark.parametrize("mode", ["send-before", "send-after"])
def test_kill_between_send_requested_and_confirmed_sends_once(local, tmp_path, mode):
    local.add(1)
    sync_account(local.store, local.account.id)
    entry = actions.send_message(local.store, local.account.principal_id, local.account.id, to="zoe@example.org",
                                 subject="Numbers", body_text="Attached.", in_reply_to="<contract-1@example.org>")
    message_id = entry.payload["message_id_header"]
    run_and_kill(local, mode, tmp_path)
    assert local.store.outbox_entry(entry.id).state == "in-flight"
    assert _sent_ids(local).count(message_id) == (1 if mode == "send-after" else 0)

    report = sync_account(local.store, local.account.id)
    assert report.errors == [] and report.outbox["sent"] == 1
    assert local.store.outbox_entry(entry.id).state == "done"
    assert _sent_ids(local).count(message_id) == 1
    rows = local.store.db.execute(
        "SELECT remote_id, folders FROM messages WHERE message_id_header=?", (message_id,)
    ).fetchall()
    assert len(rows) == 1 and rows[0]["folders"] == '["Sent"]'
    assert not rows[0]["remote_id"].startswith("outbox:")
    sync_account(local.store, local.account.id)
    assert _sent_ids(local).count(message_id) == 1
    assert local.count(f"SELECT COUNT(*) FROM messages WHERE account_id=? AND message_id_header='{message_id}'") == 1


def test_an_account_killed_mid_sync_does_not_stay_syncing(local, tmp_path):
    """Issue 15, point 5: the status said `syncing` until the next sync. While the sync lives it is `syncing`; once its
    process is gone the account shows its last outcome again, with a note that the last sync was interrupted."""
    from assistant.domain import AccountStatus
    from assistant.store import Store

    for n in range(TOTAL):
        local.add(n)
    sync_account(local.store, local.account.id)
    assert local.store.account(local.account.id).status is AccountStatus.OK
    for n in range(TOTAL, TOTAL + 12):  # new mail: the next pass has pages to freeze in
        local.add(n)
    marker = tmp_path / "marker-pages"
    child = subprocess.Popen(
        [sys.executable, str(HELPER), str(local.store.dir), str(local.account.id), "pages", str(marker), "1"],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None, child.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the sync process never reached the freezing point"
            time.sleep(0.02)
        assert marker.read_text() == "frozen"
        other = Store(local.store.dir)  # another process's view, as `assistant account list` has
        try:
            assert other.account(local.account.id).status is AccountStatus.SYNCING
        finally:
            other.close()
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stderr.close()
    after = Store(local.store.dir)
    try:
        account = after.account(local.account.id)
        assert account.status is AccountStatus.OK
        assert account.last_error == "the last sync was interrupted before it finished"
        assert [a.status for a in after.accounts()] == [AccountStatus.OK]
    finally:
        after.close()
    sync_account(local.store, local.account.id)
    account = local.store.account(local.account.id)
    assert (account.status, account.last_error) == (AccountStatus.OK, "")
