"""Attachments on demand over IMAP, as the Gmail and Outlook connectors keep them: a message with large attachments is
stored at first sync from its ``BODYSTRUCTURE``, its header, each part's MIME header and the bodies of its text parts
(``BODY.PEEK[…]``, which never sets ``\\Seen``); the large parts stay on the server, listed by name and size with a
placeholder part id (``imap:2:on-demand``), and the whole source is fetched the first time the user saves, opens or
forwards one (``ImapConnector.fetch_raw``, through ``assistant.sync.fetch``).

The rebuilt message (the *skeleton*) keeps the original headers and boundaries; a part left on the server is its MIME
header and an empty body, so the MIME parser lists it where the full source has it, under the same part number.
"""
from __future__ import annotations

import email.parser
import email.policy
from typing import Any

ON_DEMAND_MIN_BYTES = 64 * 1024  # a non-text part larger than this stays on the server until asked for
MAX_PARTS = 200  # more parts than this: the message is fetched whole (one short FETCH line either way)
MAX_DEPTH = 20  # as deep as the MIME parser reads
WHOLE_BATCH_BYTES = 8 * 1024 * 1024  # whole messages are fetched in FETCH commands of at most about this much
MAX_SOURCE_BYTES = 64 * 1024 * 1024  # the largest source fetched on demand
BODY_TEXT = ("text/plain", "text/html")

_header_parser = email.parser.BytesHeaderParser(policy=email.policy.compat32)


def _text(value: Any) -> str:
    return value.decode("ascii", "replace") if isinstance(value, bytes) else str(value or "")


def _walk(structure: Any, section: str = "", depth: int = 0) -> list[tuple[str, Any, int]]:
    """(section, part, depth) of every part, containers included, in order; IMAP numbers them as the parser does."""
    if depth > MAX_DEPTH:
        raise ValueError("nested too deep")
    out = [(section, structure, depth)]
    if structure.is_multipart:
        for index, child in enumerate(structure[0], 1):
            out += _walk(child, f"{section}.{index}" if section else str(index), depth + 1)
    return out


def _leaf(structure: Any) -> tuple[str, str, int]:
    """(content type, transfer encoding, encoded size) of a single part."""
    ctype = f"{_text(structure[0])}/{_text(structure[1])}".lower()
    return ctype, _text(structure[5]).lower(), int(structure[6] or 0)


def left_on_server(structure: Any) -> dict[str, int]:
    """The sections to leave on the server, with their decoded sizes (about): non-text parts over
    :data:`ON_DEMAND_MIN_BYTES`. Empty when the message is better fetched whole (small, or an unusual shape)."""
    try:
        walked = _walk(structure)
        if len(walked) > MAX_PARTS:
            return {}
        out: dict[str, int] = {}
        for section, part, _depth in walked:
            if part.is_multipart:
                continue
            ctype, encoding, size = _leaf(part)
            if ctype in BODY_TEXT or size <= ON_DEMAND_MIN_BYTES:
                continue
            out[section or "1"] = size * 57 // 78 if encoding == "base64" else size
        return out
    except (ValueError, TypeError, IndexError, AttributeError):
        return {}


def _header_key(section: str) -> str:
    return f"BODY[{section}.MIME]" if section else "BODY[HEADER]"


def fetch_items(structure: Any, on_demand: dict[str, int]) -> list[str]:
    """What to FETCH for the skeleton: the header, each part's MIME header, the bodies not left on the server."""
    items = ["BODY.PEEK[HEADER]"]
    for section, part, _depth in _walk(structure):
        if section:
            items.append(f"BODY.PEEK[{section}.MIME]")
        if not part.is_multipart and (section or "1") not in on_demand:
            items.append(f"BODY.PEEK[{section or '1'}]")
    return items


def skeleton(structure: Any, fetched: dict[bytes, Any]) -> bytes | None:
    """The message rebuilt from what :func:`fetch_items` fetched; None when a piece is missing (fetch it whole)."""

    def piece(key: str) -> bytes | None:
        value = fetched.get(key.encode())
        return bytes(value) if value is not None else None

    def build(part: Any, section: str) -> bytes | None:
        head = piece(_header_key(section))
        if head is None:
            return None
        head = head.rstrip(b"\r\n") + b"\r\n\r\n"
        if not part.is_multipart:
            key = f"BODY[{section or '1'}]"
            return head + (piece(key) or b"")
        boundary = _header_parser.parsebytes(head).get_boundary()
        if not boundary:
            return None
        mark = b"--" + boundary.encode("ascii", "replace")
        out = bytearray(head)
        for index, child in enumerate(part[0], 1):
            inner = build(child, f"{section}.{index}" if section else str(index))
            if inner is None:
                return None
            out += mark + b"\r\n" + inner + b"\r\n"
        return bytes(out + mark + b"--\r\n")

    try:
        return build(structure, "")
    except (ValueError, TypeError, IndexError, AttributeError):
        return None


def batches(sizes: dict[int, int], limit: int = WHOLE_BATCH_BYTES) -> list[list[int]]:
    """UIDs in the order given, cut into FETCH commands of at most ``limit`` bytes (a larger message alone)."""
    out: list[list[int]] = []
    total = 0
    for uid, size in sizes.items():
        if not out or (total + size > limit and out[-1]):
            out.append([])
            total = 0
        out[-1].append(uid)
        total += size
    return out
