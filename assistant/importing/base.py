"""What every importer shares: the report, the kinds of content, and one line for why an item was rejected.

The kind of each file is read from its content, never its name: a maildir (``cur``/``new``/``tmp``, Maildir++ ``.Name/``
subfolders), an mbox (starts with ``From ``), a single RFC 5322 message, an iCalendar file, or a folder mixing these.
Anything unreadable is rejected with a one-line reason and the rest goes on. Re-importing the same files adds nothing:
messages are keyed by their Message-ID (or the SHA-256 of their bytes when they have none), events by UID.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.calendar.ics import looks_like_icalendar
from assistant.core.errors import InvalidInput, UserError

IMPORT_ACCOUNT_KIND = "import"
IMPORT_ACCOUNT_ADDRESS = "imported"
IMPORT_CALENDAR_ID = "imported"
_SNIFF_BYTES = 8192

_HEADER_LINE = re.compile(rb"^[\x21-\x39\x3b-\x7e]+[ \t]*:")
_KNOWN_HEADERS = {
    b"from", b"to", b"cc", b"subject", b"date", b"message-id", b"received", b"return-path", b"mime-version",
    b"content-type", b"delivered-to", b"reply-to", b"sender", b"in-reply-to", b"references", b"x-mailer",
}


@dataclass
class ImportReport:
    kind: str
    imported: int = 0
    skipped: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (item, one-line reason)
    # Items imported with a caveat (an unknown time zone read as UTC, a message only partly read): (item, one line).
    warnings: list[tuple[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (``json.dumps(report.to_json())``)."""
        return {
            "kind": self.kind, "imported": self.imported, "skipped": self.skipped,
            "rejected": [{"item": item, "reason": reason} for item, reason in self.rejected],
            "warnings": [{"item": item, "warning": text} for item, text in self.warnings],
        }

    def progress(self) -> ImportProgress:
        """Where the import stands, as a snapshot a progress callback may keep or hand to another thread."""
        return ImportProgress(items=self.imported + self.skipped + len(self.rejected), imported=self.imported,
                              skipped=self.skipped, rejected=len(self.rejected))


@dataclass(frozen=True)
class ImportProgress:
    """What an importer that writes in batches tells its ``progress`` callback after each batch has committed: every
    count covers items whose outcome is final (a crash after this loses none of them)."""
    items: int  # read so far: imported + skipped + rejected
    imported: int
    skipped: int
    rejected: int


ProgressFn = Callable[[ImportProgress], None]


class UnknownImportContent(InvalidInput):
    pass


# -- what is this? --------------------------------------------------------------------------------------------------
def is_maildir(path: Path) -> bool:
    return path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir()


def sniff(head: bytes) -> str:
    """"mbox", "ics", "message" or "" from the first bytes of a file."""
    if head.startswith(b"From "):
        return "mbox"
    if looks_like_icalendar(head):
        return "ics"
    stripped = head.lstrip(b" \t\r\n")
    lines = stripped.replace(b"\r\n", b"\n").split(b"\n")[:60]
    if not lines or not _HEADER_LINE.match(lines[0]):
        return ""
    for line in lines:
        if not line.strip():
            break
        match = _HEADER_LINE.match(line)
        if match and line.split(b":", 1)[0].strip().lower() in _KNOWN_HEADERS:
            return "message"
    return ""


def read_head(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(_SNIFF_BYTES)


def _head_or_reason(path: Path) -> bytes:
    try:
        return read_head(path)
    except OSError as exc:
        raise InvalidInput(f"{path}: {reason(exc)}") from None


def check_mbox(path: Path) -> None:
    """Refuse, with the reason, a file given as an mbox that reads as something else (an empty file is an mbox with
    nothing in it yet). What ``assistant account add local --mbox`` and the app's Add account check before adding."""
    head = _head_or_reason(path)
    kind = sniff(head) if head.strip() else "mbox"
    if kind == "mbox":
        return
    if kind == "ics":
        raise InvalidInput(f"{path} is a calendar, not an mbox: give it as the calendar")
    if kind == "message":
        raise InvalidInput(f"{path} is a single message, not an mbox: import it with `assistant import`")
    raise InvalidInput(f"{path} is not an mbox: it does not start with a “From ” line")


def check_calendar(path: Path) -> None:
    """Refuse a calendar file that is not iCalendar, or a folder whose .ics files none is (a folder without any is
    an empty calendar, fine)."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".ics" and p.is_file())
        if files and not any(looks_like_icalendar(_head_or_reason(f)) for f in files):
            raise InvalidInput(f"{path} holds no iCalendar file: {files[0].name} and the rest are not iCalendar")
        return
    if not looks_like_icalendar(_head_or_reason(path)):
        raise InvalidInput(f"{path} is not an iCalendar (.ics) file: it does not start with BEGIN:VCALENDAR")


def reason(exc: BaseException) -> str:
    if isinstance(exc, UserError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"cannot read it ({exc.strerror or type(exc).__name__})"
    text = " ".join(str(exc).split())[:160]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


