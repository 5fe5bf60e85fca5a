"""A ``mailto:`` link (RFC 6068) read into what a compose window opens with, and whose mail it most likely is.

``mailto:a@x.org,b@y.org?cc=c@z.org&subject=Hello%20there&body=Line%0D%0Aline`` — addresses in the path and in
``to``/``cc``; ``subject`` and ``body`` percent-decoded as UTF-8; ``bcc`` is kept for the caller to mention (compose has
no Bcc field); other headers are ignored, as the RFC allows. A link longer than ``MAX_LENGTH`` is refused.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from email.utils import getaddresses
from urllib.parse import unquote

from assistant.core.errors import InvalidInput
from assistant.domain import Address
from assistant.store import Store
from assistant.store import contacts as contact_store
from assistant.store import mail as mail_store

MAX_LENGTH = 64 * 1024


@dataclass
class MailtoLink:
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    bcc: list[Address] = field(default_factory=list)
    subject: str = ""
    body: str = ""
    in_reply_to: str = ""

    @property
    def addresses(self) -> list[str]:
        return [a.email for a in self.to + self.cc + self.bcc]


def _addresses(text: str) -> list[Address]:
    found = []
    for name, email in getaddresses([text]):
        email = email.strip()
        if "@" in email and not email.startswith("@") and not email.endswith("@"):
            found.append(Address(name, email))
    return found


def is_mailto(text: str) -> bool:
    return text[:7].lower() == "mailto:"


def parse_mailto(url: str) -> MailtoLink:
    if not is_mailto(url):
        raise InvalidInput(f"not a mailto: link: {url[:80]!r}")
    if len(url) > MAX_LENGTH:
        raise InvalidInput(f"the mailto: link is {len(url)} characters long; at most {MAX_LENGTH} are read")
    path, _, query = url[7:].partition("?")
    link = MailtoLink(to=_addresses(unquote(path, errors="replace")))
    for pair in query.split("&"):  # not parse_qsl: in a mailto: URI "+" is a plus sign, not a space
        raw_key, _, raw_value = pair.partition("=")
        key, value = unquote(raw_key, errors="replace").lower(), unquote(raw_value, errors="replace")
        if key == "to":
            link.to += _addresses(value)
        elif key == "cc":
            link.cc += _addresses(value)
        elif key == "bcc":
            link.bcc += _addresses(value)
        elif key == "subject":
            link.subject = " ".join(value.split())
        elif key == "body":
            link.body = value.replace("\r\n", "\n")
        elif key == "in-reply-to":
            link.in_reply_to = value.strip()
    return link


def likely_principals(store: Store, link: MailtoLink) -> list[int]:
    """The principals a link's addresses point at: one of theirs, one of their contacts, or someone in their mail.
    One id: write as them; none or several: the caller asks."""
    wanted = {a.lower() for a in link.addresses}
    if not wanted:
        return []
    found = []
    for principal in store.principals():
        scope = store.scope(principal.id)
        own = {a.lower() for a in principal.addresses}
        if wanted & own or any(contact_store.contact_for_email(scope, a) is not None for a in wanted):
            found.append(principal.id)
            continue
        for address in wanted:
            if '"' in address or " " in address:
                continue
            if mail_store.count_messages(scope, f'from:"{address}"') or mail_store.count_messages(scope, f'to:"{address}"'):
                found.append(principal.id)
                break
    return found
