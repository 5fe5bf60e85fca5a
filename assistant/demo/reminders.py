"""Reminders for the demo workspace: a follow-up on a sent message nobody answered, a reminder a minute away, and the
meetings of the next two days."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from assistant import reminders
from assistant.core import timezones
from assistant.store import reminders as rstore


def add_demo_reminders(store, now: datetime) -> None:
    for p in store.principals():
        scope = store.scope(p.id)
        for message_id in rstore.sent_without_reply(scope, p.addresses):
            tomorrow = timezones.in_zone(now, p.timezone).date() + timedelta(days=1)
            reminders.follow_up_if_no_reply(store, p.id, message_id,
                                            timezones.local_to_utc(datetime.combine(tomorrow, time(10, 0)), p.timezone),
                                            now=now)
        reminders.sync_meeting_reminders(store, p.id, now)
    first = store.principals()[0] if store.principals() else None
    if first is not None:
        reminders.add_reminder(store, first.id, kind="free", text=f"Confirm {first.name}'s travel for next week",
                               due_utc=now + timedelta(minutes=1), now=now)
