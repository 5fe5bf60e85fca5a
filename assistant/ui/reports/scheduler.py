"""APScheduler 3.x wiring for reports, as for reminders: the store says what is due, APScheduler says when to look.

One ``DateTrigger`` job waits for the next instant any principal's report falls due (:func:`reports.schedule.next_due`,
a UTC instant worked out in their zone, so it moves with neither their DST change nor the laptop's zone). When it comes,
or at start, or on the check timer (a laptop that slept through the instant), the worker runs
:func:`reports.schedule.make_due`, which makes each due report once: an ordinary draft to the principal, submitted
under their approval policy, so it shows in Approvals and Outgoing from the change it records. A template changed in
the principal's dialog or from the command line arms the job again.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from apscheduler.executors.debug import DebugExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.qt import QtScheduler
from apscheduler.triggers.date import DateTrigger
from PySide6.QtCore import QObject, QTimer, Signal

from assistant.core import timezones
from assistant.reports import schedule
from assistant.reports.schedule import describe
from assistant.store.changes import Area, Changes

log = logging.getLogger(__name__)

JOB_ID = "reports:next"
Clock = Callable[[], datetime]
RunFn = Callable[..., Any]  # TaskManager.run


def _make_and_look_ahead(store: Any, now: datetime) -> tuple[list[schedule.Made], datetime | None]:
    return schedule.make_due(store, now), schedule.next_due(store, now)


class ReportScheduler(QObject):
    due_reached = Signal()
    made = Signal(list)  # the schedule.Made of the reports just made (or that could not be)
    armed = Signal(object)  # the next instant (UTC) a report falls due, or None

    def __init__(self, run: RunFn, clock: Clock = timezones.now_utc, parent: QObject | None = None,
                 check_ms: int = 5 * 60_000):
        super().__init__(parent)
        self.run = run
        self.clock = clock
        self.scheduler = QtScheduler(timezone=timezones.UTC, executors={"default": DebugExecutor()},
                                     job_defaults={"misfire_grace_time": None, "coalesce": True})
        self.next_at: datetime | None = None
        self.stopped = False
        self.due_reached.connect(self.make_due)
        self.check = QTimer(self)
        self.check.setInterval(check_ms)
        self.check.timeout.connect(self.make_due)

    def start(self) -> None:
        """Make what fell due today while the app was closed (once), and wait for the next."""
        self.scheduler.start()
        self.check.start()
        self.make_due()

    def stop(self) -> None:
        """Stop for good (see ``ReminderScheduler.stop``: the jobs go, so nothing reaches the worker after this)."""
        self.stopped = True
        self.check.stop()
        if self.scheduler.running:
            self.scheduler.remove_all_jobs()
            self.scheduler.shutdown(wait=False)

    def make_due(self) -> None:
        if self.stopped:
            return
        now = self.clock()
        self.run(lambda store: _make_and_look_ahead(store, now), on_done=self._on_made)

    def rearm(self) -> None:
        """Look again when the next report falls due (a template changed)."""
        if self.stopped:
            return
        now = self.clock()
        self.run(lambda store: schedule.next_due(store, now), on_done=self.arm)

    def _on_made(self, result: tuple[list[schedule.Made], datetime | None]) -> None:
        made, next_at = result
        if self.stopped:
            return
        self.arm(next_at)
        if made:
            self.made.emit(made)

    def arm(self, at: datetime | None) -> None:
        if self.stopped:
            return
        self.next_at = at
        if at is None:
            try:
                self.scheduler.remove_job(JOB_ID)
            except JobLookupError:
                pass
        else:
            self.scheduler.add_job(self.due_reached.emit, DateTrigger(run_date=at), id=JOB_ID, replace_existing=True)
        self.armed.emit(at)

    def on_changed(self, changes: Changes) -> None:
        if changes.touches(Area.PRINCIPALS):
            self.rearm()


def install(window: Any, clock: Clock = timezones.now_utc, start: bool = True) -> ReportScheduler:
    """The report scheduler: each report made is told in the window's notice, with the principal's name."""
    scheduler = ReportScheduler(window.tasks.run, clock, parent=window)
    window.tasks.changed.connect(scheduler.on_changed)

    def tell(made: list[schedule.Made]) -> None:
        for m in made:
            window.notify(describe(m), error=not m.draft_id)

    scheduler.made.connect(tell)
    if start:
        scheduler.start()
    return scheduler
