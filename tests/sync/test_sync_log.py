"""Sync and send errors reach the app's log, as the user's one line does the account list."""
from __future__ import annotations

import logging

from assistant.core import logs
from assistant.domain import Account, Principal
from assistant.sync.engine import sync_account


def test_a_failed_sync_is_in_the_log(workspace, tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_LOG_DIR", str(tmp_path / "logs"))
    path = logs.setup_logging()
    try:
        p = workspace.add_principal(Principal(name="Ada", timezone="Europe/London", addresses=["ada@example.com"]))
        account = workspace.add_account(Account(principal_id=p.id, kind="local", address="ada@example.com",
                                                settings={"maildir": str(tmp_path / "gone")}))
        report = sync_account(workspace, account.id)
        assert report.errors
        text = path.read_text(encoding="utf-8")
        assert f"sync of account {account.id}: error: " in text
        assert report.errors[0] in text
    finally:
        for handler in [h for h in logging.getLogger().handlers if isinstance(h, logs._Handler)]:
            logging.getLogger().removeHandler(handler)
            handler.close()
