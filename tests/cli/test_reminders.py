def test_remind_add_reads_local_time_in_the_principals_zone_across_dst(cli, ann_and_ken, monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")
    # 09:00 New York on the day it springs forward is 13:00 UTC (EDT); the day before it was 14:00 UTC (EST)
    after = cli.json("remind", "add", "Call the bank", "--principal", "Ann", "--at", "2026-03-08 09:00")
    before = cli.json("remind", "add", "Pay rent", "--principal", "Ann", "--at", "2026-03-07 09:00")
    assert after["due_utc"] == "2026-03-08T13:00:00Z" and after["due_principal"] == "2026-03-08T09:00:00-04:00"
    assert before["due_utc"] == "2026-03-07T14:00:00Z"
    assert after["due_assistant"] == "2026-03-08T14:00:00+01:00" and after["assistant_timezone"] == "Europe/Berlin"
    offset = cli.json("remind", "add", "Ken's call", "--principal", "Ken", "--at", "2026-03-08T09:00:00+09:00")
    assert offset["due_utc"] == "2026-03-08T00:00:00Z" and offset["due_principal"] == "2026-03-08T09:00:00+09:00"

    listed = cli.json("reminders", "list")["reminders"]
    assert [r["text"] for r in listed] == ["Pay rent", "Ken's call", "Call the bank"]
    assert [r["principal"] for r in listed] == ["Ann", "Ken", "Ann"]
    only_ken = cli.json("reminders", "list", "--principal", "Ken")["reminders"]
    assert [r["text"] for r in only_ken] == ["Ken's call"]
    early = cli.json("reminders", "list", "--principal", "Ann", "--due-before", "2026-03-08 00:00")
    assert [r["text"] for r in early["reminders"]] == ["Pay rent"]

    code, out, _ = cli.run("reminders", "list")
    assert code == 0 and "2026-03-08 09:00 EDT" in out and "2026-03-08 14:00 CET" in out and "13:00" in out


def test_bad_input_is_one_line(cli, ann_and_ken):
    code, _, err = cli.run("remind", "add", "x", "--principal", "Ann", "--at", "tomorrow-ish")
    assert code == 1 and err.count("\n") == 1 and "cannot read the time" in err
    code, _, err = cli.run("remind", "add", "x", "--principal", "Nobody", "--at", "2026-03-08 09:00")
    assert code == 1 and err.count("\n") == 1
    code, _, err = cli.run("remind", "add", "x", "--principal", "Ann", "--at", "2026-03-08 09:00",
                           "--repeat", "FREQ=NEVER")
    assert code == 1 and "recurrence" in err
    assert cli.json("reminders", "list")["reminders"] == []


def test_snooze_and_settings(cli, ann_and_ken):
    r = cli.json("remind", "add", "Chase", "--principal", "Ken", "--at", "2026-03-06 18:00")  # a Friday
    moved = cli.json("remind", "snooze", str(r["id"]), "--principal", "Ken", "--until", "2026-03-09 09:00")
    assert moved["due_principal"] == "2026-03-09T09:00:00+09:00"
    s = cli.json("remind", "settings", "--principal", "Ken", "--notify", "urgent", "--quiet", "22:00-07:00")
    assert s == {"principal": "Ken", "notify": "urgent", "quiet_hours": "22:00-07:00"}
    mine = cli.json("remind", "settings", "--quiet", "23:00-06:30")
    assert mine["quiet_hours"] == "23:00-06:30"
    code, _, err = cli.run("remind", "settings", "--notify", "off")
    assert code == 2 and "--principal" in err


def test_follow_up_by_message_id_header_and_cancelled_by_a_synced_reply(cli, ann_and_ken, maildir):
    import mailbox
    from email.message import EmailMessage

    box = mailbox.Maildir(maildir, create=False)
    sent = EmailMessage()
    sent["From"], sent["To"], sent["Subject"] = "ann@example.org", "bob@example.com", "Quote"
    sent["Message-ID"], sent["Date"] = "<quote-1@example.org>", "Mon, 02 Mar 2026 09:00:00 -0500"
    sent.set_content("Here it is.\n")
    box.add_folder("Sent").add(sent.as_bytes())
    cli.json("account", "add", "local", "--principal", "Ann", "--maildir", str(maildir))
    cli.json("sync")
    f = cli.json("remind", "follow-up", "quote-1@example.org", "--principal", "Ann", "--at", "2026-03-05 09:00")
    assert f["kind"] == "follow-up" and f["text"] == "No reply yet to “Quote”"
    assert f["due_principal"] == "2026-03-05T09:00:00-05:00"
    code, _, err = cli.run("remind", "follow-up", "nope@example.org", "--principal", "Ann", "--at", "2026-03-05 09:00")
    assert code == 1 and "no message" in err
    reply = EmailMessage()
    reply["From"], reply["To"], reply["Subject"] = "bob@example.com", "ann@example.org", "Re: Quote"
    reply["Message-ID"], reply["In-Reply-To"] = "<re-quote@example.com>", "<quote-1@example.org>"
    reply["Date"] = "Tue, 03 Mar 2026 09:00:00 -0500"
    reply.set_content("Thanks.\n")
    box.add(reply.as_bytes())
    cli.json("sync")
    assert cli.json("reminders", "list")["reminders"] == []
    (cancelled,) = cli.json("reminders", "list", "--all")["reminders"]
    assert cancelled["state"] == "cancelled"
