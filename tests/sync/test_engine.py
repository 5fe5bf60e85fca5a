from __future__ import annotations

import random
import shutil
from datetime import UTC, datetime, timedelta

import pytest

from assistant.connectors.base import Capability, Connector, MailPage
from assistant.core.errors import NeedsSignIn, PermanentError, TransientError
from assistant.domain import Account, AccountStatus, OutboxEntry
from assistant.sync import actions
from assistant.sync.engine import BACKOFF_CAP_S, backoff_delay, sync_account, sync_all

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


# -- a source that suddenly looks empty --------------------------------------------------------------------------------
def _empty_the_maildir(local) -> None:
    for sub in ("cur", "new"):
        shutil.rmtree(local.maildir / sub)
        (local.maildir / sub).mkdir()


def test_emptied_maildir_keeps_the_local_copy_and_says_why(local):
    for n in range(4):
        local.add(n)
    sync_account(local.store, local.account.id)
    _empty_the_maildir(local)
    report = sync_account(local.store, local.account.id)
    assert len(report.errors) == 1 and "shows no messages" in report.errors[0]
    assert local.count() == 4
    account = local.store.account(local.account.id)
    assert account.status is AccountStatus.ERROR and "shows no messages" in account.last_error
    # It stays an error until the user decides: the next pass refuses again.
    assert sync_account(local.store, local.account.id).errors
    assert local.count() == 4


def test_allow_empty_accepts_the_wipe(local):
    for n in range(4):
        local.add(n)
    sync_account(local.store, local.account.id)
    _empty_the_maildir(local)
    report = sync_account(local.store, local.account.id, allow_empty=True)
    assert report.errors == [] and report.mail["removed"] == 4
    assert local.count() == 0
    assert local.store.account(local.account.id).status is AccountStatus.OK


def test_emptied_source_after_a_lost_cursor_is_refused_too(local):
    for n in range(3):
        local.add(n)
    sync_account(local.store, local.account.id)
    local.store.set_cursor(local.account.id, "mail", None)  # a full listing next time
    _empty_the_maildir(local)
    assert sync_account(local.store, local.account.id).errors
    assert local.count() == 3


def test_missing_maildir_is_an_error_not_a_wipe(local):
    local.add(1)
    sync_account(local.store, local.account.id)
    shutil.rmtree(local.maildir)
    report = sync_account(local.store, local.account.id)
    assert report.errors and "not a maildir" in report.errors[0]
    assert local.count() == 1


# -- the outbox: retry, backoff, permanent failures ------------------------------------------------------------------
class ScriptedConnector(Connector):
    """Applies outbox entries by following a script of outcomes; lists no mail."""

    kind = "scripted"
    display_name = "Scripted"
    capabilities = frozenset({Capability.MAIL, Capability.SEND})

    def __init__(self, account, outcomes):
        super().__init__(account)
        self.outcomes = list(outcomes)
        self.applied: list[str] = []

    def mail_changes(self, cursor):
        yield MailPage(cursor="c")

    def apply(self, entry):
        self.requests_made += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        self.applied.append(entry.idempotency_key)
        return {"ok": True}


@pytest.fixture
def scripted(local):
    account = local.store.add_account(Account(local.account.principal_id, "scripted", "ada@example.com"))
    entry = local.store.enqueue(OutboxEntry(account.principal_id, account.id, "set-flags",
                                            {"remote_id": "r1", "is_read": True}, "key-1"))
    return local.store, account, entry


def test_transient_failures_back_off_then_succeed(scripted):
    store, account, entry = scripted
    connector = ScriptedConnector(account, [TransientError("connection reset"), TransientError("503"), "ok"])

    report = sync_account(store, account.id, connector, now=T0)
    first = store.outbox_entry(entry.id)
    assert (first.state, first.attempts, first.last_error) == ("pending", 1, "connection reset")
    assert T0 + timedelta(seconds=15) <= first.next_attempt_utc <= T0 + timedelta(seconds=30)
    assert report.outbox == {"sent": 0, "failed": 0, "pending": 1}

    sync_account(store, account.id, connector, now=T0 + timedelta(seconds=10))
    assert store.outbox_entry(entry.id).attempts == 1  # not due yet: left alone

    sync_account(store, account.id, connector, now=first.next_attempt_utc)
    second = store.outbox_entry(entry.id)
    assert (second.state, second.attempts, second.last_error) == ("pending", 2, "503")
    assert first.next_attempt_utc + timedelta(seconds=30) <= second.next_attempt_utc  # the delay doubled

    report = sync_account(store, account.id, connector, now=second.next_attempt_utc)
    done = store.outbox_entry(entry.id)
    assert (done.state, done.attempts, done.result) == ("done", 3, {"ok": True})
    assert report.outbox == {"sent": 1, "failed": 0, "pending": 0}
    assert connector.applied == ["key-1"]


def test_retry_after_from_the_server_is_honoured(scripted):
    store, account, entry = scripted
    sync_account(store, account.id, ScriptedConnector(account, [TransientError("429", retry_after=2.128)]), now=T0)
    assert store.outbox_entry(entry.id).next_attempt_utc == T0 + timedelta(seconds=2)  # stored to the second


def test_permanent_error_keeps_last_error_and_is_not_retried(scripted):
    store, account, entry = scripted
    connector = ScriptedConnector(account, [PermanentError("the message no longer exists")])
    report = sync_account(store, account.id, connector, now=T0)
    failed = store.outbox_entry(entry.id)
    assert (failed.state, failed.last_error) == ("failed", "the message no longer exists")
    assert report.outbox["failed"] == 1 and "the message no longer exists" in report.errors[0]
    sync_account(store, account.id, connector, now=T0 + timedelta(days=1))
    assert store.outbox_entry(entry.id).state == "failed"  # the script would raise IndexError if it were retried
    actions.retry_outbox_entry(store, entry.id)
    connector.outcomes.append("ok")
    sync_account(store, account.id, connector, now=T0 + timedelta(days=1))
    assert store.outbox_entry(entry.id).state == "done"


def test_needs_sign_in_stops_and_keeps_the_entry(scripted):
    store, account, entry = scripted
    report = sync_account(store, account.id, ScriptedConnector(account, [NeedsSignIn("sign in to Gmail again")]),
                          now=T0)
    assert report.errors == ["sign in to Gmail again"]
    assert store.account(account.id).status is AccountStatus.NEEDS_SIGN_IN
    kept = store.outbox_entry(entry.id)
    assert kept.state == "pending" and kept.next_attempt_utc is None


def test_backoff_is_exponential_jittered_and_capped():
    rng = random.Random(7)
    delays = [backoff_delay(n, rng) for n in range(1, 12)]
    for n, delay in enumerate(delays, 1):
        ceiling = min(BACKOFF_CAP_S, 30 * 2 ** (n - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert len({round(d, 6) for d in delays[-3:]}) == 3  # jitter: capped delays still differ


def test_sync_all_skips_imports_and_reports_each_account(local):
    local.add(1)
    local.store.add_account(Account(local.account.principal_id, "import", "archive.mbox"))
    reports = sync_all(local.store)
    assert [(r.kind, r.mail["added"]) for r in reports] == [("local", 1)]
    assert reports[0].to_json()["principal"] == "Ada Obi"


def test_unknown_connector_kind_is_one_line(local):
    account = local.store.add_account(Account(local.account.principal_id, "carrier-pigeon", "x@example.com"))
    report = sync_account(local.store, account.id)
    assert len(report.errors) == 1 and "carrier-pigeon" in report.errors[0]
    assert local.store.account(account.id).status is AccountStatus.ERROR


def test_progress_is_reported(local):
    local.add(1)
    seen = []
    sync_account(local.store, local.account.id, progress=lambda account_id, text: seen.append((account_id, text)))
    assert seen[0] == (local.account.id, "syncing") and seen[-1] == (local.account.id, "up to date")
