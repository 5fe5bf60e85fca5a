from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.mail.mime import attachment_bytes, html_to_text, parse_message, safe_filename

MIME_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata" / "mime"
ALL_FILES = sorted(p for p in MIME_DIR.rglob("*") if p.is_file() and p.name != "SOURCES.txt")


def parse(raw: bytes):
    return parse_message(raw, principal_id=1, account_id=2, remote_id="r")


def parse_file(relative: str):
    return parse((MIME_DIR / relative).read_bytes())


def test_the_test_data_is_there():
    assert len(ALL_FILES) > 50


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_real_world_message_parses(path: Path):
    raw = path.read_bytes()
    m = parse(raw)
    assert m.size == len(raw)
    assert "\n" not in m.parse_error
    assert len(m.snippet) <= 200
    for text in (m.subject, m.body_text, m.snippet):
        assert not any("\udc80" <= ch <= "\udcff" for ch in text)  # no surrogate escapes leak out
    for a in m.attachments:
        assert a.filename == safe_filename(a.filename)
        assert len(attachment_bytes(raw, a.part_id)) == a.size


def test_raw_8bit_utf8_header_is_read_as_utf8():
    m = parse_file("flanker/enclosed-bad-encoding.eml")
    assert m.to[0].name == "Александр Клижентас☯"
    assert m.to[0].email == "bob@example.com"


def test_raw_8bit_latin1_header_falls_back_to_windows_1252():
    m = parse_file("flanker/from-encoding.eml")
    assert m.sender is not None and m.sender.name == "Ingo Lütkebohle"
    assert parse_file("flanker/spam__broken-headers.eml").subject.endswith("Exchange…")


def test_rfc2047_subject_and_huge_header():
    m = parse_file("flanker/long-header.eml")
    assert m.subject.startswith("Die heiße Zypernsonne quälte Max und Victori")
    assert len(m.subject) <= 2000
    assert "too long" in m.parse_error


def test_missing_blank_line_after_headers_keeps_the_body():
    m = parse_file("cpython_test_email/msg_47.txt")
    assert m.sender is not None and m.sender.email == "arthur@example.example"
    assert "no blank line" in m.parse_error
    assert m.date_utc is not None and m.date_utc.year == 2001


def test_missing_boundary_is_reported_and_text_kept():
    m = parse_file("flanker/false-multipart.eml")
    assert "boundary" in m.parse_error
    m = parse_file("cpython_test_email/msg_25.txt")
    assert "boundary" in m.parse_error
    assert "Too many hops" in m.body_text


def test_html_only_message_gets_plain_text_for_search():
    raw = (
        b"From: a@example.com\r\nSubject: hi\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<html><head><style>p{}</style><script>alert(1)</script></head><body><p>Hello&nbsp;<b>world</b></p>"
        b"<p>second</p></body></html>"
    )
    m = parse(raw)
    assert m.body_html.startswith("<html>")
    assert m.body_text == "Hello world\n\nsecond"
    assert "alert" not in m.body_text and "p{}" not in m.body_text
    assert m.snippet == "Hello world second"
    assert html_to_text("<div>a</div><div>b</div>") == "a\n\nb"


def test_unknown_charset_falls_back_and_says_so():
    raw = b"Subject: x\nContent-Type: text/plain; charset=x-made-up\n\ncaf\xc3\xa9\n"
    m = parse(raw)
    assert m.body_text.strip() == "café"
    assert "x-made-up" in m.parse_error
    raw = b"Subject: x\nContent-Type: text/plain; charset=x-made-up\n\ncaf\xe9\n"
    assert parse(raw).body_text.strip() == "café"


def test_unreadable_date():
    m = parse(b"Subject: x\nDate: the day after tomorrow\n\nbody\n")
    assert m.date_utc is None
    assert "Date" in m.parse_error
    assert m.body_text.strip() == "body"


def test_rfc2231_and_rfc2047_attachment_names_and_bytes():
    raw = (
        b"From: a@example.com\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XX\n\n"
        b"--XX\nContent-Type: text/plain\n\nsee attached\n"
        b"--XX\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n"
        b"Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9%20..%2F..%2F2024.pdf\n\nJVBERi0x\n"
        b"--XX\nContent-Type: text/plain; name=\"=?utf-8?b?w6lsw6h2ZS50eHQ=?=\"\nContent-Disposition: attachment\n\nhi\n"
        b"--XX--\n"
    )
    m = parse(raw)
    assert m.body_text.strip() == "see attached"
    names = [a.filename for a in m.attachments]
    assert names == ["2024.pdf", "élève.txt"]
    assert attachment_bytes(raw, m.attachments[0].part_id) == b"%PDF-1"
    assert attachment_bytes(raw, m.attachments[1].part_id).strip() == b"hi"
    assert attachment_bytes(raw, "9.9") == b""
    plain = raw.replace(b"..%2F..%2F2024", b"2024")
    assert parse(plain).attachments[0].filename == "résumé 2024.pdf"


def test_nested_message_rfc822_is_an_attachment_and_its_text_is_used_when_outer_has_none():
    inner = b"From: b@example.com\nSubject: inner one\n\ninner body words\n"
    raw = (
        b"From: a@example.com\nSubject: outer\nContent-Type: multipart/mixed; boundary=B\n\n"
        b"--B\nContent-Type: message/rfc822\n\n" + inner + b"\n--B--\n"
    )
    m = parse(raw)
    assert [a.filename for a in m.attachments] == ["inner one.eml"]
    assert m.attachments[0].content_type == "message/rfc822"
    assert b"inner body words" in attachment_bytes(raw, m.attachments[0].part_id)
    assert "inner body words" in m.body_text


def test_ids_are_normalised():
    m = parse(b"Message-ID:\n <abc@x>\nIn-Reply-To: junk <p@x> more\nReferences: <a@x>\n\t<b@x>\n\n")
    assert m.message_id_header == "<abc@x>"
    assert m.in_reply_to == "<p@x>"
    assert m.references == ["<a@x>", "<b@x>"]


@pytest.mark.parametrize(
    "name, expected",
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("C:\\Windows\\evil.exe", "evil.exe"),
        ("CON", "_CON"),
        ("nul.txt", "_nul.txt"),
        ("..", "attachment"),
        ("", "attachment"),
        ("a\x00b\nc\u202ed.txt", "a_b_cd.txt"),
        (".bashrc", "bashrc"),
        ("what?.txt", "what_.txt"),
    ],
)
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected


@given(st.text())
def test_safe_filename_is_always_a_plain_name(name):
    out = safe_filename(name)
    assert out and "/" not in out and "\\" not in out and out not in (".", "..")
    assert len(out.encode("utf-8")) <= 200
    assert not any(ord(ch) < 32 for ch in out)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(raw):
    m = parse(raw)
    assert "\n" not in m.parse_error


_header_lines = st.lists(
    st.tuples(
        st.sampled_from([b"Subject", b"From", b"To", b"Cc", b"Date", b"Content-Type", b"Content-Disposition",
                         b"Content-Transfer-Encoding", b"Message-ID", b"References"]),
        st.binary(max_size=80),
    ),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(_header_lines, st.binary(max_size=500))
def test_arbitrary_headers_never_raise(headers, body):
    raw = b"".join(k + b": " + v + b"\r\n" for k, v in headers) + b"\r\n" + body
    m = parse(raw)
    for a in m.attachments:
        attachment_bytes(raw, a.part_id)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(ALL_FILES), st.data())
def test_damaged_real_messages_never_raise(path, data):
    raw = bytearray(path.read_bytes()[:20000])
    cut = data.draw(st.integers(0, len(raw)))
    for _ in range(data.draw(st.integers(0, 8))):
        if raw:
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    damaged = bytes(raw[:cut]) + data.draw(st.binary(max_size=50))
    m = parse(damaged)
    assert "\n" not in m.parse_error
    for a in m.attachments:
        attachment_bytes(damaged, a.part_id)


def _nested(kind: str, depth: int) -> bytes:
    """A message with ``depth`` levels of message/rfc822 or multipart inside it, its own headers readable."""
    top = ("From: Ann Lee <ann@example.com>\nTo: bob@example.org\nSubject: Deep one\nMessage-ID: <deep@example.com>\n"
           "MIME-Version: 1.0\n")
    if kind == "message/rfc822":
        levels = "".join(f"Subject: level {i}\nContent-Type: message/rfc822\n\n" for i in range(depth))
        return (top + "Content-Type: message/rfc822\n\n" + levels + "Subject: bottom\n\nbottom text\n").encode()
    opening = "".join(f"--b{i}\nContent-Type: multipart/mixed; boundary=b{i + 1}\n\n" for i in range(depth))
    closing = "".join(f"--b{i}--\n" for i in range(depth, -1, -1))
    return (top + "Content-Type: multipart/mixed; boundary=b0\n\n--b0\nContent-Type: text/plain\n\nnear the top\n"
            + opening + f"--b{depth}\nContent-Type: text/plain\n\nbottom text\n" + closing).encode()


@pytest.mark.parametrize("depth", [1_000, 5_000])
@pytest.mark.parametrize("kind", ["message/rfc822", "multipart"])
def test_a_message_nested_deeper_than_we_read_keeps_its_headers_and_says_it_was_cut(kind, depth):
    """Reported: a message nested 1,000 levels deep was stored with an empty Subject and From (the parser ran out of
    stack), after 18 s for a multipart one (each level made every line slower)."""
    import time
    import tracemalloc

    raw = _nested(kind, depth)
    started = time.perf_counter()
    m = parse(raw)
    elapsed = time.perf_counter() - started
    assert (m.subject, m.sender.email, m.message_id_header) == ("Deep one", "ann@example.com", "<deep@example.com>")
    assert [a.email for a in m.to] == ["bob@example.org"]
    assert "nested more than" in m.parse_error and "\n" not in m.parse_error
    if kind == "multipart":
        assert m.body_text.startswith("near the top")  # what is above the cut is read as before
    else:
        assert [a.content_type for a in m.attachments] == ["message/rfc822"]
        assert attachment_bytes(raw, m.attachments[0].part_id).startswith(b"Subject: level 0")
    assert elapsed < depth / 1_000 + 1.0, elapsed  # in proportion to the size, not to the depth squared
    tracemalloc.start()
    try:
        parse(raw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * len(raw) + 2**20, peak


def test_a_message_nested_as_deep_as_we_read_has_no_warning():
    m = parse(_nested("multipart", 15))
    assert m.parse_error == "" and "bottom text" in m.body_text


def test_headers_are_kept_when_the_structure_cannot_be_read(monkeypatch):
    from assistant.mail import mime

    def fails(raw):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(mime, "_parse_structure", fails)
    m = parse(b"From: Ann <ann@example.com>\nSubject: Still here\nContent-Type: multipart/mixed; boundary=b\n\n--b--\n")
    assert (m.subject, m.sender.email, m.parse_error) == ("Still here", "ann@example.com", "message nested too deeply")
