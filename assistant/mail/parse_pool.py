"""Reading, parsing and compressing message files in worker processes, for big imports.

The importer still writes every message itself, in file order and in its own transactions, so a crash loses and
duplicates exactly what it would without the pool. Workers only read files: they never open the workspace.
"""
from __future__ import annotations

import hashlib
import multiprocessing
import os
import re
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from assistant.core.compression import compressed_bodies
from assistant.core.processes import exit_with_parent
from assistant.domain import Message
from assistant.mail.mime import normalise_message_id, parse_message

CHUNK = 16  # files per task: fewer round trips than one each, small enough to keep both workers busy
CHUNK_BYTES = 8 * 2**20
AHEAD_CHUNKS = 8  # per process: enough to keep parsing while the writer commits a batch
AHEAD_BYTES = 128 * 2**20  # of message files being read or waiting to be written
MIN_FILES = 200  # below this, starting the workers costs more than it saves


@dataclass
class Prepared:
    """One file, ready for the importer to write."""
    remote_id: str = ""
    message: Message | None = None  # None when ``remote_id`` was already in the workspace (nothing parsed)
    bodies: tuple[bytes | None, bytes | None, bytes | None] | None = None  # as ``compressed_bodies`` gives
    error: OSError | None = None  # the file could not be read


_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*((?:.*)(?:\r?\n[ \t].*)*)", re.I | re.M)
_known: frozenset[str] = frozenset()
_principal_id = 0
_account_id = 0


NICE = 10  # how much lower the workers' CPU priority is than the importer's


def _start(parent: int, known: frozenset[str], principal_id: int, account_id: int) -> None:
    global _known, _principal_id, _account_id
    exit_with_parent(parent)  # a killed import must not leave its workers behind
    # Bulk background work: on a busy machine the importer's own writes and the window (an import from the app, or
    # one beside it) get the CPU first; on an idle one the priority changes nothing.
    try:
        os.nice(NICE)
    except (AttributeError, OSError):  # not on this platform, or not allowed: at the importer's priority then
        pass
    _known, _principal_id, _account_id = known, principal_id, account_id


def message_remote_id(raw: bytes) -> str:
    """The key that makes re-imports idempotent, read cheaply before a full parse."""
    header_end = raw.find(b"\n\n")
    if header_end < 0:
        header_end = raw.find(b"\r\n\r\n")
    headers = raw[: header_end if header_end >= 0 else min(len(raw), 65536)]
    match = _MESSAGE_ID.search(headers)
    if match:
        msgid = normalise_message_id(match.group(1).decode("ascii", "replace"))
        if msgid and "\ufffd" not in msgid:
            return msgid
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def prepare(raw: bytes, known: frozenset[str] | set[str], principal_id: int, account_id: int) -> Prepared:
    remote_id = message_remote_id(raw)
    if remote_id in known:
        return Prepared(remote_id)
    message = parse_message(raw, principal_id=principal_id, account_id=account_id, remote_id=remote_id)
    return Prepared(remote_id, message, compressed_bodies(raw, message.body_text, message.body_html))


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
    try:
        return os.sched_getaffinity(0)
    except AttributeError:  # not on Linux
        return set(range(os.cpu_count() or 1))


def prepared_in_order(paths: Iterable[Path], *, known: set[str], principal_id: int, account_id: int,
                      processes: int) -> Generator[Prepared, None, None]:
    """``Prepared`` for each path, in the order given. Workers run ahead of the writer (so they keep going while it
    commits) by a bounded number of files and bytes, so memory stays bounded whatever the messages weigh.

    A caller that may stop before the end closes the generator (``contextlib.closing``) so the workers are shut down
    at once, on its thread."""
    chunks = _chunks([str(p) for p in paths])
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing of the importer's process (its SQLite
    # connection, its threads) is copied into the workers
    pool = ProcessPoolExecutor(processes, mp_context=context, initializer=_start,
                               initargs=(os.getpid(), frozenset(known), principal_id, account_id))
    pending: deque[tuple[Future[list[Prepared]], int]] = deque()
    pending_bytes = 0
    try:
        while True:
            while len(pending) < processes * AHEAD_CHUNKS and pending_bytes < AHEAD_BYTES:
                chunk = next(chunks, None)
                if chunk is None:
                    break
                files, size = chunk
                pending.append((pool.submit(_prepare_files, files), size))
                pending_bytes += size
            if not pending:
                return
            future, size = pending.popleft()
            pending_bytes -= size
            yield from future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _chunks(items: list[str]) -> Iterator[tuple[list[str], int]]:
    """Lists of up to CHUNK files and CHUNK_BYTES (one file at least), with their size."""
    chunk: list[str] = []
    size = 0
    for path in items:
        try:
            length = os.stat(path).st_size
        except OSError:
            length = 0  # the worker says why it cannot read it
        if chunk and (len(chunk) >= CHUNK or size + length > CHUNK_BYTES):
            yield chunk, size
            chunk, size = [], 0
        chunk.append(path)
        size += length
    if chunk:
        yield chunk, size
