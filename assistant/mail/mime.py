"""RFC 5322 / MIME parsing into :class:`~assistant.domain.Message`. Never raises on bad input: problems land in
``Message.parse_error`` as one line and whatever could be read is kept.
"""
from __future__ import annotations

import email
import email.policy
import email.utils
from datetime import timezone

from assistant.domain import Address, Attachment, Message


def _addresses(value: str | None) -> list[Address]:
    if not value:
        return []
    return [Address(name, addr) for name, addr in email.utils.getaddresses([str(value)]) if addr or name]


def parse_message(raw: bytes, *, principal_id: int, account_id: int, remote_id: str) -> Message:
    errors: list[str] = []
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    subject = str(msg.get("Subject", "") or "")
    senders = _addresses(msg.get("From"))
    date_utc = None
    try:
        if msg.get("Date"):
            date_utc = email.utils.parsedate_to_datetime(str(msg["Date"])).astimezone(timezone.utc)
    except (TypeError, ValueError):
        errors.append(f"unreadable Date header {msg.get('Date')!r}")
    body_text = body_html = ""
    attachments: list[Attachment] = []
    for index, part in enumerate(msg.walk()):
        if part.is_multipart():
            continue
        disposition = part.get_content_disposition()
        ctype = part.get_content_type()
        if disposition == "attachment" or part.get_filename():
            payload = part.get_payload(decode=True) or b""
            attachments.append(Attachment(part.get_filename() or "attachment", ctype, len(payload), part_id=str(index)))
        elif ctype == "text/plain" and not body_text:
            body_text = part.get_content()
        elif ctype == "text/html" and not body_html:
            body_html = part.get_content()
    return Message(
        principal_id=principal_id, account_id=account_id, remote_id=remote_id, subject=subject,
        sender=senders[0] if senders else None, to=_addresses(msg.get("To")), cc=_addresses(msg.get("Cc")),
        date_utc=date_utc, message_id_header=str(msg.get("Message-ID", "") or "").strip(),
        in_reply_to=str(msg.get("In-Reply-To", "") or "").strip(),
        references=str(msg.get("References", "") or "").split(), body_text=body_text, body_html=body_html,
        attachments=attachments, snippet=" ".join(body_text.split())[:200], size=len(raw),
        parse_error="; ".join(errors),
    )
