"""Reading a principal's e-mailed answer to an approval request.

What is accepted (the first line written above any quoted history; case, accents and trailing punctuation ignored):

- **approve** — ``approve``, ``approved``, ``I approve``, and the same in French, Spanish, Portuguese, German, Italian,
  Dutch and the Nordic languages (``approuvé``, ``aprobado``, ``aprovado``, ``genehmigt``, ``freigegeben``,
  ``approvato``, ``goedgekeurd``, ``godkänd``…), optionally followed by thanks (``approve, thanks``).
- **reject** — ``reject: reason`` (also ``reject - reason``, ``rejected: …``, ``decline: …``, ``rejeter : …``,
  ``refusé: …``, ``rechazar: …``, ``ablehnen: …``). The reason may continue on the following lines.
- **edit** — ``edit:`` (``edited:``, ``modifier :``, ``editar:``, ``ändern:``) followed by the text to send instead, on
  the same and/or the following lines; or the reply keeps the ``----- draft begins -----`` / ``----- draft ends -----``
  lines unquoted with the changed text between them. The principal's text is approved as it stands.
- **short forms** — only when the principal's settings allow them: ``yes``, ``y``, ``ok``, ``okay``, ``sure``,
  ``go ahead``, ``send it``, 👍 (any skin tone), ✅, ``oui``, ``d'accord``, ``sí``/``si``, ``ja``, ``sì``, ``da``,
  ``tak``, ``はい`` as approval; ``no``, ``non``, ``nein``, 👎 as rejection without a reason.

Quoted history is cut off: ``>`` lines, "On … wrote:" in the common languages ("Le … a écrit :", "El … escribió:",
"Am … schrieb …:"), Outlook's "-----Original Message-----" / "From:" blocks, our "Reply above this line" marker and a
"-- " signature. Anything else is *not* a decision: the reply is flagged for the assistant and nothing happens.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from assistant.approvals.outgoing import DRAFT_BEGINS, DRAFT_ENDS, REPLY_ABOVE


@dataclass
class ReplyDecision:
    kind: str  # approve, reject, edit, unknown
    comment: str = ""
    body: str = ""
    short_form: bool = False


APPROVE = {
    "approve", "approved", "i approve", "approve it", "approved thanks", "approve thanks", "approve thank you",
    "approuve", "approuvé", "j'approuve", "approuver", "validé", "valide",
    "aprobado", "apruebo", "aprobar", "aprovado", "aprovo", "aprovar",
    "genehmigt", "genehmige", "freigegeben", "freigabe",
    "approvato", "approvo", "goedgekeurd", "akkoord", "godkänd", "godkjent", "godkendt", "hyväksytty",
    "承認", "承認します", "批准",
}
THANKS = r"(thanks|thank you|thx|merci|gracias|obrigad[oa]|danke|grazie|bedankt|tack|takk)"
SHORT_APPROVE = {
    "yes", "y", "ok", "okay", "k", "sure", "go ahead", "send it", "send", "yes please", "fine",
    "oui", "d'accord", "ok merci", "sí", "si", "vale", "sim", "ja", "jawohl", "jep", "sì", "da", "tak", "はい",
    "好", "是", "\U0001f44d", "\u2705", "\u2714",
}
SHORT_REJECT = {"no", "nope", "non", "nein", "\U0001f44e", "\u274c"}
REJECT_WORDS = (
    r"reject(?:ed)?|declined?|refused?|reje(?:ter|té|te)|refus(?:er|é|e)|rechaza(?:r|do)?|rechazo|ablehnen|abgelehnt|"
    r"rifiut(?:ato|o)|afgewezen|avslå(?:tt)?|no"
)
_REJECT = re.compile(rf"^(?:{REJECT_WORDS})\s*(?:[:\-–—,]\s*|\s+)(?P<reason>.+)$", re.IGNORECASE | re.DOTALL)
_REJECT_BARE = re.compile(rf"^(?:{REJECT_WORDS.replace('|no', '')})[.!]*$", re.IGNORECASE)
_EDIT = re.compile(
    r"^(?:edit(?:ed)?|modifi(?:er|é|e)|editar|editado|ändern|geändert|bearbeiten|modifica)\s*:\s*(?P<body>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_ATTRIBUTION = re.compile(
    r"(wrote|a écrit|escribió|escreveu|schrieb|ha scritto|schreef|skrev|kirjoitti|napisał|написал\(а\)|написал)\s*:?\s*$",
    re.IGNORECASE,
)
_HEADER_BLOCK = re.compile(r"^(from|de|von|da|van|från|fra)\s*:\s", re.IGNORECASE)
_STOPS = ("-----original message-----", "________________________________", REPLY_ABOVE.lower(),
          "sent from my", "envoyé de mon", "enviado desde mi", "von meinem")
_SKIN_TONES = re.compile("[\U0001f3fb-\U0001f3ff\ufe0f]")


def unquoted_text(body: str) -> str:
    """The part of a reply the principal wrote: everything above the quoted history."""
    out: list[str] = []
    lines = body.replace("\r\n", "\n").split("\n")
    for i, line in enumerate(lines):
        stripped = line.strip()
        low = stripped.lower()
        if line.startswith(">"):
            break
        if low.startswith(_STOPS) or line.rstrip() == "--":
            break
        if _ATTRIBUTION.search(stripped) and (low.startswith(("on ", "le ", "el ", "em ", "am ", "il ", "op ", "den "))
                                              or (out and out[-1].strip().lower().startswith(("on ", "le ", "el ")))):
            if out and not low.startswith(("on ", "le ", "el ", "em ", "am ", "il ", "op ", "den ")):
                out.pop()  # the attribution began on the previous line
            break
        if _HEADER_BLOCK.match(stripped) and i + 1 < len(lines) and re.match(
                r"^(sent|envoyé|enviado|gesendet|date|to|à|para|an)\s*:", lines[i + 1].strip(), re.IGNORECASE):
            break
        out.append(line)
    return "\n".join(out).strip()


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFC", _SKIN_TONES.sub("", text)).strip().lower()
    text = re.sub(r"[\s.!。！]+$", "", text)
    return re.sub(r"\s+", " ", text)


def parse_reply(body: str, *, short_forms: bool) -> ReplyDecision:
    text = unquoted_text(body)
    if not text:
        return ReplyDecision("unknown")
    if DRAFT_BEGINS in text and DRAFT_ENDS in text.split(DRAFT_BEGINS, 1)[1]:
        inner = text.split(DRAFT_BEGINS, 1)[1].split(DRAFT_ENDS, 1)[0].strip("\n")
        return ReplyDecision("edit", body=inner + "\n") if inner.strip() else ReplyDecision("unknown")
    first, _, rest = text.partition("\n")
    first_n = _norm(first)
    edit = _EDIT.match(text.strip())
    if edit:
        new_body = edit.group("body").strip("\n")
        return ReplyDecision("edit", body=new_body + "\n") if new_body.strip() else ReplyDecision("unknown")
    core = re.sub(rf"[\s,;.!-]*{THANKS}(?: you)?$", "", first_n).strip(" ,;.!-")
    if core in APPROVE:
        return ReplyDecision("approve")
    if core in SHORT_APPROVE or first_n in SHORT_APPROVE:
        return ReplyDecision("approve", short_form=True) if short_forms else ReplyDecision("unknown", short_form=True)
    reject = _REJECT.match(text.strip())
    if reject and not first_n.startswith("no ") or (reject and ":" in first):
        reason = reject.group("reason").strip()
        return ReplyDecision("reject", comment=reason)
    if _REJECT_BARE.match(first_n):
        return ReplyDecision("reject")
    if first_n in SHORT_REJECT:
        return ReplyDecision("reject", short_form=True) if short_forms else ReplyDecision("unknown", short_form=True)
    return ReplyDecision("unknown")
