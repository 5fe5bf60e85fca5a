"""The approval channels through a real IMAP account: the drafts-folder channel through the principal's \\Drafts on
Dovecot, and what an approval releases sent once through Postfix."""
from __future__ import annotations

import pytest

from assistant.approvals import drafts, lifecycle
from assistant.domain import Account, ApprovalPolicy, Principal
from assistant.store import drafts as sql
from assistant.sync.engine import sync_account
from tests.connectors.imap.imap_handle import ADDRESS, DovecotHandle, dovecot, imap_registered, servers  # noqa: F401

ZOE = "zoe@example.com"


@pytest.fixture
def principal(workspace) -> Principal:
    return workspace.add_principal(Principal("Dana Whitfield", "Europe/Dublin", [ADDRESS],
                                             approval_policy=ApprovalPolicy.ALWAYS))


@pytest.fixture
def account(workspace, principal, dovecot: DovecotHandle) -> Account:  # noqa: F811
    return workspace.add_account(Account(principal.id, "imap", ADDRESS, dovecot.settings()))


def sync(workspace, dovecot, account):  # noqa: F811
    report = sync_account(workspace, account.id, dovecot.connector(workspace.account(account.id)))
    assert report.errors == [], report.errors
    return report


def new_draft(workspace, principal, account):
    return drafts.save_draft(workspace, principal.id, account_id=account.id, to=[ZOE], subject="Lease renewal",
                             body_text="Dear Zoë,\nThe new terms are fine.\nDana")


def test_principal_sends_our_copy_from_their_drafts_folder(workspace, principal, account, dovecot):  # noqa: F811
    d = new_draft(workspace, principal, account)
    assert drafts.submit_draft(workspace, principal.id, d.id, channels=("drafts-folder",)) == "awaiting-approval"
    sync(workspace, dovecot, account)
    assert len(dovecot.message_ids("Drafts")) == 1
    # the principal opens the draft in their own mail app and sends it: it leaves Drafts and lands in Sent
    with dovecot.client() as client:
        client.select_folder("Drafts")
        client.move(client.search("ALL"), "Sent")
    sync(workspace, dovecot, account)
    assert drafts.get_draft(workspace, principal.id, d.id).state == "sent-by-principal"


def test_approval_elsewhere_removes_our_copy_and_sends_once(workspace, principal, account, dovecot):  # noqa: F811
    d = new_draft(workspace, principal, account)
    drafts.submit_draft(workspace, principal.id, d.id, channels=("drafts-folder",))
    sync(workspace, dovecot, account)
    assert len(dovecot.message_ids("Drafts")) == 1
    sql.save_settings(workspace.scope(principal.id), sql.ApprovalSettings(principal.id, undo_seconds=0))
    assert lifecycle.approve_in_person(workspace, principal.id, d.id) == "sending"
    sync(workspace, dovecot, account)
    sync(workspace, dovecot, account)
    assert dovecot.message_ids("Drafts") == []
    assert drafts.get_draft(workspace, principal.id, d.id).state == "sent"
    sent = dovecot.sent_message_ids()
    assert len(sent) == 1
    assert dovecot.wait_for("INBOX", sent[0], user=ZOE).count(sent[0]) == 1
