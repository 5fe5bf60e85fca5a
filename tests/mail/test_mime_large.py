"""Big messages: long base64 runs are set aside while the structure is parsed and put back, with the same result."""
from __future__ import annotations

import base64
import random

import pytest

from assistant.mail.mime import attachment_bytes, parse_message


def _b64(data: bytes, width: int = 76) -> str:
    text = base64.b64encode(data).decode()
    return "\n".join(text[i:i + width] for i in range(0, len(text), width)) + "\n"


def _message(newline: str, *, preamble: str = "", text: str = "Hello, the plan is attached.\n") -> tuple[bytes, bytes]:
    data = random.Random(7).randbytes(300_000)
    raw = (
        "From: Ann <ann@example.com>\nTo: Bo <bo@example.com>\nSubject: Plans\nMessage-ID: <big@example.com>\n"
        "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n"
        f"{preamble}--b1\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
        f"{_b64(text.encode() * 400)}"
        "--b1\nContent-Type: application/pdf; name=\"plan.pdf\"\nContent-Disposition: attachment; filename=\"plan.pdf\"\n"
        f"Content-Transfer-Encoding: base64\n\n{_b64(data)}--b1--\n"
    )
    return raw.replace("\n", newline).encode(), data


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_big_attachment_keeps_its_size_and_bytes_and_the_text_is_read(newline):
    raw, data = _message(newline)
    m = parse_message(raw, principal_id=1, account_id=1, remote_id="r")
    assert m.parse_error == ""
    assert m.body_text.count("the plan is attached") == 400
    assert [(a.filename, a.content_type, a.size) for a in m.attachments] == [("plan.pdf", "application/pdf", len(data))]
    assert attachment_bytes(raw, m.attachments[0].part_id) == data


def test_a_base64_run_in_the_preamble_changes_nothing():
    run = _b64(random.Random(3).randbytes(40_000))
    raw, data = _message("\n", preamble=run)
    m = parse_message(raw, principal_id=1, account_id=1, remote_id="r")
    assert m.attachments[0].size == len(data)
    assert m.body_text.count("the plan is attached") == 400


def test_raw_8bit_text_around_a_run_is_not_decoded_twice():
    run = _b64(random.Random(5).randbytes(90_000))
    raw = ("From: a@example.com\nSubject: x\nContent-Type: text/plain; charset=utf-8\n\nПривет\n" + run + "Пока\n").encode()
    m = parse_message(raw, principal_id=1, account_id=1, remote_id="r")
    assert m.body_text.startswith("Привет\n") and m.body_text.rstrip().endswith("Пока")
    assert "\\u" not in m.body_text and "\ufffd" not in m.body_text
