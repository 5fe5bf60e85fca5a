"""Issue 5's "done when", as a user types it: `assistant account add outlook --device-code` against a
Microsoft-compatible authority and Graph (the fake, over HTTPS on loopback), then `assistant --json sync`."""
from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

from tests.connectors.test_outlook import CLIENT_ID, fake  # noqa: F401  (the fake Microsoft, as a fixture)
from tests.fakes.microsoft import FakeMicrosoft


class UserApprovesDeviceCode(threading.Thread):
    """The principal, on their phone, entering whatever code the verification page is waiting for."""

    def __init__(self, fake: FakeMicrosoft):
        super().__init__(daemon=True)
        self.fake, self.stop = fake, threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.05):
            with self.fake.lock:
                for flow in self.fake.device_codes.values():
                    flow["approved"] = True


def test_sign_in_with_a_device_code_then_sync_brings_mail_and_calendar(cli, fake):
    start = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0, tzinfo=None)
    fake.add_message(subject="Deposition schedule", body={"contentType": "text", "content": "Tuesday works"},
                     **{"from": {"emailAddress": {"name": "Opposing Counsel", "address": "oc@law.example"}}})
    fake.add_message(subject="Retainer invoice", hasAttachments=False)
    fake.add_event(subject="Client lunch", start={"dateTime": start.isoformat(), "timeZone": "UTC"},
                   end={"dateTime": (start + timedelta(hours=1)).isoformat(), "timeZone": "UTC"})

    cli.add_principal("Dana", "America/New_York", "principal@example.com")
    user = UserApprovesDeviceCode(fake)
    user.start()
    try:
        code, out, err = cli.run("--json", "account", "add", "outlook", "--principal", "Dana", "--client-id", CLIENT_ID,
                                 "--device-code")
    finally:
        user.stop.set()
    assert code == 0, err
    assert "enter the code" in err  # the instructions reached the user, on stderr
    account = json.loads(out)["account"]
    assert account["kind"] == "outlook" and account["address"] == "principal@example.com"

    code, out, err = cli.run("--json", "sync")
    assert code == 0, err
    (report,) = json.loads(out)["accounts"]
    assert report["errors"] == []
    assert report["messages"]["added"] == 2 and report["events"]["added"] == 1

    code, out, _ = cli.run("--json", "search", "deposition", "--principal", "Dana")
    assert code == 0 and "Deposition schedule" in out

    # A change made on the server arrives with the next sync, and nothing else moves.
    fake.add_message(subject="Settlement draft")
    code, out, _ = cli.run("--json", "sync")
    (report,) = json.loads(out)["accounts"]
    assert report["messages"] == {"added": 1, "updated": 0, "removed": 0}


def test_revoked_sign_in_is_one_line_and_marks_the_account(cli, fake):
    cli.add_principal("Dana", "America/New_York", "principal@example.com")
    user = UserApprovesDeviceCode(fake)
    user.start()
    try:
        assert cli.run("account", "add", "outlook", "--principal", "Dana", "--client-id", CLIENT_ID,
                       "--device-code")[0] == 0
    finally:
        user.stop.set()
    fake.revoke_refresh_tokens()
    fake.expire_access_tokens()
    code, out, err = cli.run("sync")
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and "sign" in err.lower()
    code, out, _ = cli.run("--json", "account", "list")
    assert json.loads(out)["accounts"][0]["status"] == "needs-sign-in"
