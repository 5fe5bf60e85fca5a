"""Automatic time without Qt: the clock's decisions on a fake time line, and what they write to a real store."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from assistant import timekeeping
from assistant.calls.manual import edit_call, log_call
from assistant.core.errors import InvalidInput
from assistant.domain import Principal, TimeSource
from assistant.store import Store
from assistant.store import time as time_store
from assistant.timekeeping.auto import AWAY_NOTE, AutoClock, Gap, Look, Segment, free_parts, record_away, record_segment

T0 = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
DANA, KENJI = 1, 2


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def spans(segments: list[Segment]) -> list[tuple[int, float, float, str]]:
    """(principal, start minute, end minute, item) of each segment, for reading the tests."""
    return [(s.principal_id, (s.start_utc - T0).total_seconds() / 60, (s.end_utc - T0).total_seconds() / 60, s.item)
            for s in segments]


def in_use_at(minute: float, look: Look) -> AutoClock:
    clock = AutoClock()
    clock.see(at(minute), look)
    clock.enter(at(minute))
    return clock


# -- the clock --------------------------------------------------------------------------------------------------------
def test_a_segment_per_principal_and_item_with_the_titles_they_had():
    clock = in_use_at(0, Look(KENJI, "thread:1", "Loading…"))
    clock.see(at(1), Look(KENJI, "thread:1", "Re: Deed of assignment"))  # the subject arrived: the same segment
    clock.input(at(2))
    clock.see(at(12), Look(DANA, "task:7", "Book flights"))
    clock.input(at(15))
    clock.stop(at(20))
    assert spans(clock.take_segments()) == [(KENJI, 0, 12, "thread:1"), (DANA, 12, 20, "task:7")]


def test_the_title_shown_last_is_kept_and_no_look_splits_the_same_thing():
    clock = in_use_at(0, Look(DANA, "", "Re: lea", key="compose:1"))
    clock.see(at(1), Look(DANA, "", "Re: lease", key="compose:1"))
    clock.see(at(2), Look(DANA, "draft:9", "Re: lease renewal", key="compose:1"))  # saved: it has an id now
    clock.stop(at(5))
    (segment,) = clock.take_segments()
    assert (segment.item, segment.title, segment.seconds) == ("draft:9", "Re: lease renewal", 300)


def test_short_segments_join_the_one_before_of_the_same_principal():
    clock = in_use_at(0, Look(DANA, "thread:1", "A"))
    for i, minute in enumerate((5, 5.1, 5.2), start=2):  # j j j past three threads, a few seconds each
        clock.see(at(minute), Look(DANA, f"thread:{i}", "skimmed"))
    clock.see(at(5.3), Look(DANA, "thread:5", "E"))
    clock.stop(at(9.3))
    segments = clock.take_segments()
    assert spans(segments) == [(DANA, 0, 5, "thread:1"), (DANA, 5, 5.1, "thread:1"), (DANA, 5.1, 5.2, "thread:1"),
                               (DANA, 5.2, 5.3, "thread:1"), (DANA, 5.3, 9.3, "thread:5")]


def test_a_short_first_segment_is_carried_into_the_next_of_the_same_principal():
    clock = in_use_at(0, Look(DANA, "", "Inbox", key="view:Inbox"))
    clock.see(at(0.2), Look(DANA, "task:7", "Book flights"))
    clock.stop(at(4))
    assert spans(clock.take_segments()) == [(DANA, 0, 4, "task:7")]


def test_passing_through_another_principal_is_not_work():
    clock = in_use_at(0, Look(KENJI, "thread:1", "A"))
    clock.see(at(3), Look(DANA, "thread:2", "top of Dana's inbox"))  # Ctrl+PgDn twice
    clock.see(at(3.05), Look(3, "thread:3", "B"))
    clock.stop(at(6))
    assert spans(clock.take_segments()) == [(KENJI, 0, 3, "thread:1"), (3, 3.05, 6, "thread:3")]


def test_idle_stops_the_clock_at_the_last_input_and_the_gap_is_asked_about_once():
    clock = in_use_at(0, Look(DANA, "task:7", "Book flights"))
    clock.input(at(8))
    clock.tick(at(12))  # 4 min without input: still counting
    assert clock.running
    clock.tick(at(13))
    assert not clock.running and clock.idle and clock.stopped_at == at(8)
    assert spans(clock.take_segments()) == [(DANA, 0, 8, "task:7")]
    clock.see(at(20), Look(KENJI, "thread:1", "A"))  # the app changed the view meanwhile (a link, a sync)
    clock.input(at(31))
    assert clock.take_gaps() == [Gap(at(8), at(31), DANA)]  # whose time was counting, not what is shown now
    clock.input(at(32))
    clock.stop(at(40))
    assert clock.take_gaps() == []
    assert spans(clock.take_segments()) == [(KENJI, 31, 40, "thread:1")]


def test_leaving_the_window_stops_the_clock_and_only_a_long_absence_is_asked_about():
    clock = in_use_at(0, Look(DANA, "thread:1", "A"))
    clock.leave(at(10))
    clock.enter(at(12))  # two minutes in another program: not counted, not asked
    assert clock.take_gaps() == []
    clock.leave(at(20))
    clock.enter(at(45))
    assert clock.take_gaps() == [Gap(at(20), at(45), DANA)]
    clock.stop(at(50))
    assert spans(clock.take_segments()) == [(DANA, 0, 10, "thread:1"), (DANA, 12, 20, "thread:1"),
                                            (DANA, 45, 50, "thread:1")]


def test_a_night_away_is_not_asked_about():
    clock = in_use_at(0, Look(DANA, "thread:1", "A"))
    clock.tick(at(6))
    clock.input(at(14 * 60))
    assert clock.take_gaps() == [] and clock.running


def test_nothing_counts_while_the_manual_timer_runs_and_no_gap_is_asked_for_it():
    clock = in_use_at(0, Look(DANA, "thread:1", "A"))
    clock.hold(at(5), True)
    assert not clock.running
    clock.tick(at(30))
    clock.input(at(50))
    assert clock.take_gaps() == [] and not clock.running
    clock.hold(at(60), False)
    clock.stop(at(70))
    assert spans(clock.take_segments()) == [(DANA, 0, 5, "thread:1"), (DANA, 60, 70, "thread:1")]


def test_a_timer_stopped_while_the_assistant_is_away_asks_from_when_it_stopped():
    clock = in_use_at(0, Look(DANA, "thread:1", "A"))
    clock.hold(at(5), True)
    clock.leave(at(6))
    clock.hold(at(40), False)  # stopped from the command line
    clock.enter(at(55))
    assert clock.take_gaps() == [Gap(at(40), at(55), DANA)]


def test_the_idle_limit_is_a_setting_and_no_principal_means_no_time():
    clock = AutoClock(idle_after=timedelta(minutes=2))
    clock.see(at(0), Look(None))
    clock.enter(at(0))
    clock.tick(at(3))
    clock.input(at(10))
    assert clock.take_gaps() == [] and clock.take_segments() == []
    clock.see(at(10), Look(DANA, "thread:1", "A"))
    clock.input(at(11))
    clock.tick(at(12.5))
    assert clock.running
    clock.tick(at(13))
    assert spans(clock.take_segments()) == [(DANA, 10, 11, "thread:1")] and clock.idle


def test_free_parts():
    taken = [(at(2), at(4)), (at(3), at(5)), (at(8), at(9))]
    assert free_parts(at(0), at(10), taken) == [(at(0), at(2)), (at(5), at(8)), (at(9), at(10))]
    assert free_parts(at(3), at(4), taken) == []


# -- writing ----------------------------------------------------------------------------------------------------------
@pytest.fixture
def two(tmp_path):
    store = Store(tmp_path / "ws")
    dana = store.add_principal(Principal("Dana", "America/New_York", ["dana@example.com"]))
    kenji = store.add_principal(Principal("Kenji", "Asia/Tokyo", ["kenji@example.jp"], region="JP"))
    yield store, dana, kenji
    store.close()


def entries(store: Store, principal_id: int) -> list[tuple[str, float, float, str, str]]:
    return [(e.source.value, (e.start_utc - T0).total_seconds() / 60,
             ((e.end_utc or T0) - T0).total_seconds() / 60, e.item, e.item_title or e.note)
            for e in time_store.entries(store.scope(principal_id), T0 - timedelta(days=1), T0 + timedelta(days=1))]


def test_segments_become_entries_and_one_that_continues_an_entry_extends_it(two):
    store, dana, _kenji = two
    record_segment(store, Segment(dana.id, at(0), at(5), "thread:1", "Re: Deed of assignment"))
    # the next segment on the same thread (a short one joined it, or the assistant came back to it) extends the entry
    record_segment(store, Segment(dana.id, at(5), at(5.2), "thread:1", "Re: Deed of assignment"))
    record_segment(store, Segment(dana.id, at(5.2), at(9), "task:7", "Book flights"))
    record_segment(store, Segment(dana.id, at(12), at(12.3), "task:7", "Book flights"))  # short and alone: left out
    assert entries(store, dana.id) == [("auto", 0, 5.2, "thread:1", "Re: Deed of assignment"),
                                       ("auto", 5.2, 9, "task:7", "Book flights")]
    (first, _second) = time_store.entries(store.scope(dana.id), T0, at(10))
    assert [h["action"] for h in time_store.history(store.scope(dana.id), first.id)] == ["added", "changed"]


def test_automatic_time_fills_only_what_no_entry_covers_and_waits_for_the_timer(two):
    store, dana, kenji = two
    timekeeping.add_entry(store, kenji.id, at(10), at(20), note="typed in for Kenji")
    timekeeping.add_entry(store, dana.id, at(30), at(31), note="typed in for Dana")
    written = record_segment(store, Segment(dana.id, at(0), at(40), "thread:1", "A"))
    assert [(e.start_utc, e.end_utc) for e in written] == [(at(0), at(10)), (at(20), at(30)), (at(31), at(40))]
    timekeeping.start_timer(store, kenji.id, now=at(50))
    assert record_segment(store, Segment(dana.id, at(45), at(60), "thread:1", "A"))[-1].end_utc == at(50)
    assert record_segment(store, Segment(dana.id, at(60), at(70), "thread:1", "A")) == []


def test_a_segment_of_a_principal_removed_meanwhile_writes_nothing(two):
    store, dana, _kenji = two
    assert record_segment(store, Segment(dana.id + 100, at(0), at(5), "thread:1", "A")) == []


def test_a_gap_answered_for_a_principal_is_their_entry_around_what_is_already_there(two):
    store, dana, kenji = two
    timekeeping.add_entry(store, kenji.id, at(10), at(15), note="on the phone for Kenji")
    written = record_away(store, dana.id, at(0), at(23))
    assert [(e.source, e.note) for e in written] == [(TimeSource.MANUAL, AWAY_NOTE)] * 2
    assert entries(store, dana.id) == [("manual", 0, 10, "", AWAY_NOTE), ("manual", 15, 23, "", AWAY_NOTE)]


def test_a_logged_call_counts_for_its_principal_and_automatic_time_gives_way(two):
    store, dana, kenji = two
    record_segment(store, Segment(dana.id, at(0), at(30), "thread:1", "A"))  # the window showed Dana's mail…
    record_segment(store, Segment(kenji.id, at(30), at(40), "thread:2", "B"))
    # …while the assistant was on the phone for Kenji from minute 10 to 35 (the quick log's timer)
    call = log_call(store, kenji.id, number="+81 3 1234 5678", direction="in", started_utc=at(10), duration_s=25 * 60,
                    caller_name="Daisuke")
    assert entries(store, dana.id) == [("auto", 0, 10, "thread:1", "A")]
    assert entries(store, kenji.id) == [("call", 10, 35, f"call:{call.id}", "Call from Daisuke"),
                                        ("auto", 35, 40, "thread:2", "B")]
    # a call inside an automatic entry splits it
    record_segment(store, Segment(dana.id, at(60), at(90), "thread:1", "A"))
    log_call(store, dana.id, number="+1 212 555 0100", direction="out", started_utc=at(70), duration_s=300)
    assert [row[:3] for row in entries(store, dana.id)] == [("auto", 0, 10), ("auto", 60, 70), ("call", 70, 75),
                                                            ("auto", 75, 90)]


def test_missed_calls_and_calls_without_a_duration_count_nothing(two):
    store, dana, _kenji = two
    log_call(store, dana.id, number="+1 212 555 0100", direction="missed", started_utc=at(0), duration_s=0)
    log_call(store, dana.id, number="+1 212 555 0100", direction="voicemail", started_utc=at(5), duration_s=40)
    log_call(store, dana.id, number="+1 212 555 0100", direction="in", started_utc=at(9), duration_s=0)
    assert entries(store, dana.id) == []


def test_a_call_logged_over_an_entry_typed_in_takes_only_the_time_left(two):
    store, dana, _kenji = two
    timekeeping.add_entry(store, dana.id, at(0), at(10), note="typed in")
    log_call(store, dana.id, number="+1 212 555 0100", direction="out", started_utc=at(5), duration_s=600)
    assert [row[:3] for row in entries(store, dana.id)] == [("manual", 0, 10), ("call", 10, 15)]


def test_editing_a_calls_duration_moves_its_time_entry_and_keeps_its_history(two):
    store, dana, _kenji = two
    call = log_call(store, dana.id, number="+1 212 555 0100", direction="out", started_utc=at(0), duration_s=600,
                    caller_name="Grace")
    (logged,) = time_store.entries_on(store.scope(dana.id), f"call:{call.id}")
    edit_call(store, dana.id, call.id, duration_s=25 * 60)  # it was longer than the quick log said
    assert entries(store, dana.id) == [("call", 0, 25, f"call:{call.id}", "Call to Grace")]
    (moved,) = time_store.entries_on(store.scope(dana.id), f"call:{call.id}")
    assert moved.id == logged.id  # the same entry, changed through the one write path
    history = time_store.history(store.scope(dana.id), moved.id)
    assert [h["action"] for h in history] == ["added", "changed"]
    assert history[1]["before"]["end_utc"] == int(at(10).timestamp())
    edit_call(store, dana.id, call.id, duration_s=5 * 60)
    assert entries(store, dana.id) == [("call", 0, 5, f"call:{call.id}", "Call to Grace")]
    edit_call(store, dana.id, call.id, notes="no time after all", duration_s=0)
    assert entries(store, dana.id) == []
    assert [h["action"] for h in time_store.history(store.scope(dana.id), moved.id)][-1] == "deleted"


def test_a_longer_call_takes_time_only_from_automatic_entries_and_other_edits_leave_its_time(two):
    store, dana, _kenji = two
    call = log_call(store, dana.id, number="+1 212 555 0100", direction="in", started_utc=at(0), duration_s=300)
    record_segment(store, Segment(dana.id, at(5), at(20), "thread:1", "A"))
    timekeeping.add_entry(store, dana.id, at(20), at(25), note="typed in")
    edit_call(store, dana.id, call.id, duration_s=30 * 60)
    assert [row[:3] for row in entries(store, dana.id)] == [("call", 0, 20), ("manual", 20, 25), ("call", 25, 30)]
    edit_call(store, dana.id, call.id, outcome="sorted")  # the duration is not touched: neither is the time
    assert [row[:3] for row in entries(store, dana.id)] == [("call", 0, 20), ("manual", 20, 25), ("call", 25, 30)]
    with pytest.raises(InvalidInput):
        edit_call(store, dana.id, call.id, duration_s=-1)
