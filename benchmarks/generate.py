"""A deterministic workload at a real assistant's scale: N principals, each with a maildir, a calendar, a call log, a board.

    .venv/bin/python benchmarks/generate.py [--small] [--out DIR] [--force]

Default 10 principals × 10,000 messages into ``benchmarks/workload/default/``; ``--small`` 3 × 1,000 into
``benchmarks/workload/small/``. The same arguments give the same bytes on every machine: one seeded ``random.Random``
per principal, a fixed base date, no wall clock. ``manifest.json`` is written last; a run that finds it complete (same
generator version, every file present, every maildir holding its count) builds nothing.

Layout, per principal (``<slug>/``)::

    mail/{cur,new,tmp}          the inbox (what others sent the principal)
    mail/.Sent/{cur,new,tmp}    what the principal sent (Maildir++ folder)
    calendar.ics                single and recurring events (RRULE weekly/monthly, some EXDATE, a few TZIDs)
    calls.xml                   Android "Call Logs Backup & Restore" export
    board.csv                   the board CSV ``assistant import`` reads (``assistant/board_io.py``)

Search vocabulary, for comparisons with notmuch (which stems English words; SQLite FTS here does not): bodies are made of
:data:`WORDS` (base forms, no two sharing a stem), plus the made-up :data:`MARKERS` at known per-message rates and the
:data:`PHRASES` (two words that otherwise appear only on their own, rarely). Markers and phrase words never appear in
names, addresses, file names or attachments, so both engines see them only in subjects and bodies; the manifest records,
per principal, how many messages hold each marker, phrase and sender, counted on the text as written.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import random
import re
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
WORKLOAD_DIR = ROOT / "benchmarks" / "workload"
GENERATOR_VERSION = 1
SEED = "assistant-bench-1"
BASE_DATE = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)  # the newest message is a little before this
SPAN_DAYS = 730
SIZES = {"default": (10, 10_000), "small": (3, 1_000)}


@dataclass(frozen=True)
class PrincipalSpec:
    name: str
    slug: str
    address: str
    timezone: str
    region: str  # phone region
    calling_code: str
    national_digits: int  # length of a national number after the calling code
    culture: str  # "latin", "cjk", "en": which non-ASCII flavour their mail carries most


PRINCIPALS: tuple[PrincipalSpec, ...] = tuple(PrincipalSpec(*row) for row in (
    ("Daniel Brooks", "daniel-brooks", "daniel@brooks-holdings.example", "America/New_York", "US", "1", 10, "en"),
    ("Amara Okafor", "amara-okafor", "amara@okafor-ventures.example", "Africa/Lagos", "NG", "234", 10, "en"),
    ("Yuki Tanaka", "yuki-tanaka", "yuki@tanaka-sekkei.example", "Asia/Tokyo", "JP", "81", 10, "cjk"),
    ("Lena Fischer", "lena-fischer", "lena@fischer-bau.example", "Europe/Berlin", "DE", "49", 11, "latin"),
    ("João Ribeiro", "joao-ribeiro", "joao@ribeiro-consultoria.example", "America/Sao_Paulo", "BR", "55", 11, "latin"),
    ("Priya Raman", "priya-raman", "priya@raman-labs.example", "Asia/Kolkata", "IN", "91", 10, "en"),
    ("Chloé Martin", "chloe-martin", "chloe@martin-conseil.example", "Europe/Paris", "FR", "33", 9, "latin"),
    ("Wei Zhang", "wei-zhang", "wei@zhang-trading.example", "Asia/Shanghai", "CN", "86", 11, "cjk"),
    ("Sofía Hernández", "sofia-hernandez", "sofia@hernandez-legal.example", "America/Mexico_City", "MX", "52", 10,
     "latin"),
    ("Noah Williams", "noah-williams", "noah@williams-partners.example", "Australia/Sydney", "AU", "61", 9, "en"),
))

# Ordinary words: base forms only, none sharing an English stem with another (notmuch stems, FTS here does not).
WORDS: tuple[str, ...] = tuple("""
about account action address advice afternoon agenda agreement air airport album answer apple april area arrival art
article attention august author autumn baby bag bakery balance bank basket beach bedroom bench bicycle bill bird
birthday blanket board boat body book border bottle box bread breakfast brick bridge brother brush budget building bus
cabin cake calendar camera campus canal candle capital car card carpet castle cat ceiling chair chapter cheese chicken
child chocolate church city class client clock cloud coast coat coffee collar college colour company concert contract
corner cottage cousin cover cream cup curtain customer daughter december desk detail dinner doctor dog door draft
drawer dress driver early east egg election email engine envelope evening event exam factory family farm father
february fence festival field film finance floor flower folder forest fork friday friend fruit garage garden gate gift
glass glove grape grass guest guitar hall hammer harbour hat health hill holiday home horse hospital hotel hour house
idea island jacket january jar journal july june jungle kettle key kitchen knife ladder lake lamp laptop lawyer leaf
lecture lemon letter library lunch magazine mail manager map march market meadow menu message metal method minute
mirror monday money month morning mother mountain museum music napkin network news newspaper night noon north
notebook november number ocean october office orange oven page painting palace paper parcel parent park party
passport path pencil pepper phone photo piano picture pillow plate pocket poem pond post potato printer problem
program project question rabbit radio railway receipt recipe record river road roof room rose salad salt sandwich
saturday schedule school screen season seat september shelf ship shirt shoe shop sister sky slide snow sofa soup
south spoon spring square stair station street student summer sunday supper table teacher team telephone tennis
thursday ticket today tomorrow tonight tower town train travel tree truck tuesday umbrella uncle valley van
vegetable village visit wall wallet watch water weather website wednesday week weekend west window winter wood
world yard year yesterday zoo
also and any are before but can could did for from had has have her him his how into just more not now our out over
she should than that the their them then there these they this too very was were what when where which while who will
with would you your
""".split())

# Made-up tokens (no English suffix, so no stemmer touches them), each with the share of messages whose subject or body
# carries it. Rare ones land on ~10 messages per 10,000, common ones on ~5%.
MARKERS: dict[str, dict[str, float | str]] = {
    "zorblax": {"where": "body", "rate": 0.001},
    "vantrook": {"where": "body", "rate": 0.001},
    "quintrel": {"where": "body", "rate": 0.01},
    "plimsek": {"where": "body", "rate": 0.01},
    "brastok": {"where": "body", "rate": 0.05},
    "grindalf": {"where": "body", "rate": 0.05},
    "fenwarp": {"where": "subject", "rate": 0.002},
    "koltrave": {"where": "subject", "rate": 0.02},
}
# Two-word phrases inserted whole at ``rate``; each word also appears alone at ``alone`` (so "a b" differs from a AND b).
PHRASES: dict[str, dict[str, float]] = {
    "amber lantern": {"rate": 0.004, "alone": 0.01},
    "copper meridian": {"rate": 0.02, "alone": 0.02},
    "silent orchard": {"rate": 0.0015, "alone": 0.004},
}
ACCENTED = ("réunion", "café", "München", "São Paulo", "orçamento", "Müller", "naïve", "Zürich", "año", "Kraków",
            "déjà vu", "façade", "Ångström", "Straße", "crème brûlée", "coração", "señora", "garçon")
CJK = ("会議の資料", "来週の予定について", "請求書を送付します", "打ち合わせ", "確認をお願いします", "请确认附件",
       "下周的会议安排", "合同草案", "東京駅", "構造計算書の送付について")
FIRST_NAMES = ("Olivia", "Marcus", "Ingrid", "Tomás", "Aiko", "Kwame", "Fatima", "Henrik", "Mei", "Rafael", "Zoe",
               "Dmitri", "Ngozi", "Pierre", "Hannah", "Kenji", "Lucía", "Oskar", "Anika", "Samuel", "Björn", "Chiara",
               "Emeka", "Hiroshi", "Isabel", "Jonas", "Keiko", "Luis", "Maja", "Nikhil")
LAST_NAMES = ("Achterberg", "Balogun", "Castellano", "Dubois", "Eriksen", "Fujimoto", "Gallagher", "Haddad", "Iwu",
              "Jansen", "Kowalczyk", "Lindqvist", "Moreau", "Nakamura", "Oyelaran", "Petrov", "Quispe", "Rossi",
              "Santos", "Takahashi", "Ueda", "Vasquez", "Weber", "Xu", "Yilmaz", "Zielinski", "Ødegaard", "Núñez")
SENDER_DOMAINS = ("northwind.example", "contoso.example", "fabrikam.example", "tailspin.example", "adatum.example",
                  "litware.example", "proseware.example", "woodgrove.example", "mail.example", "post.example")
LOCATIONS = ("Office", "Zoom", "Café Central", "会議室 3", "Client site", "Hotel lobby")
SENDERS_PER_PRINCIPAL = 40
ATTACHMENT_NAMES = (("report.pdf", "application/pdf"), ("invoice-2211.pdf", "application/pdf"),
                    ("scan.pdf", "application/pdf"), ("Übersicht.pdf", "application/pdf"),
                    ("photo.jpg", "image/jpeg"), ("site-visit.jpg", "image/jpeg"), ("diagram.png", "image/png"),
                    ("見積書.pdf", "application/pdf"), ("floor plan.png", "image/png"))


def _senders(spec: PrincipalSpec) -> list[tuple[str, str]]:
    rng = random.Random(f"{SEED}:senders:{spec.slug}")
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    while len(out) < SENDERS_PER_PRINCIPAL:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        local = re.sub(r"[^a-z]", "", (first[0] + last).lower().translate(_ASCII_FOLD)) or "x"
        address = f"{local}@{rng.choice(SENDER_DOMAINS)}"
        if address in seen:
            continue
        seen.add(address)
        out.append((f"{first} {last}", address))
    return out


_ASCII_FOLD = str.maketrans("áéíóúñçøöüåäèàâêîôûãõ", "aeiouncoouaaeaaeiouao")
# principal slug -> [(display name, address)], most frequent first (senders are drawn with Zipf-like weights).
SENDERS: dict[str, list[tuple[str, str]]] = {spec.slug: _senders(spec) for spec in PRINCIPALS}


# -- the attachment pool: random bytes base64-encoded once, sliced per attachment (valid base64, fast) ----------------
_LINE_BYTES = 57  # 76 base64 characters
_POOL: list[str] = []


def _b64_lines(count: int, rng: random.Random) -> str:
    if not _POOL:
        raw = random.Random(f"{SEED}:pool").randbytes(6 * 1024 * 1024)
        encoded = base64.b64encode(raw).decode("ascii")
        _POOL.extend(encoded[i:i + 76] for i in range(0, len(encoded) - 76, 76))
    count = min(count, len(_POOL) - 1)
    start = rng.randrange(0, len(_POOL) - count)
    return "\n".join(_POOL[start:start + count]) + "\n"


# -- text -------------------------------------------------------------------------------------------------------------
def _encode_header(text: str) -> str:
    if text.isascii():
        return text
    return Header(text, "utf-8").encode()


def _address_header(name: str, address: str) -> str:
    if name.isascii():
        return f'"{name}" <{address}>' if re.search(r"[^\w ]", name) else f"{name} <{address}>"
    return f"{Header(name, 'utf-8').encode()} <{address}>"


def _sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(6, 16))
    return " ".join(words).capitalize() + rng.choice(".....?!")


def _wrap(text: str, width: int = 72) -> list[str]:
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return lines


class _MessageText:
    """Subject and paragraphs of one message, with markers, phrases and non-ASCII put in."""

    def __init__(self, rng: random.Random, spec: PrincipalSpec):
        self.rng = rng
        self.spec = spec

    def subject(self) -> str:
        rng = self.rng
        words = rng.choices(WORDS[:-60], k=rng.randint(2, 6))
        subject = " ".join(words).capitalize()
        flavour = rng.random()
        if self.spec.culture == "cjk" and flavour < 0.4:
            subject = rng.choice(CJK) + " " + subject
        elif self.spec.culture == "latin" and flavour < 0.25:
            subject = subject + " " + rng.choice(ACCENTED)
        elif flavour < 0.05:
            subject = subject + " " + rng.choice(ACCENTED + CJK)
        for marker, spec in MARKERS.items():
            if spec["where"] == "subject" and rng.random() < spec["rate"]:
                subject = f"{subject} {marker}"
        return subject

    def paragraphs(self) -> list[str]:
        rng = self.rng
        count = rng.choices((1, 2, 3, 4, 6, 10), weights=(20, 30, 25, 15, 7, 3))[0]
        paragraphs = [" ".join(_sentence(rng) for _ in range(rng.randint(1, 5))) for _ in range(count)]
        inserts: list[str] = []
        for marker, spec in MARKERS.items():
            if spec["where"] == "body" and rng.random() < spec["rate"]:
                inserts.append(marker)
        for phrase, spec in PHRASES.items():
            if rng.random() < spec["rate"]:
                inserts.append(phrase)
            for word in phrase.split():
                if rng.random() < spec["alone"]:
                    inserts.append(word)
        flavour = rng.random()
        if self.spec.culture == "cjk" and flavour < 0.5:
            inserts.append(rng.choice(CJK))
        elif self.spec.culture == "latin" and flavour < 0.4:
            inserts.append(rng.choice(ACCENTED))
        elif flavour < 0.08:
            inserts.append(rng.choice(ACCENTED + CJK))
        for text in inserts:
            index = rng.randrange(len(paragraphs))
            words = paragraphs[index].split(" ")
            # Between two words, never at a sentence end, so a phrase is never split by punctuation.
            at = rng.randrange(1, len(words))
            words.insert(at, text)
            paragraphs[index] = " ".join(words)
        return paragraphs


def _html(paragraphs: list[str], greeting: str, signature: str) -> str:
    from html import escape

    body = "".join(f"<p>{escape(p)}</p>\n" for p in paragraphs)
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><style>p {{ margin: 0 0 1em; }}</style></head>\n"
            f"<body>\n<p>{escape(greeting)}</p>\n{body}<p>{escape(signature)}</p>\n</body></html>\n")


def _qp_or_8bit(text: str) -> tuple[str, str]:
    """(Content-Transfer-Encoding, body) for UTF-8 text: 7bit when ASCII, else 8bit (what most clients send today)."""
    return ("7bit" if text.isascii() else "8bit"), text


# -- one principal ----------------------------------------------------------------------------------------------------
@dataclass
class _Message:
    number: int
    message_id: str
    date: datetime
    subject: str
    sender: tuple[str, str]
    recipient: tuple[str, str]
    in_reply_to: str
    references: list[str]
    paragraphs: list[str]
    quoted: list[str]
    sent: bool


def _count_terms(counts: dict[str, int], subject: str, paragraphs: list[str], quoted: list[str]) -> None:
    text = " ".join([subject, *paragraphs, *quoted]).lower()
    tokens = set(re.findall(r"[a-z]+", text))
    for marker in MARKERS:
        if marker in tokens:
            counts[marker] = counts.get(marker, 0) + 1
    flat = " " + " ".join(re.findall(r"\w+", text)) + " "
    for phrase in PHRASES:
        if f" {phrase} " in flat:
            counts[phrase] = counts.get(phrase, 0) + 1
        for word in phrase.split():
            if word in tokens:
                key = f"word:{word}"
                counts[key] = counts.get(key, 0) + 1


def _render(m: _Message, rng: random.Random, zone_for_date: ZoneInfo) -> bytes:
    sender_name, sender_address = m.sender
    recipient_name, recipient_address = m.recipient
    greeting = f"Hello {recipient_name.split()[0]},"
    signature = f"Best regards,\n{sender_name}" if rng.random() < 0.7 else f"— {sender_name.split()[0]}"
    plain_lines = [greeting, ""]
    for paragraph in m.paragraphs:
        plain_lines += _wrap(paragraph)
        plain_lines.append("")
    plain_lines += signature.split("\n")
    if m.quoted:
        plain_lines += ["", f"On {format_datetime(m.date - timedelta(hours=3))}, {recipient_name} wrote:"]
        for paragraph in m.quoted:
            plain_lines += ["> " + line for line in _wrap(paragraph, 70)]
            plain_lines.append(">")
    plain = "\n".join(plain_lines) + "\n"
    headers = [
        f"Return-Path: <{sender_address}>",
        f"From: {_address_header(sender_name, sender_address)}",
        f"To: {_address_header(recipient_name, recipient_address)}",
        f"Subject: {_encode_header(m.subject)}",
        f"Date: {format_datetime(m.date.astimezone(zone_for_date))}",
        f"Message-ID: {m.message_id}",
    ]
    if m.in_reply_to:
        headers.append(f"In-Reply-To: {m.in_reply_to}")
        headers.append("References: " + "\n ".join(m.references))
    headers.append("MIME-Version: 1.0")
    if rng.random() < 0.3:
        headers.append("X-Mailer: Bench Mailer 4.2")
    shape = rng.random()
    attachment = None
    if rng.random() < 0.08:
        big = rng.random() < 0.125  # 1% of all messages: 1–5 MB
        size = rng.randint(1_000_000, 5_000_000) if big else int(5000 * (2 ** rng.uniform(0, 7)))  # 5 KB – 640 KB
        attachment = (rng.choice(ATTACHMENT_NAMES), size)
    boundary_seed = f"{rng.getrandbits(48):012x}"
    cte, plain_body = _qp_or_8bit(plain)
    if attachment is None and shape < 0.6:
        headers += ["Content-Type: text/plain; charset=utf-8", f"Content-Transfer-Encoding: {cte}"]
        return ("\n".join(headers) + "\n\n" + plain_body).encode("utf-8")
    parts: list[str] = []
    if shape < 0.6:
        text_part = f"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: {cte}\n\n{plain_body}"
    else:
        html = _html(m.paragraphs + [f"> {q}" for q in m.quoted], greeting, signature.replace("\n", " "))
        alt = f"alt-{boundary_seed}"
        text_part = (
            f"Content-Type: multipart/alternative; boundary=\"{alt}\"\n\n"
            f"--{alt}\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: {cte}\n\n{plain_body}\n"
            f"--{alt}\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: {_qp_or_8bit(html)[0]}\n\n"
            f"{html}\n--{alt}--\n"
        )
    if attachment is None:
        headers.append(text_part.split("\n\n", 1)[0])
        return ("\n".join(headers) + "\n\n" + text_part.split("\n\n", 1)[1]).encode("utf-8")
    (filename, mime_type), size = attachment
    mixed = f"mix-{boundary_seed}"
    if filename.isascii():
        disposition = f'attachment; filename="{filename}"'
    else:
        disposition = f"attachment; filename*=utf-8''{quote(filename)}"
    data = _b64_lines((size + _LINE_BYTES - 1) // _LINE_BYTES, rng)
    parts = [text_part,
             f"Content-Type: {mime_type}; name=\"{filename if filename.isascii() else 'attachment'}\"\n"
             f"Content-Disposition: {disposition}\nContent-Transfer-Encoding: base64\n\n{data}"]
    headers.append(f"Content-Type: multipart/mixed; boundary=\"{mixed}\"")
    body = ("This is a multi-part message in MIME format.\n" + "".join(f"\n--{mixed}\n{p}" for p in parts)
            + f"\n--{mixed}--\n")
    return ("\n".join(headers) + "\n\n" + body).encode("utf-8")


def _thread_sizes(rng: random.Random, total: int) -> list[int]:
    sizes = []
    left = total
    while left > 0:
        size = min(left, rng.choices((1, 2, 3, 4, 5, 6, 8, 12), weights=(40, 22, 13, 9, 6, 4, 4, 2))[0])
        sizes.append(size)
        left -= size
    return sizes


def generate_mail(spec: PrincipalSpec, count: int, maildir: Path) -> dict:
    rng = random.Random(f"{SEED}:mail:{spec.slug}")
    senders = SENDERS[spec.slug]
    weights = [1 / (rank + 1) for rank in range(len(senders))]
    principal = (spec.name, spec.address)
    zone = ZoneInfo(spec.timezone)
    text = _MessageText(rng, spec)
    for folder in (maildir, maildir / ".Sent"):
        for sub in ("cur", "new", "tmp"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    sender_counts: dict[str, int] = {}
    folders = {"INBOX": 0, "Sent": 0}
    total_bytes = 0
    number = 0
    newest = BASE_DATE - timedelta(hours=2)
    for size in _thread_sizes(rng, count):
        contact = senders[rng.choices(range(len(senders)), weights=weights)[0]]
        started = BASE_DATE - timedelta(seconds=rng.randrange(3 * 3600, SPAN_DAYS * 86400))
        subject = text.subject()
        references: list[str] = []
        previous_paragraphs: list[str] = []
        when = started
        for position in range(size):
            number += 1
            from_principal = position % 2 == 1 and rng.random() < 0.8
            sender, recipient = (principal, contact) if from_principal else (contact, principal)
            message_id = f"<{spec.slug}.{number:06d}.{rng.getrandbits(40):010x}@bench.example>"
            paragraphs = text.paragraphs()
            quoted = previous_paragraphs[:2] if position and rng.random() < 0.6 else []
            m = _Message(number, message_id, min(when, newest), subject if position == 0 else f"Re: {subject}",
                         sender, recipient, references[-1] if references else "", list(references[-10:]),
                         paragraphs, quoted, from_principal)
            raw = _render(m, rng, zone if from_principal else ZoneInfo("UTC") if rng.random() < 0.3 else zone)
            _count_terms(counts, m.subject, paragraphs, quoted)
            sender_counts[sender[1]] = sender_counts.get(sender[1], 0) + 1
            folder = maildir / ".Sent" if from_principal else maildir
            folders["Sent" if from_principal else "INBOX"] += 1
            stamp = int(m.date.timestamp())
            base = f"{stamp}.M{number:06d}P{GENERATOR_VERSION}.bench-{spec.slug}"
            if not from_principal and m.date > BASE_DATE - timedelta(days=4) and rng.random() < 0.7:
                path = folder / "new" / base
            else:
                flags = "S" if from_principal or rng.random() < 0.85 else ""
                if rng.random() < 0.04:
                    flags = "F" + flags
                if from_principal:
                    flags = "S"
                path = folder / "cur" / f"{base}:2,{flags}"
            path.write_bytes(raw)
            total_bytes += len(raw)
            references.append(message_id)
            previous_paragraphs = paragraphs
            when = when + timedelta(seconds=rng.randrange(600, 2 * 86400))
    return {"messages": number, "folders": folders, "bytes": total_bytes, "term_counts": counts,
            "sender_counts": sender_counts}


def _ics_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line
    out, current = [], ""
    for ch in line:
        if len((current + ch).encode("utf-8")) > (75 if not out else 74):
            out.append(current)
            current = ch
        else:
            current += ch
    out.append(current)
    return "\r\n ".join(out)


def generate_calendar(spec: PrincipalSpec, path: Path, single: int, recurring: int) -> dict:
    rng = random.Random(f"{SEED}:calendar:{spec.slug}")
    zones = [spec.timezone, spec.timezone, "UTC", "Europe/London", "America/Los_Angeles", "Asia/Singapore"]
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Assistant Bench//Generator//EN", "CALSCALE:GREGORIAN"]
    stamp = BASE_DATE.strftime("%Y%m%dT%H%M%SZ")

    def event(uid: str, summary: str, start: datetime, minutes: int, zone: str, extra: list[str]) -> None:
        local = start.astimezone(ZoneInfo(zone))
        end = local + timedelta(minutes=minutes)
        lines.extend(["BEGIN:VEVENT", f"UID:{uid}", f"DTSTAMP:{stamp}"])
        if zone == "UTC":
            lines.extend([f"DTSTART:{local:%Y%m%dT%H%M%S}Z", f"DTEND:{end:%Y%m%dT%H%M%S}Z"])
        else:
            lines.extend([f"DTSTART;TZID={zone}:{local:%Y%m%dT%H%M%S}", f"DTEND;TZID={zone}:{end:%Y%m%dT%H%M%S}"])
        lines.append(_fold(f"SUMMARY:{_ics_escape(summary)}"))
        if rng.random() < 0.5:
            lines.append(_fold(f"LOCATION:{_ics_escape(rng.choice(LOCATIONS))}"))
        if rng.random() < 0.4:
            description = " ".join(_sentence(rng) for _ in range(rng.randint(1, 3)))
            lines.append(_fold(f"DESCRIPTION:{_ics_escape(description)}"))
        lines.extend(extra)
        lines.append("END:VEVENT")

    counts = {"single": 0, "weekly": 0, "monthly": 0, "with_exdate": 0, "all_day": 0}
    for n in range(single):
        start = BASE_DATE - timedelta(days=SPAN_DAYS) + timedelta(minutes=15 * rng.randrange(0, (SPAN_DAYS + 120) * 96))
        uid = f"{spec.slug}-single-{n:05d}@bench.example"
        summary = " ".join(rng.choices(WORDS[:-60], k=rng.randint(2, 4))).capitalize()
        if rng.random() < 0.05:
            day = start.date()
            lines.extend(["BEGIN:VEVENT", f"UID:{uid}", f"DTSTAMP:{stamp}", f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
                          f"DTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}", _fold(f"SUMMARY:{_ics_escape(summary)}"),
                          "END:VEVENT"])
            counts["all_day"] += 1
        else:
            event(uid, summary, start, rng.choice((15, 30, 30, 45, 60, 60, 90, 120)), rng.choice(zones), [])
        counts["single"] += 1
    for n in range(recurring):
        zone = rng.choice(zones)
        start = (BASE_DATE - timedelta(days=rng.randrange(30, SPAN_DAYS))).astimezone(ZoneInfo(zone)).replace(
            hour=rng.choice((8, 9, 10, 14, 16)), minute=rng.choice((0, 30)), second=0)
        uid = f"{spec.slug}-series-{n:04d}@bench.example"
        if rng.random() < 0.6:
            day = ("MO", "TU", "WE", "TH", "FR")[start.weekday()] if start.weekday() < 5 else "MO"
            start = start + timedelta(days=(0 if start.weekday() < 5 else 7 - start.weekday()))
            rule = f"RRULE:FREQ=WEEKLY;BYDAY={day}" + (f";COUNT={rng.randint(10, 80)}" if rng.random() < 0.4 else "")
            step, kind = timedelta(weeks=1), "weekly"
        else:
            rule = f"RRULE:FREQ=MONTHLY;BYMONTHDAY={start.day if start.day <= 28 else 28}"
            start = start.replace(day=min(start.day, 28))
            step, kind = timedelta(days=28), "monthly"
        extra = [rule]
        if rng.random() < 0.35:
            skipped = start + step * rng.randint(2, 8)
            if kind == "weekly":
                if zone == "UTC":
                    extra.append(f"EXDATE:{skipped.astimezone(UTC):%Y%m%dT%H%M%S}Z")
                else:
                    extra.append(f"EXDATE;TZID={zone}:{skipped.replace(tzinfo=None):%Y%m%dT%H%M%S}")
                counts["with_exdate"] += 1
        summary = rng.choice(("Weekly sync", "Team stand-up", "Board call", "Monthly review", "Jour fixe",
                              "定例会議", "Reunião semanal", "Point hebdo", "1:1")) + f" {n}"
        event(uid, summary, start, rng.choice((30, 45, 60)), zone, extra)
        counts[kind] += 1
    lines.append("END:VCALENDAR")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return {"events": single + recurring, **counts}


def generate_calls(spec: PrincipalSpec, path: Path, count: int) -> dict:
    from xml.sax.saxutils import quoteattr

    rng = random.Random(f"{SEED}:calls:{spec.slug}")

    def number() -> str:
        return f"+{spec.calling_code}{rng.randrange(2 * 10 ** (spec.national_digits - 1), 10 ** spec.national_digits)}"

    contacts = [(name, number()) for name, _ in SENDERS[spec.slug][:25]]
    lines = ["<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>", f'<calls count="{count}">']
    types = {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}
    start = BASE_DATE - timedelta(days=SPAN_DAYS)
    for n in range(count):
        when = start + timedelta(seconds=rng.randrange(0, SPAN_DAYS * 86400))
        name, phone = rng.choice(contacts) if rng.random() < 0.8 else ("(Unknown)", number())
        kind = rng.choices(("1", "2", "3", "4", "5"), weights=(45, 35, 14, 4, 2))[0]
        duration = 0 if kind in ("3", "5") else rng.randint(5, 3600)
        types[kind] += 1
        millis = int(when.timestamp()) * 1000 + n % 1000  # distinct: the importer keys a call on time, number and type
        lines.append(f'  <call number="{phone}" duration="{duration}" date="{millis}" type="{kind}" presentation="1"'
                     f' subscription_id="1" post_dial_digits="" readable_date={quoteattr(format_datetime(when))}'
                     f' contact_name={quoteattr(name)} />')
    lines.append("</calls>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"calls": count, "by_type": types}


def generate_board(spec: PrincipalSpec, path: Path, count: int) -> dict:
    import csv
    import io

    rng = random.Random(f"{SEED}:board:{spec.slug}")
    zone = ZoneInfo(spec.timezone)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["title", "column", "position", "notes", "due", "priority", "labels", "checklist", "estimate_min",
                     "repeat", "link", "done"])
    columns = ("Inbox", "To do", "Doing", "Waiting on principal", "Done")
    for n in range(count):
        column = rng.choices(columns, weights=(15, 35, 10, 10, 30))[0]
        due = ""
        if rng.random() < 0.6:
            when = (BASE_DATE + timedelta(days=rng.randint(-60, 120), hours=rng.randint(0, 10))).astimezone(zone)
            due = when.replace(minute=0, second=0).isoformat(timespec="minutes")
        checklist = "; ".join(f"[{'x' if rng.random() < 0.4 else ' '}] {rng.choice(WORDS[:-60])}"
                              for _ in range(rng.randint(0, 4)))
        writer.writerow([
            " ".join(rng.choices(WORDS[:-60], k=rng.randint(2, 6))).capitalize()
            + (f" ({rng.choice(ACCENTED)})" if rng.random() < 0.1 else ""),
            column, n, _sentence(rng) if rng.random() < 0.5 else "", due, rng.choice((0, 0, 1, 2, 3)),
            "; ".join(rng.sample(("travel", "finance", "family", "urgent", "legal", "home"), rng.randint(0, 2))),
            checklist, rng.choice(("", "15", "30", "60", "120")),
            rng.choice(("",) * 12 + ("every weekday", "FREQ=WEEKLY;BYDAY=MO", "FREQ=MONTHLY;BYMONTHDAY=1")),
            "", "",
        ])
    path.write_text(out.getvalue(), encoding="utf-8")
    return {"tasks": count}


# -- the whole workload -----------------------------------------------------------------------------------------------
def _sizes(small: bool) -> dict[str, int]:
    principals, messages = SIZES["small" if small else "default"]
    scale = 0.3 if small else 1.0
    return {"principals": principals, "messages": messages, "events_single": int(300 * scale),
            "events_recurring": int(40 * scale), "calls": int(500 * scale), "tasks": int(300 * scale)}


def workload_dir(small: bool, out: Path | None = None) -> Path:
    return out if out is not None else WORKLOAD_DIR / ("small" if small else "default")


def _count_files(folder: Path) -> int:
    total = 0
    for sub in ("cur", "new"):
        with os.scandir(folder / sub) as entries:
            total += sum(1 for e in entries if not e.name.startswith("."))
    return total


def load_manifest(root: Path) -> dict | None:
    """The manifest when the workload under ``root`` is complete and current, else None."""
    try:
        manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("generator_version") != GENERATOR_VERSION:
        return None
    try:
        for p in manifest["principals"]:
            for key in ("calendar", "call_log", "board"):
                if not (root / p[key]).is_file():
                    return None
            maildir = root / p["maildir"]
            if _count_files(maildir) + _count_files(maildir / ".Sent") != p["messages"]:
                return None
    except (OSError, KeyError, TypeError):
        return None
    return manifest


def _generate_principal(job: tuple[PrincipalSpec, Path, dict[str, int]]) -> dict:
    spec, root, sizes = job
    folder = root / spec.slug
    folder.mkdir()
    mail = generate_mail(spec, sizes["messages"], folder / "mail")
    calendar = generate_calendar(spec, folder / "calendar.ics", sizes["events_single"], sizes["events_recurring"])
    calls = generate_calls(spec, folder / "calls.xml", sizes["calls"])
    board = generate_board(spec, folder / "board.csv", sizes["tasks"])
    return {
        "name": spec.name, "slug": spec.slug, "addresses": [spec.address], "timezone": spec.timezone,
        "region": spec.region, "maildir": f"{spec.slug}/mail", "calendar": f"{spec.slug}/calendar.ics",
        "call_log": f"{spec.slug}/calls.xml", "board": f"{spec.slug}/board.csv",
        "messages": mail["messages"], "folders": mail["folders"], "mail_bytes": mail["bytes"],
        "term_counts": mail["term_counts"], "sender_counts": mail["sender_counts"],
        "senders": [{"name": n, "address": a} for n, a in SENDERS[spec.slug]],
        "calendar_counts": calendar, "calls": calls["calls"], "call_types": calls["by_type"],
        "tasks": board["tasks"],
    }


def _progress(entry: dict, quiet: bool) -> None:
    if not quiet:
        print(f"  {entry['name']}: {entry['messages']:,} messages ({entry['mail_bytes'] / 2**20:,.0f} MB), "
              f"{entry['calendar_counts']['events']} events, {entry['calls']} calls, {entry['tasks']} tasks",
              file=sys.stderr)


def generate(small: bool = False, out: Path | None = None, *, principals: int | None = None,
             messages: int | None = None, force: bool = False, quiet: bool = False) -> dict:
    """Build the workload unless a complete one is there; returns the manifest. ``principals``/``messages`` override the
    size (tests use a tiny one)."""
    root = workload_dir(small, out)
    sizes = _sizes(small)
    if principals is not None:
        sizes["principals"] = principals
    if messages is not None:
        sizes["messages"] = messages
    manifest = None if force else load_manifest(root)
    if manifest and manifest["sizes"] == sizes:
        return manifest
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    started = time.perf_counter()
    specs = PRINCIPALS[: sizes["principals"]]
    jobs = [(spec, root, sizes) for spec in specs]
    workers = min(len(specs), os.cpu_count() or 1)
    if workers > 1:  # each principal has its own seed, so building them side by side gives the same bytes
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as pool:
            results = pool.map(_generate_principal, jobs)
            entries = []
            for entry in results:
                entries.append(entry)
                _progress(entry, quiet)
    else:
        entries = [_generate_principal(job) for job in jobs]
        for entry in entries:
            _progress(entry, quiet)
    manifest = {
        "generator_version": GENERATOR_VERSION, "seed": SEED, "size": "small" if small else "default",
        "sizes": sizes, "base_date": BASE_DATE.isoformat(), "span_days": SPAN_DAYS,
        "markers": MARKERS, "phrases": PHRASES, "principals": entries,
        "total_messages": sum(e["messages"] for e in entries),
        "total_mail_bytes": sum(e["mail_bytes"] for e in entries),
    }
    tmp = root / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(root / "manifest.json")
    if not quiet:
        print(f"Workload in {root}: {manifest['total_messages']:,} messages, "
              f"{manifest['total_mail_bytes'] / 2**20:,.0f} MB, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="3 principals × 1,000 messages")
    parser.add_argument("--out", type=Path, help="where to write (default benchmarks/workload/default or small)")
    parser.add_argument("--force", action="store_true", help="build again even when a complete workload is there")
    args = parser.parse_args(argv)
    generate(args.small, args.out, force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
