"""The real app started the way the ``assistant`` command starts it, with timings printed (for ``ui_bench``).

    python benchmarks/ui_probe.py open WORKSPACE [--switch-to PRINCIPAL_ID]
    python benchmarks/ui_probe.py stall WORKSPACE --switch-to PRINCIPAL_ID [--interval-ms 5]

Prints one JSON object on its last line of stdout. Times are ``time.monotonic()`` readings (one clock for the whole
machine on Linux), so the parent can subtract the moment it started this process.

``open``: runs ``assistant --workspace WORKSPACE`` (``assistant.cli.main.main``) and stamps the first paint of the inbox's
thread list once it has rows; then, once the start-up work is done, picks PRINCIPAL_ID in the switcher, as a click
does, and stamps the first paint of its threads; then the peak RSS (VmHWM), and quits.

``stall``: the same window on PRINCIPAL_ID (whose account is synced); once its inbox is painted and the start-up work
is done, a heartbeat timer ticks every ``--interval-ms``, first ``--idle-s`` with the window idle (the machine's own
noise), then while "Sync now"
(``MainWindow.on_sync_now``) runs on the task manager's worker, until the sync has finished and the window has
refreshed — the worker idle for 200 ms after the refresh's own reads (the inbox's page, Today, the counts) — (and,
with ``--import PATH``, an ``assistant import`` of PATH started beside the sync has ended); prints the gaps between
ticks. ``UI_PROBE_STACKS=1`` adds where the other threads stood after each gap over 16 ms; ``UI_PROBE_WATCHDOG=1``
what the GUI thread itself stood in while it was late (a thread sampling its stack every 2 ms).
"""
from __future__ import annotations

import time

STARTED = time.monotonic()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def summarise_samples(samples: list[tuple[float, str]]) -> str:
    """A late heartbeat's watchdog samples: each distinct stack with how many samples stood in it, in order."""
    if not samples:
        return "watchdog: no sample (the lock held elsewhere, or the process not running)"
    counts: dict[str, int] = {}
    for _late, stack in samples:
        counts[stack] = counts.get(stack, 0) + 1
    return "watchdog: " + " | ".join(f"{n}× {stack}" for stack, n in counts.items())


class Probe:
    """Watches the inbox's thread list for paints; everything else is the app's own behaviour."""

    def __init__(self, args: argparse.Namespace):
        from PySide6.QtCore import QEvent, QObject, Qt, QTimer
        from PySide6.QtWidgets import QApplication

        self.args = args
        self.result: dict = {"started": STARTED}
        self.window = None
        self._wanted_principal: int | None = None  # the next paint to stamp: threads of this principal
        self._on_painted = None
        self._rows_needed = True
        probe = self

        class PaintWatcher(QObject):
            def eventFilter(self, watched, event):  # noqa: N802 (Qt's name)
                if event.type() == QEvent.Type.Paint:
                    probe.on_viewport_paint()
                return False

        # The app's own entry point makes the QApplication the same way when none exists (assistant.ui.app.run).
        self.app = QApplication.instance() or QApplication(sys.argv[:1])
        self.watcher = PaintWatcher()
        self.QTimer, self.Qt = QTimer, Qt
        # Runs at the first turn of the event loop: the window is built and shown, nothing painted yet (posted
        # events are delivered before the window system's expose events).
        QTimer.singleShot(0, self.on_loop_started)

    def on_loop_started(self) -> None:
        from assistant.ui.main_window import MainWindow

        windows = [w for w in self.app.topLevelWidgets() if isinstance(w, MainWindow)]
        if not windows:
            self.fail("no main window")
            return
        self.window = windows[0]
        self.result["loop_started"] = time.monotonic()
        self.result["first_principal_id"] = self.window.current_principal.id if self.window.current_principal else None
        self.window.inbox.threads.viewport().installEventFilter(self.watcher)
        if self.args.mode == "stall":
            # The account being synced belongs to this principal: its list is on screen, reloaded after the sync.
            self.expect_paint(self.args.switch_to, self.on_first_paint, rows_needed=False)
            self.window.select_principal(self.args.switch_to)
        else:
            self.expect_paint(self.window.current_principal.id if self.window.current_principal else -1,
                              self.on_first_paint)
        self.window.inbox.threads.viewport().update()  # in case it painted already: the next paint is stamped

    def expect_paint(self, principal_id: int, then, rows_needed: bool = True) -> None:
        self._wanted_principal, self._on_painted, self._rows_needed = principal_id, then, rows_needed

    def on_viewport_paint(self) -> None:
        model = self.window.inbox.model
        if self._on_painted is None or (self._rows_needed and model.rowCount() == 0):
            return
        if model.principal is None or model.principal.id != self._wanted_principal:
            return
        then, self._on_painted = self._on_painted, None
        begun = time.monotonic()
        # The paint runs after this filter returns; the next turn of the loop comes after it is flushed.
        self.QTimer.singleShot(0, lambda: then(begun, time.monotonic(), model.rowCount()))

    def on_first_paint(self, begun: float, painted: float, rows: int) -> None:
        self.result.update(first_paint_begun=begun, first_paint=painted, first_rows=rows,
                           rss_after_first_paint_mb=peak_rss_mb(),
                           # CPU from the interpreter's start: the whole process's, and the GUI thread's own
                           cpu_at_first_paint_s=time.process_time(), gui_cpu_at_first_paint_s=time.thread_time())
        if self.args.mode == "open":
            self.when_settled(self.switch)  # a click on another principal once the start-up work is done
        else:
            self.when_settled(self.start_stall_watch)

    # -- open ----------------------------------------------------------------------------------------------------
    def switch(self) -> None:
        target = self.args.switch_to
        current = self.window.current_principal
        if target is None or self.window.principals.row_of(target) < 0 or (current and current.id == target):
            self.result["switch_s"] = None
            self.settle_and_quit()
            return
        self.expect_paint(target, self.on_switch_painted)
        self.result["switch_asked"] = time.monotonic()
        self.window.select_principal(target)  # as a click in the switcher: currentRowChanged → the inbox loads

    def on_switch_painted(self, begun: float, painted: float, rows: int) -> None:
        self.result.update(switch_painted=painted, switch_s=painted - self.result["switch_asked"], switch_rows=rows)
        self.settle_and_quit()

    def when_settled(self, then) -> None:
        """``then()`` once the window's start-up work (counts, calendar week, reminders, Today) is done."""
        deadline = time.monotonic() + self.args.settle_s

        def check() -> None:
            # the tasks on the worker, and the tabs the launch installs after its first paint (MainWindow.starting)
            busy = self.window.tasks.busy or getattr(self.window, "starting", False)
            if busy and time.monotonic() < deadline:
                self.QTimer.singleShot(50, check)
                return
            self.QTimer.singleShot(200, then)  # and the results it delivered are shown

        self.QTimer.singleShot(0, check)

    def settle_and_quit(self) -> None:
        """Let the window's start-up work finish, scroll the list, then read the peak RSS and quit."""

        def measure() -> None:
            # Scroll the largest inbox's list a few pages, as reading it does: pages are fetched as it scrolls.
            view = self.window.inbox.threads
            for _ in range(self.args.scroll_pages):
                bar = view.verticalScrollBar()
                bar.setValue(bar.maximum())
                self.app.processEvents()
            self.result["rows_loaded"] = self.window.inbox.model.rowCount()
            self.result["peak_rss_mb"] = peak_rss_mb()
            self.finish()

        self.when_settled(measure)

    # -- stall ---------------------------------------------------------------------------------------------------
    def start_stall_watch(self) -> None:
        self.gaps: list[float] = []
        self.long_gaps: list[tuple[float, float]] = []
        self.last_tick, self.last_cpu = time.monotonic(), time.thread_time()
        self.heartbeat = self.QTimer()
        self.heartbeat.setTimerType(self.Qt.TimerType.PreciseTimer)
        self.heartbeat.setInterval(self.args.interval_ms)
        self.heartbeat.timeout.connect(self.on_tick)
        self.reports = None
        self.sync_done_at: float | None = None
        self.window.sync_finished.connect(self.on_sync_finished)
        self.window.refreshed.connect(self.on_refreshed)
        self.worker_idle_since = time.monotonic()
        self.window.tasks.busy_changed.connect(self.on_worker_busy)
        self.heartbeat.start()
        self.result["sync_started"] = time.monotonic()  # moved on when the idle watch ends
        if self.args.idle_s > 0:  # first the same heartbeat with the window idle: the machine's own noise
            self.QTimer.singleShot(int(self.args.idle_s * 1000), self.start_sync)
        else:
            self.start_sync()

    def start_sync(self) -> None:
        self.result["idle_gaps_ms"] = [round(g * 1000, 2) for g in self.gaps[1:]]
        self.gaps.clear()
        self.long_gaps.clear()
        self.last_tick, self.last_cpu = time.monotonic(), time.thread_time()
        self.result["sync_started"] = time.monotonic()
        if os.environ.get("UI_PROBE_WATCHDOG"):
            self.start_watchdog()
        self.window.on_sync_now()  # what File ▸ Sync now (F5) does
        self.importing = None
        if self.args.import_path:  # and an import into another principal, as a command of its own, meanwhile
            import subprocess

            self.importing = subprocess.Popen(
                [sys.executable, "-m", "assistant", "--workspace", self.args.workspace, "import", self.args.import_path,
                 "--principal", self.args.import_principal],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if self.args.block_ms:  # the probe's self-check: a stall of known length on the GUI thread must be seen
            self.QTimer.singleShot(0, lambda: time.sleep(self.args.block_ms / 1000))

    def on_tick(self) -> None:
        now, cpu = time.monotonic(), time.thread_time()
        self.gaps.append(now - self.last_tick)
        if now - self.last_tick > 0.016:  # those over the 16 ms target: when, and how much the GUI thread itself ran
            self.long_gaps.append((round(self.last_tick - self.result["sync_started"], 3),
                                   round((now - self.last_tick) * 1000, 1), round((cpu - self.last_cpu) * 1000, 1)))
            if os.environ.get("UI_PROBE_STACKS"):  # where the other threads are, right after the gap
                import threading
                import traceback

                frames = sys._current_frames()
                self.long_gaps[-1] += tuple(
                    f"{t.name}: " + " < ".join(f"{fs.name}({Path(fs.filename).name}:{fs.lineno})"
                                               for fs in reversed(traceback.extract_stack(frames[t.ident])[-6:]))
                    for t in threading.enumerate() if t.ident in frames and t is not threading.current_thread())
            if self.watchdog_samples is not None:  # what the GUI thread itself stood in while the tick was late
                samples, self.watchdog_samples[:] = list(self.watchdog_samples), []
                self.long_gaps[-1] += (summarise_samples(samples),)
        elif self.watchdog_samples:
            self.watchdog_samples.clear()
        self.last_tick, self.last_cpu = now, cpu

    watchdog_samples: list | None = None

    def start_watchdog(self) -> None:
        """``UI_PROBE_WATCHDOG=1``: a thread that looks every 2 ms whether the heartbeat is late (16 ms since the last
        tick) and, while it is, records the GUI thread's stack (``sys._current_frames``): the gap's samples are added
        to its row of ``long_gaps``. A stack in the event loop's ``exec`` means no Python of ours ran (Qt's own work,
        painting, or the thread waiting for a core); the watchdog itself needs the interpreter lock to look, so a gap
        with no sample at all was the lock held elsewhere or the whole process waiting."""
        import threading
        import traceback

        main = threading.main_thread().ident
        self.watchdog_samples = []
        samples = self.watchdog_samples

        def watch() -> None:
            while not self.watchdog_stop.is_set():
                time.sleep(0.002)
                late = time.monotonic() - self.last_tick
                if late > 0.016:
                    frame = sys._current_frames().get(main)
                    if frame is not None:
                        stack = traceback.extract_stack(frame)[-8:]
                        samples.append((round(late * 1000, 1), " < ".join(
                            f"{fs.name}({Path(fs.filename).name}:{fs.lineno})" for fs in reversed(stack))))

        self.watchdog_stop = threading.Event()
        threading.Thread(target=watch, name="probe-watchdog", daemon=True).start()

    def on_worker_busy(self, busy: bool) -> None:
        if not busy:
            self.worker_idle_since = time.monotonic()

    def on_sync_finished(self, reports) -> None:
        self.sync_done_at = time.monotonic()
        self.reports = reports

    def on_refreshed(self) -> None:
        if self.sync_done_at is None:
            return
        # One more turn of the loop: whatever the refresh posted (a reloaded list painted) is inside the watch.
        self.QTimer.singleShot(200, self.end_stall_watch_after_import)

    def end_stall_watch_after_import(self) -> None:
        if self.importing is not None and self.importing.poll() is None:
            self.QTimer.singleShot(100, self.end_stall_watch_after_import)
            return
        # The refresh's own reads (the inbox's page, Today, the counts) come from the worker after ``refreshed``: the
        # watch lasts until the worker has delivered them all and 200 ms more (their paint) have passed.
        if self.window.tasks.busy or time.monotonic() - self.worker_idle_since < 0.2:
            self.QTimer.singleShot(50, self.end_stall_watch_after_import)
            return
        if self.importing is not None:
            self.result.update(import_done_after_s=time.monotonic() - self.result["sync_started"],
                               import_exit=self.importing.returncode,
                               import_error=(self.importing.stderr.read() or "")[-400:] if self.importing.stderr else "")
        self.end_stall_watch()

    def end_stall_watch(self) -> None:
        self.heartbeat.stop()
        if self.watchdog_samples is not None:
            self.watchdog_stop.set()
        reports = self.reports
        if isinstance(reports, BaseException):
            self.fail(f"sync failed: {reports!r}")
            return
        self.result.update(
            sync_s=self.sync_done_at - self.result["sync_started"],
            added=sum(r.mail["added"] for r in reports), sync_errors=[e for r in reports for e in r.errors],
            gaps_ms=[round(g * 1000, 2) for g in self.gaps], interval_ms=self.args.interval_ms,
            long_gaps=self.long_gaps, sync_done_after_s=self.sync_done_at - self.result["sync_started"],
            peak_rss_mb=peak_rss_mb(),
        )
        self.finish()

    # -- end -----------------------------------------------------------------------------------------------------
    def fail(self, text: str) -> None:
        self.result["error"] = text
        self.finish()

    def finish(self) -> None:
        self.result["finished"] = time.monotonic()
        print(json.dumps(self.result), flush=True)
        if self.window is not None:
            self.window.close()
        self.app.quit()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("open", "stall"))
    parser.add_argument("workspace")
    parser.add_argument("--switch-to", type=int, metavar="PRINCIPAL_ID")
    parser.add_argument("--interval-ms", type=int, default=5)
    parser.add_argument("--idle-s", type=float, default=0.0, help="stall: watch the idle window this long first")
    parser.add_argument("--block-ms", type=int, default=0, help="stall: block the GUI thread this long once (a check)")
    parser.add_argument("--settle-s", type=float, default=10.0)
    parser.add_argument("--import", dest="import_path", help="stall: also run `assistant import PATH` meanwhile")
    parser.add_argument("--import-principal", default="", help="stall: the principal the import goes to")
    parser.add_argument("--scroll-pages", type=int, default=5)
    args = parser.parse_args(argv)
    probe = Probe(args)
    from assistant.cli.main import main as assistant_main

    code = assistant_main(["--workspace", args.workspace])  # `assistant --workspace DIR`: the app, until it quits
    if "finished" not in probe.result:
        print(json.dumps(dict(probe.result, error=f"the app quit ({code}) before the probe finished")), flush=True)
        return 1
    return 0 if "error" not in probe.result else 1


if __name__ == "__main__":
    sys.exit(main())
