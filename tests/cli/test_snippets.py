"""``assistant snippet …``: a principal's snippets and their approval overrides, through ``main`` and a real store."""
from __future__ import annotations

import json

from assistant.cli.main import main


def test_snippet_set_list_clear_and_delete(tmp_path, capsys):
    ws = str(tmp_path / "ws")

    def cli(*argv: str) -> tuple[int, str, str]:
        code = main(["--workspace", ws, *argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    def as_json(*argv: str) -> dict:
        code, out, err = cli("--json", *argv)
        assert code == 0, err
        return json.loads(out)

    as_json("principal", "add", "Ann Lee", "--email", "ann@example.com", "--timezone", "America/New_York")
    as_json("principal", "add", "Ken Sato", "--email", "ken@example.com", "--timezone", "Asia/Tokyo")
    made = as_json("snippet", "set", "confirm", "--principal", "Ann Lee", "--body", "Confirmed, {{first_name}}.",
                   "--approval", "never")
    assert made == {"principal": "Ann Lee",
                    "snippet": {"name": "confirm", "body": "Confirmed, {{first_name}}.", "approval": "never"}}
    as_json("snippet", "set", "thanks", "--principal", "Ann Lee", "--body", "Thank you.")
    # changing the text alone keeps the override
    as_json("snippet", "set", "confirm", "--principal", "Ann Lee", "--body", "Confirmed.")
    listed = as_json("snippet", "list", "--principal", "Ann Lee")["snippets"]
    assert listed == [{"name": "confirm", "body": "Confirmed.", "approval": "never"},
                      {"name": "thanks", "body": "Thank you.", "approval": None}]
    assert as_json("snippet", "list", "--principal", "Ken Sato")["snippets"] == []

    code, out, _ = cli("snippet", "list", "--principal", "Ann Lee")
    assert code == 0 and "confirm" in out and "never" in out and "(policy)" in out

    cleared = as_json("snippet", "set", "confirm", "--principal", "Ann Lee", "--approval", "principal")
    assert cleared["snippet"] == {"name": "confirm", "body": "Confirmed.", "approval": None}

    code, _, err = cli("snippet", "set", "new-one", "--principal", "Ann Lee", "--approval", "always")
    assert code != 0 and "--body" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli("snippet", "set", "x", "--principal", "Ann Lee", "--body", "x", "--approval", "sometimes")
    assert code == 2 and "invalid choice" in err

    assert as_json("snippet", "delete", "thanks", "--principal", "Ann Lee") == {"principal": "Ann Lee",
                                                                               "deleted": "thanks"}
    assert [s["name"] for s in as_json("snippet", "list", "--principal", "Ann Lee")["snippets"]] == ["confirm"]
    code, _, err = cli("snippet", "delete", "thanks", "--principal", "Ann Lee")
    assert code != 0 and "no snippet" in err


def test_a_drafts_override_is_set_and_cleared_from_the_command_line(tmp_path, capsys):
    import mailbox

    ws, maildir = str(tmp_path / "ws"), tmp_path / "Maildir"
    mailbox.Maildir(maildir, create=True)

    def as_json(*argv: str) -> dict:
        code = main(["--workspace", ws, "--json", *argv])
        captured = capsys.readouterr()
        assert code == 0, captured.err
        return json.loads(captured.out)

    as_json("principal", "add", "Ann Lee", "--email", "ann@example.com", "--timezone", "America/New_York")
    as_json("account", "add", "local", "--principal", "Ann Lee", "--maildir", str(maildir))
    d = as_json("draft", "new", "--principal", "Ann Lee", "--to", "bob@example.org", "--subject", "Thursday",
                "--body", "Confirmed.", "--approval", "never")["draft"]
    assert d["approval_override"] == "never"
    edited = as_json("draft", "edit", str(d["id"]), "--approval", "principal")["draft"]
    assert edited["approval_override"] is None and edited["version"] == d["version"]
