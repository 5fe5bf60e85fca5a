"""Issue 15, point 2, through Outlook (the fake Graph on loopback): an e-mailed approval counts only when Microsoft's
own Authentication-Results, on top of the message as Exchange received it, vouch for the principal's address."""
from __future__ import annotations

from email.message import EmailMessage

import pytest

from assistant.approvals import drafts
from assistant.store import drafts as sql
from assistant.sync.engine import sync_account
from tests.connectors.test_outlook import account, clock, connector, fake, principal, sleeps  # noqa: F401 (fixtures)

MICROSOFT_PASS = ("spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=example.com; dkim=pass (signature was verified)"
                  " header.d=example.com;dmarc=pass action=none header.from=example.com;compauth=pass reason=100")
MICROSOFT_FAIL = ("spf=fail (sender IP is 203.0.113.9) smtp.mailfrom=evil.example; dkim=none (message not signed)"
                  " header.d=none;dmarc=fail action=none header.from=example.com;compauth=fail reason=000")


def answer(reference: str, stamps: tuple[str, ...]) -> bytes:
    msg = EmailMessage()
    for stamp in stamps:
        msg["Authentication-Results"] = stamp
    msg["From"], msg["To"] = "Dana <principal@example.com>", "Dana <principal@example.com>"
    msg["Subject"], msg["Message-ID"] = f"RE: Approval needed [APR-{reference}]", "<answer-1@example.com>"
    msg["Date"] = "Mon, 07 Dec 2026 10:00:00 +0000"
    msg.set_content(f"Approved\n\n> Reference: APR-{reference}\n")
    return msg.as_bytes()


@pytest.mark.parametrize("stamps, state", [
    ((MICROSOFT_PASS,), "sent"),
    ((MICROSOFT_FAIL, MICROSOFT_PASS), "awaiting-approval"),  # a forged pass below Microsoft's own stamp
])
def test_an_answer_counts_only_when_microsoft_vouches_for_it(workspace, principal, account, connector, fake, stamps,
                                                             state):
    d = drafts.save_draft(workspace, principal.id, account.id, to="client@example.org", subject="Proposal",
                          body_text="Dear client,\nhere it is.\nDana")
    assert drafts.submit_draft(workspace, principal.id, d.id) == "awaiting-approval"
    assert sync_account(workspace, account.id, connector).errors == []
    (request,) = sql.requests_for(workspace.scope(principal.id), d.id)
    fake.add_mime(answer(request.reference, stamps))
    report = sync_account(workspace, account.id, connector)
    sync_account(workspace, account.id, connector)
    assert drafts.get_draft(workspace, principal.id, d.id).state == state
    sent = [m for m in fake.messages_in("sentitems") if m["subject"] == "Proposal"]
    assert len(sent) == (1 if state == "sent" else 0)
    if state != "sent":
        assert any("did not vouch for it (spf=fail, dkim=none, dmarc=fail)" in w for w in report.warnings), \
            report.warnings
