"""Section 1 on a tiny workload with more principals than it times: every message ends in the workspace and (when
notmuch is installed) in notmuch's database, the rows say how the untimed rest went, and a later run can reuse it."""
import json
import shutil
from pathlib import Path

from benchmarks import generate, import_bench, search_bench
from benchmarks import run as run_module


def test_the_import_section_builds_everything_the_later_sections_read(tmp_path, monkeypatch):
    root = tmp_path / "workload"
    manifest = generate.generate(out=root, principals=import_bench.TIMED_PRINCIPALS + 1, messages=40, quiet=True)
    monkeypatch.setenv("BENCH_RUN_DIR", str(tmp_path / "run"))
    ctx = run_module.build_context(True, manifest, root)
    ctx.background_ok = True  # as run.py has it: notmuch's build may still be going on when the section returns
    imports = []  # (principal, niceness) of each `assistant import`
    real_assistant = import_bench._assistant

    def recording(ctx, workspace, *args, niceness=0):
        imports.append((args[args.index("--principal") + 1], niceness))
        return real_assistant(ctx, workspace, *args, niceness=niceness)

    monkeypatch.setattr(import_bench, "_assistant", recording)

    rows = import_bench.run(ctx)
    ctx.settle()

    by_figure = {r.figure: r for r in rows}
    timed = by_figure[f"import time, {import_bench.TIMED_PRINCIPALS} maildirs"]
    assert "the other 1 built side by side" in timed.note and "assistant import done after" in timed.note
    assert not ctx.pending
    assert ctx.workspace is not None
    counts = message_counts(ctx.workspace)
    assert counts == {p["name"]: p["messages"] for p in manifest["principals"]}
    if shutil.which("notmuch"):
        assert import_bench.notmuch_count(ctx.notmuch_config, "*") == manifest["total_messages"]
        assert set(ctx.notmuch_folders) == set(counts)
        assert "notmuch new after" in timed.note
        # the timed imports at normal priority; the untimed one niced, so notmuch's build beside it keeps a core
        names = [p["name"] for p in manifest["principals"]]
        assert imports == [(name, 0) for name in names[:-1]] + [(names[-1], import_bench.UNTIMED_NICENESS)]
        assert by_figure["size on disk"].notmuch is not None
        assert by_figure["size on disk vs the maildirs"].notmuch is not None

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


def test_with_the_encryption_section_to_come_its_imports_are_taken_in_turn_with_the_timed_ones(tmp_path, monkeypatch):
    from assistant.store import db
    from benchmarks import encryption

    # as on a machine without a keyring of its own (the suite's is in memory): the section starts its own
    monkeypatch.setattr(db, "secure_store_available", lambda: False)
    assert encryption.SideBySide.possible()  # gnome-keyring and dbus are in ./dev's system packages
    root = tmp_path / "workload"
    manifest = generate.generate(out=root, principals=import_bench.TIMED_PRINCIPALS, messages=30, quiet=True)
    monkeypatch.setenv("BENCH_RUN_DIR", str(tmp_path / "run"))
    ctx = run_module.build_context(True, manifest, root)
    ctx.sections = {"import", "encryption"}

    import_bench.run(ctx)

    state = ctx.prepared["encryption"]
    assert state["seconds"]["plain"] > 0 and state["seconds"]["encrypted"] > 0
    base = encryption.encryption_dir(ctx)
    first = manifest["principals"][: encryption.PRINCIPALS]
    # the plain workspace is section 1's as it was after the first principals: just them, all their mail
    assert message_counts(base / "plain") == {p["name"]: p["messages"] for p in first}
    assert not db.is_encrypted(base / "plain" / db.DB_NAME)
    assert db.is_encrypted(base / "encrypted" / db.DB_NAME)
    # the same mail in both, and the encrypted one's key readable in the keyring kept for section 8
    done = encryption.in_secret_service(
        Path(state["keyring"]),
        [ctx.python, "-m", "assistant", "--workspace", str(base / "encrypted"), "search", "--count", "garden"],
        timeout_s=300)
    assert done.returncode == 0
    assert int(done.stdout.strip()) == search_bench.our_counts(base / "plain")["garden"] > 0


def test_notmuchs_end_is_stamped_when_it_ends_not_when_the_run_next_looks(tmp_path):
    import subprocess
    import sys
    import threading
    import time

    ended = []
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    watcher = threading.Thread(target=import_bench._stamp_end, args=(process, ended))
    watcher.start()
    time.sleep(3.0)  # the run imports calendars and boards meanwhile
    looked = time.perf_counter()
    watcher.join()

    assert len(ended) == 1 and ended[0] < looked - 1.0


def test_the_section_returns_while_notmuch_still_builds_and_completes_when_the_run_settles(tmp_path, monkeypatch):
    import subprocess

    if not shutil.which("notmuch"):
        return  # nothing runs in the background without notmuch: the first test covers that case
    gate = tmp_path / "notmuch-may-start"
    real_popen = subprocess.Popen
    notmuch_runs = []

    def gated(args, **kwargs):  # notmuch's untimed build waits for the gate: still running when the section returns
        if args[:2] == ["notmuch", "new"]:
            notmuch_runs.append(args)
            # the database's creation and the timed maildirs' runs come first, then the untimed build
            if len(notmuch_runs) == 1 + import_bench.TIMED_PRINCIPALS + 1:
                args = ["sh", "-c", f'while [ ! -e "{gate}" ]; do sleep 0.05; done; exec notmuch new --quiet']
        return real_popen(args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", gated)
    root = tmp_path / "workload"
    manifest = generate.generate(out=root, principals=import_bench.TIMED_PRINCIPALS + 1, messages=20, quiet=True)
    monkeypatch.setenv("BENCH_RUN_DIR", str(tmp_path / "run"))
    ctx = run_module.build_context(True, manifest, root)
    ctx.background_ok = True

    rows = import_bench.run(ctx)

    assert len(ctx.pending) == 1 and ctx.workspace is not None  # ours is complete, the later sections may read it
    assert ctx.notmuch_config is None and not (tmp_path / "run" / "complete.json").exists()
    size = next(r for r in rows if r.figure == "size on disk")
    assert size.assistant is not None and size.notmuch is None
    gate.touch()
    ctx.settle()
    assert ctx.notmuch_config is not None and (tmp_path / "run" / "complete.json").exists()
    assert import_bench.notmuch_count(ctx.notmuch_config, "*") == manifest["total_messages"]
    assert size.notmuch is not None
