from __future__ import annotations

import mailbox

import pytest

from assistant.domain import Account, ApprovalPolicy, Principal


@pytest.fixture
def maildir(tmp_path):
    path = tmp_path / "Maildir"
    mailbox.Maildir(path, create=True)
    return path


@pytest.fixture
def ann(workspace) -> Principal:
    return workspace.add_principal(Principal("Ann", "America/New_York", ["ann@example.com"],
                                             approval_policy=ApprovalPolicy.ALWAYS))


@pytest.fixture
def local_account(workspace, ann, maildir) -> Account:
    return workspace.add_account(Account(ann.id, "local", "ann@example.com", settings={"maildir": str(maildir)}))
