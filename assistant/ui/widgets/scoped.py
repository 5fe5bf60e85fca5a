"""A tab that lists the current principal's items, or every principal's with *All principals* (Approvals, Outgoing).

What such a tab must get right is the same everywhere, so it is written once here: it reads again when it is shown,
when the principal changes while it shows, when *All principals* is toggled, and when a change the TaskManager reports
touches one of its areas for whom it shows; a read that a newer one overtook is dropped; with no principal and not
*All principals* it shows its empty state without reading.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QCheckBox, QWidget

from assistant.store import Store
from assistant.store.changes import Area, Changes
from assistant.ui.workers import TaskManager


class PrincipalScopedView(QWidget):
    """Subclasses say which :attr:`AREAS` they show and give :meth:`load` (on the worker: a plain function of the
    store), :meth:`show_loaded` (on the GUI thread), :meth:`empty` and :meth:`on_load_error`."""

    AREAS: tuple[Area, ...] = ()

    def __init__(self, tasks: TaskManager, all_principals_name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.tasks = tasks
        self.principal_id: int | None = None
        self._request = 0
        self.all_principals = QCheckBox("All principals")
        self.all_principals.setAccessibleName(all_principals_name)
        self.all_principals.toggled.connect(lambda _checked: self.reload())
        tasks.changed.connect(self.on_changed)

    # -- what a subclass gives -----------------------------------------------------------------------------------------
    def load(self, store: Store, principal_id: int | None) -> Any:
        """On the worker: what to show for ``principal_id`` (None: every principal)."""
        raise NotImplementedError

    def show_loaded(self, result: Any) -> None:
        raise NotImplementedError

    def empty(self) -> Any:
        """What :meth:`show_loaded` gets when there is no principal to show."""
        raise NotImplementedError

    def on_load_error(self, error: BaseException) -> None:
        raise NotImplementedError

    # -- the shared part -----------------------------------------------------------------------------------------------
    def whose(self) -> int | None:
        """The principal shown, or None for all of them."""
        return None if self.all_principals.isChecked() else self.principal_id

    def set_principal_id(self, principal_id: int | None) -> None:
        self.principal_id = principal_id
        if self.isVisible():
            self.reload()

    def on_changed(self, changes: Changes) -> None:
        """A change here, in another window or from a sync that touches what is listed: listed again."""
        if self.isVisible() and changes.touches(*self.AREAS, principal_id=self.whose()):
            self.reload()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name) — syncs change things: read when shown
        super().showEvent(event)
        self.reload()

    def reload(self) -> None:
        if self.tasks.closed:  # the window is closing: the worker is gone
            return
        self._request += 1
        request = self._request
        whose = self.whose()
        if whose is None and not self.all_principals.isChecked():
            self.show_loaded(self.empty())
            return
        self.tasks.run(lambda store: self.load(store, whose), on_done=lambda result: self._deliver(request, result),
                       on_error=self.on_load_error)

    def _deliver(self, request: int, result: Any) -> None:
        if request == self._request:  # else a newer read is on its way
            self.show_loaded(result)
