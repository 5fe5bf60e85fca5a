"""Which downloaded attachment a click on a placeholder meant."""
from __future__ import annotations

from assistant.domain import Attachment
from assistant.sync.fetch import downloaded_match

REAL = [Attachment("a.pdf", "application/pdf", 10, part_id="2"), Attachment("b.csv", "text/csv", 5, part_id="3")]


def named(name: str, part: str) -> Attachment:
    return Attachment(name, "application/octet-stream", 1, part_id=f"gmail:{part}:on-demand")


def test_a_named_placeholder_finds_its_mime_part_first():
    placeholders = [named("b.csv", "2"), named("a.pdf", "3")]  # names swapped: the part number decides
    assert downloaded_match(placeholders[0], 0, placeholders, REAL) == 0
    assert downloaded_match(placeholders[1], 1, placeholders, REAL) == 1


def test_then_its_file_name_then_its_place():
    placeholders = [named("b.csv", "9"), named("x.bin", "8")]
    assert downloaded_match(placeholders[0], 0, placeholders, REAL) == 1
    assert downloaded_match(placeholders[1], 1, placeholders, REAL) == 1
    assert downloaded_match(placeholders[1], 1, placeholders + [named("y", "7")], REAL) is None


def test_a_nameless_placeholder_is_the_only_attachment_or_a_choice():
    outlook = Attachment("", "", 0, part_id="outlook:on-demand")
    assert downloaded_match(outlook, 0, [outlook], REAL[:1]) == 0
    assert downloaded_match(outlook, 0, [outlook], REAL) is None
    assert downloaded_match(outlook, 0, [outlook], []) is None
