"""The search language shared by ``assistant search``, the inbox search box and benchmarks.

Words and "quoted phrases" match subject, sender, recipients and body (FTS5). Operators: ``from:``, ``to:``, ``subject:``,
``has:attachment``, ``is:unread``, ``is:flagged``, ``before:YYYY-MM-DD``, ``after:YYYY-MM-DD`` (dates in UTC; ``before`` is
exclusive, ``after`` inclusive, as in Gmail).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from assistant.errors import InvalidInput
from assistant.store.fts import phrase as _phrase
from assistant.store.fts import split_query as _split_query
from assistant.timezones import UTC


@dataclass
class ParsedQuery:
    words: list[str] = field(default_factory=list)
    sender: list[str] = field(default_factory=list)
    recipient: list[str] = field(default_factory=list)
    subject: list[str] = field(default_factory=list)
    has_attachment: bool = False
    unread: bool = False
    flagged: bool = False
    before: datetime | None = None
    after: datetime | None = None


def _day(value: str, op: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(value.replace("/", "-")), time(0), UTC)
    except ValueError:
        raise InvalidInput(f"{op}: wants a date as YYYY-MM-DD, not {value!r}") from None


def parse(query: str) -> ParsedQuery:
    q = ParsedQuery()
    for token in _split_query(query):
        key, sep, value = token.partition(":")
        key = key.lower()
        if sep and value:
            if key == "from":
                q.sender.append(value)
                continue
            if key == "to":
                q.recipient.append(value)
                continue
            if key == "subject":
                q.subject.append(value)
                continue
            if key == "has" and value.lower() in ("attachment", "attachments"):
                q.has_attachment = True
                continue
            if key == "is" and value.lower() in ("unread", "flagged", "starred"):
                if value.lower() == "unread":
                    q.unread = True
                else:
                    q.flagged = True
                continue
            if key == "before":
                q.before = _day(value, "before")
                continue
            if key == "after":
                q.after = _day(value, "after")
                continue
        q.words.append(token)
    return q


def build_message_query(query: str, principal_id: int, limit: int) -> tuple[str, list]:
    """SQL selecting ``messages`` rows of one principal that match ``query``, newest first."""
    q = parse(query)
    match: list[str] = [_phrase(w) for w in q.words]
    match += [f"sender:{_phrase(s)}" for s in q.sender]
    match += [f"recipients:{_phrase(s)}" for s in q.recipient]
    match += [f"subject:{_phrase(s)}" for s in q.subject]
    where, args = ["m.principal_id=?"], [principal_id]
    if q.has_attachment:
        where.append("m.has_attachments=1")
    if q.unread:
        where.append("m.is_read=0")
    if q.flagged:
        where.append("m.is_flagged=1")
    if q.before:
        where.append("m.date_utc<?")
        args.append(int(q.before.timestamp()))
    if q.after:
        where.append("m.date_utc>=?")
        args.append(int(q.after.timestamp()))
    if match:
        sql = (
            "SELECT m.* FROM messages_fts JOIN messages m ON m.id=messages_fts.rowid WHERE messages_fts MATCH ? AND "
            + " AND ".join(where)
        )
        args.insert(0, " AND ".join(match))
    else:
        sql = "SELECT m.* FROM messages m WHERE " + " AND ".join(where)
    sql += " ORDER BY m.date_utc DESC LIMIT ?"
    args.append(limit)
    return sql, args
