"""How message sources and bodies are stored: zlib streams, made by the store and by import's parsing processes alike."""
from __future__ import annotations

import zlib


def compress_text(text: str | bytes | None) -> bytes | None:
    if text is None:
        return None
    data = text.encode("utf-8") if isinstance(text, str) else text
    return zlib.compress(data, 6)


def compress_source(raw: bytes | None) -> bytes | None:
    """A message's source as stored. Big ones are mostly base64 attachments, where Huffman coding alone saves as much as
    full deflate at several times the speed; both read back with ``zlib.decompress``."""
    if raw is None:
        return None
    if len(raw) < 256 * 1024:
        return zlib.compress(raw, 6)
    packer = zlib.compressobj(1, zlib.DEFLATED, 15, 9, zlib.Z_HUFFMAN_ONLY)
    return packer.compress(raw) + packer.flush()


def compressed_bodies(raw: bytes | None, text: str | None, html: str | None) -> tuple[bytes | None, bytes | None,
                                                                                     bytes | None]:
    """(source, text, HTML) as the ``message_bodies`` table holds them."""
    return compress_source(raw), compress_text(text), compress_text(html)


def decompress(blob: bytes | None) -> bytes:
    return zlib.decompress(blob) if blob else b""
