"""A sync pass in a process of its own, the caller only waiting for it (issue 17).

A sync's work — reading and hashing files, parsing, the store's per-message writes and full-text rows, the commits —
is Python and C calls that hold the interpreter lock. Run on a thread of the app, every one of them kept the window's
GUI thread from running: with ten thousand messages to store, the window missed its frames hundreds of times, 50 to
500 ms at a time, while its own thread had nothing to do but wait for the lock. A process has a lock of its own.

:func:`run_sync` starts a ``spawn``ed interpreter (nothing of the caller — its SQLite connections, its threads, Qt — is
copied over) that opens the workspace as the command line does (the key from the credential store), runs
:func:`~assistant.sync.engine.sync_all` or one account's :func:`~assistant.sync.engine.sync_account`, and sends back
the reports, or the error, and what it changed (:class:`~assistant.store.changes.Changes`), which the caller records
on its own store so its views refresh from them as from any write. Each page and its cursor land in one transaction
and an outbox entry in flight is re-applied idempotently on the next pass (``engine.py``), so a child stopped at any
point — :func:`run_sync` with ``cancel`` set terminates it, a child whose parent died exits by itself
(:func:`~assistant.core.processes.exit_with_parent`) — leaves the workspace consistent.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from assistant.core import processes
from assistant.core.errors import UserError
from assistant.store import Store
from assistant.store.changes import Area, Changes

log = logging.getLogger(__name__)

POLL_S = 0.1
# Below the window's process: with no lock shared any more, what is left of the window's waits is the scheduler — on
# two cores the sync, its parsing processes and an import beside it all want the CPU the GUI thread wakes up for.
NICE = 5  # the parsing processes it starts add their own 10
# What a child that died without answering may have written: every area a sync writes, for every principal.
ANYTHING_A_SYNC_WRITES = Changes.of((area, None) for area in (Area.ACCOUNTS, Area.MAIL, Area.CALENDAR, Area.CONTACTS,
                                                             Area.OUTBOX, Area.DRAFTS, Area.REMINDERS))


class SyncCancelled(UserError):
    """The sync was stopped (the app is quitting); what it stored so far stays."""


@dataclass(frozen=True)
class SyncJob:
    """Every account (``account_id`` None), or one account's pass, narrowed to ``woken_folder`` after an IDLE wake."""

    account_id: int | None = None
    woken_folder: str | None = None


def run_sync(store: Store, job: SyncJob, cancel: threading.Event | None = None) -> Any:
    """Run ``job`` in a child process on ``store``'s workspace and wait for it. Returns the pass's result (a list of
    SyncReport, or one); raises what the pass raised, :class:`SyncCancelled` when ``cancel`` was set meanwhile. What
    the child wrote is recorded on ``store`` (:meth:`~assistant.store.Store.changed`) either way, as if written there."""
    try:
        result, changes = _run(str(store.dir), job, cancel)
    except BaseException as error:
        _record(store, getattr(error, "changes", ANYTHING_A_SYNC_WRITES))
        raise
    _record(store, changes)
    return result


def _record(store: Store, changes: Changes) -> None:
    for area, principal_id in changes.pairs:
        store.changed(area, principal_id)


def _run(workspace_dir: str, job: SyncJob, cancel: threading.Event | None) -> tuple[Any, Changes]:
    context = multiprocessing.get_context("spawn")
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(workspace_dir, job, os.getpid(), sending),
                            name="assistant-sync")  # not a daemon: a daemon may not start the parsing processes
    child.start()
    sending.close()  # the child's end: our copy closed, a child that dies reads as EOF here
    try:
        while not receiving.poll(POLL_S):
            if cancel is not None and cancel.is_set():
                _stop(child)
                raise _with_changes(SyncCancelled("The sync was stopped; what it stored so far is kept."),
                                    ANYTHING_A_SYNC_WRITES)
            if not child.is_alive() and not receiving.poll(0):
                break
        try:
            kind, payload, pairs = receiving.recv()
        except EOFError:
            child.join()
            raise _with_changes(RuntimeError(f"the sync process ended without an answer (exit code {child.exitcode})"),
                                ANYTHING_A_SYNC_WRITES) from None
    finally:
        receiving.close()
    child.join()
    changes = Changes(frozenset(pairs))
    if kind == "error":
        raise _with_changes(payload, changes)
    return payload, changes


def _with_changes(error: BaseException, changes: Changes) -> BaseException:
    error.changes = changes  # type: ignore[attr-defined]
    return error


def _stop(child: Any) -> None:
    child.terminate()
    child.join(5)
    if child.is_alive():
        child.kill()
        child.join()


def _child(workspace_dir: str, job: SyncJob, parent: int, sending: Connection) -> None:
    processes.exit_with_parent(parent)
    try:
        os.nice(NICE)
    except (AttributeError, OSError):  # not on this platform, or not allowed: at the window's priority then
        pass
    from assistant.sync.engine import sync_account, sync_all

    store: Store | None = None
    try:
        store = Store(Path(workspace_dir), create=False)
        if job.account_id is None:
            result: Any = sync_all(store)
        else:
            result = sync_account(store, job.account_id, woken_folder=job.woken_folder)
        answer: tuple[str, Any, Any] = ("done", result, store.take_changes().pairs)
    except BaseException as error:  # sent back whole where it pickles: the window shows it as it did in-process
        taken = store.take_changes().pairs if store is not None else ANYTHING_A_SYNC_WRITES.pairs
        answer = ("error", _picklable(error), taken)
    finally:
        if store is not None:
            store.close()
    sending.send(answer)
    sending.close()


def _picklable(error: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        log.error("the sync failed", exc_info=error)
        text = f"{type(error).__name__}: {error}"
        return UserError(str(error)) if isinstance(error, UserError) else RuntimeError(text)
