"""Whose data, always (issue 16, point 8) through the real widgets: a new principal's colour stands apart, every dialog
names the principal, compose says who it writes as and their time, and Add account checks what it is given."""
from __future__ import annotations

import re
import threading
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QDialogButtonBox

from assistant.domain import Principal
from assistant.store import Store
from tests.ui.conftest import add_principal


def far_apart(a: str, b: str) -> bool:
    """Told apart at a glance: a clear step in hue, or in lightness."""
    ca, cb = QColor(a), QColor(b)
    hue = abs(ca.hslHue() - cb.hslHue())
    return min(hue, 360 - hue) >= 40 or abs(ca.lightness() - cb.lightness()) >= 60


def is_blue(colour: str) -> bool:
    return 190 <= QColor(colour).hslHue() <= 250 and QColor(colour).hslSaturation() > 60


def test_a_new_principals_colour_stands_apart_from_the_others(make_window, tmp_path, qtbot):
    ws = tmp_path / "ws"
    store = Store(ws)
    add_principal(store, "Dana Whitfield", "America/New_York", "#2563eb")  # the demo's colours
    add_principal(store, "Kenji Sato", "Asia/Tokyo", "#dc2626")
    store.close()
    window = make_window(ws)
    window.add_principal_action.trigger()
    dialog = window.principal_actions.dialog
    qtbot.waitUntil(lambda: dialog.colour.text() != "")  # suggested from the worker's read of the others
    suggested = dialog.colour.text()
    assert not is_blue(suggested)
    assert far_apart(suggested, "#2563eb") and far_apart(suggested, "#dc2626")
    dialog.name.setText("Ada Okafor")
    save = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save)
    with qtbot.wait_signal(window.refreshed, timeout=5000):
        qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert window.current_principal.name == "Ada Okafor" and window.current_principal.colour == suggested


def test_principals_added_without_a_colour_get_distinct_ones(tmp_path):
    """The store's one write path gives the colour, so the command line's ``principal add`` and the first-run form get
    one too; ten principals (the benchmark's workload) never share a blue."""
    store = Store(tmp_path / "ws")
    try:
        store.add_principal(Principal("Old default", "UTC", colour="#3b82f6"))
        colours = [store.add_principal(Principal(f"P{i}", "UTC")).colour for i in range(9)]
    finally:
        store.close()
    assert not any(is_blue(c) for c in colours)  # the one blue is taken
    from assistant.core.colours import NEAR, distance

    assert all(distance(a, b) >= NEAR for i, a in enumerate(colours) for b in colours[i + 1:]), colours


def test_every_dialog_names_the_principal_and_wears_their_colour(make_window, workspace, qtbot):
    from assistant.ui.approvals.view import ComposeApprovalButtons
    from assistant.ui.board.task_dialog import TaskDialog

    ws, _ann, ken = workspace
    window = make_window(ws)
    window.select_principal(ken.id)
    window.views.setCurrentWidget(window.board)
    qtbot.waitUntil(lambda: window.board.snapshot is not None and not window.tasks.busy)
    qtbot.mouseClick(window.board.new_button, Qt.MouseButton.LeftButton)
    task = next(d for d in window.board.findChildren(TaskDialog) if d.isVisible())
    assert task.windowTitle() == "New task — Ken" and not task.windowIcon().isNull()
    task.reject()

    event = window.calendar.open_new_event()
    assert "Ken" in event.windowTitle() and not event.windowIcon().isNull()
    event.reject()

    with qtbot.wait_signal(window.inbox_actions.compose_opened, timeout=5000) as opened:
        window.inbox_actions.compose("new")
    compose = opened.args[0]
    qtbot.addWidget(compose)
    assert "Ken" in compose.windowTitle() and not compose.windowIcon().isNull()
    buttons = next(w for w in compose.extension_widgets if isinstance(w, ComposeApprovalButtons))
    qtbot.mouseClick(buttons.later_button, Qt.MouseButton.LeftButton)
    assert buttons.dialog.windowTitle() == "Send later — Ken" and not buttons.dialog.windowIcon().isNull()
    buttons.dialog.reject()
    compose._finished = True
    compose.close()

    window.principal_actions.add_account_action.trigger()
    account = window.principal_actions.account_dialog
    assert "Ken" in account.windowTitle() and not account.windowIcon().isNull()
    account.reject()


def test_compose_says_who_it_writes_as_and_their_time(make_window, workspace, qtbot):
    ws, _ann, ken = workspace
    window = make_window(ws)
    window.select_principal(ken.id)
    with qtbot.wait_signal(window.inbox_actions.compose_opened, timeout=5000) as opened:
        window.inbox_actions.compose("new")
    compose = opened.args[0]
    qtbot.addWidget(compose)
    header = compose.writing_as
    assert header.isVisible()
    assert re.fullmatch(r"Writing as Ken <ken@ken\.example> · \d\d:\d\d in Tokyo( \(\d\d:\d\d your time\))?",
                        header.label.accessibleName()), header.label.accessibleName()
    assert header.chip.pixmap() is not None and not header.chip.pixmap().isNull()
    compose._finished = True
    compose.close()


def test_add_account_checks_the_files_are_what_they_claim_off_the_gui_thread(make_window, workspace, qtbot,
                                                                              tmp_path, monkeypatch):
    from assistant.importing import base

    ws, ann, _ = workspace
    checked_on_gui_thread: list[bool] = []
    real_check = getattr(base, "check_mbox", lambda _path: None)

    def check_mbox(path: Path) -> None:
        checked_on_gui_thread.append(threading.current_thread() is threading.main_thread())
        real_check(path)

    monkeypatch.setattr(base, "check_mbox", check_mbox, raising=False)
    window = make_window(ws)
    window.select_principal(ann.id)
    window.principal_actions.add_account_action.trigger()
    dialog = window.principal_actions.account_dialog
    noise = tmp_path / "mail.mbox"
    noise.write_bytes(bytes(range(256)) * 40)
    dialog.mail_path.setText(str(noise))
    qtbot.mouseClick(dialog.add_local_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.error.isVisible())
    assert "is not an mbox" in dialog.error.text()
    assert checked_on_gui_thread == [False]

    mbox = tmp_path / "real.mbox"
    mbox.write_text("From bob@example.org Mon Mar  2 10:00:00 2026\nFrom: bob@example.org\nSubject: Hi\n\nHello\n")
    calendar = tmp_path / "cal.ics"
    calendar.write_bytes(b"\x00\x01 not a calendar at all")
    dialog.mail_path.setText(str(mbox))
    dialog.calendar_path.setText(str(calendar))
    qtbot.mouseClick(dialog.add_local_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "not an iCalendar" in dialog.error.text())
    store = Store(ws)
    try:
        assert [a.kind for a in store.accounts(ann.id)] == ["local"]  # the fixture's own: nothing was added
    finally:
        store.close()

    calendar.write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n")
    with qtbot.wait_signal(dialog.account_added, timeout=5000) as added:
        qtbot.mouseClick(dialog.add_local_button, Qt.MouseButton.LeftButton)
    assert added.args[0].settings == {"mbox": str(mbox.resolve()), "calendar": str(calendar.resolve())}



def test_the_add_account_labels_show_no_literal_ampersand(qtbot, tmp_path):
    """Issue 16, point 9: "&Mail:" was shown as is (a row of widgets cannot be a label's buddy)."""
    from PySide6.QtWidgets import QLabel

    from assistant.domain import Principal
    from assistant.ui.setup.account_dialog import AccountDialog
    from assistant.ui.workers import TaskManager

    tasks = TaskManager(tmp_path / "ws")
    try:
        dialog = AccountDialog(tasks, Principal("Ann", "UTC", ["ann@example.com"], id=1))
        qtbot.addWidget(dialog)
        labels = {label.text(): label for label in dialog.findChildren(QLabel)}
        assert labels["&Mail:"].buddy() is dialog.mail_path and labels["&Calendar:"].buddy() is dialog.calendar_path
    finally:
        tasks.shutdown()
