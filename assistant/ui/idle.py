"""New mail while the window is open: one IDLE watch per IMAP account, each on a thread of its own.

A watch holds its own connection (never the sync's), waits in IDLE on the INBOX (the connector renews the IDLE command
within RFC 2177's 29 minutes), and when the server reports a change emits :attr:`IdleWatches.woke` with the account id;
the window then starts one narrow sync of that account. :meth:`IdleWatches.stop` ends every watch within about a second.
The threads touch no store and no widget: they only emit queued signals.

A dropped connection (the server restarted, the session killed, the network gone a moment) is opened again after a
short pause that doubles with each failure in a row (:func:`reconnect_delay`: about 1 s, 2 s, 4 s … at most 5 min), and
the watch then wakes once, for the mail that came while it was away. A connection that fails :data:`REPORT_AFTER` times
in a row is said once in :attr:`IdleWatches.failed` (the window shows it as an error notice) while the tries go on.
A failure the user must fix (a refused password, an untrusted certificate) is said at once and ends the watch; it is
started again only when the account changes (new settings) or a sync has succeeded since.
"""
from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import QObject, Signal

from assistant.core.errors import UserError
from assistant.domain import Account

log = logging.getLogger(__name__)

WATCHED_FOLDER = "INBOX"
RENEW_AFTER_S = 25 * 60  # under RFC 2177's 29 minutes
RECONNECT_BASE_S = 1.0
RECONNECT_CAP_S = 5 * 60.0
REPORT_AFTER = 3  # failures in a row before a server that stays away is said
STABLE_S = 60.0  # a connection that lasted this long before it dropped starts the count again


def reconnect_delay(failures: int, rng: random.Random | None = None) -> float:
    """About 1 s after the first failure, doubling after each next one up to 5 minutes; jitter in the upper half, so
    a pause is never shorter than the one before it."""
    ceiling: float = min(RECONNECT_CAP_S, RECONNECT_BASE_S * 2 ** max(0, failures - 1))
    return ceiling * (rng or random).uniform(0.5, 1.0)


def _connect(account: Account) -> Any:
    from assistant.sync.engine import make_connector

    return make_connector(account, None)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _said(account: Account, exc: BaseException, *, retrying: bool = False) -> str:
    """One line: for whom (unless the reason names the account already), whether it is tried again, and why."""
    reason = _one_line(exc)
    whose = "" if account.address and account.address in reason else f" for {account.address}"
    return f"Not watching for new mail{whose}{' for now, trying again' if retrying else ''}: {reason}"


def _account_key(account: Account) -> tuple[str, datetime | None]:
    return json.dumps(account.settings, sort_keys=True, default=str), account.last_sync_utc


class IdleWatches(QObject):
    woke = Signal(int, str)  # account id, the folder that changed
    failed = Signal(int, str)  # account id, one line for the user

    def __init__(self, parent: QObject | None = None, *, connect: Callable[[Account], Any] = _connect,
                 tick_s: float = 0.5, backoff: Callable[[int], float] | None = None):
        super().__init__(parent)
        self._connect = connect
        self._backoff = backoff or reconnect_delay
        self._tick_s = tick_s
        self._watches: dict[int, tuple[threading.Thread, threading.Event]] = {}
        # accounts whose watch ended on an error the user must fix, with the account as it was then
        self._ended: dict[int, tuple[str, datetime | None]] = {}

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
            ended = self._ended.get(account_id)
            if ended is not None and ended == _account_key(account):
                continue  # still as it was when the server refused it: trying again would only fail again
            self._ended.pop(account_id, None)
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
        assert account.id is not None
        failures = 0
        reported = False
        away = False  # the connection was lost: mail may have come meanwhile
        while not stop.is_set():
            connector = None
            connected_at: float | None = None
            try:
                connector = self._connect(account)
                connector.imap()
                connected_at = time.monotonic()
                if away:  # back after a drop: what came meanwhile was never announced, so one sync for it
                    away = False
                    self.woke.emit(account.id, WATCHED_FOLDER)
                while not stop.is_set():
                    if connector.watch(stop, folder=WATCHED_FOLDER, renew_after_s=RENEW_AFTER_S,
                                       tick_s=self._tick_s):
                        self.woke.emit(account.id, WATCHED_FOLDER)
            except UserError as exc:  # a refused password, an untrusted certificate: trying again cannot help
                log.info("IDLE watch of account %s ended: %s", account.id, exc)
                self._ended[account.id] = _account_key(account)
                self.failed.emit(account.id, _said(account, exc))
                return
            except Exception as exc:  # noqa: BLE001 - a dropped or refused connection: try again after a pause
                if connected_at is not None and time.monotonic() - connected_at >= STABLE_S:
                    failures, reported = 0, False
                failures += 1
                away = True
                if failures >= REPORT_AFTER and not reported and not stop.is_set():
                    reported = True
                    self.failed.emit(account.id, _said(account, exc, retrying=True))
                log.info("IDLE watch of account %s: %s; again in a while", account.id, exc)
                stop.wait(self._backoff(failures))
            finally:
                if connector is not None:
                    try:
                        connector.close()
                    except Exception:  # noqa: BLE001 - closing a dead connection
                        pass
