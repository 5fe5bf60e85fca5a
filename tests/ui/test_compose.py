"""Compose through the real widgets on a small workspace made by the local connector's own sync."""
from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from assistant.domain import Account, Address, ApprovalPolicy, Message, Principal
from assistant.store import Store
from assistant.store import drafts as draft_sql
from assistant.store import mail as mail_store
from assistant.store import snippets as snippet_store
from assistant.store.db import DB_NAME, is_encrypted
from assistant.sync.engine import sync_all
from assistant.ui.mail.compose import ComposeWindow
from tests.ui.conftest import BASE

BOB_MAIL = """From: Bob Stone <bob@client.example>
To: Ann Lee <ann@ann.example>
Cc: Carol Ruiz <carol@client.example>
Subject: Budget for Q3
Date: Mon, 02 Mar 2026 10:00:00 -0500
Message-ID: <budget-1@client.example>
Content-Type: text/plain; charset=utf-8

Could you send the figures by Friday?
"""


def build_workspace(tmp_path: Path, *, policy: ApprovalPolicy = ApprovalPolicy.NEVER) -> tuple[Path, Path, int, int]:
    maildir = tmp_path / "ann-mail"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "new" / "1.bob:2,").write_text(BOB_MAIL)
    ws = tmp_path / "ws"
    store = Store(ws)
    ann = store.add_principal(Principal("Ann Lee", "America/New_York", ["ann@ann.example"],
                                        signature="Ann Lee\nChief Executive", approval_policy=policy))
    store.add_account(Account(ann.id, "local", "ann@ann.example", settings={"maildir": str(maildir)}))
    ken = store.add_principal(Principal("Ken Sato", "Asia/Tokyo", ["ken@ken.example"]))
    ken_account = store.add_account(Account(ken.id, "local", "ken@ken.example"))
    mail_store.upsert_message(store.scope(ken.id), Message(
        principal_id=ken.id, account_id=ken_account.id, remote_id="k1", subject="Private",
        sender=Address("Bobby Secret", "bobby@secret.example"), to=[Address("Ken", "ken@ken.example")],
        date_utc=BASE, message_id_header="<k1@secret.example>", body_text="for Ken only",
    ))
    sync_all(store, ann.id)
    scope = store.scope(ann.id)
    draft_sql.save_settings(scope, draft_sql.ApprovalSettings(ann.id, undo_seconds=0))
    snippet_store.set_reply_signature(scope, "Ann")
    snippet_store.save_snippet(scope, "thanks", "Dear {{first_name}}, thank you. {{principal}}'s office, {{my_name}}")
    store.close()
    return ws, maildir, ann.id, ken.id


def sent_files(maildir: Path) -> list[Path]:
    return [p for sub in ("cur", "new") for p in (maildir / ".Sent" / sub).glob("*") if p.is_file()]


def open_reply(qtbot, window, key: str = "r") -> ComposeWindow:
    window.views.setCurrentIndex(window.INBOX_TAB)
    view = window.inbox.threads
    qtbot.waitUntil(lambda: window.inbox.model.rowCount() == 1)
    view.select_row(0)
    # Keys act where the focus is, in the window in front; offscreen, a closed compose window hands that to nobody.
    window.activateWindow()
    view.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is view)
    with qtbot.wait_signal(window.inbox_actions.compose_opened, timeout=5000) as opened:
        qtbot.keyClicks(view, key)
    compose = opened.args[0]
    qtbot.addWidget(compose)
    return compose


def test_reply_lands_once_in_sent_threaded_with_the_reply_signature(qtbot, tmp_path, make_window):
    ws, maildir, ann_id, _ = build_workspace(tmp_path)
    window = make_window(ws)
    window.select_principal(ann_id)
    compose = open_reply(qtbot, window)
    assert compose.subject_edit.text() == "Re: Budget for Q3"
    assert compose.to_edit.text() == "Bob Stone <bob@client.example>"
    assert compose.cc_edit.text() == ""
    body = compose.body.toPlainText()
    assert "-- \nAnn\n" in body and "Chief Executive" not in body  # the reply signature, not the new one
    assert "> Could you send the figures by Friday?" in body
    compose.body.moveCursor(compose.body.textCursor().MoveOperation.Start)
    qtbot.keyClicks(compose.body, "Figures attached tomorrow.")
    with qtbot.wait_signal(compose.submitted, timeout=5000) as submitted:
        qtbot.mouseClick(compose.send_button, Qt.MouseButton.LeftButton)
    assert submitted.args[1] == "sending"
    qtbot.waitUntil(lambda: not window.tasks.busy)

    # At once, before any sync: the reply is in the principal's Sent folder and in the thread.
    scope = window.store.scope(ann_id)
    sent = next(f for f in mail_store.folders(scope) if f.role == "sent")
    threads = mail_store.threads(scope, folder=sent.remote_id)
    assert len(threads) == 1 and threads[0].message_count == 2
    # … and the thread shows that something waits for the sync.
    from assistant.ui.mail.inbox import PENDING_MARK, ThreadListModel

    qtbot.waitUntil(lambda: bool(window.inbox_actions.pending))
    assert window.inbox.model.index(0, ThreadListModel.MARKERS).data().startswith(PENDING_MARK)

    with qtbot.wait_signal(window.sync_finished, timeout=20000):
        window.on_sync_now()
    qtbot.waitUntil(lambda: not window.tasks.busy and not window.inbox_actions.pending)
    assert not window.inbox.model.index(0, ThreadListModel.MARKERS).data().startswith(PENDING_MARK)
    files = sent_files(maildir)
    assert len(files) == 1
    msg = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert msg["In-Reply-To"] == "<budget-1@client.example>"
    assert "<budget-1@client.example>" in msg["References"]
    assert msg["Subject"] == "Re: Budget for Q3"
    assert "ann@ann.example" in msg["From"]
    text = msg.get_body(("plain",)).get_content()
    assert text.startswith("Figures attached tomorrow.") and "-- \nAnn\n" in text


def test_reply_all_keeps_cc_without_the_principal(qtbot, tmp_path, make_window):
    ws, _maildir, ann_id, _ = build_workspace(tmp_path)
    window = make_window(ws)
    window.select_principal(ann_id)
    compose = open_reply(qtbot, window, "a")
    assert compose.to_edit.text() == "Bob Stone <bob@client.example>"
    assert compose.cc_edit.text() == "Carol Ruiz <carol@client.example>"
    compose.close()


def test_new_message_uses_the_principals_signature_and_snippets_expand(qtbot, tmp_path, make_window):
    ws, _maildir, ann_id, _ = build_workspace(tmp_path)
    window = make_window(ws)
    window.select_principal(ann_id)
    with qtbot.wait_signal(window.inbox_actions.compose_opened, timeout=5000) as opened:
        window.message_actions["new"].trigger()
    compose = opened.args[0]
    qtbot.addWidget(compose)
    assert compose.body.toPlainText() == "\n\n-- \nAnn Lee\nChief Executive\n"
    qtbot.waitUntil(lambda: compose.snippet_box.count() == 2)
    compose.my_name = "Sam"
    compose.to_edit.setText("Bob Stone <bob@client.example>")
    compose.snippet_box.activated.emit(1)
    assert compose.body.toPlainText().startswith("Dear Bob, thank you. Ann Lee's office, Sam")
    compose._finished = True  # nothing to keep
    compose.close()


def test_autosave_survives_closing_and_the_reply_reopens_with_it(qtbot, tmp_path, make_window):
    ws, _maildir, ann_id, _ = build_workspace(tmp_path)
    window = make_window(ws)
    window.select_principal(ann_id)
    compose = open_reply(qtbot, window)
    compose.body.moveCursor(compose.body.textCursor().MoveOperation.Start)
    qtbot.keyClicks(compose.body, "Half-written thought")
    compose.close()  # without sending
    qtbot.waitUntil(lambda: not window.tasks.busy)
    store = Store(ws)
    try:
        from assistant.approvals.drafts import list_drafts

        drafts = list_drafts(store, ann_id)
        assert len(drafts) == 1
        assert drafts[0].body_text.startswith("Half-written thought")
        assert drafts[0].in_reply_to == "<budget-1@client.example>"
    finally:
        store.close()

    again = open_reply(qtbot, window)
    assert again.draft_id == drafts[0].id
    assert again.body.toPlainText().startswith("Half-written thought")
    assert not again.restored_bar.isHidden()
    qtbot.mouseClick(again.start_over_button, Qt.MouseButton.LeftButton)
    assert not again.body.toPlainText().startswith("Half-written thought")
    again._finished = True
    again.close()


def test_autosave_timer_saves_while_typing(qtbot, tmp_path, make_window):
    ws, _maildir, ann_id, _ = build_workspace(tmp_path)
    window = make_window(ws)
    window.select_principal(ann_id)
    compose = open_reply(qtbot, window)
    compose.body.insertPlainText("typed before a crash")
    with qtbot.wait_signal(compose.draft_saved, timeout=5000):
        compose.on_autosave_due()  # what the timer calls every few seconds
    assert compose.draft_id is not None
    compose._finished = True
    compose.close()


# The completion popup asks the window system to raise it and grab the keyboard; offscreen has neither.
@pytest.mark.qt_log_ignore("This plugin does not support raise", "This plugin does not support grabbing",
                          "This plugin does not support propagateSizeHints")
def test_completion_offers_only_this_principals_correspondents(qtbot, tmp_path, make_window):
    ws, _maildir, ann_id, ken_id = build_workspace(tmp_path)
    window = make_window(ws)
    window.select_principal(ann_id)
    with qtbot.wait_signal(window.inbox_actions.compose_opened, timeout=5000) as opened:
        window.message_actions["new"].trigger()
    compose = opened.args[0]
    qtbot.addWidget(compose)
    compose.to_edit.setFocus()
    qtbot.keyClicks(compose.to_edit, "bo")
    qtbot.waitUntil(lambda: compose.to_edit.suggestions.rowCount() > 0)
    offered = compose.to_edit.suggestions.stringList()
    assert "Bob Stone <bob@client.example>" in offered
    assert not any("bobby@secret.example" in s for s in offered)
    compose.to_edit.insert_completion("Bob Stone <bob@client.example>")
    assert compose.to_edit.text() == "Bob Stone <bob@client.example>, "
    # Ken's own window does see his correspondent.
    assert any("bobby@secret.example" in str(a) for a in mail_store.correspondents(window.store.scope(ken_id), "bo"))
    compose._finished = True
    compose.close()


def test_send_without_recipient_is_refused_in_one_line(qtbot, tmp_path, make_window):
    ws, _maildir, ann_id, _ = build_workspace(tmp_path)
    window = make_window(ws)
    window.select_principal(ann_id)
    with qtbot.wait_signal(window.inbox_actions.compose_opened, timeout=5000) as opened:
        window.message_actions["new"].trigger()
    compose = opened.args[0]
    qtbot.addWidget(compose)
    compose.to_edit.setText("not an address")
    qtbot.mouseClick(compose.send_button, Qt.MouseButton.LeftButton)
    assert "not an e-mail address" in compose.last_error
    compose._finished = True
    compose.close()


@pytest.mark.parametrize("subject, expected", [("Hello", "Fwd: Hello"), ("Fwd: Hello", "Fwd: Hello")])
def test_forward_subject(subject, expected):
    from assistant.ui.mail.compose import forward_subject

    assert forward_subject(subject) == expected


def test_forward_carries_the_attachments_under_safe_names(qtbot, tmp_path, make_window):
    from tests.ui.test_inbox_actions import EVIL_ATTACHMENT

    ws, maildir, ann_id, _ = build_workspace(tmp_path)
    (maildir / "new" / "1.bob:2,").unlink()  # the contract is then the one message in the inbox
    (maildir / "new" / "2.contract:2,").write_text(EVIL_ATTACHMENT)
    store = Store(ws)
    sync_all(store, ann_id)
    store.close()
    window = make_window(ws)
    window.select_principal(ann_id)
    compose = open_reply(qtbot, window, "f")
    assert compose.subject_edit.text() == "Fwd: Contract"
    assert compose.to_edit.text() == ""
    assert "---------- Forwarded message ----------" in compose.body.toPlainText()
    assert len(compose.attachments) == 1
    forwarded = compose.attachments[0]
    assert Path(forwarded).name == "passwd"
    # kept inside the (encrypted) database, not as a file a copy of the workspace folder would show
    assert is_encrypted(ws / DB_NAME)
    assert not any(b"signed contract" in f.read_bytes() for f in ws.rglob("*") if f.is_file())
    compose.to_edit.setText("dana@elsewhere.example")
    with qtbot.wait_signal(compose.submitted, timeout=5000):
        qtbot.mouseClick(compose.send_button, Qt.MouseButton.LeftButton)
    with qtbot.wait_signal(window.sync_finished, timeout=20000):
        window.on_sync_now()
    qtbot.waitUntil(lambda: not window.tasks.busy)
    files = sent_files(maildir)
    assert len(files) == 1
    msg = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert [part.get_filename() for part in msg.iter_attachments()] == ["passwd"]
    assert [part.get_content() for part in msg.iter_attachments()] == [b"signed contract"]


def test_a_new_message_offers_the_unsent_one_saved_before(qtbot, tmp_path, make_window):
    ws, maildir, ann_id, _ = build_workspace(tmp_path)
    window = make_window(ws)
    window.select_principal(ann_id)

    def new_message() -> ComposeWindow:
        with qtbot.wait_signal(window.inbox_actions.compose_opened, timeout=5000) as opened:
            window.message_actions["new"].trigger()
        qtbot.addWidget(opened.args[0])
        return opened.args[0]

    first = new_message()
    assert first.restored_bar.isHidden()
    first.to_edit.setText("dana@elsewhere.example")
    first.subject_edit.setText("Keys for Friday")
    first.body.moveCursor(first.body.textCursor().MoveOperation.Start)
    qtbot.keyClicks(first.body, "The keys are with the porter.")
    first.close()  # the app "crashes" here as far as the window knows: the close-save is all there is
    qtbot.waitUntil(lambda: not window.tasks.busy)

    second = new_message()
    assert not second.restored_bar.isHidden()
    assert "Keys for Friday" in second.restored_label.text()
    assert second.subject_edit.text() == ""  # nothing replaced without asking
    qtbot.mouseClick(second.open_saved_button, Qt.MouseButton.LeftButton)
    assert second.subject_edit.text() == "Keys for Friday"
    assert second.body.toPlainText().startswith("The keys are with the porter.")
    with qtbot.wait_signal(second.submitted, timeout=5000):
        qtbot.mouseClick(second.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.tasks.busy)

    third = new_message()
    assert third.restored_bar.isHidden()  # sent: nothing left to offer
    third._finished = True
    third.close()
    from assistant.approvals.drafts import list_drafts

    assert [d.state for d in list_drafts(window.store, ann_id)] == ["sending"]
