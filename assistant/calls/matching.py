"""Who is on the line: a number matched to the principal's contacts, then to names seen in earlier calls."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import phonenumbers
from typing import Any

from assistant.calls.numbers import NumberInfo, normalise
from assistant.store import calls as call_store


@dataclass
class Match:
    name: str = ""
    emails: list[str] = field(default_factory=list)
    source: str = ""  # "contact", "calls", "mail", ""


class ContactMatcher:
    """Built once per principal (contacts and the names of earlier calls), then asked per number, without SQL."""

    def __init__(self, scope: Any, region: str, *, search_mail: bool = True):
        self.region = region
        self._scope = scope if search_mail else None
        self._from_mail: dict[str, Match] = {}
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
        if self._scope is not None and info.valid:
            if key not in self._from_mail:
                self._from_mail[key] = self._match_in_mail(info)
            return self._from_mail[key]
        return Match()

    def _match_in_mail(self, info: NumberInfo) -> Match:
        """A number found in someone's mail (their signature) names them; one indexed query per spelling."""
        parsed = phonenumbers.parse(info.e164)
        spellings = [
            re.findall(r"\d+", phonenumbers.format_number(parsed, fmt))
            for fmt in (phonenumbers.PhoneNumberFormat.NATIONAL, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        ]
        found = call_store.sender_mentioning(self._scope, spellings, self._scope.principal.addresses)
        if found is None:
            return Match()
        name, email = found
        return Match(name or email, [email], "mail")


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
