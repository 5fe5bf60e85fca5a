"""“Follow up if no reply…” from the inbox, and a task's reminder opening its card: through the real main window."""
from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QDateTime, QTime, QTimer
from PySide6.QtWidgets import QDialog

from assistant.board import service as board
from assistant.core.timezones import local_to_utc
from assistant.domain import BusinessHours, Principal
from assistant.store import Store
from assistant.store import reminders as rstore
from assistant.ui.board.follow_up import FollowUpDialog, default_due
from assistant.ui.reminders.notifications import NotificationItem


def test_default_is_the_second_business_morning_in_the_principals_zone():
    lagos = Principal("Ade", "Africa/Lagos", ["ade@example.ng"], business_hours=BusinessHours(days=(1, 2, 3, 4, 5)))
    friday_evening_utc = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)  # Friday 21:00 in Lagos
    assert default_due(lagos, friday_evening_utc) == local_to_utc(datetime(2026, 12, 1, 9, 0), "Africa/Lagos")  # Tue
    tokyo = Principal("Ken", "Asia/Tokyo", ["ken@example.jp"])
    # Friday 20:00 UTC is already Saturday in Tokyo: Monday is the first business day, Tuesday the second.
    assert default_due(tokyo, friday_evening_utc) == local_to_utc(datetime(2026, 12, 1, 9, 0), "Asia/Tokyo")


def test_the_dialog_reads_the_time_in_the_principals_zone_across_dst(qtbot):
    ny = Principal("Ann", "America/New_York", ["ann@example.com"])
    dialog = FollowUpDialog(ny, "Lease", datetime(2026, 3, 5, 12, tzinfo=UTC))
    qtbot.addWidget(dialog)
    dialog.when.setDateTime(QDateTime(datetime(2026, 3, 9, 9, 0).date(), QTime(9, 0)))  # the Monday after spring-forward
    assert dialog.due_utc() == datetime(2026, 3, 9, 13, 0, tzinfo=UTC)  # EDT, UTC-4
    assert "09:00 EDT for Ann" in dialog.zone_hint.text() and "your time" in dialog.zone_hint.text()


def test_follow_up_from_the_open_thread_is_a_reminder_on_its_message(make_window, workspace, qtbot):
    ws, ann, ken = workspace
    window = make_window(ws)
    window.select_principal(ann.id)
    qtbot.waitUntil(lambda: window.inbox.model.rowCount() == 5)
    window.inbox.threads.select_row(0)
    qtbot.waitUntil(lambda: window.inbox.reader._message is not None)
    shown = window.inbox.reader._message
    assert window.follow_up.action in window.message_menu.actions()
    assert window.message_actions["follow-up"] is window.follow_up.action

    def answer() -> None:
        dialog = window.follow_up.dialog
        dialog.when.setDateTime(QDateTime(datetime(2026, 12, 2).date(), QTime(10, 30)))
        dialog.note.setText("chase the signed lease")
        dialog.accept()

    def when_open() -> None:
        if isinstance(window.follow_up.dialog, QDialog) and window.follow_up.dialog.isVisible():
            answer()
        else:
            QTimer.singleShot(20, when_open)

    QTimer.singleShot(0, when_open)
    with qtbot.waitSignal(window.follow_up.set, timeout=5000) as set_:
        window.follow_up.action.trigger()
    made = set_.args[0]
    store = Store(ws)
    try:
        stored = rstore.get(store.scope(ann.id), made.id)
        assert (stored.kind, stored.link, stored.text) == ("follow-up", f"message:{shown.id}", "chase the signed lease")
        assert stored.due_utc == local_to_utc(datetime(2026, 12, 2, 10, 30), "America/New_York")
        assert stored.message_header_id == shown.message_id_header
        assert rstore.pending_follow_ups(store.scope(ken.id)) == []  # never on another principal
    finally:
        store.close()
    assert "a reply cancels it" in window.notice.text()


def test_clicking_a_task_reminder_selects_its_card(make_window, workspace, qtbot):
    ws, ann, ken = workspace
    store = Store(ws)
    board.make_task(store, ken.id, "Ken: visa papers", column="Inbox")
    card = board.make_task(store, ken.id, "Ken: renew lease", column="To do")
    store.close()
    window = make_window(ws)
    window.select_principal(ann.id)
    item = NotificationItem(ken.id, "Ken", "Ken — Task due", "Ken: renew lease", f"task:{card.id}", None,
                            datetime.now(UTC), "Asia/Tokyo")
    window.reminders.chain.clicked.emit(item)
    assert window.current_principal.id == ken.id
    assert window.views.currentWidget() is window.board
    qtbot.waitUntil(lambda: (c := window.board.current_card()) is not None and c.id == card.id)
