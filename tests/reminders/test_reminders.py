"""The reminder domain with a fake clock: every ``now`` is passed in; nothing sleeps."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from assistant import reminders
from assistant.core.errors import InvalidInput, NotFound
from assistant.core.timezones import local_to_utc
from assistant.domain import ReminderState
from assistant.store import reminders as rstore

UTC = UTC
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_add_list_and_cancel_by_link(workspace, ann, kenji):
    a = reminders.add_reminder(workspace, ann.id, kind="task", text="Send the deck", due_utc=T0, link="task:1", now=T0)
    reminders.add_reminder(workspace, kenji.id, kind="task", text="Kenji's", due_utc=T0, link="task:1", now=T0)
    assert [r.id for r in reminders.pending(workspace, ann.id)] == [a.id]
    assert reminders.cancel_reminders(workspace, ann.id, "task:1") == 1
    assert reminders.pending(workspace, ann.id) == []
    assert len(reminders.pending(workspace, kenji.id)) == 1  # another principal's link is untouched
    assert reminders.cancel_reminders(workspace, ann.id, "task:1") == 0


def test_bad_input_is_a_user_error(workspace, ann):
    with pytest.raises(InvalidInput):
        reminders.add_reminder(workspace, ann.id, kind="nonsense", text="x", due_utc=T0)
    with pytest.raises(InvalidInput):
        reminders.add_reminder(workspace, ann.id, kind="free", text="x", due_utc=T0.replace(tzinfo=None))
    with pytest.raises(InvalidInput):
        reminders.add_reminder(workspace, ann.id, kind="free", text="x", due_utc=T0, rrule="FREQ=SOMETIMES")


def test_fire_persists_first_and_never_twice(workspace, ann):
    r = reminders.add_reminder(workspace, ann.id, kind="free", text="Call the bank", due_utc=T0, now=T0)
    notice = reminders.fire(workspace, ann.id, r.id, now=T0, assistant_zone="UTC")
    assert notice is not None and not notice.missed and notice.principal_name == "Ann"
    assert notice.title == "Ann — Reminder" and notice.body == "Call the bank"
    assert rstore.get(workspace.scope(ann.id), r.id).state == "fired"
    assert reminders.fire(workspace, ann.id, r.id, now=T0, assistant_zone="UTC") is None


def test_missed_while_closed_is_shown_at_start_with_when_it_was_due(workspace, ann, kenji):
    due = T0 - timedelta(hours=3)
    missed = reminders.add_reminder(workspace, ann.id, kind="task", text="Renew passport", due_utc=due, now=due)
    later = reminders.add_reminder(workspace, kenji.id, kind="free", text="Later", due_utc=T0 + timedelta(hours=1))
    notices, future = reminders.start_up(workspace, now=T0, assistant_zone="Europe/Berlin")
    assert [n.reminder.id for n in notices] == [missed.id]
    assert notices[0].missed and notices[0].title == "Ann — Missed"
    assert "was due Mon 02 Mar 04:00 EST" in notices[0].body  # 09:00 UTC in New York
    assert [r.id for r in future] == [later.id]
    stored = rstore.get(workspace.scope(ann.id), missed.id)
    assert stored.state == "fired" and stored.missed
    # a second start shows it no more and schedules the same future one
    again, future2 = reminders.start_up(workspace, now=T0, assistant_zone="Europe/Berlin")
    assert again == [] and [r.id for r in future2] == [later.id]


@pytest.mark.parametrize(
    "principal_fixture, zone, before, after_day",
    [
        # New York springs forward 2026-03-08, London 2026-03-29; both fall back on 2026-11-01 / 2026-10-25.
        ("ann", "America/New_York", datetime(2026, 3, 7), 8),
        ("eamon", "Europe/London", datetime(2026, 3, 28), 29),
    ],
)
def test_daily_nine_oclock_stays_nine_across_spring_forward(request, workspace, principal_fixture, zone, before,
                                                            after_day):
    p = request.getfixturevalue(principal_fixture)
    first = local_to_utc(before.replace(hour=9), zone)
    r = reminders.add_reminder(workspace, p.id, kind="free", text="Stand-up", due_utc=first, rrule="FREQ=DAILY",
                               now=first - timedelta(days=1))
    reminders.fire(workspace, p.id, r.id, now=first, assistant_zone="UTC")
    (nxt,) = reminders.pending(workspace, p.id)
    assert nxt.due_utc == local_to_utc(before.replace(day=after_day, hour=9), zone)
    assert nxt.due_utc - first == timedelta(hours=23)  # the day of the change is an hour short
    from assistant.core.timezones import in_zone

    assert in_zone(nxt.due_utc, zone).hour == 9


@pytest.mark.parametrize(
    "principal_fixture, zone, before",
    [("ann", "America/New_York", datetime(2026, 10, 31)), ("eamon", "Europe/London", datetime(2026, 10, 24))],
)
def test_daily_nine_oclock_across_fall_back_is_25_hours(request, workspace, principal_fixture, zone, before):
    p = request.getfixturevalue(principal_fixture)
    first = local_to_utc(before.replace(hour=9), zone)
    r = reminders.add_reminder(workspace, p.id, kind="free", text="Stand-up", due_utc=first, rrule="FREQ=DAILY")
    reminders.fire(workspace, p.id, r.id, now=first, assistant_zone="UTC")
    (nxt,) = reminders.pending(workspace, p.id)
    assert nxt.due_utc - first == timedelta(hours=25)


def test_time_in_the_autumn_repeat_fires_once_at_the_first_instant(workspace, ann):
    # 01:30 happens twice in New York on 2026-11-01: it is read as the first (EDT) one, and fires once.
    due = local_to_utc(datetime(2026, 11, 1, 1, 30), "America/New_York")
    assert due == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    r = reminders.add_reminder(workspace, ann.id, kind="free", text="x", due_utc=due)
    assert reminders.fire(workspace, ann.id, r.id, now=due) is not None
    assert reminders.fire(workspace, ann.id, r.id, now=due + timedelta(hours=1)) is None


def test_instant_does_not_depend_on_the_laptops_zone(workspace, ann, monkeypatch):
    """The assistant flies to Tokyo: a reminder stored in UTC fires at the same instant; only the display moves."""
    due = local_to_utc(datetime(2026, 3, 9, 9, 0), "America/New_York")
    r = reminders.add_reminder(workspace, ann.id, kind="free", text="x", due_utc=due)
    _, future_berlin = reminders.start_up(workspace, now=T0, assistant_zone="Europe/Berlin")
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    _, future_tokyo = reminders.start_up(workspace, now=T0, assistant_zone="Asia/Tokyo")
    assert [x.due_utc for x in future_berlin] == [x.due_utc for x in future_tokyo] == [due]
    assert r.due_utc == datetime(2026, 3, 9, 13, 0, tzinfo=UTC)


def test_snooze_until_next_business_morning(workspace, ann, kenji):
    friday_evening_ny = local_to_utc(datetime(2026, 3, 6, 18, 0), "America/New_York")
    r = reminders.add_reminder(workspace, ann.id, kind="free", text="x", due_utc=friday_evening_ny)
    reminders.fire(workspace, ann.id, r.id, now=friday_evening_ny)
    snoozed = reminders.snooze_to_business_morning(workspace, ann.id, r.id, now=friday_evening_ny)
    # Monday 09:00 New York, which is after the spring-forward weekend: 13:00 UTC, not 14:00
    assert snoozed.due_utc == datetime(2026, 3, 9, 13, 0, tzinfo=UTC) and snoozed.state == "pending"
    early = local_to_utc(datetime(2026, 3, 3, 7, 0), "Asia/Tokyo")  # a Tuesday before work in Tokyo
    assert reminders.next_business_morning(workspace, kenji.id, early) == local_to_utc(
        datetime(2026, 3, 3, 9, 0), "Asia/Tokyo")
    with pytest.raises(NotFound):
        reminders.snooze_to_business_morning(workspace, kenji.id, r.id, now=early)  # Ann's reminder, Kenji's scope


def test_snoozing_a_reminder_due_later_this_morning_never_moves_it_earlier(workspace, kenji):
    """08:40 in Tokyo, a reminder due at 09:10: the next business morning after *now* is 09:00 today, before the
    reminder is due; snoozing it must move it to tomorrow's 09:00, not 10 minutes earlier."""
    now = local_to_utc(datetime(2026, 3, 3, 8, 40), "Asia/Tokyo")  # a Tuesday
    r = reminders.add_reminder(workspace, kenji.id, kind="free", text="x",
                               due_utc=local_to_utc(datetime(2026, 3, 3, 9, 10), "Asia/Tokyo"))
    snoozed = reminders.snooze_to_business_morning(workspace, kenji.id, r.id, now=now)
    assert snoozed.due_utc == local_to_utc(datetime(2026, 3, 4, 9, 0), "Asia/Tokyo")


def test_quiet_hours_and_notification_settings(workspace, ann):
    assert reminders.in_quiet_hours(time(23, 0), time(22, 0), time(7, 0))
    assert reminders.in_quiet_hours(time(6, 59), time(22, 0), time(7, 0))
    assert not reminders.in_quiet_hours(time(7, 0), time(22, 0), time(7, 0))
    assert not reminders.in_quiet_hours(time(12, 0), None, None)
    night_ny = local_to_utc(datetime(2026, 3, 2, 23, 0), "America/New_York")
    plain = reminders.add_reminder(workspace, ann.id, kind="free", text="x", due_utc=night_ny)
    urgent = reminders.add_reminder(workspace, ann.id, kind="free", text="y", due_utc=night_ny, urgent=True)
    assert reminders.delivery(workspace, plain, night_ny, "UTC") == "popup"
    reminders.set_notification_settings(workspace, ann.id, quiet_hours="22:00-07:00")
    assert reminders.delivery(workspace, plain, night_ny, "UTC") == "list"
    assert reminders.delivery(workspace, urgent, night_ny, "UTC") == "popup"
    reminders.set_notification_settings(workspace, ann.id, notify="urgent", quiet_hours="")
    assert reminders.delivery(workspace, plain, night_ny, "UTC") == "list"
    assert reminders.delivery(workspace, urgent, night_ny, "UTC") == "popup"
    reminders.set_notification_settings(workspace, ann.id, notify="off")
    assert reminders.delivery(workspace, urgent, night_ny, "UTC") == "list"
    reminders.set_notification_settings(workspace, ann.id, notify="on")
    reminders.set_assistant_quiet_hours(workspace, "03:00-05:00")  # 04:00 UTC is the assistant's night
    assert reminders.delivery(workspace, plain, night_ny, "UTC") == "list"
    assert reminders.delivery(workspace, plain, night_ny, "Asia/Tokyo") == "popup"
    reminders.set_paused(workspace, True)
    assert reminders.delivery(workspace, urgent, night_ny, "Asia/Tokyo") == "list"
    with pytest.raises(InvalidInput):
        reminders.set_notification_settings(workspace, ann.id, notify="loud")
    with pytest.raises(InvalidInput):
        reminders.set_assistant_quiet_hours(workspace, "late")


def test_today_is_cross_principal_and_each_in_their_own_day(workspace, ann, kenji):
    now = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # 09:00 in New York, 23:00 in Tokyo
    reminders.add_reminder(workspace, ann.id, kind="free", text="NY tonight",
                           due_utc=local_to_utc(datetime(2026, 3, 2, 20, 0), "America/New_York"))
    reminders.add_reminder(workspace, kenji.id, kind="free", text="Tokyo tomorrow morning",
                           due_utc=local_to_utc(datetime(2026, 3, 3, 8, 0), "Asia/Tokyo"))
    reminders.add_reminder(workspace, kenji.id, kind="free", text="Tokyo overdue",
                           due_utc=local_to_utc(datetime(2026, 3, 1, 8, 0), "Asia/Tokyo"))
    rows = reminders.due_today(workspace, now)
    assert [(r.text, name) for r, name, _ in rows] == [("Tokyo overdue", "Kenji"), ("NY tonight", "Ann")]


def test_a_fired_reminder_can_be_dismissed_and_a_dismissed_one_stays_dismissed(workspace, ann):
    """Found with a real notification daemon: *Done* on a notification (a fired reminder) left it "fired"."""
    r = reminders.add_reminder(workspace, ann.id, kind="free", text="Post the cheque", due_utc=T0, now=T0)
    reminders.fire(workspace, ann.id, r.id, now=T0)
    assert reminders.dismiss(workspace, ann.id, r.id)
    assert rstore.get(workspace.scope(ann.id), r.id).state is ReminderState.DISMISSED
    assert not reminders.dismiss(workspace, ann.id, r.id)  # already dismissed: nothing changes
    assert reminders.fire(workspace, ann.id, r.id, now=T0) is None  # and it never fires again
