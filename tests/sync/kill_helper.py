"""Run one sync in a child process and freeze at a chosen point, so the test can SIGKILL it there.

Usage: kill_helper.py WORKSPACE ACCOUNT_ID MODE MARKER [K]
  pages        freeze when page K is asked for (earlier pages committed, later ones not)
  mid-page     freeze inside the transaction of page K, after a few messages were written
  send-before  freeze when the send is requested, before the connector performs it
  send-after   freeze after the connector performed the send, before the engine records it
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from assistant.connectors.local import LocalConnector
from assistant.core import timezones
from assistant.store import Store
from assistant.sync.engine import sync_account


def say(marker: Path, text: str) -> None:
    """Write the marker whole or not at all: the test polls for it and reads it at once (write, then rename)."""
    partial = marker.with_name(marker.name + ".partial")
    partial.write_text(text)
    partial.replace(marker)


def freeze(marker: Path) -> None:
    say(marker, "frozen")
    while True:
        time.sleep(60)


class FreezingList(list):
    def __init__(self, items, marker: Path, after: int):
        super().__init__(items)
        self.marker, self.after = marker, after

    def __iter__(self):
        for n, item in enumerate(super().__iter__()):
            if n == self.after:
                freeze(self.marker)
            yield item


class FreezingConnector(LocalConnector):
    def __init__(self, account, *, mode: str, marker: Path, k: int, **kw):
        super().__init__(account, **kw)
        self.mode, self.marker, self.k = mode, marker, k

    def mail_changes(self, cursor):
        for n, page in enumerate(super().mail_changes(cursor)):
            if n == self.k and self.mode == "pages":
                freeze(self.marker)
            if n == self.k and self.mode == "mid-page":
                page.upserted = FreezingList(page.upserted, self.marker, after=2)
            yield page

    def apply(self, entry):
        if self.mode == "send-before":
            freeze(self.marker)
        result = super().apply(entry)
        if self.mode == "send-after":
            freeze(self.marker)
        return result


def main(workspace: str, account_id: str, mode: str, marker: str, k: str = "0") -> None:
    timezones.configure()
    store = Store(workspace)
    account = store.account(int(account_id))
    connector = FreezingConnector(account, mode=mode, marker=Path(marker), k=int(k), page_size=5)
    sync_account(store, account.id, connector)
    say(Path(marker), "finished without freezing")


if __name__ == "__main__":
    main(*sys.argv[1:])
