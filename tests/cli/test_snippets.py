"""``assistant snippet …``: a principal's snippets and their approval overrides, through ``main`` and a real store."""
from __future__ import annotations


def test_snippet_set_list_clear_and_delete(cli):
    cli.add_principal("Ann Lee", "America/New_York", "ann@example.com")
    cli.add_principal("Ken Sato", "Asia/Tokyo", "ken@example.com")
    made = cli.json("snippet", "set", "confirm", "--principal", "Ann Lee", "--body", "Confirmed, {{first_name}}.",
                    "--approval", "never")
    assert made == {"principal": "Ann Lee",
                    "snippet": {"name": "confirm", "body": "Confirmed, {{first_name}}.", "approval": "never"}}
    cli.json("snippet", "set", "thanks", "--principal", "Ann Lee", "--body", "Thank you.")
    # changing the text alone keeps the override
    cli.json("snippet", "set", "confirm", "--principal", "Ann Lee", "--body", "Confirmed.")
    listed = cli.json("snippet", "list", "--principal", "Ann Lee")["snippets"]
    assert listed == [{"name": "confirm", "body": "Confirmed.", "approval": "never"},
                      {"name": "thanks", "body": "Thank you.", "approval": None}]
    assert cli.json("snippet", "list", "--principal", "Ken Sato")["snippets"] == []

    code, out, _ = cli.run("snippet", "list", "--principal", "Ann Lee")
    assert code == 0 and "confirm" in out and "never" in out and "(policy)" in out

    cleared = cli.json("snippet", "set", "confirm", "--principal", "Ann Lee", "--approval", "principal")
    assert cleared["snippet"] == {"name": "confirm", "body": "Confirmed.", "approval": None}

    code, _, err = cli.run("snippet", "set", "new-one", "--principal", "Ann Lee", "--approval", "always")
    assert code != 0 and "--body" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli.run("snippet", "set", "x", "--principal", "Ann Lee", "--body", "x", "--approval", "sometimes")
    assert code == 2 and "invalid choice" in err

    assert cli.json("snippet", "delete", "thanks", "--principal", "Ann Lee") == {"principal": "Ann Lee",
                                                                                "deleted": "thanks"}
    assert [s["name"] for s in cli.json("snippet", "list", "--principal", "Ann Lee")["snippets"]] == ["confirm"]
    code, _, err = cli.run("snippet", "delete", "thanks", "--principal", "Ann Lee")
    assert code != 0 and "no snippet" in err


def test_a_drafts_override_is_set_and_cleared_from_the_command_line(cli, maildir):
    cli.add_principal("Ann Lee", "America/New_York", "ann@example.com")
    cli.json("account", "add", "local", "--principal", "Ann Lee", "--maildir", str(maildir))
    d = cli.json("draft", "new", "--principal", "Ann Lee", "--to", "bob@example.org", "--subject", "Thursday",
                 "--body", "Confirmed.", "--approval", "never")["draft"]
    assert d["approval_override"] == "never"
    edited = cli.json("draft", "edit", str(d["id"]), "--approval", "principal")["draft"]
    assert edited["approval_override"] is None and edited["version"] == d["version"]
