"""Issue 15, point 2, through a Gmail account (the fake Google on loopback): an e-mailed approval counts only when
Google's own Authentication-Results, on top of the message, vouch for the principal's address — or when the principal's
account sent it itself."""
from __future__ import annotations

import re
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default

import pytest

from tests.cli.test_account_gmail_cli import add_gmail
from tests.connectors.test_gmail_auth import google  # noqa: F401  (the fake Google, as a fixture)

GOOGLE_PASS = ("mx.google.com; dkim=pass header.i=@example.com header.s=s1 header.b=abc; spf=pass smtp.mailfrom="
               "ada@example.com; dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=example.com")
GOOGLE_FAIL = ("mx.google.com; spf=fail smtp.mailfrom=mallory@evil.example; dmarc=fail (p=NONE sp=NONE dis=NONE)"
               " header.from=example.com")


@pytest.fixture
def ada_asks(cli, ada, ws, tmp_path, google, capsys):
    add_gmail(ws, tmp_path, google, capsys)
    cli.json("principal", "set", "Ada", "--approval", "always", "--undo-seconds", "0")
    cli.json("sync")


def ask(cli, google, subject: str) -> tuple[int, str]:
    draft_id = cli.json("draft", "new", "--principal", "Ada", "--to", "bob@example.org", "--subject", subject,
                        "--body", "Bob, the offer stands. Ada")["draft"]["id"]
    assert cli.json("draft", "submit", str(draft_id))["state"] == "awaiting-approval"
    cli.json("sync")
    subjects = [str(BytesParser(policy=default).parsebytes(m["raw"])["Subject"]) for m in google.sent()]
    (request,) = [s for s in subjects if s.startswith("Approval needed") and subject in s]
    return draft_id, re.search(r"APR-[A-Za-z0-9_-]+", request).group(0)


def answer(ref: str, *, stamps: tuple[str, ...] = (), message_id: str = "<answer@example.com>") -> bytes:
    msg = EmailMessage()
    for stamp in stamps:  # the receiving server's stamp is the topmost
        msg["Authentication-Results"] = stamp
    msg["From"], msg["To"] = "Ada <ada@example.com>", "Ada <ada@example.com>"
    msg["Subject"], msg["Message-ID"] = f"Re: Approval needed [{ref}]", message_id
    msg.set_content(f"approve\n\n> Reference: {ref}\n")
    return msg.as_bytes()


def sent_to_bob(google, subject: str) -> int:
    return sum(1 for m in google.sent()
               if (h := BytesParser(policy=default).parsebytes(m["raw"]))["To"] == "bob@example.org"
               and h["Subject"] == subject)


@pytest.mark.parametrize("stamps, reason", [
    ((GOOGLE_FAIL, GOOGLE_PASS), "did not vouch for it (spf=fail, dmarc=fail)"),  # a forged pass below Google's
    ((), "no Authentication-Results"),
])
def test_an_answer_google_does_not_vouch_for_is_flagged_and_sends_nothing(cli, google, ada_asks, stamps, reason):
    draft_id, ref = ask(cli, google, "Offer")
    google.add_message(answer(ref, stamps=stamps), labels=("INBOX", "UNREAD"))
    warnings = cli.json("sync")["accounts"][0]["warnings"]
    assert any(reason in w for w in warnings), warnings
    assert cli.json("draft", "show", str(draft_id))["draft"]["state"] == "awaiting-approval"
    assert sent_to_bob(google, "Offer") == 0
    (flag,) = cli.json("approvals", "list")["flagged"]
    assert reason in flag["reason"]


def test_an_answer_google_vouches_for_sends_the_draft_once(cli, google, ada_asks):
    draft_id, ref = ask(cli, google, "Offer")
    google.add_message(answer(ref, stamps=(GOOGLE_PASS,)), labels=("INBOX", "UNREAD"))
    cli.json("sync")
    cli.json("sync")
    assert cli.json("draft", "show", str(draft_id))["draft"]["state"] == "sent"
    assert sent_to_bob(google, "Offer") == 1
    assert cli.json("approvals", "list")["flagged"] == []


def test_an_answer_the_account_sent_itself_counts_without_a_stamp(cli, google, ada_asks):
    """Ada answers from Gmail's web page to her own address: one message labelled SENT and INBOX, never received
    from outside, so Google stamps nothing on it."""
    draft_id, ref = ask(cli, google, "Offer")
    google.add_message(answer(ref), labels=("SENT", "INBOX", "UNREAD"))
    cli.json("sync")
    assert cli.json("draft", "show", str(draft_id))["draft"]["state"] == "sent"
    assert sent_to_bob(google, "Offer") == 1
