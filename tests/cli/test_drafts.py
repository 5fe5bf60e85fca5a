"""End to end through the CLI, a real maildir and the local connector's real sync: the approval loop by e-mail."""
from __future__ import annotations

import mailbox
import re
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.cli.conftest import Cli


@pytest.fixture
def ann_lee(cli: Cli, maildir: Path) -> None:
    """Ann Lee, two addresses, every message needing her approval; a local account on ``maildir``, synced once."""
    cli.add_principal("Ann Lee", "America/New_York", "ann@example.com", "ann@phone.example")
    cli.json("account", "add", "local", "--principal", "Ann Lee", "--maildir", str(maildir))
    cli.json("principal", "set", "Ann Lee", "--approval", "always")
    cli.json("sync")


def sent(maildir: Path) -> list[EmailMessage]:
    box = mailbox.Maildir(maildir / ".Sent", create=False)
    return [box.get_message(k) for k in box.keys()]


def request_reference(maildir: Path, subject: str) -> str:
    requests = [m for m in sent(maildir) if m["Subject"].startswith("Approval needed") and subject in m["Subject"]]
    assert len(requests) == 1, [m["Subject"] for m in sent(maildir)]
    m = requests[0]
    assert m["To"] == "Ann Lee <ann@example.com>" and m["From"] == "Ann Lee <ann@example.com>"
    body = m.get_payload(decode=True).decode()
    ref = re.search(r"APR-[A-Za-z0-9_-]+", m["Subject"]).group(0)
    assert f"Reference: {ref}" in body and "bob@example.org" in body and "----- draft begins -----" in body
    return ref


def drop_reply(maildir: Path, *, sender: str, subject: str, text: str, message_id: str,
               headers: tuple[tuple[str, str], ...] = (), raw: bytes | None = None) -> None:
    """A reply delivered into the maildir; ``headers`` are put on top (as a receiving server adds them), ``raw``
    replaces the whole message."""
    msg = EmailMessage()
    for name, value in headers:
        msg[name] = value
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = sender, "ann@example.com", subject, message_id
    msg.set_content(text)
    mailbox.Maildir(maildir, create=False).add(raw if raw is not None else msg)


def new_draft(cli: Cli, subject: str, body: str = "Dear Bob,\nThursday works.\nAnn") -> int:
    return cli.json("draft", "new", "--principal", "Ann Lee", "--to", "bob@example.org", "--subject", subject,
                    "--body", body)["draft"]["id"]


def to_bob(maildir: Path, subject: str) -> list[EmailMessage]:
    return [m for m in sent(maildir) if m["To"] == "bob@example.org" and m["Subject"] == subject]


def test_approve_by_reply_sends_once_and_is_confirmed(cli, maildir, ann_lee):
    draft_id = new_draft(cli, "Lunch on Thursday")
    assert cli.json("draft", "submit", str(draft_id))["state"] == "awaiting-approval"
    cli.json("sync")
    ref = request_reference(maildir, "Lunch on Thursday")
    assert to_bob(maildir, "Lunch on Thursday") == []
    queue = cli.json("approvals", "list")["queue"]
    assert [(q["draft_id"], q["principal"], q["state"]) for q in queue] == [(draft_id, "Ann Lee", "awaiting-approval")]

    reply = (f"Approve\n\nOn Mon, 23 Nov 2026 at 10:00, Ann Lee <ann@example.com> wrote:\n"
             f"> reject: <what to change>\n> Reference: {ref}\n")
    drop_reply(maildir, sender="Ann Lee <ann@phone.example>", subject=f"Re: Approval needed [{ref}]: Lunch",
               text=reply, message_id="<reply-1@phone.example>")
    report = cli.json("sync")
    assert report["ok"] and report["accounts"][0]["outbox"]["sent"] == 2  # the draft and the confirmation
    assert len(to_bob(maildir, "Lunch on Thursday")) == 1
    shown = cli.json("draft", "show", str(draft_id))
    assert shown["draft"]["state"] == "sent"
    confirmations = [m for m in sent(maildir) if m["Subject"].startswith(f"[{ref}] Approved")]
    assert len(confirmations) == 1 and confirmations[0]["In-Reply-To"] == "<reply-1@phone.example>"

    # the same answer twice, and a second "approve" from another device: nothing is sent again
    drop_reply(maildir, sender="ann@example.com", subject=f"Re: [{ref}]", text=reply,
               message_id="<reply-1@phone.example>")
    drop_reply(maildir, sender="ann@example.com", subject=f"Re: Approval needed [{ref}]", text="approved",
               message_id="<reply-2@laptop.example>")
    cli.json("sync")
    cli.json("sync")
    assert len(to_bob(maildir, "Lunch on Thursday")) == 1
    assert len([m for m in sent(maildir) if m["Subject"].startswith(f"[{ref}]")]) == 1
    actions = [h["action"] for h in cli.json("draft", "show", str(draft_id))["history"]]
    assert actions[:2] == ["draft-created", "approval-requested"]
    for expected in ("approval-request-queued", "approved", "queued-for-sending", "sent", "decision-ignored"):
        assert expected in actions
    approved = next(h for h in cli.json("draft", "show", str(draft_id))["history"] if h["action"] == "approved")
    assert approved["channel"] == "email" and approved["actor"] == "principal <ann@phone.example>"
    assert approved["version"] == 1


def test_reject_returns_the_draft_with_the_comment_and_sends_nothing(cli, maildir, ann_lee):
    draft_id = new_draft(cli, "Board dinner")
    cli.json("draft", "submit", str(draft_id))
    cli.json("sync")
    ref = request_reference(maildir, "Board dinner")
    drop_reply(maildir, sender="ann@example.com", subject=f"Re: Approval needed [{ref}]: Board dinner",
               text=f"reject: too formal\n\n> Reference: {ref}\n", message_id="<no-1@phone.example>")
    cli.json("sync")
    draft = cli.json("draft", "show", str(draft_id))["draft"]
    assert draft["state"] == "rejected" and draft["comment"] == "too formal"
    assert to_bob(maildir, "Board dinner") == []
    assert [m for m in sent(maildir) if m["Subject"].startswith(f"[{ref}] Rejected")]

    # revised, then asked again: a new reference; the old one no longer decides anything
    revised = cli.json("draft", "edit", str(draft_id), "--body", "Hi Bob, dinner Thursday? Ann")["draft"]
    assert revised["state"] == "revised" and revised["version"] == 2
    assert cli.json("draft", "submit", str(draft_id))["state"] == "awaiting-approval"
    cli.json("sync")
    drop_reply(maildir, sender="ann@example.com", subject=f"Re: [{ref}]", text="approve",
               message_id="<old-ref@phone.example>")
    cli.json("sync")
    assert cli.json("draft", "show", str(draft_id))["draft"]["state"] == "awaiting-approval"
    assert to_bob(maildir, "Board dinner") == []
    assert "replaced by a newer version" in cli.json("approvals", "list")["flagged"][0]["reason"]


def test_spoofed_approval_does_nothing_and_is_flagged(cli, maildir, ann_lee):
    draft_id = new_draft(cli, "Wire transfer")
    cli.json("draft", "submit", str(draft_id))
    cli.json("sync")
    ref = request_reference(maildir, "Wire transfer")
    drop_reply(maildir, sender="Ann Lee <ann@evil.example>", subject=f"Re: Approval needed [{ref}]",
               text=f"approve\n> Reference: {ref}", message_id="<spoof@evil.example>")
    warnings = cli.json("sync")["accounts"][0]["warnings"]
    assert any("ann@evil.example" in w and "not applied" in w for w in warnings)
    cli.json("sync")
    assert cli.json("draft", "show", str(draft_id))["draft"]["state"] == "awaiting-approval"
    assert to_bob(maildir, "Wire transfer") == []
    flagged = cli.json("approvals", "list", "--principal", "Ann Lee")["flagged"]
    assert [(f["sender"], f["reason"]) for f in flagged] == [("ann@evil.example", "not from the principal's own address")]
    code, out, err = cli.run("approvals", "list")
    assert "not from the principal's own address" in out


def test_short_forms_count_only_when_the_principal_allows_them(cli, maildir, ann_lee):
    draft_id = new_draft(cli, "Quick one")
    cli.json("draft", "submit", str(draft_id))
    cli.json("sync")
    ref = request_reference(maildir, "Quick one")
    drop_reply(maildir, sender="ann@example.com", subject=f"Re: [{ref}]", text="👍", message_id="<thumb-1@x>")
    cli.json("sync")
    assert cli.json("draft", "show", str(draft_id))["draft"]["state"] == "awaiting-approval"
    assert "short forms" in cli.json("approvals", "list")["flagged"][0]["reason"]
    cli.json("principal", "set", "Ann Lee", "--short-forms", "yes")
    # the reference only in the quoted request, the subject rewritten by the principal's phone
    drop_reply(maildir, sender="ann@example.com", subject="RE: quick one",
               text=f"oui\n\nLe lun. 23 nov. a écrit :\n> Reference: {ref}", message_id="<oui@x>")
    cli.json("sync")
    assert cli.json("draft", "show", str(draft_id))["draft"]["state"] == "sent"
    assert len(to_bob(maildir, "Quick one")) == 1


def test_in_person_decision_and_never_policy(cli, maildir, ann_lee):
    draft_id = new_draft(cli, "Call notes")
    cli.json("draft", "submit", str(draft_id))
    decided = cli.json("approvals", "decide", str(draft_id), "approve", "--confirmed-by", "Sam")
    assert decided["state"] == "sending"  # inside the undo window
    assert cli.json("draft", "undo", str(draft_id))["draft"]["state"] == "approved"
    history = cli.json("draft", "show", str(draft_id))["history"]
    approved = next(h for h in history if h["action"] == "approved")
    assert approved["channel"] == "in-person" and "confirmed by Sam" in approved["actor"]

    settings = cli.json("principal", "set", "Ann Lee", "--approval", "never", "--undo-seconds", "0",
                        "--usual-answer-minutes", "90")["principal"]
    assert (settings["approval_policy"], settings["undo_seconds"], settings["usual_answer_minutes"]) == ("never", 0, 90)
    other = new_draft(cli, "No approval needed")
    assert cli.json("draft", "submit", str(other))["state"] == "sending"
    cli.json("sync")
    assert cli.json("draft", "show", str(other))["draft"]["state"] == "sent"
    assert len(to_bob(maildir, "No approval needed")) == 1

    code, out, err = cli.run("approvals", "decide", str(other), "reject")
    assert code == 1 and "reason" in err and len(err.splitlines()) == 1


def test_reply_with_edited_text_sends_the_principals_version(cli, maildir, ann_lee):
    draft_id = new_draft(cli, "Offer")
    cli.json("draft", "submit", str(draft_id))
    cli.json("sync")
    ref = request_reference(maildir, "Offer")
    drop_reply(maildir, sender="ann@example.com", subject=f"Re: [{ref}]",
               text=f"edit: Bob, yes. Ann\n\nOn Mon, Ann <ann@example.com> wrote:\n> Reference: {ref}",
               message_id="<edit@phone.example>")
    cli.json("sync")
    shown = cli.json("draft", "show", str(draft_id))
    assert shown["draft"]["state"] == "sent" and shown["draft"]["version"] == 2
    assert [(v["version"], v["author"]) for v in shown["versions"]] == [(1, "assistant"), (2, "principal")]
    [message] = to_bob(maildir, "Offer")
    assert message.get_payload(decode=True).decode().strip() == "Bob, yes. Ann"


@pytest.mark.parametrize("sender, headers, reason", [
    ("Ann Lee <ann@example.com>", (("Authentication-Results", "spf=fail; dmarc=fail"),
                                   ("Sender", "mallory@evil.example")),
     "sent by mallory@evil.example on the principal's behalf"),
    ("ann@example.com, mallory@evil.example", (), "it has 2 From addresses"),
    ("Ann Lee <ann@example.com>", (("Authentication-Results", "mx.example.net; spf=fail smtp.mailfrom=evil.example;"
                                    " dkim=none; dmarc=fail header.from=example.com"),),
     "the receiving server's check failed (dmarc=fail)"),
])
def test_a_forged_approval_sends_nothing_and_is_flagged_with_its_reason(cli, maildir, ann_lee, sender, headers,
                                                                         reason):
    """Issue 15, point 2: the reference travels in the request's subject, so anyone who saw it can forge a reply."""
    draft_id = new_draft(cli, "Wire transfer")
    cli.json("draft", "submit", str(draft_id))
    cli.json("sync")
    ref = request_reference(maildir, "Wire transfer")
    drop_reply(maildir, sender=sender, subject=f"Re: Approval needed [{ref}]", text=f"approve\n> Reference: {ref}",
               message_id="<forged@evil.example>", headers=headers)
    warnings = cli.json("sync")["accounts"][0]["warnings"]
    assert any(reason in w and "not applied" in w for w in warnings), warnings
    assert cli.json("draft", "show", str(draft_id))["draft"]["state"] == "awaiting-approval"
    assert to_bob(maildir, "Wire transfer") == []
    (flag,) = cli.json("approvals", "list", "--principal", "Ann Lee")["flagged"]
    assert reason in flag["reason"]


def test_a_reply_written_below_the_quote_is_read_and_its_comment_is_the_principals_words(cli, maildir, ann_lee):
    """Issue 23: Thunderbird starts a reply below the quote; Outlook copies the request unquoted under a header block."""
    draft_id = new_draft(cli, "Board dinner")
    cli.json("draft", "submit", str(draft_id))
    cli.json("sync")
    ref = request_reference(maildir, "Board dinner")
    request = next(m for m in sent(maildir) if ref in m["Subject"]).get_payload(decode=True).decode()
    quoted = "\n".join("> " + line for line in request.splitlines())
    body = f"On 07/12/2026 10:00, Ann Lee wrote:\n{quoted}\n\nreject: too formal\nUse first names.\n\n-- \nAnn Lee\n"
    drop_reply(maildir, sender="ann@example.com", subject=f"Re: Approval needed [{ref}]: Board dinner", text=body,
               message_id="<bottom-1@example.com>")
    cli.json("sync")
    draft = cli.json("draft", "show", str(draft_id))["draft"]
    assert (draft["state"], draft["comment"]) == ("rejected", "too formal\nUse first names.")

    cli.json("draft", "edit", str(draft_id), "--body", "Hi Bob, dinner Thursday? Ann")
    cli.json("draft", "submit", str(draft_id))
    cli.json("sync")
    (ref,) = {r for m in sent(maildir) if "Board dinner" in m["Subject"] and m["Subject"].startswith("Approval")
              for r in re.findall(r"APR-[A-Za-z0-9_-]+", m["Subject"])} - {ref}
    request = next(m for m in sent(maildir) if ref in m["Subject"]).get_payload(decode=True).decode()
    body = (f"Approved\n\nGet Outlook for iOS<https://aka.ms/o0ukef>\n________________________________\nFrom: Ann Lee "
            f"<ann@example.com>\nSent: Monday, December 7, 2026 10:00:00 AM\nTo: Ann Lee <ann@example.com>\n"
            f"Subject: Approval needed\n\n{request}")
    drop_reply(maildir, sender="ann@example.com", subject=f"RE: Approval needed [{ref}]: Board dinner", text=body,
               message_id="<outlook-1@example.com>")
    cli.json("sync")
    assert cli.json("draft", "show", str(draft_id))["draft"]["state"] == "sent"
    assert len(to_bob(maildir, "Board dinner")) == 1
