"""The Time tab through its widgets: a principal's day, week and month (their days, their zone and yours), the timer,
entries by hand (an overlap refused in one line), edits with their history, the retainer's notices, billing and
exports."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from PySide6.QtCore import QDateTime, Qt, QTime
from PySide6.QtTest import QAbstractItemModelTester

from assistant import timekeeping
from assistant.board import service as board
from assistant.domain import Billing, Principal, TimeEntry
from assistant.store import Store
from assistant.store import time as time_store
from assistant.ui.timekeeping import view as time_view

# Sunday 8 March 2026: New York springs forward at 02:00 (EST, UTC-5 → EDT, UTC-4)
SUNDAY_AFTERNOON = datetime(2026, 3, 8, 20, 0, tzinfo=UTC)  # 16:00 EDT in New York


def ny(y, m, d, hh, mm, offset):
    """A New York wall-clock time with the offset it has then (-5 EST, -4 EDT), as UTC."""
    return datetime(y, m, d, hh, mm, tzinfo=UTC) - timedelta(hours=offset)


@pytest.fixture
def clock(monkeypatch):
    """The view's clock, set by the test."""
    now = {"t": SUNDAY_AFTERNOON}
    monkeypatch.setattr(time_view, "now_utc", lambda: now["t"])
    monkeypatch.setenv("TZ", "Africa/Lagos")  # the assistant's own zone, shown beside the principal's
    return now


def _workspace(tmp_path, billing: Billing) -> tuple:
    ws = tmp_path / "ws"
    store = Store(ws)
    ann = store.add_principal(Principal("Ann", "America/New_York", ["ann@example.com"], colour="#e11d48"))
    ken = store.add_principal(Principal("Ken", "Asia/Tokyo", ["ken@example.jp"], colour="#16a34a"))
    time_store.save_billing(store.scope(ann.id), billing)
    return ws, store, ann, ken


@pytest.fixture
def dst_workspace(tmp_path):
    """Ann in New York at 45.50 USD an hour, rounded up to 15 minutes per entry, with time across midnight, across the
    change to summer time, and on days whose UTC date is not hers."""
    ws, store, ann, ken = _workspace(tmp_path, Billing(rate=Decimal("45.50"), currency="USD", rounding_min=15))
    add = timekeeping.add_entry
    add(store, ann.id, ny(2026, 2, 28, 23, 0, -5), ny(2026, 3, 1, 0, 30, -5), note="A: her February (UTC: 1 March)")
    add(store, ann.id, ny(2026, 3, 1, 10, 0, -5), ny(2026, 3, 1, 10, 50, -5), note="B: March, the week before")
    add(store, ann.id, ny(2026, 3, 7, 23, 30, -5), ny(2026, 3, 8, 0, 40, -5), note="C: Saturday past midnight")
    add(store, ann.id, ny(2026, 3, 8, 1, 30, -5), ny(2026, 3, 8, 3, 30, -4), note="D: across the change, 1 h")
    add(store, ann.id, ny(2026, 3, 8, 12, 0, -4), ny(2026, 3, 8, 12, 20, -4), note="F: not billed", billable=False)
    add(store, ann.id, ny(2026, 3, 8, 22, 0, -4), ny(2026, 3, 8, 22, 7, -4), note="E: her Sunday (UTC: Monday)")
    add(store, ken.id, ny(2026, 3, 8, 9, 0, -4), ny(2026, 3, 8, 11, 0, -4), note="Ken's, never Ann's")
    store.close()
    return ws, ann, ken


def _open_time_tab(make_window, qtbot, ws, principal):
    window = make_window(ws, size=(1280, 720))
    window.select_principal(principal.id)
    view = window.time_view
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        window.views.setCurrentWidget(view)
    qtbot.waitUntil(lambda: not window.tasks.busy)
    return window, view


def _totals(view, period):
    return tuple(view.total_labels[(period, part)].text()
                 for part in ("name", "billable", "non_billable", "billed", "amount"))


def _column(view, column):
    model = view.model
    return [model.data(model.index(row, column)) for row in range(model.rowCount())]


def test_day_week_and_month_totals_to_the_cent_across_dst_and_midnight(make_window, qtbot, clock, dst_workspace):
    ws, ann, ken = dst_workspace
    window, view = _open_time_tab(make_window, qtbot, ws, ann)
    tester = QAbstractItemModelTester(view.model, QAbstractItemModelTester.FailureReportingMode.Fatal)  # noqa: F841
    # her Sunday 8 March: D (1 h across the change) and E (7 min → 15) billed, F not; C belongs to her Saturday
    assert _totals(view, "day") == ("Sun 8 Mar", "1:07", "0:20", "1:15", "56.88")
    assert _totals(view, "week") == ("2–8 Mar", "2:17", "0:20", "2:30", "113.76")  # + C, 70 min → 75: 56.88
    assert _totals(view, "month") == ("March", "3:07", "0:20", "3:30", "159.26")  # + B; A is her February
    assert view.amount_title.text() == "Amount (USD)"
    assert "Mon 2 – Sun 8 Mar 2026" in view.period_label.text() and "New York" in view.period_label.text()

    # the week's entries in her days and times, yours beside them, both labelled
    headers = [view.model.headerData(c, Qt.Orientation.Horizontal) for c in range(view.model.columnCount())]
    assert headers[1:3] + headers[5:6] == ["New York time", "Your time (Lagos)", "USD"]
    assert _column(view, 7) == ["C: Saturday past midnight", "D: across the change, 1 h", "F: not billed",
                                "E: her Sunday (UTC: Monday)"]
    assert _column(view, 0) == ["Sat 7 Mar", "Sun 8 Mar", "Sun 8 Mar", "Sun 8 Mar"]
    assert _column(view, 1) == ["23:30–00:40 (+1)", "01:30 EST–03:30 EDT", "12:00–12:20", "22:00–22:07"]
    assert _column(view, 2)[:2] == ["Sun 05:30–06:40", "07:30–08:30"]  # Lagos, UTC+1: the weekday when not hers
    assert _column(view, 3) == ["1:10", "1:00", "0:20", "0:07"]
    assert _column(view, 4) == ["1:15", "1:00", "not billable", "0:15"]
    assert _column(view, 5) == ["56.88", "45.50", "", "11.38"]

    # the day alone, then the month: the table follows the period
    with qtbot.waitSignal(view.loaded):
        view.period.setCurrentIndex(view.period.findData("day"))
    assert _column(view, 7) == ["D: across the change, 1 h", "F: not billed", "E: her Sunday (UTC: Monday)"]
    with qtbot.waitSignal(view.loaded):
        view.period.setCurrentIndex(view.period.findData("month"))
    assert len(_column(view, 7)) == 5 and "A: her February (UTC: 1 March)" not in _column(view, 7)
    with qtbot.waitSignal(view.loaded):
        view.previous_button.click()  # February holds A
    assert _column(view, 7) == ["A: her February (UTC: 1 March)"]
    assert _totals(view, "month")[0] == "February"

    with qtbot.waitSignal(view.loaded):  # another principal: their time only, in their zone, from their today
        window.select_principal(ken.id)
    assert _column(view, 7) == ["Ken's, never Ann's"] and _totals(view, "month")[0] == "March"
    assert view.model.headerData(1, Qt.Orientation.Horizontal) == "Tokyo time"


def test_the_timer_button_starts_and_stops_the_timer_on_a_card(make_window, qtbot, clock, tmp_path):
    ws, store, ann, _ken = _workspace(tmp_path, Billing())
    card = board.make_task(store, ann.id, "Quarterly filing")
    store.close()
    window, view = _open_time_tab(make_window, qtbot, ws, ann)
    assert view.timer_button.text() == "&Start timer"
    view.timer_card.setCurrentIndex(view.timer_card.findData(card.id))
    view.timer_note.setText("call with the accountant")
    with qtbot.waitSignal(view.loaded):
        view.timer_button.click()
    assert view.timer_button.text() == "&Stop timer"
    assert "since 16:00 New York" in view.timer_label.text() and "(21:00 your time)" in view.timer_label.text()
    assert "Quarterly filing" in view.timer_label.text()
    assert window.notice.text() == "Timer started · Ann · Quarterly filing"

    clock["t"] = SUNDAY_AFTERNOON + timedelta(minutes=25)
    with qtbot.waitSignal(view.loaded):
        view.timer_button.click()
    assert view.timer_button.text() == "&Start timer" and view.timer_label.text() == ""
    assert window.notice.text() == "Timer stopped · Ann: 0:25 h"
    assert _column(view, 7) == ["Quarterly filing"] and _column(view, 3) == ["0:25"] and _column(view, 6) == ["timer"]
    check = Store(ws)
    (entry,) = time_store.entries(check.scope(ann.id), SUNDAY_AFTERNOON - timedelta(days=1),
                                  SUNDAY_AFTERNOON + timedelta(days=1))
    assert (entry.item, entry.note, entry.seconds) == (f"task:{card.id}", "call with the accountant", 1500)
    check.close()


def test_an_overlapping_entry_is_refused_in_one_line_and_the_dialog_stays(make_window, qtbot, clock, tmp_path):
    ws, store, ann, _ken = _workspace(tmp_path, Billing())
    first = timekeeping.add_entry(store, ann.id, ny(2026, 3, 8, 9, 0, -4), ny(2026, 3, 8, 10, 0, -4))
    store.close()
    window, view = _open_time_tab(make_window, qtbot, ws, ann)
    dialog = view.open_add()
    assert dialog.windowTitle() == "Add time — Ann"
    day = QDateTime(date(2026, 3, 8), QTime(9, 30))
    dialog.start.setDateTime(day)
    dialog.end.setDateTime(day.addSecs(3600))
    assert "10:30 EDT for Ann" in dialog.both.text() and "15:30 WAT your time" in dialog.both.text()
    qtbot.keyClicks(dialog.note, "board pack")
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    qtbot.waitUntil(lambda: dialog.error.isVisible())
    refusal = dialog.error.text()
    assert refusal.startswith(f"It overlaps entry {first.id} (2026-03-08 09:00 to 2026-03-08 10:00)")
    assert "\n" not in refusal and dialog.isVisible()
    assert len(view.model.rows) == 1

    dialog.start.setDateTime(QDateTime(date(2026, 3, 8), QTime(10, 0)))  # right after the first one: fine
    dialog.end.setDateTime(QDateTime(date(2026, 3, 8), QTime(10, 45)))
    with qtbot.waitSignal(view.loaded):
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    assert view.entry_dialog is None  # closed once the store took it
    assert _column(view, 7) == ["", "board pack"] and _column(view, 6) == ["by hand", "by hand"]
    assert window.notice.text() == "Added 0:45 h · Ann"


def test_an_entry_is_edited_and_deleted_with_its_history_kept_and_undo(make_window, qtbot, clock, tmp_path):
    ws, store, ann, _ken = _workspace(tmp_path, Billing())
    timekeeping.add_entry(store, ann.id, ny(2026, 3, 8, 9, 0, -4), ny(2026, 3, 8, 10, 0, -4), note="drafting")
    store.close()
    window, view = _open_time_tab(make_window, qtbot, ws, ann)
    view.table.selectRow(0)
    qtbot.waitUntil(lambda: view.history.count() == 1)
    assert "added by assistant" in view.history.item(0).text()
    dialog = view.open_edit()
    assert dialog.windowTitle() == "Edit time — Ann"
    dialog.end.setDateTime(QDateTime(date(2026, 3, 8), QTime(10, 30)))
    dialog.note.setText("drafting and review")
    dialog.billable.setChecked(False)
    with qtbot.waitSignal(view.loaded):
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    assert _column(view, 3) == ["1:30"] and _column(view, 4) == ["not billable"]
    qtbot.waitUntil(lambda: view.history.count() == 2)
    changed = view.history.item(1).text()
    assert "changed by assistant" in changed and "was Sun 09:00–10:00" in changed and "“drafting”" in changed

    with qtbot.waitSignal(view.loaded):
        view.delete_button.click()
    assert view.model.rowCount() == 0
    assert window.notice.text() == "Deleted 1:30 h of 09:00–10:30 · Ann" and window.notice.undo_button.isVisible()
    with qtbot.waitSignal(view.loaded):
        window.notice.undo_button.click()
    assert _column(view, 7) == ["drafting and review"] and _column(view, 3) == ["1:30"]


def test_the_retainer_at_80_percent_is_told_once_per_period(make_window, qtbot, clock, tmp_path):
    ws, store, ann, _ken = _workspace(tmp_path, Billing(retainer_minutes=600, retainer_per="month"))
    for day in range(2, 6):  # 4 × 2 h = 8 h of 10: 80 %
        timekeeping.add_entry(store, ann.id, ny(2026, 3, day, 9, 0, -5), ny(2026, 3, day, 11, 0, -5))
    store.close()
    told = []
    window = make_window(ws, size=(1280, 720))
    window.time_view.retainer_notice.connect(told.append)  # the start-up check already ran: said in the notice
    assert window.notice.text() == "Ann's retainer for March 2026 is 80 % used: 8:00 of 10:00 h, 2:00 h left"
    window.notice.dismiss()
    window.select_principal(ann.id)
    view = window.time_view
    with qtbot.waitSignal(view.loaded):
        window.views.setCurrentWidget(view)
    assert view.retainer_bar.isVisible() and view.retainer_bar.text() == "8:00 of 10:00 h (80 %)"
    assert view.retainer_label.text() == "Ann's retainer for March 2026 is 80 % used: 8:00 of 10:00 h, 2:00 h left"
    assert "c2410c" in view.retainer_label.styleSheet()
    assert [left for _, left in view.burn_down.points()][:6] == [600, 600, 480, 360, 240, 120]

    dialog = view.open_add()  # more time, still under 100 %: nothing is said again
    dialog.start.setDateTime(QDateTime(date(2026, 3, 6), QTime(9, 0)))
    dialog.end.setDateTime(QDateTime(date(2026, 3, 6), QTime(10, 0)))
    with qtbot.waitSignal(view.loaded):
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert told == [] and view.retainer_bar.text() == "9:00 of 10:00 h (90 %)"
    assert not window.notice.isVisible() or "retainer" not in window.notice.text()

    window.close()  # nor when the app starts again
    again = make_window(ws, size=(1280, 720))
    assert "retainer" not in again.notice.text()

    view = again.time_view
    again.select_principal(ann.id)
    with qtbot.waitSignal(view.loaded):
        again.views.setCurrentWidget(view)
    with qtbot.waitSignal(view.retainer_notice) as used_up:  # 100 %: told once more
        view.save_entry(TimeEntry(ann.id, ny(2026, 3, 7, 9, 0, -5), ny(2026, 3, 7, 10, 30, -5)))
    assert used_up.args == ["Ann's retainer for March 2026 is used up: 10:30 of 10:00 h, 0:30 h over"]
    qtbot.waitUntil(lambda: view.retainer_label.text().startswith("⚠"))
    assert "dc2626" in view.retainer_label.styleSheet()


def test_billing_is_saved_from_the_view_and_a_bad_value_refused_in_one_line(make_window, qtbot, clock, tmp_path):
    ws, store, ann, _ken = _workspace(tmp_path, Billing())
    timekeeping.add_entry(store, ann.id, ny(2026, 3, 8, 9, 0, -4), ny(2026, 3, 8, 9, 7, -4))
    store.close()
    window, view = _open_time_tab(make_window, qtbot, ws, ann)
    assert view.amount_title.text() == "" and "no rate yet" in view.rounding_label.text()
    dialog = view.open_billing()
    assert dialog.windowTitle() == "Billing — Ann"
    dialog.rate.setText("120")
    dialog.currency.setText("XYZ")
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    qtbot.waitUntil(lambda: dialog.error.isVisible())
    assert "XYZ" in dialog.error.text() and "\n" not in dialog.error.text() and dialog.isVisible()
    dialog.rate.setText("twelve")
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    assert dialog.error.text().startswith("'twelve' is not an amount")

    dialog.rate.setText("120")
    dialog.currency.setText("jpy")
    dialog.rounding.setCurrentIndex(dialog.rounding.findData(10))
    dialog.retainer.setValue(20)
    with qtbot.waitSignal(view.loaded):
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    assert view.billing_dialog is None
    assert _totals(view, "day")[3:] == ("0:10", "20")  # 7 min → 10 at 120 JPY an hour: no cents in yen
    assert view.amount_title.text() == "Amount (JPY)"
    assert view.retainer_title.text().startswith("<b>Retainer</b> · 20 h per month")


def test_timesheet_and_invoice_are_exported_from_the_period_shown(make_window, qtbot, clock, dst_workspace,
                                                                   tmp_path):
    ws, ann, _ken = dst_workspace
    window, view = _open_time_tab(make_window, qtbot, ws, ann)
    csv_path, pdf_path, invoice_path = tmp_path / "week.csv", tmp_path / "week.pdf", tmp_path / "invoice.pdf"
    view.export_timesheet("csv", str(csv_path))
    qtbot.waitUntil(lambda: "Timesheet saved" in window.notice.text())
    lines = csv_path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 6 and lines[-1].startswith("total,") and lines[-1].endswith(",113.76")
    view.export_timesheet("pdf", str(pdf_path))
    qtbot.waitUntil(lambda: pdf_path.exists() and "week.pdf" in window.notice.text())
    assert pdf_path.read_bytes().startswith(b"%PDF")
    view.export_invoice("2026-03-W10", "day", "Sam Assistant\nLagos", str(invoice_path))
    qtbot.waitUntil(lambda: "Invoice 2026-03-W10 saved" in window.notice.text())
    assert window.notice.text() == "Invoice 2026-03-W10 saved · Ann: 113.76 USD in invoice.pdf"
    assert invoice_path.read_bytes().startswith(b"%PDF")
