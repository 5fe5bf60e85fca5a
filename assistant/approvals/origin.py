"""Whether an e-mailed approval answer is proven to come from the principal.

The reference an answer must carry travels in the request's subject, so anyone who saw that message can write an
"approve" with it. An answer counts only when its source shows:

- exactly one From address, and it is one of the principal's;
- no Sender other than the principal (a Sender names who really sent it "on behalf of");
- someone trustworthy vouching for the From address:
  - a provider's mailbox (Gmail, Outlook: connectors with ``Capability.VOUCHES_FOR_SENDERS``) stamps every message it
    receives with an ``Authentication-Results`` header on top of whatever the message carried; the topmost one must
    show DKIM or DMARC passing for the From domain. A message the signed-in account sent itself (a copy in its Sent
    folder) needs no stamp: nobody else can put it there.
  - a mailbox on a server the app knows nothing of (IMAP: connectors with ``Capability.SIGNATURES_REQUIRED``) may or
    may not stamp what it receives, so a stamp there proves nothing: the message needs a DKIM signature that verifies
    (``dkimpy``) for the From domain, or a copy in the account's Sent folder.
  - any other source (a maildir, an mbox) has no provider we can ask: a DKIM signature, where the message has one,
    must verify for the From domain, and a topmost ``Authentication-Results`` that says the check failed is a failure.

Anything else is a reason, in one sentence; the caller flags the answer and changes nothing.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses
from typing import Any

log = logging.getLogger(__name__)

# The DNS TXT lookup DKIM verification uses (``dkim.dnsplug.get_txt``'s shape: name bytes, timeout → TXT bytes or
# None). Tests put a stand-in here; None means dkimpy's own, through the system resolver.
DnsLookup = Callable[..., bytes | None]
dns_txt: DnsLookup | None = None
DNS_TIMEOUT_S = 5
MAX_SIGNATURES = 5  # a hostile message with hundreds of signatures costs at most this many DNS lookups
_RESULT = re.compile(r"^\s*([a-z0-9_-]+)\s*=\s*([a-z]+)", re.IGNORECASE)
_PROPERTY = re.compile(r"\b(header\.[a-z]+|smtp\.[a-z]+)\s*=\s*\"?([^\s;\"()]+)", re.IGNORECASE)


def authenticity(raw: bytes, own: set[str], *, provider_vouches: bool, signature_required: bool = False,
                 sent_by_account: bool = False) -> str:
    """"" when the source proves the principal wrote it; otherwise why not."""
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
    froms = [a.lower() for _name, a in getaddresses([str(v) for v in headers.get_all("From", [])]) if a]
    if len(froms) != 1:
        return f"it has {len(froms)} From addresses" if froms else "it has no From address"
    sender = froms[0]
    if sender not in own:
        return "not from the principal's own address"
    on_behalf = [a.lower() for _name, a in getaddresses([str(v) for v in headers.get_all("Sender", [])]) if a]
    foreign = [a for a in on_behalf if a not in own]
    if foreign:
        return f"sent by {foreign[0]} on the principal's behalf"
    domain = sender.rpartition("@")[2]
    stamps = [str(v) for v in headers.get_all("Authentication-Results", [])]
    topmost = _results(stamps[0]) if stamps else []
    if sent_by_account and (provider_vouches or signature_required):
        return ""
    if provider_vouches:
        if not stamps:
            return "the principal's provider did not vouch for it (no Authentication-Results)"
        if _passes(topmost, domain):
            return ""
        shown = ", ".join(f"{method}={result}" for method, result, _props in topmost
                          if method in ("dkim", "dmarc", "spf")) or "no result"
        return f"the principal's provider did not vouch for it ({shown})"
    failed = [(m, r) for m, r, _p in topmost if m in ("dkim", "dmarc") and r in ("fail", "permerror")]
    if failed and not _passes(topmost, domain):
        return "the receiving server's check failed (" + ", ".join(f"{m}={r}" for m, r in failed) + ")"
    return _dkim(raw, domain, required=signature_required)


def _results(stamp: str) -> list[tuple[str, str, dict[str, str]]]:
    """One Authentication-Results value as (method, result, properties): RFC 8601's "authserv-id; method=result
    prop=value …; …", and Microsoft's form without the authserv-id."""
    out = []
    for part in " ".join(stamp.split()).split(";"):
        match = _RESULT.match(part)
        if match is None:
            continue  # the authserv-id, or a part that is no result
        props = {k.lower(): v.lower() for k, v in _PROPERTY.findall(part)}
        out.append((match.group(1).lower(), match.group(2).lower(), props))
    return out


def _aligned(signer: str, domain: str) -> bool:
    signer = signer.lower().lstrip("@").rpartition("@")[2].strip(".")
    return bool(signer) and (signer == domain or domain.endswith("." + signer) or signer.endswith("." + domain))


def _passes(results: list[tuple[str, str, dict[str, str]]], domain: str) -> bool:
    for method, result, props in results:
        if result != "pass":
            continue
        if method == "dmarc" and _aligned(props.get("header.from", ""), domain):
            return True
        if method == "dkim" and (_aligned(props.get("header.d", ""), domain)
                                 or _aligned(props.get("header.i", ""), domain)):
            return True
    return False


def _dkim(raw: bytes, domain: str, *, required: bool) -> str:
    """A message without a DKIM signature passes unless one is ``required``; one with signatures needs one that
    verifies for the From domain."""
    import dkim

    try:
        checker: Any = dkim.DKIM(raw, timeout=DNS_TIMEOUT_S)
        count = sum(1 for name, _value in checker.headers if name.lower() == b"dkim-signature")
    except Exception as exc:  # a source dkimpy cannot even read: no signature it could check
        log.info("DKIM could not read the message: %s", exc)
        return "its DKIM signature could not be read"
    if count == 0:
        return "it has no DKIM signature to prove the principal sent it" if required else ""
    signers = []
    for index in range(min(count, MAX_SIGNATURES)):
        try:
            ok = checker.verify(idx=index, dnsfunc=dns_txt or dkim.dnsplug.get_txt)
        except Exception as exc:  # dkim.DKIMException, a DNS error, a malformed tag list: this signature fails
            log.info("DKIM signature %d did not verify: %s", index, exc)
            ok = False
        signer = (getattr(checker, "domain", b"") or b"").decode("ascii", "replace")
        if ok and _aligned(signer, domain):
            return ""
        signers.append((signer, ok))
    other = next((signer for signer, ok in signers if ok), None)
    if other is not None:
        return f"its DKIM signature is for {other}, not {domain}"
    return "its DKIM signature does not verify"
