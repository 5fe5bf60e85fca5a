"""``assistant account add local`` reads what it is given before adding it, as ``assistant import`` and the app's Add
account do (issue 16, point 8): random bytes are neither an mbox nor a calendar."""
from __future__ import annotations


def test_add_local_refuses_an_mbox_or_calendar_that_is_not_one(cli, ada, tmp_path, maildir):
    noise = tmp_path / "noise.mbox"
    noise.write_bytes(bytes(range(256)) * 40)
    code, out, err = cli.run("account", "add", "local", "--principal", "Ada", "--mbox", str(noise))
    assert code == 1 and out == ""
    assert err == f"assistant: {noise} is not an mbox: it does not start with a “From ” line\n"

    message = tmp_path / "one.eml"
    message.write_text("From: bob@example.org\nTo: ada@example.com\nSubject: Hi\n\nHello\n")
    code, _, err = cli.run("account", "add", "local", "--principal", "Ada", "--mbox", str(message))
    assert code == 1 and "is a single message, not an mbox" in err

    calendar = tmp_path / "cal.ics"
    calendar.write_bytes(b"\x89PNG\r\n\x1a\n not a calendar")
    code, _, err = cli.run("account", "add", "local", "--principal", "Ada", "--maildir", str(maildir),
                           "--calendar", str(calendar))
    assert code == 1 and "is not an iCalendar (.ics) file" in err
    assert cli.json("account", "list") == {"accounts": []}

    empty = tmp_path / "empty.mbox"
    empty.write_bytes(b"")  # a new mailbox with nothing in it yet
    added = cli.json("account", "add", "local", "--principal", "Ada", "--mbox", str(empty))["account"]
    assert added["settings"] == {"mbox": str(empty.resolve())}
