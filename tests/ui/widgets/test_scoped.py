"""The one base of the tabs that list a principal's items or everyone's (Approvals, Outgoing): when they read."""
from __future__ import annotations

import threading

import pytest

from assistant.store import Store
from assistant.store.changes import Area, Changes
from assistant.ui.approvals.view import ApprovalsView
from assistant.ui.outgoing.view import OutgoingView
from assistant.ui.widgets.scoped import PrincipalScopedView
from assistant.ui.workers import TaskManager


class Listing(PrincipalScopedView):
    AREAS = (Area.DRAFTS,)

    def __init__(self, tasks: TaskManager):
        super().__init__(tasks, "Show everyone's")
        self.reads: list[int | None] = []
        self.shown: list[object] = []
        self.gate: threading.Event | None = None

    def load(self, store: Store, principal_id: int | None) -> object:
        if self.gate is not None:
            self.gate.wait(5)
        return ("read", principal_id)

    def reload(self) -> None:
        self.reads.append(self.whose())
        super().reload()

    def show_loaded(self, result: object) -> None:
        self.shown.append(result)

    def empty(self) -> object:
        return "nobody"

    def on_load_error(self, error: BaseException) -> None:
        raise AssertionError(error)


@pytest.fixture
def listing(qtbot, tmp_path):
    Store(tmp_path / "ws").close()
    tasks = TaskManager(tmp_path / "ws")
    view = Listing(tasks)
    qtbot.addWidget(view)
    yield view
    qtbot.waitUntil(lambda: not tasks.busy)
    tasks.shutdown()


def test_both_tabs_share_the_base():
    assert issubclass(ApprovalsView, PrincipalScopedView) and issubclass(OutgoingView, PrincipalScopedView)
    assert ApprovalsView.AREAS == OutgoingView.AREAS == (Area.DRAFTS, Area.OUTBOX)


def test_reads_when_shown_on_principal_and_on_changes_that_touch_it(qtbot, listing):
    listing.set_principal_id(3)
    assert listing.reads == []  # hidden: nothing read
    listing.show()
    qtbot.waitUntil(lambda: listing.shown == [("read", 3)])
    listing.on_changed(Changes.of([(Area.DRAFTS, 4)]))  # another principal's draft
    listing.on_changed(Changes.of([(Area.BOARD, 3)]))  # not an area it lists
    assert listing.reads == [3]
    listing.on_changed(Changes.of([(Area.DRAFTS, 3)]))
    qtbot.waitUntil(lambda: len(listing.shown) == 2)
    listing.all_principals.setChecked(True)  # everyone's: any principal's change counts
    qtbot.waitUntil(lambda: listing.shown[-1] == ("read", None))
    listing.on_changed(Changes.of([(Area.DRAFTS, 4)]))
    qtbot.waitUntil(lambda: len(listing.shown) == 4)
    listing.all_principals.setChecked(False)
    listing.set_principal_id(None)
    qtbot.waitUntil(lambda: listing.shown[-1] == "nobody")


def test_a_read_overtaken_by_a_newer_one_is_dropped(qtbot, listing):
    listing.show()
    qtbot.waitUntil(lambda: listing.shown == ["nobody"])
    listing.gate = threading.Event()
    listing.set_principal_id(1)
    listing.set_principal_id(2)
    listing.gate.set()
    qtbot.waitUntil(lambda: not listing.tasks.busy)
    qtbot.wait(50)
    assert listing.shown == ["nobody", ("read", 2)]
