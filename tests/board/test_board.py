from datetime import UTC, datetime

import pytest

from assistant.board import service as board
from assistant.core.errors import InvalidInput, NotFound
from assistant.domain import Principal
from assistant.store import Store
from assistant.store import board as board_store
from assistant.store import calendar as calendar_store
from assistant.store import mail as mail_store


@pytest.fixture
def two(workspace: Store):
    ann = workspace.add_principal(Principal(name="Ann", timezone="America/New_York", addresses=["ann@example.com"]))
    ken = workspace.add_principal(Principal(name="Ken", timezone="Asia/Tokyo", addresses=["ken@example.com"]))
    return workspace, ann, ken


def names(store, pid):
    return [c.name for c in board_store.columns(store.scope(pid))]


def titles(store, pid, column):
    scope = store.scope(pid)
    col = board_store.column_by_name(scope, column)
    return [c.title for c in board_store.cards(scope) if c.column_id == col.id]


def test_default_columns_and_column_editing(two):
    store, ann, _ken = two
    assert names(store, ann.id) == ["Inbox", "To do", "Doing", "Waiting on principal", "Done"]
    scope = store.scope(ann.id)
    waiting = board_store.column_by_name(scope, "waiting on principal")
    board_store.rename_column(scope, waiting.id, "Waiting on Ann")
    new = board_store.add_column(scope, "Someday", index=1)
    board_store.move_column(scope, board_store.column_by_name(scope, "Done").id, 0)
    assert names(store, ann.id) == ["Done", "Inbox", "Someday", "To do", "Doing", "Waiting on Ann"]
    board.make_task(store, ann.id, "parked", column="Someday")
    board_store.remove_column(scope, new)
    assert names(store, ann.id) == ["Done", "Inbox", "To do", "Doing", "Waiting on Ann"]
    assert titles(store, ann.id, "Done") == ["parked"]
    with pytest.raises(InvalidInput):
        board_store.rename_column(scope, waiting.id, "  ")


def test_move_keeps_order_and_is_one_transaction(two):
    store, ann, _ = two
    for t in "abcd":
        board.make_task(store, ann.id, t, column="To do")
    scope = store.scope(ann.id)
    cards = {c.title: c for c in board_store.cards(scope)}
    doing = board_store.column_by_name(scope, "Doing").id
    board.move_task(store, ann.id, cards["c"].id, doing, 0)
    board.move_task(store, ann.id, cards["a"].id, doing, 0)
    board.move_task(store, ann.id, cards["d"].id, board_store.column_by_name(scope, "To do").id, 0)
    assert titles(store, ann.id, "To do") == ["d", "b"]
    assert titles(store, ann.id, "Doing") == ["a", "c"]
    positions = [c.position for c in board_store.cards(scope) if c.column_id == doing]
    assert positions == [0, 1]
    # a failure inside the move leaves nothing half done
    before = [(c.id, c.column_id, c.position) for c in board_store.cards(scope)]
    with pytest.raises(NotFound):
        board.move_task(store, ann.id, cards["b"].id, 999999, 0)
    assert [(c.id, c.column_id, c.position) for c in board_store.cards(scope)] == before


def test_one_principal_never_sees_or_touches_anothers_cards(two):
    store, ann, ken = two
    mine = board.make_task(store, ann.id, "Ann's secret")
    board.make_task(store, ken.id, "Ken's plan")
    assert [c.title for c in board_store.cards(store.scope(ken.id))] == ["Ken's plan"]
    assert board_store.search_ids(store.scope(ken.id), "secret") == set()
    assert board_store.search_ids(store.scope(ann.id), "secret") == {mine.id}
    ken_scope = store.scope(ken.id)
    with pytest.raises(NotFound):
        board_store.card(ken_scope, mine.id)
    with pytest.raises(NotFound):
        board.move_task(store, ken.id, mine.id, board_store.columns(ken_scope)[1].id)
    with pytest.raises(NotFound):  # a card cannot go into another principal's column
        board.move_task(store, ann.id, mine.id, board_store.columns(ken_scope)[1].id)
    with pytest.raises(NotFound):
        board.delete_task(store, ken.id, mine.id)
    assert board_store.card(store.scope(ann.id), mine.id).title == "Ann's secret"


def test_repeat_phrases():
    assert board.parse_repeat("every weekday") == "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    assert board.parse_repeat("First Monday of the month") == "FREQ=MONTHLY;BYDAY=1MO"
    assert board.parse_repeat("RRULE:FREQ=WEEKLY;BYDAY=FR") == "FREQ=WEEKLY;BYDAY=FR"
    with pytest.raises(InvalidInput):
        board.parse_repeat("whenever")


def test_done_recurring_card_makes_the_next_one_across_dst(two):
    store, ann, _ = two
    # Friday 6 March 2026 09:00 New York (EST); DST starts Sunday 8 March: the next weekday is Monday 9:00 EDT
    due = datetime(2026, 3, 6, 14, 0, tzinfo=UTC)
    card = board.make_task(store, ann.id, "Daily brief", column="To do", due_utc=due, repeat="every weekday")
    following = board.complete_task(store, ann.id, card.id, now=datetime(2026, 3, 6, 15, tzinfo=UTC))
    assert following is not None and following.title == "Daily brief"
    assert following.due_utc == datetime(2026, 3, 9, 13, 0, tzinfo=UTC)
    assert titles(store, ann.id, "To do") == ["Daily brief"]
    assert titles(store, ann.id, "Done") == ["Daily brief"]
    assert board_store.card(store.scope(ann.id), card.id).done_utc is not None
    monthly = board.make_task(store, ann.id, "Invoices", due_utc=datetime(2026, 4, 6, 13, tzinfo=UTC),
                              repeat="first monday of the month")
    nxt = board.complete_task(store, ann.id, monthly.id, now=datetime(2026, 4, 6, 14, tzinfo=UTC))
    assert nxt.due_utc == datetime(2026, 5, 4, 13, tzinfo=UTC)
    # done again does not repeat twice
    assert board.complete_task(store, ann.id, card.id) is None


def test_archive_done_after_n_days(two):
    store, ann, _ = two
    scope = store.scope(ann.id)
    old = board.make_task(store, ann.id, "old")
    new = board.make_task(store, ann.id, "new")
    board.complete_task(store, ann.id, old.id, now=datetime(2026, 1, 1, tzinfo=UTC))
    board.complete_task(store, ann.id, new.id, now=datetime(2026, 1, 9, tzinfo=UTC))
    board_store.set_archive_after_days(scope, 7)
    assert board_store.archive_done(scope, now=datetime(2026, 1, 10, tzinfo=UTC)) == 1
    assert [c.title for c in board_store.cards(scope)] == ["new"]
    assert {c.title for c in board_store.cards(scope, include_archived=True)} == {"old", "new"}


def test_filters(two):
    store, ann, _ = two
    now = datetime(2026, 6, 10, 16, tzinfo=UTC)  # Wednesday noon in New York
    board.make_task(store, ann.id, "late invoice", due_utc=datetime(2026, 6, 9, 16, tzinfo=UTC), labels=["money"])
    board.make_task(store, ann.id, "call plumber", due_utc=datetime(2026, 6, 10, 20, tzinfo=UTC), labels=["home"])
    board.make_task(store, ann.id, "book flights", due_utc=datetime(2026, 6, 13, 16, tzinfo=UTC))
    board.make_task(store, ann.id, "someday read", notes="the *plumber* book")
    cards = board_store.cards(store.scope(ann.id))

    def shown(**kw):
        return [c.title for c in board.filter_cards(store, ann.id, cards, board.CardFilter(**kw), now=now)]

    assert shown(due="overdue") == ["late invoice"]
    assert shown(due="today") == ["call plumber"]
    assert shown(due="week") == ["late invoice", "call plumber", "book flights"]
    assert shown(label="MONEY") == ["late invoice"]
    assert shown(text="plumber") == ["call plumber", "someday read"]


def test_delete_and_restore(two):
    store, ann, _ = two
    a = board.make_task(store, ann.id, "a", labels=["x"], checklist=[board.ChecklistItem("step", True)])
    board.make_task(store, ann.id, "b")
    gone = board.delete_task(store, ann.id, a.id)
    assert [c.title for c in board_store.cards(store.scope(ann.id))] == ["b"]
    back = board.restore_task(store, ann.id, gone)
    restored = board_store.cards(store.scope(ann.id))
    assert [c.title for c in restored] == ["a", "b"]
    assert restored[0].checklist == [board.ChecklistItem("step", True)] and back.labels == ["x"]
    assert board_store.search_ids(store.scope(ann.id), "a") == {back.id}


def test_board_survives_a_restart(tmp_path):
    store = Store(tmp_path / "w")
    ann = store.add_principal(Principal(name="Ann", timezone="Europe/Paris", addresses=["a@example.com"]))
    scope = store.scope(ann.id)
    board_store.add_column(scope, "Later", index=2)
    for t in "xyz":
        board.make_task(store, ann.id, t, column="Later", estimate_min=30, checklist=[board.ChecklistItem(t)])
    z = [c for c in board_store.cards(scope) if c.title == "z"][0]
    board.move_task(store, ann.id, z.id, board_store.column_by_name(scope, "Later").id, 0)
    before = (names(store, ann.id), board_store.cards(scope))
    store.close()
    store = Store(tmp_path / "w")
    try:
        assert (names(store, ann.id), board_store.cards(store.scope(ann.id))) == before
    finally:
        store.close()


def test_make_task_from_a_message_thread_and_event(workspace):
    from tests.ui.conftest import add_principal, add_thread

    ann, account = add_principal(workspace, "Ann", "America/New_York")
    add_thread(workspace, ann, account, "k1", "Re: Board meeting agenda")
    message = mail_store.search_messages(workspace.scope(ann.id), "agenda")[0]
    card = board.make_task_from(workspace, ann.id, "message", message.id)
    assert card.title == "Reply to: Board meeting agenda"
    assert board.parse_link(card.link) == ("message", message.id)
    thread = board.make_task_from(workspace, ann.id, "thread", message.thread_id)
    assert thread.title == "Follow up: Board meeting agenda"
    with pytest.raises(NotFound):
        board.make_task_from(workspace, ann.id, "message", 987654)


def test_due_cards_get_one_reminder_which_follows_edits_and_done(two):
    from assistant import reminders

    store, ann, _ = two

    def pending() -> dict[str, tuple]:
        return {r.link: (r.principal_id, r.kind, r.text, r.due_utc) for r in reminders.pending(store, ann.id)}

    due = datetime(2026, 5, 1, 13, tzinfo=UTC)
    card = board.make_task(store, ann.id, "Pay rent", due_utc=due)
    board.make_task(store, ann.id, "No due")
    quiet = board.make_task(store, ann.id, "Quiet", due_utc=due, remind=False)
    assert pending() == {f"task:{card.id}": (ann.id, "task", "Pay rent", due)}
    later = datetime(2026, 5, 2, 13, tzinfo=UTC)
    board.edit_task(store, ann.id, card.id, due_utc=later, title="Pay the rent")
    assert pending() == {f"task:{card.id}": (ann.id, "task", "Pay the rent", later)}
    assert len(reminders.pending(store, ann.id)) == 1  # the earlier one was cancelled, not left beside it
    board.edit_task(store, ann.id, quiet.id, remind=True)
    assert set(pending()) == {f"task:{card.id}", f"task:{quiet.id}"}
    board.complete_task(store, ann.id, card.id)
    board.delete_task(store, ann.id, quiet.id)
    assert pending() == {}


def test_due_card_reminder_through_the_reminders_store(two):
    from assistant import reminders

    store, ann, ken = two
    due = datetime(2026, 5, 1, 13, tzinfo=UTC)
    card = board.make_task(store, ann.id, "Pay rent", due_utc=due)
    [pending] = reminders.pending(store, ann.id)
    assert (pending.kind, pending.text, pending.due_utc, pending.link) == ("task", "Pay rent", due, f"task:{card.id}")
    assert reminders.pending(store, ken.id) == []
    board.complete_task(store, ann.id, card.id)
    assert reminders.pending(store, ann.id) == []


def test_make_task_from_an_event_and_a_call(workspace):
    from assistant.calls.manual import log_call
    from assistant.domain import CalendarEvent
    from tests.ui.conftest import add_principal

    ann, account = add_principal(workspace, "Ann", "America/New_York")
    start = datetime(2026, 4, 2, 15, tzinfo=UTC)
    event_id, _ = calendar_store.upsert_event(workspace.scope(ann.id), CalendarEvent(
        principal_id=ann.id, account_id=account.id, remote_id="e1", uid="e1", summary="Board dinner",
        start_utc=start, end_utc=start))
    call = log_call(workspace, ann.id, number="+12125550123", direction="missed", started_utc=start,
                    caller_name="Grace Hopper")
    from_event = board.make_task_from(workspace, ann.id, "event", event_id)
    from_call = board.make_task_from(workspace, ann.id, "call", call.id)
    assert (from_event.title, from_event.link) == ("Prepare: Board dinner", f"event:{event_id}")
    assert (from_call.title, from_call.link) == ("Follow up: Missed call from Grace Hopper", f"call:{call.id}")
