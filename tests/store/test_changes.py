"""Every write path says what it changed; a rolled-back transaction changed nothing."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from assistant.board import service as board
from assistant.domain import Principal
from assistant.store import Store
from assistant.store.changes import Area, Changes


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "ws")
    yield s
    s.close()


def test_a_card_made_through_the_board_says_board_and_reminders_of_its_principal(store):
    ann = store.add_principal(Principal(name="Ann", timezone="America/New_York"))
    ken = store.add_principal(Principal(name="Ken", timezone="Asia/Tokyo"))
    store.take_changes()
    board.make_task(store, ann.id, "Pay rent", due_utc=datetime(2026, 5, 1, 13, tzinfo=UTC))
    changes = store.take_changes()
    assert changes.touches(Area.BOARD, principal_id=ann.id) and changes.touches(Area.REMINDERS, principal_id=ann.id)
    assert not changes.touches(Area.BOARD, principal_id=ken.id)
    assert not changes.touches(Area.MAIL, Area.CALLS)
    assert not store.take_changes()  # taken once


def test_a_rolled_back_transaction_changed_nothing(store):
    ann = store.add_principal(Principal(name="Ann", timezone="America/New_York"))
    store.take_changes()
    with pytest.raises(RuntimeError), store.transaction():
        board.make_task(store, ann.id, "never lands")
        raise RuntimeError("crash")
    assert not store.take_changes()


def test_a_change_for_every_principal_touches_each_of_them():
    everyone = Changes.of([(Area.REMINDERS, None)])
    assert everyone.touches(Area.REMINDERS, principal_id=7)
    assert not everyone.touches(Area.BOARD, principal_id=7)
    assert (everyone | Changes.of([(Area.BOARD, 7)])).areas == {Area.REMINDERS, Area.BOARD}
