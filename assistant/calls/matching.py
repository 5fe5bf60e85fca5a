"""Who is on the line: a number matched to the principal's contacts, then to names seen in earlier calls."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assistant.calls.numbers import NumberInfo, normalise
from assistant.store import calls as call_store


@dataclass
class Match:
    name: str = ""
    emails: list[str] = field(default_factory=list)
    source: str = ""  # "contact", "calls", ""


class ContactMatcher:
    """Built once per principal (contacts and the names of earlier calls), then asked per number, without SQL."""

    def __init__(self, scope: Any, region: str):
        self.region = region
        self._contacts: dict[str, tuple[str, list[str]]] = {}
        for contact in scope.contacts():
            for phone in contact.phones:
                key = normalise(phone, region).key
                if key:
                    self._contacts.setdefault(key, (contact.name, list(contact.emails)))
        self._from_calls = call_store.names_by_party(scope)

    def match(self, number: NumberInfo | str) -> Match:
        info = number if isinstance(number, NumberInfo) else normalise(number, self.region)
        key = info.key
        if not key:
            return Match()
        if key in self._contacts:
            name, emails = self._contacts[key]
            return Match(name, emails, "contact")
        if key in self._from_calls:
            return Match(self._from_calls[key], [], "calls")
        return Match()


def pick_principal(store: Any, number: str, current_id: int | None) -> int | None:
    """The principal a number belongs to when exactly one principal knows it, else the current one."""
    principals = {p.id: p for p in store.principals()}
    owners: set[int] = set()
    regions = {p.region for p in principals.values()} or {"US"}
    for region in sorted(regions):
        info = normalise(number, region)
        owners.update(call_store.principals_knowing(store, info.key))
    owners &= set(principals)
    if len(owners) == 1:
        return owners.pop()
    return current_id
