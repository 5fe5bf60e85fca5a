"""File → Offboard principal… through the real window: the dialog names the principal and asks once, the run goes on
the worker with progress, the receipt is shown, the principal is gone and the other one is untouched."""
from __future__ import annotations

import json

from assistant.offboarding.export import workspace_counts
from assistant.store import Store
from tests.ui.test_compose import build_workspace


def test_offboard_from_the_file_menu_names_the_principal_and_shows_the_receipt(qtbot, tmp_path, make_window):
    ws, _maildir, ann_id, ken_id = build_workspace(tmp_path)
    store = Store(ws)
    ann_before = workspace_counts(store, ann_id)
    store.close()
    window = make_window(ws)
    window.select_principal(ken_id)
    assert window.offboarding.action in window.file_menu.actions()
    window.offboarding.action.trigger()
    dialog = window.offboarding.dialog
    assert dialog is not None and dialog.isVisible()
    assert "Ken Sato" in dialog.windowTitle()
    assert dialog.confirm_button.text() == "Offboard Ken Sato"
    assert dialog.cancel_button.isDefault()  # Enter does not delete a principal
    assert "cannot be undone" in dialog.explanation.text()
    export = tmp_path / "ken-export"
    dialog.folder.setText(str(export))
    progress: list[tuple[str, int, int]] = []
    dialog.progressed.connect(lambda *args: progress.append(args))
    with qtbot.wait_signal(window.offboarding.finished, timeout=20000) as finished:
        dialog.confirm_button.click()
    receipt = finished.args[0]
    assert receipt.startswith("Offboarding receipt for Ken Sato (ken@ken.example)")
    assert dialog.receipt.toPlainText() == receipt and dialog.receipt.isVisible()
    assert [p[0] for p in progress][-1] == "Done" and any(p[0] == "Verifying the export" for p in progress)
    assert json.loads((export / "manifest.json").read_text())["counts"]["messages"] == 1
    qtbot.waitUntil(lambda: not window.tasks.busy)
    qtbot.waitUntil(lambda: [p.name for p in window.principals.principals()] == ["Ann Lee"], timeout=5000)
    assert window.current_principal.name == "Ann Lee"
    store = Store(ws)
    try:
        assert [p.name for p in store.principals()] == ["Ann Lee"]
        assert workspace_counts(store, ann_id) == ann_before
    finally:
        store.close()


def test_cancel_offboards_nothing(qtbot, tmp_path, make_window):
    ws, _maildir, _ann_id, ken_id = build_workspace(tmp_path)
    window = make_window(ws)
    window.select_principal(ken_id)
    dialog = window.offboarding.open_dialog()
    dialog.folder.setText(str(tmp_path / "nothing"))
    with qtbot.assert_not_emitted(window.offboarding.finished, wait=300):
        dialog.cancel_button.click()
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert not (tmp_path / "nothing").exists()
    assert "Ken Sato" in [p.name for p in window.principals.principals()]


def test_cancel_while_exporting_stops_before_anything_is_revoked_or_deleted(qtbot, tmp_path, make_window):
    import threading

    ws, _maildir, _ann_id, ken_id = build_workspace(tmp_path)
    window = make_window(ws)
    window.select_principal(ken_id)
    dialog = window.offboarding.open_dialog()
    dialog.folder.setText(str(tmp_path / "ken-export"))
    gate = threading.Event()
    window.tasks.run(lambda _store: gate.wait(10))  # the worker is busy: the offboarding waits its turn
    dialog.confirm_button.click()
    assert dialog.cancel_button.isEnabled()
    with qtbot.wait_signal(window.offboarding.failed, timeout=10000) as failed:
        dialog.cancel_button.click()
        gate.set()
    assert "nothing was revoked or deleted" in failed.args[0]
    assert "Stopped" in dialog.status.text() and dialog.isVisible()
    qtbot.waitUntil(lambda: not window.tasks.busy)
    store = Store(ws)
    try:
        assert [p.name for p in store.principals()] == ["Ann Lee", "Ken Sato"]
    finally:
        store.close()
