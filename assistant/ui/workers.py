"""Database and sync work off the GUI thread, results back on it (Anki's taskman).

One serial worker thread owns its own :class:`~assistant.store.Store`, so every write and every sync in the app goes
through one path, in order. A task is a plain callable ``fn(store) -> result``; its result or error is posted back to the
GUI thread as a posted event of low priority, where ``on_done`` / ``on_error`` run; a repaint already asked for (also
of low priority, and posted first) is painted before them, so an answer the user is waiting for is on screen before the
results of the work it set off are applied. Task functions never touch widgets.

What a task wrote (:class:`~assistant.store.changes.Changes`, recorded by the store's write paths) is emitted once
through :attr:`TaskManager.changed` before ``on_done``/``on_error`` run — also when the task failed after some of its
transactions committed. Views listen to it and refresh what they show; nobody reloads a view by hand after a write.
"""
from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, Signal

from assistant.core.errors import UserError, disk_full
from assistant.store import Store
from assistant.store.changes import Changes

log = logging.getLogger(__name__)

TaskFn = Callable[[Store], Any]
DoneFn = Callable[[Any], object]  # whatever it returns is ignored
ErrorFn = Callable[[BaseException], None]


def describe_error(error: BaseException) -> str:
    """One line for the user: a UserError's own sentence, anything else named as a bug."""
    if isinstance(error, UserError):
        return str(error)
    full = disk_full(error)
    if full is not None:
        return str(full)
    return f"Something went wrong ({type(error).__name__}: {error}); details are in the log."


class _Finished:
    """What the worker hands back: the result or the error, and what the task changed."""

    __slots__ = ("result", "error", "changes")

    def __init__(self, result: Any, error: BaseException | None, changes: Changes):
        self.result, self.error, self.changes = result, error, changes


def _finish(store: Store, fn: TaskFn) -> _Finished:
    try:
        result = fn(store)
    except BaseException as error:  # delivered to on_error on the GUI thread
        return _Finished(None, error, store.take_changes())
    return _Finished(result, None, store.take_changes())


_DELIVERY = QEvent.Type(QEvent.registerEventType())


class TaskManager(QObject):
    task_failed = Signal(str)  # an error nobody handled, as one line for the status bar
    changed = Signal(object)  # the Changes a task made, once per task that wrote something
    busy_changed = Signal(bool)

    def __init__(self, workspace_dir: Path, parent: QObject | None = None):
        super().__init__(parent)
        self.workspace_dir = Path(workspace_dir)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="assistant-store")
        # Network waits (a message source fetched on demand) must not hold up the serial store worker.
        self._network = ThreadPoolExecutor(max_workers=2, thread_name_prefix="assistant-network")
        self._worker_store: Store | None = None  # created, used and closed on the worker thread only
        self._pending = 0
        self._closed = False
        self._gate: threading.Event | None = None
        self._ready: deque[Callable[[], None]] = deque()  # closures to run on the GUI thread, one per posted event

    @property
    def busy(self) -> bool:
        return self._pending > 0

    def run(self, fn: TaskFn, on_done: DoneFn | None = None, on_error: ErrorFn | None = None) -> Future:
        """Queue ``fn(store)``; call ``on_done(result)`` or ``on_error(exc)`` on the GUI thread when it finishes.

        Without ``on_error``, failures are logged and reported through :attr:`task_failed`.
        """
        return self._submit(self._executor, self._call, fn, on_done, on_error)

    def _submit(self, executor: ThreadPoolExecutor, call: Callable[[TaskFn], Any], fn: TaskFn,
                on_done: DoneFn | None, on_error: ErrorFn | None) -> Future:
        if self._closed:
            raise RuntimeError("the task manager is shut down")
        self._pending += 1
        if self._pending == 1:
            self.busy_changed.emit(True)
        future = executor.submit(call, fn)
        outcome: Future = Future()  # the task's own result or error, for callers that wait (tests, shutdown)

        def finished(f: Future) -> None:
            error = f.exception()
            if error is None and f.result().error is not None:
                error = f.result().error
            if error is None:
                outcome.set_result(f.result().result)
            else:
                outcome.set_exception(error)
            self._post(lambda: self._deliver(f, on_done, on_error))

        future.add_done_callback(finished)
        return outcome

    @property
    def closed(self) -> bool:
        """Shut down: nothing more can run (timers that outlive the window check this)."""
        return self._closed

    def run_network(self, fn: TaskFn, on_done: DoneFn | None = None, on_error: ErrorFn | None = None) -> Future:
        """Like :meth:`run`, on the network pool: ``fn(store)`` gets a store of its own, opened for this call only
        (one store per thread), for the short write once the network answered."""
        return self._submit(self._network, self._call_network, fn, on_done, on_error)

    def _call_network(self, fn: TaskFn) -> _Finished:
        store = Store(self.workspace_dir)
        try:
            return _finish(store, fn)
        finally:
            store.close()

    def _call(self, fn: TaskFn) -> _Finished:
        if self._worker_store is None:
            self._worker_store = Store(self.workspace_dir)
        return _finish(self._worker_store, fn)

    def _deliver(self, future: Future, on_done: DoneFn | None, on_error: ErrorFn | None) -> None:
        self._pending -= 1
        try:
            error = future.exception()  # only when the worker itself failed (opening the store)
            if error is None:
                finished: _Finished = future.result()
                error = finished.error
                if finished.changes:
                    self.changed.emit(finished.changes)
            if error is None:
                if on_done is not None:
                    on_done(finished.result)
            elif on_error is not None:
                on_error(error)
            else:
                if not isinstance(error, UserError):
                    log.error("background task failed", exc_info=error)
                self.task_failed.emit(describe_error(error))
        finally:
            if self._pending == 0:
                self.busy_changed.emit(False)

    def _post(self, closure: Callable[[], None]) -> None:
        """From any thread: run ``closure`` on this object's thread. Low priority: after the repaints already asked
        for (Qt posts a widget's update request at low priority too; a queued signal would jump ahead of it)."""
        self._ready.append(closure)
        QCoreApplication.postEvent(self, QEvent(_DELIVERY), int(Qt.EventPriority.LowEventPriority.value))

    def event(self, event: QEvent) -> bool:
        if event.type() == _DELIVERY:
            closure = self._ready.popleft()  # each event runs one closure, in the order they were posted
            if not self._closed:  # after shutdown the widgets waiting for results may be gone
                closure()
            return True
        return super().event(event)

    def _close_worker_store(self, _store: Store | None = None) -> None:
        if self._worker_store is not None:
            self._worker_store.close()
            self._worker_store = None

    def hold(self, at_most_s: float = 3.0) -> bool:
        """Tasks queued from now on wait (in order) until :meth:`release`, or ``at_most_s`` at the latest. At launch the
        start-up reads (counts, calendar week, reminders, Today…) would otherwise take turns at the interpreter with
        the GUI thread building and painting the window, and the first paint would come later by their length.
        Returns False (and holds nothing more) while a hold is on already."""
        if self._gate is not None or self._closed:
            return False
        self._gate = threading.Event()
        self._executor.submit(self._gate.wait, at_most_s)
        return True

    @property
    def held(self) -> bool:
        return self._gate is not None

    def release(self) -> None:
        if self._gate is not None:
            self._gate.set()
            self._gate = None

    def shutdown(self) -> None:
        """Finish queued work, close the worker's store and stop the thread. Results not yet delivered are dropped."""
        if self._closed:
            return
        self.release()
        self._closed = True
        self._executor.submit(self._close_worker_store)
        self._executor.shutdown(wait=True)
        self._network.shutdown(wait=True, cancel_futures=True)
