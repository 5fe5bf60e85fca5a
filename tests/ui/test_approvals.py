"""The Approvals tab with real widgets: the queue per principal and across principals, history, in-person decisions."""
from __future__ import annotations

import mailbox
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QAbstractItemModelTester

from assistant.approvals import drafts
from assistant.connectors.local import LocalConnector
from assistant.core.errors import PermanentError
from assistant.core.timezones import now_utc
from assistant.domain import Account, ApprovalPolicy, Principal
from assistant.store import Store
from assistant.ui.approvals.view import ApprovalQueueModel, ApprovalsView, QueueRow, waited_text
from assistant.ui.workers import TaskManager


@pytest.fixture
def two_waiting(tmp_path):
    store = Store(tmp_path / "approvals-ws")
    ids = {}
    for name, zone in (("Ann", "America/New_York"), ("Kenji", "Asia/Tokyo")):
        maildir = tmp_path / f"{name}-mail"
        mailbox.Maildir(maildir, create=True)
        p = store.add_principal(Principal(name, zone, [f"{name.lower()}@example.com"]))
        a = store.add_account(Account(p.id, "local", f"{name.lower()}@example.com", settings={"maildir": str(maildir)}))
        d = drafts.save_draft(store, p.id, a.id, to="bob@example.org", subject=f"For {name}", body_text="Hello")
        drafts.submit_draft(store, p.id, d.id)
        ids[name] = (p.id, d.id)
    store.close()
    return tmp_path / "approvals-ws", ids


@pytest.fixture
def view(qtbot, two_waiting):
    ws, ids = two_waiting
    tasks = TaskManager(ws)
    widget = ApprovalsView(tasks)
    qtbot.addWidget(widget)
    widget.show()
    QAbstractItemModelTester(widget.model, QAbstractItemModelTester.FailureReportingMode.Warning)
    QAbstractItemModelTester(widget.history_model, QAbstractItemModelTester.FailureReportingMode.Warning)
    yield widget, ids, ws
    qtbot.waitUntil(lambda: not tasks.busy)
    tasks.shutdown()


def rows(model):
    return [[model.index(r, c).data() for c in (0, 1, 3)] for r in range(model.rowCount())]


def test_queue_per_principal_and_across_principals(qtbot, view):
    widget, ids, _ = view
    with qtbot.waitSignal(widget.queue_loaded):
        widget.set_principal_id(ids["Ann"][0])
    assert rows(widget.model) == [["Ann", "For Ann", "awaiting approval"]]
    with qtbot.waitSignal(widget.queue_loaded):
        widget.all_principals.setChecked(True)
    assert sorted(rows(widget.model)) == [["Ann", "For Ann", "awaiting approval"],
                                          ["Kenji", "For Kenji", "awaiting approval"]]
    assert widget.model.index(0, 4).data() == "0 min"
    assert "2 waiting for principals — all principals" == widget.summary.text()


def test_history_and_in_person_approval(qtbot, view):
    widget, ids, ws = view
    with qtbot.waitSignal(widget.queue_loaded):
        widget.set_principal_id(ids["Kenji"][0])
    assert not widget.approve_button.isEnabled()
    with qtbot.waitSignal(widget.history_loaded):
        widget.table.selectRow(0)
    actions = [widget.history_model.index(r, 2).data() for r in range(widget.history_model.rowCount())]
    assert actions == ["draft created", "approval requested", "approval request queued"]
    assert widget.history_model.index(0, 0).data().endswith("JST")
    assert widget.approve_button.isEnabled()

    widget.reject_button.click()  # no comment yet: nothing recorded, the user is told why
    assert "comment" in widget.status.text()
    box = approve_in_person(qtbot, widget)  # it sends: what will go out is shown first, and asked once
    box.cancel_button.click()
    qtbot.waitUntil(lambda: not widget.tasks.busy)
    assert rows(widget.model) == [["Kenji", "For Kenji", "awaiting approval"]]
    box = approve_in_person(qtbot, widget)
    with qtbot.waitSignal(widget.decision_recorded), qtbot.waitSignal(widget.queue_loaded):
        box.send_button.click()
    assert rows(widget.model) == []
    store = Store(ws)
    try:
        d = drafts.get_draft(store, *ids["Kenji"])
        assert d.state == "sending"
    finally:
        store.close()


def approve_in_person(qtbot, widget):
    widget.approve_button.click()
    qtbot.waitUntil(lambda: widget.confirm_box is not None and widget.confirm_box.isVisible())
    return widget.confirm_box


def test_approved_in_person_shows_what_will_be_sent_and_asks_once(qtbot, view):
    widget, ids, ws = view
    with qtbot.waitSignal(widget.queue_loaded):
        widget.set_principal_id(ids["Ann"][0])
    with qtbot.waitSignal(widget.preview_loaded):
        widget.table.selectRow(0)
    box = approve_in_person(qtbot, widget)
    assert box.windowTitle() == "Approved in person — Ann"
    assert box.headline.text() == "<b>Send “For Ann” for Ann?</b>"
    assert box.plan.text() == ("Ann approved version 1 in person. It goes to 1 recipient now, after a 10-second "
                               "undo window.")
    shown = box.preview.toPlainText()  # the message itself, as it will go out
    assert "From\nAnn <ann@example.com>" in shown and "To\nbob@example.org" in shown
    assert "Subject\nFor Ann\n\n\nHello\n" in shown
    store = Store(ws)
    try:
        assert drafts.get_draft(store, *ids["Ann"]).state == "awaiting-approval"  # nothing until it is confirmed
    finally:
        store.close()
    with qtbot.waitSignal(widget.decision_recorded):
        box.send_button.click()
    qtbot.waitUntil(lambda: not widget.tasks.busy)
    store = Store(ws)
    try:
        assert drafts.get_draft(store, *ids["Ann"]).state == "sending"
    finally:
        store.close()


def test_a_draft_changed_after_it_was_shown_is_not_approved_blind(qtbot, view):
    widget, ids, ws = view
    with qtbot.waitSignal(widget.queue_loaded):
        widget.set_principal_id(ids["Ann"][0])
    widget.table.selectRow(0)
    box = approve_in_person(qtbot, widget)
    store = Store(ws)
    try:  # edited elsewhere (the CLI, another window) while the question is open
        drafts.save_draft(store, ids["Ann"][0], None, to="bob@example.org", subject="For Ann", body_text="Changed",
                          draft_id=ids["Ann"][1])
        drafts.submit_draft(store, *ids["Ann"])
    finally:
        store.close()
    box.send_button.click()
    qtbot.waitUntil(lambda: "changed after you looked" in widget.status.text())
    qtbot.waitUntil(lambda: not widget.tasks.busy)
    store = Store(ws)
    try:
        assert drafts.get_draft(store, *ids["Ann"]).state == "awaiting-approval"
    finally:
        store.close()


def test_the_preview_shows_the_message_in_full_the_comment_and_the_changes_since_the_principal_saw_it(
        qtbot, tmp_path):
    ws = tmp_path / "ws"
    store = Store(ws)
    maildir = tmp_path / "ann-mail"
    mailbox.Maildir(maildir, create=True)
    contract = tmp_path / "contract.pdf"
    contract.write_bytes(b"%PDF-1.4")
    ann = store.add_principal(Principal("Ann", "America/New_York", ["ann@example.com"],
                                        approval_policy=ApprovalPolicy.ALWAYS))
    account = store.add_account(Account(ann.id, "local", "ann@example.com", settings={"maildir": str(maildir)}))
    fields = dict(to="Bob Stone <bob@example.org>, Dee <dee@example.org>", cc="Carol <carol@example.org>",
                  subject="Lease", attachments=[str(contract)])
    d = drafts.save_draft(store, ann.id, account.id, body_text="Dear Bob,\nWe accept.\nAnn", **fields)
    drafts.submit_draft(store, ann.id, d.id)
    from assistant.approvals import lifecycle

    lifecycle.approve_in_person(store, ann.id, d.id, decision="reject", comment="too blunt")
    store.close()

    tasks = TaskManager(ws)
    widget = ApprovalsView(tasks)
    qtbot.addWidget(widget)
    widget.show()
    try:
        with qtbot.waitSignal(widget.queue_loaded):
            widget.set_principal_id(ann.id)
        with qtbot.waitSignal(widget.preview_loaded):
            widget.table.selectRow(0)
        text = widget.preview.toPlainText()
        for part in ("From\nAnn <ann@example.com>", "To\nBob Stone <bob@example.org>, Dee <dee@example.org>",
                     "Cc\nCarol <carol@example.org>", "Subject\nLease", "Attachments\ncontract.pdf",
                     "Dear Bob,\nWe accept.\nAnn", "Ann’s comment (rejecting version 1): “too blunt”"):
            assert part in text
        assert widget.revise_button.isEnabled() and not widget.approve_button.isEnabled()
        with qtbot.waitSignal(widget.open_draft) as opened:
            widget.revise_button.click()
        assert opened.args == [ann.id, d.id]

        store = Store(ws)  # revised and asked again: the principal is shown version 2
        drafts.save_draft(store, ann.id, account.id, body_text="Dear Bob,\nWe are glad to accept.\nAnn",
                          draft_id=d.id, **fields)
        drafts.submit_draft(store, ann.id, d.id)
        store.close()
        widget.reload()
        qtbot.waitUntil(lambda: "version 2" in widget.preview.toPlainText(), timeout=5000)
        text = widget.preview.toPlainText()
        assert "Changed since version 1, the one Ann last saw (this is version 2)" in text
        assert "-We accept." in text and "+We are glad to accept." in text
        assert "“too blunt”" in text  # the reason they gave stays beside the new version
        assert not widget.revise_button.isEnabled() and widget.approve_button.isEnabled()
    finally:
        qtbot.waitUntil(lambda: not tasks.busy)
        tasks.shutdown()


def test_waiting_longer_than_usual_is_marked(qtbot):
    model = ApprovalQueueModel()
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)
    now = now_utc()
    row = QueueRow(1, "Ann", "#ff0000", "America/New_York", 7, "Late one", "bob@example.org", "awaiting-approval",
                   1, ["email"], "", now - timedelta(hours=5), overdue_after_s=4 * 3600)
    model.set_rows([row], now)
    assert model.index(0, 4).data() == "5 h 00 min"
    assert model.index(0, 4).data(Qt.ItemDataRole.ForegroundRole) is not None
    assert "longer than their usual answer time" in model.index(0, 4).data(Qt.ItemDataRole.ToolTipRole)
    assert waited_text(3 * 86400 + 7200) == "3 d 2 h"


def test_a_decision_arriving_is_notified_once(qtbot, view):
    widget, ids, ws = view
    qtbot.waitUntil(lambda: widget._last_audit_id is not None)
    store = Store(ws)
    try:
        from assistant.approvals import lifecycle

        lifecycle.approve_in_person(store, *ids["Ann"], decision="reject", comment="too formal")
    finally:
        store.close()
    with qtbot.waitSignal(widget.notified) as blocker:
        widget.check_notifications()
    assert blocker.args == ["Ann: rejected: For Ann — “too formal”"]
    with qtbot.assertNotEmitted(widget.notified):
        widget.check_notifications()
        qtbot.waitUntil(lambda: not widget.tasks.busy)


def test_a_draft_waiting_longer_than_usual_is_notified_once(two_waiting):
    from assistant.ui.approvals.view import load_notifications

    ws, ids = two_waiting
    store = Store(ws)
    try:
        later = now_utc() + timedelta(hours=5)  # the default usual answer time is 4 hours
        last, lines, overdue = load_notifications(store, None, set(), later)
        assert sorted(n.text for n in lines) == ["Ann has not answered about “For Ann” for 5 h 00 min",
                                 "Kenji has not answered about “For Kenji” for 5 h 00 min"]
        assert {(n.principal_name, n.principal_timezone) for n in lines} == {
            ("Ann", "America/New_York"), ("Kenji", "Asia/Tokyo")}
        assert load_notifications(store, last, overdue, later)[1] == []
        assert load_notifications(store, None, set(), now_utc())[1] == []
    finally:
        store.close()


def test_compose_buttons_ask_approval_and_send_later_in_the_recipients_zone(qtbot, tmp_path):
    from assistant.domain import ApprovalPolicy
    from assistant.ui.approvals.view import ComposeApprovalButtons

    store = Store(tmp_path / "compose-ws")
    maildir = tmp_path / "mail"
    mailbox.Maildir(maildir, create=True)
    ann = store.add_principal(Principal("Ann", "America/New_York", ["ann@example.com"],
                                        approval_policy=ApprovalPolicy.NEVER))
    store.add_principal(Principal("Kenji", "Asia/Tokyo", ["kenji@example.jp"]))
    a = store.add_account(Account(ann.id, "local", "ann@example.com", settings={"maildir": str(maildir)}))
    d = drafts.save_draft(store, ann.id, a.id, to="kenji@example.jp", subject="Call", body_text="Tomorrow?")
    tasks = TaskManager(tmp_path / "compose-ws")
    ref = {"value": None}
    buttons = ComposeApprovalButtons(tasks, lambda: ref["value"])
    saved_first = ComposeApprovalButtons(
        tasks, lambda: ref["value"],
        before_submit=lambda: tasks.run(lambda _store: (ann.id, d.id), on_done=lambda ids: ref.update(value=ids)))
    qtbot.addWidget(saved_first)
    qtbot.addWidget(buttons)
    try:
        with qtbot.waitSignal(buttons.failed) as blocker:
            buttons.ask_button.click()
        assert "not been saved" in blocker.args[0]
        with qtbot.waitSignal(saved_first.failed) as blocker:  # a state error, proving the save landed first
            saved_first.submit(("the day after", "principal"))
        assert "cannot read the time" in blocker.args[0]
        assert ref["value"] == (ann.id, d.id)
        dialog = buttons.on_send_later()
        dialog.when.setText("tomorrow 9:00")
        dialog.zone.setCurrentIndex(dialog.zone.findData("recipient"))
        with qtbot.waitSignal(buttons.submitted) as blocker:
            dialog.accept()
        assert blocker.args == ["scheduled"]
        saved = drafts.get_draft(store, ann.id, d.id)
        from assistant.core.timezones import in_zone

        local = in_zone(saved.send_at_utc, "Asia/Tokyo")
        assert (local.hour, local.minute) == (9, 0) and saved.send_where == "app"
    finally:
        qtbot.waitUntil(lambda: not tasks.busy)
        tasks.shutdown()
        store.close()


class RefusingOnce(LocalConnector):
    """The local connector, but the provider refuses the first send for good (as Gmail's 400 does)."""

    refused = 0

    def apply(self, entry):
        if entry.op == "send" and not RefusingOnce.refused:
            RefusingOnce.refused += 1
            raise PermanentError("550 5.1.1 mailbox unavailable")
        return super().apply(entry)


def test_a_refused_send_shows_as_failed_with_its_reason_and_retry_sends_it(qtbot, tmp_path):
    """Issue 15, point 1, in the window: the failed draft is in the queue, its reason on show, and Retry send queues
    the same entry again; the next sync sends it once."""
    from assistant.sync.engine import sync_account

    ws = tmp_path / "ws"
    store = Store(ws)
    maildir = tmp_path / "ann-mail"
    mailbox.Maildir(maildir, create=True)
    ann = store.add_principal(Principal("Ann", "America/New_York", ["ann@example.com"],
                                        approval_policy=ApprovalPolicy.NEVER))
    account = store.add_account(Account(ann.id, "local", "ann@example.com", settings={"maildir": str(maildir)}))
    from assistant.store import drafts as sql

    settings = sql.settings(store.scope(ann.id))
    settings.undo_seconds = 0
    sql.save_settings(store.scope(ann.id), settings)
    d = drafts.save_draft(store, ann.id, account.id, to="bob@example.org", subject="Signed lease", body_text="Hi")
    assert drafts.submit_draft(store, ann.id, d.id) == "sending"
    RefusingOnce.refused = 0
    report = sync_account(store, account.id, RefusingOnce(account))
    assert report.failed_now == 1 and drafts.get_draft(store, ann.id, d.id).state == "failed"
    store.close()

    tasks = TaskManager(ws)
    widget = ApprovalsView(tasks)
    qtbot.addWidget(widget)
    widget.show()
    with qtbot.waitSignal(widget.queue_loaded):
        widget.set_principal_id(ann.id)
    assert rows(widget.model) == [["Ann", "Signed lease", "failed"]]
    assert widget.model.index(0, 3).data(Qt.ItemDataRole.ToolTipRole) == "Failed: 550 5.1.1 mailbox unavailable"
    assert not widget.retry_button.isVisible()
    widget.table.selectRow(0)
    assert widget.retry_button.isVisible() and widget.retry_button.isEnabled()
    assert "550 5.1.1 mailbox unavailable" in widget.status.text()
    with qtbot.waitSignal(widget.retried), qtbot.waitSignal(widget.queue_loaded):
        widget.retry_button.click()
    assert rows(widget.model) == []
    qtbot.waitUntil(lambda: not tasks.busy)
    tasks.shutdown()

    store = Store(ws)
    try:
        assert drafts.get_draft(store, ann.id, d.id).state == "sending"
        sync_account(store, account.id, RefusingOnce(account))
        assert drafts.get_draft(store, ann.id, d.id).state == "sent"
        sent = mailbox.Maildir(maildir / ".Sent", create=False)
        assert [m["Subject"] for m in sent] == ["Signed lease"]
    finally:
        store.close()


def test_the_summary_does_not_count_rejected_drafts_as_waiting_for_the_principal():
    """Issue 16, point 9: "6 drafts waiting" counted the rejected ones."""
    from assistant.ui.approvals.view import summary_text

    def row(state):
        return QueueRow(principal_id=1, principal="Ann", colour="#2563eb", zone="UTC", draft_id=1, subject="s", to="",
                        state=state, version=1, channels=[], comment="", submitted_utc=None, overdue_after_s=60)

    rows = [row("awaiting-approval")] * 3 + [row("rejected")] * 2 + [row("failed")]
    assert summary_text(rows, True) == "3 waiting for principals · 2 rejected · 1 failed — all principals"
    assert summary_text(rows[3:5], False) == "2 rejected — this principal"
    assert summary_text([], False) == "Nothing waiting for this principal."
