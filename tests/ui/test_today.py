"""The reminder scheduler (APScheduler under a fake clock), the Today tab, the tray menu and clicking a notification."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtTest import QAbstractItemModelTester

from assistant import reminders
from assistant.core.timezones import day_bounds_utc, in_zone, local_to_utc
from assistant.store import Store
from assistant.store import mail as mail_store
from assistant.store import reminders as rstore
from assistant.ui.reminders.notifications import NotificationItem
from assistant.ui.reminders.scheduler import ReminderScheduler
from assistant.ui.workers import TaskManager

UTC = UTC


class FakeClock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _add(ws, principal, text, due, **kw):
    store = Store(ws)
    try:
        return reminders.add_reminder(store, principal.id, kind=kw.pop("kind", "free"), text=text, due_utc=due, **kw)
    finally:
        store.close()


def _state(ws, principal, reminder_id):
    store = Store(ws)
    try:
        return rstore.get(store.scope(principal.id), reminder_id)
    finally:
        store.close()


def test_scheduler_fires_at_the_utc_instant_once_across_both_zones_dst(workspace, qtbot):
    ws, ann, ken = workspace
    # 09:00 New York on the day it springs forward (2026-03-08) and 09:00 Tokyo (no DST) the same day
    ny = _add(ws, ann, "Ann's stand-up", local_to_utc(datetime(2026, 3, 8, 9, 0), "America/New_York"),
              rrule="FREQ=DAILY")
    tokyo = _add(ws, ken, "Ken's call", local_to_utc(datetime(2026, 3, 8, 9, 0), "Asia/Tokyo"))
    clock = FakeClock(datetime(2026, 3, 7, 20, 0, tzinfo=UTC))
    tasks = TaskManager(ws)
    scheduler = ReminderScheduler(tasks.run, clock, assistant_zone=lambda: "Europe/Berlin")

    def reload_at(now: datetime) -> dict[str, datetime]:
        clock.now = now
        with qtbot.wait_signal(scheduler.scheduled_changed):
            scheduler.reload()
        return scheduler.next_run_times()

    try:
        with qtbot.wait_signal(scheduler.started) as started:
            scheduler.start(paused=True)
        assert started.args == [[]]
        # only what falls within the scheduler's horizon is handed to APScheduler
        assert scheduler.next_run_times() == {f"reminder:{tokyo.id}": datetime(2026, 3, 8, 0, 0, tzinfo=UTC)}
        clock.now = datetime(2026, 3, 8, 0, 0, tzinfo=UTC)
        with qtbot.wait_signal(scheduler.fired) as fired:
            scheduler.due_reached.emit()  # what the APScheduler job does
        (notice,) = fired.args[0]
        assert notice.principal_name == "Ken" and not notice.missed
        assert _state(ws, ken, tokyo.id).state == "fired"
        with qtbot.assert_not_emitted(scheduler.fired, wait=200):
            scheduler.fire_due()
            qtbot.waitUntil(lambda: not tasks.busy)
        # EDT already on 2026-03-08: 09:00 New York is 13:00 UTC, not 14:00
        assert reload_at(datetime(2026, 3, 8, 8, 0, tzinfo=UTC)) == {
            f"reminder:{ny.id}": datetime(2026, 3, 8, 13, 0, tzinfo=UTC)}
        clock.now = datetime(2026, 3, 8, 13, 0, tzinfo=UTC)
        with qtbot.wait_signal(scheduler.fired) as fired:
            scheduler.fire_due()
        assert fired.args[0][0].principal_name == "Ann"
        qtbot.waitUntil(lambda: not tasks.busy)
        # the next day's occurrence, still 09:00 New York, is scheduled once it comes within the horizon
        assert reload_at(datetime(2026, 3, 8, 14, 0, tzinfo=UTC)) == {}
        (nxt,) = reload_at(datetime(2026, 3, 9, 8, 0, tzinfo=UTC)).values()
        assert nxt == datetime(2026, 3, 9, 13, 0, tzinfo=UTC)
    finally:
        scheduler.stop()
        tasks.shutdown()


def test_missed_while_closed_shows_at_start_in_the_window(make_window, workspace, qtbot):
    ws, ann, ken = workspace
    due = datetime.now(UTC) - timedelta(hours=2)
    missed = _add(ws, ken, "Send the signed contract", due, kind="task", link="task:99")
    window = make_window(ws)
    notes = window.reminders.notifications
    qtbot.waitUntil(lambda: len(notes.items) == 1)
    item = notes.items[0]
    assert item.missed and item.principal_name == "Ken" and item.title == "Ken — Missed"
    assert "was due" in item.body and item.body.endswith("Send the signed contract")
    assert _state(ws, ken, missed.id).missed
    # the Today tab lists it, labelled with the principal, in both zones
    model = window.today.model
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)
    qtbot.waitUntil(lambda: any(r["reminder_id"] == missed.id for r in model.rows))
    row = next(i for i, r in enumerate(model.rows) if r["reminder_id"] == missed.id)
    assert model.index(row, 0).data() == "Ken"
    assert model.index(row, 3).data().endswith("JST")
    assert model.index(row, 5).data() == "missed"
    assert "1 overdue" in window.reminders.tray.tooltip or "overdue" in window.reminders.tray.tooltip
    window.close()
    # a restart does not show it again
    again = make_window(ws)
    qtbot.waitUntil(lambda: not again.tasks.busy)
    assert again.reminders.notifications.items == []


def test_clicking_a_notification_opens_the_item_in_its_principal(make_window, workspace, qtbot):
    ws, ann, ken = workspace
    window = make_window(ws)
    window.select_principal(ann.id)
    store = Store(ws)
    message = mail_store.message_by_header_id(store.scope(ken.id), "<ken1-0@example.org>")
    store.close()
    it = NotificationItem(ken.id, "Ken", "Ken — Follow up", "No reply", f"message:{message.id}", None,
                          datetime.now(UTC), "Asia/Tokyo")
    window.reminders.chain.clicked.emit(it)
    assert window.current_principal.id == ken.id
    assert window.views.currentWidget() is window.inbox
    inbox = window.inbox
    qtbot.waitUntil(lambda: inbox.threads.currentIndex().isValid()
                    and inbox.model.thread_at(inbox.threads.currentIndex().row()).subject == "Ken matter 1")
    qtbot.waitUntil(lambda: "Ken matter 1" in inbox.reader.subject.text())


def test_tray_menu_actions_and_pause(make_window, workspace, qtbot):
    ws, ann, ken = workspace
    _add(ws, ann, "Call the bank", datetime.now(UTC) + timedelta(minutes=1))
    window = make_window(ws)
    tray = window.reminders.tray
    assert not tray.has_tray  # offscreen
    labels = [a.text() for a in tray.menu.actions() if not a.isSeparator()]
    assert labels == ["&Open Assistant", "&Sync now", "&Today's due items", "&Pause notifications", "&Quit"]
    qtbot.waitUntil(lambda: any("Call the bank" in a.text() for a in tray.due_menu.actions()))
    entry = next(a for a in tray.due_menu.actions() if "Call the bank" in a.text())
    assert entry.text().startswith("Ann: ")
    with qtbot.wait_signal(tray.item_requested) as requested:
        entry.trigger()
    assert requested.args[0] == ann.id
    tray.pause_action.trigger()
    qtbot.waitUntil(lambda: not window.tasks.busy)
    store = Store(ws)
    try:
        assert reminders.is_paused(store)
    finally:
        store.close()
    assert "paused" in tray.tooltip


def test_snooze_from_today_moves_it_to_the_principals_next_business_morning(make_window, workspace, qtbot):
    ws, ann, ken = workspace
    # Due later in Ken's today (Today lists what is due by the end of each principal's day): in half an hour, or just
    # before his midnight when that comes first.
    now = datetime.now(UTC)
    _, ken_midnight = day_bounds_utc(in_zone(now, "Asia/Tokyo").date(), "Asia/Tokyo")
    r = _add(ws, ken, "Chase the invoice", min(now + timedelta(minutes=30), ken_midnight - timedelta(seconds=20)))
    window = make_window(ws)
    view = window.today
    qtbot.waitUntil(lambda: any(row["reminder_id"] == r.id for row in view.model.rows))
    row = next(i for i, x in enumerate(view.model.rows) if x["reminder_id"] == r.id)
    view.table.setCurrentIndex(view.model.index(row, 0))
    assert view.snooze_button.isEnabled()
    view.snooze_button.click()
    qtbot.waitUntil(lambda: _state(ws, ken, r.id).due_utc > r.due_utc)
    moved = _state(ws, ken, r.id).due_utc.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo"))
    assert (moved.hour, moved.minute) == (9, 0) and moved.isoweekday() <= 5


def test_closing_keeps_the_app_in_the_tray_when_there_is_one(make_window, workspace, qtbot, monkeypatch):
    from assistant.ui.reminders.tray import TrayController

    ws, ann, ken = workspace
    window = make_window(ws)
    wiring = window.reminders
    monkeypatch.setattr(TrayController, "has_tray", property(lambda self: True))  # offscreen has none
    window.close()
    assert not window.isVisible() and wiring.scheduler.tick.isActive()  # hidden, still watching
    window.show()
    wiring.quitting = True  # what the tray's Quit sets before closing
    window.close()
    assert not wiring.scheduler.tick.isActive() and not wiring.scheduler.scheduler.running


def test_closing_without_a_tray_really_closes(make_window, workspace, qtbot):
    ws, ann, ken = workspace
    window = make_window(ws)
    window.close()
    assert not window.reminders.scheduler.tick.isActive()


def test_a_stopped_scheduler_asks_the_worker_for_nothing(qtbot):
    calls = []
    scheduler = ReminderScheduler(lambda fn, on_done=None, on_error=None: calls.append(fn),
                                  FakeClock(datetime(2026, 3, 8, tzinfo=UTC)))
    scheduler.start()
    assert len(calls) == 1  # start_up
    scheduler.stop()
    scheduler.due_reached.emit()  # a job APScheduler's uncancellable Qt timer would still run
    scheduler.on_tick()
    scheduler.schedule_all([])
    assert len(calls) == 1 and not scheduler.tick.isActive() and scheduler.next_run_times() == {}


def test_notification_settings_dialog_saves_per_principal_and_refuses_bad_hours(make_window, workspace, qtbot):
    ws, ann, ken = workspace
    window = make_window(ws)
    dialog = window.today.open_settings()
    qtbot.waitUntil(lambda: len(dialog.rows) == 2)
    notify, quiet = dialog.rows[ken.id]
    notify.setCurrentIndex(notify.findData("urgent"))
    quiet.setText("22:00-07:00")
    dialog.assistant_quiet.setText("whenever")
    dialog.save()
    qtbot.waitUntil(lambda: "quiet hours" in dialog.error.text())
    store = Store(ws)
    try:
        assert reminders.notification_settings(store, ken.id).notify == "on"  # nothing of a bad save landed
    finally:
        store.close()
    dialog.assistant_quiet.setText("23:00-06:00")
    with qtbot.wait_signal(dialog.saved):
        dialog.save()
    store = Store(ws)
    try:
        s = reminders.notification_settings(store, ken.id)
        assert (s.notify, f"{s.quiet_start:%H:%M}-{s.quiet_end:%H:%M}") == ("urgent", "22:00-07:00")
        assert reminders.notification_settings(store, ann.id).notify == "on"
        assert [f"{t:%H:%M}" for t in reminders.assistant_quiet_hours(store)] == ["23:00", "06:00"]
    finally:
        store.close()


def test_an_approval_decision_is_notified_like_a_reminder_and_opens_the_approvals_tab(make_window, workspace, qtbot):
    from assistant.approvals import drafts, lifecycle

    ws, ann, ken = workspace
    store = Store(ws)
    try:
        account = store.accounts(ken.id)[0]
        draft = drafts.save_draft(store, ken.id, account.id, to="bob@example.org", subject="Lease terms", body_text="Hi")
        drafts.submit_draft(store, ken.id, draft.id)
    finally:
        store.close()
    window = make_window(ws)
    window.select_principal(ann.id)
    approvals = window.approvals
    qtbot.waitUntil(lambda: approvals._last_audit_id is not None)
    store = Store(ws)
    try:
        lifecycle.approve_in_person(store, ken.id, draft.id, decision="reject", comment="call them instead")
    finally:
        store.close()
    presented = []
    window.reminders.chain.presented.connect(lambda item, by: presented.append(item))
    approvals.check_notifications()
    qtbot.waitUntil(lambda: len(presented) == 1)
    item = presented[0]
    assert (item.principal_id, item.principal_name, item.link, item.principal_timezone) == (
        ken.id, "Ken", "approvals", "Asia/Tokyo")
    assert item.body == "Ken: rejected: Lease terms — “call them instead”" and item.popup
    notifications = window.reminders.notifications
    assert notifications.rowCount() == 1  # the Today tab's list: one place for every notice, one tray icon

    window.reminders.on_notification_activated(notifications.index(0))
    assert window.current_principal.id == ken.id
    assert window.views.currentWidget() is approvals

    window.close()
    assert not approvals.check_timer.isActive()
    approvals.check_timer.timeout.emit()  # a tick already queued when the window closed asks nothing of the worker


def test_a_due_card_and_its_reminder_are_one_row_and_a_card_without_one_still_shows(workspace):
    """Seen on the demo: a card's reminder (kind "task") came in twice, once as a reminder and once as a card."""
    from assistant.board import service as board
    from assistant.ui.reminders.today import load_today

    ws, ann, ken = workspace
    now = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # 10:00 in New York
    store = Store(ws)
    try:
        reminders.add_reminder(store, ken.id, kind="free", text="Ken's", due_utc=now + timedelta(days=3))
        reminded = board.make_task(store, ann.id, "Send the deck", due_utc=now + timedelta(hours=2))
        quiet = board.make_task(store, ann.id, "File the motion", due_utc=now + timedelta(hours=3), remind=False)
        rows = load_today(store, now)
        assert reminded.id != rstore.listed(store.scope(ann.id))[0].id  # a card's id is not its reminder's
    finally:
        store.close()
    mine = [(r["text"], r["link"]) for r in rows if r["principal_id"] == ann.id]
    assert mine == [("Send the deck", f"task:{reminded.id}"), ("File the motion", f"task:{quiet.id}")]


def test_a_change_the_provider_refused_in_a_sync_is_notified_urgently_naming_the_principal(make_window, workspace,
                                                                                         qtbot):
    from assistant.sync.engine import SyncReport

    ws, ann, _ken = workspace
    store = Store(ws)
    (account,) = store.accounts(ann.id)
    store.close()
    window = make_window(ws)
    report = SyncReport(account.id, "Ann", account.kind, account.address)
    report.failed_now = 1
    report.failed.append({"entry_id": 1, "op": "send", "error": "550 5.1.1 mailbox unavailable", "draft_id": 3})
    fine = SyncReport(account.id, "Ann", account.kind, account.address)
    with qtbot.waitSignal(window.reminders.chain.presented, timeout=5000) as presented:
        window.sync_finished.emit([report, fine])
    item = presented.args[0]
    assert item.principal_id == ann.id and item.title == "Ann — Send failed" and item.urgent
    assert item.body == f"1 change from {account.address} did not go through: 550 5.1.1 mailbox unavailable"
    assert window.reminders.notifications.items[0] is item


def test_quiet_hours_fields_are_wide_enough_to_read(make_window, workspace, qtbot):
    """Issue 16, point 9: the quiet-hours fields were 30 px wide (the rows arrive after the dialog is laid out)."""
    from assistant.ui.reminders.today import NotificationSettingsDialog

    ws, _ann, _ken = workspace
    window = make_window(ws, size=(1280, 720))
    dialog = NotificationSettingsDialog(window.tasks, window)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: len(dialog.rows) == 2)
    qtbot.wait(50)
    needed = dialog.assistant_quiet.fontMetrics().horizontalAdvance("22:00-07:00")
    for _notify, quiet in dialog.rows.values():
        assert quiet.width() >= needed
    assert dialog.assistant_quiet.width() >= needed


def test_the_sidebars_due_count_is_the_number_of_rows_today_shows(make_window, workspace, qtbot):
    """Issue 16, point 9: a card with its own reminder counted twice beside the principal's name, once in Today."""
    from PySide6.QtCore import Qt

    from assistant.board import service as board
    from assistant.ui.sidebar import DueRole

    ws, ann, _ken = workspace
    store = Store(ws)
    soon = datetime.now(UTC) + timedelta(minutes=30)
    board.make_task(store, ann.id, "Send the deck", due_utc=soon, remind=True)
    board.make_task(store, ann.id, "File the motion", due_utc=soon, remind=False)
    reminders.add_reminder(store, ann.id, kind="free", text="Call the bank", due_utc=soon)
    store.close()
    window = make_window(ws, size=(1280, 720))
    qtbot.waitUntil(lambda: window.today.model.rowCount() > 0)
    shown = sum(1 for r in window.today.model.rows if r["principal_id"] == ann.id)
    assert shown == 3
    model = window.principals
    row = next(r for r in range(model.rowCount()) if model.index(r, 0).data(Qt.ItemDataRole.DisplayRole) == "Ann")
    qtbot.waitUntil(lambda: model.index(row, 0).data(DueRole) == shown, timeout=3000)


# -- the timeline: every principal's day in the assistant's time (issue 16, "Across principals") --------------------
def _today_view(ws, qtbot, monkeypatch, now: datetime, zone: str = "Europe/London"):
    from assistant.ui.reminders.notifications import NotificationListModel
    from assistant.ui.reminders.today import TodayView

    monkeypatch.setenv("TZ", zone)  # the assistant's zone
    tasks = TaskManager(ws)
    view = TodayView(tasks, NotificationListModel(), clock=FakeClock(now))
    qtbot.addWidget(view)
    view.resize(1200, 700)
    view.show()
    with qtbot.wait_signal(view.reloaded, timeout=5000):
        view.reload()
    return view, tasks


def _near(a: float, b: float) -> bool:
    return abs(a - b) < 1.0


def _at(timeline, fraction: float) -> float:
    """The x a fraction of the way along the hours shown."""
    return timeline.plot_left() + fraction * (timeline.plot_right() - timeline.plot_left())


def test_the_timeline_has_a_lane_per_principal_with_their_business_hours_and_meetings_in_your_time(
        workspace, qtbot, monkeypatch):
    from PySide6.QtCore import Qt

    from assistant.domain import CalendarEvent
    from assistant.store import calendar as calendar_store

    ws, ann, ken = workspace
    now = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)  # Tuesday: 07:00 in New York (EST), 21:00 in Tokyo, 12:00 GMT
    store = Store(ws)
    try:
        start = local_to_utc(datetime(2026, 3, 3, 10, 30), "America/New_York")  # 15:30 in London
        calendar_store.upsert_event(store.scope(ann.id), CalendarEvent(
            principal_id=ann.id, account_id=store.accounts(ann.id)[0].id, remote_id="m1", uid="m1",
            summary="Partners' meeting", start_utc=start, end_utc=start + timedelta(hours=1), location="Boardroom"))
        # due 13:30 in Tokyo: 04:30 in London, so the day is shown from 04:00
        reminders.add_reminder(store, ken.id, kind="free", text="Call the site",
                               due_utc=datetime(2026, 3, 3, 4, 30, tzinfo=UTC), now=now - timedelta(days=1))
    finally:
        store.close()
    view, tasks = _today_view(ws, qtbot, monkeypatch, now)
    try:
        timeline = view.timeline
        assert [(lane.name, lane.colour) for lane in timeline.lanes] == [("Ann", "#e11d48"), ("Ken", "#16a34a")]
        assert [timeline._local_now(lane) for lane in timeline.lanes] == ["Tue 07:00 EST", "Tue 21:00 JST"]
        assert [label for _t, label in timeline.hour_ticks()][::6] == ["04:00", "10:00", "16:00", "22:00"]
        hours = 18  # 04:00 to 22:00 in London
        # Ken's 09:00-17:00 in Tokyo is 00:00-08:00 in London: shaded from where the day shown begins to 08:00
        (ken_hours,) = timeline.working_rects(1)
        assert _near(ken_hours.left(), _at(timeline, 0)) and _near(ken_hours.right(), _at(timeline, 4 / hours))
        # Ann's 09:00-17:00 in New York is 14:00-22:00 in London
        (ann_hours,) = timeline.working_rects(0)
        assert _near(ann_hours.left(), _at(timeline, 10 / hours)) and _near(ann_hours.right(), _at(timeline, 1))
        assert ann_hours.top() == timeline.lane_top(0) and ken_hours.top() == timeline.lane_top(1)
        # her 10:30 meeting at 15:30 in London, an hour long; its tooltip gives her time first, yours beside it
        ((rect, meeting),) = timeline.meeting_rects(0)
        assert _near(rect.left(), _at(timeline, 11.5 / hours)) and _near(rect.right() + 1, _at(timeline, 12.5 / hours))
        tip = timeline.describe(next(h for h in timeline.hits() if h.meeting is meeting))
        assert "Tue 10:30–11:30 EST (Ann's time)" in tip and "Tue 15:30–16:30 GMT (your time)" in tip
        # Ken's item as a marker at 04:30; every row the list shows is on the timeline
        ((marker, row),) = timeline.item_rects(1)
        assert _near(marker.center().x(), _at(timeline, 0.5 / hours)) and row["text"] == "Call the site"
        assert sum(len(timeline.item_rects(i)) for i in range(2)) == view.model.rowCount() == 1
        assert _near(timeline.now_x(), _at(timeline, 8 / hours))
        assert "Tue 03 Mar in your time (Europe/London)" in view.timeline_caption.text()
        assert not timeline.grab().isNull()
        # by keyboard: Right walks through the day in time order, Enter opens
        timeline.setFocus()
        qtbot.keyClick(timeline, Qt.Key.Key_Right)
        assert timeline.accessibleDescription().startswith("Ken — free: Call the site")
        qtbot.keyClick(timeline, Qt.Key.Key_Right)
        with qtbot.wait_signal(view.open_requested) as opened:
            qtbot.keyClick(timeline, Qt.Key.Key_Return)
        assert opened.args == [ann.id, meeting.link]
    finally:
        tasks.shutdown()


def test_the_timeline_on_the_assistants_dst_day_runs_on_real_time(workspace, qtbot, monkeypatch):
    from datetime import time

    from assistant.domain import BusinessHours

    ws, ann, ken = workspace
    store = Store(ws)
    try:
        for p in (ann, ken):
            p.business_hours = BusinessHours(time(9, 0), time(17, 0), (1, 2, 3, 4, 5, 6, 7))
            store.update_principal(p)
        # London springs forward at 01:00 UTC on Sunday 29 March 2026; Ken's item is due at 00:30 GMT (09:30 JST)
        reminders.add_reminder(store, ken.id, kind="free", text="Sign the drawings",
                               due_utc=datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
                               now=datetime(2026, 3, 28, tzinfo=UTC))
    finally:
        store.close()
    view, tasks = _today_view(ws, qtbot, monkeypatch, datetime(2026, 3, 29, 12, 0, tzinfo=UTC))
    try:
        timeline = view.timeline
        labels = [label for _t, label in timeline.hour_ticks()]
        assert labels[:4] == ["00:00", "02:00", "03:00", "04:00"] and labels[-1] == "22:00"
        hours = 21  # 00:00 GMT to 22:00 BST
        # Ken's 09:00-17:00 in Tokyo reads 00:00-09:00 on your clock today, and is eight hours long
        (ken_hours,) = timeline.working_rects(1)
        assert _near(ken_hours.left(), _at(timeline, 0)) and _near(ken_hours.right(), _at(timeline, 8 / hours))
        # Ann's 09:00-17:00 EDT is 14:00-22:00 BST: 13 to 21 hours after your midnight
        (ann_hours,) = timeline.working_rects(0)
        assert _near(ann_hours.left(), _at(timeline, 13 / hours)) and _near(ann_hours.right(), _at(timeline, 1))
        ((marker, _row),) = timeline.item_rects(1)
        assert _near(marker.center().x(), _at(timeline, 0.5 / hours))
        tip = timeline.describe(timeline.hits()[0])
        assert "Sun 09:30 JST (Ken's time) · Sun 00:30 GMT (your time)" in tip
    finally:
        tasks.shutdown()


def test_clicking_a_meeting_opens_it_in_the_calendar_and_clicking_a_due_item_opens_it(make_window, workspace, qtbot,
                                                                                      monkeypatch):
    from PySide6.QtCore import Qt

    from assistant.board import service as board

    monkeypatch.setenv("TZ", "Europe/London")
    ws, ann, ken = workspace  # each has an hour-long board call from the start of this hour
    now = datetime.now(UTC)
    _, ken_midnight = day_bounds_utc(in_zone(now, "Asia/Tokyo").date(), "Asia/Tokyo")
    store = Store(ws)
    card = board.make_task(store, ken.id, "Send the fee proposal", remind=False,
                           due_utc=min(now + timedelta(minutes=30), ken_midnight - timedelta(seconds=20)))
    store.close()
    window = make_window(ws, size=(1280, 720))
    window.select_principal(ken.id)
    window.views.setCurrentWidget(window.today)
    timeline = window.today.timeline
    qtbot.waitUntil(lambda: len(timeline.meeting_rects(0)) == 1 and len(timeline.item_rects(1)) == 1)
    assert sum(len(timeline.item_rects(i)) for i in range(2)) == window.today.model.rowCount()
    ((rect, meeting),) = timeline.meeting_rects(0)
    assert meeting.summary == "Ann board call"
    qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
    assert window.current_principal.id == ann.id
    assert window.views.currentWidget() is window.calendar
    grid = window.calendar.grid
    qtbot.waitUntil(lambda: grid.selected_occurrence() is not None)
    assert (grid.selected_occurrence().event_id, grid.selected_occurrence().start_utc) == (meeting.event_id,
                                                                                          meeting.start_utc)

    window.views.setCurrentWidget(window.today)
    ((marker, row),) = timeline.item_rects(1)
    assert row["link"] == f"task:{card.id}"
    qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, pos=marker.center().toPoint())
    assert window.current_principal.id == ken.id
    assert window.views.currentWidget() is window.board
    assert window.today.current_row() is row  # and it is the row selected in the list

    # a meeting made anywhere shows on the timeline (Today reloads the calendars from the change)
    from assistant.sync import actions

    start = meeting.start_utc + timedelta(minutes=15)  # within the hour the board call has: today, at any hour
    account_id = window.calendar.data.calendar_account_id
    window.tasks.run(lambda store: actions.create_event(store, ann.id, account_id, summary="Lease review",
                                                        start=start, end=start + timedelta(minutes=30)))
    qtbot.waitUntil(lambda: any(m.summary == "Lease review" for m in timeline.timeline.lanes[0].meetings))


def test_showing_the_today_tab_reads_only_the_rows_it_paints(make_window, workspace, qtbot, monkeypatch):
    """Issue 17: the due list's header sized its columns to their contents each time the tab was shown, asking every
    role of the first 200 rows (3 s with ten principals at scale, with the timeline). The columns are sized from the
    rows' text when they arrive; showing the tab reads only the rows it paints."""
    from assistant.ui.reminders.today import TodayModel

    ws, ann, ken = workspace
    store = Store(ws)
    now = datetime.now(UTC)
    for n in range(120):
        reminders.add_reminder(store, ann.id, kind="free", text=f"Chase invoice number {n}",
                               due_utc=now - timedelta(hours=1, minutes=n))
    store.close()
    window = make_window(ws, size=(1280, 720))
    today = window.today
    qtbot.waitUntil(lambda: today.model.rowCount() >= 120 and not window.tasks.busy)
    assert not today.isVisible()
    metrics = today.table.fontMetrics()
    for column in (1, 3, 4, 5):  # fitted to their text when the rows arrived, the tab hidden
        assert metrics.horizontalAdvance(str(today.model.index(0, column).data())) < today.table.columnWidth(column)
    assert metrics.horizontalAdvance("Ken") + 16 < today.table.columnWidth(0)  # a lane's name with its colour mark
    widths = [today.table.columnWidth(c) for c in (0, 1, 3, 4, 5)]  # (2, the text, stretches)

    rows_read: set[int] = set()
    rows = {id(row): n for n, row in enumerate(today.model.rows)}
    for hook in ("display", "cell_data"):
        real = getattr(TodayModel, hook)

        def recording(model, row, *args, _real=real):
            rows_read.add(rows[id(row)])
            return _real(model, row, *args)

        monkeypatch.setattr(TodayModel, hook, recording)
    window.views.setCurrentWidget(today)
    qtbot.waitUntil(lambda: today.table.viewport().isVisible())
    qtbot.wait(100)  # painted
    last_painted = today.table.rowAt(today.table.viewport().height() - 1)
    assert rows_read and 0 < last_painted < 100
    assert max(rows_read) <= last_painted
    assert [today.table.columnWidth(c) for c in (0, 1, 3, 4, 5)] == widths  # not sized again on showing


def test_showing_today_with_many_notifications_makes_no_line_again(make_window, workspace, qtbot, monkeypatch):
    """Issue 17: at scale a thousand missed reminders land in the notification list at start, and showing the Today
    tab laid out every one, making each line again (the laptop's zone looked up from the disk for each): half a
    second. Each line is made once, with the zone Today last read; the list is laid out a hundred rows at a time."""
    from assistant.ui.reminders import notifications as notifications_module

    ws, ann, _ken = workspace
    window = make_window(ws, size=(1280, 720))
    today = window.today
    due = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    for n in range(600):
        today.notifications.add(NotificationItem(ann.id, "Ann", f"Ann — Missed {n}", f"Chase invoice {n}", "", n + 1,
                                                 due, "America/New_York", missed=True))
    zone_lookups: list[int] = []
    real = notifications_module.timezones.assistant_zone_name
    monkeypatch.setattr(notifications_module.timezones, "assistant_zone_name",
                        lambda: zone_lookups.append(1) or real())
    made: list[int] = []  # the items whose line was made (not found made already)
    real_line = getattr(notifications_module.NotificationListModel, "line", None)

    def line(model, item):
        if id(item) not in model._lines:
            made.append(id(item))
        return real_line(model, item)

    monkeypatch.setattr(notifications_module.NotificationListModel, "line", line, raising=False)
    window.views.setCurrentWidget(today)
    qtbot.waitUntil(lambda: today.notification_list.viewport().isVisible())
    qtbot.wait(300)  # painted, and the list laid out in its batches
    assert today.notification_list.model().index(0, 0).data().startswith("Ann — Missed 599: Chase invoice 599")
    assert zone_lookups == []
    assert len(made) == len(set(made)) <= 600  # each line made once
    made.clear()
    window.views.setCurrentWidget(window.inbox)
    qtbot.wait(50)
    window.views.setCurrentWidget(today)
    qtbot.waitUntil(lambda: today.notification_list.viewport().isVisible())
    qtbot.wait(300)
    assert made == [] and zone_lookups == []  # not again


def test_the_hidden_today_tab_draws_its_timeline_before_it_is_shown(make_window, workspace, qtbot, monkeypatch):
    """Issue 17: Today's first showing laid its page out and painted the timeline (every marker, text and tint:
    most of the tab's time, 679 markers at the benchmark's scale) between Ctrl+<n> and the paint. Behind another tab
    the page is laid out and the timeline drawn when its rows arrive; the showing copies that and draws no marker."""
    from assistant.ui.reminders import timeline as timeline_module

    ws, ann, _ken = workspace
    store = Store(ws)
    now = datetime.now(UTC)
    for n in range(30):
        reminders.add_reminder(store, ann.id, kind="free", text=f"Chase invoice number {n}",
                               due_utc=now - timedelta(days=2, minutes=n))
    store.close()
    window = make_window(ws, size=(1280, 720))
    today = window.today
    qtbot.waitUntil(lambda: today.model.rowCount() >= 30 and not window.tasks.busy)
    assert not today.isVisible()
    timeline = today.timeline
    # drawn for the last rows that arrived (each reload's rows are drawn after they are laid out)
    qtbot.waitUntil(lambda: not window.tasks.busy and timeline._prepared is not None
                    and timeline._prepared[0][0] == timeline._generation)
    width = timeline.width()
    assert width > 900  # laid out at the size it will be shown at, not Qt's 640 px of a page never shown

    statuses: list[int] = []  # each marker drawn asks whether its item is late
    real = timeline_module.item_status
    monkeypatch.setattr(timeline_module, "item_status", lambda row, when: statuses.append(1) or real(row, when))
    window.views.setCurrentWidget(today)
    qtbot.waitUntil(timeline.isVisible)
    timeline.repaint()
    assert statuses == [] and timeline.width() == width

    timeline.select(next(n for n, hit in enumerate(timeline.hits()) if hit.row is not None))
    timeline.repaint()  # what it shows changed: drawn afresh
    assert statuses
