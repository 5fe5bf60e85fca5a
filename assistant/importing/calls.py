"""Call-log exports into a principal's call log, the format read from the content (never the file name).

Formats: Google Voice Takeout (a folder of HTML files; texts are skipped and counted), Android "SMS Backup & Restore" /
"Call Logs Backup & Restore" XML, Twilio call records (API JSON, console CSV), RingCentral call-log (API JSON, CSV), and
any other CSV through a column mapping the user confirms once per source (remembered by the header's signature).

Every call carries a stable ``source_key`` (the provider's id, or a hash of what identifies the call), so importing the
same export again adds nothing. A row that cannot be read is rejected with its line (or file) and reason; the rest goes on.
The calls are written in batches, each in a transaction of its own with progress after it: a big export never holds the
workspace's write lock for long, and a crash keeps the batches already written.
"""
from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import re
import xml.parsers.expat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from assistant.core import timezones
from assistant.core.errors import InvalidInput, UserError
from assistant.core.phones import NumberInfo, normalise
from assistant.domain import Call, CallDirection
from assistant.importing.base import ImportReport, ProgressFn, is_maildir, sniff
from assistant.store import Store

FORMATS = ("google-voice", "android", "twilio-json", "twilio-csv", "ringcentral-json", "ringcentral-csv", "csv")
MAPPING_FIELDS = ("start", "number", "direction", "duration", "name", "notes", "outcome", "time", "id")
REQUIRED_FIELDS = ("start", "number")
BATCH_SIZE = 500  # items read per transaction of the import: small enough that no other writer waits long
_SNIFF = 65536


class MappingNeeded(UserError):
    """A CSV whose columns we do not know: the user maps them once (``--map start=Date,number=Phone``)."""

    def __init__(self, signature: str, header: list[str]):
        self.signature, self.header = signature, header
        super().__init__(
            "this CSV's columns are not a known call-log export: map them once with 'assistant call import FILE"
            " --principal NAME --map start=COLUMN,number=COLUMN"
            f"[,direction=…,duration=…,name=…,notes=…,outcome=…] (columns: {', '.join(header[:12])})"
        )


@dataclass
class Row:
    """One call read from an export, before it is given to a principal."""
    item: str  # "file.csv line 7", "Calls/… .html"
    direction: CallDirection
    number_raw: str
    started_utc: datetime
    duration_s: int = 0
    caller_name: str = ""
    outcome: str = ""
    notes: str = ""
    source_key: str = ""


@dataclass
class Problem:
    item: str
    reason: str
    skipped: bool = False  # a text message and the like: not a call, not an error


Parsed = Row | Problem


# -- detection ----------------------------------------------------------------------------------------------------------
def _head(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(_SNIFF)


def _is_gv_html(head: bytes) -> bool:
    return b'class="haudio"' in head or b'class="hChatLog' in head


def _folder_has_gv_html(folder: Path, most: int = 50) -> bool:
    """Whether a folder holds Google Voice records; maildirs are not walked (importing 100,000 messages stays fast)."""
    import os

    looked = 0
    for root, dirs, files in os.walk(folder):
        if {"cur", "new"} <= set(dirs):
            dirs[:] = []  # a maildir: its Maildir++ folders hold mail too
            continue
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.lower().endswith(".html"):
                looked += 1
                try:
                    if _is_gv_html(_head(Path(root) / name)):
                        return True
                except OSError:
                    pass
                if looked >= most:
                    return False
    return False


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def header_signature(header: list[str]) -> str:
    return hashlib.sha256("\x1f".join(_norm(h) for h in header).encode()).hexdigest()[:16]


def _csv_kind(header: list[str]) -> str:
    cols = {_norm(h) for h in header}
    if {"from", "to", "direction"} <= cols and cols & {"sid", "callsid"}:
        return "twilio-csv"
    if "direction" in cols and cols & {"actionresult", "result"} and cols & {"sessionid", "from", "phonenumber"}:
        return "ringcentral-csv"
    return "csv"


def detect(path: Path) -> str:
    """One of :data:`FORMATS`, or "" when the content is no call log we know."""
    try:
        if path.is_dir():
            return "google-voice" if _folder_has_gv_html(path) else ""
        head = _head(path)
    except OSError:
        return ""
    text = _decode(head).lstrip()
    if text.startswith("<") and _is_gv_html(head):
        return "google-voice"
    if text.startswith("<"):
        if re.search(r"<(calls|smses)[\s>]", text[:4096]):
            return "android"
        return ""
    if text.startswith("{") or text.startswith("["):
        if (re.search(r'"(sid|account_sid)"\s*:', text) and re.search(r'"(calls|direction)"', text)) or (
            re.search(r'"calls"\s*:\s*\[', text) and "/Calls.json" in text
        ):
            return "twilio-json"
        if '"records"' in text and re.search(r'"(startTime|direction)"', text):
            return "ringcentral-json"
        if text.startswith("{") and re.search(r'"startTime"', text) and re.search(r'"(sessionId|telephonySessionId)"',
                                                                                   text):
            return "ringcentral-json"  # one record, as GET …/call-log/{id} answers
        return ""
    first_line = text.splitlines()[0] if text else ""
    if "," in first_line or "\t" in first_line or ";" in first_line:
        try:
            header = next(csv.reader([first_line], _dialect(first_line)))
        except (csv.Error, StopIteration):
            return ""
        if len(header) >= 2 and all(h.strip() for h in header):
            return _csv_kind(header)
    return ""


def _dialect(sample: str) -> type[csv.Dialect]:
    counts = {d: sample.count(d) for d in (",", ";", "\t")}
    delim = max(counts, key=counts.__getitem__)

    class Dialect(csv.excel):
        delimiter = delim

    return Dialect


# -- shared readers ------------------------------------------------------------------------------------------------------
_DIRECTIONS = {
    "in": "in", "incoming": "in", "inbound": "in", "received": "in", "answered": "in", "recorded": "in",
    "out": "out", "outgoing": "out", "outbound": "out", "placed": "out", "dialed": "out", "dialled": "out",
    "outbound-api": "out", "outbound-dial": "out",
    "missed": "missed", "rejected": "missed", "declined": "missed", "no answer": "missed", "unanswered": "missed",
    "voicemail": "voicemail", "vm": "voicemail", "voice mail": "voicemail",
}


def read_direction(text: str) -> CallDirection:
    value = _DIRECTIONS.get(" ".join(text.strip().lower().split()))
    if value is None:
        raise InvalidInput(f"unknown direction {text.strip()[:40]!r}")
    return CallDirection(value)


def read_duration(text: str) -> int:
    text = text.strip()
    if not text:
        return 0
    match = re.fullmatch(r"(?:(\d+):)?(\d{1,2}):(\d{1,2})(?:\.\d+)?", text)
    if match:
        hours, minutes, seconds = (int(g or 0) for g in match.groups())
        return hours * 3600 + minutes * 60 + seconds
    match = re.fullmatch(r"P?T?(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?", text.upper())
    if match and any(match.groups()) and text.upper().startswith("P"):
        h, m, s = match.groups()
        return int(h or 0) * 3600 + int(m or 0) * 60 + int(float(s or 0))
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(f"cannot read the duration {text[:40]!r}") from None
    if not 0 <= value < 10 * 24 * 3600:
        raise InvalidInput(f"duration {text[:40]!r} is out of range")
    return int(value)


_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M",
    "%a %m/%d/%Y %I:%M %p", "%a %m/%d/%Y %H:%M", "%Y-%m-%d", "%m/%d/%Y",
)


def read_time(text: str, zone: str) -> datetime:
    """An instant from an export: ISO 8601 (offset or not), RFC 2822, epoch (s or ms), common local formats in ``zone``."""
    text = " ".join(text.split())
    if not text:
        raise InvalidInput("no start time")
    utc_suffix = re.fullmatch(r"(.*\d)\s*(?:UTC|GMT)", text)
    if utc_suffix:  # "2026-11-20 15:04:05 UTC", as some consoles export
        return read_time(utc_suffix.group(1), "UTC")
    if re.fullmatch(r"\d{9,13}", text):
        value = int(text)
        return datetime.fromtimestamp(value / 1000 if value > 10**11 else value, UTC)
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        dt = None
    if dt is None:
        try:
            dt = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            dt = None
    if dt is None:
        for fmt in _DATE_FORMATS:
            try:
                dt = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if dt is None:
        raise InvalidInput(f"cannot read the time {text[:40]!r}")
    if not 1970 <= dt.year <= 2200:
        raise InvalidInput(f"the time {text[:40]!r} is out of range")
    if dt.tzinfo is None:
        return timezones.local_to_utc(dt, zone)
    return dt.astimezone(UTC)


def _key(*parts: Any) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]


# -- Google Voice Takeout ------------------------------------------------------------------------------------------------
_GV_TAG = re.compile(r'rel="tag"[^>]*href="[^"#]*#([a-z]+)"')
_GV_TEL = re.compile(r'class="contributor vcard".*?href="tel:([^"]*)"[^>]*>\s*<span class="fn">(.*?)</span>', re.S)
_GV_PUBLISHED = re.compile(r'class="published" title="([^"]+)"')
_GV_DURATION = re.compile(r'class="duration" title="([^"]+)"')
_GV_TRANSCRIPT = re.compile(r'class="full-text">(.*?)</span>', re.S)
_GV_KINDS = {"received": "in", "placed": "out", "missed": "missed", "voicemail": "voicemail", "recorded": "in"}


def parse_google_voice_file(path: Path, item: str) -> Parsed:
    try:
        text = _decode(path.read_bytes())
    except OSError as exc:
        return Problem(item, f"cannot read it ({exc.strerror or type(exc).__name__})")
    if 'class="hChatLog' in text:
        return Problem(item, "a text conversation, not a call", skipped=True)
    if 'class="haudio"' not in text:
        return Problem(item, "not a Google Voice call record")
    tags = _GV_TAG.findall(text)
    kind = next((_GV_KINDS[t] for t in tags if t in _GV_KINDS), None)
    if kind is None:
        return Problem(item, f"unknown Google Voice call type ({', '.join(tags) or 'no label'})")
    published = _GV_PUBLISHED.search(text)
    if not published:
        return Problem(item, "no call time in the record")
    try:
        started = read_time(published.group(1), "UTC")
    except UserError as exc:
        return Problem(item, str(exc))
    tel = _GV_TEL.search(text)
    number, name = (html.unescape(tel.group(1)).strip(), html.unescape(tel.group(2)).strip()) if tel else ("", "")
    duration = _GV_DURATION.search(text)
    try:
        seconds = read_duration(duration.group(1)) if duration else 0
    except UserError as exc:
        return Problem(item, str(exc))
    transcript = _GV_TRANSCRIPT.search(text)
    notes = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", transcript.group(1))).split()) if transcript else ""
    outcome = "recorded" if "recorded" in tags else ""
    return Row(item, CallDirection(kind), number, started, seconds, name, outcome, notes,
               _key(to_key_time(started), number, kind))


def to_key_time(dt: datetime) -> int:
    return int(dt.timestamp())


def parse_google_voice(path: Path) -> Iterator[Parsed]:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*.html") if p.is_file())
    base = path.parent if path.is_file() else path
    for file in files:
        yield parse_google_voice_file(file, str(file.relative_to(base)))
    if path.is_dir():
        yield from _mail_beside_takeout(path)


def _mail_beside_takeout(folder: Path) -> Iterator[Parsed]:
    """A whole Takeout folder may hold mail too: say so rather than pass over it in silence."""
    for entry in sorted(folder.rglob("*")):
        try:
            if entry.is_dir() and is_maildir(entry):
                yield Problem(str(entry.relative_to(folder)), "a maildir, not a call log: import it on its own")
            elif entry.is_file() and entry.suffix.lower() != ".html" and sniff(_head(entry)):
                yield Problem(str(entry.relative_to(folder)), "mail or a calendar, not a call log: import it on its own")
        except OSError:
            continue


# -- Android (SMS Backup & Restore / Call Logs Backup & Restore) -----------------------------------------------------------
_ANDROID_TYPES = {"1": "in", "2": "out", "3": "missed", "4": "voicemail", "5": "missed", "6": "missed", "7": "in"}
_ANDROID_OUTCOMES = {"5": "rejected", "6": "blocked", "7": "answered elsewhere"}
_ANDROID_WITHHELD = {"2": "private", "3": "unknown", "4": "payphone"}


def parse_android(path: Path) -> Iterator[Parsed]:
    name = path.name
    parsed: list[Parsed] = []
    parser = xml.parsers.expat.ParserCreate()

    def start(tag: str, attrs: dict[str, str]) -> None:
        line = parser.CurrentLineNumber
        item = f"{name} line {line}"
        if tag in ("sms", "mms"):
            parsed.append(Problem(item, "a text message, not a call", skipped=True))
            return
        if tag != "call":
            return
        try:
            kind = _ANDROID_TYPES.get(attrs.get("type", "").strip())
            if kind is None:
                raise InvalidInput(f"unknown call type {attrs.get('type', '')[:20]!r}")
            started = read_time(attrs.get("date", ""), "UTC")
            seconds = read_duration(attrs.get("duration", "0"))
        except UserError as exc:
            parsed.append(Problem(item, str(exc)))
            return
        number = attrs.get("number", "")
        if attrs.get("presentation") in _ANDROID_WITHHELD and not number.strip("-"):
            number = _ANDROID_WITHHELD[attrs["presentation"]]
        contact = attrs.get("contact_name", "")
        contact = "" if contact.strip() in ("(Unknown)", "null") else contact.strip()
        parsed.append(Row(item, CallDirection(kind), number, started, seconds, contact,
                          _ANDROID_OUTCOMES.get(attrs.get("type", ""), ""), "",
                          _key(to_key_time(started), number, attrs.get("type", ""))))

    parser.StartElementHandler = start
    try:
        with open(path, "rb") as handle:
            parser.ParseFile(handle)
    except xml.parsers.expat.ExpatError as exc:
        parsed.append(Problem(f"{name} line {exc.lineno}", f"the XML breaks off here ({xml.parsers.expat.errors.messages.get(exc.code, 'malformed')})"))
    except OSError as exc:
        parsed.append(Problem(name, f"cannot read it ({exc.strerror or type(exc).__name__})"))
    yield from parsed


# -- Twilio --------------------------------------------------------------------------------------------------------------
_TWILIO_MISSED = {"no-answer", "busy", "canceled"}


def _twilio_row(record: dict[str, Any], item: str) -> Parsed:
    sid = str(record.get("sid") or record.get("call_sid") or "").strip()
    if not sid:
        return Problem(item, "no call sid")
    raw_direction = str(record.get("direction") or "").strip().lower()
    inbound = raw_direction.startswith("inbound")
    if not inbound and not raw_direction.startswith("outbound"):
        return Problem(item, f"unknown direction {raw_direction[:30]!r}")
    status = str(record.get("status") or "").strip().lower()
    direction = "missed" if inbound and status in _TWILIO_MISSED else ("in" if inbound else "out")
    when = record.get("start_time") or record.get("date_created")
    if not when:
        return Problem(item, "no start time")
    try:
        started = read_time(str(when), "UTC")
        seconds = read_duration(str(record.get("duration") or "0"))
    except UserError as exc:
        return Problem(item, str(exc))
    party = record.get("from") if inbound else record.get("to")
    return Row(item, CallDirection(direction), str(party or ""), started, seconds,
               str(record.get("caller_name") or "") if inbound else "", status, "", sid)


def parse_twilio_json(path: Path) -> Iterator[Parsed]:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        yield Problem(path.name, f"not readable JSON ({type(exc).__name__})")
        return
    records = data.get("calls") if isinstance(data, dict) and "calls" in data else data
    if isinstance(records, dict):
        records = [records]
    if not isinstance(records, list):
        yield Problem(path.name, "no call records in it")
        return
    for index, record in enumerate(records):
        item = f"{path.name} call {index + 1}"
        yield _twilio_row(record, item) if isinstance(record, dict) else Problem(item, "not a call record")


# -- RingCentral ---------------------------------------------------------------------------------------------------------
_RC_MISSED = {"missed", "no answer", "busy", "rejected", "hang up", "blocked", "declined", "abandoned"}


def _rc_direction(direction: str, result: str) -> str:
    direction, result = direction.strip().lower(), " ".join(result.strip().lower().split())
    if direction not in ("inbound", "outbound"):
        raise InvalidInput(f"unknown direction {direction[:30]!r}")
    if direction == "outbound":
        return "out"
    if "voicemail" in result:
        return "voicemail"
    return "missed" if result in _RC_MISSED else "in"


def parse_ringcentral_json(path: Path) -> Iterator[Parsed]:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        yield Problem(path.name, f"not readable JSON ({type(exc).__name__})")
        return
    records = data.get("records") if isinstance(data, dict) else None
    if records is None and isinstance(data, dict) and "startTime" in data:
        records = [data]  # one record, as GET …/call-log/{id} answers
    if not isinstance(records, list):
        yield Problem(path.name, "no records[] in it")
        return
    for index, record in enumerate(records):
        item = f"{path.name} record {index + 1}"
        if not isinstance(record, dict):
            yield Problem(item, "not a call record")
            continue
        if str(record.get("type") or "Voice").lower() not in ("voice", "call"):
            yield Problem(item, f"a {record.get('type')} record, not a call", skipped=True)
            continue
        try:
            direction = _rc_direction(str(record.get("direction") or ""), str(record.get("result") or ""))
            started = read_time(str(record.get("startTime") or ""), "UTC")
            seconds = read_duration(str(record.get("duration") or "0"))
        except UserError as exc:
            yield Problem(item, str(exc))
            continue
        party = record.get("from" if direction != "out" else "to") or {}
        if not isinstance(party, dict):
            party = {}
        number = str(party.get("phoneNumber") or party.get("extensionNumber") or "")
        key = str(record.get("id") or record.get("sessionId") or _key(started, number, direction))
        yield Row(item, CallDirection(direction), number, started, seconds, str(party.get("name") or ""),
                  str(record.get("result") or ""), "", key)


# -- CSV (Twilio console, RingCentral, anything mapped) -------------------------------------------------------------------
_TWILIO_CSV = {"sid": ("sid", "callsid"), "from": ("from",), "to": ("to",), "direction": ("direction",),
               "status": ("status",), "start_time": ("starttime", "datecreated", "date"),
               "duration": ("duration", "durationseconds", "durationsec"), "caller_name": ("callername",)}
_RC_CSV = {"id": ("sessionid", "id"), "direction": ("direction",), "result": ("actionresult", "result"),
           "from": ("from", "fromnumber", "phonenumber"), "from_name": ("fromname", "name"),
           "to": ("to", "tonumber"), "to_name": ("toname",), "date": ("date", "starttime"), "time": ("time",),
           "duration": ("duration",), "type": ("type",)}


def _columns(header: list[str], wanted: dict[str, tuple[str, ...]]) -> dict[str, int]:
    normed = [_norm(h) for h in header]
    found = {}
    for field_name, names in wanted.items():
        for name in names:
            if name in normed:
                found[field_name] = normed.index(name)
                break
    return found


def _csv_rows(path: Path) -> Iterator[tuple[int, list[str] | str]]:
    """(first line of the row, its cells) for each record; a string instead of cells when the row is unreadable."""
    text = _decode(path.read_bytes())
    first = text.lstrip().splitlines()[0] if text.strip() else ""
    reader = csv.reader(io.StringIO(text, newline=""), _dialect(first))
    line = 1
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, f"unreadable CSV ({exc})"
            if reader.line_num < start:
                return
            continue
        line = start
        yield line, cells


def parse_csv(path: Path, kind: str, zone: str, mapping: dict[str, str] | None = None) -> Iterator[Parsed]:
    try:
        rows = _csv_rows(path)
        header_line, header = next(rows, (1, []))
    except OSError as exc:
        yield Problem(path.name, f"cannot read it ({exc.strerror or type(exc).__name__})")
        return
    if isinstance(header, str) or not header:
        yield Problem(f"{path.name} line {header_line}", "no header row")
        return
    if kind == "twilio-csv":
        cols = _columns(header, _TWILIO_CSV)
    elif kind == "ringcentral-csv":
        cols = _columns(header, _RC_CSV)
    else:
        cols = resolve_mapping(header, mapping or {})
    for line, cells in rows:
        item = f"{path.name} line {line}"
        if isinstance(cells, str):
            yield Problem(item, cells)
            continue
        if not any(c.strip() for c in cells):
            continue
        record = {name: (cells[i] if i < len(cells) else "") for name, i in cols.items()}
        try:
            if kind == "twilio-csv":
                parsed = _twilio_row(record, item)
            elif kind == "ringcentral-csv":
                parsed = _ringcentral_csv_row(record, item, zone)
            else:
                parsed = _mapped_row(record, item, zone, header_signature(header))
        except UserError as exc:
            parsed = Problem(item, str(exc))
        yield parsed


def _ringcentral_csv_row(record: dict[str, str], item: str, zone: str) -> Parsed:
    if record.get("type") and record["type"].strip().lower() not in ("voice", "call", "phone call"):
        return Problem(item, f"a {record['type'].strip()[:20]} record, not a call", skipped=True)
    direction = _rc_direction(record.get("direction", ""), record.get("result", ""))
    when = " ".join(p for p in (record.get("date", ""), record.get("time", "")) if p.strip())
    started = read_time(when, zone)
    seconds = read_duration(record.get("duration", ""))
    inbound = direction != "out"
    number = record.get("from" if inbound else "to", "")
    name = record.get("from_name" if inbound else "to_name", "")
    key = record.get("id", "").strip() or _key(to_key_time(started), number, direction, seconds)
    return Row(item, CallDirection(direction), number, started, seconds, name.strip(), record.get("result", "").strip(),
               "", key)


def parse_mapping(text: str) -> dict[str, str]:
    """``start=Date,number=Phone`` → ``{"start": "Date", "number": "Phone"}``."""
    mapping = {}
    for part in text.split(","):
        if not part.strip():
            continue
        name, sep, column = part.partition("=")
        name = name.strip().lower()
        if not sep or name not in MAPPING_FIELDS or not column.strip():
            raise InvalidInput(f"cannot read the mapping {part.strip()!r}: use FIELD=COLUMN with FIELD one of "
                               f"{', '.join(MAPPING_FIELDS)}")
        mapping[name] = column.strip()
    return mapping


def resolve_mapping(header: list[str], mapping: dict[str, str]) -> dict[str, int]:
    missing = [f for f in REQUIRED_FIELDS if f not in mapping]
    if missing:
        raise MappingNeeded(header_signature(header), header)
    normed = [_norm(h) for h in header]
    cols = {}
    for field_name, column in mapping.items():
        if _norm(column) not in normed:
            raise InvalidInput(f"the mapping names a column {column!r} that this CSV does not have")
        cols[field_name] = normed.index(_norm(column))
    return cols


def _mapped_row(record: dict[str, str], item: str, zone: str, signature: str) -> Parsed:
    when = record.get("start", "")
    if record.get("time", "").strip():
        when = f"{when} {record['time']}"
    started = read_time(when, zone)
    number = record.get("number", "").strip()
    direction = read_direction(record["direction"]) if record.get("direction", "").strip() else CallDirection.INCOMING
    seconds = read_duration(record.get("duration", ""))
    key = record.get("id", "").strip() or _key(to_key_time(started), number, direction.value, seconds)
    return Row(item, direction, number, started, seconds, record.get("name", "").strip(),
               record.get("outcome", "").strip(), record.get("notes", "").strip(), f"{signature}:{key}")


def csv_header(path: Path) -> list[str]:
    for _line, cells in _csv_rows(path):
        return cells if isinstance(cells, list) else []
    return []


# -- the run -------------------------------------------------------------------------------------------------------------
SOURCES = {
    "google-voice": "google-voice", "android": "android", "twilio-json": "twilio", "twilio-csv": "twilio",
    "ringcentral-json": "ringcentral", "ringcentral-csv": "ringcentral", "csv": "csv",
}


def read_export(path: Path, kind: str, zone: str, mapping: dict[str, str] | None = None) -> Iterator[Parsed]:
    if kind == "google-voice":
        return parse_google_voice(path)
    if kind == "android":
        return parse_android(path)
    if kind == "twilio-json":
        return parse_twilio_json(path)
    if kind == "ringcentral-json":
        return parse_ringcentral_json(path)
    if kind in ("twilio-csv", "ringcentral-csv", "csv"):
        return parse_csv(path, kind, zone, mapping)
    raise InvalidInput(f"unknown call-log format {kind!r}")


def import_calls(store: Store, principal_id: int, path: str | Path, *, mapping: dict[str, str] | None = None,
                 kind: str | None = None, progress: ProgressFn | None = None) -> ImportReport:
    """Import a call-log export; returns an ``ImportReport`` (texts and duplicates counted as skipped).

    The export is read in batches of :data:`BATCH_SIZE` items. A batch is read and its numbers normalised with no
    transaction open; then its calls are written in one transaction of their own and ``progress`` is told. So the write
    lock is held only while a batch is written (milliseconds) and other writers (the app, another command) go through
    between batches; a crash keeps every batch committed before it, and importing the file again adds the rest once
    (the source keys). The duplicate check is one index search per call, so the import is linear in the rows.
    """
    from assistant.store import calls as call_store

    path = Path(path)
    scope = store.scope(principal_id)
    principal = scope.principal
    kind = kind or detect(path)
    if not kind:
        raise InvalidInput(f"{path} is not a call-log export we know")
    if kind == "csv":
        header = csv_header(path)
        signature = header_signature(header)
        if mapping:
            resolve_mapping(header, mapping)  # refuse a mapping that does not fit before remembering it
            call_store.save_mapping(store, signature, header, mapping)
        else:
            mapping = call_store.saved_mapping(store, signature) or own_export_mapping(header)
            if mapping is None:
                raise MappingNeeded(signature, header)
    report = ImportReport(kind=f"calls:{kind}")
    source = SOURCES[kind]
    numbers: dict[str, NumberInfo] = {}  # a call log names the same parties over and over
    calls: list[Call] = []
    problems: list[Problem] = []

    def commit_batch() -> None:
        added = 0
        if calls:
            with store.transaction():
                for call in calls:
                    added += call_store.add_call(scope, call)[1]
        report.imported += added
        report.skipped += len(calls) - added
        for problem in problems:
            if problem.skipped:
                report.skipped += 1
                report.warnings.append((problem.item, f"skipped: {problem.reason}"))
            else:
                report.rejected.append((problem.item, problem.reason))
        calls.clear()
        problems.clear()
        if progress is not None:
            progress(report.progress())

    for parsed in read_export(path, kind, principal.timezone, mapping):
        if isinstance(parsed, Problem):
            problems.append(parsed)
        else:
            info = numbers.get(parsed.number_raw)
            if info is None:
                info = numbers[parsed.number_raw] = normalise(parsed.number_raw, principal.region)
            calls.append(Call(
                principal_id=principal_id, direction=parsed.direction, number_raw=parsed.number_raw,
                started_utc=parsed.started_utc, duration_s=parsed.duration_s, number_e164=info.e164,
                number_valid=info.valid, caller_name=parsed.caller_name, outcome=parsed.outcome, notes=parsed.notes,
                source=source, source_key=parsed.source_key,
            ))
        if len(calls) + len(problems) >= BATCH_SIZE:
            commit_batch()
    if calls or problems:
        commit_batch()
    return report


def duration_text(seconds: int) -> str:
    return str(timedelta(seconds=max(0, int(seconds))))


# The columns of our own call export (``calls.export``: the Calls tab, ``assistant call export``, an offboarding), read
# back without asking for a mapping. The UTC time is the one to read: the local one names no zone.
OWN_EXPORT_MAPPING = {"start": "started_utc", "number": "number_as_typed", "direction": "direction",
                      "duration": "duration_s", "name": "caller_name", "notes": "notes", "outcome": "outcome"}


def own_export_mapping(header: list[str]) -> dict[str, str] | None:
    from assistant.calls.export import EXPORT_COLUMNS

    return dict(OWN_EXPORT_MAPPING) if [_norm(h) for h in header] == [_norm(c) for c in EXPORT_COLUMNS] else None


def detect_for_import(store: Store, path: Path) -> str:
    """The call-log format for ``assistant import``: a plain CSV counts only once its columns have a saved mapping (or
    when its header names a phone number and a time, so the user is asked for the mapping instead of told "unknown")."""
    from assistant.store import calls as call_store

    kind = detect(path)
    if kind != "csv":
        return kind
    try:
        header = csv_header(path)
    except OSError:
        return ""
    if call_store.saved_mapping(store, header_signature(header)) is not None or own_export_mapping(header):
        return "csv"
    cols = {_norm(h) for h in header}
    phoneish = any(("phone" in c or "number" in c or c in ("caller", "callee", "from", "to")) for c in cols)
    timeish = any(("date" in c or "time" in c or "start" in c) for c in cols)
    return "csv" if phoneish and timeish else ""
