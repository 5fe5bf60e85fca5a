"""Worker processes that end with the process that started them.

A parsing process (an import's, a local account's first sync) started with the ``spawn`` method is its own
interpreter: when the app or the command line is killed (``kill -9``, a crash), nothing tells it to stop, and it would
live on holding its memory. Each worker watches its parent from a daemon thread and exits as soon as the parent is gone
(its parent id changes when it is handed to init or a subreaper). Linux's PR_SET_PDEATHSIG is not used: it fires
when the *thread* that started the worker ends, and a pool may outlive that thread.
"""
from __future__ import annotations

import os
import threading
import time

POLL_S = 0.5


def exit_with_parent(parent: int) -> None:
    """Call first thing in a worker process (a pool's initializer), with the pid of the process that started it
    (``os.getpid()`` there): a parent killed while the worker was still starting is noticed too."""
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(POLL_S)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
