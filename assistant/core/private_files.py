"""Files the app writes outside the workspace database — attachments opened in another program, exports while they
are written — go to one private folder (0700), emptied when the app quits and, after a crash, on the next start.

Each process has its own folder, ``<base>/<pid>``, so two windows or a window and a command never empty each other's.
The base is the user's runtime folder (``$XDG_RUNTIME_DIR``: memory, per user, gone at log-out) where there is one, else
the user cache folder. A folder whose process is gone is removed by the next process that asks for one (:func:`sweep`);
a process that ends normally removes its own (``atexit``; the window also on quitting).
"""
from __future__ import annotations

import atexit
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from assistant.core import processes

BASE: Path | None = None  # tests point this elsewhere
_mine: Path | None = None


def base_dir() -> Path:
    if BASE is not None:
        return BASE
    import platformdirs

    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime) and os.access(runtime, os.W_OK):
        return Path(runtime) / "assistant" / "private"
    return Path(platformdirs.user_cache_dir("assistant", appauthor=False)) / "private"


def _private(path: Path) -> Path:
    old = os.umask(0o077)
    try:
        path.mkdir(parents=True, exist_ok=True)
    finally:
        os.umask(old)
    if os.name == "posix":
        os.chmod(path, stat.S_IRWXU)
    return path


def sweep() -> list[Path]:
    """Remove the folders of processes that are gone (a crash, a kill); returns what was removed."""
    base = base_dir()
    removed = []
    if base.is_dir():
        for child in base.iterdir():
            if child.name.isdigit() and int(child.name) != os.getpid() and not processes.alive(int(child.name)):
                shutil.rmtree(child, ignore_errors=True)
                removed.append(child)
    return removed


def folder() -> Path:
    """This process's private folder (made 0700 on first use, after sweeping what crashed processes left)."""
    global _mine
    if _mine is None or not _mine.is_dir():
        sweep()
        _mine = _private(_private(base_dir()) / str(os.getpid()))
        atexit.register(clear)
    return _mine


def clear() -> None:
    """Empty and remove this process's private folder (the app calls it when quitting)."""
    global _mine
    if _mine is not None:
        shutil.rmtree(_mine, ignore_errors=True)
        _mine = None


def subfolder(name: str) -> Path:
    return _private(folder() / name)


@contextmanager
def exporting(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Write an export to a file in the private folder, moved to ``target`` only once it is complete: a half-written
    export never sits beside the user's files, and one that fails leaves nothing."""
    target = Path(target)
    fd, name = tempfile.mkstemp(dir=folder(), prefix="export-", suffix=target.suffix)
    os.close(fd)
    scratch = Path(name)
    try:
        yield scratch
        shutil.move(scratch, target)
    finally:
        scratch.unlink(missing_ok=True)
