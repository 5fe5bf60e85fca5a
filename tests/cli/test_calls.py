import csv
import io
import re
import shlex
import sys
from pathlib import Path

TESTDATA = Path(__file__).parents[2].parent / "shared" / "testdata" / "calllogs"
SAMPLES = Path(__file__).parents[1] / "importing" / "samples" / "calls"


def test_call_log_and_list_show_the_number_as_typed_and_as_e164(cli, ann_and_ken):
    logged = cli.json("call", "log", "--principal", "Ken", "--number", "03-1234-5678", "--direction", "out",
                      "--duration", "95", "--at", "2026-03-08 09:00", "--notes", "site visit")
    call = logged["call"]
    assert (call["number"], call["number_e164"], call["number_kind"]) == ("03-1234-5678", "+81312345678", "phone")
    assert call["started_utc"] == "2026-03-08T00:00:00Z" and call["started_local"] == "2026-03-08T09:00:00+09:00"
    cli.json("call", "log", "--principal", "Ken", "--number", "12", "--direction", "missed")
    cli.json("call", "log", "--principal", "Ken", "--number", "client:kevin", "--direction", "in")
    listed = cli.json("call", "list", "--principal", "Ken")["calls"]
    kinds = {c["number"]: (c["number_e164"], c["number_kind"]) for c in listed}
    assert kinds == {"03-1234-5678": ("+81312345678", "phone"), "12": (None, "invalid"),
                     "client:kevin": (None, "client")}
    assert cli.json("call", "list", "--principal", "Ann")["calls"] == []
    missed = cli.json("call", "list", "--principal", "Ken", "--missed")["calls"]
    assert [c["number"] for c in missed] == ["12"]
    code, out, _ = cli.run("call", "list", "--principal", "Ken")
    assert code == 0 and "+81312345678" in out and "(invalid)" in out


def test_call_log_takes_the_name_from_earlier_calls(cli, ann_and_ken):
    cli.json("call", "log", "--principal", "Ann", "--number", "+1 212 555 0123", "--direction", "in",
             "--name", "Grace Hopper")
    again = cli.json("call", "log", "--principal", "Ann", "--number", "(212) 555-0123", "--direction", "out")
    assert again["call"]["caller_name"] == "Grace Hopper"
    by_number = cli.json("call", "list", "--principal", "Ann", "--number", "212.555.0123")["calls"]
    assert len(by_number) == 2


def test_call_edit_changes_the_duration_and_the_time_follows(cli, ann_and_ken):
    logged = cli.json("call", "log", "--principal", "Ken", "--number", "03-1234-5678", "--direction", "out",
                      "--duration", "300", "--at", "2026-03-08 09:00")["call"]
    before = cli.json("time", "list", "--principal", "Ken", "--day", "2026-03-08")["entries"]
    assert [(e["source"], e["minutes"]) for e in before] == [("call", 5)]
    edited = cli.json("call", "edit", str(logged["id"]), "--principal", "Ken", "--duration", "1200", "--notes", "long")
    assert edited["call"]["duration_s"] == 1200 and edited["call"]["notes"] == "long"
    after = cli.json("time", "list", "--principal", "Ken", "--day", "2026-03-08")["entries"]
    assert [(e["source"], e["minutes"], e["start_local"]) for e in after] == [
        ("call", 20, "2026-03-08T09:00:00+09:00")]
    code, _, err = cli.run("call", "edit", str(logged["id"]), "--principal", "Ann", "--duration", "10")
    assert code == 1 and "no call" in err  # another principal's call
    code, _, err = cli.run("call", "edit", str(logged["id"]), "--principal", "Ken", "--duration", "-5")
    assert code == 1 and len(err.strip().splitlines()) == 1


def test_usage_errors(cli, ann_and_ken):
    code, _, err = cli.run("call", "log", "--principal", "Ann", "--number", "1", "--direction", "sideways")
    assert code == 2
    code, _, err = cli.run("call", "log", "--principal", "Ann", "--number", "1", "--direction", "in", "--at", "soon")
    assert code == 1 and "cannot read the time" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli.run("call", "list", "--principal", "Nobody")
    assert code == 1


def test_import_google_voice_and_twilio_twice_gives_the_same_counts(cli, ann_and_ken):
    for attempt in range(2):
        gv = cli.json("import", str(TESTDATA / "google_voice_takeout"), "--principal", "Ann")
        tw = cli.json("import", str(TESTDATA / "twilio" / "calls_list_page.json"), "--principal", "Ann")
        assert gv["kind"] == "calls:google-voice" and tw["kind"] == "calls:twilio-json"
        assert (gv["imported"], gv["skipped"], gv["rejected"]) == ((12, 13, []) if attempt == 0 else (0, 25, []))
        assert (tw["imported"], tw["skipped"]) == ((1, 0) if attempt == 0 else (0, 1))
    assert len(cli.json("call", "list", "--principal", "Ann")["calls"]) == 13


def test_generic_csv_asks_for_a_mapping_then_remembers_it(cli, ann_and_ken):
    path = str(SAMPLES / "generic-phone-system.csv")
    code, _, err = cli.run("call", "import", path, "--principal", "Ann")
    assert code == 1 and "--map" in err
    code, _, err = cli.run("import", path, "--principal", "Ann")  # the generic import asks the same
    assert code == 1 and "--map" in err
    first = cli.json("call", "import", path, "--principal", "Ann", "--map",
                     "start=Date,time=Time,number=Phone,name=Who,direction=Kind,duration=Length,notes=Memo")
    assert first["imported"] == 4 and [r["item"] for r in first["rejected"]] == [
        "generic-phone-system.csv line 6", "generic-phone-system.csv line 7"]
    again = cli.json("import", path, "--principal", "Ann")
    assert (again["imported"], again["skipped"]) == (0, 4)


def test_export_totals_call_back_and_task(cli, ann_and_ken, tmp_path):
    cli.json("call", "log", "--principal", "Ann", "--number", "+12125550123", "--direction", "in",
             "--duration", "120", "--at", "2026-03-07 23:30")
    call = cli.json("call", "log", "--principal", "Ann", "--number", "+12125550123", "--direction", "out",
                    "--duration", "60", "--at", "2026-03-08 08:00")["call"]
    totals = cli.json("call", "totals", "--principal", "Ann")["totals"]
    assert totals == [{"period": "2026-03-08", "calls": 1, "seconds": 60},
                      {"period": "2026-03-07", "calls": 1, "seconds": 120}]
    weeks = cli.json("call", "totals", "--principal", "Ann", "--by", "week")["totals"]
    assert weeks == [{"period": "2026-W10", "calls": 2, "seconds": 180}]
    back = cli.json("call", "back", str(call["id"]), "--principal", "Ann", "--at", "2026-03-09 09:00")
    assert back["due_utc"] == "2026-03-09T13:00:00Z"  # EDT since the 8th
    assert back["due_local"] == "2026-03-09T09:00:00-04:00"
    task = cli.json("call", "task", str(call["id"]), "--principal", "Ann")["task"]
    assert task["link"] == f"call:{call['id']}" and "+12125550123" in task["title"]
    code, _, err = cli.run("call", "task", str(call["id"]), "--principal", "Ken")
    assert code == 1 and "no call" in err  # another principal's call is not there
    out_file = tmp_path / "calls.csv"
    exported = cli.json("call", "export", "--principal", "Ann", "-o", str(out_file))
    assert exported["exported"] == 2
    rows = list(csv.DictReader(io.StringIO(out_file.read_text())))
    assert [r["direction"] for r in rows] == ["out", "in"] and rows[0]["number_e164"] == "+12125550123"


def test_on_the_demo_a_logged_number_is_recognised_and_a_call_back_lands_in_the_principals_zone(cli):
    assert cli.run("demo", "--no-gui")[0] == 0
    call = cli.json("call", "log", "--principal", "Dana Whitfield", "--number", "212.555.0147",
                    "--direction", "in", "--duration", "65")["call"]
    assert (call["caller_name"], call["number_e164"]) == ("Marcus Bell", "+12125550147")
    # 2026-11-01 is the day New York falls back: 09:00 that morning is EST, 14:00 UTC
    back = cli.json("call", "back", str(call["id"]), "--principal", "Dana Whitfield", "--at", "2026-11-01 09:00")
    assert back["due_utc"] == "2026-11-01T14:00:00Z" and back["due_local"] == "2026-11-01T09:00:00-05:00"
    assert "Marcus Bell" in back["text"]
    # the same number is not Kenji's: his log does not name it
    other = cli.json("call", "log", "--principal", "Kenji Sato", "--number", "+1 212 555 0147",
                     "--direction", "out")["call"]
    assert other["caller_name"] == ""


def test_the_hint_for_a_csv_of_unknown_columns_names_a_command_that_runs(cli, ann_and_ken, tmp_path):
    """Reported: the hint named `assistant calls import`, which does not exist; followed as written, it must work."""
    export = tmp_path / "phone system.csv"
    export.write_text("Extension,Party,When,Seconds\n201,+2348031234567,2026-11-20 09:15,64\n")
    code, _, err = cli.run("import", str(export), "--principal", "Ann")
    assert code == 1 and len(err.strip().splitlines()) == 1
    hint = re.search(r"`assistant ([^`]*)`", err)
    assert hint, err
    argv = shlex.split(hint.group(1))
    assert argv[:3] == ["call", "import", str(export)]  # the path as given, so the line can be run as it is
    filled = {"NAME": "Ann", "start=COLUMN,number=COLUMN,…": "start=When,number=Party"}
    report = cli.json(*[filled.get(word, word) for word in argv])
    assert (report["imported"], report["rejected"]) == (1, [])


def test_an_import_on_a_terminal_shows_its_progress(cli, ann_and_ken, tmp_path, monkeypatch):
    from assistant.importing import calls as calls_io

    monkeypatch.setattr(calls_io, "BATCH_SIZE", 10)
    export = tmp_path / "twilio.csv"
    rows = ["Sid,From,To,Direction,Status,Start Time,Duration"]
    rows += [f"CA{n:032x},+1415555{n:04d},+16505550100,inbound,completed,2026-01-01 10:{n:02d}:00,60" for n in range(25)]
    export.write_text("\n".join(rows) + "\n")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, out, err = cli.run("call", "import", str(export), "--principal", "Ann")
    assert code == 0 and "Imported 25 calls" in out
    shown = [line for line in err.split("\r") if line.strip()]
    assert [line.split()[0] for line in shown] == ["10", "20", "25"]
    assert err.endswith("\n")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)  # not a terminal (a script, a log): nothing
    assert cli.run("call", "import", str(export), "--principal", "Ann")[2] == ""
