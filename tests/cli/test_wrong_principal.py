"""`assistant draft submit` refuses to write as one principal to another principal's correspondent or thread unless
the assistant confirms with --confirm-principal (two principals on real maildirs, synced by the local connector)."""
from __future__ import annotations

import mailbox
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.cli.conftest import Cli


def deliver(maildir: Path, sender: str, to: str, subject: str, message_id: str) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = sender, to, subject, message_id
    msg["Date"] = "Mon, 02 Mar 2026 10:00:00 +0900"
    msg.set_content("Shall we meet on site?")
    mailbox.Maildir(maildir, create=False).add(msg)


@pytest.fixture
def dana_and_kenji(cli: Cli, tmp_path: Path) -> dict[str, Path]:
    boxes = {}
    for slug, name, zone, address in (("dana", "Dana Whitfield", "America/New_York", "dana@whitfield.example"),
                                      ("kenji", "Kenji Sato", "Asia/Tokyo", "kenji@sato.example")):
        box = tmp_path / f"{slug}-mail"
        mailbox.Maildir(box, create=True)
        boxes[slug] = box
        cli.add_principal(name, zone, address)
        cli.json("account", "add", "local", "--principal", name, "--maildir", str(box))
        cli.json("principal", "set", name, "--approval", "never", "--undo-seconds", "0")
    deliver(boxes["kenji"], "Misaki Tanaka <misaki@kamakura.example>", "kenji@sato.example", "Site visit",
            "<site-1@kamakura.example>")
    deliver(boxes["dana"], "Marcus Bell <mbell@harlow.example>", "dana@whitfield.example", "Lease", "<lease-1@harlow.example>")
    cli.json("sync")
    return boxes


def sent(maildir: Path) -> list[str]:
    box = mailbox.Maildir(maildir / ".Sent", create=False) if (maildir / ".Sent").exists() else None
    return [box.get_message(k)["To"] for k in box.keys()] if box is not None else []


def draft(cli: Cli, to: str, *extra: str) -> int:
    return cli.json("draft", "new", "--principal", "Dana Whitfield", "--to", to, "--subject", "Hello",
                    "--body", "Dear Misaki,", *extra)["draft"]["id"]


def test_writing_as_dana_to_kenjis_correspondent_is_refused_until_confirmed(cli, dana_and_kenji):
    draft_id = draft(cli, "misaki@kamakura.example")
    code, out, err = cli.run("draft", "submit", str(draft_id))
    assert code == 1 and out == ""
    assert err.count("\n") == 1
    assert "misaki@kamakura.example has corresponded only with Kenji Sato, never with Dana Whitfield" in err
    assert "--confirm-principal" in err
    assert cli.json("draft", "show", str(draft_id))["draft"]["state"] == "draft"
    cli.json("sync")
    assert sent(dana_and_kenji["dana"]) == []

    assert cli.json("draft", "submit", str(draft_id), "--confirm-principal")["state"] == "sending"
    cli.json("sync")
    assert sent(dana_and_kenji["dana"]) == ["misaki@kamakura.example"]


def test_a_reply_into_kenjis_thread_is_refused(cli, dana_and_kenji):
    draft_id = draft(cli, "someone-new@elsewhere.example", "--in-reply-to", "<site-1@kamakura.example>")
    code, _out, err = cli.run("draft", "submit", str(draft_id))
    assert code == 1
    assert "This reply's thread came in for Kenji Sato, not Dana Whitfield" in err


def test_dana_writing_to_her_own_correspondent_or_someone_new_is_not_asked(cli, dana_and_kenji):
    for to in ("mbell@harlow.example", "someone-new@elsewhere.example"):
        assert cli.json("draft", "submit", str(draft(cli, to)))["state"] == "sending"
