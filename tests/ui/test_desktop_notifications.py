"""Due reminders reach a real desktop: a real notification daemon (dunst) on a private session bus under Xvfb, the
app talking to it as it does on any Linux desktop (tests/ui/desktop.py starts them)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from assistant import reminders
from assistant.domain import ReminderState
from assistant.store import Store
from assistant.store import mail as mail_store
from assistant.store import reminders as rstore
from tests.ui.desktop import start, stop


@pytest.fixture
def desktop(tmp_path, monkeypatch):
    running, processes = start(tmp_path)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", running.bus_address)
    yield running
    stop(processes)


def _add(ws, principal, text, seconds, **kw):
    store = Store(ws)
    try:
        return reminders.add_reminder(store, principal.id, kind=kw.pop("kind", "free"), text=text,
                                      due_utc=datetime.now(UTC) + timedelta(seconds=seconds), **kw)
    finally:
        store.close()


def test_a_reminder_falling_due_is_a_desktop_notification_and_open_shows_its_item(desktop, make_window, workspace,
                                                                                  qtbot):
    ws, ann, ken = workspace
    store = Store(ws)
    message = mail_store.message_by_header_id(store.scope(ken.id), "<ken1-0@example.org>")
    store.close()
    _add(ws, ken, "Send the signed contract", 2, link=f"message:{message.id}")
    window = make_window(ws)
    window.select_principal(ann.id)
    assert window.reminders.chain.popup_name == "dbus"
    qtbot.waitUntil(lambda: desktop.displayed() == 1, timeout=20000)  # fired by the scheduler at its time
    with qtbot.waitSignal(window.reminders.chain.clicked, timeout=10000):
        desktop.dunstctl("action", "0")  # what a click on the notification does: its default action
    assert window.current_principal.id == ken.id
    qtbot.waitUntil(lambda: "Ken matter 1" in window.inbox.reader.subject.text())
    desktop.dunstctl("close-all")
    (shown,) = desktop.history()
    assert shown["appname"] == "Assistant" and shown["summary"].startswith("Ken")
    assert shown["body"].startswith("Send the signed contract · due ")
    assert " Tokyo / " in shown["body"] and shown["body"].endswith(" yours")
    assert shown["category"] == "x-assistant.reminder"  # the hints (a{sv}) arrived
    assert shown["timeout"] > 0 and shown["icon_path"].endswith("assistant.svg")  # normal urgency: it times out


def test_snooze_and_done_chosen_on_a_notification_reach_the_reminder(desktop, make_window, workspace, qtbot):
    ws, ann, _ken = workspace
    later = _add(ws, ann, "Call the bank", 2, urgent=True)
    done = _add(ws, ann, "Post the cheque", 12)
    window = make_window(ws)
    chain = window.reminders.chain
    qtbot.waitUntil(lambda: desktop.displayed() == 1, timeout=20000)
    with qtbot.waitSignal(chain.acted, timeout=10000) as acted:
        desktop.dunstctl("context", choose="Snooze")  # the notification's menu, answered by the dmenu stand-in
    assert acted.args[1] == "snooze" and acted.args[0].reminder_id == later.id
    qtbot.waitUntil(lambda: not window.tasks.busy)
    store = Store(ws)
    try:
        snoozed = rstore.get(store.scope(ann.id), later.id)
        morning = reminders.next_business_morning(store, ann.id, datetime.now(UTC))
    finally:
        store.close()
    assert snoozed.state is ReminderState.PENDING and snoozed.due_utc == morning
    desktop.dunstctl("close-all")
    qtbot.waitUntil(lambda: desktop.displayed() == 0)

    qtbot.waitUntil(lambda: desktop.displayed() == 1, timeout=20000)  # the cheque's, 12 s after the start
    with qtbot.waitSignal(chain.acted, timeout=10000) as acted:
        desktop.dunstctl("context", choose="Done")
    assert acted.args[1] == "done"
    qtbot.waitUntil(lambda: not window.tasks.busy)
    store = Store(ws)
    try:
        assert rstore.get(store.scope(ann.id), done.id).state is ReminderState.DISMISSED
    finally:
        store.close()
    desktop.dunstctl("close-all")
    # newest first; the bank's reminder is urgent: critical, which the daemon keeps on screen (no timeout)
    assert [n["timeout"] == 0 for n in desktop.history()] == [False, True]
