"""Issue 18, the end-of-day report through the command line: written from the day's facts, in the principal's day and
time, saved as an ordinary draft to the principal that follows their approval policy."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assistant.approvals import drafts
from assistant.board import service as board
from assistant.demo.build import build_demo
from assistant.domain import Account, CalendarEvent, Call, CallDirection, Principal
from assistant.store import Store
from assistant.store import board as board_store
from assistant.store import calendar as calendar_store
from assistant.store import calls as call_store
from tests.cli.conftest import Cli


@pytest.fixture
def day_of_work(ws: Path, tmp_path: Path) -> tuple[Store, int]:
    """Ann in New York, her day 2026-12-07, with a bit of everything done for her."""
    store = Store(ws)
    ann = store.add_principal(Principal("Ann Lee", "America/New_York", ["ann@example.com"]))
    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    account = store.add_account(Account(ann.id, "local", "ann@example.com", settings={"maildir": str(maildir)}))
    scope = store.scope(ann.id)
    at = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)  # 10:00 in New York
    call_store.add_call(scope, Call(principal_id=ann.id, direction=CallDirection.OUTGOING, number_raw="+12125550101",
                                    started_utc=at, duration_s=300))
    call_store.add_call(scope, Call(principal_id=ann.id, direction=CallDirection.MISSED, number_raw="+12125550102",
                                    started_utc=at + timedelta(hours=1)))
    done = board.make_task(store, ann.id, "Book the Lisbon flights")
    board.complete_task(store, ann.id, done.id, now=at + timedelta(hours=2))
    board.make_task(store, ann.id, "Send the signed lease", due_utc=datetime(2026, 12, 8, 16, 0, tzinfo=UTC))
    calendar_store.upsert_event(scope, CalendarEvent(
        principal_id=ann.id, account_id=account.id, remote_id="m1", uid="m1", summary="Board call",
        start_utc=datetime(2026, 12, 8, 14, 0, tzinfo=UTC), end_utc=datetime(2026, 12, 8, 15, 0, tzinfo=UTC)))
    drafts.save_draft(store, ann.id, account.id, to="bob@example.org", subject="Lease terms", body_text="Hi")
    return store, ann.id


def test_the_report_says_what_happened_on_the_principals_day(cli: Cli, day_of_work):
    store, _ann = day_of_work
    store.close()
    cli.json("time", "add", "--principal", "Ann Lee", "--from", "2026-12-07 09:00", "--to", "2026-12-07 10:30")
    data = cli.json("report", "eod", "--principal", "Ann Lee", "--date", "2026-12-07", "--signed", "Sam")
    body = data["report"]["body"]
    assert data["report"]["subject"] == "End of day — Mon, Dec 7, 2026" and data["draft"] is None
    assert body.startswith("Hi Ann,\n")
    assert "Calls:\n  1 made, 1 missed" in body
    assert "Done today (1):\n  - Book the Lisbon flights" in body
    assert "Due tomorrow (1):\n  - Send the signed lease" in body
    assert "Tomorrow's meetings, your time (1):\n  - 09:00–10:00 Board call" in body  # 14:00 UTC is 09:00 there
    assert "Time:\n  1 h 30 min on your work today" in body
    assert body.rstrip().endswith("Best,\nSam")
    assert "1 h 30" not in cli.json("report", "eod", "--principal", "Ann Lee", "--date", "2026-12-07",
                                    "--no-time")["report"]["body"]
    assert "Calls" not in cli.json("report", "eod", "--principal", "Ann Lee", "--date", "2026-12-06")["report"]["body"]


def test_saved_and_submitted_it_is_an_ordinary_draft_to_the_principal(cli: Cli, day_of_work):
    store, _ann = day_of_work
    store.close()
    saved = cli.json("report", "eod", "--principal", "Ann Lee", "--date", "2026-12-07", "--save")
    assert saved["draft"]["to"] == ["Ann Lee <ann@example.com>"] and saved["state"] == "draft"
    cli.json("principal", "set", "Ann Lee", "--approval", "always")
    submitted = cli.json("report", "eod", "--principal", "Ann Lee", "--date", "2026-12-07", "--submit")
    assert submitted["state"] == "awaiting-approval"
    listed = cli.json("draft", "list", "--principal", "Ann Lee")
    assert sum(1 for d in listed["drafts"] if d["subject"].startswith("End of day")) == 2


def test_a_demo_principals_report_reads_like_one(cli: Cli, ws: Path):
    build_demo(ws, now=datetime(2026, 3, 8, 15, 30, tzinfo=UTC))
    names = [p["name"] for p in cli.json("principal", "list")["principals"]]
    store = Store(ws)
    try:  # what each principal has that a report could name: their cards and drafts
        owned = {p.name: {c.title for c in board_store.cards(store.scope(p.id), include_archived=True)}
                 | {d.subject for d in drafts.list_drafts(store, p.id) if d.subject} for p in store.principals()}
    finally:
        store.close()
    for name in names:
        body = cli.json("report", "eod", "--principal", name, "--date", "2026-03-08", "--signed", "Sam")["report"]["body"]
        assert body.startswith(f"Hi {name.split()[0]},") and body.rstrip().endswith("Sam")
        assert "Waiting for your approval" in body or "Due tomorrow" in body or "meetings" in body, body
        listed = {line.strip()[2:] for line in body.splitlines() if line.strip().startswith("- ")}
        others = set().union(*(titles for other, titles in owned.items() if other != name)) - owned[name]
        assert listed and not listed & others, (name, listed & others)
        weekly = cli.json("report", "weekly", "--principal", name, "--week", "2026-03-08", "--signed", "Sam")
        assert weekly["report"]["subject"].startswith("Your week — Mon, ")


def test_a_template_shapes_the_report_and_bad_values_are_one_line_errors(cli: Cli, day_of_work):
    store, _ann = day_of_work
    store.close()
    cli.json("time", "add", "--principal", "Ann Lee", "--from", "2026-12-07 09:00", "--to", "2026-12-07 10:30")
    set_ = cli.json("report", "template", "--principal", "Ann Lee", "--sections", "done,calls", "--greeting",
                    "Guten Abend {name},", "--sign-off", "Viele Grüße", "--signed", "Sam Kim", "--date-language", "de",
                    "--show-time", "no", "--eod-at", "17:30")
    assert set_["template"] == {"sections": ["calls", "done"], "greeting": "Guten Abend {name},",
                                "sign_off": "Viele Grüße", "signed": "Sam Kim", "date_language": "de",
                                "show_time": False, "eod_at": "17:30", "weekly_at": None}
    assert cli.json("report", "template", "--principal", "Ann Lee")["template"] == set_["template"]  # kept
    report = cli.json("report", "eod", "--principal", "Ann Lee", "--date", "2026-12-07")["report"]
    assert report["subject"] == "End of day — Mo., 7. Dez. 2026"
    body = report["body"]
    assert body.startswith("Guten Abend Ann Lee,\n\nHere is where things stand at the end of your Montag.")
    assert "Calls:" in body and "Done today (1)" in body
    assert "Due tomorrow" not in body and "meetings" not in body and "Time:" not in body
    assert body.rstrip().endswith("Viele Grüße\nSam Kim")
    assert body.index("Calls:") < body.index("Done today")  # the report's order, not the order typed
    for argv, said in ((["--date-language", "xx_YY"], "not a language"), (["--sections", "mail,gossip"], "gossip"),
                       (["--eod-at", "25:00"], "not a time of day")):
        code, _out, err = cli.run("report", "template", "--principal", "Ann Lee", *argv)
        assert code != 0 and said in err and len(err.strip().splitlines()) == 1
    assert cli.json("report", "template", "--principal", "Ann Lee")["template"] == set_["template"]  # nothing lost


def test_the_weekly_summary_covers_the_principals_week(cli: Cli, day_of_work):
    store, ann = day_of_work
    scope = store.scope(ann)
    call_store.add_call(scope, Call(principal_id=ann, direction=CallDirection.INCOMING, number_raw="+12125550103",
                                    started_utc=datetime(2026, 12, 9, 15, 0, tzinfo=UTC), duration_s=60))
    call_store.add_call(scope, Call(principal_id=ann, direction=CallDirection.INCOMING, number_raw="+12125550104",
                                    started_utc=datetime(2026, 12, 14, 15, 0, tzinfo=UTC), duration_s=60))  # next week
    store.close()
    cli.json("time", "add", "--principal", "Ann Lee", "--from", "2026-12-07 09:00", "--to", "2026-12-07 10:00")
    cli.json("time", "add", "--principal", "Ann Lee", "--from", "2026-12-10 09:00", "--to", "2026-12-10 11:15")
    data = cli.json("report", "weekly", "--principal", "Ann Lee", "--week", "2026-W50", "--signed", "Sam")
    report = data["report"]
    assert data["kind"] == "weekly" and data["date"] == "2026-12-07"
    assert report["subject"] == "Your week — Mon, Dec 7 to Fri, Dec 11, 2026"
    assert "Calls:\n  1 made, 1 taken, 1 missed" in report["body"]  # Monday's two and Wednesday's, not next week's
    assert "Done this week (1)" in report["body"]
    assert "Time:\n  3 h 15 min on your work this week" in report["body"]
    assert "Meetings on Mon, Dec 14" not in report["body"]  # the board call is on the 8th: in the week, not after
    same = cli.json("report", "weekly", "--principal", "Ann Lee", "--week", "2026-12-10", "--signed", "Sam")
    assert same["report"] == report
    submitted = cli.json("report", "weekly", "--principal", "Ann Lee", "--week", "2026-W50", "--submit")
    assert submitted["state"] == "awaiting-approval" and submitted["draft"]["to"] == ["Ann Lee <ann@example.com>"]


def test_report_due_makes_each_due_report_once_in_each_principals_own_day(cli: Cli, ws: Path, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch):
    """``assistant report due`` (for cron or a systemd timer, with the window closed): Ann's 17:30 is New York's, Ken's
    is Tokyo's; each report is made once (a second run makes nothing), none before its time, and New York's 17:30
    follows the clocks back in November."""
    from assistant.core import timezones

    store = Store(ws)
    for name, zone in (("Ann Lee", "America/New_York"), ("Ken Sato", "Asia/Tokyo")):
        p = store.add_principal(Principal(name, zone, [f"{name.split()[0].lower()}@example.com"]))
        maildir = tmp_path / f"{name.split()[0]}-mail"
        for sub in ("cur", "new", "tmp"):
            (maildir / sub).mkdir(parents=True)
        store.add_account(Account(p.id, "local", p.primary_address, settings={"maildir": str(maildir)}))
    store.close()
    for name in ("Ann Lee", "Ken Sato"):
        cli.json("report", "template", "--principal", name, "--eod-at", "17:30")

    def due_at(at: datetime) -> dict:
        monkeypatch.setattr(timezones, "now_utc", lambda: at)
        return cli.json("report", "due")

    # Sunday 1 November 2026, New York's clocks went back: Monday's 17:30 there is 22:30 UTC (it was 21:30 on Friday)
    assert due_at(datetime(2026, 11, 2, 21, 40, tzinfo=UTC))["made"] == []  # 16:40 in New York
    first = due_at(datetime(2026, 11, 2, 22, 35, tzinfo=UTC))  # 17:35 in New York, Tuesday 07:35 in Tokyo
    assert [(m["principal"], m["kind"], m["period"], m["state"]) for m in first["made"]] == [
        ("Ann Lee", "eod", "2026-11-02", "awaiting-approval")]
    assert first["made"][0]["draft_id"] > 0
    assert first["next_due"] == "2026-11-03T08:30:00+00:00"  # Ken's Tuesday 17:30 in Tokyo
    assert due_at(datetime(2026, 11, 2, 23, 50, tzinfo=UTC))["made"] == []  # made once: a second run makes nothing
    tokyo = due_at(datetime(2026, 11, 3, 8, 31, tzinfo=UTC))  # Tokyo's 17:31; New York's 03:31
    assert [(m["principal"], m["period"]) for m in tokyo["made"]] == [("Ken Sato", "2026-11-03")]

    store = Store(ws)
    try:
        subjects = sorted((p.name, d.subject) for p in store.principals()
                          for d in drafts.list_drafts(store, p.id))
    finally:
        store.close()
    assert subjects == [("Ann Lee", "End of day — Mon, Nov 2, 2026"), ("Ken Sato", "End of day — Tue, Nov 3, 2026")]

    code, out, err = cli.run("report", "due")  # said as a person reads it, at a terminal or in a log
    assert (code, err) == (0, "")
    assert out.startswith("No report is due now.")


def test_report_due_says_which_report_could_not_be_made_once(cli: Cli, ws: Path, monkeypatch: pytest.MonkeyPatch):
    from assistant.core import timezones

    cli.add_principal("Ann Lee", "America/New_York", "ann@example.com")  # no account: nothing to write from
    cli.json("report", "template", "--principal", "Ann Lee", "--eod-at", "17:30")
    monkeypatch.setattr(timezones, "now_utc", lambda: datetime(2026, 12, 7, 22, 35, tzinfo=UTC))
    code, out, err = cli.run("report", "due")
    assert code == 1
    assert out.startswith("End-of-day report for Ann Lee not made: ")
    assert "\n" not in out.strip().splitlines()[0]
    code, out, _err = cli.run("report", "due")  # told once, not every time the timer runs
    assert code == 0 and out.startswith("No report is due now.")
