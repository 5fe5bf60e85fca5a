"""A principal's kanban board: making, moving and finishing cards, recurrence, archiving, filters, due reminders.

No Qt here; the board view and the CLI both call these functions with a :class:`~assistant.store.Store`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from dateutil import rrule as dateutil_rrule

from assistant import reminders
from assistant.calls.manual import call_title, named_call
from assistant.core import timezones
from assistant.core.errors import InvalidInput, NotFound
from assistant.domain import BoardColumn, Card, ChecklistItem
from assistant.store import DEFAULT_COLUMNS, Store
from assistant.store import board as board_store
from assistant.store import calendar as calendar_store
from assistant.store import calls as call_store
from assistant.store import mail as mail_store

DONE_COLUMN = "Done"
REMINDER_KIND = "task"

# Phrases the assistant may type instead of an RRULE.
REPEAT_PHRASES = {
    "every day": "FREQ=DAILY",
    "daily": "FREQ=DAILY",
    "every weekday": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
    "weekdays": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
    "every week": "FREQ=WEEKLY",
    "weekly": "FREQ=WEEKLY",
    "every month": "FREQ=MONTHLY",
    "monthly": "FREQ=MONTHLY",
    "every year": "FREQ=YEARLY",
}
_DAYS = {"monday": "MO", "tuesday": "TU", "wednesday": "WE", "thursday": "TH", "friday": "FR", "saturday": "SA",
         "sunday": "SU"}
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
_NTH_DAY = re.compile(r"^(?:every\s+)?(first|second|third|fourth|last)\s+(\w+?)s?\s+of\s+(?:the|each|every)\s+month$")
_EVERY_DAY = re.compile(r"^every\s+(monday|tuesday|wednesday|thursday|friday|saturday|sunday)$")


def link_for(kind: str, item_id: int) -> str:
    return f"{kind}:{item_id}"


def reminder_link(card_id: int) -> str:
    return f"task:{card_id}"


def parse_link(link: str) -> tuple[str, int] | None:
    kind, _, ident = link.partition(":")
    if kind in ("message", "thread", "event", "call") and ident.isdigit():
        return kind, int(ident)
    return None


# -- recurrence -------------------------------------------------------------------------------------------------------
def parse_repeat(text: str) -> str:
    """An RRULE from ``FREQ=…`` (``RRULE:`` prefix allowed) or a phrase such as "every weekday" or "first Monday of the
    month"; raises a one-line :class:`InvalidInput` otherwise."""
    text = " ".join(text.strip().split())
    if not text:
        return ""
    lowered = text.casefold()
    if lowered in REPEAT_PHRASES:
        return REPEAT_PHRASES[lowered]
    if m := _NTH_DAY.match(lowered):
        day = _DAYS.get(m.group(2)) or _DAYS.get(m.group(2) + "s")
        if day:
            return f"FREQ=MONTHLY;BYDAY={_ORDINALS[m.group(1)]}{day}"
    if m := _EVERY_DAY.match(lowered):
        return f"FREQ=WEEKLY;BYDAY={_DAYS[m.group(1)]}"
    rule = text[6:] if lowered.startswith("rrule:") else text
    try:
        dateutil_rrule.rrulestr(rule, dtstart=datetime(2026, 1, 1))
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"cannot read the repeat rule {text!r}: {exc}") from None
    if "FREQ=" not in rule.upper():
        raise InvalidInput(f"cannot read the repeat rule {text!r}: say e.g. 'every weekday' or FREQ=WEEKLY;BYDAY=MO")
    return rule.upper()


def next_due(rule: str, due_utc: datetime | None, zone: str, now: datetime) -> datetime:
    """The next occurrence after the card's due time (or after now), counted in the principal's wall-clock time so
    that 9:00 stays 9:00 across DST."""
    base = due_utc or now
    local = timezones.in_zone(base, zone).replace(tzinfo=None)
    after = max(local, timezones.in_zone(now, zone).replace(tzinfo=None)) if due_utc is None else local
    occurrences = dateutil_rrule.rrulestr(rule, dtstart=local)
    following = occurrences.after(after, inc=False)
    if following is None:
        raise InvalidInput(f"the repeat rule {rule} has no further occurrence")
    return timezones.local_to_utc(following, zone)


# -- reminders -------------------------------------------------------------------------------------------------------
def sync_reminder(store: Store, c: Card) -> None:
    """A card with a due time gets one pending reminder (unless turned off or done); any earlier one is cancelled."""
    if not c.id:
        return
    reminders.cancel_reminders(store, c.principal_id, reminder_link(c.id))
    if c.remind and c.due_utc is not None and c.done_utc is None and c.archived_utc is None:
        reminders.add_reminder(store, c.principal_id, kind=REMINDER_KIND, text=c.title, due_utc=c.due_utc,
                               link=reminder_link(c.id))


# -- cards ------------------------------------------------------------------------------------------------------------
def ensure_board(store: Store, principal_id: int) -> list[BoardColumn]:
    scope = store.scope(principal_id)
    columns = board_store.columns(scope)
    if not columns:
        for name in DEFAULT_COLUMNS:
            board_store.add_column(scope, name)
        columns = board_store.columns(scope)
    return columns


def done_column(store: Store, principal_id: int) -> BoardColumn:
    columns = ensure_board(store, principal_id)
    for column in columns:
        if column.name.casefold() == DONE_COLUMN.casefold():
            return column
    return columns[-1]


def is_done_column(store: Store, principal_id: int, column_id: int | None) -> bool:
    return column_id is not None and done_column(store, principal_id).id == column_id


def make_task(store: Store, principal_id: int, title: str, *, column: str | int | None = None,
              due_utc: datetime | None = None, repeat: str = "", link: str = "", notes: str = "",
              labels: list[str] | None = None, priority: int = 0, checklist: list[ChecklistItem] | None = None,
              estimate_min: int | None = None, remind: bool = True, index: int | None = None) -> Card:
    title = " ".join(title.split())
    if not title:
        raise InvalidInput("a task needs a title")
    scope = store.scope(principal_id)
    ensure_board(store, principal_id)
    column_id = None
    if isinstance(column, int):
        column_id = column
    elif column:
        column_id = board_store.column_by_name(scope, column).id
    c = Card(principal_id=principal_id, title=title, column_id=column_id, notes=notes, due_utc=due_utc,
             priority=priority, labels=labels or [], rrule=parse_repeat(repeat) if repeat else "", link=link,
             checklist=checklist or [], estimate_min=estimate_min, remind=remind)
    with store.transaction():
        board_store.add_card(scope, c, index=index)
        if is_done_column(store, principal_id, c.column_id):
            board_store.update_card(scope, c.id, done_utc=timezones.now_utc())
        sync_reminder(store, board_store.card(scope, c.id))
    return board_store.card(scope, c.id)


def edit_task(store: Store, principal_id: int, card_id: int, **changes: Any) -> Card:
    scope = store.scope(principal_id)
    if "rrule" in changes and changes["rrule"]:
        changes["rrule"] = parse_repeat(changes["rrule"])
    with store.transaction():
        board_store.update_card(scope, card_id, **changes)
        c = board_store.card(scope, card_id)
        sync_reminder(store, c)
    return c


def move_task(store: Store, principal_id: int, card_id: int, column_id: int, index: int | None = None,
              now: datetime | None = None) -> Card | None:
    """Move a card (one transaction). Into Done: it is marked done and, if it repeats, the next card is made in the
    column it left; returns that next card. Out of Done: it is open again."""
    now = now or timezones.now_utc()
    scope = store.scope(principal_id)
    with store.transaction():
        before = board_store.card(scope, card_id)
        board_store.move_card(scope, card_id, column_id, index)
        into_done = is_done_column(store, principal_id, column_id)
        following = None
        if into_done and before.done_utc is None:
            board_store.update_card(scope, card_id, done_utc=now)
            following = _repeat(store, before, now)
        elif not into_done and before.done_utc is not None:
            board_store.update_card(scope, card_id, done_utc=None)
        sync_reminder(store, board_store.card(scope, card_id))
    return following


def _repeat(store: Store, finished: Card, now: datetime) -> Card | None:
    if not finished.rrule:
        return None
    zone = store.principal(finished.principal_id).timezone
    due = next_due(finished.rrule, finished.due_utc, zone, now)
    origin = finished.column_id
    if origin is None or is_done_column(store, finished.principal_id, origin):
        origin = ensure_board(store, finished.principal_id)[0].id
    return make_task(store, finished.principal_id, finished.title, column=origin, due_utc=due, repeat=finished.rrule,
                     link=finished.link, notes=finished.notes, labels=finished.labels, priority=finished.priority,
                     checklist=[ChecklistItem(i.text, False) for i in finished.checklist],
                     estimate_min=finished.estimate_min, remind=finished.remind)


def complete_task(store: Store, principal_id: int, card_id: int, now: datetime | None = None) -> Card | None:
    return move_task(store, principal_id, card_id, done_column(store, principal_id).id, None, now=now)


def delete_task(store: Store, principal_id: int, card_id: int) -> Card:
    scope = store.scope(principal_id)
    with store.transaction():
        gone = board_store.delete_card(scope, card_id)
        reminders.cancel_reminders(store, principal_id, reminder_link(card_id))
    return gone


def restore_task(store: Store, principal_id: int, gone: Card) -> Card:
    scope = store.scope(principal_id)
    with store.transaction():
        back = board_store.restore_card(scope, gone)
        sync_reminder(store, back)
    return back


def neighbour_column(store: Store, principal_id: int, column_id: int, step: int) -> int | None:
    ids = [c.id for c in board_store.columns(store.scope(principal_id))]
    if column_id not in ids:
        return None
    i = ids.index(column_id) + step
    return ids[i] if 0 <= i < len(ids) else None


VERBS = {"message": "Reply to", "thread": "Follow up", "event": "Prepare", "call": "Follow up"}


def title_for(kind: str, subject: str) -> str:
    """The one title rule for a card made from something: a verb for the kind, then its subject without Re:/Fwd:."""
    subject = " ".join((subject or "").split())
    for prefix in ("re:", "fwd:", "fw:", "aw:", "wg:"):
        while subject.casefold().startswith(prefix):
            subject = subject[len(prefix):].strip()
    return f"{VERBS.get(kind, 'Do')}: {subject}" if subject else VERBS.get(kind, "New task")


def make_task_from(store: Store, principal_id: int, kind: str, item_id: int, title: str = "", *, notes: str = "",
                   **card: Any) -> Card:
    """'Make a task' from a message, thread, event or call — from the inbox (Ctrl+T), the Calls tab, the quick log and
    the command line alike: the link back, a title by :func:`title_for` unless one is given, for a call its outcome
    and notes (before ``notes``), and whatever else :func:`make_task` takes (``column``, ``due_utc``…)."""
    extra_notes = notes
    scope = store.scope(principal_id)
    notes = ""
    if kind == "message":
        m = mail_store.message(scope, item_id, with_body=False)
        subject = m.subject
    elif kind == "thread":
        messages = mail_store.thread_messages(scope, item_id)
        if not messages:
            raise NotFound(f"no thread {item_id} for {scope.principal.name}")
        subject = messages[-1].subject
    elif kind == "event":
        subject = calendar_store.event(scope, item_id).summary
    elif kind == "call":
        call = named_call(scope, call_store.get_call(scope, item_id))
        subject = call_title(call)
        notes = f"Outcome: {call.outcome}\n\n{call.notes}".strip() if call.outcome else call.notes
    else:
        raise InvalidInput(f"cannot make a task from a {kind}")
    notes = "\n\n".join(part for part in (notes, extra_notes) if part)
    return make_task(store, principal_id, title or title_for(kind, subject), link=link_for(kind, item_id), notes=notes,
                     **card)


# -- filters ----------------------------------------------------------------------------------------------------------
@dataclass
class CardFilter:
    label: str = ""
    due: str = ""  # "", overdue, today, week
    text: str = ""

    def is_empty(self) -> bool:
        return not (self.label or self.due or self.text.strip())


def due_bounds(due: str, zone: str, now: datetime) -> tuple[datetime | None, datetime | None]:
    today = timezones.in_zone(now, zone).date()
    if due == "overdue":
        return None, now
    if due == "today":
        return timezones.day_bounds_utc(today, zone)
    if due == "week":
        monday = today - timedelta(days=today.weekday())
        return timezones.day_bounds_utc(monday, zone)[0], timezones.day_bounds_utc(monday + timedelta(days=6), zone)[1]
    raise InvalidInput(f"unknown due filter {due!r} (overdue, today, week)")


def filter_cards(store: Store, principal_id: int, cards: list[Card], f: CardFilter, now: datetime | None = None) -> list[Card]:
    if f.is_empty():
        return cards
    now = now or timezones.now_utc()
    wanted = board_store.search_ids(store.scope(principal_id), f.text) if f.text.strip() else None
    label = f.label.casefold()
    start = end = None
    if f.due:
        start, end = due_bounds(f.due, store.principal(principal_id).timezone, now)
    kept = []
    for c in cards:
        if wanted is not None and c.id not in wanted:
            continue
        if label and label not in (x.casefold() for x in c.labels):
            continue
        if f.due:
            if c.due_utc is None:
                continue
            if f.due == "overdue" and (c.done_utc is not None or c.due_utc >= now):
                continue
            if f.due != "overdue" and (start is None or end is None or not start <= c.due_utc < end):
                continue
        kept.append(c)
    return kept


def labels_in_use(cards: list[Card]) -> list[str]:
    return sorted({label for c in cards for label in c.labels}, key=str.casefold)


def due_text(c: Card, zone: str) -> str:
    if c.due_utc is None:
        return ""
    local = timezones.in_zone(c.due_utc, zone)
    return local.strftime("%a %d %b %H:%M")


def local_date(dt: datetime, zone: str) -> date:
    return timezones.in_zone(dt, zone).date()
