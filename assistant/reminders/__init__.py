"""Reminders: the domain side (no Qt). The store is the source of truth; the UI's scheduler only does the timing.

The API other parts call:

* :func:`add_reminder` — any kind (``task``, ``follow-up``, ``call-back``, ``meeting``, ``free``), optionally recurring
  (an RRULE read in the principal's own zone, so "every weekday at 9:00" stays at 9:00 there across DST);
* :func:`cancel_reminders` — every pending reminder with a given ``link`` (e.g. ``task:12``);
* :func:`follow_up_if_no_reply` — a follow-up on a sent message, cancelled by :func:`cancel_follow_ups_for_replies`
  which the sync engine calls with the ids of new messages.

Firing is "persist first, then notify": :func:`fire` moves the row out of ``pending`` and returns ``None`` when it was
not pending any more, so a reminder is never shown twice, and one due while the app was closed is marked missed by
:func:`start_up` and shown with the time it was due.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from dateutil.rrule import rrulestr

from assistant.core import timezones
from assistant.core.errors import InvalidInput, NotFound
from assistant.domain import Account, Reminder, ReminderState
from assistant.store import calendar as calendar_store
from assistant.store import mail as mail_store
from assistant.store import reminders as rstore
from assistant.store.reminders import NOTIFY_CHOICES, NotificationSettings
from assistant.sync.hooks import MailPulled

if TYPE_CHECKING:
    from assistant.store import Store

KINDS = ("task", "follow-up", "call-back", "meeting", "free")
DEFAULT_MEETING_MINUTES = 10
ASSISTANT_QUIET_KEY = "assistant_quiet_hours"
PAUSED_KEY = "notifications_paused"

__all__ = [
    "KINDS", "Reminder", "NotificationSettings", "Notice", "add_reminder", "cancel_reminders",
    "follow_up_if_no_reply", "cancel_follow_ups_for_replies", "next_occurrence", "fire", "start_up", "snooze",
    "next_business_morning", "snooze_to_business_morning", "dismiss", "delivery", "delivery_for", "in_quiet_hours",
    "set_notification_settings", "notification_settings", "set_assistant_quiet_hours", "assistant_quiet_hours",
    "sync_meeting_reminders", "pending", "due_today",
]


# What a notification's title calls each kind ("Dana Whitfield — Task due").
LABELS = {"task": "Task due", "follow-up": "Follow up", "call-back": "Call back", "meeting": "Meeting",
          "free": "Reminder"}


@dataclass
class Notice:
    """What the UI shows for a reminder that fired: whose it is, what, when it was due, and whether it was missed."""

    reminder: Reminder
    principal_name: str
    principal_timezone: str
    missed: bool
    delivery: str  # "popup" or "list" (quiet hours, notifications off or paused: listed in the app, no pop-up)

    @property
    def title(self) -> str:
        label = "Missed" if self.missed else LABELS.get(self.reminder.kind, self.reminder.kind.capitalize())
        return f"{self.principal_name} — {label}"

    @property
    def body(self) -> str:
        due = timezones.in_zone(self.reminder.due_utc, self.principal_timezone)
        prefix = f"was due {due:%a %d %b %H:%M} {due.tzname()}: " if self.missed else ""
        return prefix + self.reminder.text


def _require_aware(due_utc: datetime) -> datetime:
    if due_utc.tzinfo is None:
        raise InvalidInput("a reminder's time needs a time zone (give an offset, or read it in the principal's zone)")
    return timezones.to_utc(due_utc)


def _anchor(due_utc: datetime, zone: str) -> str:
    return timezones.in_zone(due_utc, zone).replace(tzinfo=None).isoformat(timespec="seconds")


def add_reminder(store: Store, principal_id: int, *, kind: str, text: str, due_utc: datetime, link: str = "",
                 rrule: str = "", urgent: bool = False, now: datetime | None = None) -> Reminder:
    """A pending reminder for ``principal_id``. With ``rrule`` it recurs in the principal's zone from ``due_utc``."""
    if kind not in KINDS:
        raise InvalidInput(f"unknown reminder kind {kind!r}: one of {', '.join(KINDS)}")
    due_utc = _require_aware(due_utc)
    scope = store.scope(principal_id)
    anchor = ""
    if rrule:
        zone = scope.principal.timezone
        anchor = _anchor(due_utc, zone)
        _rule(rrule, anchor)  # raises InvalidInput on a bad rule
    return rstore.insert(scope, Reminder(
        principal_id=principal_id, kind=kind, text=text.strip() or kind, due_utc=due_utc, link=link, rrule=rrule,
        created_utc=now or timezones.now_utc(), urgent=urgent, anchor_local=anchor))


def cancel_reminders(store: Store, principal_id: int, link: str) -> int:
    """Cancel every pending reminder of the principal linked to ``link``; the number cancelled."""
    scope = store.scope(principal_id)
    n = 0
    with store.transaction():
        for r in rstore.pending_with_link(scope, link):
            n += rstore.set_state(scope, r.id, ReminderState.CANCELLED)
    return n


def pending(store: Store, principal_id: int, due_before: datetime | None = None) -> list[Reminder]:
    return rstore.listed(store.scope(principal_id), due_before=due_before)


# -- follow-ups ---------------------------------------------------------------------------------------------------
def follow_up_if_no_reply(store: Store, principal_id: int, message_id: int, due_utc: datetime,
                          text: str = "", now: datetime | None = None) -> Reminder:
    """Remind at ``due_utc`` unless a reply to message ``message_id`` (a store id) arrives through sync first."""
    scope = store.scope(principal_id)
    message = mail_store.message(scope, message_id, with_body=False)  # NotFound for another principal's message
    r = Reminder(
        principal_id=principal_id, kind="follow-up",
        text=text.strip() or f"No reply yet to “{message.subject or '(no subject)'}”",
        due_utc=_require_aware(due_utc), link=f"message:{message_id}", created_utc=now or timezones.now_utc(),
        message_header_id=message.message_id_header, thread_id=message.thread_id)
    return rstore.insert(scope, r)


def mail_pull_hook(store: Store, account: Account) -> Callable[[MailPulled], list[str]]:
    """Registered in the sync engine's ``assistant.after_mail_pull`` hooks: a reply that arrives cancels its follow-up."""
    def after(pulled: MailPulled) -> list[str]:
        cancel_follow_ups_for_replies(pulled.store, pulled.account.principal_id, pulled.new_message_ids)
        return []

    return after


def cancel_follow_ups_for_replies(store: Store, principal_id: int, message_ids: Iterable[int]) -> int:
    """Cancel pending follow-ups answered by any of ``message_ids`` (new messages just synced); the number cancelled.

    A message answers a follow-up when its In-Reply-To or References name the followed message, or when it joins the
    followed message's thread — and it was not written by the principal (their own later message is not a reply).
    """
    ids = list(message_ids)
    if not ids:
        return 0
    scope = store.scope(principal_id)
    follow_ups = rstore.pending_follow_ups(scope)
    if not follow_ups:
        return 0
    own = {a.lower() for a in scope.principal.addresses}
    cancelled = 0
    with store.transaction():
        for mid in ids:
            try:
                m = mail_store.message(scope, mid, with_body=False)
            except NotFound:
                continue
            if m.sender is not None and m.sender.email.lower() in own:
                continue
            keys = {m.in_reply_to, *m.references} - {""}
            for r in follow_ups:
                if r.state != ReminderState.PENDING or r.link == f"message:{mid}":
                    continue
                if (r.message_header_id and r.message_header_id in keys) or (
                        r.thread_id is not None and r.thread_id == m.thread_id):
                    if rstore.set_state(scope, r.id, ReminderState.CANCELLED):
                        r.state = ReminderState.CANCELLED
                        cancelled += 1
                        store.audit(principal_id, "sync", "follow-up cancelled", r.text, reminder_id=r.id,
                                    reply_message_id=mid)
    return cancelled


# -- recurrence ---------------------------------------------------------------------------------------------------
def _rule(rrule: str, anchor_local: str):
    try:
        return rrulestr(rrule, dtstart=datetime.fromisoformat(anchor_local), forceset=True)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"cannot read the recurrence {rrule!r}: {exc}") from None


def next_occurrence(r: Reminder, zone: str, after: datetime) -> datetime | None:
    """The first occurrence strictly after ``after`` (UTC), each occurrence read as wall-clock time in ``zone``."""
    if not r.rrule:
        return None
    rule = _rule(r.rrule, r.anchor_local or _anchor(r.due_utc, zone))
    after_local = timezones.in_zone(after, zone).replace(tzinfo=None) - timedelta(hours=3)  # DST slack, checked below
    for _ in range(10_000):
        nxt = rule.after(after_local)
        if nxt is None:
            return None
        instant = timezones.local_to_utc(nxt, zone)
        if instant > after:
            return instant
        after_local = nxt
    return None  # pragma: no cover - a rule that never passes `after` within 10,000 steps


# -- firing -------------------------------------------------------------------------------------------------------
def _notice(store: Store, r: Reminder, missed: bool, now: datetime, assistant_zone: str) -> Notice:
    p = store.principal(r.principal_id)
    return Notice(r, p.name, p.timezone, missed, delivery(store, r, now, assistant_zone))


def _follow_recurrence(store: Store, r: Reminder, zone: str, now: datetime) -> None:
    nxt = next_occurrence(r, zone, max(now, r.due_utc))
    if nxt is not None:
        rstore.insert(store.scope(r.principal_id), Reminder(
            principal_id=r.principal_id, kind=r.kind, text=r.text, due_utc=nxt, link=r.link, rrule=r.rrule,
            created_utc=now, urgent=r.urgent, anchor_local=r.anchor_local))


def fire(store: Store, principal_id: int, reminder_id: int, now: datetime | None = None,
         assistant_zone: str | None = None) -> Notice | None:
    """Persist that the reminder fired, then return what to show; ``None`` if it was no longer pending."""
    now = now or timezones.now_utc()
    scope = store.scope(principal_id)
    with store.transaction():
        r = rstore.get(scope, reminder_id)
        if r is None or r.state != ReminderState.PENDING:
            return None
        missed = r.due_utc < now - timedelta(minutes=1)
        rstore.set_state(scope, reminder_id, ReminderState.FIRED, fired_utc=now, missed=missed)
        r.state, r.fired_utc, r.missed = ReminderState.FIRED, now, missed
        _follow_recurrence(store, r, scope.principal.timezone, now)
    return _notice(store, r, missed, now, assistant_zone or timezones.assistant_zone_name())


def start_up(store: Store, now: datetime | None = None,
             assistant_zone: str | None = None) -> tuple[list[Notice], list[Reminder]]:
    """At start: every pending reminder already due becomes a missed notice (persisted as fired first); the rest are
    returned for the scheduler."""
    now = now or timezones.now_utc()
    missed: list[Notice] = []
    for r in rstore.pending_before(store, now + timedelta(seconds=1)):
        notice = fire(store, r.principal_id, r.id, now, assistant_zone)
        if notice is not None:
            notice.missed = True
            missed.append(notice)
    future = [r for r in rstore.pending_all(store) if r.due_utc > now]  # and the next of any recurring missed one
    return missed, future


def dismiss(store: Store, principal_id: int, reminder_id: int) -> bool:
    """Done with it: pending (not yet due) or fired (shown, in Today and the notification list)."""
    return rstore.set_state(store.scope(principal_id), reminder_id, ReminderState.DISMISSED,
                            leaving=(ReminderState.PENDING, ReminderState.FIRED))


def snooze(store: Store, principal_id: int, reminder_id: int, until_utc: datetime) -> Reminder:
    scope = store.scope(principal_id)
    r = rstore.get(scope, reminder_id)
    if r is None:
        raise NotFound(f"no reminder {reminder_id} for this principal")
    rstore.reschedule(scope, reminder_id, _require_aware(until_utc))
    r.due_utc, r.state, r.missed = _require_aware(until_utc), ReminderState.PENDING, False
    return r


def next_business_morning(store: Store, principal_id: int, now: datetime) -> datetime:
    """The start of the principal's next business day in their zone (today's, if it has not begun yet)."""
    p = store.principal(principal_id)
    hours = p.business_hours
    local = timezones.in_zone(now, p.timezone)
    day: date = local.date()
    for _ in range(15):
        if day.isoweekday() in hours.days:
            start = timezones.local_to_utc(datetime.combine(day, hours.start), p.timezone)
            if start > now:
                return start
        day += timedelta(days=1)
    raise InvalidInput(f"{p.name} has no business days to snooze to")


def snooze_to_business_morning(store: Store, principal_id: int, reminder_id: int,
                               now: datetime | None = None) -> Reminder:
    """Until the principal's next business morning after now, or after the reminder's own time when that is later:
    a snooze never brings a reminder forward (08:40 with one due at 09:10 goes to tomorrow's 09:00, not today's)."""
    now = now or timezones.now_utc()
    r = rstore.get(store.scope(principal_id), reminder_id)
    if r is None:
        raise NotFound(f"no reminder {reminder_id} for this principal")
    return snooze(store, principal_id, reminder_id, next_business_morning(store, principal_id, max(now, r.due_utc)))


# -- quiet hours and delivery -------------------------------------------------------------------------------------
def in_quiet_hours(local: time, start: time | None, end: time | None) -> bool:
    """Whether a wall-clock time falls in quiet hours ``[start, end)``; they may run over midnight (22:00-07:00)."""
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def _parse_hours(text: str) -> tuple[time | None, time | None]:
    if not text.strip():
        return None, None
    try:
        a, _, b = text.strip().partition("-")
        return time.fromisoformat(a.strip()), time.fromisoformat(b.strip())
    except ValueError:
        raise InvalidInput(f"cannot read quiet hours {text!r}: use HH:MM-HH:MM, e.g. 22:00-07:00") from None


def set_notification_settings(store: Store, principal_id: int, *, notify: str | None = None,
                              quiet_hours: str | None = None) -> NotificationSettings:
    scope = store.scope(principal_id)
    s = rstore.settings(scope)
    if notify is not None:
        if notify not in NOTIFY_CHOICES:
            raise InvalidInput(f"notifications must be one of {', '.join(NOTIFY_CHOICES)}, not {notify!r}")
        s.notify = notify
    if quiet_hours is not None:
        s.quiet_start, s.quiet_end = _parse_hours(quiet_hours)
    rstore.save_settings(scope, s)
    return s


def notification_settings(store: Store, principal_id: int) -> NotificationSettings:
    return rstore.settings(store.scope(principal_id))


def set_assistant_quiet_hours(store: Store, text: str) -> None:
    _parse_hours(text)
    rstore.set_assistant_setting(store, ASSISTANT_QUIET_KEY, text.strip())


def assistant_quiet_hours(store: Store) -> tuple[time | None, time | None]:
    return _parse_hours(rstore.assistant_setting(store, ASSISTANT_QUIET_KEY))


def set_paused(store: Store, paused: bool) -> None:
    rstore.set_assistant_setting(store, PAUSED_KEY, "1" if paused else "")


def is_paused(store: Store) -> bool:
    return rstore.assistant_setting(store, PAUSED_KEY) == "1"


def delivery(store: Store, r: Reminder, now: datetime, assistant_zone: str) -> str:
    """``"popup"`` or ``"list"``: every fired reminder goes to the in-app list; it also pops up unless notifications are
    paused, off for the principal (or "only urgent" and it is not), or it is quiet hours for the principal (in their
    zone) or for the assistant (in the laptop's zone) — urgent reminders still pop up in quiet hours."""
    return delivery_for(store, r.principal_id, r.urgent, now, assistant_zone)


def delivery_for(store: Store, principal_id: int, urgent: bool, now: datetime, assistant_zone: str | None = None
                 ) -> str:
    """:func:`delivery` for any notice about a principal (an approval decision too), not only a reminder."""
    if is_paused(store):
        return "list"
    s = rstore.settings(store.scope(principal_id))
    if s.notify == "off" or (s.notify == "urgent" and not urgent):
        return "list"
    if urgent:
        return "popup"
    p_local = timezones.in_zone(now, store.principal(principal_id).timezone).time()
    if in_quiet_hours(p_local, s.quiet_start, s.quiet_end):
        return "list"
    a_start, a_end = assistant_quiet_hours(store)
    if in_quiet_hours(timezones.in_zone(now, assistant_zone or timezones.assistant_zone_name()).time(), a_start, a_end):
        return "list"
    return "popup"


# -- meetings -----------------------------------------------------------------------------------------------------
def sync_meeting_reminders(store: Store, principal_id: int, now: datetime | None = None,
                           horizon: timedelta = timedelta(days=2),
                           default_minutes: int = DEFAULT_MEETING_MINUTES) -> int:
    """A reminder before each of the principal's meetings starting within ``horizon`` (the event's own reminder minutes
    where the provider gave them); one per occurrence, never re-created once fired or dismissed. Returns how many new."""
    from assistant.calendar.ics import expand

    now = now or timezones.now_utc()
    scope = store.scope(principal_id)
    existing = {r.link for r in rstore.listed(scope, states=None) if r.kind == "meeting"}
    wanted: set[str] = set()
    added = 0
    with store.transaction():
        for event in calendar_store.events_between(scope, now, now + horizon):
            for occ in expand(event, now, now + horizon):
                if occ.all_day or occ.start_utc <= now:
                    continue
                link = f"event:{event.id}@{timezones.to_epoch(occ.start_utc)}"
                wanted.add(link)
                if link in existing:
                    continue
                minutes = event.reminder_minutes if event.reminder_minutes is not None else default_minutes
                due = max(occ.start_utc - timedelta(minutes=minutes), now)
                start_local = timezones.in_zone(occ.start_utc, scope.principal.timezone)
                rstore.insert(scope, Reminder(
                    principal_id=principal_id, kind="meeting",
                    text=f"{occ.summary or '(no title)'} at {start_local:%H:%M}"
                         + (f" — {occ.location}" if occ.location else ""),
                    due_utc=due, link=link, created_utc=now))
                added += 1
        for r in rstore.listed(scope):  # pending ones whose occurrence moved or was cancelled
            if r.kind == "meeting" and r.link not in wanted and r.due_utc > now:
                rstore.set_state(scope, r.id, ReminderState.CANCELLED)
    return added


# -- today --------------------------------------------------------------------------------------------------------
def due_today(store: Store, now: datetime | None = None) -> list[tuple[Reminder, str, str]]:
    """Cross-principal: each principal's reminders due or overdue by the end of *their* today, oldest first.
    Rows are ``(reminder, principal name, principal zone)``; overdue ones still pending or fired-but-missed show."""
    now = now or timezones.now_utc()
    rows: list[tuple[Reminder, str, str]] = []
    for p in store.principals():
        _, end = timezones.day_bounds_utc(timezones.in_zone(now, p.timezone).date(), p.timezone)
        scope = store.scope(p.id)
        for r in rstore.listed(scope, states=(ReminderState.PENDING,), due_before=end):
            rows.append((r, p.name, p.timezone))
        start, _ = timezones.day_bounds_utc(timezones.in_zone(now, p.timezone).date(), p.timezone)
        for r in rstore.listed(scope, states=(ReminderState.FIRED,), due_before=end):
            if r.due_utc >= start or r.missed:
                rows.append((r, p.name, p.timezone))
    rows.sort(key=lambda t: (t[0].due_utc, t[0].id))
    return rows


def today_items(store: Store, now: datetime | None = None) -> list[dict[str, Any]]:
    """What the Today view lists, and what the principal switcher counts as due (one definition for both): reminders
    due or overdue by the end of each principal's own day, and due cards that have no reminder of their own. Each row:
    principal_id, principal, timezone, kind, text, link, due_utc, reminder_id (None for a card), state, missed."""
    now = now or timezones.now_utc()
    rows: list[dict[str, Any]] = []
    links = set()
    for r, name, zone in due_today(store, now):
        links.add((r.principal_id, r.link))
        rows.append({"principal_id": r.principal_id, "principal": name, "timezone": zone, "kind": r.kind,
                     "text": r.text, "link": r.link, "due_utc": r.due_utc, "reminder_id": r.id, "state": r.state,
                     "missed": r.missed})
    zones = {p.id: p.timezone for p in store.principals()}
    for item in store.today(now):
        if not item["card"] or (item["principal_id"], f"task:{item['id']}") in links:
            continue  # reminders came above (a card's too, of kind "task"); a card with its own reminder is listed once
        rows.append({"principal_id": item["principal_id"], "principal": item["principal"],
                     "timezone": zones[item["principal_id"]], "kind": "task", "text": item["text"],
                     "link": f"task:{item['id']}", "due_utc": item["due_utc"], "reminder_id": None,
                     "state": "pending", "missed": False})
    rows.sort(key=lambda row: row["due_utc"])
    return rows


def item_status(row: dict[str, Any], now: datetime) -> str:
    """What a ``today_items`` row is now: "missed", "notified" (fired, not dismissed), "overdue" or "due"."""
    if row["missed"]:
        return "missed"
    if row["state"] == "fired":
        return "notified"
    return "overdue" if row["due_utc"] <= now else "due"


def counts(store: Store, now: datetime | None = None) -> dict[int, dict[str, int]]:
    """Per principal: unread threads, and the items Today lists for them ("due")."""
    out = {pid: {"unread": c["unread"], "due": 0} for pid, c in store.counts().items()}
    for row in today_items(store, now):
        out.setdefault(row["principal_id"], {"unread": 0, "due": 0})["due"] += 1
    return out
