import io
import json
from datetime import UTC, datetime
from pathlib import Path

from assistant.board import service as board
from assistant.cli.main import main
from assistant.domain import Principal
from assistant.importing import board as board_io
from assistant.importing.path import import_path
from assistant.store import board as board_store

SAMPLES = Path(__file__).parent / "samples" / "board"


def ann(store):
    return store.add_principal(Principal(name="Ann", timezone="America/New_York", addresses=["ann@example.com"]))


def by_title(store, pid):
    scope = store.scope(pid)
    names = {c.id: c.name for c in board_store.columns(scope)}
    return {c.title: (names[c.column_id], c) for c in board_store.cards(scope)}


def test_trello_export_imports_lists_cards_labels_checklists_and_due(workspace):
    p = ann(workspace)
    report = import_path(workspace, p.id, SAMPLES / "trello_board.json")
    assert report.kind == "trello"
    assert report.imported == 3 and report.skipped == 1
    reasons = dict(report.rejected)
    assert set(reasons) == {"card 5 (Card on an archived list)", "card 6 (Bad due)"}
    assert "not on the board or is archived" in reasons["card 5 (Card on an archived list)"]
    assert reasons["card 6 (Bad due)"] == "due 'next Tuesday' is not an ISO 8601 time"
    cards = by_title(workspace, p.id)
    column, insurance = cards["Renew car insurance"]
    assert column == "To do"
    assert insurance.labels == ["Urgent", "Finance"]
    assert insurance.due_utc == datetime(2026, 12, 1, 14, tzinfo=UTC)
    assert [(i.text, i.done) for i in insurance.checklist] == [("Find last year's policy", True), ("Get quotes", False)]
    assert "#A-77812" in insurance.notes
    assert cards["Book piano tuner"][0] == "Backlog"
    column, nanny = cards["Pay nanny — November"]
    assert column == "Done" and nanny.done_utc is not None
    assert [c.name for c in board_store.columns(workspace.scope(p.id))] == [
        "Inbox", "To do", "Doing", "Waiting on principal", "Done", "Backlog"]


def test_board_csv_imports_good_rows_and_names_bad_lines(workspace):
    p = ann(workspace)
    report = import_path(workspace, p.id, SAMPLES / "board.csv")
    assert report.kind == "board-csv"
    assert report.imported == 3
    assert report.rejected == [
        ("line 4", "no title"),
        ("line 5", "cannot read the time 'tomorrow-ish': use ISO 8601 with an offset, or 'YYYY-MM-DD HH:MM' in the "
                   "principal's zone"),
        ("line 6", "priority 'abc' is not a whole number"),
    ]
    cards = by_title(workspace, p.id)
    column, nda = cards["Send the NDA"]
    assert column == "To do" and nda.due_utc == datetime(2026, 12, 2, 15, tzinfo=UTC)
    assert nda.labels == ["legal", "urgent"] and nda.estimate_min == 30 and nda.priority == 2
    assert [(i.text, i.done) for i in nda.checklist] == [("read", True), ("sign", False)]
    assert cards["Weekly review"][1].rrule == "FREQ=WEEKLY;BYDAY=FR"
    assert cards["Archive receipts"][1].done_utc == datetime(2026, 11, 20, 10, tzinfo=UTC)


def test_csv_export_then_import_round_trips(workspace):
    p = ann(workspace)
    board.make_task(workspace, p.id, "Quote, with comma", column="Doing", notes='line one\n"quoted"',
                    due_utc=datetime(2026, 3, 8, 14, 30, tzinfo=UTC), labels=["a", "b"], priority=3,
                    checklist=[board.ChecklistItem("x", True)], estimate_min=45, repeat="every weekday")
    board.make_task(workspace, p.id, "Plain")
    out = io.StringIO()
    assert board_io.export_csv(workspace, p.id, out) == 2
    k = workspace.add_principal(Principal(name="Ken", timezone="Asia/Tokyo", addresses=["ken@example.jp"]))
    report = board_io.import_csv(workspace, k.id, io.StringIO(out.getvalue()))
    assert report.imported == 2 and report.rejected == []

    def shape(pid):
        return sorted((col, c.title, c.notes, c.due_utc, c.labels, c.priority, c.checklist, c.estimate_min, c.rrule)
                      for col, c in by_title(workspace, pid).values())

    assert shape(k.id) == shape(p.id)


def test_cli_import_reports_board_rows(capsys, tmp_path):
    ws = str(tmp_path / "w")
    main(["--workspace", ws, "principal", "add", "Ann", "--email", "a@example.com", "--timezone", "Europe/Paris"])
    capsys.readouterr()
    assert main(["--workspace", ws, "--json", "import", str(SAMPLES / "board.csv"), "--principal", "Ann"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["imported"] == 3 and [r["item"] for r in data["rejected"]] == ["line 4", "line 5", "line 6"]
