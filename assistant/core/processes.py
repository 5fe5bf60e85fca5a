"""Worker processes that end with the process that started them.

A parsing process (an import's, a local account's first sync) started with the ``spawn`` method is its own
interpreter: when the app or the command line is killed (``kill -9``, a crash), nothing tells it to stop, and it would
live on holding its memory. Each worker watches its parent from a daemon thread and exits as soon as the parent is gone
(its parent id changes when it is handed to init or a subreaper). Linux's PR_SET_PDEATHSIG is not used: it fires
when the *thread* that started the worker ends, and a pool may outlive that thread.
"""
from __future__ import annotations

import os
import sys
import time

POLL_S = 0.5


def exit_with_parent(parent: int) -> None:
    """Call first thing in a worker process (a pool's initializer), with the pid of the process that started it
    (``os.getpid()`` there): a parent killed while the worker was still starting is noticed too."""
    import threading  # here: the store imports this module for `alive`, and a search starts no thread

    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(POLL_S)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def alive(pid: int) -> bool:
    """Whether a process with this id is running (another process's sync, say). A pid the system has handed to a new
    process reads as alive: callers treat that as the rare, harmless case it is."""
    if pid <= 0:
        return False
    if sys.platform == "win32":
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        try:
            code = ctypes.c_ulong()
            return bool(kernel32.GetExitCodeProcess(handle, ctypes.byref(code))) and code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True
