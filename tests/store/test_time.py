"""The time entries' write path: history of every change, one timer in the workspace, a forgotten timer told."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from assistant import timekeeping
from assistant.core.errors import InvalidInput
from assistant.domain import Principal
from assistant.store import Store
from assistant.store import time as time_store

T0 = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


@pytest.fixture
def two(tmp_path):
    store = Store(tmp_path / "ws")
    ann = store.add_principal(Principal("Ann", "America/New_York", ["ann@example.com"]))
    ken = store.add_principal(Principal("Ken", "Asia/Tokyo", ["ken@example.jp"]))
    yield store, ann, ken
    store.close()


def test_every_change_keeps_what_the_entry_was(two):
    store, ann, _ken = two
    scope = store.scope(ann.id)
    e = timekeeping.add_entry(store, ann.id, T0, T0 + timedelta(minutes=30), note="call prep")
    e.end_utc = T0 + timedelta(minutes=45)
    e.note = "call prep and notes"
    time_store.update_entry(scope, e, actor="assistant")
    time_store.delete_entry(scope, e.id)
    history = time_store.history(scope, e.id)
    assert [h["action"] for h in history] == ["added", "changed", "deleted"]
    assert history[1]["before"]["note"] == "call prep" and history[2]["before"]["note"] == "call prep and notes"


def test_one_timer_in_the_workspace_and_a_forgotten_one_is_told(two):
    store, ann, ken = two
    timekeeping.start_timer(store, ann.id, now=T0)
    with pytest.raises(InvalidInput, match="already running"):
        timekeeping.start_timer(store, ken.id, now=T0)
    stopped = timekeeping.stop_timer(store, now=T0 + timedelta(hours=11, minutes=5))
    assert stopped.principal.id == ann.id and "ran 11 h 05 min" in stopped.warning
    assert time_store.running_timer(store) is None
    timekeeping.start_timer(store, ken.id, now=T0 + timedelta(hours=12))
    assert timekeeping.stop_timer(store, now=T0 + timedelta(hours=13)).warning == ""


def test_entries_are_one_principals(two):
    store, ann, ken = two
    timekeeping.add_entry(store, ann.id, T0, T0 + timedelta(minutes=10))
    timekeeping.add_entry(store, ken.id, T0, T0 + timedelta(minutes=10))  # the same hour for another: allowed
    sheet = timekeeping.timesheet(store, ken.id, T0.date() - timedelta(days=1), T0.date() + timedelta(days=2))
    assert [line.entry.principal_id for line in sheet.lines] == [ken.id]


def test_a_retainer_notice_is_given_once_per_period_and_level(two):
    from decimal import Decimal

    from assistant.domain import Billing

    store, ann, _ken = two
    time_store.save_billing(store.scope(ann.id), Billing(retainer_minutes=600, retainer_per="month"))
    december = datetime(2026, 12, 10, 17, 0, tzinfo=UTC)
    timekeeping.add_entry(store, ann.id, T0, T0 + timedelta(hours=7, minutes=59))
    assert timekeeping.retainer_notice_due(store, ann.id, december) is None  # 79.8 %: not yet
    timekeeping.add_entry(store, ann.id, T0 + timedelta(hours=8), T0 + timedelta(hours=8, minutes=1))
    assert timekeeping.retainer_notice_due(store, ann.id, december) == (
        "Ann's retainer for December 2026 is 80 % used: 8:00 of 10:00 h, 2:00 h left")
    assert timekeeping.retainer_notice_due(store, ann.id, december) is None  # said once
    timekeeping.add_entry(store, ann.id, T0 + timedelta(days=1), T0 + timedelta(days=1, hours=3))
    assert timekeeping.retainer_notice_due(store, ann.id, december) == (
        "Ann's retainer for December 2026 is used up: 11:00 of 10:00 h, 1:00 h over")
    assert timekeeping.retainer_notice_due(store, ann.id, december) is None
    status = timekeeping.retainer_status(store, ann.id, december.date())
    assert status is not None and (status.percent, status.level, status.used_minutes) == (110, 100, Decimal(660))
    # a new period starts afresh; a retainer reached at once is told at 100 % alone
    january = datetime(2027, 1, 20, 17, 0, tzinfo=UTC)
    timekeeping.add_entry(store, ann.id, january - timedelta(hours=11), january - timedelta(minutes=30))
    assert timekeeping.retainer_notice_due(store, ann.id, january).startswith("Ann's retainer for January 2027 is used up")
    assert timekeeping.retainer_notice_due(store, ann.id, january) is None
