"""The demo workspace: three principals in three zones, built the way a real user's workspace is built.

The generator writes real sources (a Maildir++ per principal with ``.Sent``, a folder of ``.ics`` files) under
``<workspace>/demo-sources/``, attaches them as local accounts and runs the real sync to bring them in, so the demo
exercises the MIME parser, the iCalendar reader, threading and search exactly as a user's own files would. Content comes
from the templates in ``resources/demo/``; a fixed seed and dates relative to ``now`` make every build look current and
identical apart from maildir file names.
"""
from __future__ import annotations

import csv
import email
import email.policy
import html
import io
import json
import logging
import mailbox
import os
import random
import re
import shutil
import zlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from email.charset import QP, Charset
from email.header import Header
from email.message import Message as MimeMessage
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any

import icalendar
import phonenumbers

from assistant.board import service as task_board
from assistant.core import timezones
from assistant.core.errors import UserError
from assistant.core.resources import resource
from assistant.core.timezones import UTC
from assistant.demo.approvals import add_demo_drafts
from assistant.demo.reminders import add_demo_reminders
from assistant.demo.time_entries import add_demo_time, save_billing
from assistant.domain import (
    Account,
    ApprovalPolicy,
    BusinessHours,
    Call,
    CallDirection,
    Principal,
)
from assistant.store import PrincipalScope, Store, db
from assistant.store import calls as call_store
from assistant.store import contacts as contact_store
from assistant.store import mail as mail_store
from assistant.sync.engine import sync_all

log = logging.getLogger(__name__)
RESOURCES = resource("demo")
MARKER = "DEMO"
SOURCES_DIR = "demo-sources"
SEED = 20260501
MESSAGES_PER_PRINCIPAL = (220, 260)
HISTORY_DAYS = 60
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
WEEKDAYS_JA = ("月曜日", "火曜日", "水曜日", "木曜日", "金曜日")
TEMPLATE_TIMES = ("09:30", "10:00", "11:00", "14:00", "15:30", "16:00")


class NotADemoWorkspace(UserError):
    pass


@dataclass
class DemoSources:
    """Where the generated files of one principal are."""

    spec: dict[str, Any]
    maildir: Path
    calendar: Path
    message_count: int
    event_files: int


def build_demo(workspace_dir: Path, *, now: datetime | None = None) -> None:
    """Create a fresh demo workspace in ``workspace_dir``, replacing a previous demo there.

    A folder that holds anything but a demo workspace is refused: rebuilding deletes the folder's contents.
    """
    timezones.configure()
    now = (now or timezones.now_utc()).astimezone(UTC)
    workspace_dir = Path(workspace_dir)
    _clear_previous_demo(workspace_dir)
    workspace_dir.mkdir(parents=True, exist_ok=True)
    # The marker goes first, so a build that dies half-way can still be replaced by the next one.
    (workspace_dir / MARKER).write_text("Built by `assistant demo`; rebuilding the demo replaces this whole folder.\n")
    sources = write_demo_sources(workspace_dir / SOURCES_DIR, now=now)

    store = Store(workspace_dir)
    try:
        principal_ids: dict[str, int] = {}
        for src in sources:
            principal = store.add_principal(_principal(src.spec))
            principal_ids[src.spec["slug"]] = principal.id
            save_billing(store, principal.id, src.spec)  # a rate in their currency, their rounding
            store.add_account(Account(
                principal_id=principal.id, kind="local", address=principal.primary_address,
                settings={"maildir": str(src.maildir), "calendar": str(src.calendar)},
            ))
        reports = sync_all(store)
        # The demo's own files must read cleanly: an error here is a bug in the generator or the sync, not user input.
        errors = [f"{r.principal}: {e}" for r in reports for e in r.errors]
        if errors:
            raise RuntimeError("the demo sources did not sync cleanly: " + "; ".join(errors))
        for report in reports:
            for warning in report.warnings:
                log.warning("demo source of %s: %s", report.principal, warning)
        # Calls and cards have no connector: the demo writes them through the same paths as the app's own "add"
        # actions (a card through the board, so one with a due time gets its reminder).
        rng = random.Random(SEED + 1)
        calls_data = _load("calls.json")
        tasks_data = _load("tasks.json")
        for src in sources:
            scope = store.scope(principal_ids[src.spec["slug"]])
            for call in _calls(src.spec, calls_data, rng, now, scope.principal_id):
                call_store.add_call(scope, call)
            _add_contacts(scope, src.spec)
            for t in tasks_data[src.spec["templates"]]:
                task_board.make_task(store, scope.principal_id, t["title"], column=t["column"],
                                     due_utc=_due(t["due"], src.spec["timezone"], now), priority=t["priority"],
                                     labels=t["labels"])
            task_board.make_task(  # a repeating card
store, scope.principal_id, "Weekly status summary for the principal", column="To do",
                                 due_utc=_due("+1d 09:00", src.spec["timezone"], now), repeat="every friday",
                                 labels=["routine"])
            newest = mail_store.threads(scope, limit=1)
            if newest:
                task_board.make_task_from(store, scope.principal_id, "message",
                                          mail_store.thread_messages(scope, newest[0].id)[-1].id)
        add_demo_reminders(store, now)  # a follow-up on an unanswered sent message, meetings, one a minute away
        add_demo_drafts(store, now)  # replies waiting for approval; the next sync puts the requests in each Sent folder
        add_demo_time(store, now)  # a fortnight of time per principal: calls, the window, the timer, typed in
        sync_all(store)
    finally:
        store.close()


def _clear_previous_demo(workspace_dir: Path) -> None:
    if not workspace_dir.exists():
        return
    if not workspace_dir.is_dir():
        raise NotADemoWorkspace(f"{workspace_dir} is a file, not a folder: choose a folder for the demo workspace")
    if not any(workspace_dir.iterdir()):
        return
    if not (workspace_dir / MARKER).is_file():
        raise NotADemoWorkspace(
            f"{workspace_dir} is not empty and is not a demo workspace: choose an empty folder for the demo"
        )
    try:
        db.forget_key(workspace_dir)  # the old demo's key goes with it, or every rebuild would leave one behind
    except UserError:
        pass  # no credential store to forget it from: nothing was kept there
    for child in workspace_dir.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def _load(name: str) -> Any:
    return json.loads((RESOURCES / name).read_text(encoding="utf-8"))


def _principal(spec: dict[str, Any]) -> Principal:
    return Principal(
        name=spec["name"], timezone=spec["timezone"], addresses=list(spec["addresses"]), region=spec["region"],
        business_hours=BusinessHours.from_text(spec["business_hours"]), colour=spec["colour"],
        signature=spec["signature"], approval_policy=ApprovalPolicy(spec["approval_policy"]), notes=spec["notes"],
    )


def write_demo_sources(sources_dir: Path, *, now: datetime) -> list[DemoSources]:
    """Write every principal's maildir and calendar folder under ``sources_dir`` (which must not exist yet)."""
    now = now.astimezone(UTC).replace(microsecond=0)
    templates = _load("messages.json")
    events = _load("events.json")
    out = []
    for index, spec in enumerate(_load("principals.json")):
        rng = random.Random(SEED * 10 + index)
        base = sources_dir / spec["slug"]
        maildir = base / "Maildir"
        calendar = base / "calendar"
        count = _write_maildir(maildir, spec, templates, rng, now)
        files = _write_calendar(calendar, spec, events[spec["templates"]], now)
        out.append(DemoSources(spec, maildir, calendar, count, files))
    return out


# -- mail --------------------------------------------------------------------------------------------------------------
@dataclass
class _Mail:
    message: MimeMessage
    sent: bool
    when: datetime
    flags: str | None  # maildir flags; None: still in new/


def _write_maildir(path: Path, spec: dict[str, Any], templates: dict[str, Any], rng: random.Random,
                   now: datetime) -> int:
    mails = _generate_mail(spec, templates, rng, now)
    path.parent.mkdir(parents=True, exist_ok=True)
    inbox = mailbox.Maildir(path, factory=None, create=True)
    folders = {False: path, True: Path(inbox.add_folder("Sent")._path)}
    inbox.close()
    # Files are written directly rather than with Maildir.add, which fsyncs every message (seconds for a few hundred);
    # the names follow the maildir convention and are deterministic, so a rebuild gives the same remote ids.
    for number, mail in enumerate(sorted(mails, key=lambda m: m.when)):
        unique = f"{int(mail.when.timestamp())}.M{number:06d}P0Q{number}.demo-{spec['slug']}"
        if mail.flags is None:
            target = folders[mail.sent] / "new" / unique
        else:
            target = folders[mail.sent] / "cur" / f"{unique}:2,{''.join(sorted(mail.flags))}"
        target.write_bytes(mail.message.as_bytes())
        os.utime(target, (mail.when.timestamp(), mail.when.timestamp()))
    return len(mails)


def _generate_mail(spec: dict[str, Any], templates: dict[str, Any], rng: random.Random, now: datetime) -> list[_Mail]:
    zone = timezones.get_zone(spec["timezone"])
    me_name = spec["name"]
    domain = spec["addresses"][0].split("@", 1)[1]
    target = rng.randint(*MESSAGES_PER_PRINCIPAL)
    mails: list[_Mail] = []
    thread_no = 0
    people = {
        lang: [c for c in spec["correspondents"] if c.get("lang", "en") == lang] for lang in ("en", "ja")
    }
    by_lang = [(t, "en") for t in templates[spec["templates"]] + templates["common"]]
    by_lang += [(t, "ja") for t in templates.get(spec["templates"] + "_ja", [])]
    # Every template once first, in shuffled order, so each principal's mailbox shows every kind of message.
    unused = rng.sample(by_lang, len(by_lang))
    while len(mails) < target:
        thread_no += 1
        if unused:
            template, lang = unused.pop()
        elif rng.random() < 0.2:
            template, lang = rng.choice(templates["common"]), "en"
        else:
            template, lang = rng.choice([pair for pair in by_lang if pair[0] not in templates["common"]])
        person = rng.choice(people[lang] or spec["correspondents"])
        values = _fill_values(spec, person, rng, now)
        steps = template["messages"]
        length = min(len(steps), rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5, 6)))
        # The first threads are today's, so the demo always opens on fresh mail; the rest spread over the past weeks.
        days_ago = rng.uniform(0, 0.4) if thread_no <= 4 else rng.triangular(0, HISTORY_DAYS, 2)
        local_start = (now - timedelta(days=days_ago)).astimezone(zone)
        local_start = local_start.replace(hour=rng.randint(7, 19), minute=rng.randint(0, 59), second=rng.randint(0, 59))
        when = local_start.astimezone(UTC)
        if when > now:
            when = now - timedelta(minutes=rng.randint(5, 90))
        subject = _fill(template["subject"], values)
        thread_html = bool(template.get("html"))
        cc_person = rng.choice(spec["correspondents"]) if rng.random() < 0.12 else None
        to_me = spec["addresses"][1] if len(spec["addresses"]) > 1 and rng.random() < 0.15 else spec["addresses"][0]
        references: list[str] = []
        thread_mails: list[_Mail] = []
        for n, step in enumerate(steps[:length]):
            if n:
                when = _office_hours(when + timedelta(minutes=rng.randint(20, 26 * 60)), zone, rng)
                if when > now - timedelta(minutes=2):
                    break
            sent = step["from"] == "me"
            sender_domain = domain if sent else person["email"].split("@", 1)[1]
            message_id = f"<demo.{spec['slug']}.{thread_no:03d}.{n}.{rng.getrandbits(40):010x}@{sender_domain}>"
            body = _body(step, values, sent, spec)
            html_body = None
            if thread_html or rng.random() < (0.15 if sent else 0.25):
                html_body = _html(body, subject, tracking=not sent and rng.random() < 0.3)
            attachment = None
            if step.get("attach"):
                filename = _fill(step["attach_name"], values)
                attachment = _attachment(step["attach"], filename, subject, values, spec, when)
            msg = _mime(body, html_body, attachment, rng)
            me = (me_name, to_me if not sent else spec["addresses"][0])
            them = (person["name"], person["email"])
            msg["From"] = _address(me if sent else them)
            msg["To"] = _address(them if sent else me)
            if cc_person and cc_person is not person and n == 0:
                msg["Cc"] = _address((cc_person["name"], cc_person["email"]))
            subject_line = subject if n == 0 or re.match(r"(?i)re:", subject) else f"Re: {subject}"
            msg["Subject"] = _header(subject_line)  # type: ignore[assignment]  # email takes a Header; typeshed: str
            msg["Date"] = format_datetime(when.astimezone(zone))
            msg["Message-ID"] = message_id
            if references:
                msg["In-Reply-To"] = references[-1]
                msg["References"] = " ".join(references)
            references.append(message_id)
            if sent:
                flags = "S"
            elif now - when < timedelta(hours=12) and rng.random() < 0.7:
                flags = None  # still in new/: never seen by a mail client
            elif now - when < timedelta(days=4) and rng.random() < 0.5:
                flags = ""
            else:
                flags = "S"
            if flags is not None and not sent and rng.random() < 0.08:
                flags += "F"
            thread_mails.append(_Mail(msg, sent, when, flags))
        for earlier, later in zip(thread_mails, thread_mails[1:], strict=False):
            if not earlier.sent and later.sent and earlier.flags is not None and "R" not in earlier.flags:
                earlier.flags += "R"
        mails.extend(thread_mails)
    return mails


def _office_hours(when: datetime, zone: Any, rng: random.Random) -> datetime:
    """Move a reply written in the small hours to the next morning, as people (mostly) do."""
    local = when.astimezone(zone)
    if 7 <= local.hour < 22:
        return when
    morning = local.date() + timedelta(days=1) if local.hour >= 22 else local.date()
    return datetime.combine(morning, time(rng.randint(7, 9), rng.randint(0, 59)), zone).astimezone(UTC)


def _fill_values(spec: dict[str, Any], person: dict[str, Any], rng: random.Random, now: datetime) -> dict[str, str]:
    vocab = spec["vocab"]
    weekday = rng.randrange(5)
    day = (now + timedelta(days=rng.randint(2, 20))).astimezone(timezones.get_zone(spec["timezone"])).date()
    document = rng.choice(vocab["document"])
    return {
        "first": person["name"].split()[0],
        "me": spec["name"].split()[0],
        "org": person.get("org") or "Acme Payments",
        "matter": rng.choice(vocab["matter"]),
        "amount": rng.choice(vocab["amount"]),
        "place": rng.choice(vocab["place"]),
        "document": document,
        "weekday": WEEKDAYS[weekday],
        "weekday_ja": WEEKDAYS_JA[weekday],
        "time": rng.choice(TEMPLATE_TIMES),
        "ref": f"{spec['slug'][:2].upper()}-{now.year}-{rng.randint(100, 999)}",
        "date": f"{day:%B} {day.day}, {day.year}",
    }


def _fill(text: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), text)


def _html(body: str, subject: str, *, tracking: bool) -> str:
    paragraphs = "".join(
        f"<p>{'<br>'.join(html.escape(line) for line in block.splitlines())}</p>" for block in body.split("\n\n")
    )
    pixel = '<img src="https://mail-tracker.example/open.gif?id=1" width="1" height="1" alt="">' if tracking else ""
    return (
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(subject)}</title></head>"
        "<body style=\"font-family: Helvetica, Arial, sans-serif; font-size: 14px; color: #1f2937\">"
        f"{paragraphs}<hr style=\"border: none; border-top: 1px solid #e5e7eb\">"
        "<p style=\"font-size: 11px; color: #6b7280\">This message may contain confidential information.</p>"
        f"{pixel}</body></html>"
    )


def _body(step: dict[str, Any], values: dict[str, str], sent: bool, spec: dict[str, Any]) -> str:
    body = _fill(step["body"], values)
    if sent and body.rstrip().endswith(","):
        body = body.rstrip() + "\n" + spec["signature"]
    return body + "\n"


# The messages are built with the classic (compat32) MIME classes: the modern EmailMessage API re-parses every header it
# is given, which made generating a few hundred messages take seconds.
def _charset(text: str) -> Charset | str:
    if text.isascii():
        return "us-ascii"
    charset = Charset("utf-8")
    charset.body_encoding = QP
    return charset


def _text_part(text: str, subtype: str) -> MIMENonMultipart:
    part = MIMENonMultipart("text", subtype)
    part.set_payload(text, _charset(text))
    return part


def _address(pair: tuple[str, str]) -> str:
    return formataddr(pair, charset="utf-8")


def _header(text: str) -> str | Header:
    return text if text.isascii() else Header(text, "utf-8")


def _mime(body: str, html_body: str | None, attachment: MimeMessage | None, rng: random.Random) -> MimeMessage:
    content: MimeMessage = _text_part(body, "plain")
    if html_body is not None:
        content = _multipart("alternative", [content, _text_part(html_body, "html")], rng)
    if attachment is not None:
        content = _multipart("mixed", [content, attachment], rng)
    return content


def _multipart(subtype: str, parts: list[MimeMessage], rng: random.Random) -> MIMEMultipart:
    for part in parts:
        del part["MIME-Version"]
    # A seeded boundary instead of the email package's random one keeps rebuilt messages byte-identical.
    return MIMEMultipart(subtype, boundary=f"=_demo_{rng.getrandbits(64):016x}", _subparts=parts)


def _attachment(kind: str, filename: str, subject: str, values: dict[str, str], spec: dict[str, Any],
                when: datetime) -> MimeMessage:
    if kind == "pdf":
        lines = [f"Reference: {values['ref']}", f"Matter: {values['matter']}", f"Amount: {values['amount']}"]
        data = _pdf(subject, lines)
        part: MimeMessage = MIMEApplication(data, "pdf")
    elif kind == "ics":
        part = _text_part(_invite(subject, spec, when), "calendar")
        part.set_param("method", "REQUEST")
    elif kind == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["item", "reference", "amount"])
        for i in range(1, 5):
            writer.writerow([f"{values['document']} — line {i}", values["ref"], values["amount"]])
        part = _text_part(buf.getvalue(), "csv")
    else:
        notes = f"{subject}\n\n- {values['matter']}\n- {values['document']}\n- follow up on {values['weekday']}\n"
        part = _text_part(notes, "plain")
    part.add_header(
        "Content-Disposition", "attachment", filename=filename if filename.isascii() else ("utf-8", "", filename)
    )
    return part


def _pdf(title: str, lines: list[str]) -> bytes:
    """A small valid one-page PDF; non-Latin-1 text is replaced, as the built-in Helvetica cannot show it."""
    def escape(text: str) -> str:
        text = text.encode("latin-1", "replace").decode("latin-1")
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    stream_lines = ["BT /F1 16 Tf 72 760 Td (" + escape(title[:80]) + ") Tj ET"]
    for i, line in enumerate(lines):
        stream_lines.append(f"BT /F1 11 Tf 72 {730 - 18 * i} Td ({escape(line)}) Tj ET")
    stream = "\n".join(stream_lines).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _invite(subject: str, spec: dict[str, Any], when: datetime) -> str:
    zone = timezones.get_zone(spec["timezone"])
    start = (when + timedelta(days=3)).astimezone(zone).replace(hour=10, minute=0, second=0, microsecond=0)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Assistant demo//EN")
    cal.add("version", "2.0")
    cal.add("method", "REQUEST")
    event = icalendar.Event()
    event.add("uid", f"invite-{zlib.crc32((subject + when.isoformat()).encode()):08x}@{spec['slug']}.example")
    event.add("dtstamp", when)
    event.add("summary", re.sub(r"(?i)^re:\s*", "", subject))
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(hours=1))
    event.add("organizer", f"mailto:{spec['addresses'][0]}")
    cal.add_component(event)
    return cal.to_ical().decode("utf-8")


# -- calendar ----------------------------------------------------------------------------------------------------------
def _write_calendar(path: Path, spec: dict[str, Any], templates: dict[str, Any], now: datetime) -> int:
    path.mkdir(parents=True, exist_ok=True)
    zone_name = spec["timezone"]
    zone = timezones.get_zone(zone_name)
    today = now.astimezone(zone).date()
    organizer = f"mailto:{spec['addresses'][0]}"
    written = 0

    def new_calendar() -> icalendar.Calendar:
        cal = icalendar.Calendar()
        cal.add("prodid", "-//Assistant demo//EN")
        cal.add("version", "2.0")
        return cal

    def new_event(uid: str, summary: str, location: str = "") -> icalendar.Event:
        event = icalendar.Event()
        event.add("uid", f"{uid}@{spec['slug']}.demo.example")
        event.add("dtstamp", now)
        event.add("summary", summary)
        if location:
            event.add("location", location)
        event.add("organizer", organizer)
        return event

    vtimezones: dict[str, icalendar.Timezone] = {}

    def save(name: str, cal: icalendar.Calendar, *, with_timezones: bool = True) -> None:
        nonlocal written
        if with_timezones:
            # VTIMEZONEs cover the demo's years only; icalendar's default span (1970-2038) is slow and bloats the files.
            for tzid in sorted(cal.get_missing_tzids()):
                if tzid not in vtimezones:
                    vtimezones[tzid] = icalendar.Timezone.from_tzid(
                        tzid, first_date=today - timedelta(days=400), last_date=today + timedelta(days=800)
                    )
                cal.subcomponents.insert(0, vtimezones[tzid])
        (path / f"{name}.ics").write_bytes(cal.to_ical())
        written += 1

    for i, weekly in enumerate(templates["weekly"]):
        hour, minute = map(int, weekly["time"].split(":"))
        monday = today - timedelta(days=today.weekday())
        first_day = monday - timedelta(weeks=weekly["weeks_back"]) + timedelta(days=weekly["weekday"] - 1)
        first = datetime.combine(first_day, time(hour, minute), zone)
        duration = timedelta(minutes=weekly["minutes"])
        cal = new_calendar()
        master = new_event(f"{spec['slug']}-weekly-{i}", weekly["summary"], weekly["location"])
        master.add("dtstart", first)
        master.add("dtend", first + duration)
        master.add("rrule", {"freq": "weekly", "count": weekly["weeks_back"] + weekly["weeks_ahead"]})
        # One occurrence cancelled (EXDATE) two weeks ago...
        master.add("exdate", first + timedelta(weeks=weekly["weeks_back"] - 2))
        cal.add_component(master)
        if i == 0:
            # ...and next week's occurrence moved two hours later (RECURRENCE-ID override).
            original = first + timedelta(weeks=weekly["weeks_back"] + 1)
            moved = new_event(f"{spec['slug']}-weekly-{i}", weekly["summary"] + " (moved)", weekly["location"])
            moved.add("recurrence-id", original)
            moved.add("dtstart", original + timedelta(hours=2))
            moved.add("dtend", original + timedelta(hours=2) + duration)
            moved.add("sequence", 1)
            cal.add_component(moved)
        save(f"weekly-{i}", cal)

    for i, all_day in enumerate(templates["all_day"]):
        cal = new_calendar()
        event = new_event(f"{spec['slug']}-allday-{i}", all_day["summary"], all_day.get("location", ""))
        start_day = today + timedelta(days=all_day["day"])
        event.add("dtstart", start_day)
        event.add("dtend", start_day + timedelta(days=all_day["days"]))
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
        save(f"allday-{i}", cal, with_timezones=False)

    one_offs = [(t, zone) for t in templates["one_off"]]
    one_offs.append((templates["other_zone"], timezones.get_zone(spec["other_zone"])))
    for i, (one_off, event_zone) in enumerate(one_offs):
        hour, minute = map(int, one_off["time"].split(":"))
        day = now.astimezone(event_zone).date() + timedelta(days=one_off["day"])
        start = datetime.combine(day, time(hour, minute), event_zone)
        cal = new_calendar()
        event = new_event(f"{spec['slug']}-event-{i}", one_off["summary"], one_off["location"])
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(minutes=one_off["minutes"]))
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", one_off["summary"])
        alarm.add("trigger", timedelta(minutes=-15))
        event.add_component(alarm)
        cal.add_component(event)
        save(f"event-{i}", cal)
    return written


# -- calls and tasks ---------------------------------------------------------------------------------------------------
def _calls(spec: dict[str, Any], data: dict[str, Any], rng: random.Random, now: datetime,
           principal_id: int) -> list[Call]:
    zone = timezones.get_zone(spec["timezone"])
    region = spec["region"]
    known = [c for c in spec["correspondents"] if c["phone"]]
    calls = []
    for i in range(12):
        if rng.random() < 0.7:
            person = rng.choice(known)
            number, name = person["phone"], person["name"]
        else:
            number, name = rng.choice(data["unknown_numbers"][region]), ""
        direction = rng.choice(
            [CallDirection.INCOMING] * 4 + [CallDirection.OUTGOING] * 3 + [CallDirection.MISSED] * 2
            + [CallDirection.VOICEMAIL]
        )
        local = (now - timedelta(days=rng.uniform(0, 14))).astimezone(zone)
        local = local.replace(hour=rng.randint(8, 18), minute=rng.randint(0, 59), second=0, microsecond=0)
        started = min(local.astimezone(UTC), now - timedelta(minutes=10 + i))
        answered = direction in (CallDirection.INCOMING, CallDirection.OUTGOING)
        try:
            parsed = phonenumbers.parse(number, region)
            e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
            valid = phonenumbers.is_valid_number(parsed)
        except phonenumbers.NumberParseException:
            e164, valid = "", False
        calls.append(Call(
            principal_id=principal_id, direction=direction, number_raw=number, started_utc=started,
            duration_s=rng.randint(40, 1500) if answered else (
                rng.randint(10, 60) if direction is CallDirection.VOICEMAIL else 0
            ),
            number_e164=e164, number_valid=valid, caller_name=name,
            outcome="answered" if answered else direction.value,
            notes=rng.choice(data["notes"][direction.value]), source="demo", source_key=f"demo-{spec['slug']}-{i}",
        ))
    return calls


def _add_contacts(scope: PrincipalScope, spec: dict[str, Any]) -> None:
    """The principal's address book: correspondents with a phone, so a call from them shows their name and threads."""
    from assistant.core.phones import normalise
    from assistant.domain import Contact

    for person in spec["correspondents"]:
        if person.get("phone"):
            number = normalise(person["phone"], spec["region"])
            contact_store.add_contact(scope, Contact(principal_id=scope.principal_id, name=person["name"], emails=[person["email"]],
                                      phones=[number.e164 or person["phone"]], source="demo"))


def _due(text: str | None, zone_name: str, now: datetime) -> datetime | None:
    if not text:
        return None
    day_text, _, clock = text.partition(" ")
    today = now.astimezone(timezones.get_zone(zone_name)).date()
    if day_text == "today":
        day = today
    elif day_text == "tomorrow":
        day = today + timedelta(days=1)
    else:
        day = today + timedelta(days=int(day_text.strip("+d")))
    return timezones.local_to_utc(datetime.combine(day, time.fromisoformat(clock)), zone_name)


def demo_subjects(workspace_dir: Path) -> list[str]:
    """Subjects of every message in the demo sources (used by tests and support to check a build)."""
    subjects = []
    for maildir in sorted((Path(workspace_dir) / SOURCES_DIR).glob("*/Maildir")):
        box = mailbox.Maildir(maildir, factory=None, create=False)
        for folder in [box, box.get_folder("Sent")]:
            for key in folder.iterkeys():
                message = email.message_from_bytes(folder.get_bytes(key), policy=email.policy.default)
                subjects.append(str(message["Subject"]))
    return subjects


__all__ = ["build_demo", "write_demo_sources", "demo_subjects", "NotADemoWorkspace", "DemoSources", "MARKER"]
