"""Today across principals, on one timeline in the assistant's own day: each principal's business hours (kept in their
zone, mapped into the assistant's), their meetings and their due items (:func:`assistant.reminders.today_items`, the
rows the Today list shows and the principal switcher counts). Plain rows, read on the worker; the Today view paints them.

Times stay instants (UTC) throughout: a lane's business hours are each of the principal's working days read on their
own clock (09:00 stays 09:00 there across their DST change) and then cut to the assistant's day, which is 23 or 25 hours
long on the assistant's own change days.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from assistant.core import timezones
from assistant.domain import BusinessHours, CalendarEvent, EventOccurrence
from assistant.reminders import today_items
from assistant.store import calendar as calendar_store

if TYPE_CHECKING:
    from assistant.store import Store

log = logging.getLogger(__name__)

Span = tuple[datetime, datetime]  # [start, end) in UTC

FIRST_HOUR = 6  # the assistant's day shown from 06:00 to 22:00 on their clock, widened to hold what is on it
LAST_HOUR = 22


@dataclass(frozen=True)
class Meeting:
    """One timed occurrence of a principal's event that overlaps the day."""

    event_id: int
    summary: str
    start_utc: datetime
    end_utc: datetime
    location: str = ""

    @property
    def link(self) -> str:
        """The occurrence, as a meeting reminder links to it: ``event:<id>@<start, epoch seconds>``."""
        return f"event:{self.event_id}@{timezones.to_epoch(self.start_utc)}"


@dataclass
class Lane:
    """One principal's row: business hours within the day, meetings, and the Today rows due for them."""

    principal_id: int
    name: str
    colour: str
    timezone: str
    business_hours: BusinessHours
    working: list[Span] = field(default_factory=list)
    meetings: list[Meeting] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Timeline:
    """The assistant's ``day`` in ``zone`` (``start_utc`` to ``end_utc``) and one lane per principal."""

    day: date
    zone: str
    start_utc: datetime
    end_utc: datetime
    now: datetime
    lanes: list[Lane]
    problems: list[str] = field(default_factory=list)  # one line per event that could not be expanded
    meetings_loaded: bool = True  # False when asked without meetings (the view keeps the ones it has)

    def shown_range(self, first_hour: int = FIRST_HOUR, last_hour: int = LAST_HOUR) -> Span:
        """``first_hour`` to ``last_hour`` on the assistant's clock, widened to whole hours to hold every meeting and
        due item that falls in the day, and now when it does; never past the day's own bounds."""
        start = timezones.local_to_utc(datetime.combine(self.day, time(first_hour)), self.zone)
        end = timezones.local_to_utc(datetime.combine(self.day, time(last_hour)), self.zone)
        instants = [self.now]
        for lane in self.lanes:
            for m in lane.meetings:  # one running over midnight: the day shown to its edge
                if m.start_utc < self.end_utc and m.end_utc > self.start_utc:
                    instants += [max(m.start_utc, self.start_utc), min(m.end_utc, self.end_utc)]
            instants += [row["due_utc"] for row in lane.items]
        for instant in instants:
            if self.start_utc <= instant <= self.end_utc:
                start = min(start, self._hour_floor(instant))
                end = max(end, self._hour_ceil(instant))
        return max(start, self.start_utc), min(end, self.end_utc)

    def _hour_floor(self, instant: datetime) -> datetime:
        local = timezones.in_zone(instant, self.zone)
        return timezones.to_utc(local.replace(minute=0, second=0, microsecond=0))

    def _hour_ceil(self, instant: datetime) -> datetime:
        floor = self._hour_floor(instant)
        return floor if floor == instant else floor + timedelta(hours=1)


def working_spans(hours: BusinessHours, zone: str, start: datetime, end: datetime) -> list[Span]:
    """The business hours (in ``zone``) that fall in [start, end), as UTC spans in order.

    Each working day's hours are read on the principal's clock, so a DST change moves them against UTC, not against
    their clock; hours that end at or before they start (``22:00-06:00``) run past midnight into the next day; spans
    that touch are merged.
    """
    spans: list[Span] = []
    day = timezones.in_zone(start, zone).date() - timedelta(days=1)  # yesterday's hours may run past midnight
    last = timezones.in_zone(end, zone).date()
    while day <= last:
        if day.isoweekday() in hours.days:
            opens = timezones.local_to_utc(datetime.combine(day, hours.start), zone)
            closes_on = day if hours.end > hours.start else day + timedelta(days=1)
            closes = timezones.local_to_utc(datetime.combine(closes_on, hours.end), zone)
            opens, closes = max(opens, start), min(closes, end)
            if opens < closes:
                if spans and opens <= spans[-1][1]:
                    spans[-1] = (spans[-1][0], max(spans[-1][1], closes))
                else:
                    spans.append((opens, closes))
        day += timedelta(days=1)
    return spans


def _occurrences(event: CalendarEvent, start: datetime, end: datetime, problems: list[str]) -> list[EventOccurrence]:
    from assistant.calendar.ics import expand

    try:
        return expand(event, start, end)
    except Exception as err:  # one broken series must not hide the rest of the day
        log.warning("cannot expand event %s: %s", event.id, err)
        problems.append(f"{event.summary or event.uid}: {err}")
        if event.start_utc is None or event.all_day:
            return []
        return [EventOccurrence(event_id=event.id, principal_id=event.principal_id, summary=event.summary,
                                start_utc=event.start_utc, end_utc=event.end_utc or event.start_utc, all_day=False,
                                location=event.location)]


def meetings_between(store: Store, principal_id: int, start: datetime, end: datetime,
                     problems: list[str] | None = None) -> list[Meeting]:
    """The principal's timed meetings overlapping [start, end), recurring ones expanded; all-day events are not
    meetings and are left out."""
    problems = [] if problems is None else problems
    meetings = []
    for event in calendar_store.events_between(store.scope(principal_id), start, end):
        for o in _occurrences(event, start, end, problems):
            ends = max(o.end_utc, o.start_utc)
            if o.all_day or not (o.start_utc < end and (ends > start or o.start_utc >= start)):
                continue
            meetings.append(Meeting(o.event_id or event.id, o.summary or "(no title)", o.start_utc, ends, o.location))
    meetings.sort(key=lambda m: (m.start_utc, m.end_utc, m.summary))
    return meetings


def day_timeline(store: Store, now: datetime, assistant_zone: str, items: list[dict[str, Any]] | None = None, *,
                 meetings: bool = True) -> Timeline:
    """The assistant's day (the one ``now`` falls in, in ``assistant_zone``) with a lane per principal.

    ``items`` are the :func:`~assistant.reminders.today_items` rows (read here when not given); each goes to its
    principal's lane whatever its time, so the timeline shows every row Today lists. Without ``meetings`` the calendars
    are not read (a minute's refresh of what is due need not expand every series again).
    """
    day = timezones.in_zone(now, assistant_zone).date()
    start, end = timezones.day_bounds_utc(day, assistant_zone)
    rows = today_items(store, now) if items is None else items
    problems: list[str] = []
    lanes = []
    for p in store.principals():
        lanes.append(Lane(
            principal_id=p.id, name=p.name, colour=p.colour, timezone=p.timezone, business_hours=p.business_hours,
            working=working_spans(p.business_hours, p.timezone, start, end),
            meetings=meetings_between(store, p.id, start, end, problems) if meetings else [],
            items=[row for row in rows if row["principal_id"] == p.id]))
    return Timeline(day=day, zone=assistant_zone, start_utc=start, end_utc=end, now=now, lanes=lanes,
                    problems=problems, meetings_loaded=meetings)
