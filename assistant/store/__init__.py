"""The workspace store: one SQLite file, every read and write scoped to a principal by the API itself.

``Store`` holds workspace-wide things (principals, accounts, sync cursors, the outbox). ``store.scope(principal_id)``
returns a :class:`PrincipalScope` whose every query carries that principal's id: there is no method that returns another
principal's mail, events, calls or tasks. Views that are explicitly cross-principal (``Store.today``) label every row.

A ``Store`` owns one connection and must stay on the thread that made it; open one per thread (WAL lets readers run
beside the single writer).
"""
from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, cast

from assistant.core import timezones
from assistant.core.compression import compress_source, compress_text, compressed_bodies, decompress
from assistant.core.errors import InvalidInput, NotFound, UserError, WorkspaceTooNew, disk_full
from assistant.core.timezones import from_epoch, from_epoch_required, to_epoch
from assistant.domain import (
    Account,
    AccountStatus,
    Address,
    ApprovalPolicy,
    Attachment,
    AuditEntry,
    BoardColumn,
    BusinessHours,
    CalendarEvent,
    Call,
    CallDirection,
    Contact,
    Folder,
    Message,
    OutboxEntry,
    Principal,
    Thread,
)
from assistant.store import fts
from assistant.store.changes import Area, Changes
from assistant.store.schema import MIGRATIONS, SCHEMA_VERSION

DB_NAME = "workspace.sqlite3"
DEFAULT_COLUMNS = ("Inbox", "To do", "Doing", "Waiting on principal", "Done")


def inserted_id(cur: sqlite3.Cursor) -> int:
    """The rowid an INSERT just gave (SQLite always sets it after a one-row INSERT)."""
    rowid = cur.lastrowid
    if rowid is None:
        raise RuntimeError("the INSERT gave no rowid")
    return rowid


def content_hash(*parts: Any) -> str:
    import hashlib  # here, not at the top: loading OpenSSL costs every command's start a few ms, and reads need none

    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else json.dumps(p, sort_keys=True, default=str).encode())
        h.update(b"\x00")
    return h.hexdigest()


def _addr_json(addrs: Iterable[Address]) -> list[list[str]]:
    return [[a.name, a.email] for a in addrs]


def _addrs(data: list[list[str]]) -> list[Address]:
    return [Address(n, e) for n, e in data]


def ensure_private_dir(path: Path) -> Path:
    """Create the workspace folder readable by the user alone (0700), tightening it if it exists."""
    path.mkdir(parents=True, exist_ok=True)
    if os.name == "posix":
        os.chmod(path, stat.S_IRWXU)
    return path


def default_workspace_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("assistant", appauthor=False)) / "workspace"


def fts_query(words: str) -> str:
    """User words as an FTS5 MATCH expression: every word must match, operators and punctuation in them are literal."""
    return " ".join(fts.phrase(part) for part in fts.split_query(words))


_split_query = fts.split_query


class Store:
    def __init__(self, workspace_dir: str | os.PathLike[str], *, create: bool = True):
        self.dir = Path(workspace_dir)
        if not create and not (self.dir / DB_NAME).exists():
            raise NotFound(f"no workspace at {self.dir}")
        ensure_private_dir(self.dir)
        self.path = self.dir / DB_NAME
        old_umask = os.umask(0o077)
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        finally:
            os.umask(old_umask)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self._depth = 0
        self._changes: set[tuple[Area, int | None]] = set()  # committed, not yet taken
        self._uncommitted: set[tuple[Area, int | None]] = set()  # recorded in the open transaction
        self._migrate()

    # -- plumbing ------------------------------------------------------------------------------------------------
    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            self.db.close()
            raise WorkspaceTooNew(
                f"this workspace has schema version {version}, newer than this Assistant understands ({SCHEMA_VERSION}): "
                "update Assistant"
            )
        for number in range(version, SCHEMA_VERSION):
            # One script per migration, its version bump inside the same transaction: all of it lands or none.
            self.db.executescript(f"BEGIN IMMEDIATE;{MIGRATIONS[number]};PRAGMA user_version={number + 1};COMMIT;")

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; nested uses join the outer one. Everything inside lands together or not at all."""
        if self._depth == 0:
            self.db.execute("BEGIN IMMEDIATE")
        self._depth += 1
        try:
            yield self.db
        except BaseException as exc:
            self._depth -= 1
            if self._depth == 0:
                self._uncommitted.clear()
                if self.db.in_transaction:  # SQLite may have rolled back itself (a full disk)
                    self.db.execute("ROLLBACK")
            full = disk_full(exc, self.dir)
            if full is not None:
                raise full from exc
            raise
        else:
            self._depth -= 1
            if self._depth == 0:
                try:
                    self.db.execute("COMMIT")
                except sqlite3.OperationalError as exc:
                    self._uncommitted.clear()
                    if self.db.in_transaction:
                        self.db.execute("ROLLBACK")
                    full = disk_full(exc, self.dir)
                    if full is not None:
                        raise full from exc
                    raise
                self._changes |= self._uncommitted
                self._uncommitted.clear()

    def changed(self, area: Area, principal_id: int | None = None) -> None:
        """Record that ``area`` of ``principal_id`` was written; called by each table's write path. Inside a
        transaction it counts once the transaction commits."""
        (self._uncommitted if self._depth else self._changes).add((area, principal_id))

    def take_changes(self) -> Changes:
        """What was written since the last call (see :mod:`assistant.store.changes`)."""
        taken, self._changes = Changes(frozenset(self._changes)), set()
        return taken

    @contextmanager
    def bulk_writes(self) -> Iterator[None]:
        """Fewer, larger WAL checkpoints while a big import writes (a checkpoint after every batch of big messages
        cost a quarter of the writing); each transaction stays as durable as ever."""
        previous = int(self.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
        self.db.execute("PRAGMA wal_autocheckpoint=16000")  # pages: about 64 MB of WAL
        try:
            yield
        finally:
            self.db.execute(f"PRAGMA wal_autocheckpoint={previous}")

    def schema_version(self) -> int:
        return cast(int, self.db.execute("PRAGMA user_version").fetchone()[0])

    def integrity_check(self) -> str:
        return cast(str, self.db.execute("PRAGMA integrity_check").fetchone()[0])

    def scope(self, principal_id: int) -> PrincipalScope:
        self.principal(principal_id)  # raises NotFound
        return PrincipalScope(self, principal_id)

    # -- principals ----------------------------------------------------------------------------------------------
    def add_principal(self, p: Principal) -> Principal:
        timezones.validate(p.timezone)
        if not p.name.strip():
            raise InvalidInput("a principal needs a name")
        try:
            with self.transaction():
                self.changed(Area.PRINCIPALS)
                cur = self.db.execute(
                    "INSERT INTO principals(name, timezone, addresses, region, business_hours, colour, signature,"
                    " approval_policy, notes, created_utc) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (
                        p.name.strip(), p.timezone, json.dumps(p.addresses), p.region.upper(), p.business_hours.to_text(),
                        p.colour, p.signature, ApprovalPolicy(p.approval_policy).value, p.notes,
                        to_epoch(timezones.now_utc()),
                    ),
                )
                p.id = inserted_id(cur)
                for i, name in enumerate(DEFAULT_COLUMNS):
                    self.db.execute(
                        "INSERT INTO board_columns(principal_id, name, position) VALUES (?,?,?)", (p.id, name, i)
                    )
        except sqlite3.IntegrityError:
            raise InvalidInput(f"a principal named {p.name!r} already exists") from None
        return p

    def update_principal(self, p: Principal) -> None:
        timezones.validate(p.timezone)
        with self.transaction():
            self.changed(Area.PRINCIPALS, p.id)
            self.db.execute(
                "UPDATE principals SET name=?, timezone=?, addresses=?, region=?, business_hours=?, colour=?, signature=?,"
                " approval_policy=?, notes=? WHERE id=?",
                (
                    p.name, p.timezone, json.dumps(p.addresses), p.region.upper(), p.business_hours.to_text(), p.colour,
                    p.signature, ApprovalPolicy(p.approval_policy).value, p.notes, p.id,
                ),
            )

    @staticmethod
    def _principal(row: sqlite3.Row) -> Principal:
        return Principal(
            id=row["id"], name=row["name"], timezone=row["timezone"], addresses=json.loads(row["addresses"]),
            region=row["region"], business_hours=BusinessHours.from_text(row["business_hours"]), colour=row["colour"],
            signature=row["signature"], approval_policy=ApprovalPolicy(row["approval_policy"]), notes=row["notes"],
        )

    def principals(self) -> list[Principal]:
        return [self._principal(r) for r in self.db.execute("SELECT * FROM principals ORDER BY name COLLATE NOCASE")]

    def principal(self, principal_id: int) -> Principal:
        row = self.db.execute("SELECT * FROM principals WHERE id=?", (principal_id,)).fetchone()
        if row is None:
            raise NotFound(f"no principal with id {principal_id}")
        return self._principal(row)

    def principal_by_name(self, name: str) -> Principal:
        row = self.db.execute("SELECT * FROM principals WHERE name=? COLLATE NOCASE", (name.strip(),)).fetchone()
        if row is None:
            known = ", ".join(p.name for p in self.principals()) or "none yet"
            raise NotFound(f"no principal named {name!r} (known: {known})")
        return self._principal(row)

    # -- accounts ------------------------------------------------------------------------------------------------
    def add_account(self, a: Account) -> Account:
        self.principal(a.principal_id)
        with self.transaction():
            self.changed(Area.ACCOUNTS, a.principal_id)
            cur = self.db.execute(
                "INSERT INTO accounts(principal_id, kind, address, settings, status) VALUES (?,?,?,?,?)",
                (a.principal_id, a.kind, a.address, json.dumps(a.settings), AccountStatus(a.status).value),
            )
            a.id = inserted_id(cur)
        return a

    @staticmethod
    def _account(row: sqlite3.Row) -> Account:
        return Account(
            id=row["id"], principal_id=row["principal_id"], kind=row["kind"], address=row["address"],
            settings=json.loads(row["settings"]), status=AccountStatus(row["status"]), last_error=row["last_error"],
            last_sync_utc=from_epoch(row["last_sync_utc"]),
        )

    def accounts(self, principal_id: int | None = None) -> list[Account]:
        if principal_id is None:
            rows = self.db.execute("SELECT * FROM accounts ORDER BY principal_id, id")
        else:
            rows = self.db.execute("SELECT * FROM accounts WHERE principal_id=? ORDER BY id", (principal_id,))
        return [self._account(r) for r in rows]

    def account(self, account_id: int) -> Account:
        row = self.db.execute("SELECT * FROM accounts WHERE id=?", (account_id,)).fetchone()
        if row is None:
            raise NotFound(f"no account with id {account_id}")
        return self._account(row)

    def set_account_status(self, account_id: int, status: AccountStatus, error: str = "", synced: bool = False) -> None:
        with self.transaction():
            self.changed(Area.ACCOUNTS)
            self.db.execute(
                "UPDATE accounts SET status=?, last_error=?, last_sync_utc=COALESCE(?, last_sync_utc) WHERE id=?",
                (AccountStatus(status).value, error, to_epoch(timezones.now_utc()) if synced else None, account_id),
            )

    def update_account_settings(self, account_id: int, settings: dict[str, Any]) -> None:
        with self.transaction():
            self.changed(Area.ACCOUNTS)
            self.db.execute("UPDATE accounts SET settings=? WHERE id=?", (json.dumps(settings), account_id))

    # -- sync cursors --------------------------------------------------------------------------------------------
    def get_cursor(self, account_id: int, resource: str) -> str | None:
        row = self.db.execute(
            "SELECT cursor FROM sync_state WHERE account_id=? AND resource=?", (account_id, resource)
        ).fetchone()
        return row[0] if row else None

    def set_cursor(self, account_id: int, resource: str, cursor: str | None) -> None:
        with self.transaction():
            self.db.execute(
                "INSERT INTO sync_state(account_id, resource, cursor, updated_utc) VALUES (?,?,?,?)"
                " ON CONFLICT(account_id, resource) DO UPDATE SET cursor=excluded.cursor, updated_utc=excluded.updated_utc",
                (account_id, resource, cursor, to_epoch(timezones.now_utc())),
            )

    # -- outbox --------------------------------------------------------------------------------------------------
    def enqueue(self, entry: OutboxEntry) -> OutboxEntry:
        """Persist a remote change. Re-enqueueing the same idempotency key returns the existing entry."""
        with self.transaction():
            self.changed(Area.OUTBOX, entry.principal_id)
            row = self.db.execute(
                "SELECT id FROM outbox WHERE idempotency_key=?", (entry.idempotency_key,)
            ).fetchone()
            if row:
                return self.outbox_entry(row[0])
            cur = self.db.execute(
                "INSERT INTO outbox(principal_id, account_id, op, payload, idempotency_key, state, created_utc)"
                " VALUES (?,?,?,?,?,?,?)",
                (
                    entry.principal_id, entry.account_id, entry.op, json.dumps(entry.payload), entry.idempotency_key,
                    "pending", to_epoch(timezones.now_utc()),
                ),
            )
            entry.id = inserted_id(cur)
        return entry

    @staticmethod
    def _outbox(row: sqlite3.Row) -> OutboxEntry:
        return OutboxEntry(
            id=row["id"], principal_id=row["principal_id"], account_id=row["account_id"], op=row["op"],
            payload=json.loads(row["payload"]), idempotency_key=row["idempotency_key"], state=row["state"],
            attempts=row["attempts"], last_error=row["last_error"], next_attempt_utc=from_epoch(row["next_attempt_utc"]),
            created_utc=from_epoch(row["created_utc"]), result=json.loads(row["result"]),
        )

    def outbox_entry(self, entry_id: int) -> OutboxEntry:
        row = self.db.execute("SELECT * FROM outbox WHERE id=?", (entry_id,)).fetchone()
        if row is None:
            raise NotFound(f"no outbox entry {entry_id}")
        return self._outbox(row)

    def outbox(self, account_id: int | None = None, states: Iterable[str] | None = None) -> list[OutboxEntry]:
        sql = "SELECT * FROM outbox WHERE 1=1"
        args: list[int | str] = []
        if account_id is not None:
            sql += " AND account_id=?"
            args.append(account_id)
        if states is not None:
            states = list(states)
            sql += f" AND state IN ({','.join('?' * len(states))})"
            args += states
        return [self._outbox(r) for r in self.db.execute(sql + " ORDER BY id", args)]

    def due_outbox(self, account_id: int, now: datetime) -> list[OutboxEntry]:
        """Entries to push now, oldest first. ``in-flight`` ones were interrupted by a crash and are tried again."""
        rows = self.db.execute(
            "SELECT * FROM outbox WHERE account_id=? AND state IN ('pending','in-flight')"
            " AND (next_attempt_utc IS NULL OR next_attempt_utc<=?) ORDER BY id",
            (account_id, to_epoch(now)),
        )
        return [self._outbox(r) for r in rows]

    def mark_outbox(
        self, entry_id: int, state: str, *, error: str = "", next_attempt: datetime | None = None,
        result: dict[str, Any] | None = None, count_attempt: bool = False,
    ) -> None:
        with self.transaction():
            self.changed(Area.OUTBOX)
            self.db.execute(
                "UPDATE outbox SET state=?, last_error=?, next_attempt_utc=?, attempts=attempts+?,"
                " result=COALESCE(?, result) WHERE id=?",
                (
                    state, error, to_epoch(next_attempt), 1 if count_attempt else 0,
                    json.dumps(result) if result is not None else None, entry_id,
                ),
            )

    # -- audit ---------------------------------------------------------------------------------------------------
    def audit(self, principal_id: int, actor: str, action: str, subject: str = "", **detail: Any) -> None:
        with self.transaction():
            self.changed(Area.AUDIT, principal_id)
            self.db.execute(
                "INSERT INTO audit(principal_id, at_utc, actor, action, subject, detail) VALUES (?,?,?,?,?,?)",
                (principal_id, to_epoch(timezones.now_utc()), actor, action, subject, json.dumps(detail, default=str)),
            )

    # -- explicitly cross-principal views ------------------------------------------------------------------------
    def today(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """What is due or overdue today across principals; every row names its principal.

        "Today" is each principal's own day in their own zone.
        """
        now = now or timezones.now_utc()
        out: list[dict[str, Any]] = []
        for p in self.principals():
            _, end = timezones.day_bounds_utc(timezones.in_zone(now, p.timezone).date(), p.timezone)
            for r in self.db.execute(
                "SELECT id, title, due_utc FROM tasks WHERE principal_id=? AND done_utc IS NULL AND due_utc<? ORDER BY due_utc",
                (p.id, to_epoch(end)),
            ):
                out.append({"principal_id": p.id, "principal": p.name, "kind": "task", "id": r["id"],
                            "text": r["title"], "due_utc": from_epoch(r["due_utc"])})
            for r in self.db.execute(
                "SELECT id, text, kind, due_utc FROM reminders WHERE principal_id=? AND state='pending' AND due_utc<?"
                " ORDER BY due_utc",
                (p.id, to_epoch(end)),
            ):
                out.append({"principal_id": p.id, "principal": p.name, "kind": r["kind"], "id": r["id"],
                            "text": r["text"], "due_utc": from_epoch(r["due_utc"])})
        out.sort(key=lambda d: d["due_utc"])
        return out

    def counts(self) -> dict[int, dict[str, int]]:
        """Unread threads and due items per principal, for the principal switcher."""
        out: dict[int, dict[str, int]] = {p.id: {"unread": 0, "due": 0} for p in self.principals() if p.id}
        for r in self.db.execute(
            "SELECT principal_id, COUNT(*) FROM threads WHERE unread_count>0 GROUP BY principal_id"
        ):
            out.setdefault(r[0], {"unread": 0, "due": 0})["unread"] = r[1]
        for item in self.today():
            out[item["principal_id"]]["due"] += 1
        return out


class PrincipalScope:
    """Everything of one principal. Every statement here filters on ``principal_id``."""

    def __init__(self, store: Store, principal_id: int):
        self.store = store
        self.db = store.db
        self.principal_id = principal_id

    @property
    def principal(self) -> Principal:
        return self.store.principal(self.principal_id)

    def _own_account(self, account_id: int) -> Account:
        account = self.store.account(account_id)
        if account.principal_id != self.principal_id:
            raise NotFound(f"no account {account_id} for this principal")
        return account

    # -- folders -------------------------------------------------------------------------------------------------
    def upsert_folder(self, f: Folder) -> None:
        self._own_account(f.account_id)
        with self.store.transaction():
            self.store.changed(Area.MAIL, self.principal_id)
            self.db.execute(
                "INSERT INTO folders(principal_id, account_id, remote_id, name, role) VALUES (?,?,?,?,?)"
                " ON CONFLICT(account_id, remote_id) DO UPDATE SET name=excluded.name, role=excluded.role",
                (self.principal_id, f.account_id, f.remote_id, f.name, f.role),
            )

    def folders(self) -> list[Folder]:
        rows = self.db.execute(
            "SELECT * FROM folders WHERE principal_id=? ORDER BY account_id, CASE role WHEN 'inbox' THEN 0 WHEN '' THEN 2"
            " ELSE 1 END, name",
            (self.principal_id,),
        )
        return [Folder(id=r["id"], account_id=r["account_id"], remote_id=r["remote_id"], name=r["name"], role=r["role"])
                for r in rows]

    def folder_by_role(self, account_id: int, role: str) -> Folder | None:
        for f in self.folders():
            if f.account_id == account_id and f.role == role:
                return f
        return None

    # -- messages ------------------------------------------------------------------------------------------------
    def upsert_message(self, m: Message, raw: bytes | None = None, *,
                       bodies: tuple[bytes | None, bytes | None, bytes | None] | None = None) -> tuple[int, str]:
        """Insert or update by (account, remote id). Returns (message id, "added" | "updated" | "unchanged").

        ``bodies``: ``compressed_bodies(raw, m.body_text, m.body_html)`` when the caller made them already (then ``raw`` is not needed)."""
        self._own_account(m.account_id)
        recipients = json.dumps({"to": _addr_json(m.to), "cc": _addr_json(m.cc)})
        attachments = json.dumps([a.__dict__ for a in m.attachments])
        digest = content_hash(
            m.subject, m.message_id_header, recipients, m.folders, m.is_read, m.is_flagged, attachments,
            m.body_text, m.body_html, to_epoch(m.date_utc), m.parse_error,
        )
        with self.store.transaction():
            self.store.changed(Area.MAIL, self.principal_id)
            row = self.db.execute(
                "SELECT id, content_hash, thread_id FROM messages WHERE account_id=? AND remote_id=?",
                (m.account_id, m.remote_id),
            ).fetchone()
            if row and row["content_hash"] == digest:
                m.id = row["id"]
                return row["id"], "unchanged"
            thread_id = row["thread_id"] if row and row["thread_id"] else self._thread_for(m)
            values = (
                self.principal_id, m.account_id, m.remote_id, thread_id, m.remote_thread_id, m.message_id_header,
                m.in_reply_to, " ".join(m.references), m.subject, m.sender.name if m.sender else "",
                m.sender.email if m.sender else "", recipients, to_epoch(m.date_utc), json.dumps(m.folders),
                int(m.is_read), int(m.is_flagged), int(bool(m.attachments)), attachments, m.snippet, m.size,
                m.parse_error, digest,
            )
            if row:
                message_id = row["id"]
                self.db.execute(
                    "UPDATE messages SET principal_id=?, account_id=?, remote_id=?, thread_id=?, remote_thread_id=?,"
                    " message_id_header=?, in_reply_to=?, refs=?, subject=?, sender_name=?, sender_email=?, recipients=?,"
                    " date_utc=?, folders=?, is_read=?, is_flagged=?, has_attachments=?, attachments=?, snippet=?, size=?,"
                    " parse_error=?, content_hash=? WHERE id=?",
                    values + (message_id,),
                )
                self.db.execute("DELETE FROM messages_fts WHERE rowid=?", (message_id,))
                outcome = "updated"
            else:
                cur = self.db.execute(
                    "INSERT INTO messages(principal_id, account_id, remote_id, thread_id, remote_thread_id,"
                    " message_id_header, in_reply_to, refs, subject, sender_name, sender_email, recipients, date_utc,"
                    " folders, is_read, is_flagged, has_attachments, attachments, snippet, size, parse_error,"
                    " content_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    values,
                )
                message_id = inserted_id(cur)
                outcome = "added"
            self.db.execute(
                "INSERT INTO messages_fts(rowid, subject, sender, recipients, body, principal) VALUES (?,?,?,?,?,?)",
                (
                    message_id, fts.index_text(m.subject), fts.index_text(str(m.sender or "")),
                    fts.index_text(" ".join(str(a) for a in m.to + m.cc)), fts.index_text(m.body_text),
                    fts.principal_token(self.principal_id),
                ),
            )
            self.db.execute(
                "INSERT INTO message_bodies(message_id, raw, body_text, body_html) VALUES (?,?,?,?)"
                " ON CONFLICT(message_id) DO UPDATE SET raw=COALESCE(excluded.raw, raw), body_text=excluded.body_text,"
                " body_html=excluded.body_html",
                (message_id, *(bodies or compressed_bodies(raw, m.body_text, m.body_html))),
            )
            self._register_thread_keys(m, thread_id)
            self._refresh_thread(thread_id)
        m.id, m.thread_id = message_id, thread_id
        return message_id, outcome

    def _thread_for(self, m: Message) -> int:
        keys = [k for k in [m.in_reply_to, *reversed(m.references)] if k]
        if m.remote_thread_id:
            keys.insert(0, f"remote:{m.account_id}:{m.remote_thread_id}")
        if m.message_id_header:
            keys.append(m.message_id_header)  # a reply that arrived before its parent registered this id
        for key in keys:
            row = self.db.execute(
                "SELECT thread_id FROM thread_keys WHERE principal_id=? AND key=?", (self.principal_id, key)
            ).fetchone()
            if row:
                return cast(int, row[0])
        cur = self.db.execute(
            "INSERT INTO threads(principal_id, subject) VALUES (?,?)", (self.principal_id, m.subject)
        )
        return inserted_id(cur)

    def _register_thread_keys(self, m: Message, thread_id: int) -> None:
        keys = [k for k in [m.message_id_header, m.in_reply_to, *m.references] if k]
        if m.remote_thread_id:
            keys.append(f"remote:{m.account_id}:{m.remote_thread_id}")
        self.db.executemany(
            "INSERT OR IGNORE INTO thread_keys(principal_id, key, thread_id) VALUES (?,?,?)",
            [(self.principal_id, k, thread_id) for k in keys],
        )

    def _refresh_thread(self, thread_id: int | None) -> None:
        if thread_id is None:
            return
        agg = self.db.execute(
            "SELECT COUNT(*) n, SUM(1-is_read) unread, MAX(has_attachments) att, MAX(is_flagged) flag, MAX(date_utc) last"
            " FROM messages WHERE thread_id=?",
            (thread_id,),
        ).fetchone()
        if agg["n"] == 0:
            self.db.execute("DELETE FROM threads WHERE id=?", (thread_id,))
            return
        first = self.db.execute(
            "SELECT subject FROM messages WHERE thread_id=? ORDER BY date_utc LIMIT 1", (thread_id,)
        ).fetchone()
        latest = self.db.execute(
            "SELECT snippet FROM messages WHERE thread_id=? ORDER BY date_utc DESC LIMIT 1", (thread_id,)
        ).fetchone()
        names = [
            r[0] for r in self.db.execute(
                "SELECT COALESCE(NULLIF(sender_name,''), sender_email) FROM messages WHERE thread_id=?"
                " GROUP BY 1 ORDER BY MIN(date_utc) LIMIT 4",
                (thread_id,),
            )
        ]
        self.db.execute(
            "UPDATE threads SET subject=?, last_date_utc=?, message_count=?, unread_count=?, has_attachments=?,"
            " is_flagged=?, participants=?, snippet=? WHERE id=?",
            (
                first["subject"], agg["last"], agg["n"], agg["unread"] or 0, agg["att"] or 0, agg["flag"] or 0,
                ", ".join(n for n in names if n), latest["snippet"], thread_id,
            ),
        )

    def remove_messages(self, account_id: int, remote_ids: Iterable[str]) -> int:
        self._own_account(account_id)
        removed = 0
        with self.store.transaction():
            self.store.changed(Area.MAIL, self.principal_id)
            for rid in remote_ids:
                row = self.db.execute(
                    "SELECT id, thread_id FROM messages WHERE account_id=? AND remote_id=? AND principal_id=?",
                    (account_id, rid, self.principal_id),
                ).fetchone()
                if not row:
                    continue
                self.db.execute("DELETE FROM messages_fts WHERE rowid=?", (row["id"],))
                self.db.execute("DELETE FROM messages WHERE id=?", (row["id"],))
                self._refresh_thread(row["thread_id"])
                removed += 1
        return removed

    def rename_remote_id(self, kind: str, account_id: int, old: str, new: str) -> bool:
        """Give a locally created message or event (``kind``: "message" | "event") the id the provider assigned it.

        If the provider's copy already arrived under ``new``, the local stand-in is dropped instead.
        """
        self._own_account(account_id)
        if old == new:
            return False
        with self.store.transaction():
            self.store.changed(Area.MAIL if kind == "message" else Area.CALENDAR, self.principal_id)
            if kind == "message":
                taken = self.db.execute(
                    "SELECT 1 FROM messages WHERE account_id=? AND remote_id=?", (account_id, new)
                ).fetchone()
                if taken:
                    self.remove_messages(account_id, [old])
                    return False
                cur = self.db.execute(
                    "UPDATE messages SET remote_id=?, content_hash='' WHERE account_id=? AND remote_id=? AND principal_id=?",
                    (new, account_id, old, self.principal_id),
                )
            elif kind == "event":
                taken = self.db.execute(
                    "SELECT 1 FROM events WHERE account_id=? AND remote_id=?", (account_id, new)
                ).fetchone()
                if taken:
                    self.remove_events(account_id, [old])
                    return False
                cur = self.db.execute(
                    "UPDATE events SET remote_id=?, content_hash='' WHERE account_id=? AND remote_id=? AND principal_id=?",
                    (new, account_id, old, self.principal_id),
                )
            else:
                raise ValueError(kind)
        return cur.rowcount > 0

    def message_remote_ids(self, account_id: int) -> set[str]:
        return {
            r[0] for r in self.db.execute(
                "SELECT remote_id FROM messages WHERE account_id=? AND principal_id=?", (account_id, self.principal_id)
            )
        }

    def _message(self, r: sqlite3.Row, with_body: bool = False) -> Message:
        rec = json.loads(r["recipients"])
        m = Message(
            id=r["id"], principal_id=r["principal_id"], account_id=r["account_id"], remote_id=r["remote_id"],
            thread_id=r["thread_id"], remote_thread_id=r["remote_thread_id"], message_id_header=r["message_id_header"],
            in_reply_to=r["in_reply_to"], references=r["refs"].split(), subject=r["subject"],
            sender=Address(r["sender_name"], r["sender_email"]) if (r["sender_name"] or r["sender_email"]) else None,
            to=_addrs(rec.get("to", [])), cc=_addrs(rec.get("cc", [])), date_utc=from_epoch(r["date_utc"]),
            folders=json.loads(r["folders"]), is_read=bool(r["is_read"]), is_flagged=bool(r["is_flagged"]),
            attachments=[Attachment(**a) for a in json.loads(r["attachments"])], snippet=r["snippet"], size=r["size"],
            parse_error=r["parse_error"],
        )
        if with_body:
            b = self.db.execute(
                "SELECT body_text, body_html FROM message_bodies WHERE message_id=?", (m.id,)
            ).fetchone()
            if b:
                m.body_text = decompress(b["body_text"]).decode("utf-8", "replace")
                m.body_html = decompress(b["body_html"]).decode("utf-8", "replace")
        return m

    def message(self, message_id: int, with_body: bool = True) -> Message:
        r = self.db.execute(
            "SELECT * FROM messages WHERE id=? AND principal_id=?", (message_id, self.principal_id)
        ).fetchone()
        if r is None:
            raise NotFound(f"no message {message_id} for this principal")
        return self._message(r, with_body)

    def message_by_header_id(self, message_id_header: str) -> Message | None:
        r = self.db.execute(
            "SELECT * FROM messages WHERE principal_id=? AND message_id_header=? LIMIT 1",
            (self.principal_id, message_id_header),
        ).fetchone()
        return self._message(r, True) if r else None

    def raw_message(self, message_id: int) -> bytes:
        self.message(message_id, with_body=False)
        row = self.db.execute("SELECT raw FROM message_bodies WHERE message_id=?", (message_id,)).fetchone()
        return decompress(row["raw"]) if row else b""

    def threads_waiting_to_sync(self) -> dict[int, set[int]]:
        """Thread id -> outbox entries not yet done (pending, in flight or failed) that change one of its messages:
        what the inbox marks as waiting, also after a restart."""
        rows = self.db.execute(
            "SELECT o.id, m.thread_id FROM outbox o JOIN messages m"
            " ON m.principal_id=o.principal_id AND m.account_id=o.account_id"
            " AND ((json_extract(o.payload, '$.remote_id') IS NOT NULL AND m.remote_id=json_extract(o.payload, '$.remote_id'))"
            " OR (json_extract(o.payload, '$.message_id_header') <> '' AND"
            " m.message_id_header=json_extract(o.payload, '$.message_id_header')))"
            " WHERE o.principal_id=? AND o.state IN ('pending', 'in-flight', 'failed') AND m.thread_id IS NOT NULL",
            (self.principal_id,),
        )
        out: dict[int, set[int]] = {}
        for entry_id, thread_id in rows:
            out.setdefault(thread_id, set()).add(entry_id)
        return out

    def store_raw_message(self, message_id: int, raw: bytes, attachments: list[Attachment]) -> None:
        """Keep a source fetched on demand, and the real attachment list parsed from it in place of a placeholder.

        Flags, folders, thread and the content hash stay as they are, so the next unchanged sync leaves the list alone.
        """
        self.message(message_id, with_body=False)
        with self.store.transaction():
            self.store.changed(Area.MAIL, self.principal_id)
            self.db.execute(
                "UPDATE messages SET attachments=?, has_attachments=? WHERE id=? AND principal_id=?",
                (json.dumps([a.__dict__ for a in attachments]), int(bool(attachments)), message_id, self.principal_id),
            )
            self.db.execute(
                "INSERT INTO message_bodies(message_id, raw, body_text, body_html) VALUES (?,?,?,?)"
                " ON CONFLICT(message_id) DO UPDATE SET raw=excluded.raw",
                (message_id, compress_source(raw), compress_text(""), compress_text("")),
            )
            row = self.db.execute("SELECT thread_id FROM messages WHERE id=?", (message_id,)).fetchone()
            self._refresh_thread(row["thread_id"])

    def thread_messages(self, thread_id: int) -> list[Message]:
        rows = self.db.execute(
            "SELECT * FROM messages WHERE thread_id=? AND principal_id=? ORDER BY date_utc, id",
            (thread_id, self.principal_id),
        )
        return [self._message(r, with_body=True) for r in rows]

    def message_count(self) -> int:
        return cast(int, self.db.execute(
            "SELECT COUNT(*) FROM messages WHERE principal_id=?", (self.principal_id,)
        ).fetchone()[0])

    def thread_count(self, folder: str | None = None) -> int:
        if folder is None:
            return cast(int, self.db.execute(
                "SELECT COUNT(*) FROM threads WHERE principal_id=?", (self.principal_id,)
            ).fetchone()[0])
        return cast(int, self.db.execute(
            "SELECT COUNT(DISTINCT thread_id) FROM messages, json_each(messages.folders) f"
            " WHERE principal_id=? AND f.value=?",
            (self.principal_id, folder),
        ).fetchone()[0])

    def threads(self, offset: int = 0, limit: int = 100, folder: str | None = None) -> list[Thread]:
        """A page of threads, newest first; ``folder`` is a remote folder/label id."""
        if folder is None:
            rows = self.db.execute(
                "SELECT * FROM threads WHERE principal_id=? ORDER BY last_date_utc DESC, id DESC LIMIT ? OFFSET ?",
                (self.principal_id, limit, offset),
            )
        else:
            # Newest threads first, each asked whether one of its messages is in the folder, until the page is full:
            # a page costs about its own rows (1.6 ms for 10,000 messages) instead of reading every message's folders
            # (29 ms, on the GUI thread at each switch, reload and scroll). Without INDEXED BY, SQLite looks the
            # thread's messages up through the principal's index, i.e. all of them, once per thread.
            rows = self.db.execute(
                "SELECT * FROM threads t WHERE t.principal_id=? AND EXISTS (SELECT 1 FROM messages m INDEXED BY"
                " messages_thread, json_each(m.folders) f WHERE m.thread_id=t.id AND m.principal_id=? AND f.value=?)"
                " ORDER BY t.last_date_utc DESC, t.id DESC LIMIT ? OFFSET ?",
                (self.principal_id, self.principal_id, folder, limit, offset),
            )
        return [
            Thread(
                id=r["id"], principal_id=r["principal_id"], subject=r["subject"],
                last_date_utc=from_epoch(r["last_date_utc"]), message_count=r["message_count"],
                unread_count=r["unread_count"], has_attachments=bool(r["has_attachments"]),
                is_flagged=bool(r["is_flagged"]), participants=r["participants"].split(", ") if r["participants"] else [],
                snippet=r["snippet"],
            )
            for r in rows
        ]

    def set_message_flags(self, message_id: int, *, is_read: bool | None = None, is_flagged: bool | None = None) -> None:
        """Local effect only; callers pair it with an outbox entry (see ``assistant.sync.actions``)."""
        m = self.message(message_id, with_body=False)
        with self.store.transaction():
            self.store.changed(Area.MAIL, self.principal_id)
            self.db.execute(
                "UPDATE messages SET is_read=COALESCE(?, is_read), is_flagged=COALESCE(?, is_flagged), content_hash=''"
                " WHERE id=? AND principal_id=?",
                (
                    None if is_read is None else int(is_read), None if is_flagged is None else int(is_flagged),
                    message_id, self.principal_id,
                ),
            )
            self._refresh_thread(m.thread_id)

    def correspondents(self, prefix: str = "", limit: int = 20) -> list[Address]:
        """Addresses this principal has exchanged mail with, most frequent first (address completion)."""
        like = prefix.lower() + "%"
        rows = self.db.execute(
            "SELECT sender_name, sender_email, COUNT(*) n FROM messages WHERE principal_id=? AND sender_email!=''"
            " AND (lower(sender_email) LIKE ? OR lower(sender_name) LIKE ?) GROUP BY lower(sender_email)"
            " ORDER BY n DESC LIMIT ?",
            (self.principal_id, like, like, limit),
        )
        return [Address(r[0], r[1]) for r in rows]

    # -- search --------------------------------------------------------------------------------------------------
    def search_messages(self, query: str, limit: int = 100, *, newer_than: datetime | None = None) -> list[Message]:
        from assistant.store.search import message_rows

        rows = message_rows(self.db, query, self.principal_id, limit, None if newer_than is None else to_epoch(newer_than))
        return [self._message(r) for r in rows]

    def count_messages(self, query: str) -> int:
        """How many of this principal's messages match ``query`` (``search_messages`` returns one page of them)."""
        from assistant.store.search import message_count

        return message_count(self.db, query, self.principal_id)

    # -- events --------------------------------------------------------------------------------------------------
    def upsert_event(self, e: CalendarEvent) -> tuple[int, str]:
        self._own_account(e.account_id)
        digest = content_hash(e.ics, e.summary, to_epoch(e.start_utc), to_epoch(e.end_utc), e.rrule, e.location)
        with self.store.transaction():
            self.store.changed(Area.CALENDAR, self.principal_id)
            row = self.db.execute(
                "SELECT id, content_hash FROM events WHERE account_id=? AND remote_id=?", (e.account_id, e.remote_id)
            ).fetchone()
            if row and row["content_hash"] == digest:
                e.id = row["id"]
                return row["id"], "unchanged"
            values = (
                self.principal_id, e.account_id, e.remote_id, e.uid, e.calendar_id, e.summary, to_epoch(e.start_utc),
                to_epoch(e.end_utc), int(e.all_day), e.start_date.isoformat() if e.start_date else None,
                e.end_date.isoformat() if e.end_date else None, e.timezone, e.location, e.description, e.rrule, e.ics,
                e.reminder_minutes, digest,
            )
            if row:
                event_id = row["id"]
                self.db.execute(
                    "UPDATE events SET principal_id=?, account_id=?, remote_id=?, uid=?, calendar_id=?, summary=?,"
                    " start_utc=?, end_utc=?, all_day=?, start_date=?, end_date=?, timezone=?, location=?, description=?,"
                    " rrule=?, ics=?, reminder_minutes=?, content_hash=? WHERE id=?",
                    values + (event_id,),
                )
                self.db.execute("DELETE FROM events_fts WHERE rowid=?", (event_id,))
                outcome = "updated"
            else:
                cur = self.db.execute(
                    "INSERT INTO events(principal_id, account_id, remote_id, uid, calendar_id, summary, start_utc,"
                    " end_utc, all_day, start_date, end_date, timezone, location, description, rrule, ics,"
                    " reminder_minutes, content_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    values,
                )
                event_id = inserted_id(cur)
                outcome = "added"
            self.db.execute(
                "INSERT INTO events_fts(rowid, summary, location, description) VALUES (?,?,?,?)",
                (event_id, fts.index_text(e.summary), fts.index_text(e.location), fts.index_text(e.description)),
            )
        e.id = event_id
        return event_id, outcome

    def remove_events(self, account_id: int, remote_ids: Iterable[str]) -> int:
        self._own_account(account_id)
        removed = 0
        with self.store.transaction():
            self.store.changed(Area.CALENDAR, self.principal_id)
            for rid in remote_ids:
                row = self.db.execute(
                    "SELECT id FROM events WHERE account_id=? AND remote_id=? AND principal_id=?",
                    (account_id, rid, self.principal_id),
                ).fetchone()
                if row:
                    self.db.execute("DELETE FROM events_fts WHERE rowid=?", (row["id"],))
                    self.db.execute("DELETE FROM events WHERE id=?", (row["id"],))
                    removed += 1
        return removed

    def event_remote_ids(self, account_id: int) -> set[str]:
        return {
            r[0] for r in self.db.execute(
                "SELECT remote_id FROM events WHERE account_id=? AND principal_id=?", (account_id, self.principal_id)
            )
        }

    def _event(self, r: sqlite3.Row) -> CalendarEvent:
        return CalendarEvent(
            id=r["id"], principal_id=r["principal_id"], account_id=r["account_id"], remote_id=r["remote_id"],
            uid=r["uid"], calendar_id=r["calendar_id"], summary=r["summary"], start_utc=from_epoch(r["start_utc"]),
            end_utc=from_epoch(r["end_utc"]), all_day=bool(r["all_day"]),
            start_date=date.fromisoformat(r["start_date"]) if r["start_date"] else None,
            end_date=date.fromisoformat(r["end_date"]) if r["end_date"] else None, timezone=r["timezone"],
            location=r["location"], description=r["description"], rrule=r["rrule"], ics=r["ics"],
            reminder_minutes=r["reminder_minutes"],
        )

    def events(self) -> list[CalendarEvent]:
        rows = self.db.execute(
            "SELECT * FROM events WHERE principal_id=? ORDER BY start_utc", (self.principal_id,)
        )
        return [self._event(r) for r in rows]

    def event(self, event_id: int) -> CalendarEvent:
        r = self.db.execute(
            "SELECT * FROM events WHERE id=? AND principal_id=?", (event_id, self.principal_id)
        ).fetchone()
        if r is None:
            raise NotFound(f"no event {event_id} for this principal")
        return self._event(r)

    def events_between(self, start: datetime, end: datetime) -> list[CalendarEvent]:
        """Series that may have an occurrence in [start, end): recurring ones always, single ones by overlap."""
        rows = self.db.execute(
            "SELECT * FROM events WHERE principal_id=? AND (rrule!='' OR instr(ics, 'RDATE')>0 OR"
            " (start_utc<? AND COALESCE(end_utc, start_utc)>=?))",
            (self.principal_id, to_epoch(end), to_epoch(start)),
        )
        return [self._event(r) for r in rows]

    def search_events(self, query: str, limit: int = 100) -> list[CalendarEvent]:
        rows = self.db.execute(
            # CROSS JOIN: the index first (SQLite would run the MATCH once per event of the principal: 35 ms, not 2)
            "SELECT e.* FROM events_fts CROSS JOIN events e ON e.id=events_fts.rowid WHERE events_fts MATCH ?"
            " AND e.principal_id=? ORDER BY e.start_utc DESC LIMIT ?",
            (fts_query(query), self.principal_id, limit),
        )
        return [self._event(r) for r in rows]

    # -- calls ---------------------------------------------------------------------------------------------------
    def add_call(self, c: Call) -> tuple[int, bool]:
        """Returns (id, added). A call whose (source, source_key) is already here is not added twice."""
        with self.store.transaction():
            self.store.changed(Area.CALLS, self.principal_id)
            if c.source_key:
                row = self.db.execute(
                    "SELECT id FROM calls WHERE principal_id=? AND source=? AND source_key=?",
                    (self.principal_id, c.source, c.source_key),
                ).fetchone()
                if row:
                    c.id = row[0]
                    return row[0], False
            cur = self.db.execute(
                "INSERT INTO calls(principal_id, direction, number_raw, number_e164, number_valid, caller_name,"
                " started_utc, duration_s, outcome, notes, source, source_key) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    self.principal_id, CallDirection(c.direction).value, c.number_raw, c.number_e164, int(c.number_valid),
                    c.caller_name, to_epoch(c.started_utc), c.duration_s, c.outcome, c.notes, c.source, c.source_key,
                ),
            )
            c.id = call_id = inserted_id(cur)
            self.db.execute(
                "INSERT INTO calls_fts(rowid, caller_name, number, notes) VALUES (?,?,?,?)",
                (c.id, fts.index_text(c.caller_name), f"{c.number_raw} {c.number_e164}", fts.index_text(c.notes)),
            )
        return call_id, True

    def calls(self, limit: int = 500) -> list[Call]:
        rows = self.db.execute(
            "SELECT * FROM calls WHERE principal_id=? ORDER BY started_utc DESC LIMIT ?", (self.principal_id, limit)
        )
        return [
            Call(
                id=r["id"], principal_id=r["principal_id"], direction=CallDirection(r["direction"]),
                number_raw=r["number_raw"], number_e164=r["number_e164"], number_valid=bool(r["number_valid"]),
                caller_name=r["caller_name"], started_utc=from_epoch_required(r["started_utc"]),
                duration_s=r["duration_s"], outcome=r["outcome"], notes=r["notes"], source=r["source"],
                source_key=r["source_key"],
            )
            for r in rows
        ]

    # -- board and tasks -----------------------------------------------------------------------------------------
    def columns(self) -> list[BoardColumn]:
        rows = self.db.execute(
            "SELECT * FROM board_columns WHERE principal_id=? ORDER BY position", (self.principal_id,)
        )
        return [BoardColumn(id=r["id"], principal_id=r["principal_id"], name=r["name"], position=r["position"])
                for r in rows]

    # -- contacts ------------------------------------------------------------------------------------------------
    def add_contact(self, c: Contact) -> Contact:
        with self.store.transaction():
            self.store.changed(Area.CONTACTS, self.principal_id)
            cur = self.db.execute(
                "INSERT INTO contacts(principal_id, name, emails, phones, source) VALUES (?,?,?,?,?)",
                (self.principal_id, c.name, json.dumps(c.emails), json.dumps(c.phones), c.source),
            )
            c.id = inserted_id(cur)
        return c

    def contacts(self) -> list[Contact]:
        rows = self.db.execute("SELECT * FROM contacts WHERE principal_id=? ORDER BY name", (self.principal_id,))
        return [
            Contact(id=r["id"], principal_id=r["principal_id"], name=r["name"], emails=json.loads(r["emails"]),
                    phones=json.loads(r["phones"]), source=r["source"])
            for r in rows
        ]

    # -- audit ---------------------------------------------------------------------------------------------------
    def audit_entries(self) -> list[AuditEntry]:
        rows = self.db.execute(
            "SELECT * FROM audit WHERE principal_id=? ORDER BY at_utc, id", (self.principal_id,)
        )
        return [
            AuditEntry(id=r["id"], principal_id=r["principal_id"], at_utc=from_epoch_required(r["at_utc"]),
                       actor=r["actor"], action=r["action"], subject=r["subject"], detail=json.loads(r["detail"]))
            for r in rows
        ]


__all__ = ["Store", "PrincipalScope", "UserError", "default_workspace_dir", "content_hash", "fts_query"]
