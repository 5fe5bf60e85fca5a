"""How long loading and scheduling the pending reminders takes at start.

    .venv/bin/python benchmarks/reminders_load.py [--counts 1000 10000] [--json FILE] [--workspace DIR]
                                                  [--no-schedule-all]

For each count: a workspace with that many pending reminders (three principals, future instants, some recurring),
then the time of ``reminders.start_up`` (the store read, nothing missed, on the worker), and of handing those due within
the scheduler's horizon to APScheduler as date jobs (what the app's ``ReminderScheduler`` does on the GUI thread at
start), beside what scheduling every one of them would cost. Offscreen; prints one line per count.

``--workspace DIR`` (one count): build there when DIR does not exist, else measure the reminders already there — so
repeated measurements, each a fresh process, need not build the same 10,000 reminders each time (their first is due
5 minutes after the build; reading them writes nothing). ``--no-schedule-all`` leaves out the aside.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def build(workspace: Path, count: int, now: datetime) -> None:
    from assistant import reminders
    from assistant.domain import Principal
    from assistant.store import Store

    store = Store(workspace)
    try:
        ids = [store.add_principal(Principal(name, zone, [f"{name.lower()}@example.com"])).id
               for name, zone in (("Ann", "America/New_York"), ("Ken", "Asia/Tokyo"), ("Ada", "Africa/Lagos"))]
        with store.transaction():
            for i in range(count):
                reminders.add_reminder(store, ids[i % 3], kind="free", text=f"Reminder {i}",
                                       due_utc=now + timedelta(minutes=5 + i), rrule="FREQ=WEEKLY" if i % 10 == 0 else "",
                                       now=now)
    finally:
        store.close()


def measure(count: int, workspace: Path | None = None, schedule_all: bool = True) -> dict[str, float]:
    from PySide6.QtCore import QCoreApplication

    from assistant import reminders
    from assistant.core import timezones
    from assistant.store import Store
    from assistant.ui.reminders.scheduler import HORIZON, ReminderScheduler

    timezones.configure()
    app = QCoreApplication.instance() or QCoreApplication([])
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        ws = workspace or Path(tmp) / "ws"
        if not ws.exists():
            build(ws, count, now)
        store = Store(ws, create=False)
        try:
            t0 = time.perf_counter()
            missed, pending = reminders.start_up(store, now, "UTC")
            t1 = time.perf_counter()
        finally:
            store.close()
        assert not missed and len(pending) == count
        scheduler = ReminderScheduler(lambda fn, on_done=None, on_error=None: None, lambda: now)
        scheduler.scheduler.start(paused=True)
        t2 = time.perf_counter()
        horizon = now + HORIZON
        scheduler.schedule_all([r for r in pending if r.due_utc < horizon])
        t3 = time.perf_counter()
        scheduled = len(scheduler.next_run_times())
        if schedule_all:
            scheduler.schedule_all(pending)  # everything at once, as a scheduler without a horizon would
        t4 = time.perf_counter()
        scheduler.stop()
    del app
    return {"count": count, "load_s": t1 - t0, "schedule_s": t3 - t2, "scheduled": scheduled, "total_s": t3 - t0,
            "schedule_all_s": (t4 - t3) if schedule_all else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--workspace", type=Path, help="build here once, measure what is there after (one count)")
    parser.add_argument("--no-schedule-all", action="store_true", help="leave out scheduling every reminder")
    args = parser.parse_args(argv)
    if args.workspace and len(args.counts) != 1:
        parser.error("--workspace takes one count")
    results = []
    for count in args.counts:
        r = measure(count, args.workspace, schedule_all=not args.no_schedule_all)
        results.append(r)
        print(f"{count:>6} pending reminders: load {r['load_s'] * 1000:7.1f} ms (worker), schedule the"
              f" {r['scheduled']} within the horizon {r['schedule_s'] * 1000:6.1f} ms (GUI thread), total"
              f" {r['total_s'] * 1000:7.1f} ms" + (f"; scheduling all {count} would take"
                                                 f" {r['schedule_all_s'] * 1000:7.1f} ms" if r["schedule_all_s"] else ""))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
