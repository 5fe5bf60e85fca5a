"""Logging one call by hand (the quick log and ``assistant call log``), and the follow-ups made from a call."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from assistant.calls.matching import ContactMatcher
from assistant.core import timezones
from assistant.core.phones import normalise
from assistant.domain import Call, CallDirection, Task


def log_call(store: Any, principal_id: int, *, number: str, direction: str | CallDirection, started_utc: datetime,
             duration_s: int = 0, caller_name: str = "", outcome: str = "", notes: str = "") -> Call:
    """Store a call typed in by the assistant; the caller's name comes from the contacts when none was typed."""
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
    scope.add_call(call)
    return call


def _named(store: Any, principal_id: int, call: Call) -> Call:
    """The call with the contact's name filled in when the call itself has none (a copy; the row is unchanged)."""
    if call.caller_name:
        return call
    scope = store.scope(principal_id)
    name = ContactMatcher(scope, scope.principal.region).match(normalise(call.number_raw, scope.principal.region)).name
    from dataclasses import replace

    return replace(call, caller_name=name)


def call_title(call: Call) -> str:
    who = call.caller_name or call.number_e164 or call.number_raw or "withheld number"
    verb = {"in": "Call from", "out": "Call to", "missed": "Missed call from", "voicemail": "Voicemail from"}
    return f"{verb[CallDirection(call.direction).value]} {who}"


def call_back(store: Any, principal_id: int, call: Call, due_utc: datetime, text: str = "") -> Any:
    """A call-back reminder for ``call`` at ``due_utc`` (the UI and CLI read the time in the principal's zone)."""
    call = _named(store, principal_id, call)
    who = call.caller_name or call.number_e164 or call.number_raw
    text = text or f"Call back {who}" + (f" ({call.number_e164 or call.number_raw})" if call.caller_name else "")
    try:
        from assistant.reminders import add_reminder
    except ImportError:  # the reminders package is not there yet: the row alone is what it would write
        from assistant.domain import Reminder

        return store.scope(principal_id).add_reminder(Reminder(
            principal_id=principal_id, kind="call-back", text=text, due_utc=due_utc, link=f"call:{call.id}",
        ))
    return add_reminder(store, principal_id, kind="call-back", text=text, due_utc=due_utc, link=f"call:{call.id}")


def task_from_call(store: Any, principal_id: int, call: Call, title: str = "") -> Task:
    call = _named(store, principal_id, call)
    notes = call.notes
    if call.outcome:
        notes = f"Outcome: {call.outcome}\n\n{notes}".strip()
    task = Task(principal_id=principal_id, title=title or f"Follow up: {call_title(call)}", notes=notes,
                link=f"call:{call.id}")
    return store.scope(principal_id).add_task(task)
