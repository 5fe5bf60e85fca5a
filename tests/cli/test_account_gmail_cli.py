"""Issue 4's "done when", as a user types it: `assistant account add gmail --no-browser` against a Google-compatible
server (the fake on loopback, reached through ASSISTANT_GOOGLE_API_ROOT), then `assistant --json sync`."""
from __future__ import annotations

import io
import json
import queue
import re
import sys
import threading

import requests

from assistant.cli.main import main
from tests.connectors.contract import make_raw
from tests.connectors.test_gmail_auth import google  # noqa: F401  (the fake Google, as a fixture)


class Terminal(io.StringIO):
    """stderr as the user sees it; every line also goes to the user (a queue) as it is printed."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: queue.Queue[str] = queue.Queue()

    def write(self, text: str) -> int:
        for line in text.splitlines():
            self.lines.put(line)
        return super().write(text)


def user_opens_the_printed_address(terminal: Terminal, answers: list) -> threading.Thread:
    def run() -> None:
        while True:
            match = re.search(r"https?://\S+", terminal.lines.get(timeout=30))
            if match:
                answers.append(requests.get(match.group(0), timeout=30))  # the fake consents and redirects
                return

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def add_gmail(ws, tmp_path, google, capsys) -> dict:
    """``assistant account add gmail --principal Ada --no-browser``, the user opening the printed address: the
    account as JSON."""
    secrets = google.write_client_secrets(tmp_path / "client_secret.json")
    terminal, answers, real_stderr = Terminal(), [], sys.stderr
    sys.stderr = terminal
    user = user_opens_the_printed_address(terminal, answers)
    try:
        code = main(["--workspace", str(ws), "--json", "account", "add", "gmail", "--principal", "Ada",
                     "--client-secrets", str(secrets), "--no-browser"])
    finally:
        sys.stderr = real_stderr
    user.join(30)
    assert code == 0, terminal.getvalue()
    assert answers and answers[0].status_code == 200
    account: dict = json.loads(capsys.readouterr().out)["account"]
    return account


def test_sign_in_without_a_browser_then_sync_brings_mail_and_calendar(cli, ada, ws, tmp_path, google, capsys):
    for n in range(3):
        google.add_message(make_raw(n, subject=f"Lease renewal, part {n}"))
    google.add_event({"summary": "Board meeting", "start": {"dateTime": "2026-12-02T15:00:00Z"},
                      "end": {"dateTime": "2026-12-02T16:00:00Z"}})

    account = add_gmail(ws, tmp_path, google, capsys)
    assert (account["kind"], account["address"]) == ("gmail", "ada@example.com")
    assert "refresh" not in json.dumps(account).lower()  # the grant lives in the keyring, not the workspace

    (report,) = cli.json("sync")["accounts"]
    assert report["errors"] == []
    assert report["messages"]["added"] == 3 and report["events"]["added"] == 1

    assert len(cli.json("search", "renewal", "--principal", "Ada")["results"]) == 3

    google.add_message(make_raw(7, subject="Signed lease attached"))
    (report,) = cli.json("sync")["accounts"]
    assert report["messages"] == {"added": 1, "updated": 0, "removed": 0}


def test_missing_client_secrets_is_one_line(cli, ada, tmp_path):
    code, _, err = cli.run("account", "add", "gmail", "--principal", "Ada",
                           "--client-secrets", str(tmp_path / "nope.json"), "--no-browser")
    assert code == 1 and len(err.strip().splitlines()) == 1 and "nope.json" in err
