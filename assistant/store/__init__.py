"""The workspace store: one SQLite file (SQLCipher-encrypted where a credential store keeps its key: ``store/db.py``),
every read and write scoped to a principal by the API itself.

``Store`` holds workspace-wide things (principals, accounts, sync cursors, the outbox). ``store.scope(principal_id)``
returns a :class:`PrincipalScope`, the handle every per-principal read and write takes: one module per area holds them
(``store.mail``, ``store.calendar``, ``store.calls``, ``store.board``, ``store.contacts``, ``store.reminders``,
``store.drafts``, ``store.snippets``, ``store.audit``), and each of their statements filters on the scope's principal,
so there is no function that returns another principal's mail, events, calls or cards. Views that are explicitly
cross-principal (``Store.today``) label every row.

A ``Store`` owns one connection and must stay on the thread that made it; open one per thread (WAL lets readers run
beside the single writer).
"""
from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from assistant.core import processes, timezones
from assistant.core.colours import distinct_colour
from assistant.core.errors import InvalidInput, NotFound, UserError, WorkspaceTooNew, disk_full
from assistant.core.timezones import from_epoch, to_epoch
from assistant.domain import (
    Account,
    AccountStatus,
    Address,
    ApprovalPolicy,
    BusinessHours,
    OutboxEntry,
    Principal,
)
from assistant.store import db, fts
from assistant.store.changes import Area, Changes
from assistant.store.db import DB_NAME, sqlite
from assistant.store.schema import MIGRATIONS, SCHEMA_VERSION

DEFAULT_COLUMNS = ("Inbox", "To do", "Doing", "Waiting on principal", "Done")
INTERRUPTED = "the last sync was interrupted before it finished"
# (workspace, account id) of the syncs running in this process: its own pid is alive even when a sync of it crashed
_SYNCING_HERE: set[tuple[str, int]] = set()


def inserted_id(cur: sqlite.Cursor) -> int:
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
    def __init__(self, workspace_dir: str | os.PathLike[str], *, create: bool = True, encrypt: bool | None = None):
        """``encrypt`` decides for a new workspace only: None, encrypted when a secure credential store exists."""
        self.dir = Path(workspace_dir)
        if not create and not (self.dir / DB_NAME).exists():
            raise NotFound(f"no workspace at {self.dir}")
        ensure_private_dir(self.dir)
        db.remove_stale_copies(self.dir)
        self.path = self.dir / DB_NAME
        old_umask = os.umask(0o077)
        try:
            self.db = db.connect(self.dir, encrypt_new=encrypt)
        finally:
            os.umask(old_umask)
        self.db.row_factory = sqlite.Row
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
    def transaction(self) -> Iterator[sqlite.Connection]:
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
                except sqlite.OperationalError as exc:
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
                if not p.colour.strip():
                    p.colour = distinct_colour(r[0] for r in self.db.execute("SELECT colour FROM principals"))
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
        except sqlite.IntegrityError:
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
    def _principal(row: sqlite.Row) -> Principal:
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

    def _tables_with_principal(self) -> list[str]:
        """Every table with a ``principal_id`` column: what a principal owns, found from the schema itself, so a table
        a later migration adds is included without anyone remembering to."""
        names = [r[0] for r in self.db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE 'CREATE VIRTUAL%'"
            " ORDER BY name"
        )]
        return [n for n in names if any(c[1] == "principal_id" for c in self.db.execute(f"PRAGMA table_info({n})"))]

    def principal_rows(self, principal_id: int) -> dict[str, int]:
        """How many rows of each table are the principal's (tables with none left out)."""
        counts = {t: self.db.execute(f"SELECT COUNT(*) FROM {t} WHERE principal_id=?", (principal_id,)).fetchone()[0]
                  for t in self._tables_with_principal()}
        return {t: n for t, n in counts.items() if n}

    # Full-text indexes by the table whose row ids they use (messages_fts also has a trigger; deleting first is harmless).
    _FTS = {"messages": "messages_fts", "events": "events_fts", "calls": "calls_fts", "tasks": "tasks_fts"}

    def delete_principal(self, principal_id: int) -> dict[str, int]:
        """Delete a principal and everything of theirs, in one transaction: their index entries first, then their row,
        which the schema's ``ON DELETE CASCADE`` carries to every table that names them (bodies through their messages,
        thread keys through their threads, cursors through their accounts). Freed pages are zeroed
        (``secure_delete``); :meth:`compact` then rewrites the file. Returns the rows deleted per table. The credential
        store and files are the caller's (``assistant.offboarding``)."""
        self.principal(principal_id)  # raises NotFound
        deleted = self.principal_rows(principal_id)
        self.db.execute("PRAGMA secure_delete=ON")
        try:
            with self.transaction():
                for table, index in self._FTS.items():
                    self.db.execute(f"DELETE FROM {index} WHERE rowid IN (SELECT id FROM {table} WHERE principal_id=?)",
                                    (principal_id,))
                self.db.execute("DELETE FROM thread_keys WHERE principal_id=?", (principal_id,))
                self.db.execute("DELETE FROM principals WHERE id=?", (principal_id,))
                left = self.principal_rows(principal_id)
                if left:
                    raise RuntimeError(f"rows of the principal survived their deletion: {left}")
                # Announced as a change of the principals, not of the deleted one's areas: a view still showing
                # them must not read them again; the window re-reads the principals, picks another and reloads all.
                self.changed(Area.PRINCIPALS)
                self.changed(Area.ACCOUNTS)
        finally:
            self.db.execute("PRAGMA secure_delete=OFF")
        return deleted

    def compact(self) -> None:
        """Leave nothing deleted readable in the files: merge each full-text index into one segment (FTS5 'optimize'
        drops the entries and terms of deleted rows from the index's pages), rebuild the database (VACUUM, so no free
        page keeps old content) and fold the write-ahead log into it, truncated to nothing."""
        for index in self._FTS.values():
            self.db.execute(f"INSERT INTO {index}({index}) VALUES('optimize')")
        self.db.execute("VACUUM")
        busy = self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        if busy:
            raise UserError("another window or command has the workspace open, so its log could not be emptied:"
                            " close it and run the offboarding again")

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

    def _account(self, row: sqlite.Row) -> Account:
        """A sync marks the account with its process id (``sync_pid``) instead of overwriting the last outcome: the
        account is ``syncing`` while that sync lives; one whose process died midway (killed, crashed) shows its last
        outcome again, saying the last sync was interrupted."""
        status, last_error = AccountStatus(row["status"]), row["last_error"]
        pid = row["sync_pid"]
        if pid:
            if pid == os.getpid():
                running = (str(self.dir), row["id"]) in _SYNCING_HERE
            else:
                running = processes.alive(pid)
            if running:
                status = AccountStatus.SYNCING
            else:
                last_error = INTERRUPTED
        return Account(
            id=row["id"], principal_id=row["principal_id"], kind=row["kind"], address=row["address"],
            settings=json.loads(row["settings"]), status=status, last_error=last_error,
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
        """``SYNCING`` marks the account as synced by this process (the last outcome stays); any other status is the
        outcome, and ends the mark."""
        key = (str(self.dir), account_id)
        with self.transaction():
            self.changed(Area.ACCOUNTS)
            if AccountStatus(status) is AccountStatus.SYNCING:
                _SYNCING_HERE.add(key)
                self.db.execute("UPDATE accounts SET sync_pid=? WHERE id=?", (os.getpid(), account_id))
                return
            _SYNCING_HERE.discard(key)
            self.db.execute(
                "UPDATE accounts SET status=?, last_error=?, last_sync_utc=COALESCE(?, last_sync_utc), sync_pid=0"
                " WHERE id=?",
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
    def _outbox(row: sqlite.Row) -> OutboxEntry:
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
        """What is due or overdue today across principals; every row names its principal, and says with ``card``
        whether it is a card (``id`` a card id) or a reminder (``id`` a reminder id; a card's reminder has kind "task").

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
                out.append({"principal_id": p.id, "principal": p.name, "kind": "task", "id": r["id"], "card": True,
                            "text": r["title"], "due_utc": from_epoch(r["due_utc"])})
            for r in self.db.execute(
                "SELECT id, text, kind, due_utc FROM reminders WHERE principal_id=? AND state='pending' AND due_utc<?"
                " ORDER BY due_utc",
                (p.id, to_epoch(end)),
            ):
                out.append({"principal_id": p.id, "principal": p.name, "kind": r["kind"], "id": r["id"], "card": False,
                            "text": r["text"], "due_utc": from_epoch(r["due_utc"])})
        out.sort(key=lambda d: d["due_utc"])
        return out

    def counts(self) -> dict[int, dict[str, int]]:
        """Unread threads per principal ({"unread": n}); what is due is counted by ``reminders.counts``, the same
        rows the Today view lists."""
        out: dict[int, dict[str, int]] = {p.id: {"unread": 0} for p in self.principals() if p.id}
        for r in self.db.execute(
            "SELECT principal_id, COUNT(*) FROM threads WHERE unread_count>0 GROUP BY principal_id"
        ):
            out.setdefault(r[0], {"unread": 0})["unread"] = r[1]
        return out


def adopt_remote_id(scope: PrincipalScope, table: str, area: Area, account_id: int, old: str, new: str,
                    remove: Callable[[PrincipalScope, int, Iterable[str]], int]) -> bool:
    """Give a locally created row of ``table`` (messages, events) the remote id the provider assigned it. If the
    provider's copy already arrived under ``new``, the local stand-in is dropped (``remove``) instead."""
    scope.own_account(account_id)
    if old == new:
        return False
    with scope.store.transaction():
        scope.store.changed(area, scope.principal_id)
        taken = scope.db.execute(f"SELECT 1 FROM {table} WHERE account_id=? AND remote_id=?", (account_id, new)).fetchone()
        if taken:
            remove(scope, account_id, [old])
            return False
        cur = scope.db.execute(
            f"UPDATE {table} SET remote_id=?, content_hash='' WHERE account_id=? AND remote_id=? AND principal_id=?",
            (new, account_id, old, scope.principal_id),
        )
    return cur.rowcount > 0


class PrincipalScope:
    """One principal's part of the workspace: the handle the area modules' functions take (``mail_store.threads(scope)``,
    ``board_store.cards(scope)``…). Each of their statements filters on :attr:`principal_id`, and their writes check with
    :meth:`own_account` that an account is this principal's."""

    def __init__(self, store: Store, principal_id: int):
        self.store = store
        self.db = store.db
        self.principal_id = principal_id

    @property
    def principal(self) -> Principal:
        return self.store.principal(self.principal_id)

    def own_account(self, account_id: int) -> Account:
        account = self.store.account(account_id)
        if account.principal_id != self.principal_id:
            raise NotFound(f"no account {account_id} for this principal")
        return account


__all__ = ["DB_NAME", "Store", "PrincipalScope", "UserError", "default_workspace_dir", "content_hash", "fts_query"]
