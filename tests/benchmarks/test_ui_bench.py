"""The UI benchmark's probe, on a tiny workspace: it starts the real app, sees the inbox painted, and its heartbeat sees
a stall of known length on the GUI thread while a sync runs."""
from __future__ import annotations

import sys
from email.message import EmailMessage
from pathlib import Path

from benchmarks import ui_bench
from benchmarks.common import percentile


def write_maildir(root: Path, count: int) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for n in range(count):
        msg = EmailMessage()
        msg["From"] = f"Sender {n} <s{n}@example.org>"
        msg["To"] = "syncing@example.com"
        msg["Subject"] = f"Message {n}"
        msg["Date"] = "Mon, 02 Mar 2026 15:00:00 +0000"
        msg["Message-ID"] = f"<p{n}@example.org>"
        msg.set_content(f"Body {n}\n")
        (root / "cur" / f"{1_700_000_000 + n}.M{n}.host:2,").write_bytes(msg.as_bytes())
    return root


def test_the_heartbeat_sees_a_200_ms_block_during_a_sync(tmp_path):
    maildir = write_maildir(tmp_path / "Maildir", 12)
    workspace = tmp_path / "workspace"
    principal_id = ui_bench.make_sync_workspace(workspace, maildir)
    _launched, quiet = ui_bench.run_probe(sys.executable, ["stall", str(workspace), "--switch-to", str(principal_id)],
                                          timeout_s=120)
    assert quiet["added"] == 12 and quiet["sync_errors"] == []
    assert quiet["gaps_ms"] and quiet["first_paint"] > quiet["started"]

    again = tmp_path / "workspace-again"
    principal_id = ui_bench.make_sync_workspace(again, maildir)
    _launched, blocked = ui_bench.run_probe(sys.executable, ["stall", str(again), "--switch-to", str(principal_id),
                                                             "--block-ms", "200"], timeout_s=120)
    assert blocked["added"] == 12
    assert max(blocked["gaps_ms"]) >= 200
    assert percentile(blocked["gaps_ms"], 50) < 200  # one stall, not a slow clock


def test_open_reports_the_first_paint_the_switch_and_the_peak_memory(tmp_path):
    from assistant.domain import Principal
    from assistant.store import Store

    maildir = write_maildir(tmp_path / "Maildir", 5)
    workspace = tmp_path / "workspace"
    ui_bench.make_sync_workspace(workspace, maildir)
    store = Store(workspace)
    try:
        from assistant.importing.path import import_path

        for name in ("Quiet Principal", "Syncing Principal"):
            import_path(store, store.principal_by_name(name).id, maildir)
        third = store.add_principal(Principal("Third", "Asia/Tokyo", ["third@example.com"]))
        import_path(store, third.id, maildir)
    finally:
        store.close()
    measured = ui_bench.measure_open(sys.executable, workspace, launches=1)
    run = measured["runs"][0]
    assert measured["first_principal"][1] == "Quiet Principal"
    assert measured["largest_other"][2] == 5
    assert 0 < run["interpreter_start_s"] < run["start_to_event_loop_s"] < run["launch_to_first_paint_s"]
    assert run["switch_to_first_page_s"] is not None and run["switch_to_first_page_s"] > 0
    assert run["peak_rss_mb"] > 30 and run["rows_loaded"] == 5
