"""Reading, parsing and compressing message files in worker processes, for big imports.

The importer still writes every message itself, in file order and in its own transactions, so a crash loses and
duplicates exactly what it would without the pool. Workers only read files: they never open the workspace.
"""
from __future__ import annotations

import multiprocessing
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from assistant.domain import Message

CHUNK = 16  # files per task: fewer round trips than one each, small enough to keep both workers busy
MIN_FILES = 200  # below this, starting the workers costs more than it saves


@dataclass
class Prepared:
    """One file, ready for the importer to write."""
    remote_id: str = ""
    message: Message | None = None  # None when ``remote_id`` was already in the workspace (nothing parsed)
    bodies: tuple[bytes | None, bytes | None, bytes | None] | None = None  # as ``store.compressed_bodies`` gives
    error: OSError | None = None  # the file could not be read


_known: frozenset[str] = frozenset()
_principal_id = 0
_account_id = 0


def _start(known: frozenset[str], principal_id: int, account_id: int) -> None:
    global _known, _principal_id, _account_id
    _known, _principal_id, _account_id = known, principal_id, account_id


def prepare(raw: bytes, known: frozenset[str] | set[str], principal_id: int, account_id: int) -> Prepared:
    from assistant.importer import _message_remote_id
    from assistant.mail.mime import parse_message
    from assistant.store import compressed_bodies

    remote_id = _message_remote_id(raw)
    if remote_id in known:
        return Prepared(remote_id)
    message = parse_message(raw, principal_id=principal_id, account_id=account_id, remote_id=remote_id)
    return Prepared(remote_id, message, compressed_bodies(message, raw))


def _prepare_files(paths: list[str]) -> list[Prepared]:
    out = []
    for path in paths:
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            out.append(Prepared(error=exc))
            continue
        out.append(prepare(raw, _known, _principal_id, _account_id))
    return out


def workers() -> int:
    """How many parsing processes a big import uses: one per CPU, at most 4; 0 (parse in-process) with one CPU."""
    count = len(_cpus())
    return 0 if count < 2 else min(count, 4)


def _cpus() -> set[int]:
    import os

    try:
        return os.sched_getaffinity(0)
    except AttributeError:  # not on Linux
        return set(range(os.cpu_count() or 1))


def prepared_in_order(paths: Iterable[Path], *, known: set[str], principal_id: int, account_id: int,
                      processes: int) -> Iterator[Prepared]:
    """``Prepared`` for each path, in the order given; at most a few chunks are in flight, so memory stays bounded."""
    chunks: Iterator[list[str]] = _chunks([str(p) for p in paths])
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing of the importer's process (its SQLite
    # connection, its threads) is copied into the workers
    pool = ProcessPoolExecutor(processes, mp_context=context, initializer=_start,
                               initargs=(frozenset(known), principal_id, account_id))
    pending: deque[Future[list[Prepared]]] = deque()
    try:
        for chunk in chunks:
            pending.append(pool.submit(_prepare_files, chunk))
            if len(pending) >= processes * 3:
                break
        while pending:
            done = pending.popleft().result()
            chunk = next(chunks, None)
            if chunk is not None:
                pending.append(pool.submit(_prepare_files, chunk))
            yield from done
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]
