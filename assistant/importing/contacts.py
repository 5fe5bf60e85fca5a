"""Contacts from a vCard file (``.vcf``, versions 2.1–4.0): each card's name, e-mail addresses and phone numbers, into
the principal's address book (``store.contacts.add_contact``). A card already there (same name and addresses) is
skipped, so importing a file twice adds nothing."""
from __future__ import annotations

import re
from pathlib import Path

from assistant.core.errors import InvalidInput
from assistant.domain import Contact
from assistant.importing.base import ImportReport
from assistant.store import Store
from assistant.store import contacts as contact_store

MAX_BYTES = 64 * 1024 * 1024


def is_vcard(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:11].upper() == b"BEGIN:VCARD"


def _unescape(value: str) -> str:
    return re.sub(r"\\([\\,;nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def read_cards(text: str) -> list[dict[str, list[str]]]:
    """The cards of a vCard text: property name → values (parameters dropped, folded lines joined)."""
    lines: list[str] = []
    for raw in text.splitlines():
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] += raw[1:]
        else:
            lines.append(raw)
    cards: list[dict[str, list[str]]] = []
    card: dict[str, list[str]] | None = None
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep:
            continue
        prop = name.split(";", 1)[0].split(".")[-1].strip().upper()
        if prop == "BEGIN" and value.strip().upper() == "VCARD":
            card = {}
        elif prop == "END" and value.strip().upper() == "VCARD":
            if card is not None:
                cards.append(card)
            card = None
        elif card is not None:
            card.setdefault(prop, []).append(_unescape(value.strip()))
    return cards


def import_vcards(store: Store, principal_id: int, path: Path) -> ImportReport:
    scope = store.scope(principal_id)
    if path.stat().st_size > MAX_BYTES:
        raise InvalidInput(f"{path} is larger than {MAX_BYTES // (1024 * 1024)} MB: not an address book")
    report = ImportReport(kind="contacts:vcard")
    known = {(c.name, tuple(c.emails)) for c in contact_store.contacts(scope)}
    region = scope.principal.region
    with store.transaction():
        for i, card in enumerate(read_cards(path.read_text(encoding="utf-8", errors="replace")), 1):
            name = (card.get("FN") or [""])[0] or " ".join((card.get("N") or [""])[0].split(";")[1::-1]).strip()
            emails = contact_store.normalised_emails(card.get("EMAIL", []))
            phones = contact_store.normalised_phones(card.get("TEL", []), region)
            if not (name or emails or phones):
                report.rejected.append((f"{path.name} card {i}", "no name, address or phone"))
                continue
            if (name, tuple(emails)) in known:
                report.skipped += 1
                continue
            contact_store.add_contact(scope, Contact(principal_id, name, emails, phones, source="import"))
            known.add((name, tuple(emails)))
            report.imported += 1
    return report
