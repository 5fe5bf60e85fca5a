"""Issue 15, point 1: a send the provider refuses has a visible fate. Through the command line, against the fake Google
on loopback: Gmail answers 400 to ``messages.send`` once; the draft ends ``failed`` with Google's reason, every sync
reports it until the user deals with it, and ``assistant draft retry`` sends it exactly once."""
from __future__ import annotations

import json
from email import message_from_bytes

import pytest

from tests.cli.test_account_gmail_cli import add_gmail
from tests.connectors.test_gmail_auth import google  # noqa: F401  (the fake Google, as a fixture)

REFUSED = {"error": {"code": 400, "message": "Invalid To header", "status": "INVALID_ARGUMENT",
                     "errors": [{"message": "Invalid To header", "domain": "global", "reason": "invalidArgument"}]}}


@pytest.fixture
def ada_on_gmail(cli, ada, ws, tmp_path, google, capsys):
    add_gmail(ws, tmp_path, google, capsys)
    cli.json("principal", "set", "Ada", "--approval", "never", "--undo-seconds", "0")
    cli.json("sync")


def sent_subjects(google) -> list[str]:
    return [str(message_from_bytes(m["raw"])["Subject"]) for m in google.sent()]


def sync(cli) -> tuple[int, dict]:
    code, out, _ = cli.run("--json", "sync")
    return code, json.loads(out)


def test_a_send_refused_once_fails_visibly_until_retried_then_goes_out_once(cli, google, ada_on_gmail):
    draft_id = cli.json("draft", "new", "--principal", "Ada", "--to", "bob@example.org", "--subject",
                        "Signed lease", "--body", "Bob, the signed lease is attached. Ada")["draft"]["id"]
    google.inject(400, r"POST .*/messages/send", body=REFUSED)
    assert cli.json("draft", "submit", str(draft_id))["state"] == "sending"

    code, data = sync(cli)
    (report,) = data["accounts"]
    assert code == 1
    assert any("Invalid To header" in e for e in report["errors"]), report
    draft = cli.json("draft", "show", str(draft_id))["draft"]
    assert draft["state"] == "failed"
    assert "Invalid To header" in draft["error"]
    assert "Signed lease" not in sent_subjects(google)
    # its copy is not left in Sent as if it had gone
    assert cli.json("search", "Signed lease", "--principal", "Ada")["results"] == []

    # the next sync still says so, and so does the account list, until the user deals with it
    code, data = sync(cli)
    (report,) = data["accounts"]
    assert code == 1 and report["outbox"]["failed"] == 1
    assert any("Invalid To header" in e and f"draft {draft_id}" in e for e in report["errors"]), report
    assert [(f["op"], f["draft_id"]) for f in report["failed"]] == [("send", draft_id)]
    code, out, err = cli.run("sync")
    assert code == 1 and f"assistant draft retry {draft_id}" in out
    assert "refused by the provider" in err and len(err.strip().splitlines()) == 1
    (account,) = cli.json("account", "list")["accounts"]
    assert account["failed"] == 1
    code, out, _ = cli.run("account", "list")
    assert "ok, 1 failed" in out
    assert cli.json("draft", "show", str(draft_id))["draft"]["state"] == "failed"

    assert cli.json("draft", "retry", str(draft_id))["state"] == "sending"
    code, data = sync(cli)
    assert code == 0, data
    assert cli.json("draft", "show", str(draft_id))["draft"]["state"] == "sent"
    assert sent_subjects(google).count("Signed lease") == 1
    (account,) = cli.json("account", "list")["accounts"]
    assert account["failed"] == 0

    code, _ = sync(cli)
    assert code == 0 and sent_subjects(google).count("Signed lease") == 1


def test_retry_is_refused_for_a_draft_that_did_not_fail(cli, ada_on_gmail):
    draft_id = cli.json("draft", "new", "--principal", "Ada", "--to", "bob@example.org", "--subject", "Hello",
                        "--body", "Hi")["draft"]["id"]
    code, _, err = cli.run("draft", "retry", str(draft_id))
    assert code == 1 and "not failed" in err and len(err.strip().splitlines()) == 1


def test_editing_a_failed_draft_takes_the_failed_send_away(cli, google, ada_on_gmail):
    draft_id = cli.json("draft", "new", "--principal", "Ada", "--to", "bob@example.org", "--subject", "Keys",
                        "--body", "Bob, keys are with the porter.")["draft"]["id"]
    google.inject(400, r"POST .*/messages/send", body=REFUSED)
    cli.json("draft", "submit", str(draft_id))
    assert sync(cli)[0] == 1
    cli.json("draft", "edit", str(draft_id), "--to", "bob@example.com")
    code, data = sync(cli)
    assert code == 0, data  # nothing failed is left: the edited draft waits to be submitted again
    (account,) = cli.json("account", "list")["accounts"]
    assert account["failed"] == 0
    assert cli.json("draft", "submit", str(draft_id))["state"] == "sending"
    assert sync(cli)[0] == 0
    assert sent_subjects(google).count("Keys") == 1


def test_an_approval_request_that_cannot_be_sent_fails_visibly_and_retries(cli, google, ada_on_gmail):
    cli.json("principal", "set", "Ada", "--approval", "always")
    draft_id = cli.json("draft", "new", "--principal", "Ada", "--to", "bob@example.org", "--subject", "Offer",
                        "--body", "Bob, our offer stands.")["draft"]["id"]
    google.inject(400, r"POST .*/messages/send", body=REFUSED)
    assert cli.json("draft", "submit", str(draft_id))["state"] == "awaiting-approval"
    code, data = sync(cli)
    assert code == 1
    draft = cli.json("draft", "show", str(draft_id))["draft"]
    assert draft["state"] == "failed" and "approval request" in draft["error"]
    assert cli.json("draft", "retry", str(draft_id))["state"] == "awaiting-approval"
    assert sync(cli)[0] == 0
    assert sum(1 for s in sent_subjects(google) if s.startswith("Approval needed") and "Offer" in s) == 1
