import json

from assistant.cli.main import main


def run(capsys, ws, *argv):
    code = main(["--workspace", str(ws), *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys, ws, *argv):
    code, out, err = run(capsys, ws, "--json", *argv)
    assert code == 0, err
    return json.loads(out)


def _setup(capsys, ws):
    run_json(capsys, ws, "principal", "add", "Ann", "--email", "ann@example.org", "--timezone", "America/New_York")
    run_json(capsys, ws, "principal", "add", "Ken", "--email", "ken@example.jp", "--timezone", "Asia/Tokyo")


def test_remind_add_reads_local_time_in_the_principals_zone_across_dst(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")
    ws = tmp_path / "ws"
    _setup(capsys, ws)
    # 09:00 New York on the day it springs forward is 13:00 UTC (EDT); the day before it was 14:00 UTC (EST)
    after = run_json(capsys, ws, "remind", "add", "Call the bank", "--principal", "Ann", "--at", "2026-03-08 09:00")
    before = run_json(capsys, ws, "remind", "add", "Pay rent", "--principal", "Ann", "--at", "2026-03-07 09:00")
    assert after["due_utc"] == "2026-03-08T13:00:00Z" and after["due_principal"] == "2026-03-08T09:00:00-04:00"
    assert before["due_utc"] == "2026-03-07T14:00:00Z"
    assert after["due_assistant"] == "2026-03-08T14:00:00+01:00" and after["assistant_timezone"] == "Europe/Berlin"
    offset = run_json(capsys, ws, "remind", "add", "Ken's call", "--principal", "Ken",
                      "--at", "2026-03-08T09:00:00+09:00")
    assert offset["due_utc"] == "2026-03-08T00:00:00Z" and offset["due_principal"] == "2026-03-08T09:00:00+09:00"

    listed = run_json(capsys, ws, "reminders", "list")["reminders"]
    assert [r["text"] for r in listed] == ["Pay rent", "Ken's call", "Call the bank"]
    assert [r["principal"] for r in listed] == ["Ann", "Ken", "Ann"]
    only_ken = run_json(capsys, ws, "reminders", "list", "--principal", "Ken")["reminders"]
    assert [r["text"] for r in only_ken] == ["Ken's call"]
    early = run_json(capsys, ws, "reminders", "list", "--principal", "Ann", "--due-before", "2026-03-08 00:00")
    assert [r["text"] for r in early["reminders"]] == ["Pay rent"]

    code, out, _ = run(capsys, ws, "reminders", "list")
    assert code == 0 and "2026-03-08 09:00 EDT" in out and "2026-03-08 14:00 CET" in out and "13:00" in out


def test_bad_input_is_one_line(capsys, tmp_path):
    ws = tmp_path / "ws"
    _setup(capsys, ws)
    code, _, err = run(capsys, ws, "remind", "add", "x", "--principal", "Ann", "--at", "tomorrow-ish")
    assert code == 1 and err.count("\n") == 1 and "cannot read the time" in err
    code, _, err = run(capsys, ws, "remind", "add", "x", "--principal", "Nobody", "--at", "2026-03-08 09:00")
    assert code == 1 and err.count("\n") == 1
    code, _, err = run(capsys, ws, "remind", "add", "x", "--principal", "Ann", "--at", "2026-03-08 09:00",
                       "--repeat", "FREQ=NEVER")
    assert code == 1 and "recurrence" in err
    assert run_json(capsys, ws, "reminders", "list")["reminders"] == []


def test_snooze_and_settings(capsys, tmp_path):
    ws = tmp_path / "ws"
    _setup(capsys, ws)
    r = run_json(capsys, ws, "remind", "add", "Chase", "--principal", "Ken", "--at", "2026-03-06 18:00")  # a Friday
    moved = run_json(capsys, ws, "remind", "snooze", str(r["id"]), "--principal", "Ken", "--until", "2026-03-09 09:00")
    assert moved["due_principal"] == "2026-03-09T09:00:00+09:00"
    s = run_json(capsys, ws, "remind", "settings", "--principal", "Ken", "--notify", "urgent", "--quiet", "22:00-07:00")
    assert s == {"principal": "Ken", "notify": "urgent", "quiet_hours": "22:00-07:00"}
    mine = run_json(capsys, ws, "remind", "settings", "--quiet", "23:00-06:30")
    assert mine["quiet_hours"] == "23:00-06:30"
    code, _, err = run(capsys, ws, "remind", "settings", "--notify", "off")
    assert code == 2 and "--principal" in err


def test_follow_up_by_message_id_header_and_cancelled_by_a_synced_reply(capsys, tmp_path):
    import mailbox
    from email.message import EmailMessage

    ws = tmp_path / "ws"
    _setup(capsys, ws)
    maildir = tmp_path / "Maildir"
    box = mailbox.Maildir(maildir, create=True)
    sent = EmailMessage()
    sent["From"], sent["To"], sent["Subject"] = "ann@example.org", "bob@example.com", "Quote"
    sent["Message-ID"], sent["Date"] = "<quote-1@example.org>", "Mon, 02 Mar 2026 09:00:00 -0500"
    sent.set_content("Here it is.\n")
    box.add_folder("Sent").add(sent.as_bytes())
    run_json(capsys, ws, "account", "add", "local", "--principal", "Ann", "--maildir", str(maildir))
    run_json(capsys, ws, "sync")
    f = run_json(capsys, ws, "remind", "follow-up", "quote-1@example.org", "--principal", "Ann",
                 "--at", "2026-03-05 09:00")
    assert f["kind"] == "follow-up" and f["text"] == "No reply yet to “Quote”"
    assert f["due_principal"] == "2026-03-05T09:00:00-05:00"
    code, _, err = run(capsys, ws, "remind", "follow-up", "nope@example.org", "--principal", "Ann", "--at",
                       "2026-03-05 09:00")
    assert code == 1 and "no message" in err
    reply = EmailMessage()
    reply["From"], reply["To"], reply["Subject"] = "bob@example.com", "ann@example.org", "Re: Quote"
    reply["Message-ID"], reply["In-Reply-To"] = "<re-quote@example.com>", "<quote-1@example.org>"
    reply["Date"] = "Tue, 03 Mar 2026 09:00:00 -0500"
    reply.set_content("Thanks.\n")
    box.add(reply.as_bytes())
    run_json(capsys, ws, "sync")
    assert run_json(capsys, ws, "reminders", "list")["reminders"] == []
    (cancelled,) = run_json(capsys, ws, "reminders", "list", "--all")["reminders"]
    assert cancelled["state"] == "cancelled"
