"""The automatic clock's eyes: what the window shows and whether it is in use, told to
:class:`~assistant.timekeeping.auto.AutoClock` (where every rule is), and what it closes written on the worker.

It watches the application's focus (the app active with one of its windows focused: in use; a moment without a
focused window is ignored, so moving between the app's own windows changes nothing), the current principal, the tab
shown and what is open in it (the reader's thread, the board's card, the calendar's event, the call, draft or reminder
selected; a compose window's message), and input in the app: an event filter on the application notes *when* a key was
pressed or the mouse used, never which key, what was typed or where. No screenshots, no window titles of other
programs. While the quick log is open (a call is being taken) the assistant counts as present. Where the platform
reports the desktop's idle time (:mod:`assistant.core.desktop_idle`), each tick reads it too: input anywhere on the
desktop (scrolling a document beside the app) counts as presence, and the clock stops where the desktop's last input
was, not only the app's.

The away question is :class:`AwayDialog`, non-modal; the clock in the status bar says what is counting.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from assistant.core import timezones
from assistant.core.desktop_idle import IdleSource, IdleUnavailable, desktop_idle
from assistant.domain import Principal, TimeEntry
from assistant.store import time as time_store
from assistant.store.changes import Area, Changes
from assistant.timekeeping import auto
from assistant.timekeeping.auto import AutoClock, Gap, Look
from assistant.ui.mail.compose import ComposeWindow
from assistant.ui.widgets.identity import principal_chip, principal_title, zone_city

log = logging.getLogger(__name__)

CLOCK: Callable[[], datetime] = timezones.now_utc  # the window's tracker reads the time here (tests put a fake clock)
SETTING_ON = "timekeeping/automatic"  # bool, default on
SETTING_IDLE = "timekeeping/idle_minutes"  # int, default 5
#: which desktop idle source the window's tracker reads (None: none); only on a real display, never offscreen
DESKTOP_IDLE: Callable[[], IdleSource | None] = desktop_idle
REAL_DISPLAYS = frozenset({"xcb", "wayland", "windows", "cocoa"})
TICK_MS = 15_000  # how often idleness is checked (the clock still stops at the last input, not at the check)
LEAVE_AFTER_MS = 1_000  # no focused window for this long: the app was left (between two of its windows there is none)
_INPUT = frozenset({QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick,
                    QEvent.Type.Wheel, QEvent.Type.MouseMove, QEvent.Type.TouchBegin, QEvent.Type.TabletPress})
_LOOK_AFTER = frozenset({QEvent.Type.KeyRelease, QEvent.Type.MouseButtonRelease, QEvent.Type.Wheel})

Probe = Callable[[], "Look | None"]


def duration_text(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d} min" if hours else f"{rest} min"


def _elide(text: str, most: int = 48) -> str:
    return text if len(text) <= most else text[:most - 1].rstrip() + "…"


class AwayDialog(QDialog):
    """"You were away 23 min (10:02–10:25). Count it for: Dana Whitfield / Another principal… / Not work" — asked once,
    non-modal; closing it counts nothing."""

    answered = Signal(object)  # the principal id to count the gap for, or None: not work

    def __init__(self, gap: Gap, principals: list[Principal], suggested: Principal | None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("away-dialog")
        self.setModal(False)
        self.gap = gap
        principal_title(self, "Away from the app", suggested)
        zone = timezones.assistant_zone_name()
        start, end = timezones.in_zone(gap.start_utc, zone), timezones.in_zone(gap.end_utc, zone)
        when = f"{start:%H:%M}–{end:%H:%M} your time"
        if suggested is not None:  # the principal's zone first, yours beside it (UX.md)
            theirs = (timezones.in_zone(gap.start_utc, suggested.timezone),
                      timezones.in_zone(gap.end_utc, suggested.timezone))
            if theirs[0].utcoffset() != start.utcoffset():
                when = f"{theirs[0]:%H:%M}–{theirs[1]:%H:%M} in {zone_city(suggested.timezone)}, {when}"
        self.question = QLabel(f"You were away {duration_text(gap.minutes)} ({when}). Count it for:", self)
        self.question.setObjectName("away-question")
        self.question.setWordWrap(True)
        buttons = QHBoxLayout()
        self.this_button: QPushButton | None = None
        if suggested is not None:
            self.this_button = QPushButton(suggested.name, self)
            self.this_button.setIcon(principal_chip(suggested.colour))
            self.this_button.setAccessibleName(f"Count it for {suggested.name}")
            self.this_button.setDefault(True)
            self.this_button.clicked.connect(lambda: self._answer(suggested.id))
            buttons.addWidget(self.this_button)
        others = [p for p in principals if suggested is None or p.id != suggested.id]
        self.other_button = QToolButton(self)
        self.other_button.setText("Another principal…" if suggested is not None else "A principal…")
        self.other_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.other_menu = QMenu(self.other_button)
        for p in others:
            action = self.other_menu.addAction(principal_chip(p.colour), p.name)
            action.triggered.connect(lambda _checked=False, pid=p.id: self._answer(pid))
        self.other_button.setMenu(self.other_menu)
        self.other_button.setEnabled(bool(others))
        buttons.addWidget(self.other_button)
        self.not_work_button = QPushButton("Not work", self)
        self.not_work_button.clicked.connect(lambda: self._answer(None))
        buttons.addWidget(self.not_work_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.question)
        layout.addLayout(buttons)

    def _answer(self, principal_id: int | None) -> None:
        self.answered.emit(principal_id)
        self.accept()


class TimeTracker(QObject):
    """See the module. ``clock`` returns the UTC instant; everything the tracker decides uses it."""

    asked = Signal(object)  # the AwayDialog just shown
    gap_counted = Signal(object)  # the list of TimeEntry an answer wrote (empty: not work)

    def __init__(self, window: Any, *, clock: Callable[[], datetime] = timezones.now_utc,
                 desktop: IdleSource | None = None):
        super().__init__(window)
        self.window = window
        self.now = clock
        self.desktop = desktop  # the desktop's idle time, where the platform reports it
        settings = QSettings()
        minutes = settings.value(SETTING_IDLE, 5)
        try:
            idle = max(1, int(minutes))  # type: ignore[call-overload]  # QSettings gives str from an ini file
        except (TypeError, ValueError):
            idle = 5
        self.clock = AutoClock(idle_after=timedelta(minutes=idle))
        self.enabled = str(settings.value(SETTING_ON, "true")).lower() in ("true", "1")
        self.probes: dict[QWidget, Probe] = {}
        self.presence: list[Callable[[], bool]] = []  # the assistant is here though not typing (on a call)
        self.timer_entry: TimeEntry | None = None  # the manual timer, running (nothing counts automatically then)
        self.dialog: AwayDialog | None = None
        self._questions: list[Gap] = []
        self._stopped = False

        self.label = QLabel(window)
        self.label.setObjectName("time-tracker")
        self.label.setAccessibleName("Automatic time")
        self.label.setToolTip(
            "Time counts while you use this window, for the principal whose work is on screen, and is paused after "
            f"{idle} min without input {'on the desktop' if desktop is not None else 'in the app'}. Only that there was "
            "input is noted — never what you typed.")
        self.action = QAction("Count time &automatically", window)
        self.action.setObjectName("count-time")
        self.action.setCheckable(True)
        self.action.setChecked(self.enabled)
        self.action.setStatusTip("Time per principal from what is on screen while you use the window")
        self.action.toggled.connect(self.set_enabled)

        self.ticker = QTimer(self)
        self.ticker.setInterval(TICK_MS)
        self.ticker.timeout.connect(self.on_tick)
        self._look_timer = QTimer(self)  # one look after a burst of input, once the input has been handled
        self._look_timer.setSingleShot(True)
        self._look_timer.setInterval(0)
        self._look_timer.timeout.connect(self.look)
        self._leave_timer = QTimer(self)
        self._leave_timer.setSingleShot(True)
        self._leave_timer.setInterval(LEAVE_AFTER_MS)
        self._leave_timer.timeout.connect(self._on_left)
        self._left_at: datetime | None = None

    # -- start and stop ---------------------------------------------------------------------------------------------
    def start(self) -> None:
        app = QGuiApplication.instance()
        assert isinstance(app, QGuiApplication)  # the window exists, so the application does
        app.installEventFilter(self)
        app.applicationStateChanged.connect(self.on_focus_changed)
        app.focusWindowChanged.connect(self.on_focus_changed)
        self.window.tasks.changed.connect(self.on_changed)
        self.ticker.start()
        self.check_timer()
        self.on_focus_changed()

    def stop(self) -> None:
        """The window closes: the segment counting ends now and is written before the worker stops."""
        if self._stopped:
            return
        self._stopped = True
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.removeEventFilter(self)
            for signal in (app.applicationStateChanged, app.focusWindowChanged):
                try:
                    signal.disconnect(self.on_focus_changed)
                except (RuntimeError, TypeError):
                    pass
        for timer in (self.ticker, self._look_timer, self._leave_timer):
            timer.stop()
        self.clock.stop(self.now())
        self._flush()
        if self.desktop is not None:
            self.desktop.close()
            self.desktop = None

    def set_enabled(self, on: bool) -> None:
        if on == self.enabled:
            return
        self.enabled = on
        QSettings().setValue(SETTING_ON, on)
        now = self.now()
        if on:
            self.clock.see(now, self.what_is_shown())
            if self._in_use():
                self.clock.enter(now)
        else:
            self.clock.stop(now)
        self._flush()

    # -- what is seen ----------------------------------------------------------------------------------------------
    def watch(self, view: QWidget, probe: Probe) -> None:
        """``probe()`` says what is open in the tab ``view`` (None: nothing; the tab itself counts for the current
        principal)."""
        self.probes[view] = probe

    def what_is_shown(self) -> Look:
        window = self.window
        active = QApplication.activeWindow()
        if active is not None and active is not window:
            compose = _compose_look(active)
            if compose is not None:
                return compose
        principal = window.current_principal
        if principal is None or window.pages.currentIndex() != window.WORKSPACE_PAGE:
            return Look(None)
        tab = window.views.currentWidget()
        probe = self.probes.get(tab)
        seen = probe() if probe is not None else None
        if seen is not None:
            return seen
        title = window.views.tabText(window.views.currentIndex()).replace("&", "")
        return Look(principal.id, "", title, key=f"view:{title}")

    def look(self) -> None:
        """What is on screen may have changed: tell the clock."""
        if self._stopped or not self.enabled:
            return
        self.clock.see(self.now(), self.what_is_shown())
        self._flush()

    def look_soon(self) -> None:
        if not self._look_timer.isActive():
            self._look_timer.start()

    # -- in use ----------------------------------------------------------------------------------------------------
    @staticmethod
    def _in_use() -> bool:
        return (QGuiApplication.applicationState() == Qt.ApplicationState.ApplicationActive
                and QGuiApplication.focusWindow() is not None)

    def on_focus_changed(self, *_args: object) -> None:
        if self._stopped:
            return
        if self._in_use():
            self._leave_timer.stop()  # back within a moment (from one of the app's windows to another): never left
            if self.enabled and not self.clock.in_use:
                now = self.now()
                self.clock.see(now, self.what_is_shown())
                self.clock.enter(now)
                self._flush()
            self.look_soon()
        elif self.clock.in_use and not self._leave_timer.isActive():
            self._left_at = self.now()
            self._leave_timer.start()

    def _on_left(self) -> None:
        if self._in_use() or self._stopped:
            return
        self.clock.leave(self._left_at or self.now())
        self._flush()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in _INPUT and self.enabled and not self._stopped:
            if QGuiApplication.focusWindow() is not None:
                if not self.clock.in_use:  # input before the focus change was told
                    self.on_focus_changed()
                was_idle = self.clock.idle
                self.clock.input(self.now())
                if was_idle:  # back: the segment starts on what is shown now, and the gap is asked about
                    self.look()
        if kind in _LOOK_AFTER and self.enabled:
            self.look_soon()
        return False

    def on_tick(self) -> None:
        if self._stopped or not self.enabled:
            return
        now = self.now()
        if any(present() for present in self.presence):
            self.clock.input(now)
        self.read_desktop(now)
        self.clock.tick(now)
        self._flush()

    def read_desktop(self, now: datetime) -> None:
        """Input elsewhere on the desktop since the app's last: the assistant is here (and back, if the clock had
        stopped). A source that stops answering is dropped; the app's own input is then all there is."""
        if self.desktop is None:
            return
        try:
            idle = self.desktop.idle_seconds()
        except IdleUnavailable as exc:
            log.info("the desktop's idle time is no longer read: %s", exc)
            self.desktop.close()
            self.desktop = None
            return
        last = now - timedelta(seconds=max(0.0, idle))
        known = self.clock.last_input
        if known is None or last > known + timedelta(seconds=1):
            was_idle = self.clock.idle
            self.clock.input(last)
            if was_idle and not self.clock.idle:
                self.look()

    # -- the manual timer --------------------------------------------------------------------------------------------
    def on_changed(self, changes: Changes) -> None:
        if changes.touches(Area.TIME):
            self.check_timer()

    def check_timer(self) -> None:
        self.window.tasks.run(lambda store: time_store.running_timer(store), on_done=self._on_timer)

    def _on_timer(self, entry: TimeEntry | None) -> None:
        if self._stopped:
            return
        self.timer_entry = entry
        self.clock.hold(self.now(), entry is not None)
        self._flush()

    # -- writing -----------------------------------------------------------------------------------------------------------
    def _flush(self) -> None:
        for segment in self.clock.take_segments():
            self.window.tasks.run(lambda store, s=segment: auto.record_segment(store, s),
                                  on_error=self._on_write_failed)
        for gap in self.clock.take_gaps():
            self._questions.append(gap)
        self._ask_next()
        self.show_state()

    def _on_write_failed(self, error: BaseException) -> None:
        from assistant.ui.workers import describe_error

        log.warning("automatic time was not written", exc_info=error)
        self.window.show_error(f"Automatic time was not saved: {describe_error(error)}")

    def _ask_next(self) -> None:
        if self.dialog is not None or not self._questions or self._stopped:
            return
        gap = self._questions.pop(0)
        principals = self._principals()
        suggested = next((p for p in principals if p.id == gap.principal_id), None)
        dialog = AwayDialog(gap, principals, suggested, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.answered.connect(lambda principal_id: self.count_gap(gap, principal_id))
        dialog.finished.connect(self._on_dialog_finished)
        self.dialog = dialog
        dialog.show()
        self.asked.emit(dialog)

    def _on_dialog_finished(self, _result: int) -> None:
        self.dialog = None
        self._ask_next()

    def count_gap(self, gap: Gap, principal_id: int | None) -> None:
        """The answer: the gap as this principal's work, or (None) not work."""
        if principal_id is None:
            self.gap_counted.emit([])
            return
        self.window.tasks.run(lambda store: auto.record_away(store, principal_id, gap.start_utc, gap.end_utc),
                              on_done=self._on_away_counted, on_error=self._on_write_failed)

    def _on_away_counted(self, entries: list[TimeEntry]) -> None:
        if entries:
            who = self._principal(entries[0].principal_id)
            minutes = round(sum(e.seconds for e in entries) / 60)
            self.window.show_status(f"{duration_text(minutes)} away counted · {who.name if who else ''}".rstrip(" ·"))
        self.gap_counted.emit(entries)

    # -- the clock in the status bar ---------------------------------------------------------------------------------------
    def _principals(self) -> list[Principal]:
        model = self.window.principals
        found = (model.principal_at(row) for row in range(model.rowCount()))
        return [p for p in found if p is not None]

    def _principal(self, principal_id: int | None) -> Principal | None:
        return next((p for p in self._principals() if p.id == principal_id), None)

    def state_text(self) -> str:
        if not self.enabled:
            return "Automatic time off"
        if self.timer_entry is not None:
            who = self._principal(self.timer_entry.principal_id)
            return f"Timer running{' for ' + who.name if who else ''}: automatic time paused"
        now = self.now()
        current = self.clock.current(now)
        if current is not None:
            who = self._principal(current.principal_id)
            what = _elide(current.title) if current.title else ""
            minutes = int(current.seconds // 60)
            return " · ".join(part for part in (f"⏱ {who.name if who else ''}".rstrip(), what, f"{minutes} min")
                              if part)
        if self.clock.idle and self.clock.stopped_at is not None:
            since = timezones.in_zone(self.clock.stopped_at, timezones.assistant_zone_name())
            return f"Time paused: no input since {since:%H:%M}"
        return ""

    def show_state(self) -> None:
        text = self.state_text()
        self.label.setText(text)
        self.label.setVisible(bool(text))


def _compose_look(window: QWidget) -> Look | None:
    if not isinstance(window, ComposeWindow) or window.principal.id is None:
        return None
    subject = window.subject_edit.text().strip() or "New message"
    item = f"draft:{window.draft_id}" if window.draft_id else ""
    return Look(window.principal.id, item, subject, key=f"compose:{id(window)}")


# -- what each tab has open ----------------------------------------------------------------------------------------------
def _inbox_probe(window: Any) -> Probe:
    def probe() -> Look | None:
        reader = window.inbox.reader
        thread_id = reader.thread_id
        if thread_id is None:
            return None
        row = window.inbox.threads.currentIndex().row()
        listed = window.inbox.model.thread_at(row) if row >= 0 else None
        if listed is not None and listed.id == thread_id:
            return Look(listed.principal_id, f"thread:{thread_id}", listed.subject or "(no subject)")
        principal = window.current_principal
        return Look(principal.id if principal else None, f"thread:{thread_id}", reader.subject.text())
    return probe


def _calendar_probe(window: Any, picked: dict[str, Any]) -> Probe:
    def probe() -> Look | None:
        occurrence = window.calendar.grid.selected_occurrence() or picked.get("event")
        principal = window.current_principal
        if occurrence is None or principal is None or occurrence.principal_id != principal.id:
            return None
        return Look(occurrence.principal_id, f"event:{occurrence.event_id}", occurrence.summary)
    return probe


def _board_probe(window: Any) -> Probe:
    def probe() -> Look | None:
        card = window.board.current_card()
        return None if card is None or not card.id else Look(card.principal_id, f"task:{card.id}", card.title)
    return probe


def _calls_probe(window: Any) -> Probe:
    def probe() -> Look | None:
        from assistant.calls.manual import call_title

        call = window.calls.selected_call()
        return None if call is None else Look(call.principal_id, f"call:{call.id}", call_title(call))
    return probe


def _draft_row_probe(view: Any) -> Probe:
    """The approvals queue and the Outgoing tab: the selected draft, whoever's it is (with *All principals*)."""
    def probe() -> Look | None:
        row = view.current_row()
        return None if row is None else Look(row.principal_id, f"draft:{row.draft_id}", row.subject or "(no subject)")
    return probe


def _today_probe(view: Any) -> Probe:
    def probe() -> Look | None:
        row = view.current_row()
        if row is None:
            return None
        return Look(row["principal_id"], row.get("link") or "", row.get("text") or "",
                    key=row.get("link") or f"reminder:{row.get('reminder_id')}")
    return probe


def install(window: Any, *, clock: Callable[[], datetime] | None = None) -> TimeTracker:
    """The tracker for ``window``: its clock in the status bar, *Count time automatically* in the File menu, and an
    eye on each tab the window has."""
    app = QGuiApplication.instance()
    real = isinstance(app, QGuiApplication) and app.platformName() in REAL_DISPLAYS
    tracker = TimeTracker(window, clock=clock or CLOCK, desktop=DESKTOP_IDLE() if real else None)
    tracker.watch(window.inbox, _inbox_probe(window))
    picked: dict[str, Any] = {"event": None}  # the calendar's last opened event (an EventOccurrence)

    def pick(occurrence: Any) -> None:
        picked["event"] = occurrence
        tracker.look_soon()

    for signal in (window.calendar.grid.event_activated, window.calendar.header.event_activated,
                   window.calendar.agenda.occurrence_activated):
        signal.connect(pick)
    tracker.watch(window.calendar, _calendar_probe(window, picked))
    tracker.watch(window.board, _board_probe(window))
    tracker.watch(window.calls, _calls_probe(window))
    tracker.watch(window.approvals, _draft_row_probe(window.approvals))
    tracker.watch(window.outgoing, _draft_row_probe(window.outgoing))
    tracker.watch(window.today, _today_probe(window.today))
    # what is open can change without input: a thread's subject arrives, a reload selects a card, a tab or principal
    # is switched from a link or the tray
    window.principal_changed.connect(lambda _pid: pick(None))
    window.views.currentChanged.connect(lambda _index: tracker.look_soon())
    window.inbox.reader.message_shown.connect(lambda _id: tracker.look_soon())
    window.inbox.threads.selectionModel().currentRowChanged.connect(lambda *_: tracker.look_soon())
    window.board.loaded.connect(tracker.look_soon)
    window.approvals.queue_loaded.connect(tracker.look_soon)
    tracker.presence.append(lambda: window.calls.quick_log is not None and window.calls.quick_log.isVisible())
    window.add_status_widget(tracker.label)
    window.add_file_action(tracker.action)
    tracker.start()
    return tracker


__all__ = ["AwayDialog", "TimeTracker", "install", "duration_text"]
