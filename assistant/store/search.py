"""The search language shared by ``assistant search``, the inbox search box and benchmarks.

Words and "quoted phrases" match subject, sender, recipients and body (FTS5). Operators: ``from:``, ``to:``, ``subject:``,
``has:attachment``, ``is:unread``, ``is:flagged``, ``before:YYYY-MM-DD``, ``after:YYYY-MM-DD`` (dates in UTC; ``before`` is
exclusive, ``after`` inclusive, as in Gmail).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import cast

from assistant.core.errors import InvalidInput
from assistant.core.timezones import UTC
from assistant.store.db import sqlite
from assistant.store.fts import phrase as _phrase
from assistant.store.fts import principal_token as _principal_token
from assistant.store.fts import split_query as _split_query


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


# Words match the text columns only: ``principal`` holds the principal's token, which no one searches for.
_TEXT_COLUMNS = "{subject sender recipients body}"
# Two ways to the matching messages of one principal: look every index hit up (cost grows with the hits), or walk the
# principal's messages by date and keep those in the hit set (cost grows with the messages walked). Measured on the
# benchmark's 10,000-message principals: for a page, the walk wins above ~150 hits or the page's size, whichever is
# more; for a count it wins when a date bounds the walk and there are over ~500 hits, else only above ~6,000.
_WALK_PAGE_ABOVE = 150
_WALK_COUNT_DATED_ABOVE = 500
_WALK_COUNT_ABOVE = 6000


def _message_filter(query: str, principal_id: int) -> tuple[str, list[str], list[int | str]]:
    """(FTS5 MATCH expression or "", SQL conditions on ``messages m``, their arguments) for one principal's ``query``.

    The MATCH expression includes the principal's token, so the index alone narrows the hits to that principal.
    """
    q = parse(query)
    match: list[str] = [f"{_TEXT_COLUMNS} : {_phrase(w)}" for w in q.words]
    match += [f"sender:{_phrase(s)}" for s in q.sender]
    match += [f"recipients:{_phrase(s)}" for s in q.recipient]
    match += [f"subject:{_phrase(s)}" for s in q.subject]
    if match:
        match.append(f"principal:{_principal_token(principal_id)}")
    where = ["m.principal_id=?"]
    args: list[int | str] = [principal_id]
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
    return " AND ".join(match), where, args


def _from_where(match: str, where: list[str], args: list[int | str], walk: bool) -> tuple[str, list[int | str]]:
    """FROM…WHERE of the messages that match, as a walk of the date index or a lookup of each hit (SQLite's planner,
    left alone, visits every message of the principal and runs the whole MATCH again for each)."""
    conditions = " AND ".join(where)
    if not match:
        return f"FROM messages m WHERE {conditions}", list(args)
    if walk:
        # The hit set is built once; "+m.id" keeps SQLite walking the (principal, date) index rather than the hits.
        return (f"FROM messages m WHERE {conditions} AND +m.id IN"
                " (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?)", [*args, match])
    return ("FROM messages_fts CROSS JOIN messages m ON m.id=messages_fts.rowid"
            f" WHERE messages_fts MATCH ? AND {conditions}", [match, *args])


def index_hits(db: sqlite.Connection, match: str) -> int:
    """How many index rows match ``match`` (one principal's, as ``_message_filter`` builds it): cheap, no row read."""
    if not match:
        return 0
    return cast(int, db.execute("SELECT COUNT(*) FROM messages_fts WHERE messages_fts MATCH ?", (match,)).fetchone()[0])


def message_rows(db: sqlite.Connection, query: str, principal_id: int, limit: int,
                 newer_than: int | None = None, columns: str = "m.*") -> list[sqlite.Row]:
    """The ``messages`` rows of one principal that match ``query``, newest first, at most ``limit``; only those dated
    after ``newer_than`` (epoch seconds) when given: a search over several principals needs no row older than the
    page it already holds. ``columns``: what to read of each (of ``messages m``)."""
    match, where, args = _message_filter(query, principal_id)
    hits = index_hits(db, match)
    if match and not hits:
        return []
    if newer_than is not None:
        where.append("m.date_utc>?")
        args.append(newer_than)
    from_where, args = _from_where(match, where, args, walk=hits > max(_WALK_PAGE_ABOVE, limit))
    return db.execute(f"SELECT {columns} {from_where} ORDER BY m.date_utc DESC LIMIT ?", [*args, limit]).fetchall()


def message_count(db: sqlite.Connection, query: str, principal_id: int) -> int:
    """How many messages of one principal match ``query`` (all of them, not a page)."""
    match, where, args = _message_filter(query, principal_id)
    hits = index_hits(db, match)
    if match and (not hits or len(where) == 1):  # words only: the index's count is the answer
        return hits
    dated = any("date_utc" in condition for condition in where)
    walk = hits > (_WALK_COUNT_DATED_ABOVE if dated else _WALK_COUNT_ABOVE)
    from_where, args = _from_where(match, where, args, walk)
    return cast(int, db.execute(f"SELECT COUNT(*) {from_where}", args).fetchone()[0])
