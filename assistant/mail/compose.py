"""Building outgoing RFC 5322 messages with :class:`email.message.EmailMessage`."""
from __future__ import annotations

import email.policy
import email.utils
import mimetypes
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

from assistant.core import timezones
from assistant.core.errors import InvalidInput
from assistant.domain import Address, Message

_REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|antw|vs)\s*(\[\d+\])?\s*:", re.IGNORECASE)


def reply_subject(subject: str) -> str:
    """"Re: " once: a subject that already starts with a reply prefix (any of the common languages') is kept."""
    subject = subject.strip()
    return subject if _REPLY_PREFIX.match(subject) else f"Re: {subject}"


def message_id_for(idempotency_key: str, from_address: str) -> str:
    """The Message-ID a send carries, derived from its outbox key so a retry can be recognised at the provider."""
    domain = from_address.rpartition("@")[2] or "assistant.invalid"
    return f"<{idempotency_key}@{domain}>"


def parse_addresses(value: str | Address | Iterable[str | Address] | None) -> list[Address]:
    """Addresses from text ("A <a@x>, b@y") or Address objects; anything without an ``@`` is refused."""
    if value is None:
        return []
    items = [value] if isinstance(value, (str, Address)) else list(value)
    out: list[Address] = []
    for item in items:
        if isinstance(item, Address):
            pairs = [(item.name, item.email)]
        else:
            pairs = email.utils.getaddresses([item])
        for name, addr in pairs:
            if not name and not addr:
                continue
            if "@" not in addr or addr.startswith("@") or addr.endswith("@"):
                raise InvalidInput(f"{(name or addr)!r} is not an e-mail address")
            out.append(Address(name, addr))
    return out


def references_for(parent: Message | None, in_reply_to: str) -> list[str]:
    if parent is None:
        return [in_reply_to] if in_reply_to else []
    refs = list(parent.references)
    if not refs and parent.in_reply_to:
        refs = [parent.in_reply_to]
    if parent.message_id_header and parent.message_id_header not in refs:
        refs.append(parent.message_id_header)
    return refs


def build_message(
    *,
    sender: Address,
    to: Sequence[Address],
    cc: Sequence[Address] = (),
    subject: str,
    body_text: str,
    message_id: str,
    in_reply_to: str = "",
    references: Sequence[str] = (),
    attachments: Iterable[str | Path | tuple[str, bytes]] = (),
    date: datetime | None = None,
) -> EmailMessage:
    """``attachments``: paths, or (name, bytes) for what is not a file (a forwarded message's attachment kept in the
    workspace)."""
    if not to and not cc:
        raise InvalidInput("a message needs at least one recipient")
    files = []
    for item in attachments:
        if isinstance(item, tuple):
            files.append(item)
            continue
        path = Path(item)
        try:
            files.append((path.name, path.read_bytes()))
        except OSError as exc:
            raise InvalidInput(f"cannot attach {path}: {exc.strerror or exc}") from None
    msg = EmailMessage(policy=email.policy.default)
    msg["From"] = str(sender)
    msg["To"] = ", ".join(str(a) for a in to)
    if cc:
        msg["Cc"] = ", ".join(str(a) for a in cc)
    msg["Subject"] = subject
    msg["Date"] = email.utils.format_datetime(date or timezones.now_utc())
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = " ".join(references)
    msg.set_content(body_text)
    for name, data in files:
        ctype, encoding = mimetypes.guess_type(name)
        if ctype is None or encoding is not None:
            ctype = "application/octet-stream"
        maintype, _, subtype = ctype.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg
