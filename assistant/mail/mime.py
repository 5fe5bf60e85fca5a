"""RFC 5322 / MIME parsing into :class:`~assistant.domain.Message`. Never raises on bad input: problems land in
``Message.parse_error`` as one line and whatever could be read is kept.

Parts are numbered like IMAP body sections ("1", "1.2", "2.1.1"); ``Attachment.part_id`` holds that number and
:func:`attachment_bytes` finds the part again from the raw source.
"""
from __future__ import annotations

import codecs
import email
import email.feedparser
import email.header
import email.message
import email.parser
import email.policy
import email.utils
import mimetypes
import re
import secrets
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email import errors as email_errors
from html.parser import HTMLParser

from assistant.domain import Address, Attachment, Message

MAX_HEADER_CHARS = 2000
MAX_ADDRESSES = 1000
SNIPPET_CHARS = 200
MAX_NESTING = 20

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_SURROGATE = re.compile("[\udc80-\udcff]")  # raw 8-bit bytes, as the email package escapes them
_MSGID = re.compile(r"<[^<>\s]+>")
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
# Defects that mean the structure was guessed, worth telling the user; the many cosmetic ones are not.
_SERIOUS_DEFECTS: dict[type, str] = {
    email_errors.NoBoundaryInMultipartDefect: "multipart without a boundary",
    email_errors.StartBoundaryNotFoundDefect: "MIME boundary not found",
    email_errors.MissingHeaderBodySeparatorDefect: "no blank line after the headers",
    email_errors.MultipartInvariantViolationDefect: "broken multipart structure",
}
_CHARSET_ALIASES = {
    "unknown-8bit": "", "x-unknown": "", "unknown": "", "default": "", "x-user-defined": "", "8bit": "",
    "ks_c_5601-1987": "cp949", "gb2312": "gb18030", "gbk": "gb18030", "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874", "x-sjis": "shift_jis", "ansi_x3.4-1968": "ascii", "us-ascii": "ascii",
}


# -- text helpers ---------------------------------------------------------------------------------------------------
def _fix_surrogates(text: str) -> str:
    """Headers with raw 8-bit bytes come back with surrogate escapes: read those bytes as UTF-8, else cp1252."""
    if text.isascii() or not _SURROGATE.search(text):
        return text
    data = text.encode("utf-8", "surrogateescape")
    return _decode_bytes(data, "")


def _decode_bytes(data: bytes, charset: str) -> str:
    codec = _codec(charset)
    if codec:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Mostly UTF-8 with a stray bad byte (seen in hand-made headers) reads better as UTF-8 than as cp1252 mojibake.
    lenient = data.decode("utf-8", "replace")
    high_bytes = sum(1 for b in data if b > 127)
    if lenient.count("\ufffd") * 10 <= high_bytes and not codec:
        return lenient
    if codec:
        return data.decode(codec, "replace")
    return data.decode("cp1252", "replace")


def _codec(charset: str | None) -> str:
    """A Python codec name for a MIME charset, or "" when it is unknown (then we guess UTF-8, else cp1252)."""
    if not charset:
        return ""
    name = charset.strip().strip('"').lower()
    name = _CHARSET_ALIASES.get(name, name)
    if not name:
        return ""
    try:
        codec = codecs.lookup(name)
    except (LookupError, ValueError):
        return ""
    if not getattr(codec, "_is_text_encoding", True):  # rot13, base64... are not charsets
        return ""
    # Mail labelled Latin-1 is nearly always cp1252 (smart quotes in 0x80-0x9f).
    return "cp1252" if codec.name in ("latin-1", "iso8859-1") else codec.name


def _one_line(text: str, limit: int = MAX_HEADER_CHARS) -> str:
    text = _fix_surrogates(text)
    text = _CONTROL.sub(" ", text.replace("\r", " ").replace("\n", " "))
    text = " ".join(text.split())
    return text[:limit]


def _decode_encoded_words(value: str) -> str:
    """RFC 2047 decoding by hand, for when the modern policy refused the header."""
    try:
        pieces = email.header.decode_header(value)
    except Exception:  # noqa: BLE001 - decode_header raises assorted errors on junk
        return value
    out = []
    for chunk, charset in pieces:
        if isinstance(chunk, bytes):
            out.append(_decode_bytes(chunk, charset or ""))
        else:
            out.append(chunk)
    return "".join(out)


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, text: str) -> None:
        text = _one_line(text, 200)
        if text and text not in self.items:
            self.items.append(text)

    def line(self) -> str:
        return "; ".join(self.items)[:500]


def _header(msg: email.message.Message, name: str, problems: _Problems) -> str:
    """A header's decoded text; broken headers fall back to raw RFC 2047 decoding instead of raising."""
    raw = None
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            raw = value
            break
    if raw is None:
        return ""
    raw = str(raw)
    if len(raw) > 20 * MAX_HEADER_CHARS:
        problems.add(f"{name} header too long, cut")
        raw = raw[: 20 * MAX_HEADER_CHARS]
    if "=?" not in raw:
        # Nothing encoded: unfolding is all the modern policy would do, and its full parse is the slow part of import.
        return _fix_surrogates(_FOLD.sub("", raw).strip())
    try:
        value = str(email.policy.default.header_fetch_parse(name, raw))
        if _ENCODED_WORD.search(value):  # left encoded because the encoded word was malformed in some way
            value = _decode_encoded_words(value)
    except Exception:  # noqa: BLE001 - the modern policy raises many kinds of errors on broken headers
        value = _decode_encoded_words(raw)
    if "\ufffd" in value and any(ord(ch) > 127 for ch in raw):
        # The policy replaced raw 8-bit bytes; read them ourselves.
        value = _decode_encoded_words(_fix_surrogates(raw)) if not _ENCODED_WORD.search(raw) else value
    return _fix_surrogates(value)


def _addresses(msg: email.message.Message, name: str, problems: _Problems) -> list[Address]:
    text = _header(msg, name, problems)
    if not text:
        return []
    try:
        pairs = email.utils.getaddresses([text])
    except Exception:  # noqa: BLE001
        problems.add(f"unreadable {name} header")
        return []
    out = []
    for display, addr in pairs[:MAX_ADDRESSES]:
        display, addr = _one_line(display, 300), _one_line(addr, 300)
        if addr or display:
            out.append(Address(display, addr))
    if not out and text.strip():
        # getaddresses gives up on some malformed lists; keep the text rather than lose the sender.
        match = re.search(r"[^\s<>\"(),;:]+@[^\s<>\"(),;:]+", text)
        out.append(Address(_one_line(text, 300) if not match else "", match.group(0) if match else ""))
    return out


def _message_ids(text: str) -> list[str]:
    return _MSGID.findall(text)


def normalise_message_id(text: str) -> str:
    """``<id@host>`` without folding whitespace; a bare id gets its angle brackets; nothing usable gives ""."""
    ids = _message_ids(text)
    if ids:
        return ids[0]
    bare = "".join(text.split()).strip("<>")
    return f"<{bare}>" if bare and len(bare) < 500 else ""


def _date(msg: email.message.Message, problems: _Problems) -> datetime | None:
    text = _header(msg, "Date", problems)
    if not text:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(text)
        if parsed.tzinfo is None:  # "-0000": the zone is unknown; UTC is the honest guess
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except Exception:  # noqa: BLE001 - TypeError, ValueError, OverflowError, IndexError seen in the wild
        problems.add(f"unreadable Date header {text[:60]!r}")
        return None


# -- HTML to text ---------------------------------------------------------------------------------------------------
class _HtmlText(HTMLParser):
    _BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "hr", "pre",
              "section", "article", "header", "footer", "ul", "ol", "dl", "dt", "dd", "title"}
    _SKIP = {"script", "style", "head", "template", "noscript"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self._SKIP:
            self.skipping += 1
        elif tag in self._BLOCK:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self._BLOCK:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.out.append(data)


def html_to_text(html: str) -> str:
    """Readable plain text from an HTML body (for search, snippets and the plain-text fallback)."""
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001 - HTMLParser is lenient, but be sure
        return re.sub(r"<[^>]*>", " ", html)
    lines = [" ".join(line.split()) for line in "".join(parser.out).splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# -- structure ------------------------------------------------------------------------------------------------------
@dataclass
class _Part:
    part_id: str
    part: email.message.Message
    depth: int


def _walk(msg: email.message.Message, prefix: str = "", depth: int = 0) -> Iterator[_Part]:
    """Leaf parts with IMAP-style numbers. A message/rfc822 part is itself a leaf (an attached message)."""
    if depth > MAX_NESTING:
        return
    payload = msg.get_payload() if msg.is_multipart() else None
    if isinstance(payload, list) and msg.get_content_maintype() == "multipart":
        for index, child in enumerate(payload, 1):
            if not isinstance(child, email.message.Message):
                continue
            yield from _walk(child, f"{prefix}.{index}" if prefix else str(index), depth + 1)
        return
    yield _Part(prefix or "1", msg, depth)


def _content_type(part: email.message.Message) -> str:
    try:
        return part.get_content_type()
    except Exception:  # noqa: BLE001
        return "application/octet-stream"


def _disposition(part: email.message.Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:  # noqa: BLE001
        return None


def _filename(part: email.message.Message) -> str:
    name = ""
    try:
        name = part.get_filename() or ""
    except Exception:  # noqa: BLE001 - RFC 2231 values with unknown charsets, junk parameters
        name = ""
    if not name:
        try:
            raw = part.get_param("name") if "content-type" in part else None
            if isinstance(raw, tuple):
                name = email.utils.collapse_rfc2231_value(raw)
            elif raw:
                name = str(raw)
        except Exception:  # noqa: BLE001
            name = ""
    name = str(name)
    if _ENCODED_WORD.search(name):  # RFC 2047 inside a parameter: wrong, and what most mailers send
        name = _decode_encoded_words(name)
    return _one_line(name, 255)


def _payload_bytes(part: email.message.Message) -> bytes:
    payload = part.get_payload()
    if isinstance(payload, list):  # message/rfc822 (the enclosed source) or message/delivery-status blocks
        blocks = payload[:1] if _content_type(part) == "message/rfc822" else payload
        out: list[bytes] = []
        for block in blocks:
            if isinstance(block, email.message.Message):
                try:
                    out.append(block.as_bytes(policy=email.policy.compat32))
                    continue
                except Exception:  # noqa: BLE001
                    pass
            out.append(str(block).encode("utf-8", "surrogateescape"))
        return b"\n".join(out)
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - broken base64 or quoted-printable
        data = None
    if isinstance(data, bytes):
        return data
    # nothing decoded (no payload, or one the decoder gave up on): the text as it stands
    return payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""


def _part_text(part: email.message.Message, problems: _Problems) -> str:
    data = _payload_bytes(part)
    try:
        charset = part.get_content_charset() or ""
    except Exception:  # noqa: BLE001
        charset = ""
    if charset and not _codec(charset) and charset.lower() not in _CHARSET_ALIASES:
        problems.add(f"unknown charset {charset[:40]!r}, read as UTF-8/Windows-1252")
    return _decode_bytes(data, charset).replace("\r\n", "\n")


def _attachment_name(part_id: str, part: email.message.Message, ctype: str, problems: _Problems) -> str:
    name = _filename(part)
    if not name and ctype == "message/rfc822":
        inner = part.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], email.message.Message):
            subject = _header(inner[0], "Subject", problems)
            name = f"{subject or 'message'}.eml"
    if not name:
        name = f"part-{part_id}{mimetypes.guess_extension(ctype) or '.bin'}"
    return safe_filename(name)


def parse_message(raw: bytes, *, principal_id: int, account_id: int, remote_id: str) -> Message:
    problems = _Problems()
    result = Message(
        principal_id=principal_id, account_id=account_id, remote_id=remote_id, subject="", sender=None, size=len(raw)
    )
    read = False
    try:
        _fill(result, raw, problems)
        read = True
    except RecursionError:
        problems.add("message nested too deeply")
    except Exception as exc:  # noqa: BLE001 - the contract is: never raise, keep what we have
        problems.add(f"could not read the whole message ({type(exc).__name__})")
    if not read and not result.subject and result.sender is None:  # the structure could not be read, the headers can
        try:
            _fill_headers(result, email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw),
                          problems)
        except Exception:  # noqa: BLE001
            pass
    result.parse_error = problems.line()
    return result


class _NestingParser(email.feedparser.FeedParser):
    """The email package's parser, reading parts at most MAX_NESTING levels down (as deep as :func:`_walk` goes).

    Unbounded, every level of nesting makes each line slower to read (one more boundary to check) and the parse one
    frame deeper: a multipart nested a few hundred levels takes seconds, a thousand levels run out of stack and nothing,
    not even the Subject, is read. A part deeper than that keeps everything below it as text, up to the boundary that
    ends it (what the package's "headers only" mode does with a message's body); ``cut`` says it happened.
    ``_parse_headers``, ``_pop_message``, ``_msgstack`` and ``_headersonly`` are the parser's own (private, so not in
    its stubs), the same from Python 3.11 to 3.13.
    """

    def __init__(self, policy: email.policy.Policy) -> None:
        super().__init__(policy=policy)
        self.cut = False

    def _parse_headers(self, lines: list[str]) -> None:
        super()._parse_headers(lines)  # type: ignore[misc]
        if len(self._msgstack) > MAX_NESTING + 1:  # type: ignore[attr-defined]
            self._headersonly = self.cut = True

    def _pop_message(self) -> email.message.Message:
        message: email.message.Message = super()._pop_message()  # type: ignore[misc]
        if len(self._msgstack) <= MAX_NESTING + 1:  # type: ignore[attr-defined]
            self._headersonly = False
        return message


def _parse_nested(raw: bytes, policy: email.policy.Policy) -> tuple[email.message.Message, bool]:
    """``email.message_from_bytes(raw, policy=policy)`` with nesting bounded; True when something deeper was cut."""
    parser = _NestingParser(policy)
    text = raw.decode("ascii", "surrogateescape")  # as BytesParser reads it
    for start in range(0, len(text), 8192):  # in pieces, as Parser.parse feeds it
        parser.feed(text[start:start + 8192])
    return parser.close(), parser.cut


# Long runs of base64 lines (attachments): the parser reads a part line by line looking for its boundary, most of the
# time of a big message. Such a run holds no boundary ("-" is not base64), so it is set aside before parsing, one line
# left in its place, and put back into the part's payload afterwards: the same parts, payloads and defects, parsed fast.
_BASE64_RUN = re.compile(rb"(?:^[A-Za-z0-9+/]{40,100}={0,2}\r?\n){256,}", re.M)


def _parse_structure(raw: bytes) -> tuple[email.message.Message, bool]:
    """The parsed message, and whether parts nested deeper than MAX_NESTING were left unread."""
    original = raw
    runs: dict[str, str] = {}
    if len(raw) > 64 * 1024:
        nonce = secrets.token_hex(8)
        pieces: list[bytes] = []
        end = 0
        for match in _BASE64_RUN.finditer(raw):
            # The run's last line stays: it ends the part's payload, where the parser trims the line break.
            block = match.group()
            last = block.rstrip(b"\r\n").rfind(b"\n") + 1
            token = f"b64run{nonce}{len(runs)}"
            runs[token] = block[:last].decode("ascii")
            pieces += [raw[end:match.start()], token.encode("ascii"), b"\r\n" if block.endswith(b"\r\n") else b"\n"]
            end = match.start() + last
        if runs:
            pieces.append(raw[end:])
            raw = b"".join(pieces)
    msg, cut = _parse_nested(raw, email.policy.compat32)
    if runs and not _restore_runs(msg, runs):
        msg, cut = _parse_nested(original, email.policy.compat32)  # a run landed where we don't look
    _modern_where_8bit(msg)
    return msg, cut


def _modern_where_8bit(msg: email.message.Message) -> None:
    """Parts whose headers carry raw 8-bit bytes are read through the modern policy, as they always were (compat32 would
    hand their parameters back as surrogate escapes, decoded differently)."""
    stack = [(msg, 0)]
    while stack:
        part, depth = stack.pop()
        if not all(str(value).isascii() for _key, value in part.raw_items()):
            part.policy = email.policy.default
        if part.is_multipart() and depth < MAX_NESTING:
            stack.extend((p, depth + 1) for p in part.get_payload() if isinstance(p, email.message.Message))


def _restore_runs(msg: email.message.Message, runs: dict[str, str]) -> bool:
    """Put each run back where its token line is; False when some token was not found."""
    left = set(runs)

    def restore(text: str) -> str:
        for token in [t for t in left if t in text]:
            for newline in ("\r\n", "\n"):
                if token + newline in text:
                    text = text.replace(token + newline, runs[token], 1)
                    left.discard(token)
                    break
        return text

    stack = [msg]
    while stack and left:
        part = stack.pop()
        for attribute in ("preamble", "epilogue"):
            value = getattr(part, attribute, None)
            if isinstance(value, str) and "b64run" in value:
                setattr(part, attribute, restore(value))
        if part.is_multipart():
            stack.extend(p for p in part.get_payload() if isinstance(p, email.message.Message))
            continue
        # as parsed (a private attribute, so not in the stubs): get_payload() would decode raw 8-bit text
        payload = getattr(part, "_payload", None)
        if isinstance(payload, str) and "b64run" in payload:
            part.set_payload(restore(payload))  # no charset given: only the text is replaced
    return not left


def _fill(m: Message, raw: bytes, problems: _Problems) -> None:
    if not isinstance(raw, (bytes, bytearray)):
        raw = str(raw).encode("utf-8", "surrogateescape")
    # compat32 keeps headers as strings while the structure is parsed; the modern policy would build a header object for
    # every header the parser looks at, most of the parse time. Headers we show are decoded in _header with it.
    msg, cut = _parse_structure(bytes(raw))
    _fill_headers(m, msg, problems)
    if cut:
        problems.add(f"nested more than {MAX_NESTING} levels deep: the parts below that are not read")
    _fill_body(m, msg, problems)


def _fill_headers(m: Message, msg: email.message.Message, problems: _Problems) -> None:
    m.subject = _one_line(_header(msg, "Subject", problems))
    senders = _addresses(msg, "From", problems) or _addresses(msg, "Sender", problems)
    m.sender = senders[0] if senders else None
    m.to = _addresses(msg, "To", problems)
    m.cc = _addresses(msg, "Cc", problems)
    m.date_utc = _date(msg, problems)
    m.message_id_header = normalise_message_id(_header(msg, "Message-ID", problems))
    reply_ids = _message_ids(_header(msg, "In-Reply-To", problems))
    m.in_reply_to = reply_ids[0] if reply_ids else ""
    m.references = _message_ids(_header(msg, "References", problems))[:200]


def _fill_body(m: Message, msg: email.message.Message, problems: _Problems) -> None:
    for defect in _all_defects(msg):
        for kind, text in _SERIOUS_DEFECTS.items():
            if isinstance(defect, kind):
                problems.add(text)

    texts: list[str] = []
    htmls: list[str] = []
    enclosed_texts: list[str] = []
    for leaf in _walk(msg):
        part = leaf.part
        ctype = _content_type(part)
        disposition = _disposition(part)
        name = _filename(part)
        if ctype.startswith("multipart/"):
            # A multipart whose boundary is missing: the parser left its body as text; show it as text.
            if not isinstance(part.get_payload(), list):
                texts.append(_part_text(part, problems))
            continue
        is_text = ctype in ("text/plain", "text/html") or (ctype.startswith("text/") and leaf.part_id == "1")
        if disposition == "attachment" or name or not is_text:
            data = _payload_bytes(part)
            content_id = _header(part, "Content-ID", problems).strip().strip("<>")[:300]
            m.attachments.append(Attachment(
                _attachment_name(leaf.part_id, part, ctype, problems), ctype, len(data), content_id=content_id,
                part_id=leaf.part_id,
            ))
            if ctype == "message/rfc822":
                inner = part.get_payload()
                if isinstance(inner, list) and inner and isinstance(inner[0], email.message.Message):
                    enclosed_texts.append(_enclosed_text(inner[0], problems))
            continue
        text = _part_text(part, problems)
        (htmls if ctype == "text/html" else texts).append(text)

    m.body_text = "\n\n".join(t for t in texts if t.strip())
    m.body_html = htmls[0] if htmls else ""
    if not m.body_text.strip() and m.body_html:
        m.body_text = html_to_text(m.body_html)
    if not m.body_text.strip() and enclosed_texts:
        m.body_text = "\n\n".join(t for t in enclosed_texts if t)
    m.snippet = " ".join(m.body_text.split())[:SNIPPET_CHARS]


def _enclosed_text(inner: email.message.Message, problems: _Problems, depth: int = 0) -> str:
    texts, htmls = [], []
    for leaf in _walk(inner, depth=depth + 1):
        ctype = _content_type(leaf.part)
        if _disposition(leaf.part) == "attachment":
            continue
        if ctype == "text/plain":
            texts.append(_part_text(leaf.part, problems))
        elif ctype == "text/html":
            htmls.append(_part_text(leaf.part, problems))
    if texts:
        return "\n\n".join(texts)
    return html_to_text(htmls[0]) if htmls else ""


def _all_defects(msg: email.message.Message) -> Iterator[Exception]:
    stack = [(msg, 0)]
    while stack:
        part, depth = stack.pop()
        yield from getattr(part, "defects", [])
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list) and depth < MAX_NESTING:
            stack.extend((p, depth + 1) for p in payload if isinstance(p, email.message.Message))


def attachment_bytes(raw: bytes, part_id: str) -> bytes:
    """The decoded content of the part numbered ``part_id`` (as in ``Attachment.part_id``); b"" when it is not there."""
    try:
        msg, _cut = _parse_nested(bytes(raw), email.policy.default)
        for leaf in _walk(msg):
            if leaf.part_id == part_id:
                return _payload_bytes(leaf.part)
    except Exception:  # noqa: BLE001
        return b""
    return b""


# -- file names -----------------------------------------------------------------------------------------------------
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
_UNSAFE_CHARS = re.compile(r'[\x00-\x1f\x7f-\x9f/\\:*?"<>|]')


def safe_filename(name: str, default: str = "attachment") -> str:
    """A file name that is safe to create in a chosen folder on any OS: no directories, separators, control
    characters, reserved device names or leading dots; never empty; at most 200 bytes of UTF-8.
    """
    name = unicodedata.normalize("NFC", _fix_surrogates(str(name or "")))
    # Only the last path component counts, whichever separator the sender's OS used.
    name = re.split(r"[/\\]", name)[-1]
    name = _UNSAFE_CHARS.sub("_", name)
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cf", "Cc", "Zl", "Zp", "Cs"))
    name = name.strip().strip(".").strip()
    stem, dot, ext = name.partition(".")
    if stem.strip().upper() in _WINDOWS_RESERVED:
        name = f"_{name}"
    if not name or set(name) <= {"_", " "}:
        name = default
    while len(name.encode("utf-8")) > 200:
        base, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10 and len(base) > 1:
            name = base[:-1] + "." + ext
        else:
            name = name[:-1]
    return name
