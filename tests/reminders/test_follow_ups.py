"""Follow-ups are cancelled by a reply arriving through a real local-connector sync, and only by a reply."""
from __future__ import annotations

import mailbox
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from assistant import reminders
from assistant.store import audit as audit_store
from assistant.store import mail as mail_store
from assistant.store import reminders as rstore
from assistant.sync.engine import sync_account

UTC = UTC
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def _mail(sender: str, subject: str, message_id: str, in_reply_to: str = "", to: str = "ann@example.com") -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = "Mon, 02 Mar 2026 09:00:00 -0500"
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg.set_content("Hello.\n")
    return msg.as_bytes()


def _sent_and_followed(workspace, ann, ann_local, maildir):
    box = mailbox.Maildir(maildir)
    box.add_folder("Sent").add(_mail("Ann <ann@example.com>", "Contract terms", "<terms-1@example.com>",
                                     to="bob@example.org"))
    sync_account(workspace, ann_local.id, now=NOW)
    sent = mail_store.message_by_header_id(workspace.scope(ann.id), "<terms-1@example.com>")
    assert sent is not None
    return box, sent, reminders.follow_up_if_no_reply(workspace, ann.id, sent.id, NOW + timedelta(days=2), now=NOW)


def test_a_reply_through_sync_cancels_the_follow_up(workspace, ann, ann_local, maildir):
    box, sent, follow_up = _sent_and_followed(workspace, ann, ann_local, maildir)
    assert follow_up.text == "No reply yet to “Contract terms”"
    box.add(_mail("Bob <bob@example.org>", "Re: Contract terms", "<reply-1@example.org>", "<terms-1@example.com>"))
    sync_account(workspace, ann_local.id, now=NOW + timedelta(hours=1))
    assert rstore.get(workspace.scope(ann.id), follow_up.id).state == "cancelled"
    assert any(e.action == "follow-up cancelled" for e in audit_store.entries(workspace.scope(ann.id)))


def test_unrelated_mail_and_the_principals_own_message_leave_it_pending(workspace, ann, ann_local, maildir):
    box, sent, follow_up = _sent_and_followed(workspace, ann, ann_local, maildir)
    box.add(_mail("Carol <carol@example.org>", "Lunch?", "<lunch@example.org>"))
    box.get_folder("Sent").add(_mail("Ann <ann@example.com>", "Re: Contract terms", "<terms-2@example.com>",
                                     "<terms-1@example.com>", to="bob@example.org"))  # her own nudge is no reply
    sync_account(workspace, ann_local.id, now=NOW + timedelta(hours=1))
    assert rstore.get(workspace.scope(ann.id), follow_up.id).state == "pending"
    notice = reminders.fire(workspace, ann.id, follow_up.id, now=follow_up.due_utc, assistant_zone="UTC")
    assert notice is not None and notice.reminder.kind == "follow-up" and notice.principal_name == "Ann"


def test_follow_up_on_another_principals_message_is_refused(workspace, ann, kenji, ann_local, maildir):
    import pytest

    from assistant.core.errors import NotFound

    _, sent, _ = _sent_and_followed(workspace, ann, ann_local, maildir)
    with pytest.raises(NotFound):
        reminders.follow_up_if_no_reply(workspace, kenji.id, sent.id, NOW)
