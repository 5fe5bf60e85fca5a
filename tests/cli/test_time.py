"""Issue 18, time per principal through the command line: billing settings, the timer, entries typed in afterwards,
the list with its rounding and amounts, and the timesheet CSV; days are the principal's, across midnight and DST."""
from __future__ import annotations

import csv
import io

import pytest


@pytest.fixture
def ann(cli):
    cli.add_principal("Ann Lee", "America/New_York", "ann@example.com")
    return "Ann Lee"


def add(cli, who, start, end, *extra):
    return cli.json("time", "add", "--principal", who, "--from", start, "--to", end, *extra)["entry"]


def test_billing_settings_and_a_currency_that_does_not_exist(cli, ann):
    billing = cli.json("principal", "set", ann, "--rate", "90", "--currency", "usd", "--rounding", "6",
                       "--retainer-hours", "20")["principal"]["billing"]
    assert billing == {"rate": "90", "currency": "USD", "retainer_hours": 20, "retainer_per": "month",
                       "rounding_min": 6, "rounding_per": "entry"}
    code, _, err = cli.run("principal", "set", ann, "--currency", "XYZ")
    assert code == 1 and "'XYZ' is not a currency code" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli.run("principal", "set", ann, "--rate", "lots")
    assert code == 1 and "not an amount" in err


def test_rounding_per_entry_and_per_day_to_the_cent(cli, ann):
    cli.json("principal", "set", ann, "--rate", "90", "--currency", "USD", "--rounding", "6")
    add(cli, ann, "2026-12-01 09:00", "2026-12-01 09:07")  # 7 min -> 12
    add(cli, ann, "2026-12-01 10:00", "2026-12-01 10:13", "--note", "Re: Deed of assignment")  # 13 -> 18
    add(cli, ann, "2026-12-01 11:00", "2026-12-01 11:30", "--non-billable")
    sheet = cli.json("time", "list", "--principal", ann, "--day", "2026-12-01")
    assert [(e["minutes"], e["billed_minutes"], e["amount"]) for e in sheet["entries"]] == [
        (7, 12, "18.00"), (13, 18, "27.00"), (30, 0, None)]
    assert sheet["totals"] == {"billable_minutes": 20, "non_billable_minutes": 30, "billed_minutes": 30,
                               "amount": "45.00", "currency": "USD"}
    assert sheet["entries"][0]["start_local"].startswith("2026-12-01T09:00")

    cli.json("principal", "set", ann, "--rounding-per", "day")
    sheet = cli.json("time", "list", "--principal", ann, "--day", "2026-12-01")
    assert sheet["totals"]["billed_minutes"] == 24 and sheet["totals"]["amount"] == "36.00"  # 20 min -> 24 once


def test_a_currency_without_cents_and_a_principal_without_a_rate(cli, ann):
    add(cli, ann, "2026-12-02 09:00", "2026-12-02 09:50")
    sheet = cli.json("time", "list", "--principal", ann, "--day", "2026-12-02")
    assert sheet["totals"]["amount"] is None and sheet["totals"]["billed_minutes"] == 50
    cli.json("principal", "set", ann, "--rate", "4999", "--currency", "JPY")
    sheet = cli.json("time", "list", "--principal", ann, "--day", "2026-12-02")
    assert sheet["totals"]["amount"] == "4166"  # 50/60 * 4999 = 4165.83 -> no minor units


def test_an_entry_belongs_to_the_principals_day_it_started_across_midnight_and_dst(cli, ann):
    add(cli, ann, "2026-12-03 23:30", "2026-12-04 00:45")
    assert [e["minutes"] for e in cli.json("time", "list", "--principal", ann, "--day", "2026-12-03")["entries"]] == [75]
    assert cli.json("time", "list", "--principal", ann, "--day", "2026-12-04")["entries"] == []
    # New York springs forward at 02:00 on 2026-03-08: 01:30 to 03:30 on the clock is one hour worked
    add(cli, ann, "2026-03-08 01:30", "2026-03-08 03:30")
    (entry,) = cli.json("time", "list", "--principal", ann, "--day", "2026-03-08")["entries"]
    assert entry["minutes"] == 60
    # Tokyo's day is not New York's: an entry at 09:00 Tokyo on the 5th is the 4th in New York
    cli.add_principal("Kenji Sato", "Asia/Tokyo", "kenji@example.jp")
    add(cli, "Kenji Sato", "2026-12-05T09:00:00+09:00", "2026-12-05T10:00:00+09:00")
    assert len(cli.json("time", "list", "--principal", "Kenji Sato", "--day", "2026-12-05")["entries"]) == 1


def test_overlapping_time_is_refused_never_counted_twice(cli, ann):
    first = add(cli, ann, "2026-12-01 09:00", "2026-12-01 10:00")
    code, _, err = cli.run("time", "add", "--principal", ann, "--from", "2026-12-01 09:30", "--to", "2026-12-01 11:00")
    assert code == 1 and f"overlaps entry {first['id']}" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli.run("time", "add", "--principal", ann, "--from", "2026-12-01 12:00", "--to", "2026-12-01 11:00")
    assert code == 1 and "must end after it starts" in err
    add(cli, ann, "2026-12-01 10:00", "2026-12-01 10:30")  # touching is not overlapping


def test_the_timer_runs_once_and_stops(cli, ann):
    started = cli.json("time", "start", "--principal", ann, "--note", "phone tree")["entry"]
    assert started["end_utc"] is None and started["source"] == "timer"
    code, _, err = cli.run("time", "start", "--principal", ann)
    assert code == 1 and "already running" in err
    listed = cli.json("time", "list", "--principal", ann)
    assert listed["running"]["id"] == started["id"] and listed["entries"] == []
    stopped = cli.json("time", "stop")
    assert stopped["principal"] == ann and stopped["entry"]["end_utc"] is not None and stopped["warning"] is None
    code, _, err = cli.run("time", "stop")
    assert code == 1 and "no timer is running" in err


def test_the_timesheet_csv_is_read_back_and_notes_are_not_formulas(cli, ann, tmp_path):
    cli.json("principal", "set", ann, "--rate", "60", "--currency", "EUR", "--rounding", "15")
    add(cli, ann, "2026-11-02 09:00", "2026-11-02 09:20", "--note", "=HYPERLINK(\"http://evil.example\")")
    add(cli, ann, "2026-11-30 16:00", "2026-11-30 16:05")
    add(cli, ann, "2026-12-01 09:00", "2026-12-01 09:05")  # the next month: not on this sheet
    target = tmp_path / "ann-2026-11.csv"
    result = cli.json("time", "export", "--principal", ann, "--month", "2026-11", "-o", str(target))
    assert result["entries"] == 2 and result["amount"] == "45.00"  # 30 + 15 min at 60 EUR/h
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [r["date"] for r in rows] == ["2026-11-02", "2026-11-30", "total"]
    assert rows[0]["note"].startswith("'=") and rows[0]["amount EUR"] == "30.00"
    assert rows[-1]["amount EUR"] == "45.00"


def test_the_invoice_and_the_timesheet_as_pdf(cli, ann, tmp_path):
    code, _, err = cli.run("invoice", "--principal", ann, "--month", "2026-11", "-o", str(tmp_path / "x.pdf"))
    assert code == 1 and "has no hourly rate" in err and len(err.strip().splitlines()) == 1
    cli.json("principal", "set", ann, "--rate", "85", "--currency", "USD", "--rounding", "6")
    add(cli, ann, "2026-11-02 09:00", "2026-11-02 10:07", "--note", "Re: Deed of assignment")  # 67 -> 72 min
    add(cli, ann, "2026-11-03 14:00", "2026-11-03 14:20", "--note", "Call with the bank <b>")  # 20 -> 24 min
    add(cli, ann, "2026-11-03 15:00", "2026-11-03 15:30", "--non-billable")
    result = cli.json("invoice", "--principal", ann, "--month", "2026-11", "-o", str(tmp_path / "inv.pdf"),
                      "--number", "A-17", "--issuer", "Sam Rivera\\n12 Harbour Road")
    assert (result["number"], result["amount"], result["currency"]) == ("A-17", "136.00", "USD")
    assert (tmp_path / "inv.pdf").read_bytes().startswith(b"%PDF")
    cli.json("time", "export", "--principal", ann, "--month", "2026-11", "--format", "pdf", "-o", str(tmp_path / "t.pdf"))
    assert (tmp_path / "t.pdf").read_bytes().startswith(b"%PDF")


def test_invoice_lines_add_up_to_the_cent_by_day_and_by_item(tmp_path):
    from datetime import date

    from assistant import timekeeping
    from assistant.core.timezones import parse_when
    from assistant.domain import Principal
    from assistant.store import Store
    from assistant.store import time as time_store

    store = Store(tmp_path / "ws")
    try:
        p = store.add_principal(Principal("Ada Obi", "Africa/Lagos", ["ada@example.ng"]))
        b = time_store.billing(store.scope(p.id))
        b.rate, b.currency, b.rounding_min = time_store.parse_rate("12500"), "NGN", 15
        time_store.save_billing(store.scope(p.id), b)
        for start, end, note in (("2026-11-02 09:00", "2026-11-02 09:01", "Lease"), ("2026-11-02 10:00",
                                 "2026-11-02 10:16", "Lease"), ("2026-11-04 08:00", "2026-11-04 08:40", "Visa")):
            timekeeping.add_entry(store, p.id, parse_when(start, p.timezone), parse_when(end, p.timezone), note=note)
        sheet = timekeeping.timesheet(store, p.id, date(2026, 11, 1), date(2026, 12, 1))
        by_day = timekeeping.invoice_lines(sheet, "day")
        by_item = timekeeping.invoice_lines(sheet, "item")
        # 1 -> 15, 16 -> 30, 40 -> 45 minutes at 12,500 NGN an hour
        assert [(x.minutes, str(x.amount)) for x in by_day] == [(45, "9375.00"), (45, "9375.00")]
        assert [(x.description, x.minutes, str(x.amount)) for x in by_item] == [("Lease", 45, "9375.00"),
                                                                                 ("Visa", 45, "9375.00")]
        assert str(sheet.amount) == "18750.00"
        html = timekeeping.invoice_html(sheet, number="7", issued=date(2026, 12, 1), issuer="Sam <Rivera>")
        assert "18750.00 NGN" in html and "Sam &lt;Rivera&gt;" in html
    finally:
        store.close()


LONG_WORK = ("Reconcile the November statements of the Lisbon apartment with the agent's invoices and the bank's "
             "transfer confirmations before the accountant's deadline")


def pdf_lines(path) -> list[str]:
    """The PDF's text as read back from the file by PDFium, line by line."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        return [line.strip() for page in pdf for line in page.get_textpage().get_text_range().splitlines()]
    finally:
        pdf.close()


def test_the_timesheet_pdf_cuts_a_long_work_title_to_one_line_and_the_csv_keeps_it(cli, ann, tmp_path):
    cli.json("principal", "set", ann, "--rate", "85", "--currency", "USD")
    add(cli, ann, "2026-11-02 09:00", "2026-11-02 10:07", "--note", LONG_WORK)
    add(cli, ann, "2026-11-03 14:00", "2026-11-03 14:20", "--note", "Call with the bank")
    pdf, sheet = tmp_path / "t.pdf", tmp_path / "t.csv"
    cli.json("time", "export", "--principal", ann, "--month", "2026-11", "--format", "pdf", "-o", str(pdf))
    cli.json("time", "export", "--principal", ann, "--month", "2026-11", "-o", str(sheet))
    lines = pdf_lines(pdf)
    [row] = [line for line in lines if line.startswith("Mon 02 Nov")]
    # the whole row on one line: day, time, the title cut with "…", worked, billed and the amount
    assert row.startswith("Mon 02 Nov 09:00–10:07 Reconcile the "), row
    assert row.endswith("… 1:07 1:07 94.92"), row
    assert LONG_WORK.startswith(row.removeprefix("Mon 02 Nov 09:00–10:07 ").split("…")[0])
    assert LONG_WORK not in " ".join(lines)
    assert "Call with the bank 0:20 0:20 28.33" in " ".join(lines)  # a short one is left whole
    rows = list(csv.DictReader(io.StringIO(sheet.read_text(encoding="utf-8"))))
    assert rows[0]["note"] == LONG_WORK
