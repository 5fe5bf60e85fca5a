"""Mail and calendars from files (a maildir, an mbox, single messages, iCalendar files, or a folder mixing them)
into the principal's "import" account."""
from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing
from pathlib import Path

from assistant.calendar.ics import read_calendar
from assistant.core.errors import DiskFull, InvalidInput, UserError, disk_full
from assistant.domain import Account, CalendarEvent, Folder, Message
from assistant.importing.base import (
    IMPORT_ACCOUNT_ADDRESS,
    IMPORT_ACCOUNT_KIND,
    IMPORT_CALENDAR_ID,
    ImportReport,
    UnknownImportContent,
    is_maildir,
    read_head,
    reason,
    sniff,
)
from assistant.importing.calls import csv_header, detect
from assistant.mail import parse_pool
from assistant.store import Store
from assistant.store import calendar as calendar_store
from assistant.store import mail as mail_store
from assistant.store.db import sqlite

BATCH_SIZE = 500
_FROM_LINE = re.compile(rb"^From \S*[ \t].*\b\d{1,2}:\d{2}")
_QUOTED_FROM = re.compile(rb"^>+From ")
_STATUS = re.compile(rb"^(?:X-)?Status:[ \t]*([A-Za-z]*)", re.I | re.M)
_ROLES = {
    "inbox": "inbox", "sent": "sent", "sent items": "sent", "sent messages": "sent", "sent mail": "sent",
    "drafts": "drafts", "draft": "drafts", "trash": "trash", "deleted items": "trash", "deleted messages": "trash",
    "archive": "archive", "archives": "archive", "spam": "spam", "junk": "spam", "junk e-mail": "spam",
}


# -- the run --------------------------------------------------------------------------------------------------------
class MailImporter:
    def __init__(self, store: Store, principal_id: int, root: Path):
        self.store = store
        self.scope = store.scope(principal_id)  # raises NotFound for an unknown principal
        self.principal_id = principal_id
        self.root = root
        self.account = _import_account(store, principal_id)
        self.account_id: int = self.account.id
        self.report = ImportReport(kind="")
        self.message_ids = mail_store.message_remote_ids(self.scope, self.account_id)
        self.event_ids = calendar_store.event_remote_ids(self.scope, self.account_id)
        self.folders_seen: set[str] = set()
        self.pending = 0
        self._transaction: AbstractContextManager[sqlite.Connection] | None = None

    def label(self, path: Path, suffix: str = "") -> str:
        try:
            name = str(path.relative_to(self.root)) if path != self.root else path.name
        except ValueError:
            name = str(path)
        return (name or path.name) + suffix

    def reject(self, item: str, reason: str) -> None:
        self.report.rejected.append((item, " ".join(reason.split())[:300]))

    # Batching: one transaction per BATCH_SIZE items keeps a big import fast without holding the write lock forever.
    def _tick(self) -> None:
        self.pending += 1
        if self.pending >= BATCH_SIZE:
            self._close_batch()

    def _open_batch(self) -> None:
        if self._transaction is None:
            self._transaction = self.store.transaction()
            self._transaction.__enter__()

    def _close_batch(self, exc: BaseException | None = None) -> None:
        if self._transaction is not None:
            transaction, self._transaction = self._transaction, None
            self.pending = 0
            if exc is None:
                transaction.__exit__(None, None, None)
            else:
                transaction.__exit__(type(exc), exc, exc.__traceback__)

    def run(self, path: Path) -> ImportReport:
        try:
            self._dispatch_top(path)
        except BaseException as exc:
            self._close_batch(exc)
            raise
        self._close_batch()
        return self.report

    def _dispatch_top(self, path: Path) -> None:
        if path.is_dir():
            if is_maildir(path):
                self.report.kind = "maildir"
                self.import_maildir(path)
                return
            kinds = self.import_folder(path)
            if not kinds and not self.report.rejected:
                raise UnknownImportContent(f"{path} holds no mail or calendar files to import")
            self.report.kind = kinds.pop() if len(kinds) == 1 else ("mixed" if kinds else "unknown")
            return
        try:
            kind = sniff(read_head(path))
        except OSError as exc:
            raise InvalidInput(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
        if not kind:
            raise UnknownImportContent(unknown_contentreason(path))
        self.report.kind = "eml" if kind == "message" else kind
        self.import_file(path, kind)

    def import_folder(self, folder: Path) -> set[str]:
        """Every maildir and file under ``folder``; returns the kinds found."""
        kinds: set[str] = set()
        try:
            entries = sorted(folder.iterdir())
        except OSError as exc:
            self.reject(self.label(folder), reason(exc))
            return kinds
        for entry in entries:
            if entry.name.startswith("."):
                continue  # .DS_Store, editor backups; Maildir++ folders are read by their maildir
            try:
                if entry.is_symlink() and entry.is_dir():
                    continue  # no loops
                if entry.is_dir():
                    if is_maildir(entry):
                        kinds.add("maildir")
                        self.import_maildir(entry)
                    else:
                        kinds |= self.import_folder(entry)
                    continue
                if entry.is_symlink() and not entry.exists():
                    self.reject(self.label(entry), "a link to a file that is not there")
                    continue
                if not entry.is_file():
                    continue  # sockets, pipes, devices
                kind = sniff(read_head(entry))
            except OSError as exc:
                self.reject(self.label(entry), reason(exc))
                continue
            if not kind:
                self.reject(self.label(entry), "not a mail message, mbox or iCalendar file")
                continue
            kinds.add("eml" if kind == "message" else kind)
            self.import_file(entry, kind)
        return kinds

    def import_file(self, path: Path, kind: str) -> None:
        if kind == "mbox":
            self.import_mbox(path)
        elif kind == "ics":
            self.import_ics(path)
        else:
            try:
                raw = path.read_bytes()
            except OSError as exc:
                self.reject(self.label(path), reason(exc))
                return
            self.add_message(self.label(path), raw, folder="Imported", flags="")

    # -- mail ---------------------------------------------------------------------------------------------------
    def import_maildir(self, path: Path) -> None:
        folders = [("INBOX", path)]
        try:
            folders += sorted(
                (sub.name[1:], sub) for sub in path.iterdir()
                if sub.name.startswith(".") and sub.name not in (".", "..") and is_maildir(sub)
            )
        except OSError as exc:
            self.reject(self.label(path), reason(exc))
        entries: list[tuple[str, Path, str, str]] = []  # (item, file, folder, flags)
        for folder_name, folder_path in folders:
            display = folder_name.replace(".", "/")  # Maildir++ nests with dots: .Work.Clients is Work/Clients
            for subdir in ("new", "cur"):
                try:
                    files = sorted(f for f in (folder_path / subdir).iterdir() if not f.name.startswith("."))
                except OSError as exc:
                    self.reject(self.label(folder_path / subdir), reason(exc))
                    continue
                for file in files:
                    # Flags live in the file name after ":2," ("!2," where ":" is not allowed in names).
                    flags = re.split(r"[:!]2,", file.name, maxsplit=1)[1] if re.search(r"[:!]2,", file.name) else ""
                    entries.append((self.label(file), file, display, flags))
        readable: list[tuple[str, Path, str, str]] = []
        for entry in entries:
            try:
                if entry[1].is_file():
                    readable.append(entry)
            except OSError as exc:
                self.reject(entry[0], reason(exc))
        processes = parse_pool.workers() if len(readable) >= parse_pool.MIN_FILES else 0
        if processes:  # a big maildir: files are read and parsed in other processes, written here in order
            prepared = parse_pool.prepared_in_order(
                [file for _, file, _, _ in readable], known=self.message_ids, principal_id=self.principal_id,
                account_id=self.account_id, processes=processes,
            )
            # closing: a write that stops the import (a full disk) shuts the workers down here and now; left to the
            # garbage collector, that can happen on the pool's own thread, which cannot join itself
            with closing(prepared), self.store.bulk_writes():
                for (item, _file, folder, flags), ready in zip(readable, prepared, strict=False):
                    if ready.error is not None:
                        self.reject(item, reason(ready.error))
                        continue
                    self.add_message(item, None, folder=folder, flags=flags, prepared=ready)
            return
        for item, file, folder, flags in readable:
            try:
                raw = file.read_bytes()
            except OSError as exc:
                self.reject(item, reason(exc))
                continue
            self.add_message(item, raw, folder=folder, flags=flags)

    def import_mbox(self, path: Path) -> None:
        folder = path.stem or "Imported"
        try:
            for index, raw in enumerate(split_mbox(path), 1):
                header_end = raw.find(b"\n\n")
                status = b"".join(_STATUS.findall(raw[: header_end if header_end >= 0 else len(raw)]))
                flags = ("S" if b"R" in status else "") + ("F" if b"F" in status else "")
                self.add_message(self.label(path, f"#{index}"), raw, folder=folder, flags=flags)
        except OSError as exc:
            self.reject(self.label(path), reason(exc))

    def ensure_folder(self, name: str) -> None:
        if name in self.folders_seen:
            return
        self.folders_seen.add(name)
        self._open_batch()
        mail_store.upsert_folder(self.scope, Folder(
            account_id=self.account_id, remote_id=name, name=name.rsplit("/", 1)[-1],
            role=_ROLES.get(name.strip().lower(), ""),
        ))

    def add_message(self, item: str, raw: bytes | None, *, folder: str, flags: str,
                    prepared: parse_pool.Prepared | None = None) -> None:
        if prepared is None:
            prepared = parse_pool.prepare(raw or b"", self.message_ids, self.principal_id, self.account_id)
        remote_id = prepared.remote_id
        if prepared.message is None or remote_id in self.message_ids:  # known before this run, or met earlier in it
            self.report.skipped += 1
            return
        message: Message = prepared.message
        if message.message_id_header:
            message.remote_id = remote_id = message.message_id_header
            if remote_id in self.message_ids:
                self.report.skipped += 1
                return
        message.folders = [folder]
        message.is_read = "S" in flags
        message.is_flagged = "F" in flags
        self.ensure_folder(folder)
        self._open_batch()
        if not self._stored(item, lambda: mail_store.upsert_message(self.scope, message, raw, bodies=prepared.bodies)):
            return
        self.message_ids.add(remote_id)
        self.report.imported += 1
        if message.parse_error:  # imported, with what could not be read said as a sync says it
            self.report.warnings.append((item, message.parse_error))
        self._tick()

    # -- calendars ----------------------------------------------------------------------------------------------
    def import_ics(self, path: Path) -> None:
        label = self.label(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            self.reject(label, reason(exc))
            return
        events, warnings, rejections = read_calendar(
            data, principal_id=self.principal_id, account_id=self.account_id, calendar_id=IMPORT_CALENDAR_ID
        )
        for rejection in rejections:
            self.reject(label, rejection)
        self.report.warnings += [(label, warning) for warning in warnings]
        for event in events:
            self.add_event(f"{label}#{event.uid}", event)

    def add_event(self, item: str, event: CalendarEvent) -> None:
        if event.remote_id in self.event_ids:
            self.report.skipped += 1
            return
        self._open_batch()
        if not self._stored(item, lambda: calendar_store.upsert_event(self.scope, event)):
            return
        self.event_ids.add(event.remote_id)
        self.report.imported += 1
        self._tick()

    def _stored(self, item: str, write: Callable[[], object]) -> bool:
        """Run one item's write; an item the store refuses is rejected with its reason and the rest goes on. A full
        disk stops the import instead: the batch is lost with it, and counting it as imported would be false."""
        try:
            write()
        except DiskFull:
            raise
        except (sqlite.Error, ValueError, UserError) as exc:
            full = disk_full(exc, self.store.dir)
            if full is not None:
                raise full from exc
            self.reject(item, reason(exc))
            return False
        return True


def split_mbox(path: Path) -> Iterator[bytes]:
    """The messages of an mbox, read as a stream (the file is never opened for writing, unlike ``mailbox.mbox``).

    A message starts at a "From " line that carries a time ("From sender Mon Mar  2 10:00:00 2026") at the start of the
    file or after a blank line, so an unquoted "From time to time" in a body does not split it. ">From " lines
    (mboxrd quoting) lose one ">".
    """
    current: list[bytes] = []
    previous_blank = True
    with open(path, "rb") as handle:
        for line in handle:
            if previous_blank and line.startswith(b"From ") and _FROM_LINE.match(line):
                if current:
                    yield _join_mbox(current)
                current = []
                previous_blank = False
                continue
            if _QUOTED_FROM.match(line):
                line = line[1:]
            current.append(line)
            previous_blank = not line.strip()
    if current:
        yield _join_mbox(current)


def _join_mbox(lines: list[bytes]) -> bytes:
    # The blank line before the next "From " belongs to the mbox, not the message.
    if lines and not lines[-1].strip():
        lines = lines[:-1]
    return b"".join(lines)


def _import_account(store: Store, principal_id: int) -> Account:
    for account in store.accounts(principal_id):
        if account.kind == IMPORT_ACCOUNT_KIND:
            return account
    return store.add_account(Account(principal_id=principal_id, kind=IMPORT_ACCOUNT_KIND, address=IMPORT_ACCOUNT_ADDRESS))


def unknown_contentreason(path: Path) -> str:
    """One line on a file no importer reads; a CSV in an unknown layout is told how to map its columns."""
    if detect(path) == "csv":
        try:
            header = [h.strip() for h in csv_header(path) if h.strip()]
        except OSError:
            header = []
        shown = ", ".join(header[:8]) + (", …" if len(header) > 8 else "")
        return (f"{path} is a CSV in a layout we do not know (columns: {shown or 'none'}): for a call log, name its "
                f"columns once with `assistant call import {shlex.quote(str(path))} --principal NAME --map "
                "start=COLUMN,number=COLUMN,…`; a board CSV needs a title column")
    return (f"{path} is not a mail message, mbox, maildir, iCalendar file, call-log export (Google Voice, Android, "
            "Twilio, RingCentral, CSV) or board (Trello JSON, CSV): its content is not recognised")


