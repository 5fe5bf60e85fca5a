"""APScheduler 3.x wiring: the store says what is due, APScheduler says when to look.

Each pending reminder due within :data:`HORIZON` is one ``DateTrigger`` job at its UTC instant (so a change of the
laptop's zone moves nothing); the rest wait in the store, and the minute timer brings them in as they come near, so
10,000 pending reminders cost the GUI thread no more than the few due soon.
A job does no work of its own: it emits :attr:`ReminderScheduler.due_reached`, and the scheduler asks the worker to
fire every reminder due by ``clock()`` — persisted as fired before anyone is notified. A minute timer does the same, so
a laptop that slept through an instant catches up, and it reloads the pending set to pick up reminders other parts
(the board, the call log, the CLI) added meanwhile.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from apscheduler.executors.debug import DebugExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.qt import QtScheduler
from apscheduler.triggers.date import DateTrigger
from PySide6.QtCore import QObject, QTimer, Signal

from assistant import reminders
from assistant.core import timezones
from assistant.domain import Reminder
from assistant.store import reminders as rstore

log = logging.getLogger(__name__)

HORIZON = timedelta(hours=6)
MEETINGS_EVERY_TICKS = 15
Clock = Callable[[], datetime]
RunFn = Callable[..., Any]  # TaskManager.run: run(fn(store), on_done=..., on_error=...)


def _fire_due(store, now: datetime, assistant_zone: str) -> list[reminders.Notice]:
    notices = []
    for r in rstore.pending_before(store, now + timedelta(seconds=1)):
        notice = reminders.fire(store, r.principal_id, r.id, now, assistant_zone)
        if notice is not None:
            notices.append(notice)
    return notices


def _pending_soon(store, now: datetime, meetings: bool) -> list[Reminder]:
    if meetings:
        for p in store.principals():
            reminders.sync_meeting_reminders(store, p.id, now)
    return [r for r in rstore.pending_before(store, now + HORIZON) if r.due_utc > now]


class ReminderScheduler(QObject):
    due_reached = Signal()
    started = Signal(list)  # the missed notices found at start
    fired = Signal(list)  # notices of reminders that just fell due
    scheduled_changed = Signal(int)  # how many reminders are scheduled

    def __init__(self, run: RunFn, clock: Clock = timezones.now_utc, assistant_zone: Callable[[], str] | None = None,
                 parent: QObject | None = None, tick_ms: int = 60_000):
        super().__init__(parent)
        self.run = run
        self.clock = clock
        self.assistant_zone = assistant_zone or timezones.assistant_zone_name
        self.scheduler = QtScheduler(timezone=timezones.UTC, executors={"default": DebugExecutor()},
                                     job_defaults={"misfire_grace_time": None, "coalesce": True})
        self.job_ids: set[str] = set()
        self.stopped = False
        self.due_reached.connect(self.fire_due)
        self.tick = QTimer(self)
        self.tick.setInterval(tick_ms)
        self.tick.timeout.connect(self.on_tick)
        self.ticks = 0

    # -- start and stop ------------------------------------------------------------------------------------------
    def start(self, paused: bool = False) -> None:
        """Show what was missed while closed, then schedule every pending reminder again."""
        self.scheduler.start(paused=paused)
        self.tick.start()
        now, zone = self.clock(), self.assistant_zone()
        self.run(lambda store: reminders.start_up(store, now, zone), on_done=self._on_started)

    def stop(self) -> None:
        """Stop for good. APScheduler's Qt timer cannot be cancelled under PySide6 (``singleShot`` returns nothing),
        so the jobs are removed and nothing reaches the worker after this."""
        self.stopped = True
        self.tick.stop()
        if self.scheduler.running:
            self.scheduler.remove_all_jobs()
            self.scheduler.shutdown(wait=False)
        self.job_ids = set()

    def _on_started(self, result: tuple[list[reminders.Notice], list[Reminder]]) -> None:
        if self.stopped:
            return
        missed, pending = result
        horizon = self.clock() + HORIZON
        self.schedule_all([r for r in pending if r.due_utc < horizon])
        self.started.emit(missed)
        self.reload(meetings=True)  # meeting reminders from the synced calendars

    # -- scheduling ----------------------------------------------------------------------------------------------
    @staticmethod
    def job_id(r: Reminder) -> str:
        return f"reminder:{r.id}"

    def schedule_all(self, pending: list[Reminder]) -> None:
        if self.stopped:
            return
        wanted = {self.job_id(r): r for r in pending}
        for job_id in self.job_ids - wanted.keys():
            try:
                self.scheduler.remove_job(job_id)
            except JobLookupError:
                pass
        for job_id, r in wanted.items():
            self.scheduler.add_job(self.due_reached.emit, DateTrigger(run_date=r.due_utc), id=job_id,
                                   replace_existing=True)
        self.job_ids = set(wanted)
        self.scheduled_changed.emit(len(self.job_ids))

    def next_run_times(self) -> dict[str, datetime]:
        return {job.id: job.next_run_time for job in self.scheduler.get_jobs() if job.id in self.job_ids}

    def reload(self, meetings: bool = False) -> None:
        """Re-read what is due within the horizon (and, with ``meetings``, make the synced meetings' reminders)."""
        if self.stopped:
            return
        now = self.clock()
        self.run(lambda store: _pending_soon(store, now, meetings), on_done=self.schedule_all)

    # -- firing --------------------------------------------------------------------------------------------------
    def fire_due(self) -> None:
        if self.stopped:
            return
        now, zone = self.clock(), self.assistant_zone()
        self.run(lambda store: _fire_due(store, now, zone), on_done=self._on_fired)

    def _on_fired(self, notices: list[reminders.Notice]) -> None:
        if notices:
            self.fired.emit(notices)
            self.reload()  # a recurring one has its next occurrence now

    def on_tick(self) -> None:
        self.ticks += 1
        self.fire_due()
        self.reload(meetings=self.ticks % MEETINGS_EVERY_TICKS == 0)
