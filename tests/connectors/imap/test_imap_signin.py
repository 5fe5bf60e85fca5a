"""`assistant account add imap` against the real Dovecot: the password from standard input into the credential store
only, a wrong one refused in one line, `plain` only to this machine, presets filled in."""
from __future__ import annotations

import io
import json

import pytest

from assistant.cli.main import main
from assistant.connectors.imap.signin import ImapSignIn
from assistant.core.errors import UsageError
from tests.connectors.imap.imap_handle import ADDRESS, DovecotHandle, dovecot, imap_registered, servers  # noqa: F401
from tests.connectors.imap.mailserver import USERS


def run(capsys, monkeypatch, workspace_dir, *args: str, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(["--workspace", str(workspace_dir), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_add_imap_account_keeps_the_password_only_in_the_credential_store(tmp_path, capsys, monkeypatch, dovecot,
                                                                          servers, memory_keyring):
    ws = tmp_path / "ws"
    assert run(capsys, monkeypatch, ws, "principal", "add", "Dana Whitfield", "--timezone", "Europe/Dublin",
               "--email", ADDRESS)[0] == 0
    fp_error = run(capsys, monkeypatch, ws, "account", "add", "imap", "--principal", "Dana Whitfield",
                   "--imap-host", f"127.0.0.1:{servers.dovecot.imap_port}",
                   "--smtp-host", f"127.0.0.1:{servers.postfix.submission_port}", "--security", "starttls",
                   "--user", ADDRESS, stdin=USERS[ADDRESS] + "\n")
    assert fp_error[0] != 0 and "not trusted" in fp_error[2] and "SHA-256 fingerprint" in fp_error[2]
    fingerprint = fp_error[2].split("--trust-fingerprint ")[1].split()[0]
    wrong = run(capsys, monkeypatch, ws, "account", "add", "imap", "--principal", "Dana Whitfield",
                "--imap-host", f"127.0.0.1:{servers.dovecot.imap_port}", "--security", "starttls",
                "--trust-fingerprint", fingerprint, "--user", ADDRESS, stdin="guess\n")
    assert wrong[0] != 0 and "refused the password" in wrong[2]
    code, out, err = run(capsys, monkeypatch, ws, "--json", "account", "add", "imap", "--principal", "Dana Whitfield",
                         "--imap-host", f"127.0.0.1:{servers.dovecot.imap_port}",
                         "--smtp-host", f"127.0.0.1:{servers.postfix.submission_port}", "--security", "starttls",
                         "--trust-fingerprint", fingerprint, "--user", ADDRESS, stdin=USERS[ADDRESS] + "\n")
    assert code == 0, err
    account = json.loads(out)["account"]
    assert account["kind"] == "imap" and account["settings"]["imap_port"] == servers.dovecot.imap_port
    # the password, beside the workspace's own encryption key
    assert [secret for (_, name), secret in memory_keyring.secrets.items()
            if not name.startswith("workspace:")] == [USERS[ADDRESS]]
    for path in ws.rglob("*"):  # the workspace (database, its journal) never holds the password
        if path.is_file():
            assert USERS[ADDRESS].encode() not in path.read_bytes()
    dovecot.add_message(b"From: z@example.org\r\nMessage-ID: <cli-1@example.org>\r\nSubject: Hello\r\n\r\nHi\r\n")
    code, out, err = run(capsys, monkeypatch, ws, "--json", "sync")  # with the kept password and the pinned certificate
    assert code == 0, out + err
    assert json.loads(out)["accounts"][0]["messages"]["added"] == 1


def test_plain_only_to_this_machine_and_presets_fill_the_servers():
    with pytest.raises(UsageError, match="only to this machine"):
        ImapSignIn("dana@example.net", imap_host="mail.example.net", security="plain").settings()
    assert ImapSignIn("dana@example.net", imap_host="127.0.0.1:1143", security="plain").settings()["imap_port"] == 1143
    gmail = ImapSignIn("dana@gmail.com", preset="gmail").settings()
    assert gmail["imap_host"] == "imap.gmail.com" and gmail["smtp_port"] == 465 and gmail["sent_by_server"]
    icloud = ImapSignIn("dana@icloud.com", preset="icloud").settings()
    assert icloud["smtp_security"] == "starttls" and icloud["caldav_url"] == "https://caldav.icloud.com/"
    with pytest.raises(UsageError, match="--imap-host"):
        ImapSignIn("dana@example.net").settings()
