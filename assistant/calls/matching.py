"""Who is on the line: a number matched to the principal's contacts, then to names seen in earlier calls."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.core.phones import NumberInfo, normalise
from assistant.store import PrincipalScope, Store
from assistant.store import calls as call_store


@dataclass
class Match:
    name: str = ""
    emails: list[str] = field(default_factory=list)
    source: str = ""  # "contact", "calls", "mail", ""


class ContactMatcher:
    """Asked per number: the principal's contacts, then the name of their latest call, then a signature in their mail.

    Each step is one indexed query returning a row or two (answers are cached), so the GUI thread may ask it for a page.
    """

    def __init__(self, scope: PrincipalScope, region: str, *, search_mail: bool = True):
        self.region = region
        self._scope = scope
        self._search_mail = search_mail
        self._cache: dict[str, Match] = {}

    def match(self, number: NumberInfo | str) -> Match:
        info = number if isinstance(number, NumberInfo) else normalise(number, self.region)
        key = info.key
        if not key:
            return Match()
        if key not in self._cache:
            self._cache[key] = self._lookup(info)
        return self._cache[key]

    def _lookup(self, info: NumberInfo) -> Match:
        contact = call_store.contact_by_phone(self._scope, info.key)
        if contact is not None:
            return Match(contact[0], contact[1], "contact")
        name = call_store.latest_name(self._scope, info.key)
        if name:
            return Match(name, [], "calls")
        if self._search_mail and info.valid:
            return self._match_in_mail(info)
        return Match()

    def _match_in_mail(self, info: NumberInfo) -> Match:
        """A number found in someone's mail (their signature) names them; one indexed query per spelling."""
        import phonenumbers  # here, as in core/phones.py: the window's launch does not need it

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


def pick_principal(store: Store, number: str, current_id: int | None) -> int | None:
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
