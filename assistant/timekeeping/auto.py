"""Automatic time: the window in use becomes contiguous entries of work per principal, and a logged call's duration
counts for its principal. Never from screenshots or keystrokes: the tracker (``ui/timekeeping/tracker.py``) tells
:class:`AutoClock` only *what is on screen* (whose, and which item), *that* the window is in use or left, and *that*
there was input (a timestamp, never which key or where); everything it decides is here, without Qt, and is written on
the worker by :func:`record_segment`.

The rules:

* Time counts while the window is in use, for the principal whose mail, calendar, calls, board or approvals are on
  screen, in *segments*: one principal and one thing on screen (an item — ``thread:12``, ``task:3``, ``call:7``,
  ``event:5``, ``draft:9`` — or a view with nothing open) from when it came on screen until something else did, the
  window was left, or input stopped. A segment keeps the newest title its item had (a subject that loaded later, a
  draft's id once it was first saved).
* A segment shorter than :data:`SHORTEST` (skimming past threads with ``j``/``k``, a glance at another tab) is not an
  entry of its own, which rounding per entry would bill as a whole increment: it goes to the segment before it when
  that one is the same principal's and ends where it starts, else to the one after it when that one is the same
  principal's. Between two other principals' segments (passing through on the way to another) it is not work and is
  dropped.
* After ``idle_after`` (5 min, a setting) without input in the app the clock stops at the last input; leaving the
  window stops it at once. When the assistant is back after at least ``idle_after``, the gap is handed out once
  (:class:`Gap`) for them to say what it was: one principal's work (:func:`record_away`) or not work. A shorter
  absence is neither counted nor asked about, nor is one longer than :data:`LONGEST_GAP` (a night, a weekend: the
  window was left open, nobody was working).
* While the manual timer runs (for anyone) nothing counts automatically: the assistant said what they are doing.
* Entries never overlap: automatic time fills only what no entry of any principal covers (a call, a timer, an entry
  typed in); a segment that continues the principal's automatic entry on the same item extends that entry instead of
  adding another; a logged call takes its span from the automatic entries that covered it.

Input is input in the app, and, where the platform reports it (the XScreenSaver extension on X11, GNOME's idle
monitor under Wayland, ``GetLastInputInfo`` on Windows, IOKit on macOS: :mod:`assistant.core.desktop_idle`), the
desktop's last input, which the tracker passes to :meth:`AutoClock.input` at the time it happened. Work done in
another program is not counted; the timer is for that, or the answer to the away question.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from assistant.core.errors import NotFound
from assistant.core.timezones import UTC
from assistant.domain import Call, CallDirection, TimeEntry, TimeSource
from assistant.store import PrincipalScope, Store
from assistant.store import time as time_store

SHORTEST = timedelta(seconds=30)  # a segment shorter than this joins a neighbour of the same principal
IDLE_AFTER = timedelta(minutes=5)  # the default: no input this long stops the clock at the last input
LONGEST_GAP = timedelta(hours=8)  # a longer absence is not asked about
LOOKBACK = timedelta(days=1)  # how far before an interval entries that may reach into it are looked for
AUTO_ACTOR = "assistant (automatic)"
CALL_ACTOR = "assistant (a logged call took this time)"
AWAY_NOTE = "Work away from the app"  # an answered gap's entry: what the assistant said, not what the app saw
_FOREVER = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Look:
    """What is on screen: whose (None: nobody's — the first-run page), which item as a link ("" for none) and its
    title. ``key`` tells two things apart when they have no item (two views, two compose windows); by default the
    item, else the title."""

    principal_id: int | None
    item: str = ""
    title: str = ""
    key: str = ""

    @property
    def what(self) -> str:
        return self.key or self.item or self.title


@dataclass(frozen=True)
class Segment:
    """A stretch of automatic time for one principal on one thing."""

    principal_id: int
    start_utc: datetime
    end_utc: datetime
    item: str = ""
    title: str = ""

    @property
    def seconds(self) -> float:
        return (self.end_utc - self.start_utc).total_seconds()


@dataclass(frozen=True)
class Gap:
    """Time away: from where the clock stopped to the return. ``principal_id``: whose time was counting then, the
    first answer offered."""

    start_utc: datetime
    end_utc: datetime
    principal_id: int | None

    @property
    def minutes(self) -> int:
        return max(1, round((self.end_utc - self.start_utc).total_seconds() / 60))


@dataclass
class _Open:
    principal_id: int
    what: str
    item: str
    title: str
    start_utc: datetime


class AutoClock:
    """The automatic clock's decisions, fed with events and the time they happened (tests pass any times).

    Events: :meth:`see` (what is on screen now), :meth:`enter` / :meth:`leave` (the window in use or not),
    :meth:`input`, :meth:`tick` (checks idleness), :meth:`hold` (the manual timer runs or stopped), :meth:`stop`
    (closing, or switched off). What they close comes out of :meth:`take_segments`, gaps to ask about out of
    :meth:`take_gaps`."""

    def __init__(self, *, idle_after: timedelta = IDLE_AFTER, shortest: timedelta = SHORTEST):
        self.idle_after = idle_after
        self.shortest = shortest
        self.look = Look(None)
        self.in_use = False
        self.held = False  # the manual timer runs
        self.idle = False  # in use, but no input for idle_after
        self.last_input: datetime | None = None
        self.stopped_at: datetime | None = None  # where idleness or absence stopped the clock: a gap starts here
        self._stopped_for: int | None = None  # whose time was counting then
        self._open: _Open | None = None
        self._last: Segment | None = None  # the last segment given out
        self._segments: list[Segment] = []
        self._gaps: list[Gap] = []

    # -- what the tracker reads ----------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._open is not None

    def current(self, now: datetime) -> Segment | None:
        """The segment counting now, so far."""
        o = self._open
        return None if o is None else Segment(o.principal_id, o.start_utc, max(now, o.start_utc), o.item, o.title)

    def take_segments(self) -> list[Segment]:
        out, self._segments = self._segments, []
        return out

    def take_gaps(self) -> list[Gap]:
        out, self._gaps = self._gaps, []
        return out

    # -- events ----------------------------------------------------------------------------------------------------------
    def see(self, now: datetime, look: Look) -> None:
        """What is on screen now (called whenever it may have changed; the same look again changes nothing)."""
        self.look = look
        o = self._open
        if o is not None and o.principal_id == look.principal_id and o.what == look.what:
            o.item, o.title = look.item or o.item, look.title or o.title
            return
        if o is not None:
            carried = self._close(now, following=look)
            self._start(carried or now)
        else:
            self._start(now)

    def input(self, now: datetime) -> None:
        """A key, a click, the wheel, the mouse moved: the assistant is here."""
        self.last_input = now
        if self.in_use and self.idle:
            self.idle = False
            self._resume(now)

    def tick(self, now: datetime) -> None:
        """No input for ``idle_after``: the clock stops at the last input."""
        if not self.in_use or self.idle or self.held or self.last_input is None:
            return
        if now - self.last_input < self.idle_after:
            return
        o = self._open
        end = self.last_input if o is None else max(self.last_input, o.start_utc)
        self._stopped_for = o.principal_id if o is not None else None
        self._close(end)
        self.idle, self.stopped_at = True, end

    def enter(self, now: datetime) -> None:
        """The window (or another of the app's) is in use again."""
        if self.in_use:
            return
        self.in_use, self.idle, self.last_input = True, False, now
        self._resume(now)

    def leave(self, now: datetime) -> None:
        """The app lost the focus: the clock stops now (or stays stopped where input stopped)."""
        if not self.in_use:
            return
        self.in_use = False
        o = self._open
        if o is not None:
            self._stopped_for = o.principal_id
            self._close(now)
            self.stopped_at = now

    def hold(self, now: datetime, held: bool) -> None:
        """The manual timer started (nothing counts automatically while it runs) or stopped."""
        if held == self.held:
            return
        self.held = held
        self.stopped_at = self._stopped_for = None  # the timer accounts for its own time; no question about it
        if held:
            self._close(now)
        elif self.idle or not self.in_use:  # stopped while the assistant is away: a gap from now, asked on return
            self.stopped_at, self._stopped_for = now, self.look.principal_id
        else:
            self._start(now)

    def stop(self, now: datetime) -> None:
        """The window closes or automatic time is switched off: the segment ends now; no gap is asked about."""
        self._close(now)
        self.in_use = self.idle = False
        self.stopped_at = self._stopped_for = None

    # -- inside ------------------------------------------------------------------------------------------------------------
    def _counting(self) -> bool:
        return self.in_use and not self.held and not self.idle

    def _start(self, at: datetime) -> None:
        look = self.look
        if self._counting() and look.principal_id is not None:
            self._open = _Open(look.principal_id, look.what, look.item, look.title, at)

    def _resume(self, now: datetime) -> None:
        if self.held:
            return
        stopped, self.stopped_at = self.stopped_at, None
        if (stopped is not None and self._stopped_for is not None
                and self.idle_after <= now - stopped <= LONGEST_GAP):
            self._gaps.append(Gap(stopped, now, self._stopped_for))
        self._stopped_for = None
        if self._open is None:
            self._start(now)

    def _close(self, end: datetime, following: Look | None = None) -> datetime | None:
        """End the open segment at ``end`` and give it out; a short one joins a neighbour (see the module's rules).
        Returns where the next segment starts when the short one is carried into it."""
        o, self._open = self._open, None
        if o is None or end <= o.start_utc:
            return None
        segment = Segment(o.principal_id, o.start_utc, end, o.item, o.title)
        if segment.seconds >= self.shortest.total_seconds():
            self._give(segment)
            return None
        last = self._last
        if last is not None and last.principal_id == segment.principal_id and last.end_utc == segment.start_utc:
            self._give(replace(segment, item=last.item, title=last.title))
            return None
        if following is not None and following.principal_id == segment.principal_id:
            return segment.start_utc
        return None

    def _give(self, segment: Segment) -> None:
        self._segments.append(segment)
        self._last = segment


# -- writing (on the worker) --------------------------------------------------------------------------------------------
def _second(dt: datetime) -> datetime:
    return dt.replace(microsecond=0)


def _taken(store: Store, start: datetime, end: datetime, *,
           principal_id: int | None = None) -> list[tuple[datetime, datetime]]:
    """The spans of entries that reach into [start, end): one principal's, or everyone's and the running timer."""
    spans = []
    ids = [principal_id] if principal_id is not None else [p.id for p in store.principals()]
    for pid in ids:
        for e in time_store.entries(store.scope(pid), start - LOOKBACK, end):
            stop = e.end_utc or _FOREVER
            if stop > start:
                spans.append((e.start_utc, stop))
    if principal_id is None:
        running = time_store.running_timer(store)
        if running is not None:
            spans.append((running.start_utc, _FOREVER))
    return sorted(spans)


def free_parts(start: datetime, end: datetime, taken: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """[start, end) less the ``taken`` spans, in order."""
    parts = []
    cursor = start
    for s, e in sorted(taken):
        if e <= cursor:
            continue
        if s >= end:
            break
        if s > cursor:
            parts.append((cursor, min(s, end)))
        cursor = max(cursor, e)
        if cursor >= end:
            break
    if cursor < end:
        parts.append((cursor, end))
    return parts


def _continued(scope: PrincipalScope, at: datetime, item: str) -> TimeEntry | None:
    """The principal's automatic entry on ``item`` that ends exactly at ``at``."""
    for e in reversed(time_store.entries(scope, at - LOOKBACK, at)):
        if e.source == TimeSource.AUTO and e.item == item and e.end_utc == at:
            return e
    return None


def record_segment(store: Store, segment: Segment) -> list[TimeEntry]:
    """Write a segment of automatic time: the parts of it no entry of any principal covers (none while the timer
    runs), each extending the principal's automatic entry on the same item that ends where it starts, else added. A
    part shorter than :data:`SHORTEST` that continues nothing is left out. Returns the entries written."""
    start, end = _second(segment.start_utc), _second(segment.end_utc)
    if end <= start:
        return []
    try:
        scope = store.scope(segment.principal_id)
    except NotFound:  # the principal was removed while their segment ran
        return []
    written = []
    with store.transaction():
        billable: bool | None = None
        for s, e in free_parts(start, end, _taken(store, start, end)):
            previous = _continued(scope, s, segment.item)
            if previous is not None:
                previous.end_utc = e
                written.append(time_store.update_entry(scope, previous, actor=AUTO_ACTOR))
            elif e - s >= SHORTEST:
                if billable is None:
                    billable = time_store.billing(scope).billable_default
                written.append(time_store.add_entry(scope, TimeEntry(
                    segment.principal_id, s, e, TimeSource.AUTO, billable=billable, item=segment.item,
                    item_title=segment.title), actor=AUTO_ACTOR))
    return written


def record_away(store: Store, principal_id: int, start_utc: datetime, end_utc: datetime) -> list[TimeEntry]:
    """The assistant said a gap was this principal's work: an entry of theirs (source ``manual``: the assistant's word,
    not something the app saw) for the parts of it no entry covers."""
    start, end = _second(start_utc), _second(end_utc)
    scope = store.scope(principal_id)
    written = []
    with store.transaction():
        billable = time_store.billing(scope).billable_default
        for s, e in free_parts(start, end, _taken(store, start, end)):
            if e - s >= SHORTEST:
                written.append(time_store.add_entry(scope, TimeEntry(
                    principal_id, s, e, TimeSource.MANUAL, billable=billable, note=AWAY_NOTE),
                    actor="assistant (answered on return)"))
    return written


def record_call(store: Store, call: Call, title: str = "") -> list[TimeEntry]:
    """A logged call's duration as its principal's time (answered calls, in or out): entries on ``call:ID``. Automatic
    entries of any principal inside its span give way (cut short, split, or deleted; their history keeps what they
    were); the principal's other entries keep their time and the call's entry takes what they leave.

    Called again after the call was edited, it moves the call's entries to its new span through the same write path
    (so their history keeps what they were): the first entry is changed, parts no longer needed are deleted, new parts
    added; a call that no longer counts (no duration, or not answered) loses its entries."""
    item = f"call:{call.id}"
    scope = store.scope(call.principal_id)
    counts = call.duration_s > 0 and CallDirection(call.direction) in (CallDirection.INCOMING, CallDirection.OUTGOING)
    written = []
    with store.transaction():
        before = time_store.entries_on(scope, item, TimeSource.CALL)
        parts: list[tuple[datetime, datetime]] = []
        if counts:
            start = _second(call.started_utc)
            end = start + timedelta(seconds=call.duration_s)
            _give_way(store, start, end)
            own = {(e.start_utc, e.end_utc) for e in before}
            taken = [span for span in _taken(store, start, end, principal_id=call.principal_id) if span not in own]
            parts = free_parts(start, end, taken)
        billable = before[0].billable if before else time_store.billing(scope).billable_default
        for old, (s, e) in zip(before, parts, strict=False):
            if (old.start_utc, old.end_utc, old.item_title) != (s, e, title or old.item_title):
                old.start_utc, old.end_utc, old.item_title = s, e, title or old.item_title
                written.append(time_store.update_entry(scope, old, actor=CALL_ACTOR))
        for old in before[len(parts):]:
            time_store.delete_entry(scope, old.id, actor=CALL_ACTOR)
        for s, e in parts[len(before):]:
            written.append(time_store.add_entry(scope, TimeEntry(
                call.principal_id, s, e, TimeSource.CALL, billable=billable, item=item, item_title=title),
                actor=CALL_ACTOR))
    return written


def _give_way(store: Store, start: datetime, end: datetime) -> None:
    """Automatic entries of every principal lose what they had of [start, end)."""
    for p in store.principals():
        scope = store.scope(p.id)
        for e in time_store.entries(scope, start - LOOKBACK, end):
            if e.source != TimeSource.AUTO or e.end_utc is None or e.end_utc <= start:
                continue
            if e.start_utc >= start and e.end_utc <= end:
                time_store.delete_entry(scope, e.id, actor=CALL_ACTOR)
            elif e.start_utc < start and e.end_utc > end:
                after = replace(e, start_utc=end, id=0)
                e.end_utc = start
                time_store.update_entry(scope, e, actor=CALL_ACTOR)
                time_store.add_entry(scope, after, actor=CALL_ACTOR)
            elif e.start_utc < start:
                e.end_utc = start
                time_store.update_entry(scope, e, actor=CALL_ACTOR)
            else:
                e.start_utc = end
                time_store.update_entry(scope, e, actor=CALL_ACTOR)
