"""The lifecycle on the local connector with a real maildir: Drafts-folder channel, edits after approval, send-later."""
from __future__ import annotations

import mailbox
import shutil
from datetime import UTC, datetime, timedelta

import pytest

from assistant.approvals import drafts, lifecycle, policy
from assistant.approvals.schedule import parse_send_at
from assistant.core.errors import InvalidInput
from assistant.domain import ApprovalPolicy
from assistant.store import drafts as sql
from assistant.sync.engine import sync_account

UTC = UTC


def folder_files(maildir, name):
    box = mailbox.Maildir(maildir / f".{name}", create=False) if (maildir / f".{name}").exists() else None
    return [] if box is None else [box.get_message(k) for k in box.keys()]


def new(workspace, ann, local_account, **kw):
    fields = dict(to="bob@example.org", subject="Dinner", body_text="Dear Bob,\nSee you.\nAnn")
    fields.update(kw)
    return drafts.save_draft(workspace, ann.id, local_account.id, **fields)


def test_autosave_of_unchanged_content_adds_no_version(workspace, ann, local_account):
    d = new(workspace, ann, local_account)
    again = drafts.save_draft(workspace, ann.id, local_account.id, to="bob@example.org", subject="Dinner",
                              body_text="Dear Bob,\nSee you.\nAnn", draft_id=d.id)
    assert again.version == 1 and again.content_hash == d.content_hash
    assert [v["version"] for v in sql.versions(workspace.scope(ann.id), d.id)] == [1]


def test_edit_after_approval_needs_approval_again_and_keeps_the_approved_version(workspace, ann, local_account):
    d = new(workspace, ann, local_account)
    send_at = datetime.now(UTC) + timedelta(days=1)
    drafts.submit_draft(workspace, ann.id, d.id, send_at=send_at)
    assert lifecycle.approve_in_person(workspace, ann.id, d.id) == "scheduled"
    approved = drafts.get_draft(workspace, ann.id, d.id)
    assert approved.approved_hash == approved.content_hash

    edited = drafts.save_draft(workspace, ann.id, local_account.id, to="bob@example.org", subject="Dinner",
                               body_text="Dear Bob,\nSee you at 8.\nAnn", draft_id=d.id)
    assert edited.state == "revised" and edited.version == 2
    assert edited.approved_hash == approved.content_hash != edited.content_hash
    versions = sql.versions(workspace.scope(ann.id), d.id)
    assert [(v["version"], v["content_hash"]) for v in versions][0] == (1, approved.content_hash)
    assert versions[0]["body_text"] == "Dear Bob,\nSee you.\nAnn"
    revised = [h for h in lifecycle.history(workspace, ann.id, d.id) if h["action"] == "revised"]
    assert revised[0]["approval_invalidated"] is True
    assert drafts.submit_draft(workspace, ann.id, d.id) == "awaiting-approval"


def test_new_recipients_policy_asks_only_for_strangers_or_attachments(workspace, ann, local_account, tmp_path):
    ann.approval_policy = ApprovalPolicy.NEW_RECIPIENTS
    workspace.update_principal(ann)
    d = new(workspace, ann, local_account)
    assert policy.approval_reasons(workspace, d) == ["new recipient bob@example.org"]
    d.to, d.cc = [], []
    file = tmp_path / "agenda.pdf"
    file.write_bytes(b"%PDF")
    d2 = new(workspace, ann, local_account, to="ann@example.com", attachments=[str(file)])
    assert "it has attachments" in policy.approval_reasons(workspace, d2)
    d3 = new(workspace, ann, local_account, approval="never")
    assert policy.approval_reasons(workspace, d3) == []


def test_principal_sends_our_copy_from_their_drafts_folder(workspace, ann, local_account, maildir):
    d = new(workspace, ann, local_account)
    assert drafts.submit_draft(workspace, ann.id, d.id, channels=("drafts-folder",)) == "awaiting-approval"
    sync_account(workspace, local_account.id)
    copies = list((maildir / ".Drafts" / "cur").iterdir())
    assert len(copies) == 1
    # the principal opens the draft on their phone and sends it: it leaves Drafts and lands in Sent
    (maildir / ".Sent" / "cur").mkdir(parents=True, exist_ok=True)
    (maildir / ".Sent" / "maildirfolder").touch()
    for sub in ("new", "tmp"):
        (maildir / ".Sent" / sub).mkdir(exist_ok=True)
    shutil.move(copies[0], maildir / ".Sent" / "cur" / copies[0].name.split(":")[0])
    report = sync_account(workspace, local_account.id)
    assert report.errors == []
    d = drafts.get_draft(workspace, ann.id, d.id)
    assert d.state == "sent-by-principal"
    assert [h["action"] for h in lifecycle.history(workspace, ann.id, d.id)][-1] == "approved-and-sent-by-principal"
    sync_account(workspace, local_account.id)
    assert [m["To"] for m in folder_files(maildir, "Sent")].count("bob@example.org") == 1


def test_principal_deletes_our_copy_withdraws_the_draft(workspace, ann, local_account, maildir):
    d = new(workspace, ann, local_account)
    drafts.submit_draft(workspace, ann.id, d.id, channels=("drafts-folder", "email"))
    sync_account(workspace, local_account.id)
    for f in (maildir / ".Drafts" / "cur").iterdir():
        f.unlink()
    sync_account(workspace, local_account.id)
    assert drafts.get_draft(workspace, ann.id, d.id).state == "withdrawn"
    assert all(r.state != "open" for r in sql.requests_for(workspace.scope(ann.id), d.id))


def test_approval_elsewhere_removes_our_copy_from_their_drafts(workspace, ann, local_account, maildir):
    d = new(workspace, ann, local_account)
    drafts.submit_draft(workspace, ann.id, d.id, channels=("drafts-folder",))
    sync_account(workspace, local_account.id)
    assert len(list((maildir / ".Drafts" / "cur").iterdir())) == 1
    sql.save_settings(workspace.scope(ann.id), sql.ApprovalSettings(ann.id, undo_seconds=0))
    assert lifecycle.approve_in_person(workspace, ann.id, d.id) == "sending"
    sync_account(workspace, local_account.id)
    assert list((maildir / ".Drafts" / "cur").iterdir()) == []
    assert drafts.get_draft(workspace, ann.id, d.id).state == "sent"
    assert [m["To"] for m in folder_files(maildir, "Sent")].count("bob@example.org") == 1


def test_app_scheduled_send_goes_at_its_time_and_a_missed_time_waits_for_confirmation(workspace, ann, local_account,
                                                                                     maildir):
    ann.approval_policy = ApprovalPolicy.NEVER
    workspace.update_principal(ann)
    sql.save_settings(workspace.scope(ann.id), sql.ApprovalSettings(ann.id, undo_seconds=0))
    now = datetime.now(UTC)
    on_time = new(workspace, ann, local_account, subject="On time")
    late = new(workspace, ann, local_account, subject="Missed")
    assert drafts.submit_draft(workspace, ann.id, on_time.id, send_at=now + timedelta(hours=1)) == "scheduled"
    assert drafts.submit_draft(workspace, ann.id, late.id, send_at=now + timedelta(minutes=30)) == "scheduled"
    sync_account(workspace, local_account.id, now=now)
    assert folder_files(maildir, "Sent") == []
    # the app was closed; it comes back 61 minutes later: "On time" is 1 minute due, "Missed" 31 minutes late
    sync_account(workspace, local_account.id, now=now + timedelta(minutes=61))
    assert drafts.get_draft(workspace, ann.id, late.id).state == "needs-confirmation"
    assert drafts.get_draft(workspace, ann.id, on_time.id).state in ("sending", "sent")
    sync_account(workspace, local_account.id, now=now + timedelta(minutes=62))
    subjects = [m["Subject"] for m in folder_files(maildir, "Sent")]
    assert subjects == ["On time"]
    assert lifecycle.confirm_late_send(workspace, ann.id, late.id) == "sending"
    sync_account(workspace, local_account.id, now=now + timedelta(minutes=63))
    assert sorted(m["Subject"] for m in folder_files(maildir, "Sent")) == ["Missed", "On time"]


def test_undo_send_within_the_window_and_not_after(workspace, ann, local_account, maildir):
    ann.approval_policy = ApprovalPolicy.NEVER
    workspace.update_principal(ann)
    d = new(workspace, ann, local_account)
    now = datetime.now(UTC)
    assert drafts.submit_draft(workspace, ann.id, d.id) == "sending"
    sync_account(workspace, local_account.id, now=now)  # inside the 10-second window: nothing goes
    assert folder_files(maildir, "Sent") == []
    assert lifecycle.undo_send(workspace, ann.id, d.id)
    assert drafts.get_draft(workspace, ann.id, d.id).state == "approved"
    assert drafts.submit_draft(workspace, ann.id, d.id) == "sending"
    sync_account(workspace, local_account.id, now=now + timedelta(seconds=30))
    assert not lifecycle.undo_send(workspace, ann.id, d.id)
    assert drafts.get_draft(workspace, ann.id, d.id).state == "sent"
    with pytest.raises(InvalidInput):
        drafts.save_draft(workspace, ann.id, local_account.id, to="bob@example.org", subject="x", body_text="y",
                          draft_id=d.id)


@pytest.mark.parametrize(("text", "zone", "expected"), [
    ("tomorrow 9:00", "America/New_York", "2026-03-08T13:00:00+00:00"),  # the day clocks spring forward: EDT
    ("tomorrow 2:30", "America/New_York", "2026-03-08T07:30:00+00:00"),  # 02:30 does not exist: moved to 03:30 EDT
    ("today 17:00", "Asia/Tokyo", "2026-03-08T08:00:00+00:00"),  # it is already the 8th in Tokyo
    ("tomorrow 9am", "Australia/Lord_Howe", "2026-03-08T22:00:00+00:00"),  # +11 (30-minute DST), the 9th there
    ("in 2 hours", "UTC", "2026-03-07T17:00:00+00:00"),
])
def test_send_later_times_read_in_the_chosen_zone(text, zone, expected):
    now = datetime(2026, 3, 7, 15, 0, tzinfo=UTC)
    assert parse_send_at(text, zone, now).isoformat() == expected


def test_running_app_sends_due_messages_without_a_full_sync_being_asked(workspace, ann, local_account, maildir):
    from assistant.approvals.channels import send_due

    ann.approval_policy = ApprovalPolicy.NEVER
    workspace.update_principal(ann)
    now = datetime.now(UTC)
    later = new(workspace, ann, local_account, subject="At ten")
    right_away = new(workspace, ann, local_account, subject="Now")
    drafts.submit_draft(workspace, ann.id, later.id, send_at=now + timedelta(minutes=10))
    drafts.submit_draft(workspace, ann.id, right_away.id, now=now)
    assert send_due(workspace, now) == []  # "Now" is inside its undo window, "At ten" not due
    assert send_due(workspace, now + timedelta(seconds=11)) == [local_account.id]
    assert [m["Subject"] for m in folder_files(maildir, "Sent")] == ["Now"]
    assert send_due(workspace, now + timedelta(minutes=10, seconds=5)) == [local_account.id]
    assert sorted(m["Subject"] for m in folder_files(maildir, "Sent")) == ["At ten", "Now"]
    assert send_due(workspace, now + timedelta(minutes=11)) == []
    assert drafts.get_draft(workspace, ann.id, later.id).state == "sent"


def test_cancel_send_keeps_the_draft_approved_and_nothing_goes(workspace, ann, local_account, maildir):
    ann.approval_policy = ApprovalPolicy.NEVER
    workspace.update_principal(ann)
    now = datetime.now(UTC)
    scheduled = new(workspace, ann, local_account, subject="At ten")
    queued = new(workspace, ann, local_account, subject="Now")
    assert drafts.submit_draft(workspace, ann.id, scheduled.id, send_at=now + timedelta(minutes=10)) == "scheduled"
    assert drafts.submit_draft(workspace, ann.id, queued.id, now=now) == "sending"
    assert lifecycle.cancel_send(workspace, ann.id, scheduled.id) == "approved"
    assert lifecycle.cancel_send(workspace, ann.id, queued.id) == "approved"
    kept = drafts.get_draft(workspace, ann.id, scheduled.id)
    assert kept.send_at_utc is None and kept.approved_hash == kept.content_hash
    assert [h["action"] for h in lifecycle.history(workspace, ann.id, scheduled.id)][-1] == "send-cancelled"
    sync_account(workspace, local_account.id, now=now + timedelta(minutes=11))
    assert folder_files(maildir, "Sent") == []
    with pytest.raises(InvalidInput):  # nothing left to cancel
        lifecycle.cancel_send(workspace, ann.id, scheduled.id)
    # still approved: sent again without asking, through its undo window
    assert drafts.submit_draft(workspace, ann.id, scheduled.id) == "sending"
