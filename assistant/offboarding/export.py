"""Everything of one principal's, written in open formats, and read back to check it.

The layout under the export folder:

- ``mail/<account>/<folder>.mbox`` — each message's source as it came (stdlib ``mailbox``), one file per folder; a
  message in two folders (Gmail labels) is in both files; one with no folder goes to ``Unfiled.mbox``
- ``calendar/<account>.ics`` — each event series with its overrides and time zones, as the calendar sent them
- ``contacts.vcf`` (vCard 3.0), ``calls.csv`` (the Calls tab's export), ``time.csv``, ``board.csv`` (the board's own
  CSV, archived cards included), ``drafts.json`` (drafts, their versions and approval requests, flagged replies),
  ``approval-audit.json``, ``reminders.json``, ``principal.json`` (their settings)
- ``manifest.json`` — per file: what it holds, how many items, its size and SHA-256

:func:`verify` reads every file back with a parser of its format and compares its SHA-256 with the manifest, its
item count with the manifest, and the manifest's counts with what the workspace holds now.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import mailbox
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any

import icalendar

from assistant.calls.export import write_csv as write_calls_csv
from assistant.core import timezones
from assistant.core.errors import UserError
from assistant.core.timezones import UTC
from assistant.domain import Message
from assistant.importing import board as board_io
from assistant.store import PrincipalScope, Store, ensure_private_dir
from assistant.store import audit as audit_store
from assistant.store import calendar as calendar_store
from assistant.store import calls as call_store
from assistant.store import contacts as contact_store
from assistant.store import drafts as draft_store
from assistant.store import mail as mail_store
from assistant.store import reminders as reminder_store
from assistant.store import time as time_store

MANIFEST = "manifest.json"
Progress = Callable[[str, int, int], None]  # what, done, total
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)


class ExportMismatch(UserError):
    """The export does not match the workspace: nothing is deleted."""


@dataclass
class ExportedFile:
    path: str  # relative to the export folder, with "/"
    kind: str  # mbox, ics, vcf, calls-csv, time-csv, board-csv, json
    count: int
    sha256: str = ""
    bytes: int = 0
    parts: int = 0  # for .ics: the VEVENT components written (a series' overrides are parts of its one event)


@dataclass
class Manifest:
    principal: str
    exported_utc: str
    counts: dict[str, int] = field(default_factory=dict)  # per area: messages, events, contacts, calls, …
    files: list[ExportedFile] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"principal": self.principal, "exported_utc": self.exported_utc, "counts": self.counts,
                "files": [f.__dict__ for f in self.files]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        return cls(data["principal"], data["exported_utc"], dict(data["counts"]),
                   [ExportedFile(**f) for f in data["files"]])


def _safe(name: str) -> str:
    """A folder or account name as one path component on every platform."""
    cleaned = re.sub(r'[\x00-\x1f<>:"/\\|?*]+', "_", name).strip(" .")
    return cleaned[:100] or "_"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def workspace_counts(store: Store, principal_id: int) -> dict[str, int]:
    """What the workspace holds of the principal, counted as the export counts it."""
    scope = store.scope(principal_id)
    db, pid = store.db, principal_id

    def count(sql: str) -> int:
        return int(db.execute(sql, (pid,)).fetchone()[0])

    return {
        "messages": count("SELECT COUNT(*) FROM messages WHERE principal_id=?"),
        "events": count("SELECT COUNT(*) FROM events WHERE principal_id=?"),
        "contacts": len(contact_store.contacts(scope)),
        "calls": call_store.count_calls(scope),
        "time entries": count("SELECT COUNT(*) FROM time_entries WHERE principal_id=?"),
        "cards": len(_cards(scope)),
        "drafts": len(draft_store.list_drafts(scope)),
        "audit entries": len(audit_store.entries(scope)),
        "reminders": len(reminder_store.listed(scope, states=None)),
    }


def _cards(scope: PrincipalScope) -> list[Any]:
    from assistant.store import board as board_store

    return board_store.cards(scope, include_archived=True)


def _synthesised(m: Message) -> bytes:
    """A message whose source was never stored (a provider's placeholder), rebuilt from what is."""
    msg = EmailMessage()
    if m.sender:
        msg["From"] = formataddr((m.sender.name, m.sender.email))
    if m.to:
        msg["To"] = ", ".join(formataddr((a.name, a.email)) for a in m.to)
    if m.cc:
        msg["Cc"] = ", ".join(formataddr((a.name, a.email)) for a in m.cc)
    msg["Subject"] = m.subject
    if m.date_utc:
        msg["Date"] = format_datetime(m.date_utc)
    if m.message_id_header:
        msg["Message-ID"] = m.message_id_header
    if m.in_reply_to:
        msg["In-Reply-To"] = m.in_reply_to
    if m.references:
        msg["References"] = " ".join(m.references)
    msg.set_content(m.body_text or "")
    return msg.as_bytes()


# -- writing ------------------------------------------------------------------------------------------------------
def _export_mail(store: Store, scope: PrincipalScope, root: Path, progress: Progress, total: int) -> list[ExportedFile]:
    accounts = {a.id: a.address for a in store.accounts(scope.principal_id)}
    folder_names = {(f.account_id, f.remote_id): f.name for f in mail_store.folders(scope)}
    boxes: dict[str, mailbox.mbox] = {}
    counts: dict[str, int] = {}
    done = 0
    try:
        for m, raw in mail_store.messages_with_source(scope):
            source = raw or _synthesised(m)
            for folder in m.folders or [""]:
                name = folder_names.get((m.account_id, folder), folder) or "Unfiled"
                rel = f"mail/{_safe(accounts.get(m.account_id, str(m.account_id)))}/{_safe(name)}.mbox"
                if rel not in boxes:
                    (root / rel).parent.mkdir(parents=True, exist_ok=True)
                    boxes[rel] = mailbox.mbox(root / rel, create=True)
                    boxes[rel].lock()
                boxes[rel].add(source)
                counts[rel] = counts.get(rel, 0) + 1
            done += 1
            if done % 100 == 0 or done == total:
                progress("Exporting mail", done, total)
    finally:
        for box in boxes.values():
            box.flush()
            box.unlock()
            box.close()
    return [ExportedFile(rel, "mbox", n) for rel, n in sorted(counts.items())]


def _export_calendars(store: Store, scope: PrincipalScope, root: Path) -> list[ExportedFile]:
    accounts = {a.id: a.address for a in store.accounts(scope.principal_id)}
    calendars: dict[str, icalendar.Calendar] = {}
    counts: dict[str, int] = {}
    parts: dict[str, int] = {}
    zones: dict[str, set[str]] = {}
    for e in calendar_store.events(scope):
        rel = f"calendar/{_safe(accounts.get(e.account_id, str(e.account_id)))}.ics"
        cal = calendars.get(rel)
        if cal is None:
            cal = calendars[rel] = icalendar.Calendar()
            cal.add("prodid", "-//Assistant//Offboarding export//EN")
            cal.add("version", "2.0")
            zones[rel] = set()
        components: list[Any] = []
        if e.ics:
            try:
                components = list(icalendar.Calendar.from_ical(e.ics).subcomponents)
            except ValueError:
                components = []
        if not any(c.name == "VEVENT" for c in components):
            event = icalendar.Event()
            event.add("uid", e.uid or e.remote_id)
            event.add("summary", e.summary)
            if e.all_day and e.start_date:
                event.add("dtstart", e.start_date)
                if e.end_date:
                    event.add("dtend", e.end_date)
            elif e.start_utc:
                event.add("dtstart", e.start_utc)
                if e.end_utc:
                    event.add("dtend", e.end_utc)
            if e.location:
                event.add("location", e.location)
            if e.description:
                event.add("description", e.description)
            event.add("dtstamp", timezones.now_utc())
            components = [event]
        for c in components:
            if c.name == "VTIMEZONE":
                tzid = str(c.get("tzid", ""))
                if tzid in zones[rel]:
                    continue
                zones[rel].add(tzid)
            cal.add_component(c)
            if c.name == "VEVENT":
                parts[rel] = parts.get(rel, 0) + 1
        counts[rel] = counts.get(rel, 0) + 1
    files = []
    for rel, cal in sorted(calendars.items()):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(cal.to_ical())
        files.append(ExportedFile(rel, "ics", counts[rel], parts=parts.get(rel, 0)))
    return files


def _vcard_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace(",", "\\,").replace(";", "\\;")


def _export_contacts(scope: PrincipalScope, root: Path) -> ExportedFile:
    contacts = contact_store.contacts(scope)
    lines: list[str] = []
    for c in contacts:
        lines += ["BEGIN:VCARD", "VERSION:3.0", f"FN:{_vcard_text(c.name)}", f"N:{_vcard_text(c.name)};;;;"]
        lines += [f"EMAIL;TYPE=INTERNET:{_vcard_text(e)}" for e in c.emails]
        lines += [f"TEL:{_vcard_text(p)}" for p in c.phones]
        lines += ["END:VCARD"]
    (root / "contacts.vcf").write_bytes(("\r\n".join(lines) + ("\r\n" if lines else "")).encode())
    return ExportedFile("contacts.vcf", "vcf", len(contacts))


def _export_calls(scope: PrincipalScope, root: Path) -> ExportedFile:
    calls: list[Any] = []
    while True:
        page = call_store.calls_page(scope, offset=len(calls), limit=1000)
        calls += page
        if len(page) < 1000:
            break
    with (root / "calls.csv").open("w", newline="", encoding="utf-8") as f:
        write_calls_csv(f, calls, scope.principal.timezone)
    return ExportedFile("calls.csv", "calls-csv", len(calls))


TIME_COLUMNS = ["id", "start_utc", "end_utc", "start_local", "end_local", "minutes", "source", "billable", "note",
                "item", "item_title"]


def _export_time(scope: PrincipalScope, root: Path) -> ExportedFile:
    zone = scope.principal.timezone
    entries = time_store.entries(scope, EARLIEST, LATEST)
    with (root / "time.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, TIME_COLUMNS)
        writer.writeheader()
        for e in entries:
            writer.writerow({
                "id": e.id, "start_utc": timezones.iso_utc(e.start_utc),
                "end_utc": timezones.iso_utc(e.end_utc) if e.end_utc else "",
                "start_local": timezones.iso_local(e.start_utc, zone),
                "end_local": timezones.iso_local(e.end_utc, zone) if e.end_utc else "",
                "minutes": round(e.seconds / 60, 2), "source": str(e.source), "billable": int(e.billable),
                "note": e.note, "item": e.item, "item_title": e.item_title,
            })
    return ExportedFile("time.csv", "time-csv", len(entries))


def _export_board(store: Store, scope: PrincipalScope, root: Path) -> ExportedFile:
    with (root / "board.csv").open("w", newline="", encoding="utf-8") as f:
        count = board_io.export_csv(store, scope.principal_id, f, include_archived=True)
    return ExportedFile("board.csv", "board-csv", count)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return timezones.iso_utc(value)
    if hasattr(value, "__dict__"):
        return value.__dict__
    return str(value)


def _write_json(root: Path, rel: str, items: list[Any]) -> ExportedFile:
    (root / rel).write_text(json.dumps(items, default=_json_default, ensure_ascii=False, indent=1), encoding="utf-8")
    return ExportedFile(rel, "json", len(items))


def _export_drafts(scope: PrincipalScope, root: Path) -> ExportedFile:
    items = []
    for d in draft_store.list_drafts(scope):
        items.append({"draft": d, "versions": draft_store.versions(scope, d.id),
                      "approval_requests": draft_store.requests_for(scope, d.id)})
    return _write_json(root, "drafts.json", items)


OUTPUTS = ("mail", "calendar", "contacts.vcf", "calls.csv", "time.csv", "board.csv", "drafts.json",
           "approval-audit.json", "reminders.json", "flagged-replies.json", "principal.json", MANIFEST)


def clear_export(root: Path) -> None:
    """Remove what an earlier (perhaps interrupted) export wrote in ``root``, and nothing else: an mbox is appended to,
    so a second export over a first would count its messages twice."""
    for name in OUTPUTS:
        path = root / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def export_principal(store: Store, principal_id: int, root: Path, progress: Progress | None = None) -> Manifest:
    """Write everything of the principal's under ``root`` (replacing an earlier export there) and its manifest;
    returns the manifest."""
    progress = progress or (lambda _what, _done, _total: None)
    clear_export(root)
    scope = store.scope(principal_id)
    principal = scope.principal
    ensure_private_dir(root)  # 0700: what is inside is the principal's, readable by the user alone
    counts = workspace_counts(store, principal_id)
    manifest = Manifest(principal.name, timezones.iso_utc(timezones.now_utc()) or "", counts)
    manifest.files += _export_mail(store, scope, root, progress, counts["messages"])
    progress("Exporting calendars, contacts, calls, time and the board", 0, 1)
    manifest.files += _export_calendars(store, scope, root)
    manifest.files += [_export_contacts(scope, root), _export_calls(scope, root), _export_time(scope, root),
                       _export_board(store, scope, root), _export_drafts(scope, root)]
    manifest.files.append(_write_json(root, "approval-audit.json", audit_store.entries(scope)))
    manifest.files.append(_write_json(root, "reminders.json", reminder_store.listed(scope, states=None)))
    flags = draft_store.flags(scope)
    manifest.files.append(_write_json(root, "flagged-replies.json", flags))
    manifest.files.append(_write_json(root, "principal.json", [{
        "name": principal.name, "timezone": principal.timezone, "addresses": principal.addresses,
        "region": principal.region, "business_hours": principal.business_hours.to_text(),
        "signature": principal.signature, "notes": principal.notes, "approval_policy": str(principal.approval_policy),
        "accounts": [{"kind": a.kind, "address": a.address} for a in store.accounts(principal_id)],
    }]))
    for f in manifest.files:
        f.sha256, f.bytes = sha256_of(root / f.path), (root / f.path).stat().st_size
    (root / MANIFEST).write_text(json.dumps(manifest.to_json(), indent=1, ensure_ascii=False), encoding="utf-8")
    progress("Exported", 1, 1)
    return manifest


# -- reading back -------------------------------------------------------------------------------------------------
def _count(path: Path, kind: str) -> int:
    if kind == "mbox":
        box = mailbox.mbox(path, create=False)
        try:
            return len(box)
        finally:
            box.close()
    if kind == "ics":  # the VEVENT components (compared with ``parts``)
        return len(icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT"))
    if kind == "vcf":
        return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip().upper() == "BEGIN:VCARD")
    if kind.endswith("csv"):
        with path.open(newline="", encoding="utf-8") as f:
            return sum(1 for _ in csv.DictReader(f))
    if kind == "json":
        return len(json.loads(path.read_text(encoding="utf-8")))
    raise ValueError(f"unknown kind {kind}")


def _file_counts(manifest: Manifest) -> dict[str, int]:
    """The workspace counts the files add up to (mail by distinct message is checked apart: a message can be in two
    folders)."""
    by_kind: dict[str, int] = {}
    for f in manifest.files:
        by_kind[f.kind] = by_kind.get(f.kind, 0) + f.count
    names = {f.path: f.count for f in manifest.files}
    return {"events": by_kind.get("ics", 0), "contacts": by_kind.get("vcf", 0), "calls": by_kind.get("calls-csv", 0),
            "time entries": by_kind.get("time-csv", 0), "cards": by_kind.get("board-csv", 0),
            "drafts": names.get("drafts.json", 0), "audit entries": names.get("approval-audit.json", 0),
            "reminders": names.get("reminders.json", 0)}


def verify(store: Store, principal_id: int, root: Path) -> Manifest:
    """Read the export back: every file's SHA-256 and item count as the manifest says, and the manifest's counts as
    the workspace holds now. Raises :class:`ExportMismatch` naming the first few problems."""
    try:
        manifest = Manifest.from_json(json.loads((root / MANIFEST).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ExportMismatch(f"the export in {root} has no readable manifest: {exc}") from exc
    problems: list[str] = []
    for f in manifest.files:
        path = root / f.path
        if not path.is_file():
            problems.append(f"{f.path} is missing")
            continue
        if sha256_of(path) != f.sha256:
            problems.append(f"{f.path} changed since it was written")
        try:
            found = _count(path, f.kind)
        except (OSError, ValueError, csv.Error) as exc:
            problems.append(f"{f.path} cannot be read back: {exc}")
            continue
        wanted = f.parts if f.kind == "ics" else f.count
        if found != wanted:
            problems.append(f"{f.path} holds {found} items, not {wanted}")
    now = workspace_counts(store, principal_id)
    if now != manifest.counts:
        changed = [f"{k} {manifest.counts.get(k)} → {v}" for k, v in now.items() if manifest.counts.get(k) != v]
        problems.append("the workspace changed since the export (" + ", ".join(changed) + ")")
    for area, n in _file_counts(manifest).items():
        if n != now.get(area):
            problems.append(f"the files hold {n} {area}, the workspace {now.get(area)}")
    mbox_total = sum(f.count for f in manifest.files if f.kind == "mbox")
    if mbox_total < now["messages"]:
        problems.append(f"the mail files hold {mbox_total} messages, the workspace {now['messages']}")
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise ExportMismatch("the export does not match the workspace: " + "; ".join(problems[:3]) + more)
    return manifest


def receipt_lines(manifest: Manifest) -> list[str]:
    out = io.StringIO()
    for f in manifest.files:
        out.write(f"  {f.path}: {f.count} item{'s' if f.count != 1 else ''}, {f.bytes} bytes, SHA-256 {f.sha256}\n")
    return out.getvalue().splitlines()
