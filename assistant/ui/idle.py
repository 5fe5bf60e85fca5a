"""New mail while the window is open: one IDLE watch per IMAP account, each on a thread of its own.

A watch holds its own connection (never the sync's), waits in IDLE on the INBOX (the connector renews the IDLE command
within RFC 2177's 29 minutes), and when the server reports a change emits :attr:`IdleWatches.woke` with the account id;
the window then starts one narrow sync of that account. A dropped connection is opened again after a growing pause
(:func:`~assistant.sync.engine.backoff_delay`). :meth:`IdleWatches.stop` ends every watch within about a second.
The threads touch no store and no widget: they only emit a queued signal.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from assistant.domain import Account

log = logging.getLogger(__name__)

WATCHED_FOLDER = "INBOX"
RENEW_AFTER_S = 25 * 60  # under RFC 2177's 29 minutes


def _connect(account: Account) -> Any:
    from assistant.sync.engine import make_connector

    return make_connector(account, None)


class IdleWatches(QObject):
    woke = Signal(int, str)  # account id, the folder that changed

    def __init__(self, parent: QObject | None = None, *, connect: Callable[[Account], Any] = _connect,
                 tick_s: float = 0.5, backoff: Callable[[int], float] | None = None):
        super().__init__(parent)
        self._connect = connect
        self._backoff = backoff
        self._tick_s = tick_s
        self._watches: dict[int, tuple[threading.Thread, threading.Event]] = {}

    @property
    def watched(self) -> set[int]:
        return {account_id for account_id, (thread, _stop) in self._watches.items() if thread.is_alive()}

    def follow(self, accounts: list[Account]) -> None:
        """Watch every IMAP account in ``accounts`` (the workspace's, after each reload); stop those gone."""
        wanted = {a.id: a for a in accounts if a.kind == "imap" and a.id is not None}
        for account_id in [i for i in self._watches if i not in wanted]:
            self._watches.pop(account_id)[1].set()
        for account_id, account in wanted.items():
            if account_id in self._watches and self._watches[account_id][0].is_alive():
                continue
            stop = threading.Event()
            thread = threading.Thread(target=self._run, args=(account, stop), daemon=True,
                                      name=f"assistant-idle-{account_id}")
            self._watches[account_id] = (thread, stop)
            thread.start()

    def stop(self, wait_s: float = 3.0) -> None:
        watches, self._watches = list(self._watches.values()), {}
        for _thread, stop in watches:
            stop.set()
        for thread, _stop in watches:
            thread.join(wait_s)

    def _run(self, account: Account, stop: threading.Event) -> None:
        from assistant.sync.engine import backoff_delay

        backoff = self._backoff or backoff_delay
        assert account.id is not None
        failures = 0
        while not stop.is_set():
            connector = None
            try:
                connector = self._connect(account)
                if failures:  # back after a drop: what came meanwhile was never announced, so one sync for it
                    connector.imap()
                    failures = 0
                    self.woke.emit(account.id, WATCHED_FOLDER)
                while not stop.is_set():
                    if connector.watch(stop, folder=WATCHED_FOLDER, renew_after_s=RENEW_AFTER_S,
                                       tick_s=self._tick_s):
                        failures = 0
                        self.woke.emit(account.id, WATCHED_FOLDER)
            except Exception as exc:  # noqa: BLE001 - a dropped or refused connection: try again after a pause
                failures += 1
                log.info("IDLE watch of account %s: %s; again in a while", account.id, exc)
                stop.wait(backoff(failures))
            finally:
                if connector is not None:
                    try:
                        connector.close()
                    except Exception:  # noqa: BLE001 - closing a dead connection
                        pass
