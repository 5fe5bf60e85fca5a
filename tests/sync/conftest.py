from __future__ import annotations

import mailbox
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant.domain import Account, Principal
from assistant.store import Store
from tests.connectors.contract import make_raw


@dataclass
class LocalSetup:
    store: Store
    account: Account
    maildir: Path

    @property
    def scope(self):
        return self.store.scope(self.account.principal_id)

    def add(self, n: int, **kw) -> None:
        mailbox.Maildir(self.maildir, create=True).add(make_raw(n, **kw))

    def count(self, sql: str = "SELECT COUNT(*) FROM messages WHERE account_id=?") -> int:
        return self.store.db.execute(sql, (self.account.id,)).fetchone()[0]


@pytest.fixture
def local(workspace: Store, tmp_path) -> LocalSetup:
    maildir = tmp_path / "Maildir"
    mailbox.Maildir(maildir, create=True)
    principal = workspace.add_principal(Principal("Ada Obi", "Africa/Lagos", ["ada@example.com"]))
    account = workspace.add_account(Account(principal.id, "local", "ada@example.com", {"maildir": str(maildir)}))
    return LocalSetup(workspace, account, maildir)
