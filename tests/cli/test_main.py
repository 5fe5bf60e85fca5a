from __future__ import annotations

import json
import mailbox
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from assistant.cli.main import main
from assistant.domain import Account, Address, Message, Principal
from assistant.store import Store
from assistant.store import calendar as calendar_store
from assistant.store import calls as call_store
from assistant.store import mail as mail_store
from tests.cli.conftest import Cli


def test_principal_add_and_list_json(cli):
    added = cli.add_principal("Ada Lovelace", "Europe/London", "ada@example.com", "Ada <ada@work.example>")
    assert added["name"] == "Ada Lovelace"
    assert added["addresses"] == ["ada@example.com", "ada@work.example"]
    cli.add_principal("Kenji Sato", "Asia/Tokyo", "kenji@example.jp")

    listed = cli.json("principal", "list")["principals"]
    assert [p["name"] for p in listed] == ["Ada Lovelace", "Kenji Sato"]
    kenji = listed[1]
    assert kenji["timezone"] == "Asia/Tokyo" and kenji["region"] == "US"
    assert kenji["local_time"].endswith("+09:00")


def test_principal_list_human_table_shows_local_time(cli):
    cli.add_principal("Kenji Sato", "Asia/Tokyo", "kenji@example.jp")
    code, out, err = cli.run("principal", "list")
    assert code == 0 and err == ""
    header, rule, row = out.splitlines()
    assert header.split()[:3] == ["ID", "NAME", "TIME"]
    assert "Kenji Sato" in row and "JST" in row


def test_unknown_time_zone_is_one_line_exit_1(cli):
    code, out, err = cli.run("principal", "add", "Zed", "--email", "z@example.org", "--timezone", "Mars/Olympus_Mons")
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("assistant: ") and "Mars/Olympus_Mons" in err
    assert "Traceback" not in err


def test_duplicate_principal_and_bad_email_and_region(cli, ada):
    for extra in (["--email", "ada@example.com"], ["--email", "not-an-address"],
                  ["--email", "a@example.com", "--region", "XX"]):
        name = "Ada" if extra == ["--email", "ada@example.com"] else "Other"
        code, out, err = cli.run("principal", "add", name, "--timezone", "UTC", *extra)
        assert code == 1, extra
        assert len(err.splitlines()) == 1 and err.startswith("assistant: ")


@pytest.mark.parametrize("argv", [
    ["principal"],
    ["principal", "remove", "x"],
    ["principal", "add", "NoZone", "--email", "a@b.c"],
    ["account", "add", "local", "--principal", "A"],
    ["account", "add", "local", "--principal", "A", "--maildir", "x", "--mbox", "y"],
    ["frobnicate"],
    ["search", "x", "--limit", "many"],
    ["search", "x", "--limit", "0"],
    ["search", "  "],
])
def test_usage_errors_exit_2(cli, ws, argv):
    code, out, err = cli.run(*argv)
    assert code == 2
    last = err.splitlines()[-1]
    assert last.startswith("assistant: ")
    assert "usage:" in err or len(err.splitlines()) == 1
    assert not (ws / "workspace.sqlite3").exists()


def test_global_options_go_before_the_command(cli, ws):
    code, _, err = cli.bare("principal", "list", "--workspace", str(ws))
    assert code == 2 and "--workspace" in err


def test_help_exits_0(cli):
    code, out, _ = cli.bare("--help")
    assert code == 0 and "principal" in out


def test_account_add_local_missing_path_is_exit_1(cli, ada, tmp_path, maildir):
    for option, path in (("--maildir", tmp_path / "nope"), ("--mbox", tmp_path / "nope.mbox")):
        code, out, err = cli.run("account", "add", "local", "--principal", "Ada", option, str(path))
        assert code == 1 and out == ""
        assert err == f"assistant: {option[2:]} {path} does not exist\n"
    code, _, err = cli.run("account", "add", "local", "--principal", "Ada",
                           "--maildir", str(maildir), "--calendar", str(tmp_path / "missing.ics"))
    assert code == 1 and "missing.ics does not exist" in err
    code, _, err = cli.run("account", "add", "local", "--principal", "Ada", "--maildir", str(tmp_path))
    assert code == 1 and "is not a maildir" in err
    assert cli.json("account", "list") == {"accounts": []}


def test_account_add_local_and_list(cli, ada, tmp_path, maildir):
    calendar = tmp_path / "cal.ics"
    calendar.write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n")
    added = cli.json("account", "add", "local", "--principal", "ada", "--maildir", str(maildir),
                     "--calendar", str(calendar))["account"]
    assert added["kind"] == "local" and added["principal"] == "Ada" and added["address"] == "ada@example.com"
    assert added["settings"] == {"maildir": str(maildir.resolve()), "calendar": str(calendar.resolve())}
    listed = cli.json("account", "list")["accounts"]
    assert [a["id"] for a in listed] == [added["id"]]
    assert listed[0]["status"] == "ok" and listed[0]["last_sync_utc"] is None

    code, _, err = cli.run("account", "add", "local", "--principal", "Nobody", "--maildir", str(maildir))
    assert code == 1 and "no principal named 'Nobody'" in err


def _seed_messages(ws: Path) -> None:
    store = Store(ws)
    try:
        for name, zone, subject in (("Ada", "Europe/London", "Quarterly budget review"),
                                    ("Kenji", "Asia/Tokyo", "予算 budget for Osaka trip")):
            p = store.add_principal(Principal(name=name, timezone=zone, addresses=[f"{name.lower()}@example.com"]))
            a = store.add_account(Account(principal_id=p.id, kind="local", address=p.primary_address))
            scope = store.scope(p.id)
            mail_store.upsert_message(scope, Message(
                principal_id=p.id, account_id=a.id, remote_id="1", subject=subject,
                sender=Address("Grace", "grace@example.org"), date_utc=datetime(2026, 3, 1, 23, 30, tzinfo=UTC),
                message_id_header=f"<{name}@x>", body_text="numbers attached",
            ))
            mail_store.upsert_message(scope, Message(
                principal_id=p.id, account_id=a.id, remote_id="2", subject="Lunch", sender=Address("", "bob@example.org"),
                date_utc=datetime(2026, 2, 1, tzinfo=UTC), message_id_header=f"<{name}2@x>", body_text="soup",
            ))
    finally:
        store.close()


def test_search_across_principals_labels_every_row(cli, ws):
    _seed_messages(ws)
    data = cli.json("search", "budget")
    results = data["results"]
    assert sorted(r["principal"] for r in results) == ["Ada", "Kenji"]
    by_principal = {r["principal"]: r for r in results}
    assert by_principal["Ada"]["subject"] == "Quarterly budget review"
    assert by_principal["Ada"]["date_utc"] == "2026-03-01T23:30:00Z"
    assert by_principal["Kenji"]["date_local"] == "2026-03-02T08:30:00+09:00"
    assert by_principal["Kenji"]["from"] == "Grace <grace@example.org>"

    only = cli.json("search", "budget", "--principal", "Kenji")["results"]
    assert [r["principal"] for r in only] == ["Kenji"]
    assert cli.json("search", "from:bob subject:lunch", "--principal", "Ada")["results"][0]["subject"] == "Lunch"
    assert cli.json("search", "nothing-like-this")["results"] == []


def test_search_human_output_in_principals_zone(cli, ws):
    _seed_messages(ws)
    code, out, err = cli.run("search", "budget")
    assert code == 0 and err == ""
    rows = out.splitlines()[2:]
    kenji = next(r for r in rows if r.startswith("Kenji"))
    ada = next(r for r in rows if r.startswith("Ada"))
    assert "2026-03-02 08:30 JST" in kenji
    assert "2026-03-01 23:30 GMT" in ada


def test_search_bad_operator_is_exit_1(cli):
    code, out, err = cli.run("search", "after:yesterday")
    assert code == 1 and out == "" and err.startswith("assistant: after:")


def test_workspace_too_new_is_one_line(cli, ws):
    Store(ws).close()
    from assistant.store.db import connect

    db = connect(ws)
    db.execute("PRAGMA user_version=999")
    db.close()
    code, _, err = cli.run("principal", "list")
    assert code == 1 and len(err.splitlines()) == 1 and "newer" in err


def test_bug_is_one_line_without_debug_and_traceback_with(cli, monkeypatch):
    import assistant.store

    def broken(self):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(assistant.store.Store, "principals", broken)
    code, _, err = cli.run("principal", "list")
    assert code == 1
    assert err == "assistant: RuntimeError: boom second line (run with --debug for the traceback)\n"
    code, _, err = cli.run("--debug", "principal", "list")
    assert code == 1 and "Traceback" in err and "RuntimeError: boom" in err


def test_doctor_json(cli, ada):
    code, out, err = cli.run("--json", "doctor")
    data = json.loads(out)
    names = [c["name"] for c in data["checks"]]
    assert names[:5] == ["Qt platform", "credential store", "time zones", "log", "database"]
    assert data["ok"] is (code == 0)
    assert all(c["ok"] for c in data["checks"]), data


def _write_mail(maildir: Path, n: int, subject: str) -> None:
    box = mailbox.Maildir(maildir, create=True)
    msg = EmailMessage()
    msg["From"] = "Grace Hopper <grace@example.org>"
    msg["To"] = "ada@example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<cli-test-{n}@example.org>"
    msg["Date"] = f"Mon, 02 Mar 2026 10:0{n}:00 +0000"
    msg.set_content(f"Body number {n}")
    box.add(msg)


def test_sync_json_counts_and_failure(cli, ada, maildir):
    for n in range(3):
        _write_mail(maildir, n, f"Zeppelin schedule {n}")
    account = cli.json("account", "add", "local", "--principal", "Ada", "--maildir", str(maildir))["account"]

    first = cli.json("sync")
    assert first["ok"] is True
    [report] = first["accounts"]
    assert report["account_id"] == account["id"] and report["principal"] == "Ada"
    assert report["messages"] == {"added": 3, "updated": 0, "removed": 0}
    assert report["events"] == {"added": 0, "updated": 0, "removed": 0}
    assert report["errors"] == [] and isinstance(report["requests"], int)

    _write_mail(maildir, 3, "Zeppelin schedule 3")
    second = cli.json("sync", "--principal", "Ada")["accounts"][0]
    assert second["messages"] == {"added": 1, "updated": 0, "removed": 0}
    assert len(cli.json("search", "zeppelin")["results"]) == 4

    code, _, err = cli.run("sync", "--principal", "Nobody")
    assert code == 1 and "no principal named 'Nobody'" in err

    import shutil

    shutil.rmtree(maildir)
    code, out, err = cli.run("--json", "sync")
    assert code == 1
    failed = json.loads(out)
    assert failed["ok"] is False and failed["accounts"][0]["errors"]
    assert len(err.splitlines()) == 1 and err.startswith("assistant: 1 of 1 accounts failed to sync; account ")
    assert cli.json("account", "list")["accounts"][0]["status"] == "error"
    # Nothing is lost when the source disappears: the four messages are still searchable.
    assert len(cli.json("search", "zeppelin")["results"]) == 4


@pytest.fixture(scope="module")
def demo_workspace(tmp_path_factory) -> Path:
    workspace = tmp_path_factory.mktemp("demo") / "ws"
    assert main(["--workspace", str(workspace), "--json", "demo", "--no-gui"]) == 0
    return workspace


def test_demo_has_three_principals_and_search_finds_a_subject_word(capsys, demo_workspace):
    demo = Cli(demo_workspace, capsys)
    principals = demo.json("principal", "list")["principals"]
    assert len(principals) == 3
    assert len({p["timezone"] for p in principals}) == 3

    store = Store(demo_workspace)
    try:
        principal = store.principal_by_name(principals[1]["name"])
        thread = mail_store.threads(store.scope(principal.id), limit=1)[0]
    finally:
        store.close()
    word = max(thread.subject.replace("—", " ").split(), key=len).strip(".,:;!?\"'“”()")
    results = demo.json("search", word, "--principal", principal.name)["results"]
    assert any(r["thread_id"] == thread.id for r in results), (word, thread.subject)
    assert {r["principal"] for r in results} == {principal.name}
    everyone = demo.json("search", word, "--limit", "500")["results"]
    assert {r["thread_id"] for r in results} <= {r["thread_id"] for r in everyone if r["principal"] == principal.name}


def test_demo_refuses_a_folder_that_is_not_a_demo(cli, tmp_path):
    precious = tmp_path / "real"
    Store(precious).close()
    code, out, err = cli.bare("--workspace", str(precious), "demo", "--no-gui")
    assert code == 1 and len(err.splitlines()) == 1
    assert (precious / "workspace.sqlite3").exists()


def test_demo_without_workspace_never_uses_the_real_workspace(monkeypatch, tmp_path):
    import assistant.cli.main as cli

    monkeypatch.setattr("assistant.store.default_workspace_dir", lambda: tmp_path / "data" / "workspace")
    assert cli.default_demo_dir() == tmp_path / "data" / "demo-workspace"


TESTDATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata"


def test_import_real_world_mail_twice_adds_nothing_the_second_time(cli, ada):
    folder = TESTDATA / "mime" / "cpython_test_email"
    first = cli.json("import", str(folder), "--principal", "Ada")
    assert first["principal"] == "Ada" and first["path"] == str(folder.resolve())
    assert first["imported"] > 20
    assert all(r["item"] and r["reason"] and "\n" not in r["reason"] for r in first["rejected"])
    second = cli.json("import", str(folder), "--principal", "Ada")
    assert second["imported"] == 0
    assert second["skipped"] == first["imported"] + first["skipped"]
    found = cli.json("search", "subject:digest", "--principal", "Ada")["results"]
    assert any(r["subject"].startswith("Ppp digest") for r in found)


def test_import_broken_calendar_reports_the_reason(cli, ada):
    broken = TESTDATA / "ics" / "collective_icalendar" / "calendars__broken_ical.ics"
    code, out, err = cli.run("import", str(broken), "--principal", "Ada")
    assert code == 0 and err == ""
    summary, *rejections = out.splitlines()
    assert summary.startswith("Imported ") and "rejected 1 into Ada." in summary
    assert rejections[0].startswith("  rejected calendars__broken_ical.ics: ")


def test_import_warns_about_a_message_it_could_only_partly_read(cli, ada):
    """As `sync` does: the message is imported, and what could not be read is said for its file."""
    long_header = TESTDATA / "mime" / "flanker" / "long-header.eml"
    result = cli.json("import", str(long_header), "--principal", "Ada")
    assert result["imported"] == 1
    assert result["warnings"] == [{"item": "long-header.eml", "warning": "Subject header too long, cut"}]
    code, out, err = cli.run("import", str(TESTDATA / "mime" / "flanker"), "--principal", "Ada")
    assert code == 0 and err == "" and "  warning long-header.eml:" not in out  # imported already: nothing new to say
    cli.add_principal("Bo", "UTC", "bo@example.com")
    code, out, err = cli.run("import", str(long_header), "--principal", "Bo")
    assert code == 0 and out.splitlines()[1:] == ["  warning long-header.eml: Subject header too long, cut"]


def test_import_missing_path_or_principal(cli, ada, tmp_path):
    code, _, err = cli.run("import", str(tmp_path / "gone.mbox"), "--principal", "Ada")
    assert code == 1 and err == f"assistant: {tmp_path / 'gone.mbox'} does not exist\n"
    code, _, err = cli.run("import", str(TESTDATA / "mime"), "--principal", "Zoe")
    assert code == 1 and "no principal named 'Zoe'" in err


def test_search_in_tasks_calls_events_and_all(cli, ws):
    from assistant.board import service as board
    from assistant.domain import CalendarEvent, Call, CallDirection

    _seed_messages(ws)
    store = Store(ws)
    try:
        ada, kenji = store.principal_by_name("Ada"), store.principal_by_name("Kenji")
        board.make_task(store, ada.id, "Send the budget to Grace", due_utc=datetime(2026, 3, 3, 10, tzinfo=UTC))
        board.make_task(store, kenji.id, "Book the Osaka hotel", notes="budget under ¥20,000")
        call_store.add_call(store.scope(ada.id), Call(ada.id, CallDirection.INCOMING, "+44 20 7946 0321",
                                          datetime(2026, 3, 2, 9, tzinfo=UTC), caller_name="Grace Hopper",
                                          notes="asked about the budget figures"))
        account = store.accounts(kenji.id)[0]
        calendar_store.upsert_event(store.scope(kenji.id), CalendarEvent(
            principal_id=kenji.id, account_id=account.id, remote_id="e1", uid="e1", summary="Budget meeting",
            start_utc=datetime(2026, 3, 4, 1, tzinfo=UTC), end_utc=datetime(2026, 3, 4, 2, tzinfo=UTC),
            location="Osaka office"))
    finally:
        store.close()

    tasks = cli.json("search", "budget", "--in", "tasks")["results"]
    assert sorted((r["principal"], r["title"]) for r in tasks) == [
        ("Ada", "Send the budget to Grace"), ("Kenji", "Book the Osaka hotel")]  # title or notes
    assert next(r for r in tasks if r["principal"] == "Ada")["when_local"] == "2026-03-03T10:00:00+00:00"
    calls = cli.json("search", "budget", "--in", "calls")["results"]
    assert [(r["kind"], r["principal"], r["title"]) for r in calls] == [("call", "Ada", "Grace Hopper")]
    events = cli.json("search", "budget", "--in", "events", "--principal", "Kenji")["results"]
    assert [(r["title"], r["detail"], r["when_local"]) for r in events] == [
        ("Budget meeting", "Osaka office", "2026-03-04T10:00:00+09:00")]
    assert cli.json("search", "budget", "--in", "events", "--principal", "Ada")["results"] == []

    everything = cli.json("search", "budget", "--in", "all")["results"]
    assert sorted(r["kind"] for r in everything) == ["call", "event", "message", "message", "task", "task"]
    assert [r["when_utc"] for r in everything if r["when_utc"]] == sorted(
        (r["when_utc"] for r in everything if r["when_utc"]), reverse=True)  # newest first, each row labelled
    assert all(r["principal"] in ("Ada", "Kenji") for r in everything)

    code, _out, err = cli.run("search", "from:grace budget", "--in", "calls")
    assert code == 2 and "search messages, not calls" in err
    code, out, _err = cli.run("search", "budget", "--in", "tasks")
    assert code == 0 and "KIND" in out and "Send the budget to Grace" in out
