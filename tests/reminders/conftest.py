from __future__ import annotations

import mailbox

import pytest

from assistant.domain import Account, BusinessHours, Principal


@pytest.fixture
def ann(workspace) -> Principal:
    return workspace.add_principal(Principal("Ann", "America/New_York", ["ann@example.com"]))


@pytest.fixture
def kenji(workspace) -> Principal:
    return workspace.add_principal(Principal("Kenji", "Asia/Tokyo", ["kenji@example.jp"]))


@pytest.fixture
def eamon(workspace) -> Principal:
    """Europe/London: DST on different dates from New York."""
    return workspace.add_principal(Principal("Eamon", "Europe/London", ["eamon@example.ie"],
                                             business_hours=BusinessHours()))


@pytest.fixture
def maildir(tmp_path):
    path = tmp_path / "Maildir"
    mailbox.Maildir(path, create=True)
    return path


@pytest.fixture
def ann_local(workspace, ann, maildir) -> Account:
    return workspace.add_account(Account(ann.id, "local", "ann@example.com", settings={"maildir": str(maildir)}))
