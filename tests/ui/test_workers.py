import threading
import time

import pytest

from assistant.core.errors import NotFound
from assistant.ui.workers import TaskManager


@pytest.fixture
def tasks(tmp_path):
    manager = TaskManager(tmp_path / "ws")
    yield manager
    manager.shutdown()


def test_results_arrive_on_the_gui_thread_from_one_serial_worker(qtbot, tasks):
    ran_on, delivered_on, results = [], [], []

    def work(store, n):
        ran_on.append(threading.current_thread())
        return n * 2, store.schema_version()

    def done(result):
        delivered_on.append(threading.current_thread())
        results.append(result)

    with qtbot.waitSignal(tasks.busy_changed, check_params_cb=lambda busy: busy is False, timeout=5000):
        for n in range(3):
            tasks.run(lambda store, n=n: work(store, n), on_done=done)
    assert [r[0] for r in results] == [0, 2, 4]  # in the order queued
    assert all(r[1] >= 1 for r in results)  # the worker's own Store, migrated
    assert len(set(ran_on)) == 1 and ran_on[0] is not threading.main_thread()
    assert delivered_on == [threading.main_thread()] * 3


def test_errors_go_to_on_error_on_the_gui_thread(qtbot, tasks):
    errors = []

    def fail(_store):
        raise ValueError("boom")

    tasks.run(fail, on_done=lambda _r: pytest.fail("no result expected"),
              on_error=lambda e: errors.append((e, threading.current_thread())))
    qtbot.waitUntil(lambda: len(errors) == 1)
    assert isinstance(errors[0][0], ValueError) and errors[0][1] is threading.main_thread()


def test_unhandled_user_error_is_reported_as_one_line(qtbot, tasks):
    def missing(store):
        return store.principal(42)

    with qtbot.waitSignal(tasks.task_failed, timeout=5000) as blocker:
        tasks.run(missing)
    assert blocker.args == [str(NotFound("no principal with id 42"))]


def test_shutdown_closes_the_worker_store_and_refuses_new_work(qtbot, tmp_path):
    manager = TaskManager(tmp_path / "ws")
    future = manager.run(lambda store: store.principals())
    manager.shutdown()
    assert future.result() == []
    assert manager._worker_store is None
    with pytest.raises(RuntimeError):
        manager.run(lambda store: None)


def test_held_tasks_wait_in_order_until_released(qtbot, tasks):
    ran = []
    tasks.hold(at_most_s=30)
    for n in range(3):
        tasks.run(lambda _store, n=n: ran.append(n))
    qtbot.wait(200)
    assert ran == []  # queued behind the gate, not lost
    with qtbot.waitSignal(tasks.busy_changed, check_params_cb=lambda busy: busy is False, timeout=5000):
        tasks.release()
    assert ran == [0, 1, 2]


def test_a_hold_ends_by_itself_and_shutdown_is_not_blocked_by_one(qtbot, tmp_path):
    manager = TaskManager(tmp_path / "ws")
    manager.hold(at_most_s=0.2)
    done = []
    manager.run(lambda store: store.schema_version(), on_done=done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=5000)  # nobody released it: it started after 0.2 s anyway
    held = TaskManager(tmp_path / "ws")
    held.hold(at_most_s=60)
    held.run(lambda store: store.principals())
    started = time.monotonic()
    held.shutdown()  # releases the gate instead of waiting a minute
    assert time.monotonic() - started < 30
    manager.shutdown()


def test_what_a_task_wrote_is_emitted_once_before_on_done_and_reads_emit_nothing(qtbot, tasks):
    from assistant.domain import Principal
    from assistant.store.changes import Area

    order: list[str] = []
    emitted: list = []
    tasks.changed.connect(lambda changes: (emitted.append(changes), order.append("changed")))
    with qtbot.waitSignal(tasks.busy_changed, timeout=5000, check_params_cb=lambda busy: not busy):
        tasks.run(lambda store: store.add_principal(Principal(name="Ann", timezone="UTC")),
                  on_done=lambda _p: order.append("done"))
    assert order == ["changed", "done"]
    assert len(emitted) == 1 and emitted[0].touches(Area.PRINCIPALS)
    with qtbot.waitSignal(tasks.busy_changed, timeout=5000, check_params_cb=lambda busy: not busy):
        tasks.run(lambda store: store.principals())
    assert len(emitted) == 1


def test_a_task_that_fails_after_a_commit_still_reports_what_it_changed(qtbot, tasks):
    from assistant.domain import Principal
    from assistant.store.changes import Area

    emitted: list = []
    tasks.changed.connect(emitted.append)

    def half(store):
        store.add_principal(Principal(name="Ann", timezone="UTC"))
        raise RuntimeError("after the first write")

    with qtbot.waitSignal(tasks.busy_changed, timeout=5000, check_params_cb=lambda busy: not busy):
        tasks.run(half, on_error=lambda _e: None)
    assert len(emitted) == 1 and emitted[0].touches(Area.PRINCIPALS)


def test_a_repaint_asked_for_before_a_result_arrives_is_painted_first(qtbot, tasks):
    """The answer to a key or click is painted before the results of the work it set off are applied (issue 17): a
    worker's result arriving while a repaint is pending waits for that paint."""
    from PySide6.QtWidgets import QLabel

    order: list[str] = []

    class Label(QLabel):
        def paintEvent(self, event):  # noqa: N802 (Qt's name)
            order.append("paint")
            super().paintEvent(event)

    label = Label("before")
    qtbot.addWidget(label)
    label.show()
    qtbot.waitExposed(label)
    qtbot.wait(50)
    go = threading.Event()
    future = tasks.run(lambda _store: go.wait(5), on_done=lambda _result: order.append("result"))
    order.clear()
    label.setText("after")  # asks for a repaint (posted, not yet painted)
    go.set()
    future.result(timeout=5)
    time.sleep(0.2)  # no events processed meanwhile: the worker posts its result, after the repaint was asked for
    qtbot.waitUntil(lambda: "result" in order and "paint" in order)
    assert order.index("paint") < order.index("result")
