import sys
import threading
import types
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QAbstractItemModelTester

from assistant.domain import Principal
from assistant.store import Store
from assistant.store import calendar as calendar_store
from assistant.store import mail as mail_store
from assistant.store.changes import Area
from assistant.ui.calendar.view import WeekModel
from assistant.ui.mail.inbox import ThreadListModel
from assistant.ui.sidebar import PrincipalListModel, UnreadRole, local_time

UTC = UTC


def subjects(window) -> list[str]:
    model = window.inbox.model
    return [model.thread_at(r).subject for r in range(model.rowCount())]


def test_empty_workspace_shows_the_first_run_page(make_window, tmp_path):
    window = make_window(tmp_path / "empty")
    assert window.pages.currentWidget() is window.first_run
    assert window.first_run.demo_button.text() == "Open the demo"
    assert window.first_run.add_button.text() == "Add your first principal"
    # nobody to write for yet: no mail action is offered (New message was enabled on the first-run page)
    assert not window.message_actions["new"].isEnabled() and not window.message_actions["make-task"].isEnabled()
    assert not window.sync_action.isEnabled()


def test_switching_principal_switches_every_view(make_window, workspace, qtbot):
    ws, ann, ken = workspace
    window = make_window(ws)
    assert window.pages.currentWidget() is window.splitter
    assert window.current_principal.name == "Ann"  # alphabetical: first principal
    assert sorted(subjects(window)) == [f"Ann matter {i}" for i in range(5)]

    with qtbot.waitSignal(window.principal_changed) as changed:
        window.select_principal(ken.id)
    assert changed.args == [ken.id]
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert sorted(subjects(window)) == [f"Ken matter {i}" for i in range(3)]
    assert all(window.inbox.model.thread_at(r).principal_id == ken.id for r in range(window.inbox.model.rowCount()))
    assert window.inbox.reader.subject.text().startswith("Ken matter")
    week = window.calendar.model
    summaries = {o.summary for r in range(week.rowCount()) for c in range(week.columnCount())
                 for o in week.occurrences_at(r, c)}
    assert summaries == {"Ken board call"}
    assert "Ken" in window.windowTitle()
    assert "ken@ken.example" in window.sync_status.text() and "ann@" not in window.sync_status.text()


def test_sidebar_shows_counts_and_local_time(make_window, workspace, qtbot):
    ws, ann, ken = workspace
    window = make_window(ws)
    model = window.principals
    qtbot.waitUntil(lambda: model.index(model.row_of(ann.id)).data(UnreadRole) == 5)
    assert model.index(model.row_of(ken.id)).data(UnreadRole) == 3


def test_local_time_and_business_hours():
    p = Principal(name="Ken", timezone="Asia/Tokyo")
    monday_10_tokyo = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    local, outside = local_time(p, monday_10_tokyo)
    assert (local.hour, outside) == (10, False)
    assert local_time(p, monday_10_tokyo + timedelta(hours=8))[1] is True  # 18:00
    assert local_time(p, monday_10_tokyo - timedelta(days=1))[1] is True  # Sunday


def test_models_pass_the_qt_model_tester(qtbot, workspace):
    ws, ann, ken = workspace
    store = Store(ws)
    try:
        principals = PrincipalListModel()
        week = WeekModel()
        threads = ThreadListModel(store)
        testers = [QAbstractItemModelTester(m, QAbstractItemModelTester.FailureReportingMode.Warning)
                   for m in (principals, week, threads)]
        principals.set_principals(store.principals(), store.counts())
        principals.tick()
        principals.set_counts({ann.id: {"unread": 1, "due": 2}})
        from assistant.ui.calendar.view import load_week, week_start

        monday = week_start(datetime.now(UTC).date()) - timedelta(days=7)
        start = datetime.combine(monday, datetime.min.time(), UTC)
        occurrences, problems = load_week(store, ann.id, start, start + timedelta(days=21))
        assert problems == [] and [o.summary for o in occurrences] == ["Ann board call"]
        week.set_week(ann, monday, occurrences, "Europe/Berlin")
        week.set_week(ann, monday + timedelta(days=7), occurrences, "Europe/Berlin")
        threads.set_principal(ann)
        threads.reload()
        threads.show_search_results("x", [])
        threads.set_principal(None)
        del testers
    finally:
        store.close()


def test_add_principal_dialog_adds_through_the_worker(make_window, tmp_path, qtbot):
    window = make_window(tmp_path / "empty")
    dialog = window.on_add_principal()
    dialog.name.setText("Ada Okafor")
    dialog.email.setText("ada@example.com")
    dialog.zone.setCurrentText("Not/AZone")
    dialog.accept()
    assert dialog.isVisible() and "time zone" in dialog.error.text()
    dialog.zone.setCurrentText("Africa/Lagos")
    dialog.region.setText("ng")
    with qtbot.waitSignal(window.principal_changed, timeout=5000):
        dialog.accept()
    assert window.pages.currentWidget() is window.splitter
    assert window.current_principal.name == "Ada Okafor"
    assert window.current_principal.timezone == "Africa/Lagos" and window.current_principal.region == "NG"


def test_open_demo_builds_through_the_worker(make_window, tmp_path, qtbot, monkeypatch):
    calls = []

    def build_demo(workspace_dir):
        calls.append((workspace_dir, threading.current_thread() is threading.main_thread()))
        store = Store(workspace_dir)
        store.add_principal(Principal(name="Demo Person", timezone="Asia/Tokyo"))
        store.close()

    monkeypatch.setitem(sys.modules, "assistant.demo.build", types.SimpleNamespace(build_demo=build_demo))
    window = make_window(tmp_path / "empty")
    with qtbot.waitSignal(window.workspace_opened, timeout=5000) as opened:
        window.first_run.demo_button.click()
    demo_window = opened.args[0]
    qtbot.addWidget(demo_window)
    assert calls == [(tmp_path / "demo-workspace", False)]  # beside the workspace, never over it
    qtbot.waitUntil(lambda: not demo_window.tasks.busy)
    assert demo_window.pages.currentWidget() is demo_window.splitter
    assert demo_window.current_principal.name == "Demo Person"
    assert not window.isVisible()
    assert Store(tmp_path / "empty").principals() == []


def test_real_demo_opens_with_its_principals(make_window, tmp_path, qtbot):
    window = make_window(tmp_path / "empty")
    with qtbot.waitSignal(window.workspace_opened, timeout=120_000) as opened:
        window.first_run.demo_button.click()
    demo_window = opened.args[0]
    qtbot.addWidget(demo_window)
    qtbot.waitUntil(lambda: not demo_window.tasks.busy, timeout=30_000)
    assert len(demo_window.principals.principals()) == 3
    assert demo_window.principals.rowCount() == 4  # and All principals above them
    assert demo_window.inbox.model.rowCount() > 0
    demo_window.close()


def in_process_sync_fails(*_args, **_kwargs):
    raise AssertionError("the sync ran in the window's own process")


def test_sync_now_runs_in_a_process_of_its_own_and_shows_account_state(make_window, workspace, qtbot, monkeypatch):
    """The accounts here have no maildir: the pass in the child process sets them in error, and the window shows it."""
    from assistant.sync import engine

    ws, ann, ken = workspace
    monkeypatch.setattr(engine, "sync_all", in_process_sync_fails)  # the child imports its own engine
    window = make_window(ws)
    with qtbot.waitSignal(window.sync_finished, timeout=60_000) as finished:
        window.sync_action.trigger()
        assert "syncing" in window.sync_status.text()
        assert not window.sync_action.isEnabled()
    reports = finished.args[0]
    assert [r.principal for r in reports] == ["Ann", "Ken"]
    assert all("neither a maildir nor an mbox" in r.errors[0] for r in reports)
    qtbot.waitUntil(lambda: "neither a maildir nor an mbox" in window.sync_status.text())
    assert "error" in window.sync_status.text() and window.sync_action.isEnabled()


def make_maildir(directory: Path, count: int, start: int = 0) -> Path:
    from tests.connectors.contract import make_raw

    for sub in ("cur", "new", "tmp"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    for n in range(start, start + count):
        (directory / "cur" / f"{n}.test:2,S").write_bytes(make_raw(n, subject=f"Synced message {n}"))
    return directory


def test_the_mail_a_sync_process_stored_shows_when_it_ends(make_window, workspace, tmp_path, qtbot, monkeypatch):
    """What the child wrote reaches the window as a change of its own workspace: the inbox and the sidebar's counts
    refresh from it with no reload by hand."""
    from assistant.sync import engine

    ws, ann, ken = workspace
    maildir = make_maildir(tmp_path / "ann-mail", 3)
    store = Store(ws)
    account = next(a for a in store.accounts() if a.principal_id == ann.id)
    store.update_account_settings(account.id, {"maildir": str(maildir)})
    store.close()
    monkeypatch.setattr(engine, "sync_all", in_process_sync_fails)
    window = make_window(ws)
    changed = []
    window.tasks.changed.connect(changed.append)
    with qtbot.waitSignal(window.sync_finished, timeout=60_000) as finished:
        window.on_sync_now()
    ann_report = next(r for r in finished.args[0] if r.principal == "Ann")
    assert ann_report.mail["added"] == 3 and ann_report.errors == []
    assert any(c.touches(Area.MAIL, principal_id=ann.id) for c in changed)
    qtbot.waitUntil(lambda: "Synced message 2" in subjects(window))
    assert sorted(s for s in subjects(window) if s.startswith("Synced")) == [f"Synced message {n}" for n in range(3)]


def test_after_a_sync_the_window_reads_the_new_mail_on_the_worker_not_the_gui_thread(
        make_window, workspace, tmp_path, qtbot):
    """The refresh a sync's changes set off (the inbox's page and folders, the counts, the principals, every view's
    reload) reads on the worker and delivers to the views: the GUI thread's own connection runs no statement from the
    sync's start until its mail is listed and the worker is idle."""
    ws, ann, _ken = workspace
    maildir = make_maildir(tmp_path / "ann-mail", 3)
    store = Store(ws)
    account = next(a for a in store.accounts() if a.principal_id == ann.id)
    store.update_account_settings(account.id, {"maildir": str(maildir)})
    store.close()
    window = make_window(ws)
    qtbot.waitUntil(lambda: not window.tasks.busy)
    on_gui_thread: list[str] = []
    window.store.db.set_trace_callback(on_gui_thread.append)  # the GUI thread's connection: only it uses it
    with qtbot.waitSignal(window.sync_finished, timeout=60_000):
        window.on_sync_now()
    qtbot.waitUntil(lambda: "Synced message 2" in subjects(window))
    qtbot.waitUntil(lambda: not window.tasks.busy)
    window.store.db.set_trace_callback(None)
    assert on_gui_thread == []


def test_a_list_read_on_the_worker_is_not_shown_once_another_principal_is(make_window, workspace, qtbot):
    """A re-read of the list asked for before a switch answers after it: the new principal's list stays."""
    ws, ann, ken = workspace
    window = make_window(ws)
    window.select_principal(ann.id)
    qtbot.waitUntil(lambda: not window.tasks.busy and "Ann matter 0" in subjects(window))
    window.inbox.reload_list(folders=True)
    window.select_principal(ken.id)
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert sorted(subjects(window)) == [f"Ken matter {i}" for i in range(3)]
    assert window.inbox.model.principal.id == ken.id


def test_closing_the_window_mid_sync_stops_its_process_and_the_next_sync_adds_what_is_missing(
        make_window, workspace, tmp_path, qtbot):
    """Quitting does not wait for a long sync: its process is stopped. Each page landed whole with its cursor, so the
    next pass adds exactly the messages the stopped one had not stored, none twice."""
    import multiprocessing

    from assistant.sync.engine import sync_all

    ws, ann, ken = workspace
    total = 1500
    maildir = make_maildir(tmp_path / "ann-mail", total)
    store = Store(ws)
    account = next(a for a in store.accounts() if a.principal_id == ann.id)
    store.update_account_settings(account.id, {"maildir": str(maildir)})
    store.close()
    window = make_window(ws)
    reader = Store(ws)

    def stored() -> int:
        return reader.db.execute("SELECT count(*) FROM messages WHERE account_id = ? AND subject LIKE 'Synced message %'",
                                 (account.id,)).fetchone()[0]

    window.on_sync_now()
    qtbot.waitUntil(lambda: stored() > 0, timeout=60_000)
    window.close()
    assert not [p for p in multiprocessing.active_children() if p.name == "assistant-sync"]
    at_close = stored()
    assert 0 < at_close < total  # stopped mid-sync
    report = next(r for r in sync_all(reader, ann.id) if r.account_id == account.id)
    assert report.errors == [] and report.mail["added"] == total - at_close
    assert stored() == total
    reader.close()


def test_search_box_filters_the_inbox(make_window, workspace, qtbot):
    ws, ann, ken = workspace
    window = make_window(ws)
    window.search.setText('subject:"matter 3"')
    qtbot.keyClick(window.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.inbox.model.search_query != "")
    assert subjects(window) == ["Ann matter 3"]
    window.search.clear()
    assert len(subjects(window)) == 5


def test_the_search_box_searches_as_you_type_one_search_at_a_time(make_window, workspace, qtbot, monkeypatch):
    """Results follow the keys without Enter (issue 17); keys typed while a search runs ask for one more search with
    the newest text, not one each, and results of older text are never shown over newer."""
    from assistant.store import mail as mail_store
    from assistant.ui import main_window as main_window_module

    ws, ann, ken = workspace
    window = make_window(ws)
    searched: list[str] = []
    real = mail_store.search_threads

    def counting(scope, query, *args, **kwargs):
        searched.append(query)
        return real(scope, query, *args, **kwargs)

    monkeypatch.setattr(main_window_module.mail_store, "search_threads", counting)
    text = 'subject:"matter 3"'
    qtbot.keyClicks(window.search, text)
    qtbot.waitUntil(lambda: window.inbox.model.search_query == text)
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert subjects(window) == ["Ann matter 3"]
    assert searched[-1] == text and len(searched) <= 2 < len(text)  # the first key's search, then the newest text
    qtbot.keyClicks(window.search, " after:2020-0")  # a date half typed: said in passing, the results stay
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert "YYYY-MM-DD" in window.notice.text() and not window.notice.is_error
    assert subjects(window) == ["Ann matter 3"]
    qtbot.keyClicks(window.search, "1-01")
    qtbot.waitUntil(lambda: window.inbox.model.search_query == text + " after:2020-01-01")
    qtbot.waitUntil(lambda: "threads match" in window.notice.text() and window.notice.isVisible())
    window.search.clear()
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert len(subjects(window)) == 5 and window.inbox.model.search_query == ""
    assert not window.notice.isVisible()  # the search's count goes with it, not 5 s later over the whole list


def test_the_search_box_builds_no_message_to_show_its_threads(make_window, workspace, qtbot, monkeypatch):
    """The threads of a search are read from the matching rows' own columns (issue 17: building every hit as a
    ``Message`` was most of a search's time at scale), one principal's and every principal's; the only messages built
    are those of the thread the reader shows."""
    ws, ann, ken = workspace
    window = make_window(ws)
    qtbot.waitUntil(lambda: not window.tasks.busy)
    built: list[int] = []
    real = mail_store._message

    def counting(scope, row, with_body=False):
        built.append(row["id"])
        return real(scope, row, with_body)

    monkeypatch.setattr(mail_store, "_message", counting)
    for every in (False, True):
        if every:
            window.show_all_principals()
            qtbot.waitUntil(lambda: not window.tasks.busy)
        built.clear()
        qtbot.keyClicks(window.search, "matter")
        qtbot.waitUntil(lambda: window.inbox.model.search_query == "matter")
        qtbot.waitUntil(lambda: not window.tasks.busy)
        assert sorted(subjects(window)) == sorted(
            [f"Ann matter {i}" for i in range(5)] + ([f"Ken matter {i}" for i in range(3)] if every else []))
        store = Store(ws)
        try:  # the reader's thread's messages, read without building them
            readers = {r[0] for r in store.db.execute("SELECT id FROM messages WHERE thread_id=?",
                                                      (window.inbox.reader.thread_id,))}
        finally:
            store.close()
        assert set(built) <= readers, (built, readers)
        window.search.clear()
        qtbot.waitUntil(lambda: not window.tasks.busy)


def test_geometry_and_splitters_are_remembered(make_window, workspace, qtbot):
    ws, ann, ken = workspace
    window = make_window(ws)
    window.resize(760, 580)  # inside the offscreen screen (800×800): restoreGeometry clamps to it
    default_sidebar = window.splitter.sizes()[0]
    window.splitter.setSizes([default_sidebar + 40, 760 - default_sidebar - 40])
    chosen_sidebar = window.splitter.sizes()[0]  # what the views' minimum widths allowed
    assert chosen_sidebar != default_sidebar
    window.select_principal(ken.id)
    window.close()
    again = make_window(ws, size=None)
    assert again.splitter.sizes()[0] == chosen_sidebar
    assert (again.width(), again.height()) == (760, 580)
    assert again.current_principal.id == ken.id


def test_reading_a_message_marks_it_read_through_the_outbox(make_window, workspace, qtbot):
    ws, ann, ken = workspace
    window = make_window(ws)
    model = window.inbox.model
    row = window.inbox.threads.currentIndex().row()
    thread = model.thread_at(row)
    assert thread.unread_count == 1
    # the first thread is shown when the window opens, but only the user's reading marks it read: a click, then a moment
    rect = window.inbox.threads.visualRect(model.index(row, ThreadListModel.SUBJECT))
    qtbot.mouseClick(window.inbox.threads.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: model.thread_at(row).unread_count == 0, timeout=5000)
    assert model.index(row, ThreadListModel.SUBJECT).data(Qt.ItemDataRole.FontRole) is None
    qtbot.waitUntil(lambda: not window.tasks.busy)
    store = Store(ws)
    try:
        assert [e.op for e in store.outbox()] == ["set-flags"]
        assert mail_store.thread_messages(store.scope(ann.id), thread.id)[0].is_read
    finally:
        store.close()
    qtbot.waitUntil(lambda: model.rowCount() and window.principals.index(
        window.principals.row_of(ann.id)).data(UnreadRole) == 4)


def test_week_view_expands_a_recurring_series_in_the_principals_zone(qtbot, tmp_path):
    from assistant.calendar import ics
    from assistant.ui.calendar.view import load_week
    from tests.ui.conftest import add_principal

    store = Store(tmp_path / "ws")
    try:
        ann, account = add_principal(store, "Ann", "America/New_York")
        source = (
            b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:standup@test\r\n"
            b"DTSTAMP:20260101T000000Z\r\nDTSTART;TZID=America/New_York:20260302T090000\r\n"
            b"DTEND;TZID=America/New_York:20260302T093000\r\nRRULE:FREQ=DAILY;COUNT=10\r\nSUMMARY:Stand-up\r\n"
            b"END:VEVENT\r\nEND:VCALENDAR\r\n"
        )
        events, problems = ics.parse_calendar(source, principal_id=ann.id, account_id=account.id)
        assert problems == []
        for event in events:
            event.remote_id = event.remote_id or event.uid
            calendar_store.upsert_event(store.scope(ann.id), event)
        # the week of 9 March 2026: New York moves to summer time on Sunday the 8th
        start = datetime(2026, 3, 9, 4, tzinfo=UTC)
        occurrences, problems = load_week(store, ann.id, start, start + timedelta(days=7))
        assert problems == []
        assert [o.start_utc.hour for o in occurrences] == [13, 13, 13]  # 9:00 EDT on 9, 10, 11 March
        week = WeekModel()
        tester = QAbstractItemModelTester(week, QAbstractItemModelTester.FailureReportingMode.Warning)
        week.set_week(ann, start.date(), occurrences, "Europe/Berlin")
        nine = 1 + 9
        assert [week.index(nine, day).data() for day in range(4)] == ["09:00 Stand-up"] * 3 + [None]
        assert week.headerData(nine, Qt.Orientation.Vertical) == "09:00  ·  14:00"  # Berlin is still on winter time
        del tester
    finally:
        store.close()



def test_launch_paints_the_window_before_background_tasks_start(qtbot, qapp, workspace, monkeypatch):
    """assistant.ui.app.run: the worker waits for the window's first paint, then runs what the window queued."""
    from PySide6.QtCore import QEvent, QObject

    from assistant.ui import app as app_module
    from assistant.ui import main_window
    from assistant.ui.workers import TaskManager

    order: list[str] = []
    windows = []

    class FirstPaint(QObject):
        def eventFilter(self, watched, event):  # noqa: N802 (Qt's name)
            if event.type() == QEvent.Type.Paint and "paint" not in order:
                order.append("paint")
            return False

    watcher = FirstPaint()

    class RecordingWindow(main_window.MainWindow):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)  # queues the start-up reads (counts, calendar week, reminders…)
            self.installEventFilter(watcher)
            windows.append(self)

    real_call = TaskManager._call

    def recording_call(manager, fn):
        if "task" not in order:
            order.append("task")
        return real_call(manager, fn)

    class RunningApp:  # the real application; exec returns once the queued task ran
        def __getattr__(self, name):
            return getattr(qapp, name)

        def exec(self):
            qtbot.waitUntil(lambda: "task" in order, timeout=10000)
            return 0

    class Application:
        @staticmethod
        def instance():
            return RunningApp()

    monkeypatch.setattr(main_window, "MainWindow", RecordingWindow)
    monkeypatch.setattr(TaskManager, "_call", recording_call)
    monkeypatch.setattr(app_module, "QApplication", Application)
    assert app_module.run(workspace[0]) == 0
    windows[0].close()
    assert order[:2] == ["paint", "task"]


def test_what_the_launch_built_is_out_of_the_collectors_full_collections_after_the_first_paint(qtbot, workspace):
    """A full collection walked every object the launch made (~80 ms of the GUI thread each, a frame missed during a
    sync): from the first paint on, those are frozen and a full collection walks only what came after (issue 17)."""
    import gc

    from assistant.ui.app import ReleaseTasksWhenPainted
    from assistant.ui.main_window import MainWindow

    ws, ann, ken = workspace
    gc.unfreeze()
    try:
        window = MainWindow(ws, hold_tasks_until_painted=True)
        qtbot.addWidget(window)
        release = ReleaseTasksWhenPainted(window)
        assert gc.get_freeze_count() == 0
        with qtbot.waitSignal(release.painted, timeout=10_000):
            window.show()
        assert gc.get_freeze_count() > 10_000
        qtbot.waitUntil(lambda: not window.tasks.busy)
        window.close()
    finally:
        gc.unfreeze()


def test_a_message_link_opens_its_thread_selected_when_listed_else_in_the_reader(qtbot, workspace, make_window):
    """A card's or a reminder's "Open the message it came from": the thread is selected in the list when it is there,
    and shown in the reader when it is not (another folder or page) — read as one row, no message built for it."""
    ws, ann, _ken = workspace
    store = Store(ws)
    scope = store.scope(ann.id)
    listed = mail_store.threads(scope, limit=100)
    target = listed[2]
    message = mail_store.thread_messages(scope, target.id)[-1]
    store.close()
    window = make_window(ws)
    window.select_principal(ann.id)
    qtbot.waitUntil(lambda: window.inbox.model.rowCount() == len(listed) and not window.tasks.busy)
    window.open_link(ann.id, f"message:{message.id}")
    model = window.inbox.model

    def selected_id() -> int | None:
        thread = model.thread_at(window.inbox.threads.currentIndex().row())
        return thread.id if thread is not None else None

    qtbot.waitUntil(lambda: selected_id() == target.id)
    others = [t for t in model.rows if t.id != target.id]
    model.apply_page(others, keep=len(others))  # now it is not listed
    window.open_link(ann.id, f"thread:{target.id}")
    qtbot.waitUntil(lambda: window.inbox.reader.thread_id == target.id)
    assert window.views.currentWidget() is window.inbox
