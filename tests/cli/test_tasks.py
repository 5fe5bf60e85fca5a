def test_add_list_move_done_with_repeat(cli, ann_and_ken):
    added = cli.json("task", "add", "Weekly report", "--principal", "Ann", "--due", "2026-11-27 09:00",
                     "--column", "to do", "--repeat", "every weekday", "--label", "report")["task"]
    assert added["column"] == "To do"
    assert added["due_utc"] == "2026-11-27T14:00:00Z" and added["due_local"] == "2026-11-27T09:00:00-05:00"
    assert added["repeat"] == "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    other = cli.json("task", "add", "Ken's visa", "--principal", "Ken")["task"]
    assert other["column"] == "Inbox"

    ann = cli.json("task", "list", "--principal", "Ann")
    assert [t["title"] for t in ann["tasks"]] == ["Weekly report"]
    assert ann["columns"] == ["Inbox", "To do", "Doing", "Waiting on principal", "Done"]

    moved = cli.json("task", "move", str(added["id"]), "Doing")
    assert moved["task"]["column"] == "Doing" and moved["next"] is None
    done = cli.json("task", "done", str(added["id"]))
    assert done["task"]["column"] == "Done" and done["task"]["done_utc"]
    assert done["next"]["due_local"] == "2026-11-30T09:00:00-05:00" and done["next"]["column"] == "Doing"
    titles = [(t["title"], t["column"]) for t in cli.json("task", "list", "--principal", "Ann")["tasks"]]
    assert titles == [("Weekly report", "Doing"), ("Weekly report", "Done")]
    assert [t["title"] for t in cli.json("task", "list", "--principal", "Ken")["tasks"]] == ["Ken's visa"]

    code, out, _ = cli.run("task", "list", "--principal", "Ann", "--label", "report")
    assert code == 0 and "Weekly report" in out


def test_errors_are_one_line(cli, ann_and_ken):
    code, _, err = cli.run("task", "move", "42", "Done")
    assert code == 1 and err.strip() == "assistant: no task 42"
    task = cli.json("task", "add", "x", "--principal", "Ann")["task"]
    code, _, err = cli.run("task", "move", str(task["id"]), "Nowhere")
    assert code == 1 and "no column 'Nowhere'" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli.run("task", "add", "y", "--principal", "Ann", "--repeat", "now and then")
    assert code == 1 and "repeat rule" in err
    code, _, err = cli.run("task", "add", "y", "--principal", "Ann", "--due", "soonish")
    assert code == 1 and "cannot read the time" in err


def test_export_reimport_and_archive(cli, ann_and_ken, tmp_path):
    cli.json("task", "add", "Renew lease, flat 3", "--principal", "Ann", "--due", "2026-12-01 09:00",
             "--label", "home", "--column", "Doing")
    first = cli.json("task", "add", "Old thing", "--principal", "Ann")["task"]
    cli.json("task", "done", str(first["id"]))
    target = tmp_path / "ann.csv"
    assert cli.json("task", "export", "--principal", "Ann", "-o", str(target))["tasks"] == 2
    report = cli.json("import", str(target), "--principal", "Ken")
    assert report["kind"] == "board-csv" and report["imported"] == 2 and report["rejected"] == []
    ken = cli.json("task", "list", "--principal", "Ken")["tasks"]  # the instant is kept (the CSV has the offset)
    assert [(t["title"], t["column"], t["due_local"]) for t in ken] == [
        ("Renew lease, flat 3", "Doing", "2026-12-01T23:00:00+09:00"), ("Old thing", "Done", None)]
    archived = cli.json("task", "archive", "--principal", "Ann", "--after-days", "0")
    assert archived == {"principal": "Ann", "archive_after_days": 0, "archived": 1}
    assert [t["title"] for t in cli.json("task", "list", "--principal", "Ann")["tasks"]] == [
        "Renew lease, flat 3"]


def test_a_task_from_a_call_or_a_message_is_the_card_the_app_makes(cli, ann_and_ken, ws):
    """`task add --from KIND:ID` goes through the board's make_task_from, as Ctrl+T in the inbox and the quick log do:
    one title rule, the link back, a reminder when it is due."""
    from datetime import UTC, datetime

    from assistant.domain import Account, Address, Message
    from assistant.store import Store
    from assistant.store import mail as mail_store

    call = cli.json("call", "log", "--principal", "Ann", "--number", "+12125550123", "--direction", "missed",
                    "--name", "Grace Hopper", "--outcome", "left a voicemail", "--at", "2026-11-26 10:00")["call"]
    from_call = cli.json("task", "add", "--from", f"call:{call['id']}", "--principal", "Ann",
                         "--due", "2026-11-27 09:00")["task"]
    assert from_call["title"] == "Follow up: Missed call from Grace Hopper"
    assert from_call["link"] == f"call:{call['id']}" and from_call["notes"].startswith("Outcome: left a voicemail")
    via_calls = cli.json("call", "task", str(call["id"]), "--principal", "Ann")["task"]
    assert via_calls["title"] == from_call["title"]  # the Calls command makes the same card

    store = Store(ws)
    try:
        ann = store.principal_by_name("Ann")
        account = store.add_account(Account(ann.id, "local", "ann@example.com", {}))
        message = Message(principal_id=ann.id, account_id=account.id, remote_id="m1", subject="Re: Fwd: Lease renewal",
                          sender=Address("Bob", "bob@example.com"), date_utc=datetime(2026, 11, 25, tzinfo=UTC))
        message_id, _ = mail_store.upsert_message(store.scope(ann.id), message)
    finally:
        store.close()
    from_message = cli.json("task", "add", "--from", f"message:{message_id}", "--principal", "Ann")["task"]
    assert from_message["title"] == "Reply to: Lease renewal" and from_message["link"] == f"message:{message_id}"
    titled = cli.json("task", "add", "Call Bob about the lease", "--from", f"message:{message_id}",
                      "--principal", "Ann")["task"]
    assert titled["title"] == "Call Bob about the lease" and titled["link"] == f"message:{message_id}"

    reminders = cli.json("reminders", "list", "--principal", "Ann")
    assert any(r["link"] == f"task:{from_call['id']}" for r in reminders["reminders"])

    code, _, err = cli.run("task", "add", "--from", "invoice:3", "--principal", "Ann")
    assert code == 2  # a usage error, as argparse's own
    assert "--from takes message:ID" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli.run("task", "add", "--from", "call:999", "--principal", "Ken")
    assert code == 1 and "no call" in err
    code, _, err = cli.run("task", "add", "--principal", "Ann")
    assert code == 1 and "a task needs a title" in err
