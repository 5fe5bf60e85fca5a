"""Parsing processes die with the process that started them (reported: killing `sync` or `import` left three
parsing processes, ~67 MB, that never exited)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

SCRIPT = r"""
import multiprocessing, sys, time
from pathlib import Path
from assistant.mail import parse_pool

root = Path(sys.argv[1])
files = sorted(root.iterdir())
items = parse_pool.prepared_in_order(files, known=set(), principal_id=1, account_id=1, processes=3)
next(items)  # the workers are up and parsing
print("WORKERS", " ".join(str(p.pid) for p in multiprocessing.active_children()), flush=True)
time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in state  # a zombie has exited; only its parent's wait is left


def test_killing_the_importer_leaves_no_parsing_process_behind(tmp_path):
    mail = tmp_path / "mail"
    mail.mkdir()
    for i in range(400):
        (mail / f"{i}.eml").write_bytes(f"From: a@example.com\nSubject: {i}\nMessage-ID: <{i}@x>\n\nHi {i}\n".encode())
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    importer = subprocess.Popen([sys.executable, "-c", SCRIPT, str(mail)], env=env, stdout=subprocess.PIPE, text=True)
    workers: list[int] = []
    try:
        assert importer.stdout is not None
        line = importer.stdout.readline()
        workers = [int(pid) for pid in line.split()[1:]]
        assert line.startswith("WORKERS") and workers, line
        assert all(_alive(pid) for pid in workers)
        importer.send_signal(signal.SIGKILL)  # kill -9: nothing of the importer runs again
        importer.wait(timeout=10)
        deadline = time.monotonic() + 15
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [pid for pid in workers if _alive(pid)], "parsing processes outlived their parent"
    finally:
        importer.kill()
        importer.wait()
        if importer.stdout is not None:
            importer.stdout.close()
        for pid in workers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
