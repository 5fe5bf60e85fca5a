"""Send-later through the Outlook fake: an approved draft with a future time is handed to the server (deferred send)."""
from __future__ import annotations

from datetime import timedelta

from assistant.approvals import drafts, lifecycle
from assistant.approvals.schedule import parse_send_at
from assistant.connectors.outlook.connector import DEFERRED_SEND_PROPERTY
from assistant.core.timezones import now_utc
from assistant.sync.engine import sync_account
from tests.connectors.test_outlook import account, clock, connector, fake, principal, sleeps  # noqa: F401 (fixtures)


def test_approved_draft_with_a_send_time_goes_to_the_server_and_is_sent_there(workspace, principal, account,
                                                                               connector, fake):
    d = drafts.save_draft(workspace, principal.id, account.id, to="client@example.org", subject="Proposal",
                          body_text="Dear client,\nhere it is.\nDana")
    send_at = parse_send_at("tomorrow 9:00", "America/New_York", now_utc())
    assert drafts.submit_draft(workspace, principal.id, d.id, send_at=send_at) == "awaiting-approval"
    assert lifecycle.approve_in_person(workspace, principal.id, d.id, confirmed_by="Sam") == "scheduled"
    d = drafts.get_draft(workspace, principal.id, d.id)
    assert d.send_where == "server" and d.send_at_utc == send_at

    report = sync_account(workspace, account.id, connector)
    assert report.errors == []
    waiting = [m for m in fake.messages_in("outbox") if m["subject"] == "Proposal"]
    assert len(waiting) == 1 and not [m for m in fake.messages_in("sentitems") if m["subject"] == "Proposal"]
    expected = send_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert {"id": DEFERRED_SEND_PROPERTY, "value": expected} in waiting[0]["singleValueExtendedProperties"]
    assert drafts.get_draft(workspace, principal.id, d.id).state == "scheduled"

    # the laptop was closed; the server sent it at its time. A pass after that records it as sent, and nothing
    # is handed to the server a second time.
    sync_account(workspace, account.id, connector, now=send_at + timedelta(minutes=1))
    assert drafts.get_draft(workspace, principal.id, d.id).state == "sent"
    assert len([m for m in fake.messages_in("outbox") if m["subject"] == "Proposal"]) == 1
    actions = [h["action"] for h in lifecycle.history(workspace, principal.id, d.id)]
    assert actions == ["draft-created", "approval-requested", "approval-request-queued", "approved", "scheduled", "sent"]


def test_a_deferred_send_at_the_server_cannot_be_edited_but_one_still_queued_can(workspace, principal, account,
                                                                                 connector, fake):
    import pytest

    from assistant.core.errors import InvalidInput

    principal.approval_policy = "never"
    workspace.update_principal(principal)
    send_at = now_utc() + timedelta(days=1)
    fields = dict(to="client@example.org", subject="Terms")
    d = drafts.save_draft(workspace, principal.id, account.id, body_text="v1", **fields)
    assert drafts.submit_draft(workspace, principal.id, d.id, send_at=send_at) == "scheduled"
    edited = drafts.save_draft(workspace, principal.id, account.id, body_text="v2", draft_id=d.id, **fields)
    assert edited.state == "revised" and workspace.outbox(account.id) == []
    assert drafts.submit_draft(workspace, principal.id, d.id, send_at=send_at) == "scheduled"
    sync_account(workspace, account.id, connector)
    with pytest.raises(InvalidInput, match="already with the provider"):
        drafts.save_draft(workspace, principal.id, account.id, body_text="v3", draft_id=d.id, **fields)
    assert drafts.get_draft(workspace, principal.id, d.id).body_text == "v2"
    assert len([m for m in fake.messages_in("outbox") if m["subject"] == "Terms"]) == 1
