"""Time for the demo workspace: each principal's billing (a rate in their currency, their rounding) and a fortnight of
entries of every kind, on their own work days and hours, written through the paths the app uses.

One assistant does one thing at a time, so no two entries overlap, whoever's they are: the answered calls of the demo's
call log come first (through :func:`assistant.timekeeping.auto.record_call`, as a quick-logged call does), then the
window's automatic time on the principal's real threads, cards and events (:func:`~assistant.timekeeping.auto
.record_segment`), the timer for work outside the app and entries typed in afterwards, each where nothing else is.
"""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from assistant import timekeeping
from assistant.calls.manual import call_title
from assistant.core import timezones
from assistant.domain import Billing, CallDirection, Principal, TimeSource
from assistant.store import Store
from assistant.store import board as board_store
from assistant.store import calendar as calendar_store
from assistant.store import calls as call_store
from assistant.store import mail as mail_store
from assistant.store import time as time_store
from assistant.timekeeping import auto

DAYS = 14
SEED = 20260518
OUTSIDE = ["Researching venues by phone", "Comparing flight options", "Printing and couriering the signed copies",
           "Bank run: deposit and receipts", "Reconciling expenses in the spreadsheet"]
TYPED = [("Phone research for the trip", True), ("Filing and scanning the week's papers", True),
         ("Onboarding call with the new bookkeeper", True), ("Tidying my own notes (not billed)", False)]


def save_billing(store: Store, principal_id: int, spec: dict[str, Any]) -> None:
    b = spec.get("billing")
    if not b:
        return
    time_store.save_billing(store.scope(principal_id), Billing(
        rate=Decimal(b["rate"]), currency=b["currency"], rounding_min=b.get("rounding_min", 0),
        rounding_per=b.get("rounding_per", "entry"),
        retainer_minutes=b["retainer_hours"] * 60 if b.get("retainer_hours") else None,
        retainer_per=b.get("retainer_per", "")))


class _Day:
    """Where the assistant is busy, across principals."""

    def __init__(self) -> None:
        self.busy: list[tuple[datetime, datetime]] = []

    def free(self, start: datetime, end: datetime) -> bool:
        return all(end <= s or start >= e for s, e in self.busy)

    def take(self, start: datetime, end: datetime) -> None:
        self.busy.append((start, end))


def add_demo_time(store: Store, now: datetime) -> None:
    """A fortnight of entries for every principal, ending before ``now``."""
    rng = random.Random(SEED)
    until = now - timedelta(minutes=5)
    since = now - timedelta(days=DAYS)
    busy = _Day()
    principals = store.principals()
    for p in principals:  # the calls first: their times are the call log's
        scope = store.scope(p.id)
        for call in sorted(call_store.recent_calls(scope), key=lambda c: c.started_utc):
            if (call.direction not in (CallDirection.INCOMING, CallDirection.OUTGOING) or not call.duration_s
                    or call.started_utc < since):
                continue
            start = call.started_utc.replace(microsecond=0)
            end = start + timedelta(seconds=call.duration_s)
            if end <= until and busy.free(start, end):
                auto.record_call(store, call, call_title(call))
                busy.take(start, end)
    for p in principals:
        _principal_time(store, p, rng, busy, since, until)


def _principal_time(store: Store, p: Principal, rng: random.Random, busy: _Day, since: datetime,
                    until: datetime) -> None:
    scope = store.scope(p.id)
    threads = [t for t in mail_store.threads(scope, limit=200) if t.last_date_utc is not None]
    cards = [c for c in board_store.cards(scope) if c.id]
    events = [e for e in calendar_store.events(scope) if e.summary]
    hours = p.business_hours
    first = timezones.in_zone(since, p.timezone).date() + timedelta(days=1)
    last = timezones.in_zone(until, p.timezone).date()
    day = first
    while day <= last:
        if day.isoweekday() in hours.days:
            _work_day(store, p, day, rng, busy, until, threads, cards, events)
        day += timedelta(days=1)


def _at(day: date, minutes: int, zone: str) -> datetime:
    return timezones.local_to_utc(datetime.combine(day, time(0, 0)) + timedelta(minutes=minutes), zone)


def _work_day(store: Store, p: Principal, day: date, rng: random.Random, busy: _Day, until: datetime,
              threads: list[Any], cards: list[Any], events: list[Any]) -> None:
    hours = p.business_hours
    open_min = hours.start.hour * 60 + hours.start.minute
    close_min = hours.end.hour * 60 + hours.end.minute

    def slot(length: timedelta) -> tuple[datetime, datetime] | None:
        """A free start in business hours for ``length`` (a few tries), else None."""
        whole = int(length.total_seconds() // 60) + 1
        for _ in range(12):
            begin = rng.randint(open_min, max(open_min, close_min - whole))
            start = _at(day, begin, p.timezone)
            end = start + length
            if end <= until and busy.free(start, end):
                busy.take(start, end)
                return start, end
        return None

    # the window in use: a few sittings of one to three things each, on mail mostly
    for _ in range(rng.randint(2, 4)):
        lengths = [timedelta(minutes=rng.randint(4, 35), seconds=rng.randint(0, 59))
                   for _ in range(rng.choice((1, 2, 2, 3)))]
        found = slot(sum(lengths, timedelta()))
        if found is None:
            continue
        start = found[0]
        for length in lengths:
            end = start + length
            item, title = _item(start, rng, threads, cards, events)
            auto.record_segment(store, auto.Segment(p.id, start, end, item, title))
            start = end
    # the timer, for work outside the app, every other day or so, on one of their cards
    if cards and rng.random() < 0.5:
        found = slot(timedelta(minutes=rng.randint(20, 90)))
        if found is not None:
            card = rng.choice(cards)
            timekeeping.add_entry(store, p.id, *found, source=TimeSource.TIMER, note=rng.choice(OUTSIDE),
                                  item=f"task:{card.id}", item_title=card.title)
    # an entry typed in afterwards, now and then (one of them not billed)
    if rng.random() < 0.35:
        found = slot(timedelta(minutes=rng.randint(10, 45)))
        if found is not None:
            note, billable = rng.choice(TYPED)
            timekeeping.add_entry(store, p.id, *found, source=TimeSource.MANUAL, note=note, billable=billable)


def _item(at: datetime, rng: random.Random, threads: list[Any], cards: list[Any],
          events: list[Any]) -> tuple[str, str]:
    """What was on screen: a thread that had mail by then (mostly), a card, or an event."""
    roll = rng.random()
    if cards and roll < 0.2:
        card = rng.choice(cards)
        return f"task:{card.id}", card.title
    if events and roll < 0.3:
        event = rng.choice(events)
        return f"event:{event.id}", event.summary
    known = [t for t in threads if t.last_date_utc <= at][:25]
    if known:
        thread = rng.choice(known)
        return f"thread:{thread.id}", thread.subject or "(no subject)"
    return "", "Inbox"
