"""Automatic time in the real window, on a fake clock: what was on screen becomes entries, idleness stops the clock at
the last input, and the question on return counts the gap as answered."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from assistant import timekeeping
from assistant.board import service as board
from assistant.core.desktop_idle import IdleUnavailable
from assistant.store import Store
from assistant.store import time as time_store
from assistant.timekeeping.auto import AWAY_NOTE
from assistant.ui.timekeeping import tracker as tracker_module
from tests.ui.conftest import add_principal, add_thread

T0 = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def to(self, minutes: float) -> None:
        self.now = T0 + timedelta(minutes=minutes)


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock(T0)
    monkeypatch.setattr(tracker_module, "CLOCK", fake)
    return fake


@pytest.fixture
def office(tmp_path):
    """Dana (New York) with a card on her board, Kenji (Tokyo) with his mail."""
    ws = tmp_path / "ws"
    store = Store(ws)
    dana, dana_account = add_principal(store, "Dana", "America/New_York", "#e11d48")
    kenji, kenji_account = add_principal(store, "Kenji", "Asia/Tokyo", "#16a34a")
    with store.transaction():
        add_thread(store, dana, dana_account, "d0", "Lease renewal", when=T0 - timedelta(hours=1))
        add_thread(store, kenji, kenji_account, "k0", "Site visit", when=T0 - timedelta(hours=1))
        add_thread(store, kenji, kenji_account, "k1", "Re: Deed of assignment", when=T0 - timedelta(hours=2))
    card = board.make_task(store, dana.id, "Book flights to Lagos", column="To do")
    store.close()
    return ws, dana, kenji, card


def entries(ws, principal_id: int) -> list[tuple[str, float, float, str, str]]:
    """(source, start minute, end minute, item, title or note) of the principal's entries, minutes from T0."""
    store = Store(ws)
    try:
        rows = time_store.entries(store.scope(principal_id), T0 - timedelta(days=1), T0 + timedelta(days=1))
    finally:
        store.close()
    return [(e.source.value, (e.start_utc - T0).total_seconds() / 60, ((e.end_utc or T0) - T0).total_seconds() / 60,
             e.item, e.item_title or e.note) for e in rows]


def touch(qtbot, widget: QWidget) -> None:
    """Input that changes nothing on screen: a press of Shift."""
    qtbot.keyClick(widget, Qt.Key.Key_Shift)


def click_row(qtbot, view, row: int) -> None:
    rect = view.visualRect(view.model().index(row, 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_kenjis_inbox_then_danas_board_then_idling_gives_the_entries_and_the_gap_as_answered(
        make_window, office, clock, qtbot):
    ws, dana, kenji, card = office
    window = make_window(ws)
    tracker = window.time_tracker
    assert tracker.clock.in_use  # the window has the focus
    # Kenji's inbox: the assistant picks his second thread and reads it for twelve minutes
    click_row(qtbot, window.switcher, window.principals.row_of(kenji.id))
    qtbot.waitUntil(lambda: window.current_principal.id == kenji.id and not window.tasks.busy)
    thread = window.inbox.model.thread_at(1)
    assert thread.subject == "Re: Deed of assignment"
    with qtbot.waitSignal(window.inbox.reader.message_shown):
        click_row(qtbot, window.inbox.threads, 1)
    for minute in (3, 6, 9):
        clock.to(minute)
        touch(qtbot, window.inbox.reader.browser)
    qtbot.waitUntil(lambda: "Kenji · Re: Deed of assignment · 9 min" in tracker.label.text())
    # then Dana's board: her card
    clock.to(12)
    click_row(qtbot, window.switcher, window.principals.row_of(dana.id))
    window.views.setCurrentWidget(window.board)
    qtbot.waitUntil(lambda: any(w.model.row_of(card.id) >= 0 for w in window.board.column_widgets))
    column = next(w for w in window.board.column_widgets if w.model.row_of(card.id) >= 0)
    click_row(qtbot, column.view, column.model.row_of(card.id))
    qtbot.waitUntil(lambda: "Dana · Book flights to Lagos" in tracker.label.text())
    for minute in (15, 18, 20):
        clock.to(minute)
        touch(qtbot, column.view)
    # then nothing for a while: five minutes after the last input the clock has stopped at it
    clock.to(24)
    tracker.on_tick()
    assert tracker.clock.running
    clock.to(26)
    tracker.ticker.setInterval(10)  # the idle check, as it runs every few seconds
    qtbot.waitUntil(lambda: tracker.clock.idle)
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert tracker.label.text().startswith("Time paused: no input since")
    assert entries(ws, kenji.id) == [("auto", 0, 12, f"thread:{thread.id}", "Re: Deed of assignment")]
    assert entries(ws, dana.id) == [("auto", 12, 20, f"task:{card.id}", "Book flights to Lagos")]
    # back at 10:43 their time… 23 minutes after the last input: asked once, and the answer counts the gap for Dana
    clock.to(43)
    with qtbot.waitSignal(tracker.asked) as asked:
        touch(qtbot, column.view)
    dialog = asked.args[0]
    assert not dialog.isModal() and dialog.windowTitle() == "Away from the app — Dana"
    assert dialog.question.text().startswith("You were away 23 min (")
    assert [a.text() for a in dialog.other_menu.actions()] == ["Kenji"]
    with qtbot.waitSignal(tracker.gap_counted):
        qtbot.mouseClick(dialog.this_button, Qt.MouseButton.LeftButton)
    touch(qtbot, column.view)
    assert tracker.dialog is None  # asked once
    clock.to(50)
    window.close()  # the segment counting is written before the worker stops
    assert entries(ws, dana.id) == [("auto", 12, 20, f"task:{card.id}", "Book flights to Lagos"),
                                    ("manual", 20, 43, "", AWAY_NOTE),
                                    ("auto", 43, 50, f"task:{card.id}", "Book flights to Lagos")]
    assert len(entries(ws, kenji.id)) == 1


def test_a_gap_that_was_not_work_counts_nothing_and_another_principal_can_be_chosen(make_window, office, clock,
                                                                                      qtbot):
    ws, dana, kenji, _card = office
    window = make_window(ws)
    tracker = window.time_tracker
    click_row(qtbot, window.switcher, window.principals.row_of(dana.id))
    qtbot.waitUntil(lambda: not window.tasks.busy)
    clock.to(2)
    touch(qtbot, window.inbox.threads)
    clock.to(30)
    tracker.on_tick()
    clock.to(40)
    with qtbot.waitSignal(tracker.asked) as asked:
        touch(qtbot, window.inbox.threads)
    with qtbot.waitSignal(tracker.gap_counted) as counted:
        asked.args[0].not_work_button.click()
    assert counted.args == [[]]
    clock.to(65)
    touch(qtbot, window.inbox.threads)
    clock.to(75)
    tracker.on_tick()
    clock.to(80)
    with qtbot.waitSignal(tracker.asked) as asked:
        touch(qtbot, window.inbox.threads)
    with qtbot.waitSignal(tracker.gap_counted):
        next(a for a in asked.args[0].other_menu.actions() if a.text() == "Kenji").trigger()
    assert "15 min away counted · Kenji" in window.notice.text()
    window.close()
    assert [e[:3] for e in entries(ws, dana.id)] == [("auto", 0, 2), ("auto", 40, 65)]
    assert [e[:3] for e in entries(ws, kenji.id)] == [("manual", 65, 80)]


def test_a_quick_logged_call_counts_for_its_principal_and_the_timer_pauses_automatic_time(make_window, office, clock,
                                                                                         qtbot):
    ws, dana, kenji, _card = office
    window = make_window(ws)
    tracker = window.time_tracker
    click_row(qtbot, window.switcher, window.principals.row_of(dana.id))
    qtbot.waitUntil(lambda: not window.tasks.busy)

    class Seconds:
        value = 0.0

        def __call__(self) -> float:
            return self.value

    seconds = Seconds()
    dialog = window.calls.open_quick_log(clock=seconds, now=lambda: T0 + timedelta(minutes=1))
    dialog.principal.setCurrentIndex(dialog.principal.findData(kenji.id))
    dialog.number.setText("+81 3 1234 5678")
    dialog.caller_name.setText("Daisuke")
    dialog.direction.setCurrentIndex(dialog.direction.findData("in"))
    seconds.value = 9 * 60  # a nine-minute call, no key touched: the quick log open means the assistant is here
    clock.to(10)
    tracker.on_tick()
    assert tracker.clock.running
    with qtbot.waitSignal(window.calls.call_logged) as logged:
        dialog.accept()
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert entries(ws, kenji.id) == [("call", 1, 10, f"call:{logged.args[0]}", "Call from Daisuke")]
    # the manual timer, started for Kenji: nothing counts automatically until it stops
    clock.to(11)
    window.tasks.run(lambda store: timekeeping.start_timer(store, kenji.id, now=clock.now))
    qtbot.waitUntil(lambda: tracker.timer_entry is not None)
    assert tracker.label.text() == "Timer running for Kenji: automatic time paused"
    clock.to(30)
    touch(qtbot, window.inbox.threads)
    window.tasks.run(lambda store: timekeeping.stop_timer(store, now=clock.now))
    qtbot.waitUntil(lambda: tracker.timer_entry is None and tracker.clock.running)
    clock.to(35)
    window.close()
    dana_rows = entries(ws, dana.id)
    assert [row[:3] for row in dana_rows] == [("auto", 0, 1), ("auto", 10, 11), ("auto", 30, 35)]
    assert [(e[0], e[1], e[2]) for e in entries(ws, kenji.id)] == [("call", 1, 10), ("timer", 11, 30)]


class FakeDesktop:
    """The desktop's idle time as a test sets it (None: the source stopped answering)."""

    name = "fake"

    def __init__(self) -> None:
        self.idle: float | None = 0.0
        self.closed = False

    def idle_seconds(self) -> float:
        if self.idle is None:
            raise IdleUnavailable("gone")
        return self.idle

    def close(self) -> None:
        self.closed = True


def test_input_elsewhere_on_the_desktop_keeps_the_clock_going_and_desktop_idle_stops_it(make_window, office, clock,
                                                                                        qtbot):
    ws, dana, _kenji, _card = office
    window = make_window(ws)
    tracker = window.time_tracker
    assert tracker.desktop is None  # offscreen: no desktop to read
    desktop = tracker.desktop = FakeDesktop()
    click_row(qtbot, window.switcher, window.principals.row_of(dana.id))
    qtbot.waitUntil(lambda: not window.tasks.busy)
    clock.to(2)
    touch(qtbot, window.inbox.threads)
    clock.to(10)  # eight minutes without input in the app, but the assistant scrolled a document 30 s ago
    desktop.idle = 30
    tracker.on_tick()
    assert tracker.clock.running and not tracker.clock.idle
    clock.to(20)  # nothing anywhere since minute 14: the clock stopped there
    desktop.idle = 6 * 60
    tracker.on_tick()
    assert tracker.clock.idle
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert [e[:3] for e in entries(ws, dana.id)] == [("auto", 0, 14)]
    clock.to(40)  # back at the desktop at minute 39.5 (another program first): asked about minutes 14 to 39.5
    desktop.idle = 30
    with qtbot.waitSignal(tracker.asked) as asked:
        tracker.on_tick()
    assert asked.args[0].gap.start_utc == T0 + timedelta(minutes=14)
    assert asked.args[0].gap.end_utc == T0 + timedelta(minutes=39.5)
    with qtbot.waitSignal(tracker.gap_counted):
        asked.args[0].not_work_button.click()
    desktop.idle = None  # the source stopped answering (the session's idle monitor went away): the app's input is used
    tracker.on_tick()
    assert tracker.desktop is None and desktop.closed
    clock.to(45)
    window.close()
    assert [e[:3] for e in entries(ws, dana.id)] == [("auto", 0, 14), ("auto", 39.5, 45)]


def test_the_window_reads_a_real_x_servers_idle_time(make_window, office, clock, qtbot):
    """Once against a real X server: its idle time, reset by real input (XTEST), keeps the clock going."""
    import shutil
    import subprocess

    from assistant.core.desktop_idle import XScreenSaverIdle
    from tests.ui.desktop import start_x, stop

    assert shutil.which("Xvfb") and shutil.which("xdotool"), "./dev installs xvfb and xdotool"
    processes: list[subprocess.Popen] = []
    display = start_x(processes)
    try:
        ws, dana, _kenji, _card = office
        window = make_window(ws)
        tracker = window.time_tracker
        tracker.desktop = XScreenSaverIdle(display)
        click_row(qtbot, window.switcher, window.principals.row_of(dana.id))
        qtbot.waitUntil(lambda: not window.tasks.busy)
        clock.to(1)
        touch(qtbot, window.inbox.threads)
        clock.to(30)  # no input in the app for 29 minutes, but the desktop has some now
        subprocess.run(["xdotool", "mousemove", "40", "40"], env={"DISPLAY": display}, check=True, timeout=20)
        tracker.on_tick()
        assert tracker.clock.running and not tracker.clock.idle
        assert tracker.clock.last_input > T0 + timedelta(minutes=29)
        window.close()
        assert tracker.desktop is None  # closed with the window
    finally:
        stop(processes)
