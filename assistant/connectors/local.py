"""The local connector: a maildir or an mbox (plus one ``.ics`` file or a folder of them) as a principal's account.

Account settings: ``{"maildir": DIR}`` or ``{"mbox": FILE}``, and optionally ``"calendar": PATH``.

Cursors are content-hash states (JSON): every item key with a fingerprint (where the file is, its size and mtime) and a
hash of its content. A sync compares the files on disk with that state; an unchanged fingerprint reuses the stored hash
so a no-change sync reads no message bodies. Maildir item keys are the unique part of the file name (before ``:2,``),
so a flag change (a rename) is an update, not a removal and an addition. mbox keys are the Message-ID.

Every write is atomic (temporary file + rename) and idempotent, because the sync engine re-applies an outbox entry that
was in flight when the process died.
"""
from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import itertools
import json
import logging
import mailbox
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from assistant.connectors.base import CalendarPage, Capability, Connector, MailPage
from assistant.core.errors import InvalidInput, PermanentError, disk_full
from assistant.core.processes import exit_with_parent
from assistant.domain import Account, Folder, Message, OutboxEntry
from assistant.mail.mime import parse_message

INBOX = "INBOX"
ROLE_NAMES = {
    "inbox": "inbox",
    "sent": "sent", "sent items": "sent", "sent messages": "sent", "sent mail": "sent",
    "drafts": "drafts", "draft": "drafts",
    "trash": "trash", "deleted items": "trash", "deleted messages": "trash", "bin": "trash",
    "archive": "archive", "archives": "archive", "all mail": "archive",
    "spam": "spam", "junk": "spam", "junk e-mail": "spam", "junk email": "spam",
}
# The folder a role is written to when it does not exist yet.
ROLE_FOLDER = {"sent": "Sent", "drafts": "Drafts", "archive": "Archive", "trash": "Trash", "spam": "Junk"}
log = logging.getLogger(__name__)
T = TypeVar("T")
STATE_VERSION = 1
# From this many new or changed maildir messages, a sync parses them in other processes (see _ParsingProcesses).
PARSE_IN_PROCESSES_FROM = 200
_header_parser = email.parser.BytesHeaderParser(policy=email.policy.compat32)
_STATUS_LINE = re.compile(rb"^(?:Status|X-Status):[^\n]*\n", re.IGNORECASE | re.MULTILINE)


def role_for(name: str) -> str:
    return ROLE_NAMES.get(name.strip().lower(), "")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _header_message_id(raw: bytes) -> str:
    head = raw.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    value = _header_parser.parsebytes(head + b"\n\n").get("Message-ID", "")
    return str(value).strip()


# -- listing ---------------------------------------------------------------------------------------------------------
@dataclass
class MailItem:
    """One message on disk as the listing sees it; ``load`` reads its bytes only when needed."""

    key: str
    folder: str
    fingerprint: str
    flags: str  # maildir letters: S seen, F flagged, R replied, T trashed, D draft
    location: Any  # maildir: Path of the file; mbox: (mbox path, mailbox key)
    raw: bytes | None = None
    content_sha: str = ""  # known without keeping the bytes (mbox: hashed while listing)
    reader: Callable[[], bytes] | None = None

    def load(self) -> bytes:
        if self.raw is None:
            self.raw = self.reader() if self.reader else Path(self.location).read_bytes()
        return self.raw

    def sha(self) -> str:
        return self.content_sha or _sha(self.load())


@dataclass
class FolderInfo:
    remote_id: str
    name: str
    role: str
    path: Path


class _MaildirStore:
    def __init__(self, root: Path):
        self.root = root

    def check(self) -> None:
        if not (self.root / "cur").is_dir() and not (self.root / "new").is_dir():
            raise InvalidInput(f"{self.root} is not a maildir (no cur/ or new/ inside)")

    def folders(self) -> list[FolderInfo]:
        out = [FolderInfo(INBOX, "Inbox", "inbox", self.root)]
        for child in sorted(self.root.iterdir()):
            if child.name.startswith(".") and child.is_dir() and (child / "cur").is_dir() and len(child.name) > 1:
                remote_id = child.name[1:]
                leaf = remote_id.split(".")[-1]
                out.append(FolderInfo(remote_id, remote_id.replace(".", "/"), role_for(leaf) if "." not in remote_id
                                      else "", child))
        return out

    def folder_path(self, remote_id: str) -> Path:
        return self.root if remote_id == INBOX else self.root / f".{remote_id}"

    def items(self) -> list[MailItem]:
        seen: set[str] = set()
        out = []
        for folder in self.folders():
            for sub in ("new", "cur"):
                directory = folder.path / sub
                try:
                    names = sorted(os.listdir(directory))
                except FileNotFoundError:
                    continue
                for name in names:
                    if name.startswith("."):
                        continue
                    path = directory / name
                    try:
                        st = path.stat()
                    except FileNotFoundError:  # renamed while we looked
                        continue
                    unique, _, info = name.partition(":")
                    flags = info[2:] if info.startswith("2,") else ""
                    key = unique if unique not in seen else f"{folder.remote_id}/{unique}"
                    seen.add(key)
                    fingerprint = f"{folder.remote_id}/{sub}/{name}:{st.st_size}:{st.st_mtime_ns}"
                    out.append(MailItem(key, folder.remote_id, fingerprint, flags, path))
        return out

    @contextmanager
    def listing(self) -> Iterator[list[MailItem]]:
        yield self.items()

    def find(self, remote_id: str) -> MailItem | None:
        for item in self.items():
            if item.key == remote_id:
                return item
        return None

    def ensure_folder(self, remote_id: str) -> Path:
        path = self.folder_path(remote_id)
        for sub in ("cur", "new", "tmp"):
            (path / sub).mkdir(parents=True, exist_ok=True)
        if remote_id != INBOX:
            (path / "maildirfolder").touch(exist_ok=True)
        return path

    def message_ids(self, folder: str) -> dict[str, MailItem]:
        return {_header_message_id(i.load()): i for i in self.items() if i.folder == folder}

    def add(self, folder: str, raw: bytes, flags: str) -> str:
        """Written and synced under ``tmp/``, then linked into ``cur/``: never half a message. A write that fails (a
        full disk) takes its file out of ``tmp/`` again (``mailbox.Maildir.add`` leaves it when the flush fails)."""
        path = self.ensure_folder(folder)
        unique = _unique_name()
        tmp = path / "tmp" / unique
        target = path / "cur" / f"{unique}{mailbox.Maildir.colon}2,{''.join(sorted(set(flags)))}"
        data = memoryview(raw.replace(b"\r\n", b"\n"))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            try:
                while data:
                    data = data[os.write(fd, data):]
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(tmp, target)  # never over another file
            except PermissionError:  # a file system without hard links
                os.rename(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return unique

    def set_flags(self, item: MailItem, flags: str) -> None:
        path = Path(item.location)
        unique = path.name.partition(":")[0]
        target = path.parent.parent / "cur" / f"{unique}:2,{''.join(sorted(set(flags)))}"
        if target != path:
            os.rename(path, target)

    def remove(self, item: MailItem) -> None:
        Path(item.location).unlink(missing_ok=True)

    def move(self, item: MailItem, folder: str) -> None:
        path = Path(item.location)
        target_dir = self.ensure_folder(folder) / path.parent.name
        os.rename(path, target_dir / path.name)


_delivered = itertools.count(1)


def _unique_name() -> str:
    """A maildir file name no other delivery uses: time, microseconds, process, a counter and the host."""
    now = time.time()
    host = socket.gethostname().replace("/", r"\057").replace(":", r"\072")
    return f"{int(now)}.M{int(now % 1 * 1e6)}P{os.getpid()}Q{next(_delivered)}.{host}"


class _MboxStore:
    """One mbox file as INBOX; ``Sent.mbox``, ``Archive.mbox``… beside it are the role folders."""

    def __init__(self, path: Path):
        self.path = path

    def check(self) -> None:
        if not self.path.is_file():
            raise InvalidInput(f"mbox file {self.path} does not exist")

    def folder_path(self, remote_id: str) -> Path:
        return self.path if remote_id == INBOX else self.path.with_name(f"{remote_id}.mbox")

    def folders(self) -> list[FolderInfo]:
        out = [FolderInfo(INBOX, "Inbox", "inbox", self.path)]
        for role, name in ROLE_FOLDER.items():
            path = self.folder_path(name)
            if path.is_file() and path != self.path:
                out.append(FolderInfo(name, name, role, path))
        return out

    @contextmanager
    def listing(self) -> Iterator[list[MailItem]]:
        """Items whose bytes are read on demand from mboxes held open meanwhile: a big mbox is never all in memory."""
        boxes = []
        try:
            seen: set[str] = set()
            out: list[MailItem] = []
            for folder in self.folders():
                box = mailbox.mbox(folder.path, factory=None, create=False)
                boxes.append(box)
                out.extend(self._items(folder, box, seen))
            yield out
        finally:
            for box in boxes:
                box.close()

    def items(self) -> list[MailItem]:
        with self.listing() as items:
            for item in items:
                item.load()
            return items

    @staticmethod
    def _items(folder: FolderInfo, box: mailbox.mbox, seen: set[str]) -> Iterator[MailItem]:
        for mkey in box.iterkeys():
            raw = box.get_bytes(mkey)
            headers = _header_parser.parsebytes(raw.split(b"\n\n", 1)[0] + b"\n\n")
            flags = "".join(sorted(
                {"R": "S", "F": "F", "A": "R", "D": "T"}[c]
                for c in str(headers.get("Status", "")) + str(headers.get("X-Status", ""))
                if c in "RFAD"
            ))
            stable = str(headers.get("Message-ID", "")).strip() or f"sha-{_sha(_STATUS_LINE.sub(b'', raw))[:32]}"
            key, n = stable, 1
            while key in seen:
                n += 1
                key = f"{folder.remote_id}/{stable}#{n}"
            seen.add(key)
            yield MailItem(key, folder.remote_id, "", flags, (folder.path, mkey), content_sha=_sha(raw),
                           reader=partial(box.get_bytes, mkey))

    def find(self, remote_id: str) -> MailItem | None:
        for item in self.items():
            if item.key == remote_id:
                return item
        return None

    def message_ids(self, folder: str) -> dict[str, MailItem]:
        return {_header_message_id(i.load()): i for i in self.items() if i.folder == folder}

    @staticmethod
    def _rewrite(path: Path, change: Callable[[mailbox.mbox], T]) -> T:
        """Apply ``change(box)`` to a copy of the mbox and rename it into place."""
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".mbox")
        os.close(fd)
        try:
            if path.exists():
                shutil.copyfile(path, tmp)
            box = mailbox.mbox(tmp, factory=None, create=True)
            try:
                result = change(box)
                box.flush()
            finally:
                box.close()
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, path)
            return result
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def add(self, folder: str, raw: bytes, flags: str) -> str:
        msg = mailbox.mboxMessage(raw)
        msg.set_flags("".join({"S": "R", "F": "F", "R": "A", "T": "D"}[c] for c in flags if c in "SFRT"))
        self._rewrite(self.folder_path(folder), lambda box: box.add(msg))
        return _header_message_id(raw)

    def set_flags(self, item: MailItem, flags: str) -> None:
        path, mkey = item.location

        def change(box: mailbox.mbox) -> None:
            msg = box.get_message(mkey)
            msg.set_flags("".join({"S": "RO", "F": "F", "R": "A", "T": "D"}[c] for c in flags if c in "SFRT")
                          or "O")
            box[mkey] = msg

        self._rewrite(path, change)

    def remove(self, item: MailItem) -> None:
        path, mkey = item.location
        self._rewrite(path, lambda box: box.remove(mkey))

    def move(self, item: MailItem, folder: str) -> None:
        path, mkey = item.location
        raw = item.load()
        target = self.folder_path(folder)
        msgid = _header_message_id(raw)
        if not msgid or msgid not in self.message_ids(folder):
            self._rewrite(target, lambda box: box.add(mailbox.mboxMessage(raw)))
        self._rewrite(path, lambda box: box.remove(mkey))


# -- calendars -------------------------------------------------------------------------------------------------------
_SAFE_NAME = re.compile(r"[A-Za-z0-9@._+-]{1,200}")


def ics_file_name(uid: str) -> str:
    if _SAFE_NAME.fullmatch(uid) and not uid.startswith("."):
        return f"{uid}.ics"
    return f"{_sha(uid.encode())[:40]}.ics"


def _uid_of(ics_text: str) -> str:
    import icalendar

    try:
        cal = icalendar.Calendar.from_ical(ics_text)
    except ValueError as exc:
        raise PermanentError(f"the event is not valid iCalendar: {exc}") from None
    uids = {str(c.get("UID")) for c in cal.walk() if c.name in ("VEVENT", "VTODO", "VJOURNAL") and c.get("UID")}
    if len(uids) != 1:
        raise PermanentError(f"an event write needs exactly one UID, this one has {len(uids)}")
    return uids.pop()


def _parse(raw: bytes, principal_id: int, account_id: int, key: str) -> Message:
    try:
        return parse_message(raw, principal_id=principal_id, account_id=account_id, remote_id=key)
    except Exception as exc:  # keep what cannot be read: the raw source is stored, the reason shown
        return Message(principal_id, account_id, key, "(unreadable message)", None, size=len(raw),
                       parse_error=f"could not read this message: {exc}"[:300])


def _yield_to_the_app(parent: int) -> None:
    """Parsing processes run at a lower priority: on a busy machine the app's own threads get the CPU first (a thread
    taken off the CPU while it holds the interpreter lock would keep the window waiting for it). A worker ends with
    the app or the command that started it, however that ends."""
    exit_with_parent(parent)
    try:
        os.nice(10)
    except (AttributeError, OSError):
        pass


def _parse_files(principal_id: int, account_id: int, files: list[tuple[str, str]]) -> list[Message | None]:
    """In a parsing process: (path, key) → the parsed message, None when the file is gone (the sync then says so)."""
    out: list[Message | None] = []
    for path, key in files:
        try:
            raw = Path(path).read_bytes()
        except OSError:
            out.append(None)
            continue
        out.append(_parse(raw, principal_id, account_id, key))
    return out


class _ParsingProcesses:
    """Messages of the coming pages parsed in other processes while the engine stores the current one.

    Parsing is most of a first sync's work, and the big messages spend it in C calls that keep the interpreter lock
    (a regular expression over a 6 MB attachment, its base64 decoding) for up to a few hundred milliseconds: on the
    app's worker thread that froze the window for as long. Processes have locks of their own. The connector still
    reads each file itself and hands the engine the same (message, raw) pairs in the same order; a parsing process
    that fails only sends the rest of the sync back to parsing in this process.
    """

    FILES_PER_TASK = 25
    PAGES_AHEAD = 2

    def __init__(self, executor: Any, account: Account, items: list[MailItem]):
        self.executor, self.account = executor, account
        self.queue = list(items)
        self.submitted: list[tuple[list[MailItem], list[Any]]] = []

    @classmethod
    def start(cls, items: list[MailItem], account: Account) -> _ParsingProcesses | None:
        """None (parse here) for a few messages, an mbox, or one CPU."""
        if len(items) < PARSE_IN_PROCESSES_FROM or not all(isinstance(i.location, Path) and i.reader is None
                                                           for i in items):
            return None
        from assistant.mail import parse_pool

        processes = parse_pool.workers()  # as many as a big import uses; none with one CPU
        if not processes:
            return None
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn: a fresh interpreter, nothing of this process (its SQLite connections, its threads, Qt) copied over
        executor = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_yield_to_the_app, initargs=(os.getpid(),))
        return cls(executor, account, items)

    def _submit(self, count: int) -> None:
        batch, self.queue = self.queue[:count], self.queue[count:]
        futures = [self.executor.submit(_parse_files, self.account.principal_id, self.account.id,
                                        [(str(i.location), i.key) for i in batch[n:n + self.FILES_PER_TASK]])
                   for n in range(0, len(batch), self.FILES_PER_TASK)]
        self.submitted.append((batch, futures))

    def page(self, items: list[MailItem]) -> list[Message | None]:
        """The parsed messages of ``items`` (the next page, in order); None where this process must parse."""
        while len(self.submitted) <= self.PAGES_AHEAD and self.queue:
            self._submit(len(items))
        if not self.submitted:
            return [None] * len(items)
        batch, futures = self.submitted.pop(0)
        if [i.key for i in batch] != [i.key for i in items]:  # not the page expected: parse it here
            return [None] * len(items)
        try:
            return [m for f in futures for m in f.result()]
        except Exception as exc:  # noqa: BLE001 - a parsing process died (memory?): the rest is parsed here
            log.warning("parsing processes failed (%s); parsing in the app from here", exc)
            self.queue = []
            return [None] * len(items)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


class LocalConnector(Connector):
    kind = "local"
    display_name = "Local maildir / mbox"
    capabilities = frozenset({Capability.MAIL, Capability.CALENDAR, Capability.SEND, Capability.DRAFTS})

    def __init__(self, account: Account, *, credentials: Any = None, page_size: int = 200, **options: Any):
        super().__init__(account, credentials=credentials, **options)
        settings = account.settings
        if settings.get("maildir"):
            self.mail: _MaildirStore | _MboxStore | None = _MaildirStore(Path(settings["maildir"]).expanduser())
        elif settings.get("mbox"):
            self.mail = _MboxStore(Path(settings["mbox"]).expanduser())
        else:
            self.mail = None
        self.calendar_path = Path(settings["calendar"]).expanduser() if settings.get("calendar") else None
        self.page_size = max(1, int(page_size))

    # -- mail ----------------------------------------------------------------------------------------------------
    def _mail_store(self) -> _MaildirStore | _MboxStore:
        if self.mail is None:
            raise InvalidInput("this local account has neither a maildir nor an mbox set")
        self.mail.check()
        return self.mail

    def mail_changes(self, cursor: str | None) -> Iterator[MailPage]:
        source = self._mail_store()
        with source.listing() as items:
            yield from self._mail_pages(source, items, cursor)

    def _mail_pages(self, source: _MaildirStore | _MboxStore, items: list[MailItem], cursor: str | None
                    ) -> Iterator[MailPage]:
        previous = _load_state(cursor)
        known: dict[str, list[str]] = previous["items"]
        folders = [Folder(self.account_id, f.remote_id, f.name, f.role) for f in source.folders()]
        # A full listing (no cursor, an interrupted full listing, or a source that now shows nothing) reports what it
        # saw, so the engine can remove what is gone — or refuse to, when nothing is left.
        full = cursor is None or previous["full"] or (not items and bool(known))
        current: dict[str, list[str]] = {}
        changed: list[tuple[MailItem, str]] = []
        for item in items:
            old = known.get(item.key)
            if old and old[0] == item.fingerprint and item.fingerprint:
                current[item.key] = old
                continue
            digest = _sha(f"{item.folder}\0{item.flags}\0{item.sha()}".encode())
            item.raw = None  # read again when its page is built: memory stays one page deep
            current[item.key] = [item.fingerprint, digest]
            if not old or old[1] != digest:
                changed.append((item, digest))
        removed = [] if full else [k for k in known if k not in current]
        # What an interrupted run has applied: the old state with every delivered page folded in. Removals come on
        # the last page, so removed keys stay in it until then.
        progress_state = dict(known)
        pages = [changed[i:i + self.page_size] for i in range(0, len(changed), self.page_size)] or [[]]
        parsing = _ParsingProcesses.start([item for item, _ in changed], self.account)
        try:
            for number, chunk in enumerate(pages):
                last = number == len(pages) - 1
                page = MailPage(folders=folders if number == 0 else [], full=full)
                parsed = parsing.page([item for item, _ in chunk]) if parsing else [None] * len(chunk)
                for (item, _), ready in zip(chunk, parsed, strict=False):
                    try:
                        page.upserted.append(self._message(item, ready))
                    except FileNotFoundError:  # a mail client renamed or removed it since we listed: next sync sees it
                        if item.key in known:
                            current[item.key] = known[item.key]
                        else:
                            current.pop(item.key, None)
                        continue
                    progress_state[item.key] = current[item.key]
                if full:
                    page.seen = list(current) if number == 0 else []
                if last:
                    page.removed = removed
                    page.cursor = _dump_state(current, full=False)
                else:
                    page.cursor = _dump_state(progress_state, full=full)
                yield page
                for item, _ in chunk:
                    item.raw = None
        finally:
            if parsing:
                parsing.close()

    def _message(self, item: MailItem, parsed: Message | None = None) -> tuple[Message, bytes]:
        raw = item.load()
        if parsed is not None:
            msg = parsed
        else:
            msg = _parse(raw, self.account.principal_id, self.account_id, item.key)
        msg.folders = [item.folder]
        msg.is_read = "S" in item.flags
        msg.is_flagged = "F" in item.flags
        return msg, raw

    def fetch_raw(self, remote_id: str) -> bytes:
        item = self._mail_store().find(remote_id)
        if item is None:
            raise InvalidInput(f"message {remote_id} is no longer in {self.account.address or 'this account'}")
        return item.load()

    # -- calendar ------------------------------------------------------------------------------------------------
    def _calendar_files(self) -> list[Path]:
        path = self.calendar_path
        if path is None:
            return []
        if path.is_dir():
            return sorted(p for p in path.iterdir() if p.suffix.lower() == ".ics" and not p.name.startswith("."))
        if path.is_file():
            return [path]
        raise InvalidInput(f"calendar path {path} does not exist")

    def calendar_changes(self, cursor: str | None) -> Iterator[CalendarPage]:
        from assistant.calendar.ics import parse_calendar

        if self.calendar_path is None:
            return
        previous = _load_state(cursor)
        known = previous["items"]
        page = CalendarPage(full=cursor is None or previous["full"])
        current: dict[str, list[str]] = {}
        calendar_id = self.calendar_path.stem if self.calendar_path.is_file() else self.calendar_path.name
        for file in self._calendar_files():
            try:
                data = file.read_bytes()
                events, errors = parse_calendar(data, principal_id=self.account.principal_id,
                                                account_id=self.account_id, calendar_id=calendar_id)
            except OSError as exc:
                page.errors.append(f"{file.name}: cannot read it ({exc.strerror or exc})")
                continue
            except Exception as exc:  # a file the parser chokes on is reported, the others go on
                page.errors.append(f"{file.name}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
                continue
            page.errors.extend(f"{file.name}: {e}" for e in errors)
            for event in events:
                digest = _sha(json.dumps([file.name, event.ics, event.summary, str(event.start_utc)]).encode())
                current[event.remote_id] = [file.name, digest]
                if known.get(event.remote_id, [None, None])[1] != digest:
                    page.upserted.append(event)
        if not current and known:
            page.full = True
        if page.full:
            page.seen = list(current)
        else:
            page.removed = [k for k in known if k not in current]
        page.cursor = _dump_state(current, full=False)
        yield page

    def _calendar_file_of(self, uid: str) -> Path | None:
        import icalendar

        if self.calendar_path is None:
            return None
        if self.calendar_path.is_dir():
            named = self.calendar_path / ics_file_name(uid)
            if named.exists():
                return named
        for file in self._calendar_files():
            try:
                cal = icalendar.Calendar.from_ical(file.read_bytes())
            except ValueError:
                continue
            if any(str(c.get("UID", "")) == uid for c in cal.walk()):
                return file
        return None

    def _remove_uid(self, file: Path, uid: str, keep_empty: bool) -> None:
        import icalendar

        cal = icalendar.Calendar.from_ical(file.read_bytes())
        cal.subcomponents = [c for c in cal.subcomponents if str(c.get("UID", "")) != uid]
        if not any(c.name != "VTIMEZONE" for c in cal.subcomponents) and not keep_empty:
            file.unlink()
        else:
            atomic_write(file, cal.to_ical())

    def _write_event(self, ics_text: str) -> str:
        import icalendar

        uid = _uid_of(ics_text)
        if self.calendar_path is None:
            raise PermanentError("this local account has no calendar path set")
        if self.calendar_path.is_dir() or not self.calendar_path.exists() and not self.calendar_path.suffix:
            self.calendar_path.mkdir(parents=True, exist_ok=True)
            existing = self._calendar_file_of(uid)
            target = self.calendar_path / ics_file_name(uid)
            if existing is not None and existing != target:
                self._remove_uid(existing, uid, keep_empty=False)
            atomic_write(target, ics_text.encode("utf-8"))
            return uid
        incoming = icalendar.Calendar.from_ical(ics_text)
        if self.calendar_path.exists():
            cal = icalendar.Calendar.from_ical(self.calendar_path.read_bytes())
        else:
            cal = icalendar.Calendar()
            cal.add("prodid", "-//Assistant//local connector//EN")
            cal.add("version", "2.0")
        have_tz = {str(c.get("TZID")) for c in cal.subcomponents if c.name == "VTIMEZONE"}
        kept = [c for c in cal.subcomponents if str(c.get("UID", "")) != uid]
        for comp in incoming.subcomponents:
            if comp.name == "VTIMEZONE" and str(comp.get("TZID")) in have_tz:
                continue
            kept.append(comp)
        cal.subcomponents = kept
        atomic_write(self.calendar_path, cal.to_ical())
        return uid

    # -- outbox --------------------------------------------------------------------------------------------------
    def apply(self, entry: OutboxEntry) -> dict[str, Any]:
        try:
            return self._apply(entry)
        except OSError as exc:
            if disk_full(exc) is None:
                raise
            # The maildir, mbox or calendar may be on another drive than the workspace: name the one that is full.
            place = self.calendar_path if entry.op.startswith("event-") else self._mail_place()
            raise OSError(exc.errno, exc.strerror, str(place) if place else exc.filename) from exc

    def _mail_place(self) -> Path | None:
        if isinstance(self.mail, _MaildirStore):
            return self.mail.root
        if isinstance(self.mail, _MboxStore):
            return self.mail.path.parent
        return None

    def _apply(self, entry: OutboxEntry) -> dict[str, Any]:
        p = entry.payload
        if entry.op == "send":
            return self._send(p)
        if entry.op == "set-flags":
            source = self._mail_store()
            item = source.find(p["remote_id"])
            if item is None:
                raise PermanentError(f"message {p['remote_id']} is no longer in this mailbox")
            flags = set(item.flags)
            for letter, field in (("S", "is_read"), ("F", "is_flagged")):
                if p.get(field) is True:
                    flags.add(letter)
                elif p.get(field) is False:
                    flags.discard(letter)
            source.set_flags(item, "".join(sorted(flags)))
            return {"remote_id": item.key}
        if entry.op == "move":
            source = self._mail_store()
            target = self._folder_for(p["to"])
            item = source.find(p["remote_id"])
            if item is None:
                raise PermanentError(f"message {p['remote_id']} is no longer in this mailbox")
            if item.folder != target:
                source.move(item, target)
            return {"remote_id": item.key, "folder": target}
        if entry.op == "save-draft":
            return self._save_draft(p)
        if entry.op == "delete-draft":
            source = self._mail_store()
            item = source.find(p["draft_remote_id"])
            if item is not None:  # gone already: a retry, or the user sent or deleted it elsewhere
                source.remove(item)
            return {"draft_remote_id": p["draft_remote_id"]}
        if entry.op in ("event-create", "event-update"):
            return {"remote_id": self._write_event(p["ics"])}
        if entry.op == "event-delete":
            file = self._calendar_file_of(p["remote_id"])
            if file is not None:  # already gone: a retry after a crash
                self._remove_uid(file, p["remote_id"], keep_empty=file == self.calendar_path)
            return {"remote_id": p["remote_id"]}
        raise PermanentError(f"the local connector cannot do {entry.op!r}")

    def _folder_for(self, to: str) -> str:
        source = self._mail_store()
        if to.lower() == "inbox":
            return INBOX
        folders = source.folders()
        for f in folders:
            if f.remote_id == to:
                return f.remote_id
        for f in folders:
            if f.role == to:
                return f.remote_id
        if to in ROLE_FOLDER:
            return ROLE_FOLDER[to]
        if isinstance(source, _MboxStore) and to not in ROLE_FOLDER.values():
            raise PermanentError(f"an mbox account has no folder {to!r}")
        return to

    def _send(self, payload: dict[str, Any]) -> dict[str, Any]:
        source = self._mail_store()
        raw = base64.b64decode(payload["raw"])
        message_id = _header_message_id(raw) or payload.get("message_id_header", "")
        if not message_id:
            raise PermanentError("a message to send needs a Message-ID")
        sent = self._folder_for("sent")
        if isinstance(source, _MaildirStore):
            source.ensure_folder(sent)
        already = source.message_ids(sent).get(message_id)
        if already is not None:
            return {"remote_id": already.key, "folder": sent}
        source.add(sent, raw, "S")
        item = source.message_ids(sent)[message_id]
        return {"remote_id": item.key, "folder": sent}

    def _save_draft(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Replace the draft (by its id, or its Message-ID) with this version; saving the same version twice is a no-op."""
        source = self._mail_store()
        raw = base64.b64decode(payload["raw"])
        message_id = _header_message_id(raw) or payload.get("message_id_header", "")
        drafts = self._folder_for("drafts")
        if isinstance(source, _MaildirStore):
            source.ensure_folder(drafts)
        same = source.message_ids(drafts).get(message_id) if message_id else None
        if same is not None and _same_text(same.load(), raw):
            return {"draft_remote_id": same.key}
        for old_key in {key for key in (payload.get("draft_remote_id"), same.key if same else None) if key is not None}:
            old = source.find(old_key)
            if old is not None:
                source.remove(old)
        source.add(drafts, raw, "DS")
        for item in source.items():
            if item.folder == drafts and _same_text(item.load(), raw):
                return {"draft_remote_id": item.key}
        raise PermanentError("the draft could not be found after saving it")

    def health(self) -> str:
        try:
            self._mail_store()
            self._calendar_files()
        except InvalidInput as exc:
            return str(exc)
        return "ok"


def _same_text(stored: bytes, raw: bytes) -> bool:
    """Equal apart from what storing adds: mbox status headers, line endings, a trailing newline."""
    def norm(data: bytes) -> bytes:
        return _STATUS_LINE.sub(b"", data.replace(b"\r\n", b"\n")).rstrip(b"\n")

    return norm(stored) == norm(raw)


def _load_state(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {"items": {}, "full": True}
    try:
        state = json.loads(cursor)
        if not isinstance(state, dict) or state.get("v") != STATE_VERSION or not isinstance(state.get("items"), dict):
            raise ValueError
    except (ValueError, AttributeError):
        return {"items": {}, "full": True}  # an unreadable cursor: list everything again, idempotently
    return state


STATE_SLICE = 1000  # entries per json.dumps call


def _dump_state(items: dict[str, list[str]], *, full: bool) -> str:
    """The state as JSON, the entries encoded a slice at a time: one ``json.dumps`` of 10,000 of them holds the
    interpreter lock for up to 100 ms, which on the app's worker thread is that long a frozen window (a page of a first
    sync writes its cursor). The text is the same as one ``json.dumps`` would give."""
    if len(items) <= STATE_SLICE:
        return json.dumps({"v": STATE_VERSION, "full": full, "items": items}, separators=(",", ":"))
    head = json.dumps({"v": STATE_VERSION, "full": full, "items": {}}, separators=(",", ":"))[:-3]  # …"items":
    keys = list(items)
    slices = [json.dumps({k: items[k] for k in keys[i:i + STATE_SLICE]}, separators=(",", ":"))[1:-1]
              for i in range(0, len(keys), STATE_SLICE)]
    return head + "{" + ",".join(slices) + "}}"
