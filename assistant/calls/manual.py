"""Logging one call by hand (the quick log and ``assistant call log``), and the call-back reminder made from a call.
An answered call's duration counts as its principal's time (:func:`assistant.timekeeping.auto.record_call`).

A task made from a call is the board's (:func:`assistant.board.service.make_task_from` with ``"call"``), like a task made
from a message or an event.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from assistant import reminders
from assistant.calls.matching import ContactMatcher
from assistant.core import timezones
from assistant.core.errors import InvalidInput
from assistant.core.phones import normalise
from assistant.domain import Call, CallDirection, Reminder
from assistant.store import PrincipalScope, Store
from assistant.store import calls as call_store
from assistant.timekeeping import auto


def log_call(store: Store, principal_id: int, *, number: str, direction: str | CallDirection, started_utc: datetime,
             duration_s: int = 0, caller_name: str = "", outcome: str = "", notes: str = "") -> Call:
    """Store a call typed in by the assistant, and its duration as the principal's time (an answered call); the
    caller's name comes from the contacts when none was typed."""
    scope = store.scope(principal_id)
    principal = scope.principal
    info = normalise(number, principal.region)
    if not caller_name.strip():
        caller_name = ContactMatcher(scope, principal.region).match(info).name
    call = Call(
        principal_id=principal_id, direction=CallDirection(direction), number_raw=number.strip(),
        started_utc=timezones.to_utc(started_utc), duration_s=max(0, int(duration_s)), number_e164=info.e164,
        number_valid=info.valid, caller_name=caller_name.strip(), outcome=outcome.strip(), notes=notes.strip(),
        source="manual",
    )
    with store.transaction():  # the call and its time land together
        call_store.add_call(scope, call)
        auto.record_call(store, call, call_title(call))
    return call


def edit_call(store: Store, principal_id: int, call_id: int, *, caller_name: str | None = None,
              outcome: str | None = None, notes: str | None = None, duration_s: int | None = None) -> Call:
    """Change what became known after a call (the Calls tab's *Edit*, ``assistant call edit``); a new duration moves
    the call's time entry with it, in the same transaction."""
    scope = store.scope(principal_id)
    if duration_s is not None and duration_s < 0:
        raise InvalidInput("a call's duration is 0 or more seconds")
    with store.transaction():
        before = call_store.get_call(scope, call_id)
        call = call_store.update_call(scope, call_id, caller_name=caller_name, outcome=outcome, notes=notes,
                                      duration_s=duration_s)
        if call.duration_s != before.duration_s:
            auto.record_call(store, call, call_title(call))
    return call


def named_call(scope: PrincipalScope, call: Call) -> Call:
    """The call with the contact's name filled in when the call itself has none (a copy; the row is unchanged)."""
    if call.caller_name:
        return call
    region = scope.principal.region
    return replace(call, caller_name=ContactMatcher(scope, region).match(normalise(call.number_raw, region)).name)


def call_title(call: Call) -> str:
    who = call.caller_name or call.number_e164 or call.number_raw or "withheld number"
    verb = {"in": "Call from", "out": "Call to", "missed": "Missed call from", "voicemail": "Voicemail from"}
    return f"{verb[CallDirection(call.direction).value]} {who}"


def call_back(store: Store, principal_id: int, call: Call, due_utc: datetime, text: str = "") -> Reminder:
    """A call-back reminder for ``call`` at ``due_utc`` (the UI and CLI read the time in the principal's zone)."""
    call = named_call(store.scope(principal_id), call)
    who = call.caller_name or call.number_e164 or call.number_raw
    text = text or f"Call back {who}" + (f" ({call.number_e164 or call.number_raw})" if call.caller_name else "")
    return reminders.add_reminder(store, principal_id, kind="call-back", text=text, due_utc=due_utc,
                                  link=f"call:{call.id}")
