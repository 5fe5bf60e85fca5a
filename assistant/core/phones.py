"""Phone numbers as people type them, and as E.164 for matching.

Nothing is ever rejected: a number that does not parse is kept as typed and marked invalid. Withheld callers
("anonymous", "private"…), SIP addresses and client identities (Twilio's ``client:kevin`` or a bare ``kevin``) are
recognised as what they are and never forced into E.164.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

WITHHELD = {
    "", "anonymous", "private", "withheld", "unknown", "restricted", "blocked", "unavailable", "no caller id",
    "-1", "-2", "-3", "+266696687",  # Twilio/US carriers spell "ANONYMOUS" on the keypad
}
_CLIENT = re.compile(r"^[A-Za-z_][\w.\-]*$")


@dataclass(frozen=True)
class NumberInfo:
    raw: str
    e164: str  # "" unless a valid phone number
    kind: str  # "phone", "invalid", "withheld", "sip", "client"

    @property
    def valid(self) -> bool:
        return self.kind == "phone"

    @property
    def key(self) -> str:
        """What two calls with the same party share: the E.164 number, else the SIP address or client identity."""
        if self.kind == "phone":
            return self.e164
        if self.kind in ("sip", "client"):
            return self.raw.strip().lower()
        if self.kind == "invalid":
            return re.sub(r"[^\d+]", "", self.raw)
        return ""

    @property
    def shown(self) -> str:
        if self.kind == "withheld":
            return "Withheld"
        return self.e164 or self.raw


def normalise(raw: str | None, region: str = "US") -> NumberInfo:
    text = (raw or "").strip()
    if text.lower() in WITHHELD or text.lower().startswith("anonymous"):
        return NumberInfo(raw or "", "", "withheld")
    lowered = text.lower()
    if lowered.startswith(("sip:", "sips:")) or ("@" in text and not text.startswith("+")):
        return NumberInfo(raw or "", "", "sip")
    if lowered.startswith("client:") or (_CLIENT.match(text) and not any(ch.isdigit() for ch in text)):
        return NumberInfo(raw or "", "", "client")
    if lowered.startswith("tel:"):
        text = text[4:]
    # Imported on the first number that needs it: the package is a twentieth of the app's launch, and the window
    # normalises numbers only on its worker, after the first paint.
    import phonenumbers

    region = (region or "US").upper()
    candidates: list[tuple[str, str | None]] = [(text, region)]
    digits = re.sub(r"\D", "", text)
    if not text.startswith("+") and len(digits) >= 8:
        candidates.append(("+" + digits, None))  # exports that drop the leading "+" (Google Voice, Android)
    for candidate, reg in candidates:
        try:
            parsed = phonenumbers.parse(candidate, reg)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return NumberInfo(raw or "", phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), "phone")
    return NumberInfo(raw or "", "", "invalid")


def classify(number_raw: str, number_e164: str) -> str:
    """The kind of a stored call's number, read back from what is stored."""
    if number_e164:
        return "phone"
    return normalise(number_raw, "US").kind if number_raw.strip() else "withheld"


def shown(number_raw: str, number_e164: str) -> str:
    kind = classify(number_raw, number_e164)
    if kind == "withheld":
        return "Withheld"
    return number_e164 or number_raw
