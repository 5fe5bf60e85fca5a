"""A sync pass in a child process (``sync/process.py``): its answer, its errors, its changes and its stop."""
from __future__ import annotations

import multiprocessing
import os
import threading
import time
from pathlib import Path

import pytest

from assistant.core.errors import NotFound
from assistant.domain import Account, Principal
from assistant.store import Store
from assistant.store.changes import Area
from assistant.sync import process
from assistant.sync.process import SyncCancelled, SyncJob, run_sync
from tests.connectors.contract import make_raw


def make_workspace(tmp_path: Path, messages: int) -> tuple[Store, int, int]:
    maildir = tmp_path / "mail"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    for n in range(messages):
        (maildir / "cur" / f"{n}.test:2,S").write_bytes(make_raw(n))
    store = Store(tmp_path / "ws")
    principal = store.add_principal(Principal("Dana Whitfield", "Europe/Dublin", ["dana@example.com"]))
    account = store.add_account(Account(principal.id, "local", "dana@example.com", {"maildir": str(maildir)}))
    store.take_changes()
    return store, principal.id, account.id


def test_the_pass_runs_in_another_process_and_its_changes_are_recorded_here(tmp_path, monkeypatch):
    from assistant.sync import engine

    store, principal_id, account_id = make_workspace(tmp_path, 3)
    monkeypatch.setattr(engine, "sync_account", lambda *a, **k: pytest.fail("synced in this process"))
    report = run_sync(store, SyncJob(account_id))
    assert report.mail["added"] == 3 and report.errors == []
    assert store.take_changes().touches(Area.MAIL, principal_id=principal_id)
    assert store.db.execute("SELECT count(*) FROM messages").fetchone()[0] == 3


def test_an_error_of_the_pass_is_raised_here_as_itself(tmp_path):
    store, _principal_id, _account_id = make_workspace(tmp_path, 0)
    with pytest.raises(NotFound):
        run_sync(store, SyncJob(account_id=999))


def test_a_cancelled_pass_stops_its_process_and_says_so(tmp_path):
    store, principal_id, account_id = make_workspace(tmp_path, 1500)
    cancel = threading.Event()
    outcome: list[BaseException] = []
    waiting = threading.Thread(target=lambda: _run_catching(store.dir, account_id, cancel, outcome))
    waiting.start()
    deadline = time.monotonic() + 60
    child = None
    while child is None and time.monotonic() < deadline:
        child = next((p for p in multiprocessing.active_children() if p.name == "assistant-sync"), None)
        time.sleep(0.01)
    assert child is not None
    below_us = os.getpriority(os.PRIO_PROCESS, 0) + process.NICE
    while os.getpriority(os.PRIO_PROCESS, child.pid) != below_us and time.monotonic() < deadline:
        time.sleep(0.01)  # it lowers its own priority first thing
    assert os.getpriority(os.PRIO_PROCESS, child.pid) == below_us and waiting.is_alive()
    cancel.set()
    waiting.join(30)
    assert not waiting.is_alive() and not child.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], SyncCancelled)


def _run_catching(workspace: Path, account_id: int, cancel: threading.Event, outcome: list[BaseException]) -> None:
    store = Store(workspace)  # one store per thread
    try:
        run_sync(store, SyncJob(account_id), cancel)
    except BaseException as error:
        outcome.append(error)
        assert store.take_changes().touches(Area.MAIL)  # it may have written anything: every view refreshes
    finally:
        store.close()
