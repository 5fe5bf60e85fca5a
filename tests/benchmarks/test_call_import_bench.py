"""Benchmark: ``assistant call import`` of a big generated Twilio console export, run as the command it is, while this
process keeps writing to the same workspace as the app would (a quick-logged call every 50 ms, each through its own
transaction). Only the tiny smoke test below is collected by pytest; the figures are not timed tests.

    .venv/bin/python -m tests.benchmarks.test_call_import_bench [ROWS …]      # default: 10000 100000

Prints one JSON object per size, the figures docs/PERFORMANCE.md records ("Call-log import"): the whole command's time
(interpreter start included) and rows per second, how many other writes went through meanwhile, how long the longest
of them waited for the write lock (about the longest a batch holds it), and how many failed ("database is locked").
"""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WRITE_EVERY_S = 0.05


def write_export(path: Path, rows: int, seed: int = 7) -> Path:
    """A Twilio console CSV of ``rows`` calls, the same bytes for the same arguments: 10,000 parties (so the phone
    numbers are mostly new to the importer), one call every 7 minutes from 2024 on."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("Date Created,Sid,From,To,Direction,Status,Start Time,End Time,Duration,Price,Price Unit,Caller Name\n")
        for n in range(rows):
            stamp = (start + timedelta(minutes=7 * n)).strftime("%a, %d %b %Y %H:%M:%S +0000")
            party, own = f"+1415555{rng.randrange(10000):04d}", "+16505550100"
            inbound = n % 3 != 0
            caller, callee = (party, own) if inbound else (own, party)
            out.write(f'"{stamp}",CA{n:032x},{caller},{callee},{"inbound" if inbound else "outbound-dial"},'
                      f'{"completed" if n % 7 else "no-answer"},"{stamp}",,{rng.randrange(600)},-0.0085,USD,'
                      f"Caller {n % 500}\n")
    return path


def measure(rows: int, folder: Path) -> dict:
    from assistant.calls.manual import log_call
    from assistant.core import timezones
    from assistant.domain import Principal
    from assistant.store import Store
    from assistant.store import calls as call_store
    from assistant.store.db import sqlite

    timezones.configure()
    export = write_export(folder / f"calls-{rows}.csv", rows)
    workspace = folder / f"ws-{rows}"
    store = Store(workspace)
    try:
        principal_id = store.add_principal(Principal(name="Ada", timezone="America/New_York",
                                                     addresses=["ada@example.org"])).id
    finally:
        store.close()
    waits: list[float] = []
    failures: list[str] = []
    done = threading.Event()

    def other_writer() -> None:  # the app, say: its own connection, a write now and then
        app = Store(workspace)
        try:
            n = 0
            while not done.is_set():
                n += 1
                began = time.perf_counter()
                try:
                    log_call(app, principal_id, number=f"+44 20 7946 {n % 10000:04d}", direction="out",
                             started_utc=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=n), notes="quick log")
                except sqlite.OperationalError as exc:  # the workspace's driver (store/db.py)
                    failures.append(str(exc))
                waits.append(time.perf_counter() - began)
                done.wait(WRITE_EVERY_S)
        finally:
            app.close()

    writer = threading.Thread(target=other_writer, daemon=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    began = time.perf_counter()
    writer.start()
    child = subprocess.run([sys.executable, "-m", "assistant", "--workspace", str(workspace), "--json", "call", "import",
                            str(export), "--principal", "Ada"], cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - began
    done.set()
    writer.join()
    if child.returncode != 0:
        raise RuntimeError(f"the import failed ({child.returncode}): {child.stderr.strip()[-600:]}")
    report = json.loads(child.stdout)
    store = Store(workspace)
    try:
        stored = call_store.count_calls(store.scope(principal_id))
    finally:
        store.close()
    ordered = sorted(waits)
    return {
        "rows": rows, "imported": report["imported"], "rejected": len(report["rejected"]), "seconds": round(elapsed, 2),
        "rows_per_s": round(rows / elapsed), "other_writes": len(waits), "other_writes_failed": len(failures),
        "other_write_wait_max_ms": round(ordered[-1] * 1000, 1) if ordered else None,
        "other_write_wait_p99_ms": round(ordered[int(len(ordered) * 0.99)] * 1000, 1) if ordered else None,
        "calls_stored": stored,
    }


def test_the_benchmark_imports_every_row_while_another_process_writes(tmp_path):
    """Not a timing: the benchmark's own checks on a small export (three batches)."""
    figures = measure(1_200, tmp_path)
    assert (figures["imported"], figures["rejected"], figures["other_writes_failed"]) == (1_200, 0, 0)
    assert figures["other_writes"] >= 1 and figures["calls_stored"] == 1_200 + figures["other_writes"]


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv] or [10_000, 100_000]
    with tempfile.TemporaryDirectory(prefix="assistant-call-import-bench-") as tmp:
        for rows in sizes:
            print(json.dumps(measure(rows, Path(tmp))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
