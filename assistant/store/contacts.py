"""Contacts synced from a provider's address book, keyed by (account, remote id), and lookups by phone or address.

Every statement filters on the scope's principal. Phones are stored as E.164 when they parse in the principal's region
(a number kept as typed otherwise); addresses lower-cased. Manual contacts (:func:`add_contact`) have no
account or remote id and are never touched by a sync.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

from assistant.core.phones import normalise
from assistant.domain import Contact, RemoteContact
from assistant.store import inserted_id
from assistant.store.changes import Area
from assistant.store.db import sqlite

if TYPE_CHECKING:
    from assistant.store import PrincipalScope


def normalised_phones(phones: Iterable[str], region: str) -> list[str]:
    out: list[str] = []
    for raw in phones:
        text = (raw or "").strip()
        if not text:
            continue
        info = normalise(text, region)
        value = info.e164 if info.valid else text
        if value not in out:
            out.append(value)
    return out


def normalised_emails(emails: Iterable[str]) -> list[str]:
    out: list[str] = []
    for raw in emails:
        value = (raw or "").strip().lower()
        if value and value not in out:
            out.append(value)
    return out


def _contact(r: sqlite.Row) -> Contact:
    return Contact(id=r["id"], principal_id=r["principal_id"], name=r["name"], emails=json.loads(r["emails"]),
                   phones=json.loads(r["phones"]), source=r["source"])


def upsert_contact(scope: PrincipalScope, account_id: int, remote: RemoteContact, *, region: str | None = None) -> str:
    """Insert or update one synced contact; returns "added", "updated" or "unchanged"."""
    account = scope.own_account(account_id)
    region = region or scope.principal.region
    name = remote.name.strip() or (remote.emails[0] if remote.emails else "") or (remote.phones[0] if remote.phones else "")
    emails = json.dumps(normalised_emails(remote.emails))
    phones = json.dumps(normalised_phones(remote.phones, region))
    with scope.store.transaction():
        scope.store.changed(Area.CONTACTS, scope.principal_id)
        row = scope.db.execute(
            "SELECT id, name, emails, phones FROM contacts WHERE principal_id=? AND account_id=? AND remote_id=?",
            (scope.principal_id, account_id, remote.remote_id),
        ).fetchone()
        if row is None:
            scope.db.execute(
                "INSERT INTO contacts(principal_id, name, emails, phones, source, account_id, remote_id)"
                " VALUES (?,?,?,?,?,?,?)",
                (scope.principal_id, name, emails, phones, account.kind, account_id, remote.remote_id),
            )
            return "added"
        if (row["name"], row["emails"], row["phones"]) == (name, emails, phones):
            return "unchanged"
        scope.db.execute(
            "UPDATE contacts SET name=?, emails=?, phones=? WHERE id=? AND principal_id=?",
            (name, emails, phones, row["id"], scope.principal_id),
        )
        return "updated"


def remove_contacts(scope: PrincipalScope, account_id: int, remote_ids: Iterable[str]) -> int:
    removed = 0
    with scope.store.transaction():
        scope.store.changed(Area.CONTACTS, scope.principal_id)
        for remote_id in remote_ids:
            removed += scope.db.execute(
                "DELETE FROM contacts WHERE principal_id=? AND account_id=? AND remote_id=?",
                (scope.principal_id, account_id, remote_id),
            ).rowcount
    return removed


def contact_remote_ids(scope: PrincipalScope, account_id: int) -> set[str]:
    rows = scope.db.execute(
        "SELECT remote_id FROM contacts WHERE principal_id=? AND account_id=? AND remote_id IS NOT NULL",
        (scope.principal_id, account_id),
    )
    return {r[0] for r in rows}


def contact_for_phone(scope: PrincipalScope, number: str) -> Contact | None:
    """The principal's contact with this number, typed in any form (E.164, national, with spaces…)."""
    region = scope.principal.region
    info = normalise(number, region)
    key = info.key
    if not key or info.kind in ("sip", "client"):
        return None
    needle = info.e164 if info.valid else key
    rows = scope.db.execute(
        "SELECT * FROM contacts WHERE principal_id=? AND instr(phones, ?) > 0 ORDER BY account_id IS NOT NULL, id",
        (scope.principal_id, needle),
    )
    for r in rows:
        if any(normalise(phone, region).key == key for phone in json.loads(r["phones"])):
            return _contact(r)
    return None


def contact_for_email(scope: PrincipalScope, address: str) -> Contact | None:
    wanted = (address or "").strip().lower()
    if not wanted:
        return None
    rows = scope.db.execute(
        "SELECT * FROM contacts WHERE principal_id=? AND instr(lower(emails), ?) > 0 ORDER BY account_id IS NOT NULL, id",
        (scope.principal_id, json.dumps(wanted)),
    )
    for r in rows:
        if wanted in (e.lower() for e in json.loads(r["emails"])):
            return _contact(r)
    return None


def add_contact(scope: PrincipalScope, c: Contact) -> Contact:
    with scope.store.transaction():
        scope.store.changed(Area.CONTACTS, scope.principal_id)
        cur = scope.db.execute(
            "INSERT INTO contacts(principal_id, name, emails, phones, source) VALUES (?,?,?,?,?)",
            (scope.principal_id, c.name, json.dumps(c.emails), json.dumps(c.phones), c.source),
        )
        c.id = inserted_id(cur)
    return c


def contacts(scope: PrincipalScope) -> list[Contact]:
    rows = scope.db.execute("SELECT * FROM contacts WHERE principal_id=? ORDER BY name", (scope.principal_id,))
    return [
        Contact(id=r["id"], principal_id=r["principal_id"], name=r["name"], emails=json.loads(r["emails"]),
                phones=json.loads(r["phones"]), source=r["source"])
        for r in rows
    ]
