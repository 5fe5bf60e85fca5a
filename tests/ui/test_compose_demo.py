"""A reply on the demo workspace, as a new user would send it."""
from __future__ import annotations

import email
import email.policy
from pathlib import Path

from PySide6.QtCore import Qt

from assistant.demo.build import build_demo
from assistant.store import Store
from assistant.store import drafts as draft_sql


def sent_files(maildir: Path) -> set[Path]:
    return {p for sub in ("cur", "new") for p in (maildir / ".Sent" / sub).glob("*") if p.is_file()}


def test_reply_on_the_demo_goes_out_once_threaded_with_the_signature(qtbot, tmp_path, make_window):
    ws = tmp_path / "demo"
    build_demo(ws)
    store = Store(ws)
    adaeze = next(p for p in store.principals() if p.name == "Adaeze Okafor")  # approval policy: none needed
    maildir = Path(store.accounts(adaeze.id)[0].settings["maildir"])
    draft_sql.save_settings(store.scope(adaeze.id), draft_sql.ApprovalSettings(adaeze.id, undo_seconds=0))
    store.close()
    before = sent_files(maildir)

    window = make_window(ws)
    window.select_principal(adaeze.id)
    inbox = window.inbox
    qtbot.waitUntil(lambda: inbox.model.rowCount() > 0)
    inbox.threads.select_row(0)
    qtbot.waitUntil(lambda: inbox.reader._message is not None)
    original = inbox.reader._message
    inbox.reader.browser.setFocus()
    with qtbot.wait_signal(window.inbox_actions.compose_opened, timeout=5000) as opened:
        qtbot.keyClicks(inbox.reader.browser, "r")  # from the reader too
    compose = opened.args[0]
    qtbot.addWidget(compose)
    signature_line = adaeze.signature.splitlines()[0]
    assert signature_line in compose.body.toPlainText()
    compose.body.moveCursor(compose.body.textCursor().MoveOperation.Start)
    qtbot.keyClicks(compose.body, "Thank you, received.")
    with qtbot.wait_signal(compose.submitted, timeout=5000) as submitted:
        qtbot.mouseClick(compose.send_button, Qt.MouseButton.LeftButton)
    assert submitted.args[1] == "sending"
    with qtbot.wait_signal(window.sync_finished, timeout=60000):
        window.on_sync_now()
    qtbot.waitUntil(lambda: not window.tasks.busy)

    new = sent_files(maildir) - before
    assert len(new) == 1
    msg = email.message_from_bytes(new.pop().read_bytes(), policy=email.policy.default)
    assert msg["In-Reply-To"] == original.message_id_header
    assert original.message_id_header in msg["References"]
    text = msg.get_body(("plain",)).get_content()
    assert text.startswith("Thank you, received.") and signature_line in text
