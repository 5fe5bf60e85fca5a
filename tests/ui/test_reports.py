"""Reports in the window: the principal's dialog sets the report template, and the scheduler makes each report at the
principal's time (across their DST change), once, as a draft that shows in Approvals."""
from __future__ import annotations

from datetime import UTC, datetime, time

from PySide6.QtCore import Qt, QTime
from PySide6.QtWidgets import QDialogButtonBox

from assistant.approvals import drafts
from assistant.domain import ReportTemplate
from assistant.reports import templates
from assistant.store import Store
from assistant.ui.reports import scheduler as report_scheduler


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_the_principals_dialog_sets_the_report_template(qtbot, workspace, make_window):
    ws, ann, ken = workspace
    window = make_window(ws)
    window.select_principal(ann.id)
    window.principal_actions.edit_principal_action.trigger()
    qtbot.waitUntil(lambda: window.principal_actions.dialog is not None and window.principal_actions.dialog.isVisible())
    dialog = window.principal_actions.dialog
    assert [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())] == [
        "General", "Signatures", "Snippets", "Reports", "Notes"]
    assert all(box.isChecked() for box in dialog.report_sections.values()) and not dialog.report_eod.isChecked()
    dialog.report_sections["mail"].setChecked(False)
    dialog.report_show_time.setChecked(False)
    dialog.report_greeting.setText("Dear {name},")
    dialog.report_signed.setText("Sam Kim")
    dialog.report_locale.setEditText("xx_YY")
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and "not a language" in dialog.error.text()
    dialog.report_locale.setCurrentIndex(dialog.report_locale.findData("en_GB"))
    dialog.report_eod.setChecked(True)
    dialog.report_eod_at.setTime(QTime(17, 45))
    with qtbot.wait_signal(window.refreshed, timeout=5000):
        qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton)
    store = Store(ws)
    try:
        assert templates.template(store, ann.id) == ReportTemplate(
            sections=("approvals", "calls", "done", "due", "meetings"), greeting="Dear {name},", signed="Sam Kim",
            date_locale="en_GB", show_time=False, eod_at=time(17, 45))
        assert templates.template(store, ken.id) == ReportTemplate()
    finally:
        store.close()


def test_the_scheduler_makes_each_report_at_their_time_once_across_dst_and_restarts(qtbot, workspace, make_window):
    ws, ann, _ken = workspace
    window = make_window(ws)
    window.report_scheduler.stop()  # the window's own runs on the real clock; these run on a fake one
    store = Store(ws)
    templates.save_template(store, ann.id, ReportTemplate(eod_at=time(17, 30), signed="Sam"))
    store.close()
    window.select_principal(ann.id)
    window.views.setCurrentWidget(window.approvals)
    clock = [utc(2027, 3, 12, 22, 31)]  # Friday 17:31 in New York (EST); their clocks go forward on Sunday the 14th
    first = report_scheduler.install(window, clock=lambda: clock[0], start=False)
    with qtbot.wait_signal(first.made, timeout=10000) as made:
        first.start()
    assert [(m.principal_id, m.period.isoformat(), m.state) for m in made.args[0]] == [
        (ann.id, "2027-03-12", "awaiting-approval")]
    assert window.notice.text() == "End-of-day report for Ann drafted · waiting for their approval"
    # the next one: Monday 17:30 in New York, which is EDT by then: 21:30 UTC, not 22:30
    assert first.next_at == utc(2027, 3, 15, 21, 30)
    assert first.scheduler.get_job(report_scheduler.JOB_ID).next_run_time == utc(2027, 3, 15, 21, 30)
    qtbot.waitUntil(lambda: any(window.approvals.model.row_at(r).subject.startswith("End of day")
                                for r in range(window.approvals.model.rowCount())), timeout=5000)
    first.stop()

    clock[0] = utc(2027, 3, 12, 23, 59)  # the app started again that evening: nothing made twice
    second = report_scheduler.install(window, clock=lambda: clock[0], start=False)
    with qtbot.assert_not_emitted(second.made), qtbot.wait_signal(second.armed, timeout=10000):
        second.start()
    clock[0] = utc(2027, 3, 15, 21, 30, 2)  # the job's instant comes
    with qtbot.wait_signal(second.made, timeout=10000) as made:
        second.due_reached.emit()
    assert [m.period.isoformat() for m in made.args[0]] == ["2027-03-15"]
    second.stop()
    store = Store(ws)
    try:
        subjects = sorted(d.subject for d in drafts.list_drafts(store, ann.id) if d.subject.startswith("End of day"))
        assert subjects == ["End of day — Fri, Mar 12, 2027", "End of day — Mon, Mar 15, 2027"]
    finally:
        store.close()
