"""Who really sent an e-mailed approval (approvals/origin.py), on message sources as they arrive: the provider's
Authentication-Results on top, and real DKIM signatures made and checked by dkimpy (its DNS answered from a table)."""
from __future__ import annotations

import base64
from email.message import EmailMessage

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from assistant.approvals import origin

OWN = {"ann@example.com", "ann@phone.example"}


def message(sender: str = "Ann Lee <ann@example.com>", *, top: tuple[tuple[str, str], ...] = (),
            body: str = "approve\n> Reference: APR-x\n") -> bytes:
    msg = EmailMessage()
    for name, value in top:
        msg[name] = value
    msg["From"], msg["To"], msg["Subject"] = sender, "ann@example.com", "Re: Approval needed [APR-x]"
    msg["Message-ID"] = "<answer-1@example.com>"
    msg.set_content(body)
    return msg.as_bytes()


@pytest.fixture(scope="module")
def key():
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    public = private.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


@pytest.fixture
def dns(key, monkeypatch):
    """The DNS of example.com and evil.example, each publishing the same test key under selector "s1"."""
    records = {b"s1._domainkey.example.com.": key[1], b"s1._domainkey.evil.example.": key[1]}
    asked: list[bytes] = []

    def txt(name: bytes, timeout: int = 5) -> bytes | None:
        asked.append(name)
        return records.get(name)

    monkeypatch.setattr(origin, "dns_txt", txt)
    return asked


def signed(raw: bytes, key, domain: str = "example.com") -> bytes:
    return dkim.sign(raw, b"s1", domain.encode(), key[0], include_headers=[b"from", b"to", b"subject"]) + raw


def test_a_plain_answer_from_own_address_without_stamps_passes_where_no_provider_vouches():
    assert origin.authenticity(message(), OWN, provider_vouches=False) == ""


def test_from_and_sender_rules():
    assert origin.authenticity(message("ann@example.com, mallory@evil.example"), OWN,
                               provider_vouches=False) == "it has 2 From addresses"
    assert origin.authenticity(message("mallory@evil.example"), OWN,
                               provider_vouches=False) == "not from the principal's own address"
    assert origin.authenticity(message(top=(("Sender", "mallory@evil.example"),)), OWN, provider_vouches=False) \
        == "sent by mallory@evil.example on the principal's behalf"
    assert origin.authenticity(message(top=(("Sender", "ann@phone.example"),)), OWN, provider_vouches=False) == ""


GOOGLE_PASS = ("mx.google.com; dkim=pass header.i=@example.com header.s=s1 header.b=abc; spf=pass (google.com: domain"
               " of ann@example.com designates 192.0.2.1 as permitted sender) smtp.mailfrom=ann@example.com;"
               " dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=example.com")
MICROSOFT_PASS = ("spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=example.com; dkim=pass (signature was verified)"
                  " header.d=example.com;dmarc=pass action=none header.from=example.com;compauth=pass reason=100")
GOOGLE_FAIL = ("mx.google.com; spf=fail (google.com: domain of mallory@evil.example does not designate 203.0.113.9)"
               " smtp.mailfrom=mallory@evil.example; dmarc=fail (p=NONE sp=NONE dis=NONE) header.from=example.com")


@pytest.mark.parametrize("stamp", [GOOGLE_PASS, MICROSOFT_PASS])
def test_the_providers_topmost_stamp_passing_for_the_from_domain_vouches(stamp):
    raw = message(top=(("Authentication-Results", stamp),))
    assert origin.authenticity(raw, OWN, provider_vouches=True) == ""


def test_a_forged_pass_below_the_providers_failing_stamp_does_not_count():
    raw = message(top=(("Authentication-Results", GOOGLE_FAIL), ("Authentication-Results", GOOGLE_PASS)))
    assert origin.authenticity(raw, OWN, provider_vouches=True) == \
        "the principal's provider did not vouch for it (spf=fail, dmarc=fail)"


def test_a_pass_for_another_domain_does_not_vouch_for_the_from_address():
    stamp = "mx.google.com; dkim=pass header.i=@evil.example; dmarc=pass header.from=evil.example"
    raw = message(top=(("Authentication-Results", stamp),))
    assert origin.authenticity(raw, OWN, provider_vouches=True).startswith("the principal's provider did not vouch")


def test_no_stamp_from_a_provider_mailbox_is_not_enough_unless_the_account_sent_it():
    assert origin.authenticity(message(), OWN, provider_vouches=True) == \
        "the principal's provider did not vouch for it (no Authentication-Results)"
    assert origin.authenticity(message(), OWN, provider_vouches=True, sent_by_account=True) == ""


def test_a_valid_dkim_signature_for_the_from_domain_passes(key, dns):
    assert origin.authenticity(signed(message(), key), OWN, provider_vouches=False) == ""
    assert dns == [b"s1._domainkey.example.com."]


def test_a_dkim_signature_that_does_not_verify_fails(key, dns):
    raw = signed(message(), key).replace(b"approve", b"APPROVE")  # the body changed after signing
    assert origin.authenticity(raw, OWN, provider_vouches=False) == "its DKIM signature does not verify"


def test_a_valid_dkim_signature_of_another_domain_fails(key, dns):
    raw = signed(message(), key, domain="evil.example")
    assert origin.authenticity(raw, OWN, provider_vouches=False) == \
        "its DKIM signature is for evil.example, not example.com"


def test_a_dkim_key_that_cannot_be_found_fails(key, monkeypatch):
    monkeypatch.setattr(origin, "dns_txt", lambda name, timeout=5: None)
    assert origin.authenticity(signed(message(), key), OWN, provider_vouches=False) == \
        "its DKIM signature does not verify"


def test_hundreds_of_signatures_cost_a_bounded_number_of_lookups(key, dns):
    raw = message(body="approve\n")
    bad = dkim.sign(raw, b"nope", b"example.com", key[0], include_headers=[b"from"])
    assert origin.authenticity(bad * 300 + raw, OWN, provider_vouches=False) == "its DKIM signature does not verify"
    assert len(dns) == origin.MAX_SIGNATURES


def test_garbage_is_a_reason_not_a_crash():
    assert origin.authenticity(b"\x00\xff" * 50, OWN, provider_vouches=True) == "it has no From address"
    assert origin.authenticity(b"From: ann@example.com\nDKIM-Signature: v=1; a=;;;\n\nhi\n", OWN,
                               provider_vouches=False) == "its DKIM signature does not verify"


def test_where_signatures_are_required_only_a_dkim_signature_or_the_sent_copy_counts(key, dns):
    """An IMAP server may stamp nothing: a pass "stamp" on top may be the sender's own, and no signature is no proof."""
    stamp = "mail.example.com; dkim=pass header.d=example.com; dmarc=pass header.from=example.com"
    assert origin.authenticity(message(), OWN, provider_vouches=False, signature_required=True) == \
        "it has no DKIM signature to prove the principal sent it"
    assert origin.authenticity(message(top=(("Authentication-Results", stamp),)), OWN, provider_vouches=False,
                               signature_required=True) == "it has no DKIM signature to prove the principal sent it"
    assert origin.authenticity(signed(message(), key), OWN, provider_vouches=False, signature_required=True) == ""
    assert origin.authenticity(signed(message(), key, domain="evil.example"), OWN, provider_vouches=False,
                               signature_required=True) == "its DKIM signature is for evil.example, not example.com"
    assert origin.authenticity(message(), OWN, provider_vouches=False, signature_required=True,
                               sent_by_account=True) == ""
    assert origin.authenticity(message("mallory@evil.example"), OWN, provider_vouches=False, signature_required=True,
                               sent_by_account=True) == "not from the principal's own address"
