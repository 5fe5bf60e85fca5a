"""A big maildir is parsed in worker processes and written here in order: the same workspace as parsing in-process."""
from __future__ import annotations

import base64
import os
import random
from pathlib import Path

import pytest

from assistant.domain import Principal
from assistant.importing.path import import_path
from assistant.mail import parse_pool
from assistant.store import Store

COUNT = parse_pool.MIN_FILES + 40


def _maildir(root: Path) -> Path:
    rng = random.Random(11)
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    for i in range(COUNT):
        msgid = f"<m{i}@example.com>" if i % 50 else f"<m{i - 1}@example.com>"  # a few duplicates by Message-ID
        parent = f"In-Reply-To: <m{i - 1}@example.com>\n" if i % 3 else ""
        head = (f"From: Bob <bob{i % 7}@example.com>\nTo: ada@example.com\nSubject: Note {i} é\n"
                f"Date: Mon, 2 Mar 2026 10:{i % 60:02d}:00 +0000\nMessage-ID: {msgid}\n{parent}")
        if i % 10 == 0:  # a big attachment, so the base64 fast path runs in the workers too
            data = base64.b64encode(rng.randbytes(120_000)).decode()
            lines = "\n".join(data[j:j + 76] for j in range(0, len(data), 76))
            body = ("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\n"
                    f"Text {i}\n--b\nContent-Type: application/pdf; name=a.pdf\nContent-Transfer-Encoding: base64\n\n"
                    f"{lines}\n--b--\n")
        else:
            body = f"\nHello {i}\n"
        name = f"{1700000000 + i}.{i}.host" + (":2,S" if i % 4 else "")
        (root / ("new" if i % 5 == 0 else "cur") / name).write_bytes((head + body).encode())
    (root / "cur" / "not-a-file").mkdir()  # skipped, as before
    return root


def _contents(store: Store, principal_id: int) -> list[tuple]:
    rows = store.db.execute(
        "SELECT m.remote_id, m.subject, m.sender_email, m.date_utc, m.folders, m.is_read, m.attachments, m.snippet,"
        " m.size, m.content_hash, t.subject, t.message_count, b.raw, b.body_text FROM messages m"
        " JOIN threads t ON t.id = m.thread_id JOIN message_bodies b ON b.message_id = m.id"
        " WHERE m.principal_id=? ORDER BY m.id", (principal_id,))
    return [tuple(r) for r in rows]


def _import(tmp_path: Path, name: str, maildir: Path, monkeypatch, processes: int):
    monkeypatch.setattr(parse_pool, "workers", lambda: processes)
    store = Store(tmp_path / name)
    try:
        p = store.add_principal(Principal(name="Ada", timezone="Europe/London"))
        first = import_path(store, p.id, maildir)
        again = import_path(store, p.id, maildir)
        return first, again, _contents(store, p.id)
    finally:
        store.close()


@pytest.mark.parametrize("processes", [2])
def test_the_pool_writes_what_parsing_in_process_writes(tmp_path, monkeypatch, processes):
    maildir = _maildir(tmp_path / "mail")
    serial = _import(tmp_path, "serial", maildir, monkeypatch, 0)
    pooled = _import(tmp_path, "pooled", maildir, monkeypatch, processes)
    first, again, contents = pooled
    assert (first.imported, first.skipped, first.rejected) == (COUNT - COUNT // 50, COUNT // 50, [])
    assert (again.imported, again.skipped) == (0, COUNT)
    assert [(r.imported, r.skipped, r.rejected) for r in pooled[:2]] == [(r.imported, r.skipped, r.rejected)
                                                                          for r in serial[:2]]
    assert contents == serial[2]
    assert len(contents) == COUNT - COUNT // 50


def test_an_import_killed_midway_then_run_again_has_every_message_once(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    maildir = _maildir(tmp_path / "mail")
    workspace = tmp_path / "ws"
    store = Store(workspace)
    try:
        store.add_principal(Principal(name="Ada", timezone="Europe/London"))
    finally:
        store.close()
    command = [sys.executable, "-m", "assistant", "--workspace", str(workspace), "import", str(maildir),
               "--principal", "Ada"]
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    time.sleep(1.0)  # somewhere in the run: starting the workers, parsing or writing
    os.killpg(child.pid, signal.SIGKILL)  # the importer and its workers, no cleanup code
    child.wait(timeout=30)
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=120)
    store = Store(workspace)
    try:
        assert store.integrity_check() == "ok"
        ids = [r[0] for r in store.db.execute("SELECT message_id_header FROM messages")]
        assert len(ids) == len(set(ids)) == COUNT - COUNT // 50
        assert store.db.execute("SELECT COUNT(*) FROM messages_fts").fetchone()[0] == len(ids)
        assert store.db.execute("SELECT COUNT(*) FROM message_bodies WHERE raw IS NOT NULL").fetchone()[0] == len(ids)
    finally:
        store.close()


FULL_DISK_IMPORT = r"""
import sys
from assistant.cli import main as cli
from assistant.mail import parse_pool
from assistant.store import Store

real_init = Store.__init__


def capped_init(self, *args, **kwargs):  # SQLite's own SQLITE_FULL once the import has written a few messages
    real_init(self, *args, **kwargs)
    pages = self.db.execute("PRAGMA page_count").fetchone()[0]
    self.db.execute(f"PRAGMA max_page_count = {pages + 20}")


Store.__init__ = capped_init
parse_pool.workers = lambda: 2
sys.exit(cli.main(sys.argv[1:]))
"""


def test_a_full_disk_during_a_pooled_import_says_one_line_and_nothing_else(tmp_path):
    """Reported: the one line, then ``Exception ignored … RuntimeError: cannot join current thread`` (the parsing pool
    was shut down from the garbage collector, on the pool's own thread). Run as its own process: that message is
    printed as the interpreter cleans up."""
    import os
    import subprocess
    import sys

    maildir = tmp_path / "mail"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    for i in range(COUNT):
        (maildir / "cur" / f"{1700000000 + i}.{i}.host:2,S").write_bytes(
            f"From: x@example.org\nSubject: item {i}\nMessage-ID: <full-{i}@example.org>\n\n".encode()
            + b"padding line of text\n" * 200)
    workspace = tmp_path / "ws"
    store = Store(workspace)
    try:
        store.add_principal(Principal(name="Ada", timezone="Europe/London"))
    finally:
        store.close()
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    done = subprocess.run([sys.executable, "-c", FULL_DISK_IMPORT, "--workspace", str(workspace), "import",
                           str(maildir), "--principal", "Ada"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.startswith("assistant: the disk is full: free some space"), done.stderr
    assert done.stderr.count("\n") == 1, done.stderr


@pytest.mark.skipif(not hasattr(os, "nice"), reason="no process priorities on this platform")
def test_the_parsing_workers_run_at_a_lower_priority_than_the_importer():
    """Parsing is bulk background work: on a busy machine the importer's writes (and a window beside it) come first."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    own = os.nice(0)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=parse_pool._start,
                             initargs=(os.getpid(), frozenset(), 1, 1)) as pool:
        assert pool.submit(os.nice, 0).result(timeout=60) == min(own + parse_pool.NICE, 19)
