"""Reading e-mailed answers: what counts as approve / reject / edit, quoted history, other languages, short forms."""
from __future__ import annotations

import pytest

from assistant.approvals.replies import parse_reply, unquoted_text


@pytest.mark.parametrize("text", [
    "approve", "Approved.", "APPROVE\r\n", "I approve", "Approve, thanks!", "approved thank you",
    "approuvé", "Aprobado", "genehmigt", "goedgekeurd", "承認",
    "Approve\n\nOn Mon, 23 Nov 2026 at 10:00, Ann <ann@example.com> wrote:\n> reject: no\n",
    "approve\n\n-----Original Message-----\nFrom: Ann\nreject: old",
    "approve\n\nFrom: Ann Lee <ann@example.com>\nSent: Monday\nTo: Ann\n\nreject: x",
    "approve\n\nSent from my iPhone",
])
def test_explicit_approvals(text):
    assert parse_reply(text, short_forms=False).kind == "approve"


@pytest.mark.parametrize(("text", "reason"), [
    ("reject: too formal", "too formal"),
    ("Reject - too formal\nand too long\n\n> quoted", "too formal\nand too long"),
    ("rejected: wrong date", "wrong date"),
    ("Rechazar: demasiado formal", "demasiado formal"),
    ("refuser : trop long", "trop long"),
    ("Ablehnen: zu förmlich", "zu förmlich"),
    ("no: wrong day", "wrong day"),
])
def test_rejections_carry_the_reason(text, reason):
    answer = parse_reply(text, short_forms=False)
    assert (answer.kind, answer.comment) == ("reject", reason)


@pytest.mark.parametrize("text", ["yes", "ok", "OK!", "👍", "👍🏽", "oui", "sí", "ja", "sure", "はい", "✅"])
def test_short_forms_only_when_allowed(text):
    assert parse_reply(text, short_forms=False).kind == "unknown"
    assert parse_reply(text, short_forms=False).short_form
    assert parse_reply(text, short_forms=True).kind == "approve"


@pytest.mark.parametrize("text", [
    "Can you make it shorter?", "No problem, send it", "", "> approve", "approve?? not sure",
    "On Mon, Ann <ann@example.com> wrote:\n> approve", "Le lun. 23 nov. 2026, Ann a écrit :\n> approve",
    "edit:", "approved but change the greeting",
])
def test_anything_else_is_not_a_decision(text):
    assert parse_reply(text, short_forms=True).kind == "unknown"


def test_edit_with_new_text_cuts_the_quoted_history():
    answer = parse_reply("edit: Hi Bob,\nThursday is fine.\nAnn\n\nOn Tue, Ann wrote:\n> Dear Robert", short_forms=False)
    assert (answer.kind, answer.body) == ("edit", "Hi Bob,\nThursday is fine.\nAnn\n")


def test_edit_between_the_draft_markers():
    text = "----- draft begins -----\nHi Bob, shorter.\n----- draft ends -----\n\n> Reference: APR-x"
    assert parse_reply(text, short_forms=False).body == "Hi Bob, shorter.\n"


def test_quoted_markers_are_not_an_edit():
    text = "Looks fine\n\n> ----- draft begins -----\n> Dear Bob\n> ----- draft ends -----"
    assert parse_reply(text, short_forms=True).kind == "unknown"


def test_attribution_wrapped_over_two_lines_is_cut():
    assert unquoted_text("approve\n\nOn Mon, 23 Nov 2026 at 10:00, Ann Lee\n<ann@example.com> wrote:\n> x") == "approve"
