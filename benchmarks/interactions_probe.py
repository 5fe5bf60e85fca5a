"""The real app driven by synthetic input, each interaction timed from its input event to the paint that shows it.

    python benchmarks/interactions_probe.py WORKSPACE [--reps 20] [--only NAME,…] [--queries WORD,…]

Started by ``benchmarks/interactions_bench.py`` in a process of its own. The app starts exactly as the ``assistant``
command starts it (``assistant.cli.main.main``, offscreen, settings of its own); once its start-up work is done the
probe plays each interaction ``--reps`` times and prints one JSON object on its last line of stdout:
``{"times_ms": {name: [ms, …]}, "timeouts": {name: n}, …}``.

How a repetition is timed. The input goes through Qt's own input path: ``QTest.keyClick``/``mouseClick`` deliver a
spontaneous key or mouse event to the focused widget, shortcuts included (``QTest`` asks the shortcut map first, as the
window system's events do). The clock starts just before the event is sent, so whatever the app does synchronously in
its handlers counts, and work it hands to its worker thread counts until the answer is shown. An application-wide event
filter watches the Paint events of the widget that shows the result; the first one that arrives once the result's state
is reached (the interaction's ``done()``: the new principal's rows in the model, the thread's newest message in the
reader, …) is the one that shows it, and the clock stops when that repaint of the window has ended: at the first event
of another kind the application delivers after it (the repaint's paint events are sent one after the other), or at
the next turn of the event loop if none comes first. Between repetitions the probe waits until the worker is idle.
"""
from __future__ import annotations

import time

STARTED = time.monotonic()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TIMEOUT_S = 8.0  # a repetition that shows nothing by then is counted as a timeout, not a time


@dataclass
class Interaction:
    """One row of the table: ``prepare`` (not timed) sets the stage, ``act`` sends the input (timed from here),
    ``done`` says the result's state is reached, ``target`` is the widget whose paint shows it; ``cleanup`` (not
    timed) puts things back."""

    name: str
    prepare: Callable[[int], None]
    act: Callable[[int], None]
    done: Callable[[], bool]
    target: Callable[[], object]
    cleanup: Callable[[int], None] = lambda _rep: None
    reps: int = 0
    times_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)  # the GUI thread's own CPU time in the same span
    timeouts: int = 0


class Probe:
    def __init__(self, args: argparse.Namespace):
        from PySide6.QtCore import QEvent, QObject, QTimer
        from PySide6.QtWidgets import QApplication

        self.args = args
        self.result: dict = {"started": STARTED, "times_ms": {}, "timeouts": {}, "notes": {}}
        self.window = None
        self.QTimer = QTimer
        self.app = QApplication.instance() or QApplication(sys.argv[:1])
        self._waiting: Interaction | None = None
        self._t0 = 0.0
        self._deadline = 0.0
        self._stamped = False
        self._painted_at: float | None = None
        self._painted_cpu = 0.0
        self._cpu0 = 0.0
        self.profiler = None
        if args.profile:
            import cProfile

            self.profiler = cProfile.Profile()
        probe = self

        class PaintWatcher(QObject):
            def eventFilter(self, watched, event):  # noqa: N802 (Qt's name)
                if probe._waiting is not None:
                    if event.type() == QEvent.Type.Paint:
                        probe.on_paint(watched)
                    elif probe._painted_at is None and probe._stamped:
                        # The first other event after the paint: the window's repaint (its paint events are sent
                        # one after another, then the backing store is flushed) has ended.
                        probe._painted_at = time.monotonic()
                        probe._painted_cpu = time.thread_time()
                        if probe.profiler is not None:
                            probe.profiler.disable()
                return False

        self.watcher = PaintWatcher()
        QTimer.singleShot(0, self.on_loop_started)

    # -- the run -------------------------------------------------------------------------------------------------
    def on_loop_started(self) -> None:
        from assistant.ui.main_window import MainWindow

        windows = [w for w in self.app.topLevelWidgets() if isinstance(w, MainWindow)]
        if not windows:
            self.fail("no main window")
            return
        self.window = windows[0]
        self.window.resize(1280, 720)
        self.window.activateWindow()
        self.app.installEventFilter(self.watcher)
        self.when_settled(self.begin, first=True)

    def begin(self) -> None:
        """After the start-up work: the interactions name the window's tabs, which the launch builds after its first
        paint (asking for one earlier would build them all at once, before that paint)."""
        self.queue = self.interactions()
        self.next_rep()

    def next_rep(self) -> None:
        while self.queue and self.queue[0].reps >= self.args.reps:
            done = self.queue.pop(0)
            self.result["times_ms"][done.name] = [round(t, 2) for t in done.times_ms]
            self.result.setdefault("cpu_ms", {})[done.name] = [round(t, 2) for t in done.cpu_ms]
            self.result["timeouts"][done.name] = done.timeouts
        if not self.queue:
            self.finish()
            return
        item = self.queue[0]
        rep = item.reps
        try:
            item.prepare(rep)
        except Exception as exc:  # noqa: BLE001 - one broken interaction must not cost the others
            self.result["notes"][item.name] = f"prepare failed: {type(exc).__name__}: {exc}"
            item.reps = self.args.reps
            self.QTimer.singleShot(0, self.next_rep)
            return
        self.when_settled(lambda: self.start(item, rep))

    def start(self, item: Interaction, rep: int) -> None:
        from PySide6.QtTest import QTest

        QTest.qWait(0)  # whatever the preparation left to paint is painted before the clock starts
        self._waiting, self._stamped, self._painted_at = item, False, None
        self._deadline = time.monotonic() + TIMEOUT_S
        if self.profiler is not None:
            self.profiler.enable()
        self._cpu0 = time.thread_time()
        self._t0 = time.monotonic()
        item.act(rep)
        self.QTimer.singleShot(int(TIMEOUT_S * 1000) + 100, lambda: self.on_timeout(item, rep))

    def on_paint(self, watched) -> None:
        item = self._waiting
        if item is None or self._stamped:
            return
        target = item.target()
        if target is None or not (watched is target or target.isAncestorOf(watched)):
            return
        if not item.done():
            return
        self._stamped = True
        rep = item.reps
        # The paint runs after this filter returns; the end of the repaint is the first event of another kind that
        # follows (see PaintWatcher), at the latest the next turn of the loop.
        self.QTimer.singleShot(0, lambda: self.stamp(item, rep))

    def stamp(self, item: Interaction, rep: int) -> None:
        if self._waiting is not item or item.reps != rep:
            return
        painted = self._painted_at if self._painted_at is not None else time.monotonic()
        cpu = self._painted_cpu if self._painted_at is not None else time.thread_time()
        item.times_ms.append((painted - self._t0) * 1000)
        item.cpu_ms.append((cpu - self._cpu0) * 1000)
        self.end_rep(item, rep)

    def on_timeout(self, item: Interaction, rep: int) -> None:
        if self._waiting is not item or item.reps != rep:
            return
        item.timeouts += 1
        self.end_rep(item, rep)

    def end_rep(self, item: Interaction, rep: int) -> None:
        if self.profiler is not None:
            self.profiler.disable()  # (again: a timeout)
            if item.reps + 1 >= self.args.reps:  # one file per interaction: what the GUI thread ran while timed
                self.profiler.dump_stats(f"{self.args.profile}.{item.name}")
                import cProfile

                self.profiler = cProfile.Profile()
        self._waiting = None
        item.reps += 1
        try:
            item.cleanup(rep)
        except Exception as exc:  # noqa: BLE001
            self.result["notes"][item.name] = f"cleanup failed: {type(exc).__name__}: {exc}"
        self.when_settled(self.next_rep)

    def when_settled(self, then, first: bool = False) -> None:
        """``then()`` once the worker has nothing queued (and what it delivered is shown)."""
        deadline = time.monotonic() + (self.args.settle_s if first else 10.0)

        def check() -> None:
            # the tasks on the worker, and the tabs the launch installs after its first paint (MainWindow.starting)
            busy = self.window.tasks.busy or getattr(self.window, "starting", False)
            if busy and time.monotonic() < deadline:
                self.QTimer.singleShot(20, check)
                return
            self.QTimer.singleShot(300 if first else 60, then)

        self.QTimer.singleShot(0, check)

    # -- the interactions ----------------------------------------------------------------------------------------
    def interactions(self) -> list[Interaction]:
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest
        from PySide6.QtWidgets import QApplication

        from assistant.store import mail as mail_store
        from assistant.ui.mail.compose import ComposeWindow

        w = self.window
        inbox, threads, model, reader = w.inbox, w.inbox.threads, w.inbox.model, w.inbox.reader
        principal_rows = [r for r in range(w.principals.rowCount()) if w.principals.principal_at(r) is not None]
        sizes = {w.principals.principal_at(r).id: mail_store.message_count(w.store.scope(w.principals.principal_at(r).id))
                 for r in principal_rows}
        largest = max(sizes, key=lambda pid: (sizes[pid], -pid))
        self.result["largest_principal"] = {"id": largest, "messages": sizes[largest]}
        queries = [q for q in self.args.queries.split(",") if q]
        state: dict = {}

        def key(widget, k, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
            QTest.keyClick(widget, k, modifiers)

        def show_principal(pid: int) -> None:
            if QApplication.activeWindow() is not w:  # a compose window may have been in front
                w.activateWindow()
            if w.views.currentWidget() is not inbox:
                w.views.setCurrentWidget(inbox)
            if w.search.text():
                w.search.clear()
            if w.showing_all_principals or w.current_principal is None or w.current_principal.id != pid:
                w.select_principal(pid)
            threads.setFocus()

        # switch principal: Ctrl+PgDown from the principal above, to each principal in turn
        def switch_prepare(rep: int) -> None:
            pairs = [(a, b) for a, b in zip(principal_rows, principal_rows[1:], strict=False) if b == a + 1]
            source_row, target_row = pairs[rep % len(pairs)]
            state["switch_to"] = w.principals.principal_at(target_row).id
            show_principal(w.principals.principal_at(source_row).id)

        def switch_done() -> bool:
            p = model.principal
            return p is not None and p.id == state["switch_to"] and model.rowCount() > 0 and not w.showing_all_principals

        switch = Interaction("switch_principal", switch_prepare,
                             lambda _rep: key(threads, Qt.Key.Key_PageDown, Qt.KeyboardModifier.ControlModifier),
                             switch_done, lambda: threads.viewport())

        # open a thread: a click on a row of the largest inbox; its newest (or first unread) message in the reader
        def open_prepare(rep: int) -> None:
            show_principal(largest)
            state["open_row"] = 1 + rep % 8
            thread = model.thread_at(state["open_row"])
            state["open_thread"] = thread.id if thread else None
            state["shown"] = None

        reader.message_shown.connect(lambda message_id: state.__setitem__("shown", message_id))

        def open_act(_rep: int) -> None:
            rect = threads.visualRect(model.index(state["open_row"], 0))
            QTest.mouseClick(threads.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                             rect.center())

        def open_done() -> bool:
            return reader.thread_id == state["open_thread"] and state["shown"] is not None \
                and reader._message is not None and reader._message.id == state["shown"]

        open_thread = Interaction("open_thread", open_prepare, open_act, open_done, lambda: reader.browser.viewport())

        # archive: `e` on the thread being read; the one below it selected. Undone after (Ctrl+Z), not timed.
        def archive_prepare(rep: int) -> None:
            show_principal(largest)
            threads.select_row(0)
            state["archived"] = model.thread_at(0).id
            state["next"] = model.thread_at(1).id
            threads.setFocus()

        def archive_done() -> bool:
            current = model.thread_at(threads.currentIndex().row())
            return current is not None and current.id == state["next"] and \
                all(t.id != state["archived"] for t in model.rows[:3])

        def archive_cleanup(_rep: int) -> None:
            self.QTimer.singleShot(0, w.undo_last)

        archive = Interaction("archive_next", archive_prepare, lambda _rep: key(threads, Qt.Key.Key_E),
                              archive_done, lambda: threads.viewport(), archive_cleanup)

        # search as you type: the query typed into the search box; timed from its last key to the results painted
        def search_prepare(every: bool) -> Callable[[int], None]:
            def prepare(rep: int) -> None:
                if every:
                    if w.search.text():
                        w.search.clear()
                    if not w.showing_all_principals:
                        w.show_all_principals()
                else:
                    show_principal(largest)
                query = queries[rep % len(queries)]
                state["query"] = query
                w.search.setFocus()
                QTest.keyClicks(w.search, query[:-1])
            return prepare

        def search_act(_rep: int) -> None:
            QTest.keyClick(w.search, state["query"][-1])  # the box searches as you type: no Enter

        def search_done() -> bool:
            return model.search_query == state["query"]

        def search_cleanup(_rep: int) -> None:
            w.search.clear()

        search_one = Interaction("search_one", search_prepare(False), search_act, search_done,
                                 lambda: threads.viewport(), search_cleanup)
        search_all = Interaction("search_all", search_prepare(True), search_act, search_done,
                                 lambda: threads.viewport(), search_cleanup)

        # open compose (reply, Ctrl+R) on the thread being read: the compose window painted, its body editable
        def compose_prepare(_rep: int) -> None:
            show_principal(largest)
            threads.select_row(0)
            threads.setFocus()

        def compose_window() -> ComposeWindow | None:
            for widget in QApplication.topLevelWidgets():
                if isinstance(widget, ComposeWindow) and widget.isVisible():
                    return widget
            return None

        def compose_done() -> bool:
            window = compose_window()
            return window is not None and not window.body.isReadOnly()

        def compose_cleanup(_rep: int) -> None:
            window = compose_window()
            if window is not None:
                window.close()

        compose = Interaction("compose_reply", compose_prepare,
                              lambda _rep: key(threads, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier),
                              compose_done, compose_window, compose_cleanup)

        # switch tab: Ctrl+<n> from the inbox to the Calendar week, Board, Calls, Today; painted with what it loaded
        tabs = [(name, page) for name, page in (("calendar", w.calendar), ("board", getattr(w.board, "view", w.board)),
                                               ("calls", getattr(w.calls, "view", w.calls)), ("today", w.today))
                if w.views.indexOf(page) >= 0 and (not self.args.tabs or name in self.args.tabs.split(","))]
        state["tab_times"] = {name: [] for name, _ in tabs}

        def tab_prepare(rep: int) -> None:
            show_principal(largest)
            state["tab"] = tabs[rep % len(tabs)]

        def tab_act(_rep: int) -> None:
            index = w.views.indexOf(state["tab"][1])
            key(threads, getattr(Qt.Key, f"Key_{index + 1}"), Qt.KeyboardModifier.ControlModifier)

        def tab_done() -> bool:
            return w.views.currentWidget() is state["tab"][1] and not w.tasks.busy

        def tab_cleanup(_rep: int) -> None:
            item = tab
            if len(item.times_ms) > len(sum(state["tab_times"].values(), [])):
                state["tab_times"][state["tab"][0]].append(round(item.times_ms[-1], 2))
            w.views.setCurrentWidget(inbox)

        tab = Interaction("switch_tab", tab_prepare, tab_act, tab_done, lambda: state["tab"][1], tab_cleanup)
        self.result["tab_times_ms"] = state["tab_times"]
        self.result["tabs"] = [name for name, _ in tabs]
        chosen = [switch, open_thread, archive, search_one, search_all, compose, tab]
        if self.args.only:
            names = set(self.args.only.split(","))
            chosen = [i for i in chosen if i.name in names]
        return chosen

    # -- end -----------------------------------------------------------------------------------------------------
    def fail(self, text: str) -> None:
        self.result["error"] = text
        self.finish()

    def finish(self) -> None:
        self.result["finished"] = time.monotonic()
        self.result["peak_rss_mb"] = peak_rss_mb()
        print(json.dumps(self.result), flush=True)
        if self.window is not None:
            self.window.close()
        self.app.quit()


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workspace")
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--only", default="", help="comma-separated interaction names")
    parser.add_argument("--queries", default="zorblax,brastok,quintrel,grindalf")
    parser.add_argument("--tabs", default="", help="switch_tab: only these tabs (calendar,board,calls,today)")
    parser.add_argument("--settle-s", type=float, default=20.0)
    parser.add_argument("--profile", metavar="PREFIX",
                        help="cProfile the GUI thread while each interaction is timed: PREFIX.<name> per interaction")
    args = parser.parse_args(argv)
    probe = Probe(args)
    from assistant.cli.main import main as assistant_main

    code = assistant_main(["--workspace", args.workspace])
    if "finished" not in probe.result:
        print(json.dumps(dict(probe.result, error=f"the app quit ({code}) before the probe finished")), flush=True)
        return 1
    return 0 if "error" not in probe.result else 1


if __name__ == "__main__":
    sys.exit(main())
