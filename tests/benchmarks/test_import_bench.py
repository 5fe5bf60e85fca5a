"""Section 1 on a tiny workload with more principals than it times: every message ends in the workspace and (when
notmuch is installed) in notmuch's database, the rows say how the untimed rest went, and a later run can reuse it."""
import json
import shutil

from benchmarks import generate, import_bench
from benchmarks import run as run_module


def test_the_import_section_builds_everything_the_later_sections_read(tmp_path, monkeypatch):
    root = tmp_path / "workload"
    manifest = generate.generate(out=root, principals=import_bench.TIMED_PRINCIPALS + 1, messages=40, quiet=True)
    monkeypatch.setenv("BENCH_RUN_DIR", str(tmp_path / "run"))
    ctx = run_module.build_context(True, manifest, root)

    rows = import_bench.run(ctx)

    by_figure = {r.figure: r for r in rows}
    timed = by_figure[f"import time, {import_bench.TIMED_PRINCIPALS} maildirs"]
    assert "the other 1 built side by side in" in timed.note and "assistant import done after" in timed.note
    assert ctx.workspace is not None
    counts = message_counts(ctx.workspace)
    assert counts == {p["name"]: p["messages"] for p in manifest["principals"]}
    if shutil.which("notmuch"):
        assert import_bench.notmuch_count(ctx.notmuch_config, "*") == manifest["total_messages"]
        assert set(ctx.notmuch_folders) == set(counts)

    again = run_module.build_context(True, manifest, root)
    assert import_bench.reuse(again) and again.workspace == ctx.workspace
    assert json.loads((tmp_path / "run" / "complete.json").read_text())["workspace"] == str(ctx.workspace)


def message_counts(workspace):
    from assistant.store import Store
    from assistant.store import mail as mail_store

    store = Store(workspace, create=False)
    try:
        return {p.name: mail_store.message_count(store.scope(p.id)) for p in store.principals()}
    finally:
        store.close()
